//! Which root certificates the DynamoDB client trusts, through the real binaries and real TLS:
//! a loopback proxy with a certificate from a throwaway CA ([`pool_tests::tls`]) stands in
//! front of DynamoDB Local, and the CA is "the system's roots" (`SSL_CERT_FILE`, with an empty
//! `SSL_CERT_DIR`).
//!
//! - `poolctl` trusts the system's roots by default and with `TLS_ROOTS=system`, and only the
//!   embedded Amazon Trust Services roots with `TLS_ROOTS=amazon`: then the handshake fails,
//!   the command fails naming the certificate problem, and nothing reaches the table.
//! - `local-api` (the functions' `DynamoStore::from_env`) trusts only the Amazon roots by
//!   default: a valid request answers 503 and writes nothing; with `TLS_ROOTS=system` it
//!   answers 200.
//! - Any other `TLS_ROOTS` stops either binary at startup, naming the variable.
//!
//! Each test has its own CA, proxy and data (fresh tables, organizations and pools).

use std::time::{Duration, Instant};

use pool_tests::http_client::HttpCall;
use pool_tests::processes::{run, LocalApi};
use pool_tests::tls::{environment, TestCa, TlsProxy};
use pool_tests::{assert_a_error, assert_m_error, dynamo, seed, Reply};
use serde_json::json;
use shared::domain::ids::{OrgId, PoolId};
use shared::store::dynamodb::DynamoStore;
use shared::store::StoreAdmin;
use uuid::Uuid;

/// The environment that points a binary at `proxy` and makes `ca` the system's only root,
/// plus `TLS_ROOTS` when given.
fn env<'a>(
    ca: &'a TestCa,
    proxy_url: &'a str,
    roots: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    let mut env = vec![
        ("AWS_ENDPOINT_URL_DYNAMODB", proxy_url),
        ("SSL_CERT_FILE", ca.pem_file.to_str().expect("a UTF-8 path")),
        ("SSL_CERT_DIR", ca.empty_dir.to_str().expect("a UTF-8 path")),
    ];
    if let Some(r) = roots {
        env.push(("TLS_ROOTS", r));
    }
    env
}

