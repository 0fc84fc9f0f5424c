//! Configuration from the environment, read once at cold start.

use std::sync::Arc;

use crate::auth_cache::AuthCache;
use crate::metrics::{Metrics, Sink};
use crate::pipeline::Services;
use crate::store::dynamodb::DynamoStore;

/// The variables the functions (and `local-api`) read.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table. Required by the functions.
    pub table_name: Option<String>,
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            table_name: std::env::var("TABLE_NAME").ok().filter(|s| !s.is_empty()),
        }
    }
}

/// The services of a deployed function: DynamoDB on `TABLE_NAME` (endpoint from
/// `AWS_ENDPOINT_URL_DYNAMODB` when set, root certificates from `TLS_ROOTS`), and the auth
/// cache (`AUTH_CACHE_TTL_SECS`, default 30, 0 disables), and an EMF document per request on
/// stdout (namespace `METRICS_NAMESPACE`, default `PoolsApi`). An invalid `TLS_ROOTS` or
/// `AUTH_CACHE_TTL_SECS` is an error.
pub async fn services_from_env() -> Result<Services, lambda_http::Error> {
    let config = Config::from_env();
    let table = config
        .table_name
        .ok_or("TABLE_NAME is not set: name the DynamoDB table the function uses")?;
    let cache = AuthCache::from_env()?;
    let store = DynamoStore::from_env(table).await?;
    Ok(Services::new(Arc::new(store))
        .with_auth_cache(cache)
        .with_metrics(Metrics::from_env(Sink::Stdout)))
}
