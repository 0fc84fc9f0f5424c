//! Fresh data for one test: its own organization, keys and pools.

use shared::clock::Timestamp;
use shared::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use shared::domain::contact_pool::{
    ContactPool, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use shared::domain::ids::{BrandId, OrgId, PoolId};
use shared::store::StoreAdmin;
use uuid::Uuid;

pub fn created_at() -> Timestamp {
    Timestamp::parse("2026-01-02T03:04:05Z").expect("valid time")
}

/// A key of the project's shape (`am_live_` + 32 base62 characters).
pub fn new_key() -> String {
    format!("am_live_{}", Uuid::new_v4().simple())
}

/// Stores a key and returns it.
pub async fn key(store: &dyn StoreAdmin, org_id: OrgId, scopes: &[&str]) -> String {
    key_with(store, org_id, scopes, KeyStatus::Active, None).await
}

pub async fn key_with(
    store: &dyn StoreAdmin,
    org_id: OrgId,
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

pub fn contact_pool(org_id: OrgId) -> ContactPool {
    ContactPool {
        id: PoolId::new_v4(),
        org_id,
        name: PoolName::parse("Warm leads").expect("valid name"),
        description: Some(Description::parse("From the autumn campaign").expect("valid")),
        pool_type: PoolType::Fifo,
        max_parallel_items: MaxParallelItems::new(10).expect("valid"),
        max_retries: MaxRetries::new(3).expect("valid"),
        is_active: true,
        contacts_count: 42,
        created_at: created_at(),
        updated_at: created_at(),
        version: 1,
    }
}

pub async fn stored_contact_pool(store: &dyn StoreAdmin, org_id: OrgId) -> ContactPool {
    let p = contact_pool(org_id);
    store.create_contact_pool(&p).await.expect("store the pool");
    p
}

/// A slug no other test uses.
pub fn fresh_slug(prefix: &str) -> String {
    format!("{prefix}-{}", &Uuid::new_v4().simple().to_string()[..12])
}

pub fn guardrail_pool(org_id: OrgId, slug: &str) -> GuardrailPool {
    GuardrailPool {
        id: PoolId::new_v4(),
        org_id,
        brand_id: BrandId::new_v4(),
        name: GuardrailName::parse("Outbound numbers").expect("valid name"),
        slug: Slug::parse(slug).expect("a valid slug"),
        created_at: created_at(),
        updated_at: created_at(),
        version: 1,
    }
}

pub async fn stored_guardrail_pool(
    store: &dyn StoreAdmin,
    org_id: OrgId,
    slug: &str,
) -> GuardrailPool {
    let p = guardrail_pool(org_id, slug);
    store
        .create_guardrail_pool(&p)
        .await
        .expect("store the pool");
    p
}
