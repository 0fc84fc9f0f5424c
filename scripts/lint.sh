#!/usr/bin/env bash
# Checks the deploy artifacts with the real tools: template.yaml with cfn-lint and SAM's own
# validation (plain and --lint), openapi.yaml with openapi-spec-validator (OpenAPI 3.1). The
# tools live in .venv (scripts/lib/venv.sh installs them). Needs no AWS account.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh

venv_install
venv_activate

step() { echo "lint: $*" >&2; }

step "cfn-lint template.yaml"
cfn-lint template.yaml

step "sam validate"
sam validate --template template.yaml --region us-east-1

step "sam validate --lint"
sam validate --lint --template template.yaml --region us-east-1

step "openapi-spec-validator openapi.yaml (OpenAPI 3.1)"
openapi-spec-validator --schema 3.1 openapi.yaml

step "ok"
