//! The DynamoDB adapter. One table, hash key `pk` (string); see DESIGN.md for the item kinds.
//!
//! Every write carries its own `ConditionExpression`: the item exists, belongs to the caller's
//! organization, and (with `If-Match`) has an admitted version. Values only ever travel as
//! expression attribute values; expression strings are built from fixed fragments.

use std::collections::HashMap;
use std::fmt::Debug;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::Region;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, KeySchemaElement, KeyType, Put,
    ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus,
    TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use super::https::{self, InvalidTrustRoots, TrustRoots};
use super::{Precondition, SlugClaim, Store, StoreError, StoreSnapshot, MAX_SLUG_CHANGE_ATTEMPTS};
use crate::auth::{ApiKeyRecord, KeyHash, KeyStatus};
use crate::clock::Timestamp;
use crate::domain::contact_pool::{ContactPool, ContactPoolPatch, PoolType};
use crate::domain::guardrail_pool::{GuardrailPool, GuardrailPoolPatch};

type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit on the operands of `IN`.
const MAX_IF_MATCH_VERSIONS: usize = 100;

pub mod keys {
    //! Partition keys of the item kinds.
    use uuid::Uuid;

    pub fn api_key(hash_hex: &str) -> String {
        format!("APIKEY#{hash_hex}")
    }
    pub fn api_key_id(key_id: &str) -> String {
        format!("APIKEYID#{key_id}")
    }
    pub fn contact_pool(id: Uuid) -> String {
        format!("CONTACTPOOL#{id}")
    }
    pub fn guardrail_pool(id: Uuid) -> String {
        format!("GUARDRAILPOOL#{id}")
    }
    pub fn slug_claim(org_id: Uuid, slug: &str) -> String {
        format!("SLUG#{org_id}#{slug}")
    }
}

/// The SDK's time budget per DynamoDB call: connect within 1 s, each attempt within 2 s, and
/// the call with its retries (standard mode, 3 attempts) within 3 s. With the pipeline's 8 s
/// request budget, a request is always answered before the function's 10 s timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
pub const MAX_ATTEMPTS: u32 = 3;

