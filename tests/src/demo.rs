//! The demo data the example events in `events/` are written against: fixed ids and fixed demo
//! keys, so an event file works unchanged with `sam local invoke -e`, `cargo lambda invoke
//! --data-file`, the `events` test (in-memory store) and `scripts/cargo-lambda-check.sh`
//! (DynamoDB Local, seeded by `examples/seed_demo.rs`). Demo keys are public: never seed them
//! into a deployed table.

use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::Timestamp;
use shared::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use shared::domain::contact_pool::ContactPool;
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use shared::domain::ids::{BrandId, OrgId, PoolId};
use shared::store::{StoreAdmin, StoreError};
use uuid::uuid;

use crate::seed;

/// The organization every demo key and pool belongs to.
pub const ORG_ID: OrgId = OrgId::from_uuid(uuid!("5b0c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d"));
/// A contact pool (`PUT /api/v1/pools/{uuid}`).
pub const CONTACT_POOL_ID: PoolId =
    PoolId::from_uuid(uuid!("3c90c3cc-0d44-4b50-8888-8dd25736052a"));
/// A guardrail pool (`PATCH /v1/guardrails/pools/{id}`), slug [`GUARDRAIL_SLUG`].
pub const GUARDRAIL_POOL_ID: PoolId =
    PoolId::from_uuid(uuid!("7d444840-9dc0-41d1-b245-5ffdce74fad2"));
pub const GUARDRAIL_SLUG: &str = "outbound";
/// A second guardrail pool of the organization, holding [`TAKEN_SLUG`] (the 409 events).
pub const OTHER_GUARDRAIL_POOL_ID: PoolId =
    PoolId::from_uuid(uuid!("2b1a0f9e-8d7c-46b5-a4f3-e2d1c0b9a8f7"));
pub const TAKEN_SLUG: &str = "outbound-us";
pub const BRAND_ID: BrandId = BrandId::from_uuid(uuid!("e1f2a3b4-c5d6-47e8-99a0-b1c2d3e4f5a6"));
/// An id no demo pool has (the 404 events).
pub const UNKNOWN_POOL_ID: PoolId =
    PoolId::from_uuid(uuid!("00000000-0000-4000-8000-000000000404"));

/// Scope `pools:write`: the contact-pool key.
pub const CONTACT_KEY: &str = "am_live_demoContactPoolsWrite0000000000001";
/// Scope `org:admin:write`: the guardrail-pool key.
pub const GUARDRAIL_KEY: &str = "am_live_demoGuardrailOrgAdminWrite00000001";
/// An unknown key (the 401 events): never stored.
pub const UNKNOWN_KEY: &str = "am_live_demoUnknownKey00000000000000000001";

/// The demo keys: (key, key id, scopes).
pub const KEYS: [(&str, &str, &str); 2] = [
    (CONTACT_KEY, "key_demo_contact", SCOPE_POOLS_WRITE),
    (GUARDRAIL_KEY, "key_demo_guardrail", SCOPE_ORG_ADMIN_WRITE),
];

fn created_at() -> Timestamp {
    Timestamp::parse("2026-11-20T08:00:00Z").expect("valid time")
}

/// The tests' contact pool ([`seed::contact_pool`]) with the demo id, organization and times.
pub fn contact_pool() -> ContactPool {
    ContactPool {
        id: CONTACT_POOL_ID,
        created_at: created_at(),
        updated_at: created_at(),
        ..seed::contact_pool(ORG_ID)
    }
}

pub fn guardrail_pools() -> [GuardrailPool; 2] {
    let pool = |id, name: &str, slug: &str| GuardrailPool {
        id,
        org_id: ORG_ID,
        brand_id: BRAND_ID,
        name: GuardrailName::parse(name).expect("valid name"),
        slug: Slug::parse(slug).expect("valid slug"),
        created_at: created_at(),
        updated_at: created_at(),
        version: 1,
    };
    [
        pool(GUARDRAIL_POOL_ID, "Outbound numbers", GUARDRAIL_SLUG),
        pool(OTHER_GUARDRAIL_POOL_ID, "Outbound numbers (US)", TAKEN_SLUG),
    ]
}

/// Writes exactly the demo keys and pools; what is already there is left as it is.
pub async fn seed(store: &dyn StoreAdmin) -> Result<(), StoreError> {
    for (key, key_id, scope) in KEYS {
        let record = ApiKeyRecord {
            key_id: key_id.into(),
            org_id: ORG_ID,
            scopes: [scope.to_owned()].into(),
            status: KeyStatus::Active,
            expires_at: None,
        };
        tolerate_existing(store.create_api_key(&KeyHash::of(key), &record).await)?;
    }
    tolerate_existing(store.create_contact_pool(&contact_pool()).await)?;
    for p in guardrail_pools() {
        match store.create_guardrail_pool(&p).await {
            // Seeded before: the pool holds its own slug.
            Err(StoreError::SlugTaken) => {}
            other => tolerate_existing(other)?,
        }
    }
    Ok(())
}

fn tolerate_existing(r: Result<(), StoreError>) -> Result<(), StoreError> {
    match r {
        Err(StoreError::AlreadyExists) => Ok(()),
        other => other,
    }
}
