//! The tools: `local-api` in process and as a binary, `poolctl` as a library and as a binary,
//! and which TLS roots both trust. The binaries are built once per run of this test binary
//! (`pool_tests::processes`).

mod local_api_dynamodb;
mod local_api_embedded;
mod local_api_http;
mod poolctl_check;
mod poolctl_commands;
mod tls_roots;