/// The standard AWS configuration chain with this adapter's time and retry budget. Tests that
/// inject faults build their client from it too, so they test the deployed settings.
pub fn config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
}

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    calls: Arc<AtomicU64>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The client a deployed function uses: the AWS configuration from the environment with the
    /// time budget above, trusting the Amazon Trust Services roots unless `TLS_ROOTS` says
    /// otherwise (see [`https`](super::https)). `AWS_ENDPOINT_URL_DYNAMODB`, when set, points it
    /// at another endpoint (DynamoDB Local).
    ///
    /// Where Lambda puts them, in the environment, the region and the credentials are taken from
    /// there directly: the default chains would also build an STS client, and the profile,
    /// web-identity, container and instance-metadata providers, none of which a function uses.
    /// Without `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (a laptop with a profile or SSO),
    /// the standard chains are used.
    pub async fn from_env(table: impl Into<String>) -> Result<Self, InvalidTrustRoots> {
        Self::from_env_trusting(table, TrustRoots::Amazon).await
    }

    /// [`DynamoStore::from_env`] with `preferred` roots when `TLS_ROOTS` is unset (`poolctl`, a
    /// tool for laptops, prefers the system's).
    pub async fn from_env_trusting(
        table: impl Into<String>,
        preferred: TrustRoots,
    ) -> Result<Self, InvalidTrustRoots> {
        let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
        let roots = TrustRoots::from_env(region.as_deref(), preferred)?;
        let mut loader = config_loader().http_client(https::https_client(roots));
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
            loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
        Ok(Self::new(Client::new(&loader.load().await), table))
    }

    /// How many DynamoDB operations this store has sent (retries inside the SDK not counted).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table (hash key `pk`, on-demand) and waits until it is active; an existing
    /// table is fine.
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
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(StoreError::Unavailable(
            "table did not become active".into(),
        ))
    }

    async fn get(&self, pk: String) -> Result<Option<Item>, StoreError> {
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

    /// Reads an item of the caller's organization; any other is as missing.
    async fn get_owned<T>(
        &self,
        pk: String,
        org_id: Uuid,
        decode: impl Fn(&Item) -> Result<T, StoreError>,
        org_of: impl Fn(&T) -> Uuid,
    ) -> Result<T, StoreError> {
        match self.get(pk).await?.map(|i| decode(&i)).transpose()? {
            Some(v) if org_of(&v) == org_id => Ok(v),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn owned_guardrail(&self, org_id: Uuid, id: Uuid) -> Result<GuardrailPool, StoreError> {
        self.get_owned(keys::guardrail_pool(id), org_id, guardrail_from_item, |p| {
            p.org_id
        })
        .await
    }

    /// One conditional `UpdateItem` on a pool; a failed condition is told apart (missing or
    /// other organization → `NotFound`, else `PreconditionFailed`) from the old item that
    /// DynamoDB returns with the failure.
    async fn conditional_update(
        &self,
        pk: String,
        org_id: Uuid,
        pre: &Precondition,
        mut e: Expr,
    ) -> Result<Item, StoreError> {
        let condition = owner_condition(&mut e, org_id, pre);
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
                Err(condition_failure(old, org_id, pre))
            }
            Err(e) => Err(classify(e)),
        }
    }

    /// A transaction action that creates `item` only if its key is free.
    fn put_if_absent(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .build()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .map_err(internal)
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), TxFailure> {
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
                    TransactWriteItemsError::TransactionCanceledException(t) => t
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None").to_owned())
                        .collect(),
                    _ => Vec::new(),
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
        new_slug: &str,
        new_name: Option<&str>,
        now: Timestamp,
    ) -> Result<(), TxFailure> {
        let mut e = Expr::default();
        e.set("slug", s(new_slug));
        if let Some(name) = new_name {
            e.set("name", s(name));
        }
        e.set("updated_at", s(now.to_string()));
        e.bump_version();
        let condition = owner_condition(
            &mut e,
            pool.org_id,
            &Precondition::Versions(vec![pool.version]),
        );
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(keys::guardrail_pool(pool.id)))
            .update_expression(e.update_expression())
            .condition_expression(condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .build()
            .map_err(|e| TxFailure::Store(internal(e)))?;
        let claim = self
            .put_if_absent(claim_item(pool.org_id, new_slug, pool.id))
            .map_err(TxFailure::Store)?;
        let release = Delete::builder()
            .table_name(&self.table)
            .key("pk", s(keys::slug_claim(pool.org_id, &pool.slug)))
            .condition_expression("#pool_id = :pool_id")
            .expression_attribute_names("#pool_id", "pool_id")
            .expression_attribute_values(":pool_id", s(pool.id.to_string()))
            .build()
            .map_err(|e| TxFailure::Store(internal(e)))?;
        self.transact(vec![
            TransactWriteItem::builder().update(update).build(),
            claim,
            TransactWriteItem::builder().delete(release).build(),
        ])
        .await
    }
}

enum TxFailure {
    /// The transaction was cancelled; one reason code per action, in action order.
    Cancelled(Vec<String>),
    Store(StoreError),
}

fn failed(reasons: &[String], i: usize) -> bool {
    reasons.get(i).map(String::as_str) == Some("ConditionalCheckFailed")
}

