#!/usr/bin/env bash
# A Rust compiler that can build for aarch64-unknown-linux-gnu (the functions run on arm64).
# Sourced by scripts/sam-build.sh (and scripts/bench.sh):
#   arm64_toolchain   makes one available; exports RUSTC when it is not rustup's
#
# With rustup and network access, `rustup target add aarch64-unknown-linux-gnu` is all it takes,
# and this uses it when it is installed. Where rustup cannot download (machines that reach only
# package registries), it falls back to Debian's rustc-web and its arm64 standard library,
# fetched with apt-get into .tools/rust-arm64 (nothing is installed system-wide but the LLVM
# runtime library rustc-web links to). zig (from the venv's ziglang) is the cross linker either
# way: cargo-lambda drives it.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ARM64_DIR="$ROOT/.tools/rust-arm64"
ARM64_TARGET="aarch64-unknown-linux-gnu"

rustup_has_arm64() {
    local libdir
    libdir="$(rustc --print target-libdir --target "$ARM64_TARGET" 2>/dev/null)" || return 1
    ls "$libdir"/libstd-*.rlib >/dev/null 2>&1
}

# apt-get with a private package list that also has arm64, so the machine's own apt state and
# architectures are left alone.
arm64_apt() {
    apt-get -q -o Dir::State::Lists="$ARM64_DIR/apt/lists" -o Dir::Cache="$ARM64_DIR/apt/cache" \
        -o APT::Architecture=amd64 -o APT::Architectures=amd64,arm64 \
        -o Debug::NoLocking=1 "$@"
}

arm64_field() { # package[:arch]=version field
    arm64_apt_cache show "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n 1
}

arm64_apt_cache() {
    apt-cache -o Dir::State::Lists="$ARM64_DIR/apt/lists" -o Dir::Cache="$ARM64_DIR/apt/cache" \
        -o APT::Architecture=amd64 -o APT::Architectures=amd64,arm64 "$@"
}

# The name of the package `pkg=ver` depends on whose name starts with `prefix`.
arm64_dep() {
    arm64_field "$1" Depends | tr ',' '\n' | sed -n "s/^ *\($2[^ ]*\).*/\1/p" | head -n 1
}

debian_rustc_install() {
    local version std_so llvm
    mkdir -p "$ARM64_DIR/apt/lists/partial" "$ARM64_DIR/apt/cache/archives/partial" "$ARM64_DIR/debs"
    echo "fetching Debian's rustc-web and its $ARM64_TARGET standard library (apt-get)" >&2
    arm64_apt update -qq >/dev/null
    version="$(arm64_apt_cache policy rustc-web | sed -n 's/^ *Candidate: //p')"
    if [ -z "$version" ] || [ "$version" = "(none)" ]; then
        echo "rustc-web is not in this machine's Debian sources" >&2
        return 1
    fi
    std_so="$(arm64_dep "libstd-rust-web-dev=$version" libstd-rust-web-1)"
    llvm="$(arm64_dep "$std_so=$version" libllvm)"
    [ -n "$std_so" ] && [ -n "$llvm" ] || { echo "cannot read rustc-web's dependencies" >&2; return 1; }
    # The LLVM runtime (and whatever it needs) the ordinary way; the compiler itself privately.
    apt_install "$llvm"
    rm -f "$ARM64_DIR"/debs/*.deb
    (cd "$ARM64_DIR/debs" && arm64_apt download \
        "rustc-web=$version" "$std_so=$version" \
        "libstd-rust-web-dev:amd64=$version" "libstd-rust-web-dev:arm64=$version" 2>&1 |
        { grep -v -e unsandboxed -e '^Get:' -e '^Fetched' >&2 || true; })
    rm -rf "$ARM64_DIR/root"
    local deb
    for deb in "$ARM64_DIR"/debs/*.deb; do
        dpkg -x "$deb" "$ARM64_DIR/root"
    done
    mkdir -p "$ARM64_DIR/bin"
    # rustc finds its sysroot (and so both targets' libraries) next to its own binary.
    cat >"$ARM64_DIR/bin/rustc" <<EOF
#!/bin/sh
LD_LIBRARY_PATH="$ARM64_DIR/root/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$ARM64_DIR/root/usr/bin/rustc" "\$@"
EOF
    # cargo-lambda asks rustup (`$RUSTUP`) whether the target is installed and runs
    # `rustup target add` if not: this stand-in says it is, so nothing is downloaded.
    cat >"$ARM64_DIR/bin/rustup" <<EOF
#!/bin/sh
case "\$*" in *"target list"*) echo $ARM64_TARGET ;; esac
exit 0
EOF
    chmod +x "$ARM64_DIR/bin/rustc" "$ARM64_DIR/bin/rustup"
    echo "$version" >"$ARM64_DIR/version"
}

arm64_toolchain() {
    if rustup_has_arm64; then
        echo "arm64: rustup's $ARM64_TARGET target" >&2
        return 0
    fi
    local rustc="$ARM64_DIR/bin/rustc"
    if ! { [ -x "$rustc" ] && "$rustc" --print target-libdir --target "$ARM64_TARGET" >/dev/null 2>&1 \
        && ls "$ARM64_DIR/root/usr/lib/rustlib/$ARM64_TARGET/lib"/libstd-*.rlib >/dev/null 2>&1; }; then
        debian_rustc_install
    fi
    "$rustc" -vV >/dev/null || { echo "Debian's rustc does not run here" >&2; return 1; }
    export RUSTC="$rustc"
    export RUSTUP="$ARM64_DIR/bin/rustup"
    echo "arm64: $("$rustc" --version) from Debian, for $ARM64_TARGET" >&2
}
