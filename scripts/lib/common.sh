#!/usr/bin/env bash
# What every script shares. Sourced (through the other helpers, or directly):
#   ROOT                  the repository's root
#   on_exit CMD           runs CMD when the script exits, however it exits (a failed step,
#                         Ctrl-C, TERM); the last registered runs first. CMD is evaluated then,
#                         so on_exit 'stop_process "$PID"' stops what PID holds at exit
#   stop_process PID [group]
#                         stops a background process (its whole process group with `group`);
#                         nothing if PID is empty or gone
#   wait_for_port PORT PID LOG
#                         waits until 127.0.0.1:PORT accepts connections; fails with LOG if
#                         PID exits first
#   wait_for_line LOG PATTERN PID
#                         waits until LOG has a line matching PATTERN; fails with LOG if PID
#                         exits first
#   free_port             prints a free loopback port
#   as_root CMD…          runs CMD as root (through sudo unless the script is root already)
#   apt_install PKG…      installs Debian packages as root (apt-get update first only when the
#                         package lists are too old to have them)
#   response_status       reads a Lambda proxy response (JSON) on stdin and prints its
#                         statusCode, or `none` when it is not one
#   functions_list        prints the Lambda functions, one a line: the folders of functions/
#                         (each is one crate whose package name is the folder's name)
set -euo pipefail

if [ -z "${POOLS_COMMON_SH:-}" ]; then
    POOLS_COMMON_SH=1

    ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    EXIT_HOOKS=()

    on_exit() {
        EXIT_HOOKS=("$*" ${EXIT_HOOKS[@]+"${EXIT_HOOKS[@]}"})
        if [ "${#EXIT_HOOKS[@]}" -eq 1 ]; then
            trap run_exit_hooks EXIT
            # A signal ends the script (after the EXIT trap has cleaned up) instead of
            # resuming it after the interrupted command.
            trap 'exit 130' INT
            trap 'exit 143' TERM
        fi
    }

    run_exit_hooks() {
        local hook
        for hook in ${EXIT_HOOKS[@]+"${EXIT_HOOKS[@]}"}; do
            eval "$hook" || true
        done
        EXIT_HOOKS=()
    }

    stop_process() {
        local pid="${1:-}" group="${2:-}"
        [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
        if [ "$group" = group ]; then
            kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        else
            kill -TERM "$pid" 2>/dev/null || true
        fi
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if [ "$group" = group ]; then
            kill -KILL -- "-$pid" 2>/dev/null || true
        else
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    }

    wait_for_port() {
        local port="$1" pid="$2" log="$3"
        for _ in $(seq 1 600); do
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "process $pid exited; its log ($log):" >&2
                cat "$log" >&2
                return 1
            fi
            sleep 0.1
        done
        echo "nothing listens on 127.0.0.1:$port after 60 s; log ($log):" >&2
        cat "$log" >&2
        return 1
    }

    wait_for_line() {
        local log="$1" pattern="$2" pid="$3"
        for _ in $(seq 1 600); do
            grep -q "$pattern" "$log" 2>/dev/null && return 0
            if ! kill -0 "$pid" 2>/dev/null; then
                echo "process $pid exited; its log ($log):" >&2
                cat "$log" >&2
                return 1
            fi
            sleep 0.1
        done
        echo "no '$pattern' in $log after 60 s:" >&2
        cat "$log" >&2
        return 1
    }

    as_root() {
        if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
    }

    apt_install() {
        echo "installing $* (apt-get)" >&2
        local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@")
        if ! as_root "${install[@]}" >/dev/null; then
            as_root apt-get update -qq
            as_root "${install[@]}" >/dev/null
        fi
    }

    free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    }

    response_status() {
        python3 -c 'import json, sys
try: print(json.load(sys.stdin)["statusCode"])
except Exception: print("none")'
    }

    functions_list() {
        local dir
        for dir in "$ROOT"/functions/*/; do
            [ -f "$dir/Cargo.toml" ] && basename "$dir"
        done
        return 0
    }
fi