fn fresh_table(what: &str) -> String {
    format!(
        "{}-tls-{what}-{}",
        dynamo::table_name(),
        &Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Whether `table` exists, asked of DynamoDB Local over plain HTTP.
async fn table_exists(table: &str) -> bool {
    match dynamo::client()
        .describe_table()
        .table_name(table)
        .send()
        .await
    {
        Ok(_) => true,
        Err(e) => {
            let e = e.into_service_error();
            assert!(e.is_resource_not_found_exception(), "{e:?}");
            false
        }
    }
}

async fn drop_table(table: &str) {
    let _ = dynamo::client()
        .delete_table()
        .table_name(table)
        .send()
        .await;
}

/// `poolctl table create` on a fresh table through the proxy, with `roots`; it succeeds, over
/// TLS, and the table is there.
async fn poolctl_creates_a_table_through_tls(roots: Option<&str>) {
    let ca = TestCa::new();
    let proxy = TlsProxy::start(&ca, &dynamo::endpoint());
    let url = proxy.url();
    let table = fresh_table("ok");
    let mut env = env(&ca, &url, roots);
    env.push(("TABLE_NAME", &table));

    let (out, took) = run("poolctl", &["table", "create"], environment(&env));
    eprintln!("poolctl TLS_ROOTS={roots:?}: {:?} in {took:?}", out.status);
    assert_eq!(out.ok()["table"], table.as_str(), "{out:?}");
    assert!(
        proxy.handshakes() >= 1,
        "no TLS handshake through the proxy: {:?}",
        proxy.refused()
    );
    assert!(proxy.refused().is_empty(), "{:?}", proxy.refused());
    assert!(table_exists(&table).await);
    drop_table(&table).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poolctl_with_tls_roots_system_trusts_the_ca_in_ssl_cert_file() {
    pool_tests::require_dynamodb!();
    poolctl_creates_a_table_through_tls(Some("system")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poolctl_trusts_the_system_roots_by_default() {
    pool_tests::require_dynamodb!();
    poolctl_creates_a_table_through_tls(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poolctl_with_tls_roots_amazon_refuses_the_certificate_and_changes_nothing() {
    pool_tests::require_dynamodb!();
    let ca = TestCa::new();
    let proxy = TlsProxy::start(&ca, &dynamo::endpoint());
    let url = proxy.url();
    let table = fresh_table("refused");
    let mut env = env(&ca, &url, Some("amazon"));
    env.push(("TABLE_NAME", &table));

    let (out, took) = run("poolctl", &["table", "create"], environment(&env));
    eprintln!("poolctl TLS_ROOTS=amazon: {:?} in {took:?}", out.status);
    eprintln!("poolctl stderr: {}", out.stderr);
    proxy.settle();
    eprintln!("proxy saw: {:?}", proxy.refused());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert!(
        out.stderr.starts_with("poolctl: error: ") && out.stderr.contains("store unavailable"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("invalid peer certificate: UnknownIssuer"),
        "{out:?}"
    );
    // The client hung up in the handshake, on every attempt; no request got through.
    assert_eq!(proxy.handshakes(), 0);
    assert!(proxy.connections() >= 1);
    let refused = proxy.refused();
    assert_eq!(refused.len(), proxy.connections(), "{refused:?}");
    assert!(
        refused.iter().all(|r| r.contains("UnknownCA")),
        "{refused:?}"
    );
    // Refused within the SDK's 3 s operation timeout (and the process's start and exit).
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(!table_exists(&table).await);
}

/// A key with `pools:write` and `org:admin:write`, a contact pool and a guardrail pool of a
/// fresh organization, on the shared test table over plain HTTP.
struct Seeded {
    org: OrgId,
    key: String,
    contact: PoolId,
    guardrail: PoolId,
}

async fn seed(store: &dyn StoreAdmin) -> Seeded {
    let org = OrgId::new_v4();
    let key = seed::key(store, org, &["pools:write", "org:admin:write"]).await;
    let contact = seed::stored_contact_pool(store, org).await.id;
    let guardrail = seed::stored_guardrail_pool(store, org, &seed::fresh_slug("tls"))
        .await
        .id;
    Seeded {
        org,
        key,
        contact,
        guardrail,
    }
}

impl Seeded {
    /// The stored (version, name) of the contact pool and of the guardrail pool.
    async fn assert_stored(
        &self,
        store: &dyn StoreAdmin,
        contact: (u64, &str),
        guardrail: (u64, &str),
    ) {
        let c = store
            .get_contact_pool(self.org, self.contact)
            .await
            .unwrap();
        assert_eq!((c.version, c.name.as_str()), contact, "contact pool");
        let g = store
            .get_guardrail_pool(self.org, self.guardrail)
            .await
            .unwrap();
        assert_eq!((g.version, g.name.as_str()), guardrail, "guardrail pool");
    }
}

async fn put(base: &str, s: &Seeded, name: &str) -> (Reply, Duration) {
    let started = Instant::now();
    let r = HttpCall::new("PUT", format!("{base}/api/v1/pools/{}", s.contact))
        .bearer(&s.key)
        .json(&json!({"name": name}))
        .send()
        .await;
    (r, started.elapsed())
}

async fn patch(base: &str, s: &Seeded, name: &str) -> (Reply, Duration) {
    let started = Instant::now();
    let r = HttpCall::new(
        "PATCH",
        format!("{base}/v1/guardrails/pools/{}", s.guardrail),
    )
    .bearer(&s.key)
    .json(&json!({"name": name}))
    .send()
    .await;
    (r, started.elapsed())
}

/// Fresh pools on the test table, DynamoDB Local behind a TLS proxy with a fresh CA, and
/// `local-api` on that table through the proxy, with `TLS_ROOTS` when given.
struct Stage {
    store: DynamoStore,
    s: Seeded,
    proxy: TlsProxy,
    api: LocalApi,
    _ca: TestCa,
}

async fn local_api_behind_tls(roots: Option<&str>) -> Stage {
    let store = dynamo::store().await;
    let s = seed(&store).await;
    let ca = TestCa::new();
    let proxy = TlsProxy::start(&ca, &dynamo::endpoint());
    let url = proxy.url();
    let api = LocalApi::start_with(
        Some(&dynamo::table_name()),
        environment(&env(&ca, &url, roots)),
    );
    Stage {
        store,
        s,
        proxy,
        api,
        _ca: ca,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_api_trusts_only_the_amazon_roots_by_default_and_answers_503() {
    pool_tests::require_dynamodb!();
    let Stage {
        store,
        s,
        proxy,
        api,
        _ca,
    } = local_api_behind_tls(None).await;

    let (r, took) = put(&api.base_url, &s, "Refused").await;
    eprintln!("local-api default roots, PUT: {} in {took:?}", r.status);
    assert_m_error(
        &r,
        503,
        "SERVICE_UNAVAILABLE",
        "Service temporarily unavailable",
    );
    assert!(r.header("retry-after").is_some(), "{r:?}");
    let (r, took) = patch(&api.base_url, &s, "Refused").await;
    eprintln!("local-api default roots, PATCH: {} in {took:?}", r.status);
    assert_a_error(&r, 503, "UNAVAILABLE", "service temporarily unavailable");
    assert!(took < Duration::from_secs(5), "{took:?}");

    proxy.settle();
    assert_eq!(proxy.handshakes(), 0, "{:?}", proxy.refused());
    assert!(proxy.connections() >= 1);
    assert!(
        proxy.refused().iter().all(|r| r.contains("UnknownCA")),
        "{:?}",
        proxy.refused()
    );
    eprintln!("local-api stderr: {}", api.stderr());
    // Nothing written.
    s.assert_stored(&store, (1, "Warm leads"), (1, "Outbound numbers"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_api_with_tls_roots_system_trusts_the_ca_in_ssl_cert_file() {
    pool_tests::require_dynamodb!();
    let Stage {
        store,
        s,
        proxy,
        api,
        _ca,
    } = local_api_behind_tls(Some("system")).await;

    let (r, took) = put(&api.base_url, &s, "Through TLS").await;
    eprintln!("local-api TLS_ROOTS=system, PUT: {} in {took:?}", r.status);
    assert_eq!((r.status, r.header("etag")), (200, Some("\"2\"")), "{r:?}");
    assert_eq!(r.body["data"]["name"], "Through TLS");
    let (r, took) = patch(&api.base_url, &s, "Through TLS").await;
    eprintln!(
        "local-api TLS_ROOTS=system, PATCH: {} in {took:?}",
        r.status
    );
    assert_eq!((r.status, r.header("etag")), (200, Some("\"2\"")), "{r:?}");
    assert_eq!(r.body["data"]["name"], "Through TLS");

    assert!(proxy.handshakes() >= 1);
    assert!(proxy.refused().is_empty(), "{:?}", proxy.refused());
    // Read back over plain HTTP.
    s.assert_stored(&store, (2, "Through TLS"), (2, "Through TLS"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_tls_roots_value_stops_both_binaries_at_startup() {
    pool_tests::require_dynamodb!();
    let ca = TestCa::new();
    let proxy = TlsProxy::start(&ca, &dynamo::endpoint());
    let url = proxy.url();
    let table = fresh_table("bogus");
    let mut env = env(&ca, &url, Some("bogus"));
    env.push(("TABLE_NAME", &table));
    let refusal = "TLS_ROOTS=\"bogus\" is not a choice: use \"amazon\" (Amazon Trust Services \
                   roots, embedded) or \"system\" (the system's roots)";

    let (out, _) = run("poolctl", &["table", "create"], environment(&env));
    eprintln!("poolctl TLS_ROOTS=bogus: {:?} {:?}", out.status, out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(out.stderr, format!("poolctl: error: {refusal}\n"));
    assert!(out.stdout.is_empty(), "{out:?}");

    env.push(("PORT", "0"));
    let (out, _) = run("local-api", &[], environment(&env));
    eprintln!(
        "local-api TLS_ROOTS=bogus: {:?} {:?}",
        out.status, out.stderr
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        out.stderr.contains(&format!("local-api: {refusal}\n")),
        "{out:?}"
    );
    assert!(!out.stdout.contains("listening on"), "{out:?}");

    assert_eq!(proxy.connections(), 0);
    assert!(!table_exists(&table).await);
}
