#!/usr/bin/env bash
# Contract fuzzing against openapi.yaml with Schemathesis (PyPI): starts local-api on its
# embedded demo data on a free loopback port and requires no 5xx and no response outside the
# document. Usage: scripts/schemathesis.sh [max-examples per operation]   (default 25)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-25}"
venv=.venv-schemathesis
if [ ! -x "$venv/bin/st" ]; then
    echo "installing schemathesis (PyPI) into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
cargo build --quiet -p local-api
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
mkdir -p target
log=target/schemathesis-local-api.log
PORT="$port" AUTH_CACHE_TTL_SECS=30 target/debug/local-api >"$log" 2>&1 &
api=$!
trap 'kill "$api" 2>/dev/null || true; wait "$api" 2>/dev/null || true' EXIT
# A signal ends the script (after the EXIT trap has cleaned up) instead of resuming it.
trap 'exit 130' INT
trap 'exit 143' TERM
for _ in $(seq 1 200); do
    grep -q "listening on" "$log" && break
    kill -0 "$api" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.05
done
SCHEMATHESIS_TELEMETRY=false "$venv/bin/st" --config-file scripts/schemathesis.toml run openapi.yaml \
    --url "http://127.0.0.1:$port" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    --seed 20261124 \
    --workers 1 \
    --no-color
