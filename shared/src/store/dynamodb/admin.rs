//! Administrative calls (poolctl, seeding, tests), never on a request path: the table's
//! creation, keys, pools' creation and the scan behind `poolctl check`. The [`StoreAdmin`] impl
//! delegates here.
//!
//! [`StoreAdmin`]: crate::store::StoreAdmin

use std::time::Duration;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem,
};

use super::errors::{
    classify, internal, unless_condition_failed, CreateGuardrail, CreateKey, TxAction, TxFailure,
};
use super::expr::{put_if_absent, IF_ABSENT, IF_EXISTS, REVOKE};
use super::items::{
    api_key_pointer_item, api_key_record_item, claim_from_item, claim_item, contact_pool_from_item,
    contact_pool_item, get_s, guardrail_from_item, guardrail_item, idempotency_record_from_item,
    keys, s, Item, TTL_ATTRIBUTE,
};
use super::DynamoStore;
use crate::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use crate::domain::contact_pool::ContactPool;
use crate::domain::guardrail_pool::GuardrailPool;
use crate::store::{StoreError, StoreSnapshot};

impl DynamoStore {
    /// Creates the table (hash key `pk`, on-demand), waits until it is active, and turns on its
    /// time to live on [`TTL_ATTRIBUTE`] (idempotency records); an existing table is fine.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(internal)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await;
        if let Err(e) = created {
            if e.code() != Some("ResourceInUseException") {
                return Err(classify(e));
            }
        }
        for _ in 0..600 {
            let d = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(classify)?;
            if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return self.enable_ttl().await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(StoreError::Unavailable(
            "table did not become active".into(),
        ))
    }

    /// Time to live on [`TTL_ATTRIBUTE`], unless it is on already.
    async fn enable_ttl(&self) -> Result<(), StoreError> {
        let current = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(classify)?;
        let on = current.time_to_live_description().is_some_and(|d| {
            d.attribute_name() == Some(TTL_ATTRIBUTE)
                && matches!(
                    d.time_to_live_status(),
                    Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                )
        });
        if on {
            return Ok(());
        }
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(internal)?;
        match self
            .client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(spec)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Another process turned it on in the meantime.
            Err(e) if e.code() == Some("ValidationException") => Ok(()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// The actions of an API key's creation, in [`CreateKey`] order.
pub(super) fn create_key_actions(
    table: &str,
    hash: &KeyHash,
    record: &ApiKeyRecord,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    CreateKey::ORDER
        .iter()
        .map(|action| match action {
            CreateKey::Record => put_if_absent(table, api_key_record_item(hash, record)),
            CreateKey::Pointer => put_if_absent(table, api_key_pointer_item(hash, &record.key_id)),
        })
        .collect()
}

/// The actions of a guardrail pool's creation, in [`CreateGuardrail`] order.
pub(super) fn create_guardrail_actions(
    table: &str,
    pool: &GuardrailPool,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    CreateGuardrail::ORDER
        .iter()
        .map(|action| match action {
            CreateGuardrail::Pool => put_if_absent(table, guardrail_item(pool)),
            CreateGuardrail::Claim => {
                put_if_absent(table, claim_item(pool.org_id, &pool.slug, pool.id))
            }
        })
        .collect()
}

pub(super) async fn create_api_key(
    store: &DynamoStore,
    hash: &KeyHash,
    record: &ApiKeyRecord,
) -> Result<(), StoreError> {
    let items = create_key_actions(&store.table, hash, record)?;
    match store.transact(items).await {
        Ok(()) => Ok(()),
        Err(TxFailure::Cancelled(c))
            if c.failed(CreateKey::Record) || c.failed(CreateKey::Pointer) =>
        {
            Err(StoreError::AlreadyExists)
        }
        Err(TxFailure::Cancelled(c)) => {
            tracing::debug!(reasons = ?c.codes(), "key creation cancelled");
            Err(c.store_error().unwrap_or(StoreError::Conflict))
        }
        Err(TxFailure::Store(e)) => Err(e),
    }
}

pub(super) async fn revoke_api_key(store: &DynamoStore, key_id: &str) -> Result<(), StoreError> {
    let pointer = store
        .get(keys::api_key_id(key_id))
        .await?
        .ok_or(StoreError::NotFound)?;
    let hash = get_s(&pointer, "key_hash").map_err(StoreError::Internal)?;
    let result = store
        .client
        .update_item()
        .table_name(&store.table)
        .key("pk", s(keys::api_key(hash)))
        .update_expression(REVOKE)
        .condition_expression(IF_EXISTS)
        .expression_attribute_names("#status", "status")
        .expression_attribute_names("#pk", "pk")
        .expression_attribute_values(":revoked", s(KeyStatus::Revoked.as_str()))
        .send()
        .await;
    unless_condition_failed(result, StoreError::NotFound)
}

pub(super) async fn create_contact_pool(
    store: &DynamoStore,
    pool: &ContactPool,
) -> Result<(), StoreError> {
    let result = store
        .client
        .put_item()
        .table_name(&store.table)
        .set_item(Some(contact_pool_item(pool)))
        .condition_expression(IF_ABSENT)
        .expression_attribute_names("#pk", "pk")
        .send()
        .await;
    unless_condition_failed(result, StoreError::AlreadyExists)
}

pub(super) async fn create_guardrail_pool(
    store: &DynamoStore,
    pool: &GuardrailPool,
) -> Result<(), StoreError> {
    let items = create_guardrail_actions(&store.table, pool)?;
    match store.transact(items).await {
        Ok(()) => Ok(()),
        Err(TxFailure::Cancelled(c)) if c.failed(CreateGuardrail::Pool) => {
            Err(StoreError::AlreadyExists)
        }
        Err(TxFailure::Cancelled(c)) if c.failed(CreateGuardrail::Claim) => {
            Err(StoreError::SlugTaken)
        }
        Err(TxFailure::Cancelled(c)) => Err(c.store_error().unwrap_or(StoreError::Conflict)),
        Err(TxFailure::Store(e)) => Err(e),
    }
}

pub(super) async fn snapshot(store: &DynamoStore) -> Result<StoreSnapshot, StoreError> {
    let mut snap = StoreSnapshot::default();
    let mut start: Option<Item> = None;
    loop {
        let page = store
            .client
            .scan()
            .table_name(&store.table)
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(classify)?;
        for item in page.items() {
            let pk = get_s(item, "pk").unwrap_or("<no pk>").to_owned();
            let kind = pk.split('#').next().unwrap_or("");
            let read = match kind {
                "CONTACTPOOL" => contact_pool_from_item(item).map(|p| snap.contact_pools.push(p)),
                "GUARDRAILPOOL" => guardrail_from_item(item).map(|p| snap.guardrail_pools.push(p)),
                "SLUG" => claim_from_item(item).map(|c| snap.claims.push(c)),
                "IDEMPOTENCY" => {
                    idempotency_record_from_item(item).map(|r| snap.idempotency_records.push(r))
                }
                _ => Ok(()),
            };
            if let Err(e) = read {
                snap.unreadable.push(format!("item {pk}: {e}"));
            }
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return Ok(snap),
        }
    }
}
