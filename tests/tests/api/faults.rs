//! Faults injected at the SDK's HTTP layer (a misbehaving loopback proxy in front of DynamoDB
//! Local), with the deployed client settings (`config_loader`, `https_client`): throttling,
//! 500s, timeouts, dropped and refused connections, cancelled transactions. Each gets the
//! contract's status in the dialect's envelope, and nothing is half-written (read back
//! directly). A write whose answer is lost after DynamoDB applied it (the SDK retries it) is
//! applied once: 200, the version up by exactly one.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{Credentials, Region};
use endpoints::Function;
use pool_tests::contract::{claims_of, problems_of};
use pool_tests::events::{Call, Gateway};
use pool_tests::faults::{Action, FaultProxy, Rule};
use pool_tests::{assert_a_error, assert_m_error, dynamo, seed, Reply};
use serde_json::json;
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::{Clock, SystemClock};
use shared::domain::contact_pool::{ContactPool, ContactPoolPatch, MaxRetries, PoolName};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::Services;
use shared::store::dynamodb::{config_loader, DynamoStore, MAX_ATTEMPTS};
use shared::store::https::{https_client, TrustRoots};
use shared::store::{ContactPools, GuardrailPools, Precondition};

const ALWAYS: usize = usize::MAX;

struct Env {
    proxy: FaultProxy,
    direct: DynamoStore,
    svc: Services,
    org: OrgId,
    key: String,
}

async fn store_at(endpoint: &str) -> DynamoStore {
    store_with(config_loader(), endpoint).await
}

async fn store_with(loader: aws_config::ConfigLoader, endpoint: &str) -> DynamoStore {
    // The deployed HTTPS client too (shared/src/store/https.rs), not the SDK's default one.
    let config = loader
        .http_client(https_client(TrustRoots::Amazon).expect("the HTTPS client"))
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "faults"))
        .load()
        .await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), dynamo::table_name())
}

async fn env() -> Env {
    env_with(config_loader()).await
}

/// [`env`] with the SDK's retry backoff pinned short. After a timed-out 2 s attempt the deployed
/// backoff (up to 1 s at random) leaves the retry anywhere from all to none of the 3 s
/// operation's last second; the lost-answer tests assert what the retry does, not that chance.
async fn env_with_a_short_backoff() -> Env {
    let retry = RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(20));
    env_with(config_loader().retry_config(retry)).await
}

