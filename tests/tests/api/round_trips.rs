//! The fewest DynamoDB round trips per request, counted by the adapter: contact-pool update 1,
//! guardrail rename 1, guardrail slug change 2 (read + transaction), `{}` 1; plus 1 for auth
//! only on an auth-cache miss.

use std::sync::Arc;

use pool_tests::events::{Call, Gateway};
use pool_tests::{dynamo, endpoint, seed, Reply};
use serde_json::{json, Value};
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::auth_cache::AuthCache;
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::{Route, Services};
use shared::store::dynamodb::DynamoStore;
use shared::store::GuardrailPools;

struct Counted {
    store: DynamoStore,
    svc: Services,
    key: String,
    org: OrgId,
}

async fn counted(cache: AuthCache) -> Counted {
    let store = dynamo::store().await;
    let org = OrgId::new_v4();
    let key = seed::key(&store, org, &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE]).await;
    let svc = Services::new(Arc::new(store.clone())).with_auth_cache(cache);
    Counted {
        store,
        svc,
        key,
        org,
    }
}

impl Counted {
    /// Sends one request and returns its status and how many calls it cost.
    async fn cost(&self, route: &Route, id: &str, body: Value) -> (u16, u64) {
        let before = self.store.calls();
        let req = Call::to(route, id)
            .bearer(&self.key)
            .json(&body)
            .request(Gateway::HttpV2);
        let resp = endpoint::handle(route, req, &self.svc).await;
        (
            Reply::from_response(resp).status,
            self.store.calls() - before,
        )
    }
}

#[tokio::test]
async fn contact_pool_requests_cost_one_call_plus_one_on_an_auth_miss() {
    pool_tests::require_dynamodb!();
    let c = counted(AuthCache::new(30, 16)).await;
    let pool = seed::stored_contact_pool(&c.store, c.org)
        .await
        .id
        .to_string();
    let route = &update_contact_pool::ROUTE;
    assert_eq!(
        c.cost(route, &pool, json!({"name": "First"})).await,
        (200, 2),
        "auth miss"
    );
    assert_eq!(
        c.cost(route, &pool, json!({"name": "Second"})).await,
        (200, 1)
    );
    assert_eq!(c.cost(route, &pool, json!({})).await, (200, 1));
    assert_eq!(
        c.cost(
            route,
            &PoolId::new_v4().to_string(),
            json!({"is_active": false})
        )
        .await,
        (404, 1)
    );
    assert_eq!(c.cost(route, "not-a-uuid", json!({})).await, (404, 0));
    assert_eq!(c.cost(route, &pool, json!({"name": 1})).await, (422, 0));
}

#[tokio::test]
async fn guardrail_requests_cost_one_or_two_calls() {
    pool_tests::require_dynamodb!();
    let c = counted(AuthCache::new(30, 16)).await;
    let pool = seed::stored_guardrail_pool(&c.store, c.org, &seed::fresh_slug("rt")).await;
    let id = pool.id.to_string();
    let route = &patch_guardrail_pool::ROUTE;
    assert_eq!(
        c.cost(route, &id, json!({"name": "Rename"})).await,
        (200, 2),
        "auth miss"
    );
    assert_eq!(
        c.cost(route, &id, json!({"name": "Rename again"})).await,
        (200, 1)
    );
    assert_eq!(
        c.cost(route, &id, json!({"slug": seed::fresh_slug("moved")}))
            .await,
        (200, 2)
    );
    assert_eq!(c.cost(route, &id, json!({})).await, (200, 1));
    let slug = c
        .store
        .get_guardrail_pool(c.org, pool.id)
        .await
        .unwrap()
        .slug;
    assert_eq!(
        c.cost(route, &id, json!({"slug": slug})).await,
        (200, 1),
        "same slug: a read only"
    );
}

#[tokio::test]
async fn without_the_cache_every_request_looks_its_key_up() {
    pool_tests::require_dynamodb!();
    let c = counted(AuthCache::disabled()).await;
    let pool = seed::stored_contact_pool(&c.store, c.org)
        .await
        .id
        .to_string();
    for name in ["One", "Two", "Three"] {
        assert_eq!(
            c.cost(&update_contact_pool::ROUTE, &pool, json!({ "name": name }))
                .await,
            (200, 2)
        );
    }
}

#[tokio::test]
async fn unknown_keys_are_never_cached() {
    pool_tests::require_dynamodb!();
    let mut c = counted(AuthCache::new(30, 16)).await;
    let pool = seed::stored_contact_pool(&c.store, c.org)
        .await
        .id
        .to_string();
    c.key = seed::new_key();
    for _ in 0..2 {
        assert_eq!(
            c.cost(&update_contact_pool::ROUTE, &pool, json!({})).await,
            (401, 1)
        );
    }
}
