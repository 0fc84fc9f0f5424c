//! Changes made with an `Idempotency-Key` (API.md §5), and the key's record.
//!
//! One consistent `BatchGetItem` reads the pool and the key's record together. A live record
//! answers at once: the request was made before (nothing is written). Otherwise the new state is
//! computed from the pool read, and one `TransactWriteItems` writes the change, pinned to the
//! version read, with the record, which it puts only if the key has no live one. So the record
//! exists exactly when the change does (invariant 6), and the record holds the response the
//! change answered with. Two round trips, whatever the change; no third to write the record.
//!
//! A cancelled transaction says why by action: the record's `Put` failing means another request
//! with the key won the race, and DynamoDB returns that record with the reason
//! (`ReturnValuesOnConditionCheckFailure`), so it is replayed (or refused, 422) without another
//! read. The pool's `Update` failing means the pool moved since it was read: read both again
//! (bounded, as a slug change is). The SDK gives every `TransactWriteItems` a
//! `ClientRequestToken`, so its own retry of a write whose answer was lost is not applied twice.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};

use super::errors::{
    classify, internal, Cancellation, RecordedSlugChange, RecordedUpdate, TxAction, TxFailure,
};
use super::expr::{self, owner_condition, Expr};
use super::items::{
    contact_pool_from_item, get_s, guardrail_from_item, idempotency_record_from_item,
    idempotency_record_item, keys, n, s, Item, TTL_ATTRIBUTE,
};
use super::store::{backoff, owned_item, slug_change_actions};
use super::DynamoStore;
use crate::clock::Timestamp;
use crate::domain::contact_pool::{ContactPool, ContactPoolPatch};
use crate::domain::guardrail_pool::{GuardrailPool, GuardrailPoolPatch};
use crate::domain::idempotency::{Idempotency, IdempotencyRecord, Written};
use crate::domain::ids::{OrgId, PoolId};
use crate::store::{Precondition, StoreError, MAX_SLUG_CHANGE_ATTEMPTS};

/// The record's condition: the key has no record, or only an expired one.
pub(super) const IF_NO_LIVE_RECORD: &str = "attribute_not_exists(#pk) OR #ttl <= :now";

/// How many times a `BatchGetItem` is sent again for keys DynamoDB left unprocessed.
const BATCH_READ_ATTEMPTS: u32 = 3;

fn record_pk(i: &Idempotency) -> String {
    keys::idempotency_record(i.function, i.org_id, &i.key.digest())
}

/// A record item that counts at `now`; an unreadable one is a store failure.
fn live_record(
    item: Option<&Item>,
    now: Timestamp,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    match item.map(idempotency_record_from_item).transpose()? {
        Some(r) if r.is_live_at(now) => Ok(Some(r)),
        _ => Ok(None),
    }
}

/// The `Put` of a record, if the key has no live one; the record in its way comes back with
/// the cancellation.
pub(super) fn put_record(
    table: &str,
    record: &IdempotencyRecord,
    now: Timestamp,
) -> Result<TransactWriteItem, StoreError> {
    Put::builder()
        .table_name(table)
        .set_item(Some(idempotency_record_item(record)))
        .condition_expression(IF_NO_LIVE_RECORD)
        .expression_attribute_names("#pk", "pk")
        .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
        .expression_attribute_values(":now", n(now.unix()))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .map(|p| TransactWriteItem::builder().put(p).build())
        .map_err(internal)
}

/// The pool's `Update`: its organization, pinned to the version read.
fn pinned_update(
    table: &str,
    pk: String,
    org_id: OrgId,
    version: u64,
    mut e: Expr,
) -> Result<TransactWriteItem, StoreError> {
    let condition = owner_condition(&mut e, org_id, &Precondition::Versions(vec![version]));
    Update::builder()
        .table_name(table)
        .key("pk", s(pk))
        .update_expression(e.update_expression())
        .condition_expression(condition)
        .set_expression_attribute_names(Some(e.names))
        .set_expression_attribute_values(Some(e.values))
        .build()
        .map(|u| TransactWriteItem::builder().update(u).build())
        .map_err(internal)
}

