//! Faults injected at the SDK's HTTP layer (a misbehaving loopback proxy in front of DynamoDB
//! Local), with the deployed client settings (`config_loader`, `https_client`): throttling,
//! 500s, timeouts, dropped and refused connections, cancelled transactions. Each gets the
//! contract's status in the dialect's envelope, and nothing is half-written (read back
//! directly).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{Credentials, Region};
use endpoints::Function;
use pool_tests::contract::{claims_of, problems_of};
use pool_tests::events::{Call, Gateway};
use pool_tests::faults::{Action, FaultProxy, Rule};
use pool_tests::{assert_a_error, assert_m_error, dynamo, seed, Reply};
use serde_json::json;
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::Services;
use shared::store::dynamodb::{config_loader, DynamoStore};
use shared::store::https::{https_client, TrustRoots};
use shared::store::{ContactPools, GuardrailPools};

const ALWAYS: usize = usize::MAX;

struct Env {
    proxy: FaultProxy,
    direct: DynamoStore,
    svc: Services,
    org: OrgId,
    key: String,
}

async fn store_at(endpoint: &str) -> DynamoStore {
    // The deployed HTTPS client too (shared/src/store/https.rs), not the SDK's default one.
    let config = config_loader()
        .http_client(https_client(TrustRoots::Amazon).expect("the HTTPS client"))
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "faults"))
        .load()
        .await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), dynamo::table_name())
}

async fn env() -> Env {
    let direct = dynamo::store().await;
    let proxy = FaultProxy::start(dynamo::endpoint()).await;
    let via_proxy = store_at(&proxy.url).await;
    let org = OrgId::new_v4();
    let key = seed::key(&direct, org, &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE]).await;
    Env {
        proxy,
        direct,
        svc: Services::new(Arc::new(via_proxy)),
        org,
        key,
    }
}

impl Env {
    fn fail(&self, op: &'static str, times: usize, action: Action) {
        self.proxy.add(Rule { op, times, action });
    }

    async fn put(&self, id: PoolId, body: serde_json::Value) -> Reply {
        self.send(Function::UpdateContactPool, id, body).await
    }

    async fn patch(&self, id: PoolId, body: serde_json::Value) -> Reply {
        self.send(Function::PatchGuardrailPool, id, body).await
    }

    async fn send(&self, f: Function, id: PoolId, body: serde_json::Value) -> Reply {
        let call = Call::to(f.route(), &id.to_string())
            .bearer(&self.key)
            .json(&body);
        Reply::from_response(f.handle(call.request(Gateway::HttpV2), &self.svc).await)
    }
}

fn assert_503_m(r: &Reply) {
    assert_m_error(
        r,
        503,
        "SERVICE_UNAVAILABLE",
        "Service temporarily unavailable",
    );
    assert_eq!(r.header("retry-after"), Some("1"));
}

fn assert_503_a(r: &Reply) {
    assert_a_error(r, 503, "UNAVAILABLE", "service temporarily unavailable");
    assert_eq!(r.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn throttled_writes_are_503_and_write_nothing() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_contact_pool(&e.direct, e.org).await;
    for error_type in [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ] {
        e.proxy.clear();
        e.fail("UpdateItem", ALWAYS, Action::error(400, error_type));
        let r = e.put(pool.id, json!({"name": "Throttled"})).await;
        assert_503_m(&r);
        assert_eq!(
            e.direct.get_contact_pool(e.org, pool.id).await.unwrap(),
            pool,
            "{error_type}"
        );
    }
}

#[tokio::test]
async fn a_throttled_key_lookup_is_503() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("t")).await;
    e.fail("GetItem", ALWAYS, Action::error(400, "ThrottlingException"));
    assert_503_a(&e.patch(pool.id, json!({"name": "x"})).await);
    e.proxy.clear();
    assert_eq!(e.patch(pool.id, json!({"name": "x"})).await.status, 200);
}

#[tokio::test]
async fn server_errors_after_retries_are_503_and_a_transient_one_is_absorbed() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("s")).await;
    e.fail(
        "TransactWriteItems",
        ALWAYS,
        Action::error(500, "InternalServerError"),
    );
    assert_503_a(
        &e.patch(pool.id, json!({"slug": seed::fresh_slug("never")}))
            .await,
    );
    assert_eq!(
        e.direct.get_guardrail_pool(e.org, pool.id).await.unwrap(),
        pool
    );
    assert_eq!(
        claims_of(&e.direct, e.org).await,
        vec![(pool.slug.to_string(), pool.id)]
    );
    // One 500, then DynamoDB answers: the SDK's own retry absorbs it.
    e.proxy.clear();
    e.fail(
        "TransactWriteItems",
        1,
        Action::error(500, "InternalServerError"),
    );
    let slug = seed::fresh_slug("later");
    let r = e.patch(pool.id, json!({"slug": slug})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(claims_of(&e.direct, e.org).await, vec![(slug, pool.id)]);
}

