//! A per-execution-environment cache of successful key lookups, so a warm function skips the
//! store round trip for a key it has just seen.
//!
//! Bounded (least recently used entry goes first), positive lookups only (an unknown, revoked
//! or expired key is never cached, so it costs a lookup each time), and entries live at most
//! `ttl` seconds: a revoked key stops working within the TTL. A TTL of 0 disables it. Ages are
//! measured on the request clock; an entry that looks younger than zero (the clock was set back)
//! counts as stale, so a step of the clock never stretches the TTL.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::Timestamp;
use crate::domain::api_key::{ApiKeyRecord, KeyHash};

pub const DEFAULT_TTL_SECS: u64 = 30;
pub const DEFAULT_CAPACITY: usize = 1024;

struct Entry {
    record: ApiKeyRecord,
    cached_at: Timestamp,
    last_used: u64,
}

pub struct AuthCache {
    ttl_secs: u64,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<KeyHash, Entry>,
    tick: u64,
}

impl AuthCache {
    pub fn new(ttl_secs: u64, capacity: usize) -> Self {
        Self {
            ttl_secs,
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// No caching: every request looks its key up.
    pub fn disabled() -> Self {
        Self::new(0, 0)
    }

    /// From `AUTH_CACHE_TTL_SECS` (default 30 when unset or empty; 0 disables). Anything but a
    /// whole number of seconds is an error, so a typo fails the cold start instead of quietly
    /// running with another revocation window.
    pub fn from_env() -> Result<Self, String> {
        Self::from_setting(std::env::var("AUTH_CACHE_TTL_SECS").ok().as_deref())
    }

    /// [`AuthCache::from_env`] for a given value of `AUTH_CACHE_TTL_SECS`.
    pub fn from_setting(ttl_secs: Option<&str>) -> Result<Self, String> {
        let ttl = match ttl_secs.map(str::trim) {
            None | Some("") => DEFAULT_TTL_SECS,
            Some(v) => v.parse().map_err(|_| {
                format!(
                    "AUTH_CACHE_TTL_SECS is {v:?}: give a whole number of seconds \
                     (0 disables the auth cache; unset means {DEFAULT_TTL_SECS})"
                )
            })?,
        };
        Ok(Self::new(ttl, DEFAULT_CAPACITY))
    }

    /// Whether an entry cached at `cached_at` may still be served at `now`.
    fn is_fresh(&self, cached_at: Timestamp, now: Timestamp) -> bool {
        u64::try_from(now.unix() - cached_at.unix()).is_ok_and(|age| age < self.ttl_secs)
    }

    pub fn is_enabled(&self) -> bool {
        self.ttl_secs > 0 && self.capacity > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, hash: &KeyHash, now: Timestamp) -> Option<ApiKeyRecord> {
        if !self.is_enabled() {
            return None;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        let fresh = match inner.entries.get_mut(hash) {
            None => return None,
            Some(e) if self.is_fresh(e.cached_at, now) => {
                e.last_used = tick;
                Some(e.record.clone())
            }
            Some(_) => None,
        };
        if fresh.is_none() {
            inner.entries.remove(hash);
        }
        fresh
    }

    /// Remembers a key that authenticated.
    pub fn put(&self, hash: &KeyHash, record: &ApiKeyRecord, now: Timestamp) {
        if !self.is_enabled() || !record.is_usable_at(now) {
            return;
        }
        let mut inner = self.lock();
        inner.tick += 1;
        let tick = inner.tick;
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(hash) {
            let oldest = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                inner.entries.remove(&k);
            }
        }
        inner.entries.insert(
            hash.clone(),
            Entry {
                record: record.clone(),
                cached_at: now,
                last_used: tick,
            },
        );
    }

    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::api_key::KeyStatus;
    use crate::domain::ids::OrgId;

    fn rec() -> ApiKeyRecord {
        ApiKeyRecord {
            key_id: "k".into(),
            org_id: OrgId::new_v4(),
            scopes: Default::default(),
            status: KeyStatus::Active,
            expires_at: None,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix(1_800_000_000 + secs).unwrap()
    }

    #[test]
    fn entries_live_for_the_ttl_only() {
        let c = AuthCache::new(30, 10);
        let h = KeyHash::of("a");
        c.put(&h, &rec(), at(0));
        assert!(c.get(&h, at(29)).is_some());
        assert!(c.get(&h, at(30)).is_none());
        assert!(c.is_empty(), "a stale entry is dropped");
    }

    #[test]
    fn a_clock_set_back_makes_entries_stale() {
        let c = AuthCache::new(30, 10);
        let h = KeyHash::of("a");
        c.put(&h, &rec(), at(100));
        assert!(c.get(&h, at(99)).is_none(), "younger than zero: stale");
        assert!(c.is_empty());
    }

    #[test]
    fn a_huge_ttl_still_serves_entries() {
        let c = AuthCache::new(u64::MAX, 10);
        let h = KeyHash::of("a");
        c.put(&h, &rec(), at(0));
        assert!(c.get(&h, at(1_000_000)).is_some());
    }

    #[test]
    fn the_setting_is_a_whole_number_of_seconds_or_unset() {
        for (setting, ttl) in [
            (None, Some(DEFAULT_TTL_SECS)),
            (Some(""), Some(DEFAULT_TTL_SECS)),
            (Some(" 5 "), Some(5)),
            (Some("0"), Some(0)),
            (Some("thirty"), None),
            (Some("-1"), None),
            (Some("1.5"), None),
            (Some("30s"), None),
        ] {
            let got = AuthCache::from_setting(setting);
            assert_eq!(got.as_ref().ok().map(|c| c.ttl_secs), ttl, "{setting:?}");
            if let Err(e) = got {
                assert!(e.contains("AUTH_CACHE_TTL_SECS"), "{e}");
            }
        }
        assert!(!AuthCache::from_setting(Some("0")).unwrap().is_enabled());
    }

    #[test]
    fn a_zero_ttl_disables_it() {
        let c = AuthCache::new(0, 10);
        let h = KeyHash::of("a");
        c.put(&h, &rec(), at(0));
        assert!(c.get(&h, at(0)).is_none());
        assert!(!c.is_enabled());
    }

    #[test]
    fn only_usable_keys_are_cached() {
        let c = AuthCache::new(30, 10);
        let mut revoked = rec();
        revoked.status = KeyStatus::Revoked;
        c.put(&KeyHash::of("r"), &revoked, at(0));
        let mut expired = rec();
        expired.expires_at = Some(at(0));
        c.put(&KeyHash::of("e"), &expired, at(0));
        assert!(c.is_empty());
    }

    #[test]
    fn the_least_recently_used_entry_goes_first() {
        let c = AuthCache::new(30, 2);
        let (a, b, d) = (KeyHash::of("a"), KeyHash::of("b"), KeyHash::of("d"));
        c.put(&a, &rec(), at(0));
        c.put(&b, &rec(), at(0));
        assert!(c.get(&a, at(1)).is_some());
        c.put(&d, &rec(), at(1));
        assert_eq!(c.len(), 2);
        assert!(c.get(&a, at(1)).is_some());
        assert!(c.get(&b, at(1)).is_none());
        assert!(c.get(&d, at(1)).is_some());
    }
}
