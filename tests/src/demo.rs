//! The demo data the example events in `events/` are written against: the project's one demo
//! set, `local_api::demo` (the data `make run` serves and prints), so an event file, the
//! README's curl commands and the keys printed by `make run`, `make run-dynamodb` and
//! `sam local start-api` all name the same organization, keys and pools. The events work
//! unchanged with `sam local invoke -e` (`scripts/sam-local-check.sh`), `cargo lambda invoke
//! --data-file` (`scripts/cargo-lambda-check.sh`), both on DynamoDB Local seeded by
//! `examples/seed_demo.rs`, and the `events` test (in-memory store). Demo keys are public:
//! never seed them into a deployed table.

use local_api::demo as data;
use shared::clock::Timestamp;
use shared::domain::ids::PoolId;
use shared::store::{StoreAdmin, StoreError};
use uuid::uuid;

pub use local_api::demo::{BRAND_ID, KEYS, ORG_ID, OTHER_ORG_ID};

/// The contact pool the events update (`PUT /api/v1/pools/{uuid}`): "Warm leads".
pub const CONTACT_POOL_ID: PoolId = data::WARM_LEADS;
/// The guardrail pool the events update (`PATCH /v1/guardrails/pools/{id}`): "Outbound EU".
pub const GUARDRAIL_POOL_ID: PoolId = data::OUTBOUND_EU;
/// Another guardrail pool of the organization, holding [`TAKEN_SLUG`] (the 409 events).
pub const OTHER_GUARDRAIL_POOL_ID: PoolId = data::OUTBOUND_US;
pub const TAKEN_SLUG: &str = "outbound-us";
/// An id no demo pool has (the 404 events).
pub const UNKNOWN_POOL_ID: PoolId =
    PoolId::from_uuid(uuid!("00000000-0000-4000-8000-000000000404"));

/// Scope `pools:write`: the contact-pool key.
pub const CONTACT_KEY: &str = data::KEY_POOLS_WRITE.key;
/// Scope `org:admin:write`: the guardrail-pool key.
pub const GUARDRAIL_KEY: &str = data::KEY_ORG_ADMIN_WRITE.key;
/// An unknown key (the 401 events): never stored.
pub const UNKNOWN_KEY: &str = "am_live_demoUnknownKey00000000000000000001";

/// The creation time of the seeded pools.
pub fn created_at() -> Timestamp {
    Timestamp::parse("2026-11-20T08:00:00Z").expect("valid time")
}

/// Writes the demo keys and pools ([`local_api::demo::seed`]); what is already there is left
/// as it is.
pub async fn seed(store: &dyn StoreAdmin) -> Result<(), StoreError> {
    data::seed(store, created_at()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unknown_key_and_pool_are_not_demo_data() {
        assert!(KEYS.iter().all(|k| k.key != UNKNOWN_KEY));
        let now = created_at();
        let contact = data::contact_pools(now).expect("valid demo data");
        let guardrail = data::guardrail_pools(now).expect("valid demo data");
        assert!(contact.iter().all(|p| p.id != UNKNOWN_POOL_ID));
        assert!(guardrail.iter().all(|p| p.id != UNKNOWN_POOL_ID));
        assert!(contact
            .iter()
            .any(|p| p.id == CONTACT_POOL_ID && p.org_id == ORG_ID));
        assert!(guardrail
            .iter()
            .any(|p| p.id == GUARDRAIL_POOL_ID && p.org_id == ORG_ID));
        assert!(guardrail
            .iter()
            .any(|p| p.id == OTHER_GUARDRAIL_POOL_ID && p.slug.as_str() == TAKEN_SLUG));
    }
}
