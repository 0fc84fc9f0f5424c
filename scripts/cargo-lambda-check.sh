#!/usr/bin/env bash
# Both functions as Lambda runs them, without Docker: `cargo lambda watch` (the Lambda runtime
# emulator) runs the real binaries against DynamoDB Local seeded with the demo data
# (tests/examples/seed_demo.rs), every event in events/<function>/ is sent with
# `cargo lambda invoke`, and each response's statusCode must be the status its file name starts
# with. Stops everything it started, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/dynamodb-local.sh
. scripts/venv.sh

FUNCTIONS=(update-contact-pool patch-guardrail-pool)
WATCH_PID=""
WATCH_LOG="target/cargo-lambda-watch.log"

stop_watch() {
    if [ -n "$WATCH_PID" ] && kill -0 "$WATCH_PID" 2>/dev/null; then
        # Its own process group: the emulator and the function processes it started.
        kill -TERM -- "-$WATCH_PID" 2>/dev/null || kill -TERM "$WATCH_PID" 2>/dev/null || true
        local i
        for i in $(seq 1 50); do
            kill -0 "$WATCH_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$WATCH_PID" 2>/dev/null || true
        wait "$WATCH_PID" 2>/dev/null || true
    fi
    WATCH_PID=""
}

cleanup() {
    stop_watch
    ddb_stop
}

venv_install
venv_activate
ddb_install
trap cleanup EXIT
# A signal ends the script (after the EXIT trap has cleaned up) instead of resuming it.
trap 'exit 130' INT
trap 'exit 143' TERM
ddb_start
export TABLE_NAME="pools-demo-$(date +%s)-$$"
started=$SECONDS

# The binaries the emulator runs, and the seeding step, built before anything listens.
cargo build -q -p update-contact-pool -p patch-guardrail-pool -p pool-tests --example seed_demo
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
for i in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    if ! kill -0 "$WATCH_PID" 2>/dev/null; then
        echo "cargo lambda watch exited; its log:" >&2
        cat "$WATCH_LOG" >&2
        exit 1
    fi
    sleep 0.1
done
echo "cargo lambda watch on 127.0.0.1:$port (pid $WATCH_PID)" >&2

passed=0
failed=0
for fn in "${FUNCTIONS[@]}"; do
    for event in events/"$fn"/*.json; do
        name="$(basename "$event" .json)"
        want="${name%%-*}"
        # The first invoke of a function starts it; give that time.
        out="$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" \
            --output-format json --data-file "$event" "$fn" 2>&1)" || true
        got="$(printf '%s' "$out" | python3 -c \
            'import json,sys
try: print(json.load(sys.stdin)["statusCode"])
except Exception: print("none")')"
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
