//! The store port, split by who uses it, and its adapters: [`dynamodb`] for real, [`memory`]
//! for the embedded default and fast tests, and (feature `test-support`, never in a function
//! binary) `faulty`, to fail on purpose. One contract suite (`tests/` crate) runs against the
//! first two so they cannot drift.
//!
//! - [`ApiKeys`], [`ContactPools`], [`GuardrailPools`], [`IdempotencyRecords`]: the calls a
//!   request makes; [`Store`] is them together, what a function's
//!   [`crate::pipeline::Services`] holds.
//! - [`StoreAdmin`]: the administrative extension (keys, pool creation, the snapshot), used by
//!   `poolctl`, `local-api`'s demo seeding and the tests; never on a request path.

pub mod dynamodb;
#[cfg(feature = "test-support")]
pub mod faulty;
pub mod https;
pub mod memory;

use async_trait::async_trait;
use lambda_http::http::{header::IF_MATCH, HeaderMap};

use crate::clock::Timestamp;
use crate::domain::api_key::{ApiKeyRecord, KeyHash};
use crate::domain::contact_pool::{ContactPool, ContactPoolPatch};
use crate::domain::guardrail_pool::{GuardrailPool, GuardrailPoolPatch, Slug};
use crate::domain::idempotency::{Idempotency, IdempotencyRecord, Written};
use crate::domain::ids::{OrgId, PoolId};
use crate::error::{ApiError, BoxError};

/// How many times a guardrail slug change is tried when the pool moves under it (or the
/// transaction meets another) before the request gets 409.
pub const MAX_SLUG_CHANGE_ATTEMPTS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such item, or it belongs to another organization.
    #[error("not found")]
    NotFound,
    /// The item's version is not one the request allowed (`If-Match`).
    #[error("version mismatch")]
    PreconditionFailed,
    /// The slug is claimed by another pool of the organization.
    #[error("slug taken")]
    SlugTaken,
    /// Contention persisted past the bounded retries.
    #[error("concurrent modification")]
    Conflict,
    /// A create found the item already there.
    #[error("already exists")]
    AlreadyExists,
    /// Throttled, timed out or unreachable after the SDK's own retries.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    #[error("store failure")]
    Internal(#[source] BoxError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::PreconditionFailed => ApiError::PreconditionFailed,
            StoreError::SlugTaken => ApiError::SlugTaken,
            StoreError::Conflict => ApiError::Conflict,
            StoreError::AlreadyExists => ApiError::internal("unexpected: item already exists"),
            StoreError::Unavailable(e) => ApiError::Unavailable(e),
            StoreError::Internal(e) => ApiError::Internal(e),
        }
    }
}

/// The most `If-Match` versions a request is checked against: DynamoDB's limit on the operands
/// of `IN`. Both adapters see the same list, so they give the same answer: the first 100
/// distinct versions named count, later ones are ignored.
pub const MAX_IF_MATCH_TAGS: usize = 100;

/// What `If-Match` allows: any version (no header, or `*`), or one of a list. A weak or
/// malformed tag never matches (strong comparison), so such a header admits no version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Precondition {
    #[default]
    Any,
    Versions(Vec<u64>),
}

impl Precondition {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut any = false;
        let mut present = false;
        let mut versions = Vec::new();
        for value in headers.get_all(IF_MATCH) {
            present = true;
            let Ok(value) = value.to_str() else { continue };
            for tag in value.split(',').map(str::trim) {
                if tag == "*" {
                    any = true;
                } else if let Some(v) = tag
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    // A strong tag matches only the exact text of an ETag: `"03"` is not `"3"`.
                    .filter(|t| {
                        !t.is_empty()
                            && t.bytes().all(|b| b.is_ascii_digit())
                            && (t.len() == 1 || !t.starts_with('0'))
                    })
                    .and_then(|t| t.parse().ok())
                {
                    if !versions.contains(&v) && versions.len() < MAX_IF_MATCH_TAGS {
                        versions.push(v);
                    }
                }
            }
        }
        if !present || any {
            Self::Any
        } else {
            Self::Versions(versions)
        }
    }

    pub fn admits(&self, version: u64) -> bool {
        match self {
            Self::Any => true,
            Self::Versions(v) => v.contains(&version),
        }
    }

    /// [`Self::admits`] as a store result.
    pub fn require(&self, version: u64) -> Result<(), StoreError> {
        if self.admits(version) {
            Ok(())
        } else {
            Err(StoreError::PreconditionFailed)
        }
    }
}

