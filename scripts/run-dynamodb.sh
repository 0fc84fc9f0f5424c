#!/usr/bin/env bash
# local-api on DynamoDB Local: starts DynamoDB Local (in memory) on a free loopback port,
# creates the table and seeds it with poolctl (an organization, keys, pools of both kinds),
# prints the keys and a few curl commands, then runs local-api on that table until Ctrl-C, and
# stops DynamoDB Local whatever happens. PORT (default 3000) and TABLE_NAME (default
# pools-local) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh

ddb_session "${TABLE_NAME:-pools-local}"
PORT="${PORT:-3000}"
export PORT

cargo build --quiet -p poolctl -p local-api
bin="${CARGO_TARGET_DIR:-target}/debug"
poolctl() { "$bin/poolctl" "$@"; }
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

org=$(python3 -c 'import uuid; print(uuid.uuid4())')
brand=$(python3 -c 'import uuid; print(uuid.uuid4())')
poolctl table create >/dev/null
pools_key=$(poolctl key create --org "$org" --scope pools:write | field key)
admin_key=$(poolctl key create --org "$org" --scope org:admin:write | field key)
both_key=$(poolctl key create --org "$org" --scope pools:write --scope org:admin:write | field key)
none_key=$(poolctl key create --org "$org" | field key)
contact=$(poolctl contact-pool create --org "$org" --name "Warm leads" \
    --description "From the autumn campaign" --contacts-count 42 | field uuid)
poolctl contact-pool create --org "$org" --name "Night shift" --type Parallel \
    --max-parallel-items 20 >/dev/null
us=$(poolctl guardrail-pool create --org "$org" --brand "$brand" --name "Outbound US" \
    --slug outbound-us | field id)
eu=$(poolctl guardrail-pool create --org "$org" --brand "$brand" --name "Outbound EU" \
    --slug outbound-eu | field id)

base="http://127.0.0.1:$PORT"
cat <<EOF

table $TABLE_NAME on $AWS_ENDPOINT_URL_DYNAMODB, seeded by poolctl
organization $org
  API keys (Authorization: Bearer <key>):
    $pools_key  pools:write
    $admin_key  org:admin:write
    $both_key  pools:write org:admin:write
    $none_key  (no scopes)
  contact pool $contact
  guardrail pools $us (outbound-us), $eu (outbound-eu)

try:
# 200
curl -i -X PUT $base/api/v1/pools/$contact -H 'Authorization: Bearer $pools_key' -H 'Content-Type: application/json' -d '{"name": "Hot leads", "max_retries": 5}'
# 200
curl -i -X PATCH $base/v1/guardrails/pools/$eu -H 'Authorization: Bearer $admin_key' -H 'Content-Type: application/json' -d '{"slug": "outbound-europe"}'
# 403
curl -i -X PUT $base/api/v1/pools/$contact -H 'Authorization: Bearer $none_key' -H 'Content-Type: application/json' -d '{"max_retries": 5}'
# 409
curl -i -X PATCH $base/v1/guardrails/pools/$eu -H 'Authorization: Bearer $admin_key' -H 'Content-Type: application/json' -d '{"slug": "outbound-us"}'

poolctl on this table, from another shell (more keys, more pools, poolctl check):
export TABLE_NAME=$TABLE_NAME AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
$bin/poolctl --help

EOF

# Not exec: the EXIT trap must still stop DynamoDB Local when local-api ends (Ctrl-C).
"$bin/local-api"
