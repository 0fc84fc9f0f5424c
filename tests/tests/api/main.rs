//! Handler-level tests, one binary of modules (each extra test binary links the SDK again):
//! both functions' handlers fed real API Gateway events, on the in-memory store and on
//! DynamoDB Local (without it, the DynamoDB half returns at once: `pool_tests::dynamo`).
//!
//! The modules share a process, so nothing here may rely on being alone in it: each test owns
//! its data (fresh organizations and ids), and `logging` captures log lines per thread under a
//! process-wide subscriber (see its module doc for why not a thread-local one).

mod contact_pool;
mod corrupt_items;
mod events;
mod faults;
mod guardrail_concurrency;
mod guardrail_pool;
mod hostile_input;
mod idempotency;
mod logging;
mod openapi_conformance;
mod properties;
mod round_trips;
