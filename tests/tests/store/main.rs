//! The store contract (`pool_tests::store_contract!`), once per adapter.

mod dynamodb;
mod memory;
