//! Full request runs with every log line captured: each line is JSON, each request has a line
//! with its request id, the Lambda request id, the X-Ray trace id, the cold-start flag, the
//! function's name and version, route, status, latency and organization, and no line ever holds
//! the key, its hash or the Authorization header (API.md §6).
//!
//! Each request's EMF document is checked against the EMF specification (`pool_tests::emf`) and
//! against what the request did: its store calls against the adapter's own counter, its auth
//! cache hit or miss, its slug retries, its replay; in process, alone and many at once.
//!
//! The real function binaries run under a fake Lambda Runtime API (`pool_tests::runtime_api`)
//! on DynamoDB Local, at every level from `error` to `trace` (through `AWS_LAMBDA_LOG_LEVEL` and
//! through `RUST_LOG`, including directives that ask the runtime and the SDK for everything),
//! over every status; all they print is scanned for the keys, their hashes and the headers.
//!
//! The capture is a process-wide subscriber (the functions' JSON one) that writes each line to
//! the capture of the thread that logged it, if any. A subscriber for this thread alone
//! (`telemetry::set_thread_default`) is not enough in a binary shared with other tests: tracing
//! caches each log site's interest process-wide, and a site first reached by another test's
//! thread while only a thread-local subscriber exists is cached as "never", for this thread too.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use lambda_http::lambda_runtime::Config;
use lambda_http::{Context, RequestExt};
use local_api::demo;
use pool_tests::events::{Call, Gateway};
use pool_tests::faults::{Action, FaultProxy, Rule};
use pool_tests::http_client::HttpCall;
use pool_tests::lambda::{FunctionProcess, FUNCTIONS};
use pool_tests::processes::LocalApi;
use pool_tests::runtime_api::{Answer, FakeRuntimeApi, Invocation};
use pool_tests::{backends, dynamo, emf, endpoint, seed, Backend, Reply};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::auth_cache::AuthCache;
use shared::domain::api_key::KeyHash;
use shared::domain::ids::{OrgId, PoolId};
use shared::metrics::{Metrics, Sink};
use shared::pipeline::{Route, Services};
use shared::store::dynamodb::DynamoStore;
use shared::store::faulty::{FailOn, Fault, FaultyStore};
use shared::store::memory::MemoryStore;
use shared::store::{ApiKeys, Store, StoreAdmin, MAX_SLUG_CHANGE_ATTEMPTS};
use uuid::Uuid;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Captures what this thread logs until the guard drops.
    fn this_thread(&self) -> Capturing {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            let writer = || -> Box<dyn Write> {
                match CAPTURE.with(|c| c.borrow().clone()) {
                    Some(capture) => Box::new(capture),
                    None => Box::new(std::io::sink()),
                }
            };
            tracing::subscriber::set_global_default(shared::telemetry::json_subscriber(writer))
                .expect("nothing else in this test binary installs a global subscriber");
            // A site registered by another thread while this was being installed may have
            // cached "never"; compute every site's interest again, now for this subscriber.
            tracing_core::callsite::rebuild_interest_cache();
        });
        CAPTURE.with(|c| *c.borrow_mut() = Some(self.clone()));
        Capturing
    }
}

thread_local! {
    static CAPTURE: RefCell<Option<Capture>> = const { RefCell::new(None) };
}

/// Ends this thread's capture when dropped.
struct Capturing;

