#!/usr/bin/env bash
# The DynamoDB client configured by hand from the Lambda environment (region, credentials, the
# endpoint override, the same HTTPS client, timeouts and retries), without aws-config's loader,
# which also reads the profile files and the other AWS_* settings (AWS_ENDPOINT_URL, FIPS,
# dual-stack, retry mode...).
set -euo pipefail
python3 "$(dirname "$0")/edit.py" shared/src/store/dynamodb/client.rs \
    '        let mut loader = config_loader().http_client(https::https_client(roots)?);
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
            loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
        Ok(Self::new(Client::new(&loader.load().await), table))' \
    '        let mut config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(Region::new(region.unwrap_or_else(|| "us-east-1".into())))
            .credentials_provider(EnvironmentVariableCredentialsProvider::new())
            .http_client(https::https_client(roots)?)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if let Some(url) = env("AWS_ENDPOINT_URL_DYNAMODB") {
            config = config.endpoint_url(url);
        }
        Ok(Self::new(Client::from_conf(config.build()), table))'
