//! The store contract against the in-memory adapter.

use std::sync::Arc;

use pool_tests::contract::AnyStore;
use shared::store::memory::MemoryStore;

async fn make() -> AnyStore {
    Arc::new(MemoryStore::new())
}

pool_tests::store_contract!(make().await);
