//! The store contract against the DynamoDB adapter, on DynamoDB Local.

use std::sync::Arc;

use pool_tests::contract::AnyStore;

async fn make() -> AnyStore {
    Arc::new(pool_tests::dynamo::store().await)
}

pool_tests::store_contract!(make().await, if pool_tests::dynamo::available());
