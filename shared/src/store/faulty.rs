//! A store that fails on purpose, for tests of the 409/500/503 paths: it wraps a real store and
//! answers the chosen operations with the chosen error. Compiled only with the `test-support`
//! feature, so it is never in a function's binary.

use async_trait::async_trait;

use super::{
    ApiKeys, ContactPools, GuardrailPools, IdempotencyRecords, Precondition, StoreAdmin,
    StoreError, StoreSnapshot,
};
use crate::clock::Timestamp;
use crate::domain::api_key::{ApiKeyRecord, KeyHash};
use crate::domain::contact_pool::{ContactPool, ContactPoolPatch};
use crate::domain::guardrail_pool::{GuardrailPool, GuardrailPoolPatch, Slug};
use crate::domain::idempotency::{Idempotency, IdempotencyRecord, Written};
use crate::domain::ids::{OrgId, PoolId};

/// Which calls fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Key lookups (authentication).
    Auth,
    /// Pool reads and writes, not key lookups.
    Pools,
}

/// The error to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Unavailable,
    Internal,
    Conflict,
}

pub struct FaultyStore<S> {
    inner: S,
    on: FailOn,
    fault: Fault,
}

impl<S: StoreAdmin> FaultyStore<S> {
    pub fn new(inner: S, on: FailOn, fault: Fault) -> Self {
        Self { inner, on, fault }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn check(&self, op: FailOn) -> Result<(), StoreError> {
        if op != self.on {
            return Ok(());
        }
        match self.fault {
            Fault::Unavailable => Err(StoreError::Unavailable("injected: throttled".into())),
            Fault::Internal => Err(StoreError::Internal(
                "injected: secret internal detail".into(),
            )),
            Fault::Conflict => Err(StoreError::Conflict),
        }
    }
}

#[async_trait]
impl<S: StoreAdmin> ApiKeys for FaultyStore<S> {
    async fn find_api_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.check(FailOn::Auth)?;
        self.inner.find_api_key(hash).await
    }
}

#[async_trait]
impl<S: StoreAdmin> ContactPools for FaultyStore<S> {
    async fn get_contact_pool(&self, org_id: OrgId, id: PoolId) -> Result<ContactPool, StoreError> {
        self.check(FailOn::Pools)?;
        self.inner.get_contact_pool(org_id, id).await
    }

    async fn update_contact_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<ContactPool, StoreError> {
        self.check(FailOn::Pools)?;
        self.inner
            .update_contact_pool(org_id, id, patch, pre, now)
            .await
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
        self.check(FailOn::Pools)?;
        self.inner
            .update_contact_pool_recorded(org_id, id, patch, pre, now, idempotency)
            .await
    }
}

#[async_trait]
impl<S: StoreAdmin> GuardrailPools for FaultyStore<S> {
    async fn get_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
    ) -> Result<GuardrailPool, StoreError> {
        self.check(FailOn::Pools)?;
        self.inner.get_guardrail_pool(org_id, id).await
    }

    async fn update_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<GuardrailPool, StoreError> {
        self.check(FailOn::Pools)?;
        self.inner
            .update_guardrail_pool(org_id, id, patch, pre, now)
            .await
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
        self.check(FailOn::Pools)?;
        self.inner
            .update_guardrail_pool_recorded(org_id, id, patch, pre, now, idempotency)
            .await
    }
}

#[async_trait]
impl<S: StoreAdmin> IdempotencyRecords for FaultyStore<S> {
    async fn find_idempotency_record(
        &self,
        idempotency: &Idempotency,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.check(FailOn::Pools)?;
        self.inner.find_idempotency_record(idempotency, now).await
    }
}

#[async_trait]
impl<S: StoreAdmin> StoreAdmin for FaultyStore<S> {
    async fn create_api_key(
        &self,
        hash: &KeyHash,
        record: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        self.inner.create_api_key(hash, record).await
    }

    async fn revoke_api_key(&self, key_id: &str) -> Result<(), StoreError> {
        self.inner.revoke_api_key(key_id).await
    }

    async fn create_contact_pool(&self, pool: &ContactPool) -> Result<(), StoreError> {
        self.inner.create_contact_pool(pool).await
    }

    async fn create_guardrail_pool(&self, pool: &GuardrailPool) -> Result<(), StoreError> {
        self.inner.create_guardrail_pool(pool).await
    }

    async fn snapshot(&self) -> Result<StoreSnapshot, StoreError> {
        self.inner.snapshot().await
    }

    async fn remove_claim_unchecked(&self, org_id: OrgId, slug: &Slug) -> Result<(), StoreError> {
        self.inner.remove_claim_unchecked(org_id, slug).await
    }
}
