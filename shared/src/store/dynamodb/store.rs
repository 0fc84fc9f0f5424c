//! The request path: the [`ApiKeys`], [`ContactPools`] and [`GuardrailPools`] impls, and the
//! reads, conditional writes and transactions they are made of. The administrative extension
//! ([`StoreAdmin`]) delegates to `admin`.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};

use super::errors::{
    classify, internal, update_failure, Cancellation, SlugChange, TxAction, TxFailure,
};
use super::expr::{self, owner_condition, put_if_absent, Expr, IF_CLAIM_OURS_OR_MISSING};
use super::items::{
    api_key_from_item, claim_item, contact_pool_from_item, get_s, guardrail_from_item, keys, s,
    Item,
};
use super::{admin, DynamoStore};
use crate::clock::Timestamp;
use crate::domain::api_key::{ApiKeyRecord, KeyHash};
use crate::domain::contact_pool::{ContactPool, ContactPoolPatch};
use crate::domain::guardrail_pool::{GuardrailName, GuardrailPool, GuardrailPoolPatch, Slug};
use crate::domain::idempotency::{Idempotency, IdempotencyRecord, Written};
use crate::domain::ids::{OrgId, PoolId};
use crate::store::{
    ApiKeys, ContactPools, GuardrailPools, IdempotencyRecords, Precondition, StoreAdmin,
    StoreError, StoreSnapshot, MAX_SLUG_CHANGE_ATTEMPTS,
};

impl DynamoStore {
    pub(super) async fn get(&self, pk: String) -> Result<Option<Item>, StoreError> {
        self.count();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        Ok(out.item)
    }

    /// Reads an item of the caller's organization; any other is as missing. The organization is
    /// compared before anything else is decoded, so another organization's item answers
    /// `NotFound` even when the rest of it cannot be read.
    async fn get_owned<T>(
        &self,
        pk: String,
        org_id: OrgId,
        decode: impl Fn(&Item) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        owned_item(self.get(pk).await?, org_id, decode)
    }

    async fn owned_guardrail(
        &self,
        org_id: OrgId,
        id: PoolId,
    ) -> Result<GuardrailPool, StoreError> {
        self.get_owned(keys::guardrail_pool(id), org_id, guardrail_from_item)
            .await
    }

    /// One conditional `UpdateItem` on a pool, applied at most once: it carries a write token
    /// of its own, made here, so the SDK's retries resend the same one (DESIGN.md, "Applied at
    /// most once"). A failed condition is told apart from the old item that DynamoDB returns
    /// with the failure: holding the token → this write, applied by an earlier attempt; missing
    /// or other organization → `NotFound`; else `PreconditionFailed`.
    async fn conditional_update(
        &self,
        pk: String,
        org_id: OrgId,
        pre: &Precondition,
        mut e: Expr,
        now: Timestamp,
    ) -> Result<Item, StoreError> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let condition = expr::once_condition(&mut e, org_id, pre, &token, now);
        self.count();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(pk))
            .update_expression(e.update_expression())
            .condition_expression(condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => out
                .attributes
                .ok_or_else(|| StoreError::Internal("UpdateItem returned no attributes".into())),
            Err(SdkError::ServiceError(ctx))
                if matches!(
                    ctx.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                let old = match ctx.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
                    _ => None,
                };
                let applied = update_failure(old, &token, org_id, pre);
                if let Ok(item) = &applied {
                    // Not an error: the SDK retried a write whose answer was lost.
                    let latest = item.get("last_write") == Some(&AttributeValue::S(token));
                    tracing::info!(latest, "update applied by an earlier attempt");
                }
                applied
            }
            Err(e) => Err(classify(e)),
        }
    }

    pub(super) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxFailure> {
        self.count();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(ctx))
                if matches!(
                    ctx.err(),
                    TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                let reasons = match ctx.err() {
                    TransactWriteItemsError::TransactionCanceledException(t) => {
                        Cancellation::from_reasons(t.cancellation_reasons())
                    }
                    _ => Cancellation::default(),
                };
                Err(TxFailure::Cancelled(reasons))
            }
            Err(e) => Err(TxFailure::Store(classify(e))),
        }
    }

    /// Moves a pool to a new slug: (a) the pool, if still at the version read; (b) the new
    /// claim, if free; (c) the old claim, if this pool's. All or nothing.
    async fn change_slug(
        &self,
        pool: &GuardrailPool,
        new_slug: &Slug,
        new_name: Option<&GuardrailName>,
        now: Timestamp,
    ) -> Result<(), TxFailure> {
        let items = slug_change_actions(&self.table, pool, new_slug, new_name, now)
            .map_err(TxFailure::Store)?;
        self.transact(items).await
    }
}