/// Jittered exponential pause before another attempt: 10 ms, 20 ms, … capped at 160 ms, plus up
/// to as much again at random, so contenders spread out (at most about 2 s over all attempts).
async fn backoff(attempt: u32) {
    let base = 10u64 << attempt.saturating_sub(1).min(4);
    let jitter = (Uuid::new_v4().as_u128() % u128::from(base)) as u64;
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

#[async_trait]
impl Store for DynamoStore {
    async fn find_api_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError> {
        let item = self.get(keys::api_key(hash.expose())).await?;
        item.map(|i| api_key_from_item(&i)).transpose()
    }

    async fn get_contact_pool(&self, org_id: Uuid, id: Uuid) -> Result<ContactPool, StoreError> {
        self.get_owned(
            keys::contact_pool(id),
            org_id,
            contact_pool_from_item,
            |p| p.org_id,
        )
        .await
    }

    async fn update_contact_pool(
        &self,
        org_id: Uuid,
        id: Uuid,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<ContactPool, StoreError> {
        let mut e = Expr::default();
        if let Some(n) = &patch.name {
            e.set("name", s(n.as_str()));
        }
        match &patch.description {
            Some(Some(d)) => e.set("description", s(d.as_str())),
            Some(None) => e.remove("description"),
            None => {}
        }
        if let Some(t) = patch.pool_type {
            e.set("type", s(t.as_str()));
        }
        if let Some(m) = patch.max_parallel_items {
            e.set("max_parallel_items", n(m.get()));
        }
        if let Some(m) = patch.max_retries {
            e.set("max_retries", n(m.get()));
        }
        if let Some(a) = patch.is_active {
            e.set("is_active", AttributeValue::Bool(a));
        }
        e.set("updated_at", s(now.to_string()));
        e.bump_version();
        let item = self
            .conditional_update(keys::contact_pool(id), org_id, pre, e)
            .await?;
        contact_pool_from_item(&item)
    }

    async fn get_guardrail_pool(
        &self,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<GuardrailPool, StoreError> {
        self.owned_guardrail(org_id, id).await
    }

    async fn update_guardrail_pool(
        &self,
        org_id: Uuid,
        id: Uuid,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<GuardrailPool, StoreError> {
        let name = patch.name.as_ref().map(|n| n.as_str());
        let Some(slug) = &patch.slug else {
            // A rename: one conditional write.
            let Some(name) = name else {
                return self.owned_guardrail(org_id, id).await;
            };
            let mut e = Expr::default();
            e.set("name", s(name));
            e.set("updated_at", s(now.to_string()));
            e.bump_version();
            let item = self
                .conditional_update(keys::guardrail_pool(id), org_id, pre, e)
                .await?;
            return guardrail_from_item(&item);
        };
        for attempt in 1..=MAX_SLUG_CHANGE_ATTEMPTS {
            let pool = self.owned_guardrail(org_id, id).await?;
            pre.require(pool.version)?;
            if pool.slug == slug.as_str() {
                // Same slug: no transaction. A name with it is a rename of the version read,
                // so the request still applies whole.
                let Some(name) = name else { return Ok(pool) };
                let mut e = Expr::default();
                e.set("name", s(name));
                e.set("updated_at", s(now.to_string()));
                e.bump_version();
                let pinned = Precondition::Versions(vec![pool.version]);
                match self
                    .conditional_update(keys::guardrail_pool(id), org_id, &pinned, e)
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
            match self.change_slug(&pool, slug.as_str(), name, now).await {
                Ok(()) => {
                    let mut updated = pool;
                    updated.slug = slug.as_str().to_owned();
                    if let Some(name) = name {
                        updated.name = name.to_owned();
                    }
                    updated.updated_at = now;
                    updated.version += 1;
                    return Ok(updated);
                }
                // The pool moved (or went): read again; the read decides 404 / 412 / retry.
                Err(TxFailure::Cancelled(r)) if failed(&r, 0) || failed(&r, 2) => {}
                Err(TxFailure::Cancelled(r)) if failed(&r, 1) => return Err(StoreError::SlugTaken),
                // Another transaction held an item, or a throttled action: try again.
                Err(TxFailure::Cancelled(_)) | Err(TxFailure::Store(StoreError::Conflict)) => {}
                Err(TxFailure::Store(e)) => return Err(e),
            }
            backoff(attempt).await;
        }
        Err(StoreError::Conflict)
    }

    async fn create_api_key(
        &self,
        hash: &KeyHash,
        record: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        let mut item = api_key_item(record);
        item.insert("pk".into(), s(keys::api_key(hash.expose())));
        let pointer = HashMap::from([
            ("pk".to_owned(), s(keys::api_key_id(&record.key_id))),
            ("kind".to_owned(), s("api_key_id")),
            ("key_hash".to_owned(), s(hash.expose())),
        ]);
        match self
            .transact(vec![
                self.put_if_absent(item)?,
                self.put_if_absent(pointer)?,
            ])
            .await
        {
            Ok(()) => Ok(()),
            Err(TxFailure::Cancelled(r)) if failed(&r, 0) || failed(&r, 1) => {
                Err(StoreError::AlreadyExists)
            }
            Err(TxFailure::Cancelled(r)) => {
                tracing::debug!(reasons = ?r, "key creation cancelled");
                Err(StoreError::Conflict)
            }
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn revoke_api_key(&self, key_id: &str) -> Result<(), StoreError> {
        let pointer = self
            .get(keys::api_key_id(key_id))
            .await?
            .ok_or(StoreError::NotFound)?;
        let hash = get_s(&pointer, "key_hash").map_err(StoreError::Internal)?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(keys::api_key(hash)))
            .update_expression("SET #status = :revoked")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#pk", "pk")
            .expression_attribute_values(":revoked", s(KeyStatus::Revoked.as_str()))
            .send()
            .await;
        unless_condition_failed(result, StoreError::NotFound)
    }

    async fn create_contact_pool(&self, pool: &ContactPool) -> Result<(), StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(contact_pool_item(pool)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", "pk")
            .send()
            .await;
        unless_condition_failed(result, StoreError::AlreadyExists)
    }

    async fn create_guardrail_pool(&self, pool: &GuardrailPool) -> Result<(), StoreError> {
        let items = vec![
            self.put_if_absent(guardrail_item(pool))?,
            self.put_if_absent(claim_item(pool.org_id, &pool.slug, pool.id))?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(TxFailure::Cancelled(r)) if failed(&r, 0) => Err(StoreError::AlreadyExists),
            Err(TxFailure::Cancelled(r)) if failed(&r, 1) => Err(StoreError::SlugTaken),
            Err(TxFailure::Cancelled(_)) => Err(StoreError::Conflict),
            Err(TxFailure::Store(e)) => Err(e),
        }
    }

    async fn snapshot(&self) -> Result<StoreSnapshot, StoreError> {
        let mut snap = StoreSnapshot::default();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in page.items() {
                let pk = get_s(item, "pk").unwrap_or("<no pk>").to_owned();
                let kind = pk.split('#').next().unwrap_or("");
                let read = match kind {
                    "CONTACTPOOL" => {
                        contact_pool_from_item(item).map(|p| snap.contact_pools.push(p))
                    }
                    "GUARDRAILPOOL" => {
                        guardrail_from_item(item).map(|p| snap.guardrail_pools.push(p))
                    }
                    "SLUG" => claim_from_item(item).map(|c| snap.claims.push(c)),
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
}

// ---- expressions -------------------------------------------------------------------------

/// An `UpdateExpression` with its attribute names and values. Names are the fixed attribute
/// names of this module; values are only ever placeholders.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    sets: Vec<String>,
    removes: Vec<String>,
}

impl Expr {
    fn name(&mut self, attr: &'static str) -> String {
        let p = format!("#{attr}");
        self.names.insert(p.clone(), attr.to_owned());
        p
    }

    fn value(&mut self, placeholder: String, v: AttributeValue) -> String {
        self.values.insert(placeholder.clone(), v);
        placeholder
    }

    fn set(&mut self, attr: &'static str, v: AttributeValue) {
        let n = self.name(attr);
        let val = self.value(format!(":{attr}"), v);
        self.sets.push(format!("{n} = {val}"));
    }

    fn remove(&mut self, attr: &'static str) {
        let n = self.name(attr);
        self.removes.push(n);
    }

    fn bump_version(&mut self) {
        let n = self.name("version");
        let one = self.value(":one".into(), AttributeValue::N("1".into()));
        self.sets.push(format!("{n} = {n} + {one}"));
    }

    fn update_expression(&self) -> String {
        let mut s = format!("SET {}", self.sets.join(", "));
        if !self.removes.is_empty() {
            s.push_str(" REMOVE ");
            s.push_str(&self.removes.join(", "));
        }
        s
    }
}

/// `attribute_exists(pk) AND org_id = :org [AND version IN (...)]`.
fn owner_condition(e: &mut Expr, org_id: Uuid, pre: &Precondition) -> String {
    let pk = e.name("pk");
    let org = e.name("org_id");
    let org_v = e.value(":org_id".into(), s(org_id.to_string()));
    let mut c = format!("attribute_exists({pk}) AND {org} = {org_v}");
    if let Precondition::Versions(versions) = pre {
        let v = e.name("version");
        let mut list: Vec<String> = versions
            .iter()
            .take(MAX_IF_MATCH_VERSIONS)
            .enumerate()
            .map(|(i, ver)| e.value(format!(":v{i}"), n(*ver)))
            .collect();
        if list.is_empty() {
            // No admissible version: a value no item has, so the condition fails as a 412.
            list.push(e.value(":v0".into(), AttributeValue::N("-1".into())));
        }
        c.push_str(&format!(" AND {v} IN ({})", list.join(", ")));
    }
    c
}

/// Tells why a pool's owner condition failed, from the item as it was.
fn condition_failure(old: Option<&Item>, org_id: Uuid, pre: &Precondition) -> StoreError {
    let same_org = old
        .and_then(|i| get_s(i, "org_id").ok())
        .is_some_and(|o| o == org_id.to_string());
    if !same_org {
        StoreError::NotFound
    } else if matches!(pre, Precondition::Versions(_)) {
        StoreError::PreconditionFailed
    } else {
        StoreError::Conflict
    }
}

// ---- errors ------------------------------------------------------------------------------

/// A single write's result, with a failed condition answered by `on_failed`.
fn unless_condition_failed<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    on_failed: StoreError,
) -> Result<(), StoreError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ConditionalCheckFailedException") => Err(on_failed),
        Err(e) => Err(classify(e)),
    }
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Internal(Box::new(e))
}

/// Throttling, timeouts, unreachable endpoints and DynamoDB's 5xx are "unavailable" (503);
/// contention between transactions is a conflict; the rest is internal.
fn classify<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    let unavailable = match &e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(ctx) => match ctx.err().code() {
            Some(
                "TransactionConflictException"
                | "TransactionInProgressException"
                | "TransactionConflict",
            ) => return StoreError::Conflict,
            Some(
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "InternalServerError"
                | "ServiceUnavailable"
                | "LimitExceededException",
            ) => true,
            _ => false,
        },
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(Box::new(e))
    } else {
        StoreError::Internal(Box::new(e))
    }
}

// ---- items -------------------------------------------------------------------------------

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a Item, k: &str) -> Result<&'a str, crate::error::BoxError> {
    match item.get(k) {
        Some(AttributeValue::S(v)) => Ok(v),
        _ => Err(format!("attribute {k} is missing or not a string").into()),
    }
}

fn get_n<T: FromStr>(item: &Item, k: &str) -> Result<T, crate::error::BoxError> {
    match item.get(k) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| format!("attribute {k} is out of range").into()),
        _ => Err(format!("attribute {k} is missing or not a number").into()),
    }
}

