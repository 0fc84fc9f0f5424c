//! The request path both functions share, in the contract's order of checks: route and method,
//! authentication, scope, path id, body. The function adds its own validation and store call,
//! and every outcome, success or error, leaves as a normal response with one log line.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::value::RawValue;

use crate::auth::{authenticate, Principal};
use crate::auth_cache::AuthCache;
use crate::body::parse_object;
use crate::clock::{Clock, SystemClock, Timestamp};
use crate::domain::idempotency::{
    self, Fingerprint, Idempotency, IdempotencyKey, IdempotencyRecord, Written,
};
use crate::domain::ids::{OrgId, PoolId};
use crate::domain::JsonObject;
use crate::envelope::{error_response, success_response, Dialect};
use crate::error::{error_chain, ApiError};
use crate::metrics::{self, Document, Metrics};
use crate::request_id::RequestId;
use crate::store::{Precondition, Store};

/// One endpoint: where it lives, who may call it, how it speaks.
#[derive(Debug, Clone)]
pub struct Route {
    /// For logs: `PUT /api/v1/pools/{uuid}`.
    pub name: &'static str,
    /// The function that serves it (its binary's name): the scope of an `Idempotency-Key`.
    pub function: &'static str,
    pub method: Method,
    pub allow: &'static str,
    /// The path up to the id, e.g. `/api/v1/pools/`.
    pub prefix: &'static str,
    /// API Gateway's name for the path parameter.
    pub param: &'static str,
    pub scope: &'static str,
    pub dialect: Dialect,
}

/// What a handler needs, built once per execution environment.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub auth_cache: Arc<AuthCache>,
    /// The most a request may take before it is answered 503 (see [`DEFAULT_REQUEST_BUDGET`]).
    pub request_budget: Duration,
    /// Where each request's EMF document goes (none by default; stdout in the functions).
    pub metrics: Metrics,
}

/// A request's time budget: below the functions' default 10 s Lambda timeout, so every request
/// is answered by the function, never cut off by Lambda.
pub const DEFAULT_REQUEST_BUDGET: Duration = Duration::from_secs(8);

impl Services {
    /// The store, the system clock, no auth cache, the default budget, no metrics.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            auth_cache: Arc::new(AuthCache::disabled()),
            request_budget: DEFAULT_REQUEST_BUDGET,
            metrics: Metrics::off(),
        }
    }

    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    pub fn with_auth_cache(mut self, cache: AuthCache) -> Self {
        self.auth_cache = Arc::new(cache);
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_request_budget(mut self, budget: Duration) -> Self {
        self.request_budget = budget;
        self
    }
}

/// A request that passed every common check.
#[derive(Debug)]
pub struct Accepted {
    pub principal: Principal,
    pub id: PoolId,
    pub body: JsonObject,
    pub precondition: Precondition,
    /// The request's `Idempotency-Key` in its scope, with the request's fingerprint.
    pub idempotency: Option<Idempotency>,
    pub now: Timestamp,
}

/// The resource a handler answers with, serialized, and its version (the `ETag`).
pub struct Success {
    pub data: Box<RawValue>,
    pub version: u64,
    /// A replay of a recorded response (`Idempotent-Replayed: true`).
    pub replayed: bool,
}

impl Success {
    /// `data` serialized as the response's `data` member: written once, straight from the
    /// resource's view, with no `Value` in between.
    pub fn new<T: serde::Serialize>(data: &T, version: u64) -> Result<Self, ApiError> {
        let data =
            serde_json::value::to_raw_value(data).map_err(|e| ApiError::Internal(Box::new(e)))?;
        Ok(Self {
            data,
            version,
            replayed: false,
        })
    }

    /// A write made with an `Idempotency-Key`: its own response, or the recorded one when the
    /// key was used before: replayed if the request is the same (same fingerprint), else 422.
    pub fn from_written<T>(
        written: Written<T>,
        idempotency: Option<&Idempotency>,
        view: impl FnOnce(&T) -> Result<Self, ApiError>,
    ) -> Result<Self, ApiError> {
        match written {
            Written::Applied(resource) => view(&resource),
            Written::Recorded(record) => Self::replay(record, idempotency),
        }
    }

