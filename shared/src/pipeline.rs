//! The request path both functions share, in the contract's order of checks: route and method,
//! authentication, scope, path id, body. The function adds its own validation and store call,
//! and every outcome, success or error, leaves as a normal response with one log line.

use std::future::Future;
use std::sync::Arc;
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
}

/// A request's time budget: below the functions' default 10 s Lambda timeout, so every request
/// is answered by the function, never cut off by Lambda.
pub const DEFAULT_REQUEST_BUDGET: Duration = Duration::from_secs(8);

impl Services {
    /// The store, the system clock, no auth cache, the default budget.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            auth_cache: Arc::new(AuthCache::disabled()),
            request_budget: DEFAULT_REQUEST_BUDGET,
        }
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

/// Runs the common checks, then `work`, and turns whatever happens into a response.
pub async fn serve<F, Fut>(req: Request, route: &Route, svc: &Services, work: F) -> Response<Body>
where
    F: FnOnce(Accepted) -> Fut,
    Fut: Future<Output = Result<Success, ApiError>>,
{
    let started = Instant::now();
    let request_id = RequestId::new();
    let mut org_id: Option<OrgId> = None;
    let run = async {
        let accepted = accept(&req, route, svc).await?;
        org_id = Some(accepted.principal.org_id);
        work(accepted).await
    };
    let outcome = match tokio::time::timeout(svc.request_budget, run).await {
        Ok(outcome) => outcome,
        Err(_) => Err(ApiError::Unavailable("request budget exhausted".into())),
    };
    let lambda_request_id = req
        .lambda_context_ref()
        .map(|c| c.request_id.as_str())
        .unwrap_or("");
    let latency_us = started.elapsed().as_micros() as u64;
    let org = org_id.map(|o| o.to_string()).unwrap_or_default();
    match outcome {
        Ok(success) => {
            tracing::info!(
                request_id = %request_id,
                lambda_request_id,
                route = route.name,
                status = 200u16,
                latency_us,
                org_id = org,
                "request"
            );
            let mut resp =
                success_response(route.dialect, &success.data, success.version, request_id);
            if success.replayed {
                resp.headers_mut().insert(
                    idempotency::REPLAYED_HEADER,
                    lambda_http::http::HeaderValue::from_static("true"),
                );
            }
            resp
        }
        Err(e) => {
            // Rendered once: the log line reads the status off the response.
            let resp = error_response(route.dialect, &e, request_id);
            let status = resp.status().as_u16();
            if status >= 500 {
                tracing::error!(
                    request_id = %request_id,
                    lambda_request_id,
                    route = route.name,
                    status,
                    latency_us,
                    org_id = org,
                    error = %error_chain(&e),
                    "request failed"
                );
            } else {
                tracing::info!(
                    request_id = %request_id,
                    lambda_request_id,
                    route = route.name,
                    status,
                    latency_us,
                    org_id = org,
                    error = %e,
                    "request"
                );
            }
            resp
        }
    }
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
