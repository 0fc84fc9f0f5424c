#!/usr/bin/env bash
# The DynamoDB client built from the Lambda environment alone (region, credentials and the
# endpoint override from environment variables), instead of aws-config's default chains,
# which also build an STS client, the profile, web-identity, ECS and IMDS providers.
set -euo pipefail
python3 "$(dirname "$0")/edit.py" shared/src/store/dynamodb.rs \
    '        let config = config_loader().load().await;
        Self::new(Client::new(&config), table)' \
    '        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|_| "us-east-1".into());
        let mut config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_sdk_dynamodb::config::Region::new(region))
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(CONNECT_TIMEOUT)
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(OPERATION_TIMEOUT)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        if let Ok(url) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
            config = config.endpoint_url(url);
        }
        Self::new(Client::from_conf(config.build()), table)'
