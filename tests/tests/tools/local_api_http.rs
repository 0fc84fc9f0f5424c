//! `local-api`'s server in process on an ephemeral loopback port, on the in-memory store, through
//! a real HTTP client: routing, the API Gateway v2 request it builds (path parameter, headers,
//! body kinds), body caps, concurrency and shutdown.

use std::sync::Arc;

use pool_tests::http_client::HttpCall;
use pool_tests::{assert_a_error, assert_common, assert_m_error, seed};
use serde_json::json;
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::contact_pool::ContactPool;
use shared::domain::guardrail_pool::GuardrailPool;
use shared::domain::ids::OrgId;
use shared::pipeline::Services;
use shared::store::memory::MemoryStore;
use shared::store::StoreAdmin;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Server {
    base: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(store: Arc<dyn StoreAdmin>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(local_api::serve(listener, Services::new(store), async {
            let _ = rx.await;
        }));
        Self {
            base,
            stop: Some(tx),
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn shut_down(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        (&mut self.task)
            .await
            .expect("the server task")
            .expect("serve returns Ok");
    }
}

/// An organization with a key of each scope and one pool of each kind, behind a server.
struct Env {
    server: Server,
    store: Arc<dyn StoreAdmin>,
    org: OrgId,
    pools_key: String,
    admin_key: String,
    contact: ContactPool,
    guardrail: GuardrailPool,
}

async fn env() -> Env {
    let store: Arc<dyn StoreAdmin> = Arc::new(MemoryStore::new());
    let org = OrgId::new_v4();
    let pools_key = seed::key(store.as_ref(), org, &[SCOPE_POOLS_WRITE]).await;
    let admin_key = seed::key(store.as_ref(), org, &[SCOPE_ORG_ADMIN_WRITE]).await;
    let contact = seed::stored_contact_pool(store.as_ref(), org).await;
    let guardrail =
        seed::stored_guardrail_pool(store.as_ref(), org, &seed::fresh_slug("main")).await;
    Env {
        server: Server::start(store.clone()).await,
        store,
        org,
        pools_key,
        admin_key,
        contact,
        guardrail,
    }
}

impl Env {
    fn put(&self, id: &str) -> HttpCall {
        HttpCall::new("PUT", self.server.url(&format!("/api/v1/pools/{id}")))
    }

    fn patch(&self, id: &str) -> HttpCall {
        HttpCall::new(
            "PATCH",
            self.server.url(&format!("/v1/guardrails/pools/{id}")),
        )
    }
}

#[tokio::test]
async fn both_functions_answer_on_their_real_paths() {
    let e = env().await;
    let r = e
        .put(&e.contact.id.to_string())
        .bearer(&e.pools_key)
        .json(&json!({"name": "Renamed over HTTP", "max_retries": 7}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_common(&r);
    assert_eq!(r.header("etag"), Some("\"2\""));
    assert_eq!(r.body["data"]["uuid"], e.contact.id.to_string());
    assert_eq!(r.body["data"]["name"], "Renamed over HTTP");
    assert_eq!(r.body["data"]["max_retries"], 7);
    let stored = e.store.get_contact_pool(e.org, e.contact.id).await.unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.version),
        ("Renamed over HTTP", 2)
    );

    let r = e
        .patch(&e.guardrail.id.to_string())
        .bearer(&e.admin_key)
        .json(&json!({"name": "Renamed too"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_common(&r);
    assert_eq!(r.body["data"]["id"], e.guardrail.id.to_string());
    assert_eq!(r.body["data"]["name"], "Renamed too");
    assert_eq!(r.header("etag"), Some("\"2\""));
    e.server.shut_down().await;
}

#[tokio::test]
async fn errors_keep_their_dialect_and_headers_over_http() {
    let e = env().await;
    let id = e.contact.id.to_string();
    let r = e.put(&id).json(&json!({})).send().await;
    assert_m_error(&r, 401, "MISSING_AUTH_TOKEN", "Authentication required");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = e
        .put(&id)
        .bearer(&e.admin_key)
        .json(&json!({}))
        .send()
        .await;
    assert_m_error(
        &r,
        403,
        "INSUFFICIENT_PERMISSIONS",
        "Insufficient permissions",
    );
    let r = e
        .put(&id)
        .bearer(&e.pools_key)
        .if_match(9)
        .json(&json!({"is_active": false}))
        .send()
        .await;
    assert_m_error(
        &r,
        412,
        "PRECONDITION_FAILED",
        "Pool has changed since it was read",
    );
    let r = e
        .put(&id)
        .bearer(&e.pools_key)
        .header("Content-Type", "text/plain")
        .raw_body("{}")
        .send()
        .await;
    assert_m_error(
        &r,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Content-Type must be application/json",
    );
    let r = e
        .patch(&e.guardrail.id.to_string())
        .bearer(&e.pools_key)
        .json(&json!({"name": "x"}))
        .send()
        .await;
    assert_a_error(&r, 403, "FORBIDDEN", "missing required scope");
    e.server.shut_down().await;
}

#[tokio::test]
async fn other_paths_get_api_gateway_s_json_404() {
    let e = env().await;
    let id = e.contact.id;
    for (method, path) in [
        ("GET", "/".to_owned()),
        ("PUT", "/api/v1/pools".to_owned()),
        ("PUT", "/api/v1/pools/".to_owned()),
        ("PUT", format!("/api/v1/pools/{id}/")),
        ("PUT", format!("/api/v1/pools/{id}/contacts")),
        ("PUT", format!("/api/v2/pools/{id}")),
        ("PATCH", "/v1/guardrails/pools/".to_owned()),
        ("PATCH", format!("/prefix/v1/guardrails/pools/{id}")),
    ] {
        let (r, raw) = HttpCall::new(method, e.server.url(&path))
            .bearer(&e.pools_key)
            .json(&json!({}))
            .send_raw()
            .await;
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert_eq!(&raw[..], br#"{"message":"Not Found"}"#, "{path}");
    }
    e.server.shut_down().await;
}

#[tokio::test]
async fn other_methods_on_function_paths_reach_the_function() {
    let e = env().await;
    for method in ["GET", "POST", "DELETE", "PATCH", "OPTIONS"] {
        let r = HttpCall::new(
            method,
            e.server.url(&format!("/api/v1/pools/{}", e.contact.id)),
        )
        .bearer(&e.pools_key)
        .send()
        .await;
        assert_m_error(&r, 405, "METHOD_NOT_ALLOWED", "Method not allowed");
        assert_eq!(r.header("allow"), Some("PUT"), "{method}");
    }
    for method in ["GET", "PUT", "POST"] {
        let r = HttpCall::new(
            method,
            e.server
                .url(&format!("/v1/guardrails/pools/{}", e.guardrail.id)),
        )
        .send()
        .await;
        assert_a_error(&r, 405, "METHOD_NOT_ALLOWED", "method not allowed");
        assert_eq!(r.header("allow"), Some("PATCH"), "{method}");
    }
    e.server.shut_down().await;
}

#[tokio::test]
async fn the_path_id_reaches_the_function_as_api_gateway_decodes_it() {
    let e = env().await;
    // `-` is `%2D`: API Gateway hands the function the decoded path parameter.
    let encoded = e.contact.id.to_string().replace('-', "%2D");
    let r = e
        .put(&encoded)
        .bearer(&e.pools_key)
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["uuid"], e.contact.id.to_string());
    // Not a UUID: the function's 404, in its dialect.
    let r = e.put("not-a-uuid").bearer(&e.pools_key).send().await;
    assert_m_error(&r, 404, "NOT_FOUND", "Pool not found");
    e.server.shut_down().await;
}

#[tokio::test]
async fn repeated_headers_reach_the_function_joined_as_api_gateway_v2_joins_them() {
    let e = env().await;
    // Two If-Match headers become one `"5","1"`: version 1 is admitted.
    let r = e
        .put(&e.contact.id.to_string())
        .bearer(&e.pools_key)
        .header("If-Match", "\"5\"")
        .header("If-Match", "\"1\"")
        .json(&json!({"max_retries": 1}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("etag"), Some("\"2\""));
    e.server.shut_down().await;
}

#[tokio::test]
async fn bodies_reach_the_function_as_text_binary_or_nothing() {
    let e = env().await;
    let id = e.contact.id.to_string();
    let call = || {
        e.put(&id)
            .bearer(&e.pools_key)
            .header("Content-Type", "application/json")
    };
    // Not UTF-8: a binary body, which is no JSON.
    let r = call().raw_body(vec![0xff, 0xfe, b'{', b'}']).send().await;
    assert_m_error(&r, 400, "INVALID_JSON", "Malformed JSON body");
    // No body at all.
    let r = call().send().await;
    assert_m_error(&r, 400, "INVALID_JSON", "Malformed JSON body");
    // UTF-8 beyond ASCII travels intact.
    let r = call().raw_body(r#"{"name": "Café crème ☕"}"#).send().await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.body["data"]["name"], "Café crème ☕");
    e.server.shut_down().await;
}

#[tokio::test]
async fn bodies_over_64_kib_reach_the_function_and_get_its_413() {
    let e = env().await;
    for size in [
        64 * 1024 + 1,
        200 * 1024,
        local_api::MAX_READ_BYTES,
        4 * local_api::MAX_READ_BYTES,
    ] {
        let body = format!(r#"{{"description": "{}"}}"#, "a".repeat(size));
        let r = e
            .put(&e.contact.id.to_string())
            .bearer(&e.pools_key)
            .header("Content-Type", "application/json")
            .raw_body(body)
            .send()
            .await;
        assert_m_error(&r, 413, "PAYLOAD_TOO_LARGE", "Request body too large");
        let r = e
            .patch(&e.guardrail.id.to_string())
            .bearer(&e.admin_key)
            .header("Content-Type", "application/json")
            .raw_body(format!(r#"{{"name": "{}"}}"#, "a".repeat(size)))
            .send()
            .await;
        assert_a_error(&r, 413, "PAYLOAD_TOO_LARGE", "request body too large");
    }
    let stored = e.store.get_contact_pool(e.org, e.contact.id).await.unwrap();
    assert_eq!(stored, e.contact);
    e.server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_with_one_if_match_get_exactly_one_200() {
    let e = env().await;
    let calls = (0..20).map(|i| {
        let call = e
            .put(&e.contact.id.to_string())
            .bearer(&e.pools_key)
            .if_match(1)
            .json(&json!({ "max_retries": i }));
        tokio::spawn(async move { call.send().await.status })
    });
    let mut statuses = Vec::new();
    for c in calls.collect::<Vec<_>>() {
        statuses.push(c.await.expect("request task"));
    }
    statuses.sort();
    let mut want = vec![412u16; 19];
    want.insert(0, 200);
    assert_eq!(statuses, want);
    let stored = e.store.get_contact_pool(e.org, e.contact.id).await.unwrap();
    assert_eq!(stored.version, 2);
    e.server.shut_down().await;
}

#[tokio::test]
async fn after_shutdown_the_server_returns_and_accepts_no_connection() {
    let e = env().await;
    let addr = e.server.base.trim_start_matches("http://").to_owned();
    let r = e.put(&e.contact.id.to_string()).send().await;
    assert_eq!(r.status, 401);
    e.server.shut_down().await;
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "{addr} still accepts connections"
    );
}
