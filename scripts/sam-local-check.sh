#!/usr/bin/env bash
# Both functions as `sam local` runs them, in Docker, from nothing:
#   1. Docker (apt docker.io; dockerd started as root if none answers), qemu-user-static and
#      binfmt_misc so the arm64 images run on x86_64 (scripts/lib/docker.sh);
#   2. the local stand-in for AWS's base image public.ecr.aws/lambda/provided:al2023-arm64
#      (scripts/sam-base-image.sh: this machine cannot pull AWS's; a machine that can skips it);
#   3. `sam build` once (scripts/sam-build.sh: the arm64 `bootstrap`s that get deployed);
#   4. DynamoDB Local with the demo data (tests/examples/seed_demo.rs), and every file in
#      events/<function>/ through `sam local invoke -e … --env-vars sam/local-env.json
#      --docker-network host` (through scripts/lib/sam-host-network.py, which makes SAM honour
#      `host`): each response's statusCode must be the status its file name
#      starts with;
#   5. `sam local start-api` on the same build and table: the curl commands `make run` prints
#      (the README's) must get the statuses they promise (200, 401, 403, 404, 409, 412, 422).
# Stops everything it started (start-api, DynamoDB Local, dockerd) even when a check fails. No
# Docker is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh
. scripts/lib/venv.sh
. scripts/lib/docker.sh

mapfile -t FUNCTIONS < <(functions_list)
WORK="target/sam-local"
API_PID=""
API_LOG="$WORK/start-api.log"
started=$SECONDS
phase=$SECONDS
timing() { echo "sam-local-check: $1: $((SECONDS - phase)) s" >&2; phase=$SECONDS; }

# The credentials and region both the seeding step and SAM use: SAM hands the functions the
# shell's AWS credentials (an env-vars file cannot set them), and DynamoDB Local keeps its data
# per access key and region.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN

rm -rf "$WORK"
mkdir -p "$WORK"
venv_install
venv_activate
docker_session arm64
# shellcheck disable=SC2016 # expanded at exit; registered after docker_session, so it runs first
on_exit 'stop_process "$API_PID" group'
timing "docker"

bash scripts/sam-base-image.sh arm64 2>&1 | { grep -v -e '^DEPRECATED: The legacy builder' \
    -e '^ *BuildKit is currently disabled' -e '^ *environment-variable\.$' >&2 || true; }
docker image inspect public.ecr.aws/lambda/provided:al2023-arm64 >/dev/null
timing "base image"

# One build for both checks below (sam local uses .aws-sam/build/template.yaml when it exists).
bash scripts/sam-build.sh
timing "sam build"

# The seeding step, built before DynamoDB Local starts.
cargo build -q -p pool-tests --example seed_demo
ddb_session "$(python3 -c 'import json; print(json.load(open("sam/local-env.json"))["Parameters"]["TABLE_NAME"])')"
api_port="$(free_port)"
# A JVM started a moment ago on a busy machine may miss the SDK's first deadlines: three tries.
for try in 1 2 3; do
    cargo run -q -p pool-tests --example seed_demo -- --print "http://127.0.0.1:$api_port" \
        >"$WORK/demo.txt" && break
    [ "$try" -lt 3 ] || exit 1
    sleep 2
done
head -n 1 "$WORK/demo.txt" >&2
# sam/local-env.json as it is, but for DynamoDB Local's port (a free one here, 8000 in the README).
python3 - "$AWS_ENDPOINT_URL_DYNAMODB" >"$WORK/env.json" <<'EOF'
import json, sys
env = json.load(open("sam/local-env.json"))
p = env["Parameters"]
assert p["AWS_ENDPOINT_URL_DYNAMODB"].startswith("http://127.0.0.1:"), p
p["AWS_ENDPOINT_URL_DYNAMODB"] = sys.argv[1]
json.dump(env, sys.stdout)
EOF
SAM_ARGS=(--env-vars "$WORK/env.json" --docker-network host --skip-pull-image)
# `sam`, with `--docker-network host` really meaning the host's network: SAM 1.170 leaves the
# container on Docker's default network for `host` (scripts/lib/sam-host-network.py says why).
sam_host_network() { python scripts/lib/sam-host-network.py "$@"; }
timing "DynamoDB Local and seed"

resource() { # update-contact-pool -> UpdateContactPoolFunction (as scripts/sam-build.sh)
    echo "$(echo "$1" | sed -E 's/(^|-)([a-z])/\U\2/g')Function"
}

passed=0
failed=0
fail() {
    failed=$((failed + 1))
    echo "FAIL $*" >&2
}

