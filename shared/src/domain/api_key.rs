//! API keys as the store keeps them: the key's SHA-256 (never the key), and its record. Both
//! the authentication path ([`crate::auth`]) and the store port use these, so they live here,
//! below both.

use std::collections::BTreeSet;
use std::fmt;

use sha2::{Digest, Sha256};

use super::ids::OrgId;
use crate::clock::Timestamp;

/// The SHA-256 of an API key, as lowercase hex. Its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyHash(String);

impl KeyHash {
    pub fn of(key: &str) -> Self {
        Self(hex::encode(Sha256::digest(key.as_bytes())))
    }

    /// Wraps a hash read back from the store.
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    /// The hex digits, for the store's key only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Revoked,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(Self::Active),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// What the store knows of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub key_id: String,
    pub org_id: OrgId,
    pub scopes: BTreeSet<String>,
    pub status: KeyStatus,
    pub expires_at: Option<Timestamp>,
}

impl ApiKeyRecord {
    pub fn is_usable_at(&self, now: Timestamp) -> bool {
        self.status == KeyStatus::Active && self.expires_at.is_none_or(|t| now < t)
    }
}
