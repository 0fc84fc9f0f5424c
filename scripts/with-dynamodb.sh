#!/usr/bin/env bash
# Runs a command with DynamoDB Local started on a free loopback port (and a fresh table name),
# stopping it afterwards: scripts/with-dynamodb.sh cargo test -p pool-tests --test load
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dynamodb-local.sh
ddb_install
trap ddb_stop EXIT
# A signal ends the script (after the EXIT trap has cleaned up) instead of resuming it.
trap 'exit 130' INT
trap 'exit 143' TERM
ddb_start
export TABLE_NAME="${TABLE_NAME:-pools-$(date +%s)-$$}"
"$@"
