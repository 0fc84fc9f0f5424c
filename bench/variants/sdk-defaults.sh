#!/usr/bin/env bash
# The AWS SDK crates with their default features, as the workspace had them before issue 6:
# adds SSO, credential_process and the legacy hyper 0.14 + rustls/ring client.
set -euo pipefail
E="$(dirname "$0")/edit.py"
python3 "$E" Cargo.toml \
    'aws-config = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }' \
    'aws-config = { version = "1", features = ["behavior-version-latest"] }'
python3 "$E" Cargo.toml \
    'aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }' \
    'aws-sdk-dynamodb = { version = "1", features = ["behavior-version-latest"] }'