#[tokio::test]
async fn a_hung_store_is_503_well_within_the_function_timeout() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_contact_pool(&e.direct, e.org).await;
    e.fail("UpdateItem", ALWAYS, Action::Hang);
    let started = Instant::now();
    let r = e.put(pool.id, json!({"name": "Hung"})).await;
    assert_503_m(&r);
    // The SDK's operation timeout (3 s) answers long before Lambda's 10 s would cut it off.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        e.direct.get_contact_pool(e.org, pool.id).await.unwrap(),
        pool
    );
}

#[tokio::test]
async fn dropped_connections_are_503_and_write_nothing() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let a = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("d")).await;
    e.fail("TransactWriteItems", ALWAYS, Action::Drop);
    assert_503_a(
        &e.patch(
            a.id,
            json!({"slug": seed::fresh_slug("gone"), "name": "No"}),
        )
        .await,
    );
    assert_eq!(e.direct.get_guardrail_pool(e.org, a.id).await.unwrap(), a);
    assert!(problems_of(&e.direct, e.org).await.is_empty());
}

#[tokio::test]
async fn a_refused_connection_is_503() {
    pool_tests::require_dynamodb!();
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let store = store_at(&format!("http://127.0.0.1:{port}")).await;
    let svc = Services::new(Arc::new(store));
    let f = Function::UpdateContactPool;
    let call = Call::to(f.route(), &PoolId::new_v4().to_string())
        .bearer(&seed::new_key())
        .json(&json!({}));
    let r = Reply::from_response(f.handle(call.request(Gateway::HttpV2), &svc).await);
    assert_503_m(&r);
}

#[tokio::test]
async fn transaction_conflicts_are_retried_and_persistent_ones_are_409() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("c")).await;
    let conflict = Action::cancelled(&["None", "TransactionConflict", "None"]);
    e.fail("TransactWriteItems", 2, conflict.clone());
    let slug = seed::fresh_slug("after-retry");
    let r = e.patch(pool.id, json!({"slug": slug})).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        claims_of(&e.direct, e.org).await,
        vec![(slug.clone(), pool.id)]
    );
    let moved = e.direct.get_guardrail_pool(e.org, pool.id).await.unwrap();
    e.proxy.clear();
    e.fail("TransactWriteItems", ALWAYS, conflict);
    let r = e
        .patch(pool.id, json!({"slug": seed::fresh_slug("never")}))
        .await;
    assert_a_error(&r, 409, "CONFLICT", "pool was modified concurrently; retry");
    assert_eq!(
        e.direct.get_guardrail_pool(e.org, pool.id).await.unwrap(),
        moved
    );
    assert!(problems_of(&e.direct, e.org).await.is_empty());
}

/// API.md §1: throttling inside a cancelled transaction is throttling (503 with `Retry-After`,
/// at once, not after the contention retries), and a validation error is a 500; neither is
/// tried again, and nothing is written.
#[tokio::test]
async fn a_throttled_or_invalid_transaction_is_503_or_500_not_409() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("x")).await;
    for (codes, status) in [
        (["None", "ThrottlingError", "None"], 503),
        (["ProvisionedThroughputExceeded", "None", "None"], 503),
        (["None", "None", "ValidationError"], 500),
    ] {
        e.proxy.clear();
        e.fail("TransactWriteItems", ALWAYS, Action::cancelled(&codes));
        let before = e.proxy.count("TransactWriteItems");
        let r = e
            .patch(pool.id, json!({"slug": seed::fresh_slug("never")}))
            .await;
        if status == 503 {
            assert_503_a(&r);
        } else {
            assert_a_error(&r, 500, "INTERNAL", "internal error");
        }
        assert_eq!(
            e.proxy.count("TransactWriteItems") - before,
            1,
            "{codes:?}: tried once"
        );
        assert_eq!(
            e.direct.get_guardrail_pool(e.org, pool.id).await.unwrap(),
            pool
        );
        assert!(problems_of(&e.direct, e.org).await.is_empty());
    }
}

#[tokio::test]
async fn an_update_item_conflict_is_409_in_dialect_m() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_contact_pool(&e.direct, e.org).await;
    e.fail(
        "UpdateItem",
        ALWAYS,
        Action::error(400, "TransactionConflictException"),
    );
    let r = e.put(pool.id, json!({"name": "Busy"})).await;
    assert_m_error(&r, 409, "CONFLICT", "Pool was modified concurrently; retry");
    assert_eq!(
        e.direct.get_contact_pool(e.org, pool.id).await.unwrap(),
        pool
    );
}

#[tokio::test]
async fn an_unexpected_error_is_500_without_detail() {
    pool_tests::require_dynamodb!();
    let e = env().await;
    let pool = seed::stored_contact_pool(&e.direct, e.org).await;
    e.fail(
        "UpdateItem",
        ALWAYS,
        Action::error(400, "ValidationException"),
    );
    let r = e.put(pool.id, json!({"name": "Invalid"})).await;
    assert_m_error(&r, 500, "INTERNAL_ERROR", "Internal server error");
    assert!(!r.body.to_string().contains("ValidationException"));
    assert_eq!(
        e.direct.get_contact_pool(e.org, pool.id).await.unwrap(),
        pool
    );
}
