//! Fresh data for one test: its own organization, keys and pools.

use shared::auth::{ApiKeyRecord, KeyHash, KeyStatus};
use shared::clock::Timestamp;
use shared::domain::contact_pool::{ContactPool, PoolType};
use shared::domain::guardrail_pool::GuardrailPool;
use shared::store::Store;
use uuid::Uuid;

pub fn created_at() -> Timestamp {
    Timestamp::parse("2026-01-02T03:04:05Z").expect("valid time")
}

/// A key of the project's shape (`am_live_` + 32 base62 characters).
pub fn new_key() -> String {
    format!("am_live_{}", Uuid::new_v4().simple())
}

/// Stores a key and returns it.
pub async fn key(store: &dyn Store, org_id: Uuid, scopes: &[&str]) -> String {
    key_with(store, org_id, scopes, KeyStatus::Active, None).await
}

pub async fn key_with(
    store: &dyn Store,
    org_id: Uuid,
    scopes: &[&str],
    status: KeyStatus,
    expires_at: Option<Timestamp>,
) -> String {
    let key = new_key();
    let record = ApiKeyRecord {
        key_id: format!("key_{}", Uuid::new_v4().simple()),
        org_id,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        status,
        expires_at,
    };
    store
        .create_api_key(&KeyHash::of(&key), &record)
        .await
        .expect("store the key");
    key
}

pub fn contact_pool(org_id: Uuid) -> ContactPool {
    ContactPool {
        id: Uuid::new_v4(),
        org_id,
        name: "Warm leads".into(),
        description: Some("From the autumn campaign".into()),
        pool_type: PoolType::Fifo,
        max_parallel_items: 10,
        max_retries: 3,
        is_active: true,
        contacts_count: 42,
        created_at: created_at(),
        updated_at: created_at(),
        version: 1,
    }
}

pub async fn stored_contact_pool(store: &dyn Store, org_id: Uuid) -> ContactPool {
    let p = contact_pool(org_id);
    store.create_contact_pool(&p).await.expect("store the pool");
    p
}

/// A slug no other test uses.
pub fn fresh_slug(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..12])
}

pub fn guardrail_pool(org_id: Uuid, slug: &str) -> GuardrailPool {
    GuardrailPool {
        id: Uuid::new_v4(),
        org_id,
        brand_id: Uuid::new_v4(),
        name: "Outbound numbers".into(),
        slug: slug.into(),
        created_at: created_at(),
        updated_at: created_at(),
        version: 1,
    }
}

pub async fn stored_guardrail_pool(store: &dyn Store, org_id: Uuid, slug: &str) -> GuardrailPool {
    let p = guardrail_pool(org_id, slug);
    store
        .create_guardrail_pool(&p)
        .await
        .expect("store the pool");
    p
}
