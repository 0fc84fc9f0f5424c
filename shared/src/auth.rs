//! API-key authentication and scopes.
//!
//! The store keeps only a key's SHA-256 hash. Neither the key, nor its hash, nor the
//! `Authorization` header is ever logged or sent back: [`KeyHash`] does not print itself.

use std::collections::BTreeSet;

use lambda_http::http::{header::AUTHORIZATION, HeaderMap};

use crate::auth_cache::AuthCache;
use crate::clock::Timestamp;
use crate::domain::api_key::KeyHash;
use crate::domain::ids::OrgId;
use crate::error::ApiError;
use crate::store::ApiKeys;

pub const SCOPE_POOLS_WRITE: &str = "pools:write";
pub const SCOPE_ORG_ADMIN_WRITE: &str = "org:admin:write";

/// The prefix of every key this project issues.
pub const KEY_PREFIX: &str = "am_live_";
const KEY_RANDOM_CHARS: usize = 40;

/// A new API key: `am_live_` + 40 base62 characters from the OS's random source (about 238
/// bits). The caller shows it once and stores only its [`KeyHash`].
pub fn generate_key() -> Result<String, getrandom::Error> {
    const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut key = String::with_capacity(KEY_PREFIX.len() + KEY_RANDOM_CHARS);
    key.push_str(KEY_PREFIX);
    let mut buf = [0u8; 64];
    while key.len() < KEY_PREFIX.len() + KEY_RANDOM_CHARS {
        getrandom::fill(&mut buf)?;
        // Rejection sampling keeps every character equally likely: 248 = 4 × 62.
        for b in buf.iter().filter(|b| **b < 248) {
            if key.len() == KEY_PREFIX.len() + KEY_RANDOM_CHARS {
                break;
            }
            key.push(BASE62[usize::from(*b % 62)] as char);
        }
    }
    Ok(key)
}

/// A new public key id (`key_` + a lowercase ULID): safe to print, log and pass to
/// `poolctl key revoke`.
pub fn new_key_id() -> String {
    format!("key_{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// The caller, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: String,
    pub org_id: OrgId,
    pub scopes: BTreeSet<String>,
}

impl Principal {
    pub fn require_scope(&self, scope: &str) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::MissingScope)
        }
    }
}

/// Takes the token out of `Authorization: Bearer <token>`. The scheme is case-insensitive and
/// exactly one token must follow it after one space. No header (or a blank one) is "missing";
/// anything else that is not that shape, including a second `Authorization` header, is "invalid".
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Err(ApiError::MissingCredentials),
        (Some(v), None) => v,
        (Some(_), Some(_)) => return Err(ApiError::InvalidCredentials),
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidCredentials)?;
    if value.trim().is_empty() {
        return Err(ApiError::MissingCredentials);
    }
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidCredentials)?;
    if !scheme.eq_ignore_ascii_case("bearer")
        || token.is_empty()
        || !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::InvalidCredentials);
    }
    Ok(token)
}