/// A slug claim: `slug` in `org_id` belongs to `pool_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlugClaim {
    pub org_id: OrgId,
    pub slug: Slug,
    pub pool_id: PoolId,
}

/// Everything in the store, read by an administrative scan (`poolctl check` reads it against
/// API.md §4's invariants).
#[derive(Debug, Clone, Default)]
pub struct StoreSnapshot {
    pub contact_pools: Vec<ContactPool>,
    pub guardrail_pools: Vec<GuardrailPool>,
    pub claims: Vec<SlugClaim>,
    /// `Idempotency-Key` records, expired ones included (DynamoDB deletes them in its time).
    pub idempotency_records: Vec<IdempotencyRecord>,
    /// Items that could not be read as what their key says they are.
    pub unreadable: Vec<String>,
}

/// Key lookups, for authentication.
#[async_trait]
pub trait ApiKeys: Send + Sync {
    async fn find_api_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyRecord>, StoreError>;
}

/// What `PUT /api/v1/pools/{uuid}` needs. Every write checks the organization in its own
/// condition.
#[async_trait]
pub trait ContactPools: Send + Sync {
    async fn get_contact_pool(&self, org_id: OrgId, id: PoolId) -> Result<ContactPool, StoreError>;

    /// One conditional write: exists, same organization, version admitted; version + 1.
    async fn update_contact_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<ContactPool, StoreError>;

    /// [`ContactPools::update_contact_pool`] with an `Idempotency-Key`: a live record of the key
    /// answers at once (`Recorded`, nothing written, whatever the pool is now); else the change
    /// and its record are written in one atomic write (`Applied`).
    async fn update_contact_pool_recorded(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &ContactPoolPatch,
        pre: &Precondition,
        now: Timestamp,
        idempotency: &Idempotency,
    ) -> Result<Written<ContactPool>, StoreError>;
}

/// What `PATCH /v1/guardrails/pools/{id}` needs.
#[async_trait]
pub trait GuardrailPools: Send + Sync {
    async fn get_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
    ) -> Result<GuardrailPool, StoreError>;

    /// A rename is one conditional write; a slug change moves the slug claim in the same
    /// transaction; a slug equal to the current one writes nothing for the slug.
    async fn update_guardrail_pool(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
    ) -> Result<GuardrailPool, StoreError>;

    /// [`GuardrailPools::update_guardrail_pool`] with an `Idempotency-Key`, as
    /// [`ContactPools::update_contact_pool_recorded`]; a change that writes nothing (the slug it
    /// has, no name) records nothing.
    async fn update_guardrail_pool_recorded(
        &self,
        org_id: OrgId,
        id: PoolId,
        patch: &GuardrailPoolPatch,
        pre: &Precondition,
        now: Timestamp,
        idempotency: &Idempotency,
    ) -> Result<Written<GuardrailPool>, StoreError>;
}

