#!/usr/bin/env bash
# Every remaining alternative that saves something at once: lambda-http-lean, env-config and
# rustls-ring.
set -euo pipefail
D="$(dirname "$0")"
bash "$D/lambda-http-lean.sh"
bash "$D/env-config.sh"
bash "$D/rustls-ring.sh"
