//! Validated domain types: raw JSON in, newtypes with one checking constructor out.

pub mod api_key;
pub mod contact_pool;
pub mod guardrail_pool;
pub mod idempotency;
pub mod ids;
pub mod text;
pub mod validation;

/// A JSON object as it came, keys in order (duplicates already refused by [`crate::body`]).
pub type JsonObject = Vec<(String, serde_json::Value)>;
