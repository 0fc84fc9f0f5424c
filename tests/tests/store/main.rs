//! The store contract (`pool_tests::store_contract!`), once per adapter; the DynamoDB cases
//! return at once when DynamoDB Local is not running (`pool_tests::dynamo::available`).

mod dynamodb;
mod memory;
