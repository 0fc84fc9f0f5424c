#!/usr/bin/env bash
# The benchmark command (`make bench`): every figure of BENCHMARKS.md, on this machine.
#
# Builds the release binaries (the workspace's [profile.release]), starts DynamoDB Local on a
# free loopback port, then measures: binary sizes; cold starts of both functions and of a bare
# lambda_http hello-world (the floor) against a loopback Lambda Runtime API; where a cold start
# spends its time (init probe); each handler warm, in process; HTTP through local-api at 1 and
# 16 clients beside DynamoDB Local's own latency; and, unless BENCH_VARIANTS=0, the release
# profile and crate features against their alternatives. Stops everything it started.
#
# Results: target/bench/<UTC time>/{results.jsonl,report.md,machine.txt,logs/}; report.md holds
# the tables BENCHMARKS.md quotes.
#
# Knobs (environment, all optional):
#   BENCH_RUNS=25             cold starts per binary and first event
#   BENCH_PROBE_RUNS=20       init-probe processes
#   BENCH_WARM_REQUESTS=20000 requests per case, in process
#   BENCH_HTTP_REQUESTS=4000  requests per endpoint, concurrency and path, over HTTP
#   BENCH_MAX_SECS=60         upper bound of each timed loop (every loop is bounded by count and time)
#   BENCH_VARIANTS=1          0: skip the profile and feature alternatives (each is a full
#                             release build the first time, about 10 minutes on 2 cores)
#   BENCH_VARIANT_RUNS=20     cold starts per variant
#   BENCH_ARM64=1             0: skip the arm64 build (cargo-lambda + zig from .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh

RUNS="${BENCH_RUNS:-25}"
PROBE_RUNS="${BENCH_PROBE_RUNS:-20}"
WARM_REQUESTS="${BENCH_WARM_REQUESTS:-20000}"
HTTP_REQUESTS="${BENCH_HTTP_REQUESTS:-4000}"
MAX_SECS="${BENCH_MAX_SECS:-60}"
VARIANTS="${BENCH_VARIANTS:-1}"
VARIANT_RUNS="${BENCH_VARIANT_RUNS:-20}"
ARM64="${BENCH_ARM64:-1}"

OUT="$ROOT/target/bench/$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS="$OUT/results.jsonl"
H="$ROOT/target/release/bench-harness"
mapfile -t FUNCTIONS < <(functions_list)
mkdir -p "$OUT/logs"

step() { echo "bench: $*" >&2; }

LOCAL_API_PID=""
# shellcheck disable=SC2016 # expanded at exit
on_exit 'stop_process "$LOCAL_API_PID"'

