#!/usr/bin/env bash
# Docker for `sam local` (scripts/sam-local-check.sh). Sourced by the scripts:
#   docker_session [arm64]  all of the below for the rest of the script: installs what is
#                           missing, runs arm64 binaries under qemu (with `arm64`), starts
#                           dockerd if none answers and stops it when the script exits (on_exit)
#   docker_install          docker.io (apt) if there is no dockerd
#   docker_arm64_emulation  qemu-user-static (apt) and its aarch64 binfmt_misc entry, so arm64
#                           images run on this x86_64 machine
#   docker_start            starts dockerd (as root) if `docker info` fails; fails loudly if it
#                           cannot
#   docker_stop             stops the dockerd docker_start started (nothing else; safe twice)
# Containers here run with `--network host` only (the dockerd started here has no bridge and
# touches no iptables): all their traffic stays on loopback.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DOCKERD_PID=""
DOCKERD_LOG="$ROOT/target/dockerd.log"
# qemu-user-static's binfmt_misc entry for aarch64 ELF binaries (Debian's file; the `F` flag
# opens the interpreter at registration, so it works inside containers too).
QEMU_AARCH64_CONF="/usr/lib/binfmt.d/qemu-aarch64.conf"

docker_install() {
    command -v dockerd >/dev/null 2>&1 || apt_install docker.io
    command -v docker >/dev/null 2>&1 || { echo "docker.io installed no docker client" >&2; return 1; }
}

docker_arm64_emulation() {
    [ -f "$QEMU_AARCH64_CONF" ] || apt_install qemu-user-static
    [ -f "$QEMU_AARCH64_CONF" ] || { echo "qemu-user-static has no $QEMU_AARCH64_CONF" >&2; return 1; }
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        as_root mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        # What systemd-binfmt or update-binfmts would do at boot, neither of which runs here.
        grep -v '^#' "$QEMU_AARCH64_CONF" | as_root tee /proc/sys/fs/binfmt_misc/register >/dev/null
    fi
    grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 ||
        { echo "binfmt_misc entry qemu-aarch64 is not enabled" >&2; return 1; }
    echo "arm64 binaries run under $(sed -n 's/^interpreter //p' /proc/sys/fs/binfmt_misc/qemu-aarch64)" >&2
}

docker_start() {
    if docker info >/dev/null 2>&1; then
        echo "docker: using the running daemon (server $(docker version -f '{{.Server.Version}}'))" >&2
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || { echo "no Docker daemon answers, and only root can start dockerd here" >&2; return 1; }
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # No bridge, no iptables: every container of these scripts uses the host's network.
    setsid dockerd --host unix:///var/run/docker.sock --bridge none --iptables=false \
        --ip-masq=false >"$DOCKERD_LOG" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 600); do
        docker info >/dev/null 2>&1 && break
        if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
            echo "dockerd exited; its log ($DOCKERD_LOG):" >&2
            tail -n 40 "$DOCKERD_LOG" >&2
            DOCKERD_PID=""
            return 1
        fi
        sleep 0.1
    done
    docker info >/dev/null 2>&1 || { echo "dockerd does not answer after 60 s ($DOCKERD_LOG)" >&2; return 1; }
    echo "dockerd started (pid $DOCKERD_PID, server $(docker version -f '{{.Server.Version}}'))" >&2
}

docker_stop() {
    # Its own process group (setsid): dockerd, its containerd and the container shims.
    stop_process "$DOCKERD_PID" group
    DOCKERD_PID=""
}

docker_session() {
    docker_install
    if [ "${1:-}" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
        docker_arm64_emulation
    fi
    on_exit docker_stop
    docker_start
}
