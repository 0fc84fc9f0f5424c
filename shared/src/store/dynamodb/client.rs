//! Building the SDK client: the time and retry budget, and the configuration a deployed function
//! loads from its environment.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::Region;
use aws_sdk_dynamodb::Client;

use super::DynamoStore;
use crate::store::https::{self, ClientSetupError, TrustRoots};

/// The SDK's time budget per DynamoDB call: connect within 1 s, each attempt within 2 s, and
/// the call with its retries (standard mode, 3 attempts) within 3 s. With the pipeline's 8 s
/// request budget, a request is always answered before the function's 10 s timeout.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
pub const MAX_ATTEMPTS: u32 = 3;

/// The standard AWS configuration chain with this adapter's time and retry budget. Tests that
/// inject faults build their client from it too, so they test the deployed settings.
pub fn config_loader() -> aws_config::ConfigLoader {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
}

impl DynamoStore {
    /// The client a deployed function uses: the AWS configuration from the environment with the
    /// time budget above, trusting the Amazon Trust Services roots unless `TLS_ROOTS` says
    /// otherwise (see [`https`](crate::store::https)). `AWS_ENDPOINT_URL_DYNAMODB`, when set,
    /// points it at another endpoint (DynamoDB Local).
    ///
    /// Where Lambda puts them, in the environment, the region and the credentials are taken from
    /// there directly: the default chains would also build an STS client, and the profile,
    /// web-identity, container and instance-metadata providers, none of which a function uses.
    /// Without `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (a laptop with a profile or SSO),
    /// the standard chains are used.
    pub async fn from_env(table: impl Into<String>) -> Result<Self, ClientSetupError> {
        Self::from_env_trusting(table, TrustRoots::Amazon).await
    }

    /// [`DynamoStore::from_env`] with `preferred` roots when `TLS_ROOTS` is unset (`poolctl`, a
    /// tool for laptops, prefers the system's).
    pub async fn from_env_trusting(
        table: impl Into<String>,
        preferred: TrustRoots,
    ) -> Result<Self, ClientSetupError> {
        let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION"));
        let roots = TrustRoots::from_env(region.as_deref(), preferred)?;
        let mut loader = config_loader().http_client(https::https_client(roots)?);
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
            loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
        Ok(Self::new(Client::new(&loader.load().await), table))
    }
}
