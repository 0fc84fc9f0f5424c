//! The example events in `events/<function>/<status>-<what>.json` (API Gateway HTTP API v2, as
//! `sam local invoke -e` and `cargo lambda invoke --data-file` take them) through their
//! handlers, on an in-memory store seeded with exactly the demo data (`pool_tests::demo`): each
//! gets the status its file name says, and a response openapi.yaml declares.

use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use endpoints::Function;
use pool_tests::openapi::OpenApi;
use pool_tests::{demo, Reply};
use serde_json::Value;
use shared::pipeline::Services;
use shared::store::memory::MemoryStore;

static SPEC: LazyLock<OpenApi> = LazyLock::new(OpenApi::load);

trait EventFiles {
    /// Its event files, in name order, with the status each name starts with.
    fn events(self) -> Vec<(PathBuf, u16)>;
}

impl EventFiles for Function {
    fn events(self) -> Vec<(PathBuf, u16)> {
        let mut files: Vec<(PathBuf, u16)> = std::fs::read_dir(self.events_dir())
            .expect("events/<function> exists")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                let status = name
                    .split('-')
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("{name}: the name starts with a status"));
                (p, status)
            })
            .collect();
        files.sort();
        files
    }
}

async fn demo_services() -> Services {
    let store = MemoryStore::new();
    demo::seed(&store).await.expect("seed the demo data");
    Services::new(Arc::new(store))
}

async fn invoke(f: Function, file: &Path, svc: &Services) -> (Value, Reply) {
    let text = std::fs::read_to_string(file).expect("read the event");
    let event: Value = serde_json::from_str(&text).expect("the event is JSON");
    let req = lambda_http::request::from_str(&text).expect("lambda_http reads the event");
    (event, Reply::from_response(f.handle(req, svc).await))
}

#[tokio::test]
async fn each_event_alone_gets_the_status_its_name_says_and_a_declared_response() {
    let mut failures = Vec::new();
    for f in Function::ALL {
        for (file, status) in f.events() {
            let svc = demo_services().await;
            let (event, reply) = invoke(f, &file, &svc).await;
            let method = event["requestContext"]["http"]["method"]
                .as_str()
                .expect("requestContext.http.method");
            if reply.status != status {
                failures.push(format!(
                    "{}: {} ≠ {status}: {reply:?}",
                    file.display(),
                    reply.status
                ));
            } else if let Err(e) = SPEC.check(&f.path_template(), method, &reply) {
                failures.push(format!("{}: {e}", file.display()));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// As `scripts/cargo-lambda-check.sh` sends them: all of a function's events, in name order, to
/// one store.
#[tokio::test]
async fn the_events_in_name_order_on_one_store_get_their_statuses() {
    for f in Function::ALL {
        let svc = demo_services().await;
        for (file, status) in f.events() {
            let (_, reply) = invoke(f, &file, &svc).await;
            assert_eq!(reply.status, status, "{}: {reply:?}", file.display());
        }
    }
}

#[test]
fn each_function_has_the_success_and_the_common_error_events() {
    for (f, needed) in [
        (
            Function::UpdateContactPool,
            &[200, 401, 403, 404, 405, 422][..],
        ),
        (
            Function::PatchGuardrailPool,
            &[200, 401, 403, 404, 405, 409, 422][..],
        ),
    ] {
        let have: Vec<u16> = f.events().iter().map(|(_, s)| *s).collect();
        for s in needed {
            assert!(have.contains(s), "{f:?} has no {s} event: {have:?}");
        }
    }
}

/// The events are HTTP API (v2) events of the routes `template.yaml` declares, and carry only
/// the demo keys.
#[test]
fn the_events_are_http_api_events_with_demo_keys_only() {
    let allowed = [demo::CONTACT_KEY, demo::GUARDRAIL_KEY, demo::UNKNOWN_KEY];
    for f in Function::ALL {
        for (file, _) in f.events() {
            let event: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).expect("read the event"))
                    .expect("JSON");
            assert_eq!(event["version"], "2.0", "{}", file.display());
            assert_eq!(
                event["routeKey"],
                format!("ANY {}", f.path_template()),
                "{}",
                file.display()
            );
            if let Some(auth) = event["headers"]["authorization"].as_str() {
                let key = auth.strip_prefix("Bearer ").unwrap_or(auth);
                assert!(allowed.contains(&key), "{}: {key}", file.display());
            }
        }
    }
}
