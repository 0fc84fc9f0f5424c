//! `openapi.yaml` as a test oracle: what it declares for an operation and a status (headers, and
//! the JSON body's schema), and whether a handler's reply conforms. Schemas are checked as JSON
//! Schema 2020-12 (OpenAPI 3.1's dialect) with formats asserted; their `$ref`s resolve inside the
//! document, which is registered under a base URI that is never fetched.

use std::path::PathBuf;

use jsonschema::{Draft, Registry};
use serde_json::{json, Value};

use crate::Reply;

const BASE_URI: &str = "https://pools-api.invalid/openapi.json";

/// Responses carrying this extension are answered by API Gateway itself, so no handler test
/// can produce them.
pub const GATEWAY_EXTENSION: &str = "x-answered-by";

pub fn spec_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml")
}

/// The document, and a registry that resolves `$ref`s into it.
pub struct OpenApi {
    doc: Value,
    registry: Registry<'static>,
}

impl OpenApi {
    /// The repository's `openapi.yaml`.
    pub fn load() -> Self {
        let text = std::fs::read_to_string(spec_path()).expect("read openapi.yaml");
        let doc: Value = serde_yaml_ng::from_str(&text).expect("openapi.yaml is YAML");
        Self::new(doc)
    }

    pub fn new(doc: Value) -> Self {
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(BASE_URI, doc.clone())
            .expect("a valid base URI")
            .prepare()
            .expect("openapi.yaml's schemas resolve");
        Self { doc, registry }
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// The JSON pointer of an operation: `/paths/<path>/<method>`.
    pub fn operation(path: &str, method: &str) -> String {
        format!("/paths/{}/{}", escape(path), method.to_ascii_lowercase())
    }

    /// What is at `pointer`, after following OpenAPI `$ref`s (`#/…`), and where that is.
    pub fn resolve(&self, pointer: &str) -> Result<(String, &Value), String> {
        let mut at = pointer.to_owned();
        for _ in 0..16 {
            let v = self
                .doc
                .pointer(&at)
                .ok_or_else(|| format!("openapi.yaml has nothing at {at}"))?;
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    at = r
                        .strip_prefix('#')
                        .ok_or_else(|| format!("{at}: only local $refs are used, not {r}"))?
                        .to_owned();
                }
                None => return Ok((at, v)),
            }
        }
        Err(format!("{pointer}: $ref chain too long"))
    }

    /// The statuses an operation declares.
    pub fn statuses(&self, path: &str, method: &str) -> Vec<u16> {
        let at = format!("{}/responses", Self::operation(path, method));
        self.doc
            .pointer(&at)
            .and_then(Value::as_object)
            .map(|m| m.keys().filter_map(|k| k.parse().ok()).collect())
            .unwrap_or_default()
    }

    /// Whether the response an operation declares for `status` is API Gateway's own.
    pub fn answered_by_gateway(&self, path: &str, method: &str, status: u16) -> bool {
        self.resolve(&format!(
            "{}/responses/{status}",
            Self::operation(path, method)
        ))
        .is_ok_and(|(_, r)| r.get(GATEWAY_EXTENSION).is_some())
    }

    /// Validates `instance` against the schema at `pointer`.
    pub fn validate(&self, pointer: &str, instance: &Value) -> Result<(), String> {
        let schema = json!({ "$ref": format!("{BASE_URI}#{}", percent_encode(pointer)) });
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| format!("schema at {pointer} does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .map(|e| format!("{} (at '{}')", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("against {pointer}: {}", errors.join("; ")))
        }
    }

    /// Checks a handler's reply against the operation `method path`: its status is declared,
    /// every declared header that is required is there and valid, the content type is one the
    /// response declares and the body validates against that content's schema.
    pub fn check(&self, path: &str, method: &str, reply: &Reply) -> Result<(), String> {
        let op = Self::operation(path, method);
        let (at, response) = self
            .resolve(&format!("{op}/responses/{}", reply.status))
            .map_err(|_| {
                format!(
                    "{} {path}: status {} is not declared",
                    method.to_ascii_uppercase(),
                    reply.status
                )
            })?;
        let mut problems = Vec::new();
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for name in headers.keys() {
                if let Err(e) = self.check_header(&at, name, reply) {
                    problems.push(e);
                }
            }
        }
        match response.get("content").and_then(Value::as_object) {
            None if reply.body.is_null() => {}
            None => problems.push(format!("{at} declares no body, the reply has one")),
            Some(content) => {
                let media = reply
                    .header("content-type")
                    .and_then(|c| c.split(';').next())
                    .map(|c| c.trim().to_ascii_lowercase())
                    .unwrap_or_default();
                if content.contains_key(&media) {
                    let schema = format!("{at}/content/{}/schema", escape(&media));
                    if let Err(e) = self.validate(&schema, &reply.body) {
                        problems.push(format!("body {e}"));
                    }
                } else {
                    problems.push(format!("{at} declares no content of type {media:?}"));
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n  "))
        }
    }

    fn check_header(&self, response_at: &str, name: &str, reply: &Reply) -> Result<(), String> {
        let (at, header) = self.resolve(&format!("{response_at}/headers/{}", escape(name)))?;
        let required = header
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(value) = reply.header(name) else {
            return if required {
                Err(format!("header {name} is declared required and missing"))
            } else {
                Ok(())
            };
        };
        let (schema_at, schema) = self.resolve(&format!("{at}/schema"))?;
        // Header values are text; a schema of type integer describes the number written there.
        let instance = match schema.get("type").and_then(Value::as_str) {
            Some("integer") => value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| json!(value)),
            _ => json!(value),
        };
        self.validate(&schema_at, &instance)
            .map_err(|e| format!("header {name}: {value:?} {e}"))
    }

    /// Every example in the document with the schema it illustrates: the `example` and
    /// `examples` of media types, parameters and headers.
    pub fn examples(&self) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        collect_examples(&self.doc, String::new(), &mut out);
        out
    }
}

fn collect_examples(v: &Value, at: String, out: &mut Vec<(String, String, Value)>) {
    let Some(map) = v.as_object() else {
        return;
    };
    if map.contains_key("schema") {
        let schema = format!("{at}/schema");
        if let Some(e) = map.get("example") {
            out.push((format!("{at}/example"), schema.clone(), e.clone()));
        }
        if let Some(examples) = map.get("examples").and_then(Value::as_object) {
            for (name, e) in examples {
                if let Some(value) = e.get("value") {
                    out.push((
                        format!("{at}/examples/{}", escape(name)),
                        schema.clone(),
                        value.clone(),
                    ));
                }
            }
        }
    }
    for (k, child) in map {
        // A schema's own `example` keyword is an annotation of that schema, not a message.
        if k == "schema" || k == "schemas" {
            continue;
        }
        collect_examples(child, format!("{at}/{}", escape(k)), out);
    }
}

/// One JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer as a URI fragment.
fn percent_encode(pointer: &str) -> String {
    let mut out = String::new();
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
