//! Request bodies: size, content type, and a JSON object without duplicate keys.

use std::collections::HashSet;
use std::fmt;

use lambda_http::http::{header::CONTENT_TYPE, HeaderMap};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::domain::JsonObject;
use crate::error::{ApiError, MalformedBody};

/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Reads a request body as a JSON object, in the contract's order: size (413), content type
/// (415), then syntax and shape (400).
pub fn parse_object(headers: &HeaderMap, body: &[u8]) -> Result<JsonObject, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    if body.is_empty() {
        return Err(ApiError::MalformedBody(MalformedBody::Empty));
    }
    check_content_type(headers)?;
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::MalformedBody(MalformedBody::NotUtf8))?;
    parse_json_object(text).map_err(ApiError::MalformedBody)
}

/// `application/json` or `application/*+json`, with `charset=utf-8` if any charset is given
/// (empty parameters allowed); exactly one `Content-Type` header.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(ApiError::UnsupportedMediaType);
    };
    let value = value.to_str().map_err(|_| ApiError::UnsupportedMediaType)?;
    if is_json_media_type(value) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

fn is_json_media_type(value: &str) -> bool {
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let json = essence == "application/json"
        || essence
            .strip_prefix("application/")
            .and_then(|sub| sub.strip_suffix("+json"))
            .is_some_and(|s| !s.is_empty() && !s.contains('/'));
    if !json {
        return false;
    }
    // Empty parameters (`application/json;`, `a; ; b`) are allowed and mean nothing (API.md §1).
    parts.filter(|param| !param.trim().is_empty()).all(|param| {
        let Some((k, v)) = param.split_once('=') else {
            return false;
        };
        let v = v.trim().trim_matches('"');
        !k.trim().eq_ignore_ascii_case("charset") || v.eq_ignore_ascii_case("utf-8")
    })
}

/// Parses text that must be exactly one JSON object with no duplicate key at any depth.
pub fn parse_json_object(text: &str) -> Result<JsonObject, MalformedBody> {
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = TopLevel.deserialize(&mut de).map_err(classify)?;
    de.end().map_err(|_| MalformedBody::Syntax)?;
    Ok(parsed)
}

const DUPLICATE: &str = "\u{0}duplicate key";
/// Keys of a top-level object checked for duplicates by a scan, before a set takes over.
const SCAN_LIMIT: usize = 16;
const NOT_OBJECT: &str = "\u{0}not an object";

fn classify(e: serde_json::Error) -> MalformedBody {
    let msg = e.to_string();
    if msg.starts_with(DUPLICATE) {
        MalformedBody::DuplicateKey
    } else if msg.starts_with(NOT_OBJECT) {
        MalformedBody::NotAnObject
    } else {
        MalformedBody::Syntax
    }
}

struct TopLevel;

impl<'de> DeserializeSeed<'de> for TopLevel {
    type Value = JsonObject;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<JsonObject, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopLevel {
    type Value = JsonObject;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonObject, A::Error> {
        let mut out: JsonObject = Vec::new();
        // Duplicates are found by a scan while the object is small (a real body has a handful
        // of keys), then by a set of the keys seen, so the check stays linear in the body: a
        // 64 KiB body of thousands of distinct keys costs one hash each, not a scan each.
        let mut seen: Option<HashSet<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            let duplicate = match &mut seen {
                Some(set) => !set.insert(key.clone()),
                None => out.iter().any(|(k, _)| *k == key),
            };
            if duplicate {
                return Err(de::Error::custom(DUPLICATE));
            }
            let value = map.next_value_seed(Strict)?;
            out.push((key, value));
            if seen.is_none() && out.len() == SCAN_LIMIT {
                seen = Some(out.iter().map(|(k, _)| k.clone()).collect());
            }
        }
        Ok(out)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<JsonObject, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<JsonObject, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<JsonObject, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<JsonObject, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<JsonObject, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_unit<E: de::Error>(self) -> Result<JsonObject, E> {
        Err(E::custom(NOT_OBJECT))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonObject, A::Error> {
        // Read the array through, so a syntax error inside it is still a syntax error.
        while seq.next_element_seed(Strict)?.is_some() {}
        Err(de::Error::custom(NOT_OBJECT))
    }
}

/// A JSON value whose objects, at any depth, have no duplicate keys.
struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            let v = map.next_value_seed(Strict)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Dialect;
    use lambda_http::http::HeaderValue;

    fn json_headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    /// The status a body error gets; the same in both dialects (400, 413, 415).
    fn status(e: &ApiError) -> u16 {
        let m = Dialect::Mindhunters.render(e).status;
        assert_eq!(m, Dialect::AgentMessage.render(e).status, "{e:?}");
        m
    }

    fn err(ct: Option<&str>, body: &[u8]) -> u16 {
        let h = ct.map(json_headers).unwrap_or_default();
        status(&parse_object(&h, body).unwrap_err())
    }

    #[test]
    fn objects_keep_their_key_order() {
        let o = parse_object(
            &json_headers("application/json"),
            br#"{"b":1,"a":{"x":[1,2]}}"#,
        )
        .unwrap();
        assert_eq!(o[0].0, "b");
        assert_eq!(o[1].0, "a");
    }

    #[test]
    fn json_media_types_with_parameters_are_accepted() {
        for ct in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "application/merge-patch+json",
            "application/vnd.api+json; charset=utf-8",
            "application/json;",
            "application/json; ",
            "application/json; charset=utf-8;",
            "application/json;; charset=utf-8",
        ] {
            assert!(parse_object(&json_headers(ct), b"{}").is_ok(), "{ct}");
        }
    }

