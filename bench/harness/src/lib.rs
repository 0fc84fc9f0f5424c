//! The benchmark harness (`scripts/bench.sh` runs it; BENCHMARKS.md has the figures):
//!
//! - [`cold`]: cold starts of the release binaries against a loopback Lambda Runtime API
//!   ([`runtime_api`]), beside a bare `lambda_http` hello-world, the floor; [`probe`] times the
//!   parts of a function's init and first store calls inside a fresh process.
//! - [`warm`]: each handler in process on the in-memory store, auth cache hit.
//! - [`load`]: HTTP through `local-api` on DynamoDB Local, beside the same DynamoDB calls sent
//!   directly.
//! - [`report`]: the Markdown tables of BENCHMARKS.md, from the results file.

pub mod cold;
pub mod event;
pub mod http1;
pub mod load;
pub mod probe;
pub mod procfs;
pub mod report;
pub mod runtime_api;
pub mod seed;
pub mod stats;
pub mod warm;