/// What a cancelled recorded transaction means: the record in the way (replay it), a store
/// failure, or "read again" (`None`).
fn after_cancellation<A: TxAction>(
    c: &Cancellation,
    record: A,
    now: Timestamp,
) -> Result<Option<IdempotencyRecord>, StoreError> {
    if let Some(e) = c.store_error() {
        return Err(e);
    }
    if c.failed(record) {
        // Another request with this key won; its record came back with the reason. (If it did
        // not, the next read finds it.)
        return live_record(c.item(record), now);
    }
    Ok(None)
}

/// How one attempt of a recorded change's transaction ended.
enum Sent {
    Applied,
    /// Another request with the key won: its record.
    Recorded(IdempotencyRecord),
    /// Cancelled for the items themselves (a failed condition, another transaction): the caller
    /// reads the reasons, then both items again.
    Cancelled(Cancellation),
}

impl DynamoStore {
    /// The actions of a recorded update (a contact-pool change, a rename), in
    /// [`RecordedUpdate`] order: the pool's `Update` pinned to `version`, and the record.
    fn recorded_update(
        &self,
        pk: String,
        org_id: OrgId,
        version: u64,
        e: Expr,
        record: &IdempotencyRecord,
        now: Timestamp,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        RecordedUpdate::ORDER
            .iter()
            .map(|action| match action {
                RecordedUpdate::Pool => {
                    pinned_update(&self.table, pk.clone(), org_id, version, e.clone())
                }
                RecordedUpdate::Record => put_record(&self.table, record, now),
            })
            .collect()
    }

