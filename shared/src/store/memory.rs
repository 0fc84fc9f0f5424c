//! The in-memory adapter: the embedded default of `local-api` and the fast unit tests. One lock
//! makes every operation atomic; the invariants are the DynamoDB adapter's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    ApiKeys, ContactPools, GuardrailPools, IdempotencyRecords, Precondition, SlugClaim, StoreAdmin,
    StoreError, StoreSnapshot,
};
use crate::clock::Timestamp;
use crate::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use crate::domain::contact_pool::{ContactPool, ContactPoolPatch};
use crate::domain::guardrail_pool::{GuardrailPool, GuardrailPoolPatch, Slug};
use crate::domain::idempotency::{Idempotency, IdempotencyRecord, Written};
use crate::domain::ids::{OrgId, PoolId};

#[derive(Default, Clone)]
struct State {
    keys: HashMap<KeyHash, ApiKeyRecord>,
    contact_pools: HashMap<PoolId, ContactPool>,
    guardrail_pools: HashMap<PoolId, GuardrailPool>,
    claims: HashMap<(OrgId, Slug), PoolId>,
    /// `Idempotency-Key` records by (organization, function, key digest).
    records: HashMap<(OrgId, String, String), IdempotencyRecord>,
}

fn record_key(i: &Idempotency) -> (OrgId, String, String) {
    (i.org_id, i.function.to_owned(), i.key.digest())
}

/// A store error for a response that cannot be recorded (it cannot happen: views serialize).
fn unrecordable(e: serde_json::Error) -> StoreError {
    StoreError::Internal(Box::new(e))
}

impl State {
    fn live_record(&self, i: &Idempotency, now: Timestamp) -> Option<IdempotencyRecord> {
        self.records
            .get(&record_key(i))
            .filter(|r| r.is_live_at(now))
            .cloned()
    }

    fn update_contact_pool(
        &mut self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<ContactPool, StoreError> {
        let mut pool = owned(self.contact_pools.get(&id), |p| p.org_id, org_id)?;
        pre.require(pool.version)?;
        patch.apply_to(&mut pool);
        pool.updated_at = now;
        pool.version += 1;
        self.contact_pools.insert(id, pool.clone());
        Ok(pool)
    }

    /// The pool after the change, and whether anything was written.
    fn update_guardrail_pool(
        &mut self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<(GuardrailPool, bool), StoreError> {
        let mut pool = owned(self.guardrail_pools.get(&id), |p| p.org_id, org_id)?;
        pre.require(pool.version)?;
        let new_slug = patch.slug.as_ref().filter(|s| **s != pool.slug);
        if patch.name.is_none() && new_slug.is_none() {
            return Ok((pool, false));
        }
        if let Some(slug) = new_slug {
            let key = (org_id, slug.clone());
            if self.claims.contains_key(&key) {
                return Err(StoreError::SlugTaken);
            }
            // The old claim goes if it is this pool's, or is missing (the change repairs it);
            // one held by another pool is left alone, as DynamoDB's condition does.
            let old = (org_id, pool.slug.clone());
            match self.claims.get(&old) {
                Some(holder) if *holder != id => return Err(StoreError::Conflict),
                _ => {}
            }
            self.claims.remove(&old);
            self.claims.insert(key, id);
        }
        patch.apply_to(&mut pool);
        pool.updated_at = now;
        pool.version += 1;
        self.guardrail_pools.insert(id, pool.clone());
        Ok((pool, true))
    }
}

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    calls: AtomicU64,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many request-path operations this store has served (as the DynamoDB adapter counts
    /// the operations it sends), each also counted for the request it serves
    /// ([`crate::metrics::count_store_call`]).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        crate::metrics::count_store_call();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave a half-applied change: every change is made on a copy
        // and stored whole, so a poisoned lock still guards consistent data.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seeds a key (tests and the embedded demo).
    pub fn insert_api_key(&self, hash: &KeyHash, record: ApiKeyRecord) {
        self.lock().keys.insert(hash.clone(), record);
    }
}

fn owned<T: Clone>(
    item: Option<&T>,
    org_of: impl Fn(&T) -> OrgId,
    org_id: OrgId,
) -> Result<T, StoreError> {
    match item {
        Some(i) if org_of(i) == org_id => Ok(i.clone()),
        _ => Err(StoreError::NotFound),
    }
}

#[async_trait]
impl ApiKeys for MemoryStore {
    async fn find_api_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.count();
        Ok(self.lock().keys.get(hash).cloned())
    }
}

#[async_trait]
impl ContactPools for MemoryStore {
    async fn get_contact_pool(&self, org_id: OrgId, id: PoolId) -> Result<ContactPool, StoreError> {
        self.count();
        owned(self.lock().contact_pools.get(&id), |p| p.org_id, org_id)
    }

