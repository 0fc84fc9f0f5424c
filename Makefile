.PHONY: setup test run run-dynamodb load bench fmt lint lint-deploy venv fuzz schemathesis lambda-check sam-build sam-dynamodb sam-local help

## Installs Rust components, Java 17 and DynamoDB Local.
setup:
	bash scripts/setup.sh

## fmt, clippy and every test, against a DynamoDB Local it starts and stops.
test:
	bash scripts/test.sh

## Both functions at http://127.0.0.1:3000 on an in-memory store with demo data (PORT to change).
run:
	cargo run -p local-api

## The same on DynamoDB Local, seeded with poolctl; stops DynamoDB Local on Ctrl-C.
run-dynamodb:
	bash scripts/run-dynamodb.sh

## The long load run: 20,000 requests from 32 clients through local-api on DynamoDB Local,
## checked against the contract and `poolctl check`; report in target/load-report.json.
load:
	LOAD_REQUESTS=20000 bash scripts/with-dynamodb.sh cargo test -p pool-tests --test load -- --nocapture

## Every figure of BENCHMARKS.md (cold start, warm, HTTP, size, memory, build variants):
## release builds, DynamoDB Local on a free loopback port; results in target/bench/<time>/.
bench:
	bash scripts/bench.sh

## Formats the workspace (cargo fmt).
fmt:
	cargo fmt --all

## cargo fmt --check and clippy with warnings as errors, as the test command runs them.
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

## template.yaml (cfn-lint, sam validate) and openapi.yaml (OpenAPI 3.1), with the tools in .venv.
lint-deploy:
	bash scripts/lint.sh

## Creates or updates .venv with the Python tools pinned in scripts/requirements.txt.
venv:
	bash -c '. scripts/lib/venv.sh && venv_install'

## Fuzzes the request path with cargo-fuzz for FUZZ_SECONDS seconds (default 300).
fuzz:
	bash scripts/fuzz.sh

## Schemathesis against local-api and openapi.yaml, SCHEMATHESIS_EXAMPLES per operation (default 25).
schemathesis:
	bash scripts/schemathesis.sh

## Every file in events/ through the real binaries under `cargo lambda watch`, on DynamoDB Local.
lambda-check:
	bash scripts/cargo-lambda-check.sh

## sam build without Docker: both functions as arm64 `bootstrap`s in .aws-sam/build/.
sam-build:
	bash scripts/sam-build.sh

## DynamoDB Local on 127.0.0.1:8000 with the demo data, for `sam local` (sam/local-env.json).
sam-dynamodb:
	bash scripts/run-dynamodb.sh --no-api

## sam local invoke (every file in events/) and sam local start-api (the README's curl
## commands) on the arm64 build, in Docker under qemu, on DynamoDB Local.
sam-local:
	bash scripts/sam-local-check.sh

## Lists these targets.
help:
	@awk '/^## / { doc = doc (doc ? "\n               " : "") substr($$0, 4); next } \
		/^[a-z-]+:/ && doc { sub(/:.*/, ""); printf "%-14s %s\n", $$0, doc } { doc = "" }' $(MAKEFILE_LIST)