/// The actions of [`DynamoStore::change_slug`]'s transaction, in [`SlugChange`] order.
pub(super) fn slug_change_actions(
    table: &str,
    pool: &GuardrailPool,
    new_slug: &Slug,
    new_name: Option<&GuardrailName>,
    now: Timestamp,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    SlugChange::ORDER
        .iter()
        .map(|action| match action {
            SlugChange::Pool => {
                let mut e = expr::slug_change(new_slug, new_name, now);
                let condition = owner_condition(
                    &mut e,
                    pool.org_id,
                    &Precondition::Versions(vec![pool.version]),
                );
                Update::builder()
                    .table_name(table)
                    .key("pk", s(keys::guardrail_pool(pool.id)))
                    .update_expression(e.update_expression())
                    .condition_expression(condition)
                    .set_expression_attribute_names(Some(e.names))
                    .set_expression_attribute_values(Some(e.values))
                    .build()
                    .map(|u| TransactWriteItem::builder().update(u).build())
                    .map_err(internal)
            }
            SlugChange::NewClaim => {
                put_if_absent(table, claim_item(pool.org_id, new_slug, pool.id))
            }
            SlugChange::OldClaim => Delete::builder()
                .table_name(table)
                .key("pk", s(keys::slug_claim(pool.org_id, &pool.slug)))
                .condition_expression(IF_CLAIM_OURS_OR_MISSING)
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_names("#pool_id", "pool_id")
                .expression_attribute_values(":pool_id", s(pool.id.to_string()))
                .build()
                .map(|d| TransactWriteItem::builder().delete(d).build())
                .map_err(internal),
        })
        .collect()
}

/// An item read for the caller's organization, decoded; missing or another organization's is
/// `NotFound`. The organization is compared before anything else is decoded.
pub(super) fn owned_item<T>(
    item: Option<Item>,
    org_id: OrgId,
    decode: impl Fn(&Item) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    match item {
        Some(item) if is_owned_by(&item, org_id) => decode(&item),
        _ => Err(StoreError::NotFound),
    }
}

/// Whether an item's `org_id` is `org_id`; an item without a readable one belongs to no one.
fn is_owned_by(item: &Item, org_id: OrgId) -> bool {
    get_s(item, "org_id")
        .ok()
        .and_then(OrgId::parse)
        .is_some_and(|o| o == org_id)
}

/// Between attempt `attempt` and the next of a write retried on contention (each loop calls it
/// where it goes round again): counts the retry for the request's metrics, then a jittered
/// exponential pause: 10 ms, 20 ms, … capped at 160 ms, plus up to as much again at random, so
/// contenders spread out (at most about 2 s over all attempts). After the last attempt there is
/// no next one: nothing is counted or waited, and the caller answers at once.
pub(super) async fn backoff(attempt: u32) {
    if attempt >= MAX_SLUG_CHANGE_ATTEMPTS {
        return;
    }
    crate::metrics::count_transaction_retry();
    let base = 10u64 << attempt.saturating_sub(1).min(4);
    let jitter = (uuid::Uuid::new_v4().as_u128() % u128::from(base)) as u64;
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

#[async_trait]
impl ApiKeys for DynamoStore {
    /// A record that cannot be read refuses its key like an unknown one (401), and says so in
    /// the log (what is wrong with it, never the key or its hash): failing every request of
    /// that key with a 500 would tell its holder more, and help no one.
    async fn find_api_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        let Some(item) = self.get(keys::api_key(hash.expose())).await? else {
            return Ok(None);
        };
        match api_key_from_item(&item) {
            Ok(record) => Ok(Some(record)),
            Err(e) => {
                let key_id = get_s(&item, "key_id").unwrap_or("<none>");
                tracing::warn!(
                    key_id,
                    error = %crate::error::error_chain(&e),
                    "an API key record could not be read; its key is refused"
                );
                Ok(None)
            }
        }
    }
}

#[async_trait]
impl ContactPools for DynamoStore {
    async fn get_contact_pool(&self, org_id: OrgId, id: PoolId) -> Result<ContactPool, StoreError> {
        self.get_owned(keys::contact_pool(id), org_id, contact_pool_from_item)
            .await
    }

