#!/usr/bin/env bash
# rustls on ring instead of aws-lc-rs: the SDK's default HTTPS client is built on aws-lc-rs, so
# this builds the same hyper 1 + rustls client on ring and hands it to the config loader.
set -euo pipefail
E="$(dirname "$0")/edit.py"
python3 "$E" Cargo.toml \
    'aws-config = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }' \
    'aws-config = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio"] }
aws-smithy-http-client = { version = "1", features = ["rustls-ring"] }'
python3 "$E" Cargo.toml \
    'aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }' \
    'aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio"] }'
python3 "$E" shared/Cargo.toml 'aws-sdk-dynamodb.workspace = true' \
    'aws-sdk-dynamodb.workspace = true
aws-smithy-http-client.workspace = true'
python3 "$E" shared/src/store/dynamodb.rs \
    '    aws_config::defaults(aws_config::BehaviorVersion::latest())
' \
    '    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
'