fn get_bool(item: &Item, k: &str) -> Result<bool, crate::error::BoxError> {
    match item.get(k) {
        Some(AttributeValue::Bool(v)) => Ok(*v),
        _ => Err(format!("attribute {k} is missing or not a boolean").into()),
    }
}

fn get_uuid(item: &Item, k: &str) -> Result<Uuid, crate::error::BoxError> {
    Uuid::parse_str(get_s(item, k)?).map_err(|_| format!("attribute {k} is not a UUID").into())
}

fn get_time(item: &Item, k: &str) -> Result<Timestamp, crate::error::BoxError> {
    Timestamp::parse(get_s(item, k)?).ok_or_else(|| format!("attribute {k} is not a time").into())
}

fn decode<T>(f: impl FnOnce() -> Result<T, crate::error::BoxError>) -> Result<T, StoreError> {
    f().map_err(StoreError::Internal)
}

fn api_key_item(r: &ApiKeyRecord) -> Item {
    let mut item = HashMap::from([
        ("kind".to_owned(), s("api_key")),
        ("key_id".to_owned(), s(&r.key_id)),
        ("org_id".to_owned(), s(r.org_id.to_string())),
        (
            "scopes".to_owned(),
            AttributeValue::L(r.scopes.iter().map(s).collect()),
        ),
        ("status".to_owned(), s(r.status.as_str())),
    ]);
    if let Some(t) = r.expires_at {
        item.insert("expires_at".into(), s(t.to_string()));
    }
    item
}