async fn env_with(loader: aws_config::ConfigLoader) -> Env {
    let direct = dynamo::store().await;
    let proxy = FaultProxy::start(dynamo::endpoint()).await;
    let via_proxy = store_with(loader, &proxy.url).await;
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
        self.send_if_match(f, id, body, None).await
    }

    async fn send_if_match(
        &self,
        f: Function,
        id: PoolId,
        body: serde_json::Value,
        if_match: Option<u64>,
    ) -> Reply {
        let mut call = Call::to(f.route(), &id.to_string())
            .bearer(&self.key)
            .json(&body);
        if let Some(v) = if_match {
            call = call.header("If-Match", &format!("\"{v}\""));
        }
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

// ---- answers lost after the write was applied ----------------------------------------------

/// The ways an applied write's answer is lost: the connection dropped, or no answer before the
/// SDK's attempt timeout. Either way the SDK sends the same request again.
const LOST_ANSWERS: [Action; 2] = [Action::ForwardThenDrop, Action::ForwardThenHang];

/// A contact update whose first `UpdateItem` answer is lost: 200, applied once.
async fn contact_update_with_a_lost_answer(if_match: bool) {
    for lost in LOST_ANSWERS {
        let e = env_with_a_short_backoff().await;
        let before = seed::stored_contact_pool(&e.direct, e.org).await;
        e.fail("UpdateItem", 1, lost.clone());
        let r = e
            .send_if_match(
                Function::UpdateContactPool,
                before.id,
                json!({"name": "Applied once", "max_retries": 5}),
                if_match.then_some(before.version),
            )
            .await;
        assert_eq!(r.status, 200, "{lost:?}: {r:?}");
        let after = e.direct.get_contact_pool(e.org, before.id).await.unwrap();
        assert_eq!(after.version, before.version + 1, "{lost:?}");
        assert_eq!(r.version(), after.version, "{lost:?}");
        assert_eq!(r.body["data"]["name"], "Applied once", "{lost:?}");
        assert_eq!(
            after,
            ContactPool {
                name: PoolName::parse("Applied once").unwrap(),
                max_retries: MaxRetries::new(5).unwrap(),
                updated_at: after.updated_at,
                version: before.version + 1,
                ..before
            },
            "{lost:?}"
        );
    }
}

#[tokio::test]
async fn a_contact_update_whose_answer_was_lost_is_applied_once() {
    pool_tests::require_dynamodb!();
    contact_update_with_a_lost_answer(false).await;
}

#[tokio::test]
async fn a_contact_update_with_if_match_whose_answer_was_lost_is_applied_once() {
    pool_tests::require_dynamodb!();
    contact_update_with_a_lost_answer(true).await;
}

#[tokio::test]
async fn a_guardrail_rename_whose_answer_was_lost_is_applied_once() {
    pool_tests::require_dynamodb!();
    for lost in LOST_ANSWERS {
        let e = env_with_a_short_backoff().await;
        let before = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("r")).await;
        e.fail("UpdateItem", 1, lost.clone());
        let r = e.patch(before.id, json!({"name": "Renamed once"})).await;
        assert_eq!(r.status, 200, "{lost:?}: {r:?}");
        let after = e.direct.get_guardrail_pool(e.org, before.id).await.unwrap();
        assert_eq!(r.version(), before.version + 1, "{lost:?}");
        assert_eq!(
            after,
            GuardrailPool {
                name: GuardrailName::parse("Renamed once").unwrap(),
                updated_at: after.updated_at,
                version: before.version + 1,
                ..before.clone()
            },
            "{lost:?}"
        );
        assert_eq!(
            claims_of(&e.direct, e.org).await,
            vec![(before.slug.to_string(), before.id)]
        );
    }
}

#[tokio::test]
async fn a_guardrail_slug_change_whose_answer_was_lost_is_applied_once() {
    pool_tests::require_dynamodb!();
    for lost in LOST_ANSWERS {
        let e = env_with_a_short_backoff().await;
        let before = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("s")).await;
        e.fail("TransactWriteItems", 1, lost.clone());
        let slug = seed::fresh_slug("moved");
        let r = e.patch(before.id, json!({"slug": slug})).await;
        assert_eq!(r.status, 200, "{lost:?}: {r:?}");
        let after = e.direct.get_guardrail_pool(e.org, before.id).await.unwrap();
        assert_eq!(r.version(), before.version + 1, "{lost:?}");
        assert_eq!(
            after,
            GuardrailPool {
                slug: Slug::parse(&slug).unwrap(),
                updated_at: after.updated_at,
                version: before.version + 1,
                ..before.clone()
            },
            "{lost:?}"
        );
        assert_eq!(claims_of(&e.direct, e.org).await, vec![(slug, before.id)]);
        assert!(problems_of(&e.direct, e.org).await.is_empty(), "{lost:?}");
    }
}

#[tokio::test]
async fn a_rename_with_the_same_slug_whose_answer_was_lost_is_applied_once() {
    pool_tests::require_dynamodb!();
    for lost in LOST_ANSWERS {
        let e = env_with_a_short_backoff().await;
        let before = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("r")).await;
        e.fail("UpdateItem", 1, lost.clone());
        let body = json!({"name": "Renamed once", "slug": before.slug.as_str()});
        let r = e.patch(before.id, body).await;
        assert_eq!(r.status, 200, "{lost:?}: {r:?}");
        let after = e.direct.get_guardrail_pool(e.org, before.id).await.unwrap();
        assert_eq!(r.version(), before.version + 1, "{lost:?}");
        assert_eq!(after.version, before.version + 1, "{lost:?}");
        assert_eq!(after.name.as_str(), "Renamed once", "{lost:?}");
        assert_eq!(
            claims_of(&e.direct, e.org).await,
            vec![(before.slug.to_string(), before.id)]
        );
    }
}