    /// Sends a recorded change's transaction, whose record's `Put` is `record`.
    async fn send_recorded<A: TxAction>(
        &self,
        actions: Vec<TransactWriteItem>,
        record: A,
        now: Timestamp,
    ) -> Result<Sent, StoreError> {
        match self.transact(actions).await {
            Ok(()) => Ok(Sent::Applied),
            Err(TxFailure::Cancelled(c)) => Ok(match after_cancellation(&c, record, now)? {
                Some(r) => Sent::Recorded(r),
                None => Sent::Cancelled(c),
            }),
            Err(TxFailure::Store(StoreError::Conflict)) => {
                Ok(Sent::Cancelled(Cancellation::default()))
            }
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    /// One consistent read of two items (`BatchGetItem`), by key; either may be absent.
    async fn read_two(
        &self,
        a: String,
        b: String,
    ) -> Result<(Option<Item>, Option<Item>), StoreError> {
        self.count();
        let key = |pk: &str| HashMap::from([("pk".to_owned(), AttributeValue::S(pk.to_owned()))]);
        let mut pending = Some(
            KeysAndAttributes::builder()
                .keys(key(&a))
                .keys(key(&b))
                .consistent_read(true)
                .build()
                .map_err(internal)?,
        );
        let mut found: Vec<Item> = Vec::new();
        for _ in 0..BATCH_READ_ATTEMPTS {
            let Some(request) = pending.take() else { break };
            let mut out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(classify)?;
            if let Some(items) = out.responses.as_mut().and_then(|r| r.remove(&self.table)) {
                found.extend(items);
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys().is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Unavailable(
                "BatchGetItem left keys unprocessed".into(),
            ));
        }
        let mut take = |pk: &str| {
            found
                .iter()
                .position(|i| get_s(i, "pk").is_ok_and(|p| p == pk))
                .map(|at| found.swap_remove(at))
        };
        let first = take(&a);
        let second = take(&b);
        Ok((first, second))
    }

    pub(super) async fn record_of(
        &self,
        idempotency: &Idempotency,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let item = self.get(record_pk(idempotency)).await?;
        live_record(item.as_ref(), now)
    }

    pub(super) async fn update_contact_pool_recorded(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
        idempotency: &Idempotency,
    ) -> Result<Written<ContactPool>, StoreError> {
        for attempt in 1..=MAX_SLUG_CHANGE_ATTEMPTS {
            let (pool, record) = self
                .read_two(keys::contact_pool(id), record_pk(idempotency))
                .await?;
            if let Some(r) = live_record(record.as_ref(), now)? {
                return Ok(Written::Recorded(r));
            }
            let pool = owned_item(pool, org_id, contact_pool_from_item)?;
            pre.require(pool.version)?;
            let mut next = pool.clone();
            patch.apply_to(&mut next);
            next.updated_at = now;
            next.version += 1;
            let record =
                IdempotencyRecord::of_change(idempotency, id, next.version, &next.view(), now)
                    .map_err(internal)?;
            let actions = self.recorded_update(
                keys::contact_pool(id),
                org_id,
                pool.version,
                expr::contact_pool_update(patch, now),
                &record,
                now,
            )?;
            match self
                .send_recorded(actions, RecordedUpdate::Record, now)
                .await?
            {
                Sent::Applied => return Ok(Written::Applied(next)),
                Sent::Recorded(r) => return Ok(Written::Recorded(r)),
                // The pool moved, or another transaction held it: read both again.
                Sent::Cancelled(_) => {}
            }
            backoff(attempt).await;
        }
        Err(StoreError::Conflict)
    }

    pub(super) async fn update_guardrail_pool_recorded(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
        idempotency: &Idempotency,
    ) -> Result<Written<GuardrailPool>, StoreError> {
        for attempt in 1..=MAX_SLUG_CHANGE_ATTEMPTS {
            let (pool, record) = self
                .read_two(keys::guardrail_pool(id), record_pk(idempotency))
                .await?;
            if let Some(r) = live_record(record.as_ref(), now)? {
                return Ok(Written::Recorded(r));
            }
            let pool = owned_item(pool, org_id, guardrail_from_item)?;
            pre.require(pool.version)?;
            let new_slug = patch.slug.as_ref().filter(|s| **s != pool.slug);
            if patch.name.is_none() && new_slug.is_none() {
                // The slug it has: nothing written, nothing recorded.
                return Ok(Written::Applied(pool));
            }
            let mut next = pool.clone();
            patch.apply_to(&mut next);
            next.updated_at = now;
            next.version += 1;
            let record =
                IdempotencyRecord::of_change(idempotency, id, next.version, &next.view(), now)
                    .map_err(internal)?;
            let sent = match new_slug {
                Some(slug) => {
                    let mut actions =
                        slug_change_actions(&self.table, &pool, slug, patch.name.as_ref(), now)?;
                    actions.push(put_record(&self.table, &record, now)?);
                    debug_assert_eq!(actions.len(), RecordedSlugChange::ORDER.len());
                    let sent = self
                        .send_recorded(actions, RecordedSlugChange::Record, now)
                        .await?;
                    if let Sent::Cancelled(c) = &sent {
                        if c.failed(RecordedSlugChange::NewClaim)
                            && !c.failed(RecordedSlugChange::Pool)
                            && !c.failed(RecordedSlugChange::OldClaim)
                        {
                            return Err(StoreError::SlugTaken);
                        }
                    }
                    sent
                }
                None => {
                    let actions = self.recorded_update(
                        keys::guardrail_pool(id),
                        org_id,
                        pool.version,
                        expr::rename(&next.name, now),
                        &record,
                        now,
                    )?;
                    self.send_recorded(actions, RecordedUpdate::Record, now)
                        .await?
                }
            };
            match sent {
                Sent::Applied => return Ok(Written::Applied(next)),
                Sent::Recorded(r) => return Ok(Written::Recorded(r)),
                // The pool moved, or another transaction held an item: read both again.
                Sent::Cancelled(_) => {}
            }
            backoff(attempt).await;
        }
        Err(StoreError::Conflict)
    }
}