fn api_key_from_item(item: &Item) -> Result<ApiKeyRecord, StoreError> {
    decode(|| {
        let scopes = match item.get("scopes") {
            Some(AttributeValue::L(l)) => l.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
            Some(AttributeValue::Ss(l)) => l.iter().cloned().collect(),
            _ => Default::default(),
        };
        Ok(ApiKeyRecord {
            key_id: get_s(item, "key_id")?.to_owned(),
            org_id: get_uuid(item, "org_id")?,
            scopes,
            status: KeyStatus::parse(get_s(item, "status")?).ok_or("unknown key status")?,
            expires_at: match item.get("expires_at") {
                None | Some(AttributeValue::Null(_)) => None,
                Some(_) => Some(get_time(item, "expires_at")?),
            },
        })
    })
}

fn contact_pool_item(p: &ContactPool) -> Item {
    let mut item = HashMap::from([
        ("pk".to_owned(), s(keys::contact_pool(p.id))),
        ("kind".to_owned(), s("contact_pool")),
        ("id".to_owned(), s(p.id.to_string())),
        ("org_id".to_owned(), s(p.org_id.to_string())),
        ("name".to_owned(), s(&p.name)),
        ("type".to_owned(), s(p.pool_type.as_str())),
        ("max_parallel_items".to_owned(), n(p.max_parallel_items)),
        ("max_retries".to_owned(), n(p.max_retries)),
        ("is_active".to_owned(), AttributeValue::Bool(p.is_active)),
        ("contacts_count".to_owned(), n(p.contacts_count)),
        ("created_at".to_owned(), s(p.created_at.to_string())),
        ("updated_at".to_owned(), s(p.updated_at.to_string())),
        ("version".to_owned(), n(p.version)),
    ]);
    if let Some(d) = &p.description {
        item.insert("description".into(), s(d));
    }
    item
}