impl Drop for Capturing {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

struct Run {
    route: &'static Route,
    svc: Services,
    call: Call,
    lambda_id: String,
    expect: u16,
    org: Option<OrgId>,
}

const TRACE_ID: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

async fn send(run: &Run) -> Reply {
    let mut ctx = Context::default();
    ctx.request_id = run.lambda_id.clone();
    ctx.xray_trace_id = Some(TRACE_ID.to_owned());
    ctx.env_config = Arc::new(Config {
        function_name: "pools-prod-UpdateContactPool-AbC123".into(),
        version: "7".into(),
        ..Config::default()
    });
    let req = run.call.request(Gateway::HttpV2).with_lambda_context(ctx);
    let resp = endpoint::handle(run.route, req, &run.svc).await;
    Reply::from_response(resp)
}

#[tokio::test]
async fn log_lines_are_json_with_request_context_and_never_hold_secrets() {
    let capture = Capture::default();
    let _guard = capture.this_thread();

    let store = Arc::new(MemoryStore::new());
    let org = OrgId::new_v4();
    let key = seed::key(
        store.as_ref(),
        org,
        &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE],
    )
    .await;
    let scopeless = seed::key(store.as_ref(), org, &[]).await;
    let contact = seed::stored_contact_pool(store.as_ref(), org).await;
    let guard_a = seed::stored_guardrail_pool(store.as_ref(), org, "alpha").await;
    seed::stored_guardrail_pool(store.as_ref(), org, "beta").await;
    let svc = Services::new(store.clone());
    let record = store
        .find_api_key(&KeyHash::of(&key))
        .await
        .unwrap()
        .unwrap();
    let failing = |fault| {
        let inner = MemoryStore::new();
        inner.insert_api_key(&KeyHash::of(&key), record.clone());
        Services::new(Arc::new(FaultyStore::new(inner, FailOn::Pools, fault)))
    };
    let c_route = &update_contact_pool::ROUTE;
    let g_route = &patch_guardrail_pool::ROUTE;
    let cid = contact.id.to_string();
    let gid = guard_a.id.to_string();
    let contact = |body: Value| Call::to(c_route, &cid).bearer(&key).json(&body);
    let guardrail = |body: Value| Call::to(g_route, &gid).bearer(&key).json(&body);
    let anonymous = Call::to(c_route, &cid).json(&json!({}));
    let wrong_key = Call::to(c_route, &cid)
        .bearer(&format!("{key}x"))
        .json(&json!({}));
    let no_scope = Call::to(c_route, &cid).bearer(&scopeless).json(&json!({}));
    let unknown = Call::to(c_route, &PoolId::new_v4().to_string())
        .bearer(&key)
        .json(&json!({}));
    let stale = contact(json!({"name": "Stale"})).header("If-Match", "\"99\"");
    // (route, services, call, status, whether the key authenticated)
    let table: Vec<(&'static Route, Services, Call, u16, bool)> = vec![
        (
            c_route,
            svc.clone(),
            contact(json!({"name": "Logged"})),
            200,
            true,
        ),
        (c_route, svc.clone(), anonymous, 401, false),
        (c_route, svc.clone(), wrong_key, 401, false),
        (c_route, svc.clone(), no_scope, 403, false),
        (c_route, svc.clone(), unknown, 404, true),
        (c_route, svc.clone(), stale, 412, true),
        (c_route, svc.clone(), contact(json!({"name": 1})), 422, true),
        (
            c_route,
            failing(Fault::Conflict),
            contact(json!({"name": "Busy"})),
            409,
            true,
        ),
        (
            c_route,
            failing(Fault::Internal),
            contact(json!({"name": "Boom"})),
            500,
            true,
        ),
        (
            c_route,
            failing(Fault::Unavailable),
            contact(json!({"name": "Later"})),
            503,
            true,
        ),
        (
            g_route,
            svc.clone(),
            guardrail(json!({"slug": "beta"})),
            409,
            true,
        ),
        (
            g_route,
            svc.clone(),
            guardrail(json!({"slug": "gamma"})),
            200,
            true,
        ),
        (
            g_route,
            failing(Fault::Internal),
            guardrail(json!({"slug": "delta"})),
            500,
            true,
        ),
        (
            g_route,
            failing(Fault::Unavailable),
            guardrail(json!({})),
            503,
            true,
        ),
    ];
    let runs: Vec<Run> = table
        .into_iter()
        .map(|(route, svc, call, expect, authed)| Run {
            route,
            svc,
            call,
            lambda_id: format!("lambda-{}", Uuid::new_v4()),
            expect,
            org: authed.then_some(org),
        })
        .collect();

    for run in &runs {
        let r = send(run).await;
        assert_eq!(r.status, run.expect, "{:?}", run.call);
        let rid = r.header("x-request-id").unwrap().to_owned();
        let lines: Vec<Value> = capture
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
            .collect();
        let line = lines
            .iter()
            .find(|l| l["request_id"] == rid)
            .unwrap_or_else(|| panic!("no log line for {rid}"));
        assert_eq!(line["lambda_request_id"], run.lambda_id);
        assert_eq!(line["xray_trace_id"], TRACE_ID);
        assert!(line["cold_start"].is_boolean(), "{line}");
        assert_eq!(line["function_name"], "pools-prod-UpdateContactPool-AbC123");
        assert_eq!(line["function_version"], "7");
        assert_eq!(line["route"], run.route.name);
        assert_eq!(line["status"], run.expect);
        assert!(line["latency_us"].is_u64());
        assert_eq!(
            line["org_id"],
            run.org.map(|o| o.to_string()).unwrap_or_default()
        );
        if run.expect >= 500 {
            assert_eq!(line["level"], "ERROR");
        }
    }

