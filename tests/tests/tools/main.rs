//! The tools: `local-api` in process and as a binary, `poolctl` as a library and as a binary,
//! and which TLS roots both trust. The binaries are built once per run of this test binary
//! (`pool_tests::processes`, into the target directory this test runs from, so
//! `CARGO_TARGET_DIR` too); tests that need DynamoDB Local return at once without it.

mod local_api_dynamodb;
mod local_api_embedded;
mod local_api_http;
mod poolctl_check;
mod poolctl_commands;
mod tls_roots;
