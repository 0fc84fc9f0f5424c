//! The DynamoDB adapter. One table, hash key `pk` (string); see DESIGN.md for the item kinds.
//!
//! Every write carries its own `ConditionExpression`: the item exists, belongs to the caller's
//! organization, and (with `If-Match`) has an admitted version. Values only ever travel as
//! expression attribute values; expression strings are built from fixed fragments.
//!
//! By concern: `client` builds the SDK client and its time budget, `expr` the expressions,
//! `items` the item mapping (and [`keys`]), `errors` the error and cancellation classification,
//! `store` the request path (the [`Store`](super::Store) impl) and `admin` the administrative
//! calls that impl delegates to.

mod admin;
mod client;
mod errors;
mod expr;
mod idempotent;
mod items;
mod store;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::Client;

pub use client::{
    config_loader, ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT,
};
pub use items::{keys, TTL_ATTRIBUTE};

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    calls: Arc<AtomicU64>,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            calls: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many DynamoDB operations this store has sent (retries inside the SDK not counted).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// One operation sent: for this store's total, and for the request it serves
    /// ([`crate::metrics::count_store_call`]).
    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        crate::metrics::count_store_call();
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}
