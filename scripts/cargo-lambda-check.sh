#!/usr/bin/env bash
# Both functions as Lambda runs them, without Docker: `cargo lambda watch` (the Lambda runtime
# emulator) runs the real binaries against DynamoDB Local seeded with the demo data
# (tests/examples/seed_demo.rs), every event in events/<function>/ is sent with
# `cargo lambda invoke`, and each response's statusCode must be the status its file name starts
# with. Stops everything it started, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh
. scripts/lib/venv.sh

mapfile -t FUNCTIONS < <(functions_list)
WATCH_PID=""
WATCH_LOG="target/cargo-lambda-watch.log"

venv_install
venv_activate
ddb_session "pools-demo-$(date +%s)-$$"
# Its own process group (setsid below): the emulator and the function processes it started.
# shellcheck disable=SC2016 # expanded at exit
on_exit 'stop_process "$WATCH_PID" group'
started=$SECONDS

# The binaries the emulator runs, and the seeding step, built before anything listens.
packages=()
for fn in "${FUNCTIONS[@]}"; do packages+=(-p "$fn"); done
cargo build -q "${packages[@]}" -p pool-tests --example seed_demo
cargo run -q -p pool-tests --example seed_demo

port="$(free_port)"
mkdir -p target
# --ignore-changes: a file saved elsewhere in the workspace must not restart the functions
# between two invokes.
setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" --ignore-changes \
    --env-var "TABLE_NAME=$TABLE_NAME" \
    --env-var "AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB" \
    --env-var "AWS_REGION=$AWS_REGION" \
    --env-var "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" \
    --env-var "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY" \
    --env-var "AWS_EC2_METADATA_DISABLED=true" \
    --env-var "RUST_LOG=${RUST_LOG:-warn}" \
    >"$WATCH_LOG" 2>&1 &
WATCH_PID=$!
wait_for_port "$port" "$WATCH_PID" "$WATCH_LOG"
echo "cargo lambda watch on 127.0.0.1:$port (pid $WATCH_PID)" >&2

passed=0
failed=0
for fn in "${FUNCTIONS[@]}"; do
    if ! compgen -G "events/$fn/*.json" >/dev/null; then
        failed=$((failed + 1))
        echo "FAIL $fn: no events in events/$fn/" >&2
        continue
    fi
    for event in events/"$fn"/*.json; do
        name="$(basename "$event" .json)"
        want="${name%%-*}"
        # The first invoke of a function starts it; give that time.
        out="$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" \
            --output-format json --data-file "$event" "$fn" 2>&1)" || true
        got="$(printf '%s' "$out" | response_status)"
        if [ "$got" = "$want" ]; then
            passed=$((passed + 1))
            echo "ok   $fn $name: $got" >&2
        else
            failed=$((failed + 1))
            echo "FAIL $fn $name: want $want, got $got: $out" >&2
        fi
    done
done
echo "cargo-lambda-check: $((SECONDS - started)) s" >&2
if [ "$failed" -ne 0 ]; then
    echo "cargo lambda watch log (last lines):" >&2
    tail -n 40 "$WATCH_LOG" >&2
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