/// Authenticates a request: the key's hash is looked up in the cache, else in the store.
/// Unknown, revoked and expired keys all fail the same way.
pub async fn authenticate(
    headers: &HeaderMap,
    store: &dyn ApiKeys,
    cache: &AuthCache,
    now: Timestamp,
) -> Result<Principal, ApiError> {
    let token = bearer_token(headers)?;
    let hash = KeyHash::of(token);
    let record = match cache.get(&hash, now) {
        Some(r) => {
            crate::metrics::count_auth_cache_hit();
            r
        }
        None => {
            crate::metrics::count_auth_cache_miss();
            let r = store
                .find_api_key(&hash)
                .await
                .map_err(ApiError::from)?
                .ok_or(ApiError::InvalidCredentials)?;
            cache.put(&hash, &r, now);
            r
        }
    };
    if !record.is_usable_at(now) {
        return Err(ApiError::InvalidCredentials);
    }
    Ok(Principal {
        key_id: record.key_id,
        org_id: record.org_id,
        scopes: record.scopes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::api_key::{ApiKeyRecord, KeyStatus};
    use crate::store::memory::MemoryStore;
    use lambda_http::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        for v in ["Bearer abc", "bearer abc", "BEARER abc"] {
            assert_eq!(bearer_token(&headers(&[v])).unwrap(), "abc");
        }
    }

    #[test]
    fn missing_is_told_from_invalid() {
        assert!(matches!(
            bearer_token(&headers(&[])),
            Err(ApiError::MissingCredentials)
        ));
        assert!(matches!(
            bearer_token(&headers(&[""])),
            Err(ApiError::MissingCredentials)
        ));
        for v in [
            "Bearer",
            "Bearer ",
            "Bearer  abc",
            "Bearer abc def",
            "Basic abc",
            "Token abc",
            "abc",
        ] {
            assert!(
                matches!(
                    bearer_token(&headers(&[v])),
                    Err(ApiError::InvalidCredentials)
                ),
                "{v:?}"
            );
        }
        assert!(matches!(
            bearer_token(&headers(&["Bearer a", "Bearer a"])),
            Err(ApiError::InvalidCredentials)
        ));
    }

    #[test]
    fn generated_keys_have_the_documented_shape_and_differ() {
        let a = generate_key().unwrap();
        let b = generate_key().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("am_live_"));
        assert_eq!(a.len(), 48);
        assert!(a[8..].bytes().all(|c| c.is_ascii_alphanumeric()));
    }

    #[test]
    fn hashes_are_sha256_hex_and_never_debug_printed() {
        let h = KeyHash::of("abc");
        assert_eq!(
            h.expose(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{h:?}"), "KeyHash(<redacted>)");
    }

    fn record(status: KeyStatus, expires_at: Option<Timestamp>) -> ApiKeyRecord {
        ApiKeyRecord {
            key_id: "key_1".into(),
            org_id: OrgId::new_v4(),
            scopes: [SCOPE_POOLS_WRITE.to_string()].into(),
            status,
            expires_at,
        }
    }

    #[tokio::test]
    async fn active_unexpired_keys_authenticate_and_others_do_not() {
        let store = MemoryStore::new();
        let now = t("2026-11-22T10:00:00Z");
        let cases = [
            ("am_live_good", record(KeyStatus::Active, None), true),
            (
                "am_live_later",
                record(KeyStatus::Active, Some(t("2026-11-22T10:00:01Z"))),
                true,
            ),
            (
                "am_live_expired",
                record(KeyStatus::Active, Some(now)),
                false,
            ),
            ("am_live_revoked", record(KeyStatus::Revoked, None), false),
        ];
        for (key, rec, _) in &cases {
            store.insert_api_key(&KeyHash::of(key), rec.clone());
        }
        for (key, rec, ok) in cases {
            let got = authenticate(
                &headers(&[&format!("Bearer {key}")]),
                &store,
                &AuthCache::disabled(),
                now,
            )
            .await;
            match (ok, got) {
                (true, Ok(p)) => assert_eq!(p.org_id, rec.org_id),
                (false, Err(ApiError::InvalidCredentials)) => {}
                (_, other) => panic!("{key}: {other:?}"),
            }
        }
        let cache = AuthCache::new(30, 8);
        let unknown = authenticate(&headers(&["Bearer am_live_nobody"]), &store, &cache, now).await;
        assert!(matches!(unknown, Err(ApiError::InvalidCredentials)));
        assert!(cache.is_empty(), "failed lookups are not cached");
    }

    #[tokio::test]
    async fn a_cached_key_is_served_until_its_ttl_and_then_looked_up_again() {
        let store = MemoryStore::new();
        let key = "am_live_cached";
        let rec = record(KeyStatus::Active, None);
        store.insert_api_key(&KeyHash::of(key), rec.clone());
        let cache = AuthCache::new(30, 8);
        let h = headers(&[&format!("Bearer {key}")]);
        let t0 = t("2026-11-22T10:00:00Z");
        assert!(authenticate(&h, &store, &cache, t0).await.is_ok());
        let mut revoked = rec;
        revoked.status = KeyStatus::Revoked;
        store.insert_api_key(&KeyHash::of(key), revoked);
        let within = t("2026-11-22T10:00:29Z");
        assert!(
            authenticate(&h, &store, &cache, within).await.is_ok(),
            "served from cache"
        );
        let after = t("2026-11-22T10:00:30Z");
        assert!(matches!(
            authenticate(&h, &store, &cache, after).await,
            Err(ApiError::InvalidCredentials)
        ));
        assert!(matches!(
            authenticate(&h, &store, &AuthCache::disabled(), within).await,
            Err(ApiError::InvalidCredentials)
        ));
    }

    #[test]
    fn scopes_are_required_exactly() {
        let p = Principal {
            key_id: "k".into(),
            org_id: OrgId::new_v4(),
            scopes: [SCOPE_POOLS_WRITE.to_string()].into(),
        };
        assert!(p.require_scope(SCOPE_POOLS_WRITE).is_ok());
        assert!(matches!(
            p.require_scope(SCOPE_ORG_ADMIN_WRITE),
            Err(ApiError::MissingScope)
        ));
    }
}