# One function's events, in file order (some change what a later one sees), one line per event
# on stdout: `ok <message>` or `FAIL <message>`, with the log's tail after a failure.
invoke_events() {
    local fn="$1" event name want log out got
    if ! compgen -G "events/$fn/*.json" >/dev/null; then
        echo "FAIL $fn: no events in events/$fn/"
        return
    fi
    for event in events/"$fn"/*.json; do
        name="$(basename "$event" .json)"
        want="${name%%-*}"
        log="$WORK/invoke-$fn-$name.log"
        # stdout: the function's response, one JSON line; stderr: SAM's and the function's logs.
        out="$(sam_host_network local invoke "$(resource "$fn")" -e "$event" "${SAM_ARGS[@]}" 2>"$log")" || true
        got="$(printf '%s' "$out" | tail -n 1 | response_status)"
        if [ "$got" = "$want" ]; then
            echo "ok   sam local invoke $fn $name: $got"
        else
            echo "FAIL sam local invoke $fn $name: want $want, got $got: $out"
            tail -n 20 "$log" | sed 's/^/     /'
        fi
    done
}

# The first invoke builds SAM's image on the stand-in (once per base image): alone, so that two
# invokes never build it at once. Then the functions side by side, each its own events in order
# (they touch different pools): about half the wall time of one after the other.
sam_host_network local invoke "$(resource "${FUNCTIONS[0]}")" -e "events/${FUNCTIONS[0]}/405-get.json" \
    "${SAM_ARGS[@]}" >"$WORK/image-warmup.out" 2>"$WORK/invoke-image-warmup.log" || true
invoke_pids=()
for fn in "${FUNCTIONS[@]}"; do
    invoke_events "$fn" >"$WORK/invoke-$fn.results" 2>&1 &
    invoke_pids+=("$!")
done
for pid in "${invoke_pids[@]}"; do wait "$pid" || fail "an invoke job exited with an error"; done
for fn in "${FUNCTIONS[@]}"; do
    while IFS= read -r line; do
        echo "$line" >&2
        case "$line" in
            "ok "*) passed=$((passed + 1)) ;;
            "FAIL "*) failed=$((failed + 1)) ;;
        esac
    done <"$WORK/invoke-$fn.results"
done
timing "sam local invoke (every event)"

setsid python scripts/lib/sam-host-network.py local start-api --host 127.0.0.1 --port "$api_port" "${SAM_ARGS[@]}" >"$API_LOG" 2>&1 &
API_PID=$!
wait_for_port "$api_port" "$API_PID" "$API_LOG"
echo "sam local start-api on 127.0.0.1:$api_port (pid $API_PID)" >&2

# The commands `make run` prints and the README shows, each under `# <status>: <what>`, run
# as printed but for curl's output options.
statuses=()
while IFS= read -r line; do
    case "$line" in
        "# "[0-9][0-9][0-9]:*) want="${line:2:3}" ;;
        "curl -i "*)
            cmd="curl -sS -o $WORK/body.json -w %{http_code} ${line#curl -i }"
            got="$(eval "$cmd" 2>&1)" || true
            what="${cmd#* -X }"
            what="${what%% -H*}"
            if [ "$got" = "$want" ]; then
                passed=$((passed + 1))
                statuses+=("$got")
                echo "ok   sam local start-api $what: $got" >&2
            else
                fail "sam local start-api $what: want $want, got $got: $(cat "$WORK/body.json" 2>/dev/null)"
            fi
            ;;
    esac
done <"$WORK/demo.txt"
for s in 200 401 403 404 409 412 422; do
    case " ${statuses[*]} " in
        *" $s "*) ;;
        *) fail "sam local start-api: no curl command got a $s" ;;
    esac
done
timing "sam local start-api (the README's curl commands)"

# A function that failed shows as an `Error: …` line on its stderr (main returning Err). One of
# them, `… IncompleteMessage`, would be the runtime's long poll of GET /next cut by the emulator
# stopping after the answer was sent (README, "sam local here"): not seen with this SAM, and
# counted as a failure too if it appears, so that a real error is never waved through.
if grep -H '^Error: ' "$WORK"/invoke-*.log "$API_LOG" >"$WORK/errors.txt"; then
    fail "function errors on stderr ($WORK/errors.txt): $(head -n 5 "$WORK/errors.txt")"
fi

echo "sam-local-check: $((SECONDS - started)) s" >&2
if [ "$failed" -ne 0 ]; then
    echo "sam local start-api log (last lines):" >&2
    tail -n 40 "$API_LOG" >&2
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