    let text = capture.text();
    assert!(!text.is_empty());
    for secret in [
        key.clone(),
        scopeless.clone(),
        KeyHash::of(&key).expose().to_owned(),
        "Bearer".into(),
    ] {
        assert!(!text.contains(&secret), "a log line holds {secret}");
    }
    // The suffix of the key too: no partial key leaks.
    assert!(!text.contains(&key[8..]));
}

// ---------------------------------------------------------------------------------------------
// EMF documents, in process: checked against the specification and against what happened.

const NAMESPACE: &str = "PoolsTest";

/// The EMF documents a `Services` writes, captured.
#[derive(Clone, Default)]
struct Docs(Arc<Mutex<Vec<u8>>>);

impl Docs {
    fn metrics(&self) -> Metrics {
        let into = self.0.clone();
        Metrics::new(
            NAMESPACE,
            Sink::To(Arc::new(move |line: &[u8]| {
                into.lock().unwrap().extend_from_slice(line)
            })),
        )
    }

    /// Every document, each checked against the specification and API.md §6.
    fn all(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text.lines().count(),
            emf::documents(&text, NAMESPACE).len(),
            "a line that is not an EMF document: {text}"
        );
        emf::documents(&text, NAMESPACE)
    }

    /// The one document of the request answered with `reply`.
    fn of(&self, reply: &Reply) -> Value {
        let rid = reply.header("x-request-id").unwrap();
        let mut docs: Vec<Value> = self
            .all()
            .into_iter()
            .filter(|d| d["request_id"] == rid)
            .collect();
        assert_eq!(docs.len(), 1, "documents of {rid}: {docs:?}");
        docs.remove(0)
    }
}

/// A store and its own count of the operations it served or sent.
struct Counted {
    admin: Arc<dyn StoreAdmin>,
    svc_store: Arc<dyn Store>,
    calls: Box<dyn Fn() -> u64 + Send + Sync>,
}

fn counted_memory() -> Counted {
    let s = Arc::new(MemoryStore::new());
    let c = s.clone();
    Counted {
        admin: s.clone(),
        svc_store: s,
        calls: Box::new(move || c.calls()),
    }
}

fn counted_dynamo(s: DynamoStore) -> Counted {
    let s = Arc::new(s);
    let c = s.clone();
    Counted {
        admin: s.clone(),
        svc_store: s,
        calls: Box::new(move || c.calls()),
    }
}

async fn counted(b: Backend) -> Counted {
    match b {
        Backend::Memory => counted_memory(),
        Backend::Dynamo => counted_dynamo(dynamo::store().await),
    }
}

/// Sends `call` to `route` and returns the reply, its document, and the store's own count of
/// the calls made meanwhile (only meaningful when nothing else uses the store at the time).
async fn measured(
    route: &Route,
    call: &Call,
    svc: &Services,
    store: &Counted,
    docs: &Docs,
) -> (Reply, Value, u64) {
    let before = (store.calls)();
    let r = Reply::from_response(endpoint::handle(route, call.request(Gateway::HttpV2), svc).await);
    let delta = (store.calls)() - before;
    let doc = docs.of(&r);
    assert_eq!(doc["Function"], route.function, "{doc}");
    assert_eq!(doc["Status"], r.status.to_string(), "{doc}");
    assert_eq!(emf::value(&doc, "Requests"), 1.0);
    assert!(emf::value(&doc, "Latency") >= 0.0);
    (r, doc, delta)
}