{
    echo "date (UTC): $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Cargo.toml shared functions bench || echo ' (with uncommitted changes)')"
    echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)" \
        "(family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs)," \
        "model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | xargs)), $(nproc) cores" \
        "$(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *\(.*\)/under \1/p')"
    echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
    echo "kernel: $(uname -r)"
    echo "rustc: $(rustc --version)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$OUT/machine.txt" >&2

step "build (release): both functions, the hello-world floor, the harness"
# One invocation, -p each: the functions are built with their own feature set, as
# `cargo lambda build -p <function>` builds them (the harness adds no feature; see its Cargo.toml).
packages=()
for f in "${FUNCTIONS[@]}"; do packages+=(-p "$f"); done
cargo build --release "${packages[@]}" -p bench-hello -p bench-harness
step "build (release): local-api"
cargo build --release -p local-api

# Before DynamoDB Local starts: the in-process loop needs no store, and the JVM's compiler and
# collector threads (a good part of a core after the cold-start warm-up) would share the cores.
step "warm, in process: $WARM_REQUESTS requests per case (at most ${MAX_SECS}s each)"
"$H" warm --out "$RESULTS" --requests "$WARM_REQUESTS" --warmup 1000 --max-secs "$MAX_SECS" >/dev/null
# The same at real-time priority, when allowed: on a machine shared with compilers, the tail
# of the normal run is mostly the scheduler handing the core to someone else.
if command -v chrt >/dev/null && chrt -f 10 true 2>/dev/null; then
    chrt -f 10 "$H" warm --out "$RESULTS" --tag "SCHED_FIFO (chrt -f 10)" \
        --requests "$WARM_REQUESTS" --warmup 1000 --max-secs "$MAX_SECS" >/dev/null
fi

ddb_session "bench-$(date +%s)-$$"

step "sizes (x86_64, stripped by the release profile)"
sizes=()
for f in "${FUNCTIONS[@]}" bench-hello; do
    sizes+=("x86_64:$f=target/release/$f")
done
"$H" sizes --out "$RESULTS" "${sizes[@]}" >/dev/null

# Root certificates: the functions trust the Amazon Trust Services roots embedded in them
# (shared/src/store/https.rs). Beside them, the same binaries with TLS_ROOTS=system, which reads
# the system's roots (rustls-native-certs) when the client is built, at init: as they are here,
# and as one bundle file (no directory scan, as on a system with a single bundle).
certs="$OUT/certs"
mkdir -p "$certs/empty"
env_sets=(--env-set "system-roots:TLS_ROOTS=system")
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    env_sets+=(--env-set "system-bundle:TLS_ROOTS=system,SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt,SSL_CERT_DIR=$certs/empty")
fi

step "cold starts: $RUNS runs of each binary and first event; init probe: $PROBE_RUNS processes"
cold_functions=()
for f in "${FUNCTIONS[@]}"; do cold_functions+=(--function "$f=target/release/$f"); done
"$H" cold --out "$RESULTS" --logs "$OUT/logs" --runs "$RUNS" --probe-runs "$PROBE_RUNS" \
    --hello target/release/bench-hello "${cold_functions[@]}" "${env_sets[@]}" >/dev/null

step "HTTP through local-api on DynamoDB Local: 1 and 16 clients"
port="$(free_port)"
PORT="$port" target/release/local-api >"$OUT/logs/local-api.log" 2>&1 &
LOCAL_API_PID=$!
wait_for_line "$OUT/logs/local-api.log" "listening on http://127.0.0.1:$port" "$LOCAL_API_PID"
"$H" http --out "$RESULTS" --url "http://127.0.0.1:$port" --clients 1,16 \
    --requests "$HTTP_REQUESTS" --warmup 100 --max-secs "$MAX_SECS" \
    --server-pid "$LOCAL_API_PID" >/dev/null
stop_process "$LOCAL_API_PID"
LOCAL_API_PID=""

if [ "$ARM64" = 1 ]; then
    step "arm64 (cargo lambda build --release --arm64; cargo-lambda and zig from .venv)"
    # scripts/lib/venv.sh (cargo-lambda, zig) and scripts/lib/arm64-toolchain.sh (an arm64
    # standard library: rustup's, or Debian's rustc-web where rustup cannot download) are the
    # deploy path's own (scripts/sam-build.sh); in a subshell, so their variables stay there.
    if (
        . scripts/lib/venv.sh && . scripts/lib/arm64-toolchain.sh &&
            venv_install && venv_activate && arm64_toolchain &&
            echo "rustc for arm64: $(${RUSTC:-rustc} --version)" &&
            cargo lambda build --release --arm64 --lambda-dir target/bench/lambda-arm64 \
                "${packages[@]}" -p bench-hello
    ) >"$OUT/logs/arm64-build.log" 2>&1; then
        sizes=()
        for f in "${FUNCTIONS[@]}" bench-hello; do
            sizes+=("arm64:$f=target/bench/lambda-arm64/$f/bootstrap")
        done
        "$H" sizes --out "$RESULTS" "${sizes[@]}" >/dev/null
        grep '^rustc for arm64' "$OUT/logs/arm64-build.log" >>"$OUT/machine.txt" || true
    else
        echo "bench: the arm64 build failed; see $OUT/logs/arm64-build.log" >&2
        echo '{"bench":"note","what":"arm64 build failed"}' >>"$RESULTS"
    fi
fi

if [ "$VARIANTS" = 1 ]; then
    # Profiles: the workspace's [profile.release] with one thing changed, as custom profiles
    # (`--config`, so Cargo.toml stays as it is), each in target/<profile>/.
    # name|what changes|--config values
    PROFILES=(
        "opt-3|opt-level = 3|profile.bench-opt-3.opt-level=3"
        "opt-z|opt-level = \"z\"|profile.bench-opt-z.opt-level=\"z\""
        "thin|lto = \"thin\"|profile.bench-thin.lto=\"thin\""
        "previous|opt-level = 3, lto = \"thin\" (the profile before issue 6)|profile.bench-previous.opt-level=3 profile.bench-previous.lto=\"thin\""
        "cgu-16|codegen-units = 16|profile.bench-cgu-16.codegen-units=16"
        "unwind|panic = \"unwind\"|profile.bench-unwind.panic=\"unwind\""
        "no-strip|strip = false|profile.bench-no-strip.strip=false"
    )
    # Features and code: bench/variants/<name>.sh applied to a copy of HEAD (bench/variants/README.md).
    FEATURES=(sdk-defaults system-roots default-chains lambda-http-lean rustls-ring env-config deferred-init leanest)
    subjects=(--function "update-contact-pool=target/release/update-contact-pool")
    built=()

    for p in "${PROFILES[@]}"; do
        IFS='|' read -r name what configs <<<"$p"
        prof="bench-$name"
        step "variant: profile $prof ($what)"
        args=(--config "profile.$prof.inherits=\"release\"")
        for c in $configs; do args+=(--config "$c"); done
        if cargo build --profile "$prof" "${args[@]}" \
            -p update-contact-pool -p bench-hello -p bench-harness >"$OUT/logs/variant-$name.log" 2>&1; then
            subjects+=(--function "update-contact-pool@$name=target/$prof/update-contact-pool")
            built+=("x86_64:update-contact-pool@$name=target/$prof/update-contact-pool"
                "x86_64:bench-hello@$name=target/$prof/bench-hello")
            "target/$prof/bench-harness" warm --out "$RESULTS" --tag "profile $name ($what)" \
                --requests "$WARM_REQUESTS" --warmup 1000 --max-secs "$MAX_SECS" >/dev/null
        else
            echo "bench: variant $name did not build; see $OUT/logs/variant-$name.log" >&2
            echo "{\"bench\":\"note\",\"what\":\"variant $name did not build\"}" >>"$RESULTS"
        fi
    done

    # shellcheck disable=SC2031 # the arm64 subshell re-sources scripts/lib, which sets ROOT to the same
    for name in "${FEATURES[@]}"; do
        prof="bench-$name"
        src="$ROOT/target/bench/src-$name"
        step "variant: $name (bench/variants/$name.sh on a copy of HEAD)"
        # A fresh copy only when what it is made of changed, so a rerun rebuilds nothing.
        stamp="$(git rev-parse HEAD:Cargo.toml HEAD:Cargo.lock HEAD:shared HEAD:functions |
            tr '\n' ' ')$(cat bench/variants/* | sha1sum)"
        prepared=1
        if [ "$(cat "$src/.bench-stamp" 2>/dev/null)" != "$stamp" ]; then
            rm -rf "$src" && mkdir -p "$src"
            git archive HEAD | tar -x -C "$src"
            if (cd "$src" && bash "$ROOT/bench/variants/$name.sh") >"$OUT/logs/variant-$name.log" 2>&1; then
                echo "$stamp" >"$src/.bench-stamp"
            else
                prepared=0
            fi
        fi
        if [ "$prepared" = 1 ] &&
            CARGO_TARGET_DIR="$ROOT/target" cargo build --manifest-path "$src/Cargo.toml" \
                --profile "$prof" --config "profile.$prof.inherits=\"release\"" \
                -p update-contact-pool >>"$OUT/logs/variant-$name.log" 2>&1; then
            subjects+=(--function "update-contact-pool@$name=target/$prof/update-contact-pool")
            built+=("x86_64:update-contact-pool@$name=target/$prof/update-contact-pool")
        else
            echo "bench: variant $name skipped; see $OUT/logs/variant-$name.log" >&2
            echo "{\"bench\":\"note\",\"what\":\"variant $name skipped\"}" >>"$RESULTS"
        fi
    done

    if [ "${#built[@]}" -gt 0 ]; then
        "$H" sizes --out "$RESULTS" "${built[@]}" >/dev/null
    fi
    step "variants: $VARIANT_RUNS cold starts each, taking turns with the release build"
    "$H" cold --out "$RESULTS" --logs "$OUT/logs" --runs "$VARIANT_RUNS" --no-store-cases \
        --tag "variants" --hello target/release/bench-hello "${subjects[@]}" >/dev/null
fi

"$H" report --in "$RESULTS" >"$OUT/report.md"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
step "done: $OUT/report.md"
cat "$OUT/machine.txt" "$OUT/report.md"
