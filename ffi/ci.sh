#!/usr/bin/env bash
# The labwire-ffi part of the CI job (.ci/run calls it from the workspace root or
# anywhere): the header is fresh, the Rust tests and the C/C++ programs pass against
# the static and the shared library, under valgrind (installed if missing and
# possible), the Python example works, and miri runs the Rust-side unit tests when a
# nightly toolchain with miri is there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "labwire-ffi: valgrind"
if ! command -v valgrind >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq valgrind >/dev/null || true
    elif command -v apt-get >/dev/null && command -v sudo >/dev/null; then
        sudo apt-get update -qq && sudo apt-get install -y -qq valgrind >/dev/null || true
    fi
fi
if command -v valgrind >/dev/null; then
    valgrind --version
    export LABWIRE_VALGRIND=1
else
    echo "valgrind is not installed and could not be: the C tests run without it"
fi

step "labwire-ffi: header freshness, Rust tests, C and C++ programs, Python example"
# `header_is_fresh` regenerates include/labwire.h with the pinned cbindgen and fails
# if the checked-in file differs.
cargo test -p labwire-ffi --locked

step "labwire-ffi: miri on the Rust-side unit tests"
if cargo +nightly miri --version >/dev/null 2>&1; then
    # The unit tests call the extern "C" functions from Rust; the integration tests
    # run compilers and processes, which miri cannot.
    MIRIFLAGS="${MIRIFLAGS:-} -Zmiri-strict-provenance" \
        cargo +nightly miri test -p labwire-ffi --lib --locked
else
    echo "miri: skipped (cargo +nightly miri is not available; rustup +nightly component add miri)"
fi
