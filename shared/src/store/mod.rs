//! The store port, split by who uses it, and its adapters: [`dynamodb`] for real, [`memory`]
//! for the embedded default and fast tests, and (feature `test-support`, never in a function
//! binary) `faulty`, to fail on purpose. One contract suite (`tests/` crate) runs against the
//! first two so they cannot drift.
//!
//! - [`ApiKeys`], [`ContactPools`], [`GuardrailPools`]: the calls a request makes; [`Store`] is
//!   the three together, what a function's [`crate::pipeline::Services`] holds.
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
                    .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                    .and_then(|t| t.parse().ok())
                {
                    versions.push(v);
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
}

/// What the functions need: every request-path call, nothing administrative.
pub trait Store: ApiKeys + ContactPools + GuardrailPools {}

impl<T: ApiKeys + ContactPools + GuardrailPools + ?Sized> Store for T {}

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
}