fn contact_pool_from_item(item: &Item) -> Result<ContactPool, StoreError> {
    decode(|| {
        Ok(ContactPool {
            id: get_uuid(item, "id")?,
            org_id: get_uuid(item, "org_id")?,
            name: get_s(item, "name")?.to_owned(),
            description: match item.get("description") {
                None | Some(AttributeValue::Null(_)) => None,
                Some(_) => Some(get_s(item, "description")?.to_owned()),
            },
            pool_type: PoolType::parse(get_s(item, "type")?)?,
            max_parallel_items: get_n(item, "max_parallel_items")?,
            max_retries: get_n(item, "max_retries")?,
            is_active: get_bool(item, "is_active")?,
            contacts_count: get_n(item, "contacts_count")?,
            created_at: get_time(item, "created_at")?,
            updated_at: get_time(item, "updated_at")?,
            version: get_n(item, "version")?,
        })
    })
}

fn guardrail_item(p: &GuardrailPool) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(keys::guardrail_pool(p.id))),
        ("kind".to_owned(), s("guardrail_pool")),
        ("id".to_owned(), s(p.id.to_string())),
        ("org_id".to_owned(), s(p.org_id.to_string())),
        ("brand_id".to_owned(), s(p.brand_id.to_string())),
        ("name".to_owned(), s(&p.name)),
        ("slug".to_owned(), s(&p.slug)),
        ("created_at".to_owned(), s(p.created_at.to_string())),
        ("updated_at".to_owned(), s(p.updated_at.to_string())),
        ("version".to_owned(), n(p.version)),
    ])
}

fn guardrail_from_item(item: &Item) -> Result<GuardrailPool, StoreError> {
    decode(|| {
        Ok(GuardrailPool {
            id: get_uuid(item, "id")?,
            org_id: get_uuid(item, "org_id")?,
            brand_id: get_uuid(item, "brand_id")?,
            name: get_s(item, "name")?.to_owned(),
            slug: get_s(item, "slug")?.to_owned(),
            created_at: get_time(item, "created_at")?,
            updated_at: get_time(item, "updated_at")?,
            version: get_n(item, "version")?,
        })
    })
}

fn claim_item(org_id: Uuid, slug: &str, pool_id: Uuid) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(keys::slug_claim(org_id, slug))),
        ("kind".to_owned(), s("slug_claim")),
        ("org_id".to_owned(), s(org_id.to_string())),
        ("slug".to_owned(), s(slug)),
        ("pool_id".to_owned(), s(pool_id.to_string())),
    ])
}

fn claim_from_item(item: &Item) -> Result<SlugClaim, StoreError> {
    decode(|| {
        Ok(SlugClaim {
            org_id: get_uuid(item, "org_id")?,
            slug: get_s(item, "slug")?.to_owned(),
            pool_id: get_uuid(item, "pool_id")?,
        })
    })
}
