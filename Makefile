.PHONY: setup test run run-dynamodb load bench fmt lint

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

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
