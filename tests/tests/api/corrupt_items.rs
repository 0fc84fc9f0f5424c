//! Items the table holds but this code did not write (or no longer reads), planted with the raw
//! SDK client on DynamoDB Local: an unreadable API-key record refuses its key (401, and a log
//! line), and another organization's unreadable pool is as missing as any other of its pools
//! (404, the organization is compared before anything else is decoded). The caller's own
//! unreadable pool stays a 500: that one is ours to repair.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use pool_tests::events::{Call, Gateway};
use pool_tests::{assert_a_error, assert_m_error, dynamo, endpoint, seed, Reply};
use serde_json::json;
use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::domain::api_key::KeyHash;
use shared::domain::ids::{OrgId, PoolId};
use shared::pipeline::{Route, Services};
use shared::store::dynamodb::keys;
use shared::store::ContactPools;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

async fn plant(item: HashMap<String, AttributeValue>) {
    dynamo::client()
        .put_item()
        .table_name(dynamo::table_name())
        .set_item(Some(item))
        .send()
        .await
        .expect("plant an item");
}

/// A pool item of `org_id` with only its key, kind, id and organization: no name, no version.
fn broken_pool(
    pk: String,
    kind: &str,
    id: PoolId,
    org_id: OrgId,
) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(pk)),
        ("kind".to_owned(), s(kind)),
        ("id".to_owned(), s(id.to_string())),
        ("org_id".to_owned(), s(org_id.to_string())),
        ("name".to_owned(), AttributeValue::N("7".into())),
    ])
}

async fn send(
    svc: &Services,
    route: &Route,
    id: PoolId,
    key: &str,
    body: serde_json::Value,
) -> Reply {
    let req = Call::to(route, &id.to_string())
        .bearer(key)
        .json(&body)
        .request(Gateway::HttpV2);
    Reply::from_response(endpoint::handle(route, req, svc).await)
}

#[tokio::test]
async fn an_unreadable_key_record_is_refused_like_an_unknown_key() {
    pool_tests::require_dynamodb!();
    let store = dynamo::store().await;
    let org = OrgId::new_v4();
    let pool = seed::stored_contact_pool(&store, org).await;
    let key = seed::new_key();
    plant(HashMap::from([
        (
            "pk".to_owned(),
            s(keys::api_key(KeyHash::of(&key).expose())),
        ),
        ("kind".to_owned(), s("api_key")),
        ("key_id".to_owned(), s("key_unreadable")),
        ("org_id".to_owned(), s(org.to_string())),
        (
            "scopes".to_owned(),
            AttributeValue::L(vec![s(SCOPE_POOLS_WRITE)]),
        ),
        ("status".to_owned(), s("paused")),
    ]))
    .await;
    let svc = Services::new(Arc::new(store.clone()));
    let r = send(
        &svc,
        &update_contact_pool::ROUTE,
        pool.id,
        &key,
        json!({"max_retries": 1}),
    )
    .await;
    assert_m_error(
        &r,
        401,
        "INVALID_AUTH_TOKEN",
        "Invalid authentication token",
    );
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    assert_eq!(store.get_contact_pool(org, pool.id).await.unwrap(), pool);
}

#[tokio::test]
async fn another_organizations_unreadable_pool_is_not_found() {
    pool_tests::require_dynamodb!();
    let store = dynamo::store().await;
    let org = OrgId::new_v4();
    let key = seed::key(&store, org, &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE]).await;
    let (contact, guardrail) = (PoolId::new_v4(), PoolId::new_v4());
    let other = OrgId::new_v4();
    plant(broken_pool(
        keys::contact_pool(contact),
        "contact_pool",
        contact,
        other,
    ))
    .await;
    plant(broken_pool(
        keys::guardrail_pool(guardrail),
        "guardrail_pool",
        guardrail,
        other,
    ))
    .await;
    let svc = Services::new(Arc::new(store));
    for body in [json!({}), json!({"max_retries": 1})] {
        let r = send(&svc, &update_contact_pool::ROUTE, contact, &key, body).await;
        assert_m_error(&r, 404, "NOT_FOUND", "Pool not found");
    }
    for body in [
        json!({}),
        json!({"name": "x"}),
        json!({"slug": "taken-over"}),
    ] {
        let r = send(&svc, &patch_guardrail_pool::ROUTE, guardrail, &key, body).await;
        assert_a_error(&r, 404, "NOT_FOUND", "not found");
    }
}

#[tokio::test]
async fn the_callers_own_unreadable_pool_is_a_500_without_detail() {
    pool_tests::require_dynamodb!();
    let store = dynamo::store().await;
    let org = OrgId::new_v4();
    let key = seed::key(&store, org, &[SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE]).await;
    let (contact, guardrail) = (PoolId::new_v4(), PoolId::new_v4());
    plant(broken_pool(
        keys::contact_pool(contact),
        "contact_pool",
        contact,
        org,
    ))
    .await;
    plant(broken_pool(
        keys::guardrail_pool(guardrail),
        "guardrail_pool",
        guardrail,
        org,
    ))
    .await;
    let svc = Services::new(Arc::new(store));
    let r = send(&svc, &update_contact_pool::ROUTE, contact, &key, json!({})).await;
    assert_m_error(&r, 500, "INTERNAL_ERROR", "Internal server error");
    let r = send(
        &svc,
        &patch_guardrail_pool::ROUTE,
        guardrail,
        &key,
        json!({"slug": "mine"}),
    )
    .await;
    assert_a_error(&r, 500, "INTERNAL", "internal error");
}
