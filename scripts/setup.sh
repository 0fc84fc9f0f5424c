#!/usr/bin/env bash
# Installs everything the tests and the local API need: Rust components, Java 17 and
# DynamoDB Local. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh

command -v cargo >/dev/null || { echo "Rust is required: https://rustup.rs" >&2; exit 1; }
if command -v rustup >/dev/null; then
    rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi
ddb_install
echo "setup done"
