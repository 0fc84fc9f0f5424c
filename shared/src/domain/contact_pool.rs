//! Contact pools (`PUT /api/v1/pools/{uuid}`).

use serde::Serialize;
use serde_json::Value;

use super::ids::{OrgId, PoolId};
use super::text::{integer_from_json, is_control, name_from_json, parse_name};
use super::validation::{take, FieldErrorKind, FieldErrors};
use crate::clock::Timestamp;

pub const NAME_MIN: usize = 3;
pub const NAME_MAX: usize = 255;
pub const DESCRIPTION_MAX: usize = 5_000;
pub const MAX_PARALLEL_MIN: i64 = 1;
pub const MAX_PARALLEL_MAX: i64 = 100;
pub const MAX_RETRIES_MAX: i64 = 2_147_483_647;

/// The body's fields, in the contract's table order (the order errors are reported in).
pub const FIELDS: [&str; 6] = [
    "name",
    "description",
    "type",
    "max_parallel_items",
    "max_retries",
    "is_active",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolName(String);

impl PoolName {
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_name(s, NAME_MIN, NAME_MAX).map(Self)
    }

    /// [`PoolName::parse`] for a JSON value, which must be a string.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        name_from_json(v, NAME_MIN, NAME_MAX).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free-form text: at most 5,000 characters; tab, line feed and carriage return are allowed
/// (descriptions span lines), other control characters are not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.chars()
            .any(|c| is_control(c) && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(
                "must not contain control characters other than tab and line breaks".into(),
            );
        }
        if s.chars().count() > DESCRIPTION_MAX {
            return Err(format!("must be at most {DESCRIPTION_MAX} characters"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::text::text_newtype_impls!(PoolName, Description);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PoolType {
    #[serde(rename = "FIFO")]
    Fifo,
    #[serde(rename = "LIFO")]
    Lifo,
    Parallel,
}

impl PoolType {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "FIFO" => Ok(Self::Fifo),
            "LIFO" => Ok(Self::Lifo),
            "Parallel" => Ok(Self::Parallel),
            _ => Err("must be one of FIFO, LIFO, Parallel".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fifo => "FIFO",
            Self::Lifo => "LIFO",
            Self::Parallel => "Parallel",
        }
    }
}

/// 1–100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxParallelItems(u8);

impl MaxParallelItems {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        integer_from_json(v, MAX_PARALLEL_MIN, MAX_PARALLEL_MAX).map(|i| Self(i as u8))
    }

    pub fn new(i: i64) -> Result<Self, String> {
        Self::from_json(&Value::from(i))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// 0–2,147,483,647.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxRetries(u32);

impl MaxRetries {
    pub fn from_json(v: &Value) -> Result<Self, String> {
        integer_from_json(v, 0, MAX_RETRIES_MAX).map(|i| Self(i as u32))
    }

    pub fn new(i: i64) -> Result<Self, String> {
        Self::from_json(&Value::from(i))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// A validated update: every field optional, `description: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactPoolPatch {
    pub name: Option<PoolName>,
    pub description: Option<Option<Description>>,
    pub pool_type: Option<PoolType>,
    pub max_parallel_items: Option<MaxParallelItems>,
    pub max_retries: Option<MaxRetries>,
    pub is_active: Option<bool>,
}

impl ContactPoolPatch {
    /// `{}`: nothing to write.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the patch to a pool (the in-memory store; DynamoDB does the same in its
    /// `UpdateExpression`).
    pub fn apply_to(&self, pool: &mut ContactPool) {
        if let Some(n) = &self.name {
            pool.name = n.clone();
        }
        if let Some(d) = &self.description {
            pool.description = d.clone();
        }
        if let Some(t) = self.pool_type {
            pool.pool_type = t;
        }
        if let Some(m) = self.max_parallel_items {
            pool.max_parallel_items = m;
        }
        if let Some(m) = self.max_retries {
            pool.max_retries = m;
        }
        if let Some(a) = self.is_active {
            pool.is_active = a;
        }
    }
}

impl TryFrom<&[(String, Value)]> for ContactPoolPatch {
    type Error = FieldErrors;

    fn try_from(body: &[(String, Value)]) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut patch = Self::default();
        let mut check = |field: &str, r: Result<(), String>| {
            if let Err(m) = r {
                errors.invalid(field, m);
            }
        };
        if let Some(v) = take(body, "name") {
            check("name", PoolName::from_json(v).map(|n| patch.name = Some(n)));
        }
        if let Some(v) = take(body, "description") {
            check(
                "description",
                match v {
                    Value::Null => Ok(None),
                    Value::String(s) => Description::parse(s).map(Some),
                    _ => Err("must be a string or null".into()),
                }
                .map(|d| patch.description = Some(d)),
            );
        }
        if let Some(v) = take(body, "type") {
            check(
                "type",
                match v {
                    Value::String(s) => PoolType::parse(s),
                    _ => Err("must be one of FIFO, LIFO, Parallel".into()),
                }
                .map(|t| patch.pool_type = Some(t)),
            );
        }
        if let Some(v) = take(body, "max_parallel_items") {
            check(
                "max_parallel_items",
                MaxParallelItems::from_json(v).map(|m| patch.max_parallel_items = Some(m)),
            );
        }
        if let Some(v) = take(body, "max_retries") {
            check(
                "max_retries",
                MaxRetries::from_json(v).map(|m| patch.max_retries = Some(m)),
            );
        }
        if let Some(v) = take(body, "is_active") {
            check(
                "is_active",
                match v {
                    Value::Bool(b) => {
                        patch.is_active = Some(*b);
                        Ok(())
                    }
                    _ => Err("must be a boolean".into()),
                },
            );
        }
        for (k, _) in body {
            if !FIELDS.contains(&k.as_str()) {
                errors.push(k, FieldErrorKind::Unsupported, "is not a supported field");
            }
        }
        errors.into_result(patch)
    }
}

/// A contact pool as stored, made of the same validated types as a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactPool {
    pub id: PoolId,
    pub org_id: OrgId,
    pub name: PoolName,
    pub description: Option<Description>,
    pub pool_type: PoolType,
    pub max_parallel_items: MaxParallelItems,
    pub max_retries: MaxRetries,
    pub is_active: bool,
    pub contacts_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: u64,
}

/// The API's `data` object, its fields in the order of API.md §2's table (the order a reader
/// of the docs expects); serialized straight into the response, with no `Value` in between.
#[derive(Debug, Serialize)]
pub struct ContactPoolView<'a> {
    pub uuid: PoolId,
    pub name: &'a str,
    pub description: Option<&'a str>,
    #[serde(rename = "type")]
    pub pool_type: PoolType,
    pub max_parallel_items: u8,
    pub max_retries: u32,
    pub is_active: bool,
    pub contacts_count: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ContactPool {
    pub fn view(&self) -> ContactPoolView<'_> {
        ContactPoolView {
            uuid: self.id,
            name: self.name.as_str(),
            description: self.description.as_ref().map(Description::as_str),
            pool_type: self.pool_type,
            max_parallel_items: self.max_parallel_items.get(),
            max_retries: self.max_retries.get(),
            is_active: self.is_active,
            contacts_count: self.contacts_count,
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
        let id = PoolId::parse("3c90c3cc-0d44-4b50-8888-8dd25736052a").unwrap();
        for (description, written) in [
            (None, "null".to_owned()),
            (
                Some(Description::parse("Autumn \"leads\"\n").unwrap()),
                r#""Autumn \"leads\"\n""#.to_owned(),
            ),
        ] {
            let pool = ContactPool {
                id,
                org_id: OrgId::new_v4(),
                name: PoolName::parse("Warm leads é").unwrap(),
                description,
                pool_type: PoolType::Parallel,
                max_parallel_items: MaxParallelItems::new(20).unwrap(),
                max_retries: MaxRetries::new(5).unwrap(),
                is_active: true,
                contacts_count: 12,
                created_at: t,
                updated_at: t,
                version: 2,
            };
            let direct = serde_json::value::to_raw_value(&pool.view()).unwrap();
            assert_eq!(
                direct.get(),
                format!(
                    r#"{{"uuid":"{id}","name":"Warm leads é","description":{written},"type":"Parallel","max_parallel_items":20,"max_retries":5,"is_active":true,"contacts_count":12,"created_at":"2026-11-22T10:15:00Z","updated_at":"2026-11-22T10:15:00Z"}}"#
                )
            );
            assert_eq!(
                serde_json::from_str::<Value>(direct.get()).unwrap(),
                pool.to_json()
            );
        }
    }

    fn obj(v: Value) -> Vec<(String, Value)> {
        match v {
            Value::Object(m) => m.into_iter().collect(),
            _ => unreachable!(),
        }
    }

    fn errors(v: Value) -> Vec<(String, String)> {
        ContactPoolPatch::try_from(obj(v).as_slice())
            .unwrap_err()
            .iter()
            .map(|e| (e.field.clone(), e.message.clone()))
            .collect()
    }

    fn one_error(v: Value) -> (String, String) {
        let e = errors(v);
        assert_eq!(e.len(), 1, "{e:?}");
        e.into_iter().next().unwrap()
    }

    #[test]
    fn a_full_valid_body_becomes_a_patch() {
        let p = ContactPoolPatch::try_from(
            obj(
                json!({"name": "  Gold leads ", "description": "line1\nline2", "type": "Parallel",
                "max_parallel_items": 100, "max_retries": 2147483647, "is_active": false}),
            )
            .as_slice(),
        )
        .unwrap();
        assert_eq!(p.name.unwrap().as_str(), "Gold leads");
        assert_eq!(p.description.unwrap().unwrap().as_str(), "line1\nline2");
        assert_eq!(p.pool_type, Some(PoolType::Parallel));
        assert_eq!(p.max_parallel_items.unwrap().get(), 100);
        assert_eq!(p.max_retries.unwrap().get(), 2_147_483_647);
        assert_eq!(p.is_active, Some(false));
    }

    #[test]
    fn an_empty_body_is_an_empty_patch_and_null_description_clears() {
        assert!(ContactPoolPatch::try_from(&[][..]).unwrap().is_empty());
        let p = ContactPoolPatch::try_from(obj(json!({"description": null})).as_slice()).unwrap();
        assert_eq!(p.description, Some(None));
        assert!(!p.is_empty());
    }

    #[test]
    fn name_bounds_are_3_and_255_after_trimming() {
        let ok = |n: &str| ContactPoolPatch::try_from(obj(json!({ "name": n })).as_slice()).is_ok();
        assert!(ok("abc"));
        assert!(ok(&"x".repeat(255)));
        assert!(ok(&format!("  {}  ", "é".repeat(255))));
        let len_msg = (
            "name".to_string(),
            "must be between 3 and 255 characters".to_string(),
        );
        assert_eq!(one_error(json!({"name": "ab"})), len_msg);
        assert_eq!(one_error(json!({"name": "  ab   "})), len_msg);
        assert_eq!(one_error(json!({"name": "x".repeat(256)})), len_msg);
        assert_eq!(one_error(json!({"name": null})).1, "must be a string");
        assert_eq!(one_error(json!({"name": 123})).1, "must be a string");
        assert_eq!(
            one_error(json!({"name": "ab\u{0}c"})).1,
            "must not contain control characters"
        );
    }

    #[test]
    fn description_rules() {
        let ok = |d: Value| {
            ContactPoolPatch::try_from(obj(json!({ "description": d })).as_slice()).is_ok()
        };
        assert!(ok(json!("")));
        assert!(ok(json!("é".repeat(5000))));
        assert!(ok(json!("tab\there\r\n")));
        assert_eq!(
            one_error(json!({"description": "x".repeat(5001)})).1,
            "must be at most 5000 characters"
        );
        assert_eq!(
            one_error(json!({"description": 5})).1,
            "must be a string or null"
        );
        assert!(one_error(json!({"description": "bell\u{7}"}))
            .1
            .contains("control"));
    }

    #[test]
    fn type_is_one_of_three_exact_words() {
        for t in ["FIFO", "LIFO", "Parallel"] {
            assert!(ContactPoolPatch::try_from(obj(json!({ "type": t })).as_slice()).is_ok());
        }
        for t in [
            json!("fifo"),
            json!("PARALLEL"),
            json!(" FIFO"),
            json!(null),
            json!(1),
        ] {
            assert_eq!(
                one_error(json!({ "type": t })),
                ("type".into(), "must be one of FIFO, LIFO, Parallel".into())
            );
        }
    }

    #[test]
    fn integer_fields_at_their_bounds() {
        let ok =
            |k: &str, v: Value| ContactPoolPatch::try_from(obj(json!({ k: v })).as_slice()).is_ok();
        assert!(ok("max_parallel_items", json!(1)));
        assert!(ok("max_parallel_items", json!(100)));
        assert!(!ok("max_parallel_items", json!(0)));
        assert!(!ok("max_parallel_items", json!(101)));
        assert!(!ok("max_parallel_items", json!(20.0)));
        assert!(!ok("max_parallel_items", json!("20")));
        assert!(ok("max_retries", json!(0)));
        assert!(ok("max_retries", json!(2147483647)));
        assert!(!ok("max_retries", json!(-1)));
        assert!(!ok("max_retries", json!(2147483648_i64)));
        assert!(!ok("max_retries", json!(null)));
        assert_eq!(
            one_error(json!({"max_parallel_items": 0})).1,
            "must be an integer between 1 and 100"
        );
        assert_eq!(
            one_error(json!({"max_retries": -1})).1,
            "must be an integer between 0 and 2147483647"
        );
    }

    #[test]
    fn is_active_must_be_a_boolean() {
        for v in [json!(null), json!("true"), json!(1)] {
            assert_eq!(one_error(json!({ "is_active": v })).1, "must be a boolean");
        }
    }

    #[test]
    fn every_error_is_reported_in_table_order_then_unknown_fields() {
        let body = vec![
            ("zzz".to_string(), json!(1)),
            ("is_active".to_string(), json!("no")),
            ("uuid".to_string(), json!("x")),
            ("name".to_string(), json!("a")),
            ("contacts_count".to_string(), json!(3)),
        ];
        let e: Vec<_> = ContactPoolPatch::try_from(body.as_slice())
            .unwrap_err()
            .iter()
            .map(|e| (e.field.clone(), e.kind))
            .collect();
        assert_eq!(
            e,
            vec![
                ("name".into(), FieldErrorKind::Invalid),
                ("is_active".into(), FieldErrorKind::Invalid),
                ("zzz".into(), FieldErrorKind::Unsupported),
                ("uuid".into(), FieldErrorKind::Unsupported),
                ("contacts_count".into(), FieldErrorKind::Unsupported),
            ]
        );
    }
}
