#!/usr/bin/env bash
# The test command: installs what is missing, starts DynamoDB Local on a free loopback port,
# runs fmt, clippy and every test, and stops DynamoDB Local whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/dynamodb-local.sh

bash scripts/setup.sh
ddb_session "pools-test-$(date +%s)-$$"
# A DynamoDB test without DynamoDB Local fails instead of skipping.
export REQUIRE_DYNAMODB=1

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# template.yaml (cfn-lint, sam validate) and openapi.yaml (OpenAPI 3.1), with the real tools.
bash scripts/lint.sh
# The end-to-end tests run these binaries as processes.
cargo build -p poolctl -p local-api
mkdir -p target
cargo test --workspace 2>&1 | tee target/cargo-test.log
# Both functions under `cargo lambda watch` (no Docker), every event in events/, on DynamoDB Local.
bash scripts/cargo-lambda-check.sh
# A short bounded fuzzing pass over the request path (scripts/fuzz.sh 600 for a longer one).
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}"
# Contract fuzzing of local-api against openapi.yaml (scripts/schemathesis.sh 200 for more).
bash scripts/schemathesis.sh "${SCHEMATHESIS_EXAMPLES:-25}"
bash scripts/sam-local-check.sh # Docker, arm64 sam build under qemu: every event via sam local invoke, curls via start-api

# One closing line with the totals of every `cargo test` binary (doc tests included).
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' \
    target/cargo-test.log
