//! Data for one benchmark run: its own organization, a key with both scopes, and pools.

use shared::auth::{ApiKeyRecord, KeyHash, KeyStatus, SCOPE_ORG_ADMIN_WRITE, SCOPE_POOLS_WRITE};
use shared::clock::{Clock, SystemClock, Timestamp};
use shared::domain::contact_pool::{ContactPool, PoolType};
use shared::domain::guardrail_pool::GuardrailPool;
use shared::store::{Store, StoreError};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Seeded {
    pub org: Uuid,
    pub key: String,
    pub contact_pools: Vec<Uuid>,
    pub guardrail_pools: Vec<Uuid>,
}

fn created_at() -> Timestamp {
    SystemClock.now()
}

/// Stores a key and `pools` pools of each kind for a fresh organization.
pub async fn seed(store: &dyn Store, pools: usize) -> Result<Seeded, StoreError> {
    let org = Uuid::new_v4();
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
            id: Uuid::new_v4(),
            org_id: org,
            name: format!("Bench pool {i}"),
            description: Some("Seeded by the benchmark".into()),
            pool_type: PoolType::Fifo,
            max_parallel_items: 10,
            max_retries: 3,
            is_active: true,
            contacts_count: 42,
            created_at: created_at(),
            updated_at: created_at(),
            version: 1,
        };
        store.create_contact_pool(&pool).await?;
        seeded.contact_pools.push(pool.id);
        let pool = GuardrailPool {
            id: Uuid::new_v4(),
            org_id: org,
            brand_id: Uuid::new_v4(),
            name: format!("Bench guardrail {i}"),
            slug: format!("bench-{i}"),
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