    async fn update_contact_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<ContactPool, StoreError> {
        let e = expr::contact_pool_update(patch, now);
        let item = self
            .conditional_update(keys::contact_pool(id), org_id, pre, e, now)
            .await?;
        contact_pool_from_item(&item)
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
        DynamoStore::update_contact_pool_recorded(self, org_id, id, patch, pre, now, idempotency)
            .await
    }
}

#[async_trait]
impl GuardrailPools for DynamoStore {
    async fn get_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
    ) -> Result<GuardrailPool, StoreError> {
        self.owned_guardrail(org_id, id).await
    }

    async fn update_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<GuardrailPool, StoreError> {
        let name = patch.name.as_ref();
        let Some(slug) = &patch.slug else {
            // A rename: one conditional write.
            let Some(name) = name else {
                return self.owned_guardrail(org_id, id).await;
            };
            let e = expr::rename(name, now);
            let item = self
                .conditional_update(keys::guardrail_pool(id), org_id, pre, e, now)
                .await?;
            return guardrail_from_item(&item);
        };
        for attempt in 1..=MAX_SLUG_CHANGE_ATTEMPTS {
            let pool = self.owned_guardrail(org_id, id).await?;
            pre.require(pool.version)?;
            if pool.slug == *slug {
                // Same slug: no transaction. A name with it is a rename of the version read,
                // so the request still applies whole.
                let Some(name) = name else { return Ok(pool) };
                let e = expr::rename(name, now);
                let pinned = Precondition::Versions(vec![pool.version]);
                match self
                    .conditional_update(keys::guardrail_pool(id), org_id, &pinned, e, now)
                    .await
                {
                    Ok(item) => return guardrail_from_item(&item),
                    Err(StoreError::PreconditionFailed) => {
                        backoff(attempt).await;
                        continue;
                    }
                    Err(other) => return Err(other),
                }
            }
            match self.change_slug(&pool, slug, name, now).await {
                Ok(()) => {
                    let mut updated = pool;
                    patch.apply_to(&mut updated);
                    updated.updated_at = now;
                    updated.version += 1;
                    return Ok(updated);
                }
                Err(TxFailure::Cancelled(c)) => {
                    // Throttled (503) or refused (500): not contention, so no other attempt.
                    if let Some(e) = c.store_error() {
                        return Err(e);
                    }
                    if c.failed(SlugChange::NewClaim)
                        && !c.failed(SlugChange::Pool)
                        && !c.failed(SlugChange::OldClaim)
                    {
                        return Err(StoreError::SlugTaken);
                    }
                    // The pool moved (or went), or another transaction held an item: read
                    // again and try again; the read decides 404 / 412 / retry.
                }
                Err(TxFailure::Store(StoreError::Conflict)) => {}
                Err(TxFailure::Store(e)) => return Err(e),
            }
            backoff(attempt).await;
        }
        Err(StoreError::Conflict)
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
        DynamoStore::update_guardrail_pool_recorded(self, org_id, id, patch, pre, now, idempotency)
            .await
    }
}

#[async_trait]
impl IdempotencyRecords for DynamoStore {
    async fn find_idempotency_record(
        &self,
        idempotency: &Idempotency,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.record_of(idempotency, now).await
    }
}

/// Administration: poolctl, seeding and tests, in `admin`.
#[async_trait]
impl StoreAdmin for DynamoStore {
    async fn create_api_key(
        &self,
        hash: &KeyHash,
        record: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        admin::create_api_key(self, hash, record).await
    }

    async fn revoke_api_key(&self, key_id: &str) -> Result<(), StoreError> {
        admin::revoke_api_key(self, key_id).await
    }

    async fn create_contact_pool(&self, pool: &ContactPool) -> Result<(), StoreError> {
        admin::create_contact_pool(self, pool).await
    }

    async fn create_guardrail_pool(&self, pool: &GuardrailPool) -> Result<(), StoreError> {
        admin::create_guardrail_pool(self, pool).await
    }

    async fn snapshot(&self) -> Result<StoreSnapshot, StoreError> {
        admin::snapshot(self).await
    }

    #[cfg(feature = "test-support")]
    async fn remove_claim_unchecked(&self, org_id: OrgId, slug: &Slug) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(keys::slug_claim(org_id, slug)))
            .send()
            .await
            .map(|_| ())
            .map_err(super::errors::classify)
    }
}
