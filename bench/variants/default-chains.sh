#!/usr/bin/env bash
# The region and credentials from aws-config's default chains even on Lambda, where the
# environment has them: the credentials chain also builds an STS client and the profile,
# web-identity, container and instance-metadata providers.
set -euo pipefail
E="$(dirname "$0")/edit.py"
python3 "$E" shared/src/store/dynamodb/client.rs \
    '        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
' ''
python3 "$E" shared/src/store/dynamodb/client.rs \
    '        if env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some() {
            loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
        }
' ''
python3 "$E" shared/src/store/dynamodb/client.rs 'use aws_config::Region;
' ''
python3 "$E" shared/src/store/dynamodb/client.rs 'use aws_config::environment::EnvironmentVariableCredentialsProvider;
' ''
python3 "$E" shared/src/store/dynamodb/client.rs 'let mut loader = config_loader()' 'let loader = config_loader()'
