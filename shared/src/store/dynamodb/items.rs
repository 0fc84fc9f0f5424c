//! Item mapping: the partition keys, attribute values, and each item kind to and from its domain
//! type. A decoding failure is `StoreError::Internal`: the table holds something this code did
//! not write.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_dynamodb::types::AttributeValue;
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::domain::api_key::{ApiKeyRecord, KeyHash, KeyStatus};
use crate::domain::contact_pool::{
    ContactPool, Description, MaxParallelItems, MaxRetries, PoolName, PoolType,
};
use crate::domain::guardrail_pool::{GuardrailName, GuardrailPool, Slug};
use crate::domain::idempotency::{Fingerprint, IdempotencyRecord};
use crate::domain::ids::{OrgId, PoolId};
use crate::store::{SlugClaim, StoreError};

pub(super) type Item = HashMap<String, AttributeValue>;

pub mod keys {
    //! Partition keys of the item kinds.
    use crate::domain::guardrail_pool::Slug;
    use crate::domain::ids::{OrgId, PoolId};

    pub fn api_key(hash_hex: &str) -> String {
        format!("APIKEY#{hash_hex}")
    }
    pub fn api_key_id(key_id: &str) -> String {
        format!("APIKEYID#{key_id}")
    }
    pub fn contact_pool(id: PoolId) -> String {
        format!("CONTACTPOOL#{id}")
    }
    pub fn guardrail_pool(id: PoolId) -> String {
        format!("GUARDRAILPOOL#{id}")
    }
    pub fn slug_claim(org_id: OrgId, slug: &Slug) -> String {
        format!("SLUG#{org_id}#{slug}")
    }
    /// An `Idempotency-Key` record: the function first, so a function's IAM policy can name
    /// its own records by prefix (`dynamodb:LeadingKeys`).
    pub fn idempotency_record(function: &str, org_id: OrgId, key_digest: &str) -> String {
        format!("IDEMPOTENCY#{function}#{org_id}#{key_digest}")
    }
}

/// The attribute DynamoDB's time to live reads (epoch seconds), on idempotency records only.
pub const TTL_ATTRIBUTE: &str = "ttl";

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(super) fn get_s<'a>(item: &'a Item, k: &str) -> Result<&'a str, crate::error::BoxError> {
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

/// An id attribute, as the kind of id `T` is.
fn get_id<T: From<Uuid>>(item: &Item, k: &str) -> Result<T, crate::error::BoxError> {
    Uuid::parse_str(get_s(item, k)?)
        .map(T::from)
        .map_err(|_| format!("attribute {k} is not a UUID").into())
}

/// A text attribute, through its type's checking constructor: what was stored must still be
/// what the API accepts.
fn get_text<T>(
    item: &Item,
    k: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, crate::error::BoxError> {
    parse(get_s(item, k)?).map_err(|m| format!("attribute {k}: {m}").into())
}

fn get_time(item: &Item, k: &str) -> Result<Timestamp, crate::error::BoxError> {
    Timestamp::parse(get_s(item, k)?).ok_or_else(|| format!("attribute {k} is not a time").into())
}

fn decode<T>(f: impl FnOnce() -> Result<T, crate::error::BoxError>) -> Result<T, StoreError> {
    f().map_err(StoreError::Internal)
}

/// An API key record without its `pk`, which is the key's hash: see [`api_key_record_item`].
pub(super) fn api_key_item(r: &ApiKeyRecord) -> Item {
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

/// The API key record as stored: [`api_key_item`] under `APIKEY#<hash>`.
pub(super) fn api_key_record_item(hash: &KeyHash, r: &ApiKeyRecord) -> Item {
    let mut item = api_key_item(r);
    item.insert("pk".into(), s(keys::api_key(hash.expose())));
    item
}

/// The pointer from a key id to its key's hash, so a key can be revoked by its id.
pub(super) fn api_key_pointer_item(hash: &KeyHash, key_id: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(keys::api_key_id(key_id))),
        ("kind".to_owned(), s("api_key_id")),
        ("key_hash".to_owned(), s(hash.expose())),
    ])
}

pub(super) fn api_key_from_item(item: &Item) -> Result<ApiKeyRecord, StoreError> {
    decode(|| {
        let scopes = match item.get("scopes") {
            Some(AttributeValue::L(l)) => l.iter().filter_map(|v| v.as_s().ok().cloned()).collect(),
            Some(AttributeValue::Ss(l)) => l.iter().cloned().collect(),
            _ => Default::default(),
        };
        Ok(ApiKeyRecord {
            key_id: get_s(item, "key_id")?.to_owned(),
            org_id: get_id(item, "org_id")?,
            scopes,
            status: KeyStatus::parse(get_s(item, "status")?).ok_or("unknown key status")?,
            expires_at: match item.get("expires_at") {
                None | Some(AttributeValue::Null(_)) => None,
                Some(_) => Some(get_time(item, "expires_at")?),
            },
        })
    })
}