#[tokio::test]
async fn each_request_writes_one_emf_document_counting_its_store_calls_cache_and_replays() {
    for b in backends() {
        let store = counted(b).await;
        let docs = Docs::default();
        let svc = Services::new(store.svc_store.clone())
            .with_auth_cache(AuthCache::new(30, 1024))
            .with_metrics(docs.metrics());
        let org = OrgId::new_v4();
        let both = [SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE];
        let key = seed::key(store.admin.as_ref(), org, &both).await;
        let contact = seed::stored_contact_pool(store.admin.as_ref(), org).await;
        let alpha = seed::fresh_slug("alpha");
        let beta = seed::fresh_slug("beta");
        let guard = seed::stored_guardrail_pool(store.admin.as_ref(), org, &alpha).await;
        seed::stored_guardrail_pool(store.admin.as_ref(), org, &beta).await;
        let (c, g) = (&update_contact_pool::ROUTE, &patch_guardrail_pool::ROUTE);
        let cid = contact.id.to_string();
        let gid = guard.id.to_string();
        let put = |body: Value| Call::to(c, &cid).bearer(&key).json(&body);
        let idem = format!("emf-{}", Uuid::new_v4());
        // (route, call, status, auth cache: Some(hit) / None when no key was looked at, replayed)
        let table: Vec<(&Route, Call, u16, Option<bool>, bool)> = vec![
            (c, put(json!({"name": "First"})), 200, Some(false), false),
            (c, put(json!({"name": "Second"})), 200, Some(true), false),
            (c, Call::to(c, &cid).json(&json!({})), 401, None, false),
            (c, put(json!({"name": 1})), 422, Some(true), false),
            (
                c,
                put(json!({"name": "Kept"})).header("Idempotency-Key", &idem),
                200,
                Some(true),
                false,
            ),
            (
                c,
                put(json!({"name": "Kept"})).header("Idempotency-Key", &idem),
                200,
                Some(true),
                true,
            ),
            (
                g,
                Call::to(g, &gid).bearer(&key).json(&json!({"slug": beta})),
                409,
                Some(true),
                false,
            ),
            (
                g,
                Call::to(g, &gid)
                    .bearer(&key)
                    .json(&json!({"slug": seed::fresh_slug("gamma")})),
                200,
                Some(true),
                false,
            ),
        ];
        for (route, call, status, cache, replayed) in &table {
            let (r, doc, delta) = measured(route, call, &svc, &store, &docs).await;
            assert_eq!(r.status, *status, "{b:?} {call:?}: {r:?}");
            assert_eq!(
                emf::value(&doc, "StoreCalls"),
                delta as f64,
                "{b:?} {call:?}: {doc}"
            );
            let (hit, miss) = match cache {
                None => (0.0, 0.0),
                Some(true) => (1.0, 0.0),
                Some(false) => (0.0, 1.0),
            };
            assert_eq!(
                emf::value(&doc, "AuthCacheHit"),
                hit,
                "{b:?} {call:?}: {doc}"
            );
            assert_eq!(
                emf::value(&doc, "AuthCacheMiss"),
                miss,
                "{b:?} {call:?}: {doc}"
            );
            assert_eq!(
                emf::value(&doc, "IdempotentReplays"),
                f64::from(u8::from(*replayed)),
                "{doc}"
            );
            assert_eq!(r.header("idempotent-replayed").is_some(), *replayed);
            assert_eq!(emf::value(&doc, "TransactionRetries"), 0.0, "{doc}");
            if cache.is_some() {
                assert_eq!(doc["org_id"], org.to_string(), "{doc}");
                assert!(delta > 0 || *cache == Some(true), "{doc}");
            } else {
                assert!(doc.get("org_id").is_none(), "{doc}");
                assert_eq!(delta, 0);
            }
        }
        // The replay wrote nothing, and said so: one read.
        assert_eq!(docs.all().len(), table.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_in_one_process_each_count_only_their_own_calls() {
    for b in backends() {
        let store = counted(b).await;
        let docs = Docs::default();
        let svc = Services::new(store.svc_store.clone())
            .with_auth_cache(AuthCache::new(30, 1024))
            .with_metrics(docs.metrics());
        let org = OrgId::new_v4();
        let key = seed::key(store.admin.as_ref(), org, &[SCOPE_POOLS_WRITE]).await;
        let scopeless = seed::key(store.admin.as_ref(), org, &[]).await;
        let route = &update_contact_pool::ROUTE;
        let mut calls = Vec::new();
        for i in 0..12 {
            let pool = seed::stored_contact_pool(store.admin.as_ref(), org).await;
            let id = pool.id.to_string();
            calls.push(
                Call::to(route, &id)
                    .bearer(&key)
                    .json(&json!({"name": format!("Many {i}")})),
            );
            calls.push(Call::to(route, &id).bearer(&scopeless).json(&json!({})));
            calls.push(Call::to(route, &id).json(&json!({})));
        }
        let before = (store.calls)();
        let svc = Arc::new(svc);
        let tasks: Vec<_> = calls
            .into_iter()
            .map(|call| {
                let svc = svc.clone();
                tokio::spawn(async move {
                    let req = call.request(Gateway::HttpV2);
                    Reply::from_response(endpoint::handle(route, req, &svc).await)
                })
            })
            .collect();
        let mut replies = Vec::new();
        for t in tasks {
            replies.push(t.await.unwrap());
        }
        let delta = (store.calls)() - before;
        let mut sum = 0.0;
        for r in &replies {
            let doc = docs.of(r);
            let (calls, hit, miss) = (
                emf::value(&doc, "StoreCalls"),
                emf::value(&doc, "AuthCacheHit"),
                emf::value(&doc, "AuthCacheMiss"),
            );
            // Each request's own calls: the key's lookup on a miss, and one write on a 200.
            let write = if r.status == 200 { 1.0 } else { 0.0 };
            assert_eq!(calls, miss + write, "{b:?} {}: {doc}", r.status);
            match r.status {
                401 => assert_eq!((hit, miss), (0.0, 0.0), "{doc}"),
                200 | 403 => assert_eq!(hit + miss, 1.0, "{doc}"),
                other => panic!("unexpected {other}: {r:?}"),
            }
            sum += calls;
        }
        assert_eq!(
            sum, delta as f64,
            "{b:?}: the documents' store calls against the store's"
        );
    }
}

#[tokio::test]
async fn slug_retries_are_counted_in_the_document_of_the_request_that_made_them() {
    pool_tests::require_dynamodb!();
    let direct = dynamo::store().await;
    let proxy = FaultProxy::start(dynamo::endpoint()).await;
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(&proxy.url)
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "emf",
        ))
        .build();
    let via_proxy = DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(config),
        dynamo::table_name(),
    );
    let store = counted_dynamo(via_proxy);
    let docs = Docs::default();
    let svc = Services::new(store.svc_store.clone()).with_metrics(docs.metrics());
    let org = OrgId::new_v4();
    let key = seed::key(&direct, org, &[SCOPE_ORG_ADMIN_WRITE]).await;
    let pool = seed::stored_guardrail_pool(&direct, org, &seed::fresh_slug("retry")).await;
    let route = &patch_guardrail_pool::ROUTE;
    let id = pool.id.to_string();
    let conflict = Action::cancelled(&["None", "TransactionConflict", "None"]);
    for (times, status, retries) in [
        (0, 200, 0.0),
        (2, 200, 2.0),
        (usize::MAX, 409, f64::from(MAX_SLUG_CHANGE_ATTEMPTS - 1)),
    ] {
        proxy.clear();
        proxy.add(Rule {
            op: "TransactWriteItems",
            times,
            action: conflict.clone(),
        });
        let transactions = proxy.count("TransactWriteItems");
        let call = Call::to(route, &id)
            .bearer(&key)
            .json(&json!({"slug": seed::fresh_slug("moved")}));
        let (r, doc, delta) = measured(route, &call, &svc, &store, &docs).await;
        assert_eq!(r.status, status, "{r:?}");
        assert_eq!(emf::value(&doc, "TransactionRetries"), retries, "{doc}");
        assert_eq!(emf::value(&doc, "StoreCalls"), delta as f64, "{doc}");
        // One attempt more than the retries, each a transaction.
        assert_eq!(
            (proxy.count("TransactWriteItems") - transactions) as f64,
            retries + 1.0
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The real binaries under a fake Lambda Runtime API, at every level, over every status.

/// How a round sets the level.
#[derive(Debug, Clone, Copy)]
enum Level {
    /// `AWS_LAMBDA_LOG_LEVEL` (with a quieter `RUST_LOG` beside it, which must lose).
    Lambda(&'static str),
    /// `RUST_LOG` alone.
    RustLog(&'static str),
}

impl Level {
    /// Whether `info` lines (every request's line) are written.
    fn info(self) -> bool {
        match self {
            Level::Lambda(l) => ["INFO", "DEBUG", "TRACE"].contains(&l),
            Level::RustLog(_) => true,
        }
    }

    /// Whether `debug` or finer is on for everything.
    fn verbose(self) -> bool {
        match self {
            Level::Lambda(l) => ["DEBUG", "TRACE"].contains(&l),
            Level::RustLog(_) => true,
        }
    }
}

const LEVELS: [Level; 7] = [
    Level::Lambda("ERROR"),
    Level::Lambda("WARN"),
    Level::Lambda("INFO"),
    Level::Lambda("DEBUG"),
    Level::Lambda("TRACE"),
    Level::RustLog("trace"),
    // Every target that ever logs an event, a request or a body, asked for by name.
    Level::RustLog(
        "trace,lambda_runtime=trace,lambda_runtime_api_client=trace,lambda_http=trace,\
         aws_smithy_runtime=trace,aws_smithy_runtime_api=trace,aws_smithy_http_client=trace,\
         aws_sdk_dynamodb=trace,aws_sigv4=trace,hyper=trace,hyper_util=trace",
    ),
];

/// One invocation of a round: the call, the fault the proxy injects while it runs, the status.
struct Step {
    call: Call,
    fault: Option<(&'static str, Action)>,
    status: u16,
}

fn step(call: Call, status: u16) -> Step {
    Step {
        call,
        fault: None,
        status,
    }
}

fn faulted(call: Call, op: &'static str, action: Action, status: u16) -> Step {
    Step {
        call,
        fault: Some((op, action)),
        status,
    }
}

/// What the round's calls use.
struct World {
    org: OrgId,
    key: String,
    scopeless: String,
    secrets: Vec<String>,
}

async fn world(direct: &DynamoStore) -> World {
    let org = OrgId::new_v4();
    let key = seed::key(direct, org, &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE]).await;
    let scopeless = seed::key(direct, org, &[]).await;
    let wrong = format!("{key}x");
    let mut secrets = Vec::new();
    for k in [&key, &scopeless, &wrong] {
        secrets.push(k.clone());
        secrets.push(k[8..].to_owned());
        secrets.push(format!("Bearer {k}"));
        let hash = KeyHash::of(k).expose().to_owned();
        secrets.push(hash.to_ascii_uppercase());
        secrets.push(hash);
    }
    World {
        org,
        key,
        scopeless,
        secrets,
    }
}

/// The steps for `update-contact-pool`: every status of dialect M.
async fn contact_steps(direct: &DynamoStore, w: &World) -> Vec<Step> {
    let route = &update_contact_pool::ROUTE;
    let pool = seed::stored_contact_pool(direct, w.org).await;
    let id = pool.id.to_string();
    let put = |body: Value| Call::to(route, &id).bearer(&w.key).json(&body);
    let idem = format!("rt-{}", Uuid::new_v4());
    let throttled = Action::cancelled(&["ProvisionedThroughputExceeded", "None"]);
    vec![
        step(put(json!({"name": "Runtime one"})), 200),
        step(
            put(json!({"name": "Kept"})).header("Idempotency-Key", &idem),
            200,
        ),
        step(
            put(json!({"name": "Kept"})).header("Idempotency-Key", &idem),
            200,
        ),
        step(put(json!({})).raw_body("{\"name\":"), 400),
        step(Call::to(route, &id).json(&json!({})), 401),
        step(
            Call::to(route, &id)
                .bearer(&format!("{}x", w.key))
                .json(&json!({})),
            401,
        ),
        step(
            Call::to(route, &id).bearer(&w.scopeless).json(&json!({})),
            403,
        ),
        step(
            Call::to(route, &PoolId::new_v4().to_string())
                .bearer(&w.key)
                .json(&json!({})),
            404,
        ),
        step(put(json!({})).method("POST"), 405),
        step(
            put(json!({"name": "Stale"})).header("If-Match", "\"99\""),
            412,
        ),
        step(put(json!({"description": "x".repeat(70 * 1024)})), 413),
        step(
            Call::to(route, &id)
                .bearer(&w.key)
                .header("Content-Type", "text/plain")
                .raw_body("{}"),
            415,
        ),
        step(put(json!({"name": 1})), 422),
        faulted(
            put(json!({"name": "Busy"})),
            "UpdateItem",
            Action::error(400, "TransactionConflictException"),
            409,
        ),
        faulted(
            put(json!({"name": "Boom"})),
            "UpdateItem",
            Action::error(400, "ValidationException"),
            500,
        ),
        faulted(
            put(json!({"name": "Later"}))
                .header("Idempotency-Key", &format!("rt-{}", Uuid::new_v4())),
            "TransactWriteItems",
            throttled,
            503,
        ),
    ]
}

/// The steps for `patch-guardrail-pool`: every status of dialect A.
async fn guardrail_steps(direct: &DynamoStore, w: &World) -> Vec<Step> {
    let route = &patch_guardrail_pool::ROUTE;
    let pool = seed::stored_guardrail_pool(direct, w.org, &seed::fresh_slug("rt")).await;
    let taken = seed::fresh_slug("taken");
    seed::stored_guardrail_pool(direct, w.org, &taken).await;
    let id = pool.id.to_string();
    let patch = |body: Value| Call::to(route, &id).bearer(&w.key).json(&body);
    let throttled = Action::cancelled(&["None", "ProvisionedThroughputExceeded", "None"]);
    vec![
        step(patch(json!({"slug": seed::fresh_slug("rt-new")})), 200),
        step(patch(json!({"brand_id": "x"})), 400),
        step(Call::to(route, &id).json(&json!({})), 401),
        step(
            Call::to(route, &id).bearer(&w.scopeless).json(&json!({})),
            403,
        ),
        step(
            Call::to(route, &PoolId::new_v4().to_string())
                .bearer(&w.key)
                .json(&json!({})),
            404,
        ),
        step(patch(json!({})).method("PUT"), 405),
        step(patch(json!({"slug": taken})), 409),
        step(
            patch(json!({"name": "Stale"})).header("If-Match", "\"99\""),
            412,
        ),
        step(patch(json!({"name": "x".repeat(70 * 1024)})), 413),
        step(
            Call::to(route, &id)
                .bearer(&w.key)
                .header("Content-Type", "text/plain")
                .raw_body("{}"),
            415,
        ),
        step(patch(json!({"slug": "Not A Slug"})), 422),
        faulted(
            patch(json!({"name": "Boom"})),
            "UpdateItem",
            Action::error(400, "ValidationException"),
            500,
        ),
        faulted(
            patch(json!({"slug": seed::fresh_slug("later")})),
            "TransactWriteItems",
            throttled,
            503,
        ),
    ]
}

/// The DynamoDB requests that reached the proxy so far, of every operation the functions send.
fn sent(proxy: &FaultProxy) -> usize {
    [
        "GetItem",
        "BatchGetItem",
        "UpdateItem",
        "TransactWriteItems",
        "PutItem",
        "Query",
    ]
    .iter()
    .map(|op| proxy.count(op))
    .sum()
}

/// Runs `function` at `level` through `steps`; checks every answer, log line and document;
/// returns all it printed.
async fn round(
    function: &'static str,
    level: Level,
    steps: &[Step],
    proxy: &FaultProxy,
) -> pool_tests::lambda::Output {
    let mut api = FakeRuntimeApi::start().await;
    let process = FunctionProcess::start(function, &api.address, |cmd| {
        cmd.env("TABLE_NAME", dynamo::table_name())
            .env("AWS_ENDPOINT_URL_DYNAMODB", &proxy.url);
        match level {
            Level::Lambda(l) => {
                cmd.env("AWS_LAMBDA_LOG_LEVEL", l).env("RUST_LOG", "off");
            }
            Level::RustLog(r) => {
                cmd.env("RUST_LOG", r);
            }
        }
    });
    let mut expected = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        proxy.clear();
        if let Some((op, action)) = &s.fault {
            proxy.add(Rule {
                op,
                times: usize::MAX,
                action: action.clone(),
            });
        }
        let invocation = Invocation {
            request_id: format!("{}-{i}", Uuid::new_v4()),
            trace_id: Some(format!("Root=1-6750a1b2-{:024x};Sampled=1", i + 1)),
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
            event: s.call.event(Gateway::HttpV2).to_string(),
        };
        let sent_before = sent(proxy);
        let answer = api
            .invoke(invocation.clone(), Duration::from_secs(30))
            .await;
        // What reached DynamoDB, for a step without a fault (no SDK retry then): one request
        // per operation the store counted.
        let on_the_wire = s.fault.is_none().then(|| sent(proxy) - sent_before);
        let Answer::Response { body, .. } = answer else {
            panic!(
                "{function} {level:?}: not a response to {:?}: {answer:?}",
                s.call
            )
        };
        let resp: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            resp["statusCode"], s.status,
            "{function} {level:?} {:?}: {resp}",
            s.call
        );
        let rid = resp["headers"]["x-request-id"].as_str().unwrap().to_owned();
        expected.push((invocation, rid, s.status, on_the_wire));
    }
    proxy.clear();
    let out = process.stop();

    // Every stdout line is JSON: a log line or an EMF document.
    for line in out.stdout.lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok_and(|v| v.is_object()),
            "{function} {level:?}: not a JSON line: {line}"
        );
    }
    let docs = emf::documents(&out.stdout, shared::metrics::DEFAULT_NAMESPACE);
    assert_eq!(
        docs.len(),
        steps.len(),
        "{function} {level:?}: one document per request"
    );
    let logs: Vec<Value> = out
        .stdout
        .lines()
        .filter(|l| !emf::is_document(l))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (n, (inv, rid, status, on_the_wire)) in expected.iter().enumerate() {
        let doc = docs
            .iter()
            .find(|d| d["request_id"] == rid.as_str())
            .unwrap_or_else(|| panic!("{function} {level:?}: no document for {rid}"));
        assert_eq!(doc["Function"], function);
        assert_eq!(doc["Status"], status.to_string());
        assert_eq!(doc["lambda_request_id"], inv.request_id);
        assert_eq!(doc["xray_trace_id"].as_str(), inv.trace_id.as_deref());
        assert_eq!(
            emf::value(doc, "ColdStart"),
            if n == 0 { 1.0 } else { 0.0 },
            "{doc}"
        );
        if let Some(wire) = on_the_wire {
            assert_eq!(emf::value(doc, "StoreCalls"), *wire as f64, "{doc}");
        }
        let line = logs.iter().find(|l| l["request_id"] == rid.as_str());
        if level.info() || *status >= 500 {
            let line =
                line.unwrap_or_else(|| panic!("{function} {level:?}: no log line for {rid}"));
            assert_eq!(line["lambda_request_id"], inv.request_id);
            assert_eq!(line["xray_trace_id"].as_str(), inv.trace_id.as_deref());
            assert_eq!(line["cold_start"], n == 0, "{line}");
            assert_eq!(line["function_name"], function);
            assert_eq!(line["function_version"], "$LATEST");
            assert_eq!(line["status"], *status);
            assert!(line["latency_us"].is_u64());
        } else {
            assert!(
                line.is_none(),
                "{function} {level:?}: an info line: {line:?}"
            );
        }
    }
    let levels: Vec<&str> = logs.iter().filter_map(|l| l["level"].as_str()).collect();
    match level {
        Level::Lambda("ERROR") => assert!(levels.iter().all(|l| *l == "ERROR"), "{levels:?}"),
        Level::Lambda("WARN") => assert!(
            levels.iter().all(|l| ["ERROR", "WARN"].contains(l)),
            "{levels:?}"
        ),
        _ if level.verbose() => assert!(
            levels.iter().any(|l| ["DEBUG", "TRACE"].contains(l)),
            "{function} {level:?}: nothing below info was written"
        ),
        _ => assert!(
            levels.iter().all(|l| !["DEBUG", "TRACE"].contains(l)),
            "{levels:?}"
        ),
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_functions_at_every_level_and_status_never_print_a_key_its_hash_or_the_header() {
    pool_tests::require_dynamodb!();
    let direct = dynamo::store().await;
    let proxy = FaultProxy::start(dynamo::endpoint()).await;
    let w = world(&direct).await;
    let mut printed = 0;
    for level in LEVELS {
        for function in FUNCTIONS {
            let steps = match function {
                "update-contact-pool" => contact_steps(&direct, &w).await,
                _ => guardrail_steps(&direct, &w).await,
            };
            let out = round(function, level, &steps, &proxy).await;
            let all = format!("{}\n{}", out.stdout, out.stderr);
            let lower = all.to_ascii_lowercase();
            // Named by its place in the list, so a failure does not print it either.
            for (n, secret) in w.secrets.iter().enumerate() {
                assert!(
                    !all.contains(secret.as_str()) && !lower.contains(&secret.to_ascii_lowercase()),
                    "{function} {level:?} printed secret #{n} (key, suffix, header, HASH, hash)"
                );
            }
            printed += all.len();
        }
    }
    assert!(printed > 0);
}

#[tokio::test]
async fn local_api_prints_each_request_s_emf_document_on_stderr() {
    let api = LocalApi::start_with(None, |cmd| {
        cmd.env("METRICS_NAMESPACE", NAMESPACE);
    });
    let contact = format!("{}{}", api.base_url, update_contact_pool::ROUTE.prefix);
    let url = format!("{contact}{}", demo::WARM_LEADS);
    let ok = HttpCall::new("PUT", &url)
        .bearer(demo::KEY_POOLS_WRITE.key)
        .json(&json!({"name": "Seen locally"}))
        .send()
        .await;
    let refused = HttpCall::new("PUT", &url).json(&json!({})).send().await;
    assert_eq!((ok.status, refused.status), (200, 401));
    let stopped = api.stop("TERM");
    let docs = emf::documents(&stopped.stderr, NAMESPACE);
    for (r, calls) in [(&ok, 2.0), (&refused, 0.0)] {
        let rid = r.header("x-request-id").unwrap();
        let doc = docs
            .iter()
            .find(|d| d["request_id"] == rid)
            .unwrap_or_else(|| panic!("no document for {rid}: {}", stopped.stderr));
        assert_eq!(doc["Function"], update_contact_pool::ROUTE.function);
        assert_eq!(doc["Status"], r.status.to_string());
        assert_eq!(emf::value(doc, "StoreCalls"), calls, "{doc}");
    }
    // stdout stays for people: no document there.
    assert!(stopped.stdout.iter().all(|l| !emf::is_document(l)));
    assert!(!stopped.stderr.contains(demo::KEY_POOLS_WRITE.key));
}
