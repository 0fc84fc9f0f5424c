#!/usr/bin/env bash
# lambda_http with only the event sources the functions are deployed behind (API Gateway
# REST and HTTP APIs), without ALB, WebSocket and VPC Lattice events.
set -euo pipefail
python3 "$(dirname "$0")/edit.py" Cargo.toml 'lambda_http = "1"' \
    'lambda_http = { version = "1", default-features = false, features = ["apigw_rest", "apigw_http", "tracing"] }'
