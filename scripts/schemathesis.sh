#!/usr/bin/env bash
# Contract fuzzing against openapi.yaml with Schemathesis (PyPI, in .venv): starts local-api on
# its embedded demo data on a free loopback port and requires no 5xx and no response outside the
# document. Usage: scripts/schemathesis.sh [max-examples per operation]
# (default $SCHEMATHESIS_EXAMPLES, else 25)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh

examples="${1:-${SCHEMATHESIS_EXAMPLES:-25}}"
venv_install
venv_activate

API_PID=""
# shellcheck disable=SC2016 # expanded at exit
on_exit 'stop_process "$API_PID"'
cargo build --quiet -p local-api
port="$(free_port)"
mkdir -p target
log=target/schemathesis-local-api.log
# Without TABLE_NAME (the test command exports one for its own tests): the embedded demo data,
# whose keys and pools scripts/schemathesis.toml names.
env -u TABLE_NAME PORT="$port" AUTH_CACHE_TTL_SECS=30 "${CARGO_TARGET_DIR:-target}/debug/local-api" >"$log" 2>&1 &
API_PID=$!
wait_for_line "$log" "listening on" "$API_PID"
st --config-file scripts/schemathesis.toml run openapi.yaml \
    --url "http://127.0.0.1:$port" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    --seed 20261124 \
    --workers 1 \
    --no-color