    /// The recorded response, if `record` was made by the same request; else 422.
    pub fn replay(
        record: IdempotencyRecord,
        idempotency: Option<&Idempotency>,
    ) -> Result<Self, ApiError> {
        if idempotency.is_none_or(|i| i.fingerprint != record.fingerprint) {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let data = RawValue::from_string(record.data)
            .map_err(|e| ApiError::internal(format!("recorded response: {e}")))?;
        Ok(Self {
            data,
            version: record.version,
            replayed: true,
        })
    }
}

/// Whether this execution environment has served a request yet (API.md §6's `cold_start`).
static SERVED: AtomicBool = AtomicBool::new(false);

/// `AWS_LAMBDA_FUNCTION_NAME` and `AWS_LAMBDA_FUNCTION_VERSION`, read once (empty when unset, as
/// outside Lambda), for a request without a Lambda context that names them.
fn lambda_env() -> &'static (String, String) {
    static ENV: OnceLock<(String, String)> = OnceLock::new();
    ENV.get_or_init(|| {
        let var = |k| std::env::var(k).unwrap_or_default();
        (
            var("AWS_LAMBDA_FUNCTION_NAME"),
            var("AWS_LAMBDA_FUNCTION_VERSION"),
        )
    })
}

/// Runs the common checks, then `work`, and turns whatever happens into a response, with one
/// log line and one EMF document (API.md §6).
pub async fn serve<F, Fut>(req: Request, route: &Route, svc: &Services, work: F) -> Response<Body>
where
    F: FnOnce(Accepted) -> Fut,
    Fut: Future<Output = Result<Success, ApiError>>,
{
    let started = Instant::now();
    let cold_start = !SERVED.swap(true, Ordering::Relaxed);
    let request_id = RequestId::new();
    let mut org_id: Option<OrgId> = None;
    let mut pool_id: Option<PoolId> = None;
    let run = async {
        let accepted = accept(&req, route, svc).await?;
        org_id = Some(accepted.principal.org_id);
        pool_id = Some(accepted.id);
        work(accepted).await
    };
    let (outcome, counts) = metrics::counted(async {
        match tokio::time::timeout(svc.request_budget, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(ApiError::Unavailable("request budget exhausted".into())),
        }
    })
    .await;
    let ctx = req.lambda_context_ref();
    let lambda_request_id = ctx.map(|c| c.request_id.as_str()).unwrap_or("");
    let xray_trace_id = ctx
        .and_then(|c| c.xray_trace_id.as_deref())
        .filter(|t| !t.is_empty());
    let (env_name, env_version) = lambda_env();
    let env_config = ctx.map(|c| c.env_config.as_ref());
    let function_name = env_config
        .map(|c| c.function_name.as_str())
        .filter(|v| !v.is_empty())
        .unwrap_or(env_name);
    let function_version = env_config
        .map(|c| c.version.as_str())
        .filter(|v| !v.is_empty())
        .unwrap_or(env_version);
    let latency_us = started.elapsed().as_micros() as u64;
    // Ids as text without allocating: the log line and the document both use them.
    let (mut rid_buf, mut org_buf, mut pool_buf) = (
        [0u8; ulid::ULID_LEN],
        uuid::Uuid::encode_buffer(),
        uuid::Uuid::encode_buffer(),
    );
    let rid = request_id.encode(&mut rid_buf);
    let org: &str = match org_id {
        Some(o) => o.as_uuid().hyphenated().encode_lower(&mut org_buf),
        None => "",
    };
    let pool: Option<&str> = match pool_id {
        Some(p) => Some(p.as_uuid().hyphenated().encode_lower(&mut pool_buf)),
        None => None,
    };
    let (resp, replayed, error) = match outcome {
        Ok(success) => {
            let mut resp =
                success_response(route.dialect, &success.data, success.version, request_id);
            if success.replayed {
                resp.headers_mut().insert(
                    idempotency::REPLAYED_HEADER,
                    lambda_http::http::HeaderValue::from_static("true"),
                );
            }
            (resp, success.replayed, None)
        }
        // Rendered once: the log line reads the status off the response.
        Err(e) => (
            error_response(route.dialect, &e, request_id),
            false,
            Some(e),
        ),
    };
    let status = resp.status().as_u16();
    macro_rules! log_line {
        ($level:ident, $($rest:tt)*) => {
            tracing::$level!(
                request_id = rid,
                lambda_request_id,
                xray_trace_id,
                cold_start,
                function_name,
                function_version,
                route = route.name,
                status,
                latency_us,
                org_id = org,
                $($rest)*
            )
        };
    }
    match &error {
        None => log_line!(info, "request"),
        Some(e) if status >= 500 => log_line!(error, error = %error_chain(e), "request failed"),
        Some(e) => log_line!(info, error = %e, "request"),
    }
    svc.metrics.emit(&Document {
        function: route.function,
        status,
        latency_us,
        cold_start,
        counts,
        replayed,
        request_id: rid,
        lambda_request_id,
        xray_trace_id,
        org_id: Some(org),
        pool_id: pool,
    });
    resp
}

