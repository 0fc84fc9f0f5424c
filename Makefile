.PHONY: setup test run fmt lint

## Installs Rust components, Java 17 and DynamoDB Local.
setup:
	bash scripts/setup.sh

## fmt, clippy and every test, against a DynamoDB Local it starts and stops.
test:
	bash scripts/test.sh

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
