//! Guardrail pools (`PATCH /v1/guardrails/pools/{id}`).

use serde::Serialize;
use serde_json::Value;

use super::ids::{BrandId, OrgId, PoolId};
use super::text::{name_from_json, parse_name};
use super::validation::{take, FieldErrorKind, FieldErrors};
use crate::clock::Timestamp;

pub const NAME_MIN: usize = 1;
pub const NAME_MAX: usize = 255;
pub const SLUG_MAX: usize = 63;
pub const FIELDS: [&str; 2] = ["name", "slug"];
/// Fields of the resource that exist but may never change through this endpoint.
pub const IMMUTABLE: [&str; 1] = ["brand_id"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailName(String);

impl GuardrailName {
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_name(s, NAME_MIN, NAME_MAX).map(Self)
    }

    /// [`GuardrailName::parse`] for a JSON value, which must be a string.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        name_from_json(v, NAME_MIN, NAME_MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 1–63 characters matching `^[a-z0-9]+(-[a-z0-9]+)*$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub fn parse(s: &str) -> Result<Self, String> {
        let n = s.chars().count();
        if n == 0 || n > SLUG_MAX {
            return Err(format!("must be between 1 and {SLUG_MAX} characters"));
        }
        let well_formed = s.split('-').all(|part| {
            !part.is_empty() && part.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9'))
        });
        if !well_formed {
            return Err(
                "must be lowercase letters and digits, in groups joined by single hyphens".into(),
            );
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// [`Slug::parse`] for a JSON value, which must be a string.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Self::parse(s),
            _ => Err("must be a string".into()),
        }
    }
}

super::text::text_newtype_impls!(GuardrailName, Slug);

/// A validated update: an absent field is left unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardrailPoolPatch {
    pub name: Option<GuardrailName>,
    pub slug: Option<Slug>,
}

impl GuardrailPoolPatch {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.slug.is_none()
    }

    /// Applies the patch's fields to a pool (the stores; the version and `updated_at` are
    /// theirs to set, as is the slug claim).
    pub fn apply_to(&self, pool: &mut GuardrailPool) {
        if let Some(slug) = &self.slug {
            pool.slug = slug.clone();
        }
        if let Some(name) = &self.name {
            pool.name = name.clone();
        }
    }
}

impl TryFrom<&[(String, Value)]> for GuardrailPoolPatch {
    type Error = FieldErrors;

    fn try_from(body: &[(String, Value)]) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut patch = Self::default();
        if let Some(v) = take(body, "name") {
            match GuardrailName::from_json(v) {
                Ok(n) => patch.name = Some(n),
                Err(m) => errors.invalid("name", m),
            }
        }
        if let Some(v) = take(body, "slug") {
            match Slug::from_json(v) {
                Ok(s) => patch.slug = Some(s),
                Err(m) => errors.invalid("slug", m),
            }
        }
        for (k, _) in body {
            if IMMUTABLE.contains(&k.as_str()) {
                errors.push(k, FieldErrorKind::Immutable, "is immutable");
            } else if !FIELDS.contains(&k.as_str()) {
                errors.push(k, FieldErrorKind::Unsupported, "is not a supported field");
            }
        }
        errors.into_result(patch)
    }
}

/// A guardrail pool as stored, made of the same validated types as a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardrailPool {
    pub id: PoolId,
    pub org_id: OrgId,
    pub brand_id: BrandId,
    pub name: GuardrailName,
    pub slug: Slug,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// The API's `data` object, its fields in the order of API.md §3's example.
#[derive(Debug, Serialize)]
pub struct GuardrailPoolView<'a> {
    pub id: PoolId,
    pub org_id: OrgId,
    pub brand_id: BrandId,
    pub name: &'a str,
    pub slug: &'a str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl GuardrailPool {
    pub fn view(&self) -> GuardrailPoolView<'_> {
        GuardrailPoolView {
            id: self.id,
            org_id: self.org_id,
            brand_id: self.brand_id,
            name: self.name.as_str(),
            slug: self.slug.as_str(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.view()).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_view_is_written_in_the_contracts_order_byte_for_byte() {
        let t = Timestamp::parse("2026-11-22T10:15:00Z").unwrap();
        let u = Timestamp::parse("2026-11-23T08:00:00Z").unwrap();
        let [id, org, brand] = [1, 2, 3].map(uuid::Uuid::from_u128);
        let (id, org, brand) = (PoolId::from(id), OrgId::from(org), BrandId::from(brand));
        let pool = GuardrailPool {
            id,
            org_id: org,
            brand_id: brand,
            name: GuardrailName::parse("Outbound \"EU\" é").unwrap(),
            slug: Slug::parse("outbound-eu").unwrap(),
            created_at: t,
            updated_at: u,
            version: 3,
        };
        let direct = serde_json::value::to_raw_value(&pool.view()).unwrap();
        assert_eq!(
            direct.get(),
            format!(
                r#"{{"id":"{id}","org_id":"{org}","brand_id":"{brand}","name":"Outbound \"EU\" é","slug":"outbound-eu","created_at":"2026-11-22T10:15:00Z","updated_at":"2026-11-23T08:00:00Z"}}"#
            )
        );
        assert_eq!(
            serde_json::from_str::<Value>(direct.get()).unwrap(),
            pool.to_json()
        );
    }

    fn parse(v: Value) -> Result<GuardrailPoolPatch, Vec<(String, String, FieldErrorKind)>> {
        let body: Vec<(String, Value)> = match v {
            Value::Object(m) => m.into_iter().collect(),
            _ => unreachable!(),
        };
        GuardrailPoolPatch::try_from(body.as_slice()).map_err(|e| {
            e.iter()
                .map(|e| (e.field.clone(), e.message.clone(), e.kind))
                .collect()
        })
    }

    #[test]
    fn slugs_match_the_pattern_within_63_characters() {
        for ok in ["a", "0", "tier-1", "a-b-c", "abc123", &"a".repeat(63)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "a_b",
            "a b",
            "é",
            "a.b",
            &"a".repeat(64),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Slug::parse(&"a".repeat(64)).unwrap_err(),
            "must be between 1 and 63 characters"
        );
    }

    #[test]
    fn names_are_1_to_255_after_trimming() {
        assert!(parse(json!({"name": "x"})).is_ok());
        assert!(parse(json!({"name": "y".repeat(255)})).is_ok());
        let e = parse(json!({"name": "   "})).unwrap_err();
        assert_eq!(e[0].1, "must be between 1 and 255 characters");
        assert!(parse(json!({"name": "y".repeat(256)})).is_err());
        assert_eq!(
            parse(json!({"name": null})).unwrap_err()[0].1,
            "must be a string"
        );
    }

    #[test]
    fn brand_is_immutable_and_other_fields_unsupported() {
        let e = parse(json!({"brand_id": "x", "org_id": "y", "name": ""})).unwrap_err();
        assert!(e.contains(&(
            "brand_id".into(),
            "is immutable".into(),
            FieldErrorKind::Immutable
        )));
        assert!(e.contains(&(
            "org_id".into(),
            "is not a supported field".into(),
            FieldErrorKind::Unsupported
        )));
        assert!(e
            .iter()
            .any(|(f, _, k)| f == "name" && *k == FieldErrorKind::Invalid));
    }

    #[test]
    fn empty_patch_is_empty() {
        assert!(parse(json!({})).unwrap().is_empty());
        assert!(!parse(json!({"slug": "a"})).unwrap().is_empty());
    }
}
