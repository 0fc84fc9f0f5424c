//! What both Lambda functions stand on: the response envelopes, one error type, API-key auth,
//! body parsing, validated domain types, and the store port with its DynamoDB and in-memory
//! adapters.

pub mod auth;
pub mod auth_cache;
pub mod body;
pub mod clock;
pub mod config;
pub mod domain;
pub mod envelope;
pub mod error;
pub mod metrics;
pub mod pipeline;
pub mod request_id;
pub mod store;
pub mod telemetry;

pub use error::ApiError;
