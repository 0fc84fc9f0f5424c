//! Handler-level tests, one binary of modules (each extra test binary links the SDK again):
//! both functions' handlers fed real API Gateway events, on the in-memory store and on
//! DynamoDB Local.

mod contact_pool;
mod events;
mod faults;
mod guardrail_concurrency;
mod guardrail_pool;
mod hostile_input;
mod logging;
mod openapi_conformance;
mod properties;
mod round_trips;
