#!/usr/bin/env bash
# The system's root certificates (rustls-native-certs, read when the client is built), as the
# SDK's default HTTPS client trusts them: what TLS_ROOTS=system gives, built in as the default.
set -euo pipefail
python3 "$(dirname "$0")/edit.py" shared/src/store/dynamodb/client.rs \
    'Self::from_env_trusting(table, TrustRoots::Amazon).await' \
    'Self::from_env_trusting(table, TrustRoots::System).await'
