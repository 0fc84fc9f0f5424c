#!/usr/bin/env bash
# Fuzzes the whole request path of both handlers (fuzz/fuzz_targets/request.rs) with
# libFuzzer through cargo-fuzz. Usage: scripts/fuzz.sh [seconds]   (default $FUZZ_SECONDS, else 300)
# The test command runs a short bounded pass; run longer passes by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-${FUZZ_SECONDS:-300}}"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "installing cargo-fuzz (crates.io)" >&2
    cargo install cargo-fuzz --locked --quiet
fi
# cargo-fuzz passes flags that only nightly accepts; this machine has one stable toolchain.
export RUSTC_BOOTSTRAP=1
cd fuzz
work=target/corpus/request
mkdir -p "$work"
cp -n corpus/request/* "$work"/ 2>/dev/null || true
# No sanitizer: the code is safe Rust; the fuzzer looks for panics, 5xx and broken envelopes.
cargo fuzz run request --sanitizer none "$work" corpus/request -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