    async fn update_contact_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<ContactPool, StoreError> {
        self.count();
        self.lock().update_contact_pool(org_id, id, patch, pre, now)
    }

    async fn update_contact_pool_recorded(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
        idempotency: &Idempotency,
    ) -> Result<Written<ContactPool>, StoreError> {
        self.count();
        let mut state = self.lock();
        if let Some(record) = state.live_record(idempotency, now) {
            return Ok(Written::Recorded(record));
        }
        // The change and its record under one lock, made on a copy and kept whole: one atomic
        // write (keys are rare on this store, the embedded default and tests).
        let mut next = state.clone();
        let pool = next.update_contact_pool(org_id, id, patch, pre, now)?;
        let record = IdempotencyRecord::of_change(idempotency, id, pool.version, &pool.view(), now)
            .map_err(unrecordable)?;
        next.records.insert(record_key(idempotency), record);
        *state = next;
        Ok(Written::Applied(pool))
    }
}

#[async_trait]
impl GuardrailPools for MemoryStore {
    async fn get_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
    ) -> Result<GuardrailPool, StoreError> {
        self.count();
        owned(self.lock().guardrail_pools.get(&id), |p| p.org_id, org_id)
    }

    async fn update_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<GuardrailPool, StoreError> {
        self.count();
        // Every condition is checked before anything changes, so the change is whole or none.
        let (pool, _) = self
            .lock()
            .update_guardrail_pool(org_id, id, patch, pre, now)?;
        Ok(pool)
    }

    async fn update_guardrail_pool_recorded(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
        idempotency: &Idempotency,
    ) -> Result<Written<GuardrailPool>, StoreError> {
        self.count();
        let mut state = self.lock();
        if let Some(record) = state.live_record(idempotency, now) {
            return Ok(Written::Recorded(record));
        }
        let mut next = state.clone();
        let (pool, written) = next.update_guardrail_pool(org_id, id, patch, pre, now)?;
        if written {
            let record =
                IdempotencyRecord::of_change(idempotency, id, pool.version, &pool.view(), now)
                    .map_err(unrecordable)?;
            next.records.insert(record_key(idempotency), record);
            *state = next;
        }
        Ok(Written::Applied(pool))
    }
}

#[async_trait]
impl IdempotencyRecords for MemoryStore {
    async fn find_idempotency_record(
        &self,
        idempotency: &Idempotency,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.count();
        Ok(self.lock().live_record(idempotency, now))
    }
}

#[async_trait]
impl StoreAdmin for MemoryStore {
    async fn create_api_key(
        &self,
        hash: &KeyHash,
        record: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.keys.contains_key(hash) || state.keys.values().any(|k| k.key_id == record.key_id) {
            return Err(StoreError::AlreadyExists);
        }
        state.keys.insert(hash.clone(), record.clone());
        Ok(())
    }

    async fn revoke_api_key(&self, key_id: &str) -> Result<(), StoreError> {
        let mut state = self.lock();
        let key = state
            .keys
            .values_mut()
            .find(|k| k.key_id == key_id)
            .ok_or(StoreError::NotFound)?;
        key.status = KeyStatus::Revoked;
        Ok(())
    }

    async fn create_contact_pool(&self, pool: &ContactPool) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.contact_pools.contains_key(&pool.id) {
            return Err(StoreError::AlreadyExists);
        }
        state.contact_pools.insert(pool.id, pool.clone());
        Ok(())
    }

    async fn create_guardrail_pool(&self, pool: &GuardrailPool) -> Result<(), StoreError> {
        let mut state = self.lock();
        if state.guardrail_pools.contains_key(&pool.id) {
            return Err(StoreError::AlreadyExists);
        }
        let key = (pool.org_id, pool.slug.clone());
        if state.claims.contains_key(&key) {
            return Err(StoreError::SlugTaken);
        }
        state.claims.insert(key, pool.id);
        state.guardrail_pools.insert(pool.id, pool.clone());
        Ok(())
    }

    #[cfg(feature = "test-support")]
    async fn remove_claim_unchecked(&self, org_id: OrgId, slug: &Slug) -> Result<(), StoreError> {
        self.lock().claims.remove(&(org_id, slug.clone()));
        Ok(())
    }

    async fn snapshot(&self) -> Result<StoreSnapshot, StoreError> {
        let state = self.lock();
        Ok(StoreSnapshot {
            contact_pools: state.contact_pools.values().cloned().collect(),
            guardrail_pools: state.guardrail_pools.values().cloned().collect(),
            claims: state
                .claims
                .iter()
                .map(|((org_id, slug), pool_id)| SlugClaim {
                    org_id: *org_id,
                    slug: slug.clone(),
                    pool_id: *pool_id,
                })
                .collect(),
            idempotency_records: state.records.values().cloned().collect(),
            unreadable: Vec::new(),
        })
    }
}
