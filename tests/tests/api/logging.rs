//! Full request runs with every log line captured: each line is JSON, each request has a line
//! with its request id, the Lambda request id, route, status, latency and organization, and no
//! line ever holds the key, its hash or the Authorization header.
//!
//! The capture is a process-wide subscriber (the functions' JSON one) that writes each line to
//! the capture of the thread that logged it, if any. A subscriber for this thread alone
//! (`telemetry::set_thread_default`) is not enough in a binary shared with other tests: tracing
//! caches each log site's interest process-wide, and a site first reached by another test's
//! thread while only a thread-local subscriber exists is cached as "never", for this thread too.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use lambda_http::{Context, RequestExt};
use pool_tests::events::{Call, Gateway};
use pool_tests::{endpoint, seed, Reply};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::api_key::KeyHash;
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::{Route, Services};
use shared::store::faulty::{FailOn, Fault, FaultyStore};
use shared::store::memory::MemoryStore;
use shared::store::ApiKeys;
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

async fn send(run: &Run) -> Reply {
    let mut ctx = Context::default();
    ctx.request_id = run.lambda_id.clone();
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
