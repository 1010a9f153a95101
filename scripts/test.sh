#!/usr/bin/env bash
# The README's test command, and what CI runs: installs the test tools when missing, then
# checks formatting, lints, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# A build directory outside the clone, so that successive clones (CI) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/siseri-target}"

scripts/install-test-deps.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
