#!/usr/bin/env bash
# The HTTPS client trusts only the Amazon Trust Services roots (DynamoDB's certificates chain to
# them), embedded in the binary, instead of loading the system's certificates at init.
set -euo pipefail
E="$(dirname "$0")/edit.py"
pem=shared/src/store/amazon-trust-services.pem
for c in Amazon_Root_CA_1 Amazon_Root_CA_2 Amazon_Root_CA_3 Amazon_Root_CA_4 \
    Starfield_Services_Root_Certificate_Authority_-_G2; do
    cat "/etc/ssl/certs/$c.pem"
done >"$pem"
python3 "$E" Cargo.toml \
    'aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }' \
    'aws-sdk-dynamodb = { version = "1", default-features = false, features = ["behavior-version-latest", "rt-tokio", "default-https-client"] }
aws-smithy-http-client = { version = "1", features = ["rustls-aws-lc"] }'
python3 "$E" shared/Cargo.toml 'aws-sdk-dynamodb.workspace = true' \
    'aws-sdk-dynamodb.workspace = true
aws-smithy-http-client.workspace = true'
python3 "$E" shared/src/store/dynamodb.rs \
    '    aws_config::defaults(aws_config::BehaviorVersion::latest())
' \
    '    use aws_smithy_http_client::tls;
    let trust = tls::TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(include_bytes!("amazon-trust-services.pem").as_slice());
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(
                    tls::TlsContext::builder()
                        .with_trust_store(trust)
                        .build()
                        .unwrap_or_default(),
                )
                .build_https(),
        )
'
