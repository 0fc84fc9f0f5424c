#!/usr/bin/env bash
# Every proposal of BENCHMARKS.md at once: env-config, rustls-ring, lambda-http-lean.
set -euo pipefail
D="$(dirname "$0")"
bash "$D/env-config.sh"
bash "$D/rustls-ring.sh"
bash "$D/lambda-http-lean.sh"
# env-config builds the client's config itself: give it the ring client too.
python3 "$D/edit.py" shared/src/store/dynamodb.rs \
    '            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if let Ok(url)' \
    '            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                        aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            );
        if let Ok(url)'
