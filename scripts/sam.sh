#!/usr/bin/env bash
# `sam` from .venv (installed if missing), where `--docker-network host` really puts the function
# containers on the host's network, so they reach DynamoDB Local on 127.0.0.1: SAM CLI 1.170
# leaves them on Docker's default network for `host` (scripts/lib/sam-host-network.py says why
# and what it changes). Any other arguments go to sam unchanged, e.g.
#   scripts/sam.sh local start-api --env-vars sam/local-env.json --docker-network host
set -euo pipefail
. "$(dirname "$0")/lib/venv.sh"
venv_install
venv_activate
exec python "$ROOT/scripts/lib/sam-host-network.py" "$@"