    #[test]
    fn other_media_types_are_415() {
        for ct in [
            "text/plain",
            "application/xml",
            "application/jsonx",
            "application/+json",
            "application/json; charset=latin1",
            "multipart/form-data",
        ] {
            assert_eq!(err(Some(ct), b"{}"), 415, "{ct}");
        }
        assert_eq!(err(None, b"{}"), 415);
        let mut two = json_headers("application/json");
        two.append(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(status(&parse_object(&two, b"{}").unwrap_err()), 415);
    }

    #[test]
    fn size_is_checked_first_and_the_limit_is_64_kib() {
        let at_limit = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_BODY_BYTES - 8));
        assert_eq!(at_limit.len(), MAX_BODY_BYTES);
        assert!(parse_object(&json_headers("application/json"), at_limit.as_bytes()).is_ok());
        let over = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(err(Some("text/plain"), &over), 413);
    }

    #[test]
    fn empty_or_missing_body_is_400_even_without_content_type() {
        assert_eq!(err(None, b""), 400);
        assert_eq!(err(Some("application/json"), b""), 400);
    }

    #[test]
    fn malformed_bodies_are_400_with_their_reason() {
        let cases: &[(&[u8], MalformedBody)] = &[
            (b"{", MalformedBody::Syntax),
            (b"   ", MalformedBody::Syntax),
            (b"{}x", MalformedBody::Syntax),
            (b"{} {}", MalformedBody::Syntax),
            (b"\xef\xbb\xbf{}", MalformedBody::Syntax),
            (b"{\"a\":1e400}", MalformedBody::Syntax),
            (b"[1,2]", MalformedBody::NotAnObject),
            (b"null", MalformedBody::NotAnObject),
            (b"\"str\"", MalformedBody::NotAnObject),
            (b"{\"a\":1,\"a\":2}", MalformedBody::DuplicateKey),
            (b"{\"a\":{\"b\":1,\"b\":2}}", MalformedBody::DuplicateKey),
            (b"{\"a\":[{\"b\":1,\"b\":2}]}", MalformedBody::DuplicateKey),
            (b"{\"a\":\"\xff\"}", MalformedBody::NotUtf8),
            (br#"{"a":"\ud800"}"#, MalformedBody::Syntax),
        ];
        for (body, want) in cases {
            match parse_object(&json_headers("application/json"), body) {
                Err(ApiError::MalformedBody(got)) => {
                    assert_eq!(got, *want, "{}", String::from_utf8_lossy(body))
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
    }

    #[test]
    fn duplicates_are_found_among_thousands_of_keys_wherever_they_stand() {
        let keys: Vec<String> = (0..6_600).map(|i| format!("k{i}")).collect();
        let body = |extra: &str| {
            let mut b: Vec<String> = keys.iter().map(|k| format!("\"{k}\":1")).collect();
            if !extra.is_empty() {
                b.insert(b.len() / 2, format!("\"{extra}\":2"));
            }
            format!("{{{}}}", b.join(","))
        };
        let ok = parse_json_object(&body("")).unwrap();
        assert_eq!(ok.len(), 6_600);
        assert_eq!(ok[6_599].0, "k6599");
        for dup in ["k0", "k15", "k16", "k6599"] {
            assert_eq!(
                parse_json_object(&body(dup)),
                Err(MalformedBody::DuplicateKey),
                "{dup}"
            );
        }
        // Below and across the scan's limit too.
        assert_eq!(
            parse_json_object(r#"{"a":1,"b":2,"a":3}"#),
            Err(MalformedBody::DuplicateKey)
        );
        let mut small: Vec<String> = (0..17).map(|i| format!("\"s{i}\":1")).collect();
        small.push("\"s3\":1".into());
        assert_eq!(
            parse_json_object(&format!("{{{}}}", small.join(","))),
            Err(MalformedBody::DuplicateKey)
        );
    }

    #[test]
    fn deep_nesting_is_a_400_not_a_stack_overflow() {
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse_object(&json_headers("application/json"), deep.as_bytes()),
            Err(ApiError::PayloadTooLarge)
        ));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(
            parse_object(&json_headers("application/json"), deep.as_bytes()),
            Err(ApiError::MalformedBody(MalformedBody::Syntax))
        ));
    }
}