/// `Idempotency-Key` records, for requests that write nothing (`{}`) but must still meet a
/// key used before.
#[async_trait]
pub trait IdempotencyRecords: Send + Sync {
    /// The key's record, if one is live at `now` (an expired one is as absent).
    async fn find_idempotency_record(
        &self,
        idempotency: &Idempotency,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// The live record of the request's key, if it has one (no call without a key).
    async fn replayable(
        &self,
        idempotency: Option<&Idempotency>,
        now: Timestamp,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        match idempotency {
            Some(i) => self.find_idempotency_record(i, now).await,
            None => Ok(None),
        }
    }
}

/// What the functions need: every request-path call, nothing administrative.
pub trait Store: ApiKeys + ContactPools + GuardrailPools + IdempotencyRecords {}

impl<T: ApiKeys + ContactPools + GuardrailPools + IdempotencyRecords + ?Sized> Store for T {}

/// The administrative extension: `poolctl`, `local-api`'s demo seeding, and tests.
#[async_trait]
pub trait StoreAdmin: Store {
    async fn create_api_key(&self, hash: &KeyHash, record: &ApiKeyRecord)
        -> Result<(), StoreError>;

    /// Marks a key revoked; `NotFound` if there is no such key id.
    async fn revoke_api_key(&self, key_id: &str) -> Result<(), StoreError>;

    async fn create_contact_pool(&self, pool: &ContactPool) -> Result<(), StoreError>;

    /// Creates the pool and its slug claim together; `SlugTaken` writes nothing.
    async fn create_guardrail_pool(&self, pool: &GuardrailPool) -> Result<(), StoreError>;

    /// Reads everything (an administrative scan, never on a request path).
    async fn snapshot(&self) -> Result<StoreSnapshot, StoreError>;

    /// Deletes a slug claim behind the store's back, breaking invariant 3 on purpose (tests of
    /// `poolctl check` and of the repair a slug change makes). Tests only.
    #[cfg(feature = "test-support")]
    async fn remove_claim_unchecked(&self, org_id: OrgId, slug: &Slug) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    fn pre(values: &[&str]) -> Precondition {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(IF_MATCH, HeaderValue::from_str(v).unwrap());
        }
        Precondition::from_headers(&h)
    }

    #[test]
    fn if_match_lists_strong_tags_and_star() {
        assert_eq!(pre(&[]), Precondition::Any);
        assert_eq!(pre(&["*"]), Precondition::Any);
        assert_eq!(pre(&["\"3\""]), Precondition::Versions(vec![3]));
        assert_eq!(pre(&["\"3\", \"5\""]), Precondition::Versions(vec![3, 5]));
        assert_eq!(pre(&["\"3\"", "\"4\""]), Precondition::Versions(vec![3, 4]));
        for never in [
            "W/\"3\"",
            "3",
            "\"\"",
            "\"-1\"",
            "\"abc\"",
            "\"99999999999999999999999\"",
        ] {
            let p = pre(&[never]);
            assert_eq!(p, Precondition::Versions(vec![]), "{never}");
            assert!(!p.admits(3));
        }
        assert!(pre(&["\"3\""]).admits(3));
        assert!(!pre(&["\"3\""]).admits(4));
    }

    #[test]
    fn a_tag_with_a_leading_zero_is_another_tag() {
        for tag in ["\"03\"", "\"003\"", "\"00\""] {
            let p = pre(&[tag]);
            assert_eq!(p, Precondition::Versions(vec![]), "{tag}");
            assert!(!p.admits(3) && !p.admits(0), "{tag}");
        }
        assert_eq!(pre(&["\"0\""]), Precondition::Versions(vec![0]));
        assert_eq!(pre(&["\"30\""]), Precondition::Versions(vec![30]));
    }

    #[test]
    fn at_most_the_first_hundred_distinct_versions_count() {
        let tags: Vec<String> = (1..=150).map(|v| format!("\"{v}\"")).collect();
        let p = pre(&[tags.join(", ").as_str()]);
        assert_eq!(p, Precondition::Versions((1..=100).collect()));
        assert!(p.admits(100) && !p.admits(101));
        // Repeats do not use up the hundred.
        let mut repeated = vec!["\"1\"".to_owned(); 150];
        repeated.push("\"7\"".into());
        assert!(pre(&[repeated.join(",").as_str()]).admits(7));
    }
}
