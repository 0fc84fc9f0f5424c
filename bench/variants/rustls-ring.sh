#!/usr/bin/env bash
# rustls on ring instead of aws-lc-rs: the same HTTPS client (shared/src/store/https.rs) with
# ring as its crypto provider, and no SDK crate asking for aws-lc-rs.
set -euo pipefail
E="$(dirname "$0")/edit.py"
python3 "$E" Cargo.toml \
    'aws-config = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }' \
    'aws-config = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio"] }'
python3 "$E" Cargo.toml \
    'aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }' \
    'aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio"] }'
python3 "$E" Cargo.toml \
    'aws-smithy-http-client = { version = "1", default-features = false, features = ["rustls-aws-lc"] }' \
    'aws-smithy-http-client = { version = "1", default-features = false, features = ["rustls-ring"] }'
python3 "$E" shared/src/store/https.rs 'CryptoMode::AwsLc' 'CryptoMode::Ring'