/// Another write lands between the lost answer and the SDK's retry: the retry finds its own
/// write applied and answers the pool as it is, with both changes (DESIGN.md, "Applied at most
/// once").
#[tokio::test]
async fn a_retried_update_after_another_write_answers_the_pool_as_it_is() {
    pool_tests::require_dynamodb!();
    let e = env_with_a_short_backoff().await;
    let before = seed::stored_contact_pool(&e.direct, e.org).await;
    e.fail("UpdateItem", 1, Action::ForwardThenHang);
    let other = async {
        // Well after the first attempt, well before its 2 s attempt timeout.
        tokio::time::sleep(Duration::from_millis(700)).await;
        let patch = ContactPoolPatch {
            max_retries: Some(MaxRetries::new(7).unwrap()),
            ..ContactPoolPatch::default()
        };
        e.direct
            .update_contact_pool(
                e.org,
                before.id,
                &patch,
                &Precondition::Any,
                SystemClock.now(),
            )
            .await
            .unwrap()
    };
    let (r, other) = tokio::join!(e.put(before.id, json!({"name": "Mine"})), other);
    assert_eq!(
        other.version,
        before.version + 2,
        "the other write came second"
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.version(), before.version + 2);
    assert_eq!(r.body["data"]["name"], "Mine");
    assert_eq!(r.body["data"]["max_retries"], 7);
    let after = e.direct.get_contact_pool(e.org, before.id).await.unwrap();
    assert_eq!(after, other);
}

/// API.md §5: a client that lost the answer (here: DynamoDB applied the change, and every
/// answer, the SDK's retries' included, was lost, so the client got a 503) sends the request
/// again with its `Idempotency-Key` and gets the first answer: 200, the version up by exactly
/// one, `Idempotent-Replayed: true`; and the record and the change agree.
#[tokio::test]
async fn a_client_retry_with_its_key_after_a_lost_answer_gets_the_first_answer() {
    pool_tests::require_dynamodb!();
    let e = env_with_a_short_backoff().await;
    for f in Function::ALL {
        let (id, before, body) = match f {
            Function::UpdateContactPool => {
                let p = seed::stored_contact_pool(&e.direct, e.org).await;
                (p.id, p.version, json!({"max_retries": 11}))
            }
            Function::PatchGuardrailPool => {
                let p = seed::stored_guardrail_pool(&e.direct, e.org, &seed::fresh_slug("l")).await;
                (
                    p.id,
                    p.version,
                    json!({"slug": seed::fresh_slug("after-loss")}),
                )
            }
        };
        let key = format!("lost-{}", uuid::Uuid::new_v4());
        let call = || {
            Call::to(f.route(), &id.to_string())
                .bearer(&e.key)
                .header("Idempotency-Key", &key)
                .json(&body)
        };
        e.proxy.clear();
        e.fail("TransactWriteItems", ALWAYS, Action::ForwardThenDrop);
        let lost = Reply::from_response(f.handle(call().request(Gateway::HttpV2), &e.svc).await);
        assert_eq!(lost.status, 503, "{f:?}: {lost:?}");
        e.proxy.clear();
        let retry = Reply::from_response(f.handle(call().request(Gateway::HttpV2), &e.svc).await);
        assert_eq!(retry.status, 200, "{f:?}: {retry:?}");
        assert_eq!(retry.header("idempotent-replayed"), Some("true"), "{f:?}");
        assert_eq!(retry.version(), before + 1, "{f:?}");
        let stored_version = match f {
            Function::UpdateContactPool => {
                e.direct.get_contact_pool(e.org, id).await.unwrap().version
            }
            Function::PatchGuardrailPool => {
                e.direct
                    .get_guardrail_pool(e.org, id)
                    .await
                    .unwrap()
                    .version
            }
        };
        assert_eq!(stored_version, before + 1, "{f:?}: applied exactly once");
        assert!(problems_of(&e.direct, e.org).await.is_empty());
    }
}
