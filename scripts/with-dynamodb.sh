#!/usr/bin/env bash
# Runs a command with DynamoDB Local started on a free loopback port (and a fresh table name),
# stopping it afterwards: scripts/with-dynamodb.sh cargo test -p pool-tests --test load
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh

ddb_session "${TABLE_NAME:-pools-$(date +%s)-$$}"
"$@"