pub(super) fn contact_pool_item(p: &ContactPool) -> Item {
    let mut item = HashMap::from([
        ("pk".to_owned(), s(keys::contact_pool(p.id))),
        ("kind".to_owned(), s("contact_pool")),
        ("id".to_owned(), s(p.id.to_string())),
        ("org_id".to_owned(), s(p.org_id.to_string())),
        ("name".to_owned(), s(p.name.as_str())),
        ("type".to_owned(), s(p.pool_type.as_str())),
        (
            "max_parallel_items".to_owned(),
            n(p.max_parallel_items.get()),
        ),
        ("max_retries".to_owned(), n(p.max_retries.get())),
        ("is_active".to_owned(), AttributeValue::Bool(p.is_active)),
        ("contacts_count".to_owned(), n(p.contacts_count)),
        ("created_at".to_owned(), s(p.created_at.to_string())),
        ("updated_at".to_owned(), s(p.updated_at.to_string())),
        ("version".to_owned(), n(p.version)),
    ]);
    if let Some(d) = &p.description {
        item.insert("description".into(), s(d.as_str()));
    }
    item
}

pub(super) fn contact_pool_from_item(item: &Item) -> Result<ContactPool, StoreError> {
    decode(|| {
        Ok(ContactPool {
            id: get_id(item, "id")?,
            org_id: get_id(item, "org_id")?,
            name: get_text(item, "name", PoolName::parse)?,
            description: match item.get("description") {
                None | Some(AttributeValue::Null(_)) => None,
                Some(_) => Some(get_text(item, "description", Description::parse)?),
            },
            pool_type: PoolType::parse(get_s(item, "type")?)?,
            max_parallel_items: MaxParallelItems::new(get_n(item, "max_parallel_items")?)?,
            max_retries: MaxRetries::new(get_n(item, "max_retries")?)?,
            is_active: get_bool(item, "is_active")?,
            contacts_count: get_n(item, "contacts_count")?,
            created_at: get_time(item, "created_at")?,
            updated_at: get_time(item, "updated_at")?,
            version: get_n(item, "version")?,
        })
    })
}

pub(super) fn guardrail_item(p: &GuardrailPool) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(keys::guardrail_pool(p.id))),
        ("kind".to_owned(), s("guardrail_pool")),
        ("id".to_owned(), s(p.id.to_string())),
        ("org_id".to_owned(), s(p.org_id.to_string())),
        ("brand_id".to_owned(), s(p.brand_id.to_string())),
        ("name".to_owned(), s(p.name.as_str())),
        ("slug".to_owned(), s(p.slug.as_str())),
        ("created_at".to_owned(), s(p.created_at.to_string())),
        ("updated_at".to_owned(), s(p.updated_at.to_string())),
        ("version".to_owned(), n(p.version)),
    ])
}

pub(super) fn guardrail_from_item(item: &Item) -> Result<GuardrailPool, StoreError> {
    decode(|| {
        Ok(GuardrailPool {
            id: get_id(item, "id")?,
            org_id: get_id(item, "org_id")?,
            brand_id: get_id(item, "brand_id")?,
            name: get_text(item, "name", GuardrailName::parse)?,
            slug: get_text(item, "slug", Slug::parse)?,
            created_at: get_time(item, "created_at")?,
            updated_at: get_time(item, "updated_at")?,
            version: get_n(item, "version")?,
        })
    })
}

pub(super) fn claim_item(org_id: OrgId, slug: &Slug, pool_id: PoolId) -> Item {
    HashMap::from([
        ("pk".to_owned(), s(keys::slug_claim(org_id, slug))),
        ("kind".to_owned(), s("slug_claim")),
        ("org_id".to_owned(), s(org_id.to_string())),
        ("slug".to_owned(), s(slug.as_str())),
        ("pool_id".to_owned(), s(pool_id.to_string())),
    ])
}

pub(super) fn claim_from_item(item: &Item) -> Result<SlugClaim, StoreError> {
    decode(|| {
        Ok(SlugClaim {
            org_id: get_id(item, "org_id")?,
            slug: get_text(item, "slug", Slug::parse)?,
            pool_id: get_id(item, "pool_id")?,
        })
    })
}

pub(super) fn idempotency_record_item(r: &IdempotencyRecord) -> Item {
    HashMap::from([
        (
            "pk".to_owned(),
            s(keys::idempotency_record(
                &r.function,
                r.org_id,
                &r.key_digest,
            )),
        ),
        ("kind".to_owned(), s("idempotency_record")),
        ("org_id".to_owned(), s(r.org_id.to_string())),
        ("function".to_owned(), s(&r.function)),
        ("key_digest".to_owned(), s(&r.key_digest)),
        ("fingerprint".to_owned(), s(r.fingerprint.as_str())),
        ("pool_id".to_owned(), s(r.pool_id.to_string())),
        ("version".to_owned(), n(r.version)),
        ("data".to_owned(), s(&r.data)),
        ("created_at".to_owned(), s(r.created_at.to_string())),
        (TTL_ATTRIBUTE.to_owned(), n(r.expires_at)),
    ])
}

pub(super) fn idempotency_record_from_item(item: &Item) -> Result<IdempotencyRecord, StoreError> {
    decode(|| {
        Ok(IdempotencyRecord {
            org_id: get_id(item, "org_id")?,
            function: get_s(item, "function")?.to_owned(),
            key_digest: get_s(item, "key_digest")?.to_owned(),
            fingerprint: Fingerprint::from_hex(get_s(item, "fingerprint")?.to_owned()),
            pool_id: get_id(item, "pool_id")?,
            version: get_n(item, "version")?,
            data: get_s(item, "data")?.to_owned(),
            created_at: get_time(item, "created_at")?,
            expires_at: get_n(item, TTL_ATTRIBUTE)?,
        })
    })
}
