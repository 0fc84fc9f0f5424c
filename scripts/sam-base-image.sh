#!/usr/bin/env bash
# Builds a LOCAL STAND-IN for AWS's Lambda base image `public.ecr.aws/lambda/provided:al2023-<arch>`
# (the name `sam local` looks for), for the architecture given (arm64, the default and what
# template.yaml deploys, or x86_64).
#
# Why a stand-in: `sam local` runs each function in a container built on that image, and this
# project's machines reach no image registry (neither Docker Hub nor ECR), so AWS's image cannot
# be pulled here. It is NOT Amazon Linux 2023: it is a minimal root filesystem made from Debian
# packages of the target architecture (busybox-static for the shell SAM's own image build runs,
# libc6 and libgcc-s1 for the functions' glibc-linked `bootstrap`), given the name SAM looks
# for. SAM then builds its own image on top, as it does on AWS's: it ADDs the Runtime Interface
# Emulator from the aws-sam-cli package and RUNs `mv … && chmod`. What runs the function is
# the same emulator and the same `bootstrap` as with the real image.
#
# On a machine with registry access, skip this script: `sam local` pulls the real image under
# the same name, and the same commands run on it. An image of that name that this script did
# not build (no label pools-api.stand-in) is left alone.
#
# Usage: scripts/sam-base-image.sh [arm64|x86_64]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/arm64-toolchain.sh

ARCH="${1:-arm64}"
IMAGE="public.ecr.aws/lambda/provided:al2023-$ARCH"
case "$ARCH" in
    arm64) deb_arch=arm64 platform=linux/arm64 ;;
    x86_64) deb_arch=amd64 platform=linux/amd64 ;;
    *) echo "usage: $0 [arm64|x86_64]" >&2; exit 2 ;;
esac

existing="$(docker image inspect -f '{{index .Config.Labels "pools-api.stand-in"}}' "$IMAGE" 2>/dev/null || echo absent)"
if [ "$existing" != absent ] && [ -z "$existing" ]; then
    echo "$IMAGE exists and is not this project's stand-in (AWS's own image?): using it as it is" >&2
    exit 0
fi

work="$ROOT/target/sam-base-image/$ARCH"
rm -rf "$work"
mkdir -p "$work/debs" "$work/rootfs"

# The Debian packages of the target architecture, through arm64-toolchain.sh's private apt
# lists (amd64 and arm64), so the machine's own apt state is left alone.
if ! compgen -G "$ARM64_DIR/apt/lists/*_binary-${deb_arch}_Packages*" >/dev/null; then
    mkdir -p "$ARM64_DIR/apt/lists/partial" "$ARM64_DIR/apt/cache/archives/partial"
    arm64_apt update -qq >/dev/null
fi
(cd "$work/debs" && arm64_apt download "busybox-static:$deb_arch" "libc6:$deb_arch" \
    "libgcc-s1:$deb_arch" 2>&1 | { grep -v -e unsandboxed -e '^Get:' -e '^Fetched' >&2 || true; })
for deb in "$work"/debs/*.deb; do
    dpkg-deb -x "$deb" "$work/rootfs"
done

root="$work/rootfs"
mkdir -p "$root/bin" "$root/var/task" "$root/var/runtime" "$root/opt" "$root/tmp" "$root/etc"
chmod 1777 "$root/tmp"
# The applets SAM's image build and a shell in the container need; busybox is static.
for applet in sh ash mv cp chmod rm ls cat mkdir env echo sleep; do
    ln -sf busybox "$root/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
cat >"$root/lambda-entrypoint.sh" <<'EOF'
#!/bin/sh
# A local stand-in for public.ecr.aws/lambda/provided:al2023 (pools-api scripts/sam-base-image.sh),
# meant to be run by `sam local`, which sets its own entrypoint.
echo "this image is a local stand-in for AWS's Lambda base image: run it through sam local" >&2
exit 64
EOF
chmod +x "$root/lambda-entrypoint.sh"

tar -C "$root" -cf "$work/rootfs.tar" .
cat >"$work/Dockerfile" <<EOF
# Local stand-in for AWS's $IMAGE ($ARCH), made from Debian packages: see scripts/sam-base-image.sh.
FROM scratch
ADD rootfs.tar /
ENV LANG=en_US.UTF-8 TZ=:/etc/localtime PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \\
    LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
LABEL pools-api.stand-in="Debian busybox-static, libc6, libgcc-s1 ($deb_arch); not AWS's image"
ENTRYPOINT ["/lambda-entrypoint.sh"]
EOF

# SAM builds its `…:al2023-rapid-<arch>` image on the base only when that image is missing:
# drop the one built on an earlier stand-in.
docker image ls --format '{{.Repository}}:{{.Tag}}' |
    { grep -Fx "public.ecr.aws/lambda/provided:al2023-rapid-$ARCH" || true; } | xargs -r docker rmi -f >/dev/null
DOCKER_BUILDKIT=0 docker build -q --platform "$platform" -t "$IMAGE" "$work" >/dev/null
got="$(docker image inspect -f '{{.Os}}/{{.Architecture}}' "$IMAGE")"
[ "$got" = "$platform" ] || { echo "$IMAGE is $got, not $platform" >&2; exit 1; }
# The shell runs (under qemu for arm64): SAM's image build needs it.
docker run --rm --network host --platform "$platform" --entrypoint /bin/sh "$IMAGE" -c 'echo ok' |
    grep -qx ok || { echo "the stand-in's /bin/sh does not run" >&2; exit 1; }
echo "$IMAGE: local stand-in, $platform, $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes" >&2
