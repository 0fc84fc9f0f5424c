//! Data for one benchmark run: its own organization, a key with both scopes, and pools.

use shared::auth::{SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::{Clock, SystemClock, Timestamp};
use shared::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use shared::domain::contact_pool::{
    ContactPool, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use shared::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use shared::domain::ids::{BrandId, OrgId, PoolId};
use shared::store::{Store, StoreAdmin, StoreError};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Seeded {
    pub org: OrgId,
    pub key: String,
    pub contact_pools: Vec<PoolId>,
    pub guardrail_pools: Vec<PoolId>,
}

/// A seeded value the API's own checks refused: a bug in this file.
fn checked<T>(r: Result<T, String>) -> Result<T, StoreError> {
    r.map_err(|m| StoreError::Internal(format!("bench seed: {m}").into()))
}

fn created_at() -> Timestamp {
    SystemClock.now()
}

/// Stores a key and `pools` pools of each kind for a fresh organization.
pub async fn seed(store: &dyn StoreAdmin, pools: usize) -> Result<Seeded, StoreError> {
    let org = OrgId::new_v4();
    let key = format!("am_live_{}", Uuid::new_v4().simple());
    let record = ApiKeyRecord {
        key_id: format!("key_{}", Uuid::new_v4().simple()),
        org_id: org,
        scopes: [SCOPE_POOLS_WRITE, SCOPE_ORG_ADMIN_WRITE]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        status: KeyStatus::Active,
        expires_at: None,
    };
    store.create_api_key(&KeyHash::of(&key), &record).await?;
    let mut seeded = Seeded {
        org,
        key,
        contact_pools: Vec::new(),
        guardrail_pools: Vec::new(),
    };
    for i in 0..pools {
        let pool = ContactPool {
            id: PoolId::new_v4(),
            org_id: org,
            name: checked(PoolName::parse(&format!("Bench pool {i}")))?,
            description: Some(checked(Description::parse("Seeded by the benchmark"))?),
            pool_type: PoolType::Fifo,
            max_parallel_items: checked(MaxParallelItems::new(10))?,
            max_retries: checked(MaxRetries::new(3))?,
            is_active: true,
            contacts_count: 42,
            created_at: created_at(),
            updated_at: created_at(),
            version: 1,
        };
        store.create_contact_pool(&pool).await?;
        seeded.contact_pools.push(pool.id);
        let pool = GuardrailPool {
            id: PoolId::new_v4(),
            org_id: org,
            brand_id: BrandId::new_v4(),
            name: checked(GuardrailName::parse(&format!("Bench guardrail {i}")))?,
            slug: checked(Slug::parse(&format!("bench-{i}")))?,
            created_at: created_at(),
            updated_at: created_at(),
            version: 1,
        };
        store.create_guardrail_pool(&pool).await?;
        seeded.guardrail_pools.push(pool.id);
    }
    Ok(seeded)
}

/// Sends `rounds` rounds of the calls the benchmarks make (the key's `GetItem`, each pool's
/// `UpdateItem`), for at most `max`: DynamoDB Local runs on the JVM, and until its compiler has
/// warmed up, its first few hundred calls are several times slower than later ones.
pub async fn exercise(
    store: &dyn Store,
    seeded: &Seeded,
    rounds: usize,
    max: std::time::Duration,
) -> Result<usize, StoreError> {
    use shared::domain::contact_pool::ContactPoolPatch;
    use shared::domain::guardrail_pool::GuardrailPoolPatch;
    use shared::store::Precondition;

    let started = std::time::Instant::now();
    let hash = KeyHash::of(&seeded.key);
    let mut done = 0;
    while done < rounds && started.elapsed() < max {
        let fields = vec![(
            "name".to_owned(),
            serde_json::json!(format!("Warm-up {}", done % 2)),
        )];
        store.find_api_key(&hash).await?;
        if let (Some(&cp), Ok(patch)) = (
            seeded.contact_pools.first(),
            ContactPoolPatch::try_from(fields.as_slice()),
        ) {
            let pre = Precondition::default();
            store
                .update_contact_pool(seeded.org, cp, &patch, &pre, SystemClock.now())
                .await?;
        }
        if let (Some(&gp), Ok(patch)) = (
            seeded.guardrail_pools.first(),
            GuardrailPoolPatch::try_from(fields.as_slice()),
        ) {
            let pre = Precondition::default();
            store
                .update_guardrail_pool(seeded.org, gp, &patch, &pre, SystemClock.now())
                .await?;
        }
        done += 1;
    }
    Ok(done)
}
