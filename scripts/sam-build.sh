#!/usr/bin/env bash
# `sam build` without Docker: SAM's rust-cargolambda builder runs cargo-lambda from the venv,
# which cross-compiles both functions for arm64 with zig as the linker (scripts/lib/arm64-toolchain.sh
# supplies the arm64 standard library). Then checks that each function's artifact is an arm64
# `bootstrap`.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/venv.sh
. scripts/lib/arm64-toolchain.sh

venv_install
venv_activate
arm64_toolchain

started=$SECONDS
# Both functions in one cargo invocation first, as SAM's builder will build each (`cargo lambda
# build --release --arm64 --bin <function>` from the workspace root, the same default members
# and so the same features): one cargo builds the two binaries side by side, where SAM's two
# invocations would run their fat-LTO links one after the other (about 200 s each here). SAM's
# own builds then find everything fresh, and SAM's build is still the one that makes
# .aws-sam/build.
bins=()
for name in $(functions_list); do bins+=(--bin "$name"); done
cargo lambda build --release --arm64 "${bins[@]}"
sam build --template template.yaml "$@"
echo "sam build: $((SECONDS - started)) s" >&2

for name in $(functions_list); do
    # template.yaml names each function's resource after its crate: update-contact-pool is
    # UpdateContactPoolFunction.
    fn="$(echo "$name" | sed -E 's/(^|-)([a-z])/\U\2/g')Function"
    grep -q "^  $fn:" template.yaml || { echo "template.yaml has no resource $fn for functions/$name" >&2; exit 1; }
    bin=".aws-sam/build/$fn/bootstrap"
    [ -x "$bin" ] || { echo "sam build left no $bin" >&2; exit 1; }
    # ELF header: class 64-bit (byte 4 = 2), machine EM_AARCH64 (bytes 18-19 = b7 00).
    magic="$(od -An -tx1 -N20 "$bin" | tr -d ' \n')"
    case "$magic" in
        7f454c4602*b700) echo "$bin: ELF aarch64, $(wc -c <"$bin") bytes" >&2 ;;
        *) echo "$bin is not an arm64 ELF executable ($magic)" >&2; exit 1 ;;
    esac
done
