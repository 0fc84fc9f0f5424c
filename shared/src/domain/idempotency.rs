//! `Idempotency-Key` (API.md §5): the header, the request's fingerprint, and the record of an
//! applied change that a retry with the same key gets back.
//!
//! A key belongs to (organization, endpoint, key value). The first request with a key runs as
//! usual; if it ends in a 200 after a write, the store writes the record in the same atomic
//! write as the change. A later request with the same key and fingerprint gets the recorded
//! response again (a replay, nothing written); with another fingerprint, 422. Records live
//! [`RECORD_TTL_SECS`]; an expired one that DynamoDB has not deleted yet counts as absent.

use lambda_http::http::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::ids::{OrgId, PoolId};
use super::JsonObject;
use crate::clock::Timestamp;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header on a replay.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long a key is remembered: 24 hours.
pub const RECORD_TTL_SECS: i64 = 24 * 60 * 60;
/// The longest key, in characters.
pub const MAX_KEY_CHARS: usize = 255;

/// An `Idempotency-Key` value: 1–255 visible ASCII characters (U+0021–U+007E) but the comma,
/// after one pair of surrounding double quotes is removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

/// The header is there but not a key (empty, too long, other characters, or given twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidIdempotencyKey;

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, InvalidIdempotencyKey> {
        let unquoted = raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .unwrap_or(raw);
        let ok = (1..=MAX_KEY_CHARS).contains(&unquoted.len())
            && unquoted
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b',');
        if ok {
            Ok(Self(unquoted.to_owned()))
        } else {
            Err(InvalidIdempotencyKey)
        }
    }

    /// The request's key: `None` without the header; an error if it is malformed or repeated.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, InvalidIdempotencyKey> {
        let mut values = headers.get_all(HEADER).iter();
        match (values.next(), values.next()) {
            (None, _) => Ok(None),
            (Some(v), None) => v
                .to_str()
                .map_err(|_| InvalidIdempotencyKey)
                .and_then(Self::parse)
                .map(Some),
            (Some(_), Some(_)) => Err(InvalidIdempotencyKey),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// SHA-256 of the key, hex: a fixed-size, printable part of a store key.
    pub fn digest(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

/// What makes two requests "the same request" (API.md §5): the path id, the body as a JSON
/// value (whitespace and member order do not matter), and the `If-Match` header as sent (or its
/// absence). SHA-256, hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(id: PoolId, body: &JsonObject, if_match: Option<&str>) -> Self {
        // The top-level members sorted by name; nested objects are `Value` maps, which sort
        // theirs. Written with their lengths, so no two different requests share a text.
        let mut members: Vec<&(String, Value)> = body.iter().collect();
        members.sort_by(|a, b| a.0.cmp(&b.0));
        let mut h = Sha256::new();
        h.update(id.to_string().as_bytes());
        for (k, v) in members {
            let v = v.to_string();
            h.update(format!("\n{}:{k}{}:", k.len(), v.len()).as_bytes());
            h.update(v.as_bytes());
        }
        match if_match {
            Some(m) => h.update(format!("\nif-match {}:{m}", m.len()).as_bytes()),
            None => h.update(b"\nno if-match"),
        }
        Self(hex::encode(h.finalize()))
    }

    /// Read back from a stored record.
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A request's key, in the scope it belongs to, with its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub org_id: OrgId,
    /// The function (endpoint) the key was sent to.
    pub function: &'static str,
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
}

impl Idempotency {
    /// The record's expiry for a change applied at `now`.
    pub fn expires_at(now: Timestamp) -> i64 {
        now.unix().saturating_add(RECORD_TTL_SECS)
    }
}

/// What the store keeps of an applied change made with a key: enough to send its 200 again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub org_id: OrgId,
    pub function: String,
    /// SHA-256 of the key ([`IdempotencyKey::digest`]).
    pub key_digest: String,
    pub fingerprint: Fingerprint,
    pub pool_id: PoolId,
    /// The pool's version after the change (the response's `ETag`).
    pub version: u64,
    /// The response's `data`, as it was written.
    pub data: String,
    pub created_at: Timestamp,
    /// Epoch seconds (the table's TTL attribute).
    pub expires_at: i64,
}

