#!/usr/bin/env bash
# The Python tools of the deploy path, in a venv at .venv (gitignored). Sourced by the other
# scripts:
#   venv_install   creates .venv and pip-installs the pinned tools if they are not there yet
#   venv_activate  puts .venv/bin first on PATH (sam, cfn-lint, cargo-lambda, zig via ziglang)
set -euo pipefail

VENV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="$VENV_ROOT/.venv"
# One place to bump them. cargo-lambda's wheel brings ziglang (the arm64 linker).
VENV_REQUIREMENTS=(
    "cfn-lint==1.58.0"
    "aws-sam-cli==1.170.0"
    "cargo-lambda==1.9.2"
    "openapi-spec-validator==0.9.0"
)

venv_install() {
    local stamp="$VENV_DIR/.pools-api-requirements"
    local want
    want="$(printf '%s\n' "${VENV_REQUIREMENTS[@]}")"
    if [ -x "$VENV_DIR/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "installing ${VENV_REQUIREMENTS[*]} into .venv (pip)" >&2
    [ -x "$VENV_DIR/bin/python" ] || python3 -m venv "$VENV_DIR"
    "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "${VENV_REQUIREMENTS[@]}"
    printf '%s\n' "$want" >"$stamp"
}

venv_activate() {
    export PATH="$VENV_DIR/bin:$PATH"
    export VIRTUAL_ENV="$VENV_DIR"
    # No telemetry, no prompts, no update checks; the tools here need no AWS account, only
    # a region and (for some) credentials that are never used.
    export SAM_CLI_TELEMETRY=0
    export SAM_CLI_DISABLE_VERSION_CHECK=1
    export AWS_REGION="${AWS_REGION:-us-east-1}"
    export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-$AWS_REGION}"
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-dummy}"
    export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-dummy}"
    export AWS_EC2_METADATA_DISABLED=true
}
