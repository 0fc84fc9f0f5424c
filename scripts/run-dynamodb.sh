#!/usr/bin/env bash
# local-api on DynamoDB Local: starts DynamoDB Local (in memory) on a free loopback port,
# creates the table and seeds it with the project's demo data (the organization, keys and pools
# `make run` serves, which events/ and the README's curl commands use; tests/examples/seed_demo.rs),
# prints the keys, the pools and the curl commands, then runs local-api on that table until
# Ctrl-C, and stops DynamoDB Local whatever happens. PORT (default 3000), TABLE_NAME (default
# pools-local) and DDB_PORT (default: a free port) may be set.
#
# With --no-api: DynamoDB Local and the seeded table only, on DDB_PORT (default 8000), until
# Ctrl-C: what sam/local-env.json points `sam local` at (`make sam-dynamodb`).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh

api=yes
case "${1:-}" in
    "") ;;
    --no-api) api=no DDB_PORT="${DDB_PORT:-8000}" ;;
    *) echo "usage: $0 [--no-api]" >&2; exit 2 ;;
esac
export DDB_PORT

cargo build --quiet -p poolctl -p local-api -p pool-tests --example seed_demo
ddb_session "${TABLE_NAME:-pools-local}"
PORT="${PORT:-3000}"
export PORT
bin="${CARGO_TARGET_DIR:-target}/debug"

echo
"$bin/examples/seed_demo" --print "http://127.0.0.1:$PORT"
cat <<EOF

this table from another shell (poolctl: more keys, more pools, poolctl check; sam local):
export TABLE_NAME=$TABLE_NAME AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY AWS_REGION=$AWS_REGION
$bin/poolctl --help

EOF

if [ "$api" = no ]; then
    echo "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB, table $TABLE_NAME; Ctrl-C stops it" >&2
    # Not exec: the EXIT trap must still stop DynamoDB Local (Ctrl-C ends the wait).
    while kill -0 "$DDB_PID" 2>/dev/null; do sleep 1; done
    echo "DynamoDB Local exited" >&2
    exit 1
fi
# Not exec: the EXIT trap must still stop DynamoDB Local when local-api ends (Ctrl-C).
"$bin/local-api"