impl IdempotencyRecord {
    /// The record of a change applied at `now` to pool `pool_id`, now at `version`, whose
    /// response `data` is `view` (serialized here, once, as the response writes it).
    pub fn of_change<V: serde::Serialize>(
        idempotency: &Idempotency,
        pool_id: PoolId,
        version: u64,
        view: &V,
        now: Timestamp,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            org_id: idempotency.org_id,
            function: idempotency.function.to_owned(),
            key_digest: idempotency.key.digest(),
            fingerprint: idempotency.fingerprint.clone(),
            pool_id,
            version,
            data: serde_json::to_string(view)?,
            created_at: now,
            expires_at: Idempotency::expires_at(now),
        })
    }

    /// Whether it still counts at `now`: an expired record is as absent.
    pub fn is_live_at(&self, now: Timestamp) -> bool {
        now.unix() < self.expires_at
    }
}

/// The outcome of a write made with a key: applied now, or applied before (the record).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written<T> {
    Applied(T),
    Recorded(IdempotencyRecord),
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;
    use serde_json::json;

    fn obj(v: Value) -> JsonObject {
        match v {
            Value::Object(m) => m.into_iter().collect(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn keys_are_1_to_255_visible_ascii_characters_without_a_comma() {
        for ok in [
            "a",
            "order-1234",
            &"x".repeat(255),
            "\"quoted\"",
            "!~#$%&'()*+-./:;<=>?@[]^_`{|}",
        ] {
            assert!(IdempotencyKey::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(IdempotencyKey::parse("\"abc\"").unwrap().as_str(), "abc");
        // A lone quote is not a pair: it is a one-character key.
        assert_eq!(IdempotencyKey::parse("\"").unwrap().as_str(), "\"");
        for bad in [
            "",
            "\"\"",
            &"x".repeat(256),
            "a b",
            "a,b",
            "é",
            "a\tb",
            "\u{7f}",
        ] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(InvalidIdempotencyKey),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_header_is_optional_but_never_twice() {
        let mut h = HeaderMap::new();
        assert_eq!(IdempotencyKey::from_headers(&h), Ok(None));
        h.append(HEADER, HeaderValue::from_static("k1"));
        assert_eq!(
            IdempotencyKey::from_headers(&h).unwrap().unwrap().as_str(),
            "k1"
        );
        h.append(HEADER, HeaderValue::from_static("k1"));
        assert_eq!(IdempotencyKey::from_headers(&h), Err(InvalidIdempotencyKey));
    }

    #[test]
    fn fingerprints_ignore_member_order_and_whitespace_but_not_values() {
        let id = PoolId::new_v4();
        let a = Fingerprint::of(id, &obj(json!({"name": "x", "max_retries": 3})), None);
        let b = Fingerprint::of(id, &obj(json!({"max_retries": 3, "name": "x"})), None);
        assert_eq!(a, b);
        let parsed =
            crate::body::parse_json_object("{ \"max_retries\" :3,\n\"name\":\"x\" }").unwrap();
        assert_eq!(Fingerprint::of(id, &parsed, None), a);
        for other in [
            Fingerprint::of(id, &obj(json!({"name": "y", "max_retries": 3})), None),
            Fingerprint::of(id, &obj(json!({"name": "x"})), None),
            Fingerprint::of(
                PoolId::new_v4(),
                &obj(json!({"name": "x", "max_retries": 3})),
                None,
            ),
            Fingerprint::of(
                id,
                &obj(json!({"name": "x", "max_retries": 3})),
                Some("\"1\""),
            ),
        ] {
            assert_ne!(other, a);
        }
        // Nested members are compared as values too.
        assert_eq!(
            Fingerprint::of(id, &obj(json!({"x": {"b": 1, "a": 2}})), None),
            Fingerprint::of(id, &parse(r#"{"x":{"a":2,"b":1}}"#), None)
        );
    }

    fn parse(s: &str) -> JsonObject {
        crate::body::parse_json_object(s).unwrap()
    }

    #[test]
    fn records_expire_after_24_hours() {
        let t = Timestamp::parse("2026-11-22T10:00:00Z").unwrap();
        let r = IdempotencyRecord {
            org_id: OrgId::new_v4(),
            function: "update-contact-pool".into(),
            key_digest: "k".into(),
            fingerprint: Fingerprint::from_hex("f".into()),
            pool_id: PoolId::new_v4(),
            version: 2,
            data: "{}".into(),
            created_at: t,
            expires_at: Idempotency::expires_at(t),
        };
        assert!(r.is_live_at(t));
        assert!(r.is_live_at(Timestamp::from_unix(t.unix() + RECORD_TTL_SECS - 1).unwrap()));
        assert!(!r.is_live_at(Timestamp::from_unix(t.unix() + RECORD_TTL_SECS).unwrap()));
    }
}