/// The common checks, in order.
pub async fn accept(req: &Request, route: &Route, svc: &Services) -> Result<Accepted, ApiError> {
    let raw_id = path_id(req, route)?;
    if req.method() != route.method {
        return Err(ApiError::MethodNotAllowed { allow: route.allow });
    }
    let now = svc.clock.now();
    let principal = authenticate(req.headers(), svc.store.as_ref(), &svc.auth_cache, now).await?;
    principal.require_scope(route.scope)?;
    let id = PoolId::from_path(&raw_id).ok_or(ApiError::NotFound)?;
    let body = parse_object(req.headers(), req.body().as_ref())?;
    // Checked with the body (API.md §1, step 5).
    let idempotency = IdempotencyKey::from_headers(req.headers())
        .map_err(|_| ApiError::InvalidIdempotencyKey)?
        .map(|key| Idempotency {
            org_id: principal.org_id,
            function: route.function,
            fingerprint: Fingerprint::of(id, &body, if_match(req.headers()).as_deref()),
            key,
        });
    Ok(Accepted {
        principal,
        id,
        body,
        precondition: Precondition::from_headers(req.headers()),
        idempotency,
        now,
    })
}

/// The `If-Match` header as sent (several joined with a comma), for the request's fingerprint.
fn if_match(headers: &lambda_http::http::HeaderMap) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(lambda_http::http::header::IF_MATCH)
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{fffd}"))
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The path id: API Gateway's path parameter, or else the segment after the route's prefix at
/// the start of the raw path (after `cargo lambda watch`'s `/lambda-url/<function>`) (function URLs and `cargo lambda watch` give no path parameters). A path that
/// is not the route's shape is a 404.
fn path_id(req: &Request, route: &Route) -> Result<String, ApiError> {
    if let Some(v) = req.path_parameters_ref().and_then(|p| p.first(route.param)) {
        return Ok(v.to_owned());
    }
    let raw = req.raw_http_path();
    let path = if raw.is_empty() {
        req.uri().path()
    } else {
        raw
    };
    // `cargo lambda watch` serves a function at `/lambda-url/<function>/<path>`.
    let path = path
        .strip_prefix("/lambda-url/")
        .and_then(|rest| rest.find('/').map(|slash| &rest[slash..]))
        .unwrap_or(path);
    let rest = path
        .strip_prefix(route.prefix)
        .ok_or(ApiError::RouteNotFound)?;
    if rest.is_empty() || rest.contains('/') {
        return Err(ApiError::RouteNotFound);
    }
    Ok(rest.to_owned())
}
