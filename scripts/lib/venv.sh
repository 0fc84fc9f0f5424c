#!/usr/bin/env bash
# The Python tools, in one venv at .venv (gitignored), pinned in scripts/requirements.txt.
# Sourced by the scripts:
#   venv_sync DIR REQUIREMENTS  creates the venv DIR if missing and pip-installs REQUIREMENTS
#                               (a pip requirements file) whenever the file changed since the
#                               last install
#   venv_install                venv_sync .venv scripts/requirements.txt
#   venv_activate               puts .venv/bin first on PATH (sam, cfn-lint, cargo-lambda, zig
#                               via ziglang, st), with environment for tools that need no account
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VENV_DIR="$ROOT/.venv"
VENV_REQUIREMENTS="$ROOT/scripts/requirements.txt"

venv_sync() {
    local dir="$1" requirements="$2"
    local stamp="$dir/.pools-api-requirements"
    if [ -x "$dir/bin/python" ] && [ -f "$stamp" ] && cmp -s "$stamp" "$requirements"; then
        return 0
    fi
    echo "installing $(grep -v '^#' "$requirements" | tr '\n' ' ')into ${dir#"$ROOT"/} (pip)" >&2
    [ -x "$dir/bin/python" ] || python3 -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
}

venv_install() {
    venv_sync "$VENV_DIR" "$VENV_REQUIREMENTS"
}

venv_activate() {
    export PATH="$VENV_DIR/bin:$PATH"
    export VIRTUAL_ENV="$VENV_DIR"
    # No telemetry, no prompts, no update checks; the tools here need no AWS account, only
    # a region and (for some) credentials that are never used.
    export SAM_CLI_TELEMETRY=0
    export SAM_CLI_DISABLE_VERSION_CHECK=1
    export SCHEMATHESIS_TELEMETRY=false
    export AWS_REGION="${AWS_REGION:-us-east-1}"
    export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-$AWS_REGION}"
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-dummy}"
    export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-dummy}"
    export AWS_EC2_METADATA_DISABLED=true
}
