#!/usr/bin/env bash
# The README's test command, and what CI runs: installs the test tools when missing, then
# checks formatting, lints, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
# A build directory outside the clone, so that successive clones (CI) reuse earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/siseri-target}"

scripts/install-test-deps.sh
echo "== ring, seul fournisseur cryptographique"
for crate in aws-lc-rs openssl-sys native-tls; do
  if cargo tree --locked -i "$crate" >/dev/null 2>&1; then
    echo "$crate est entré dans l'arbre des dépendances : ring doit rester le seul fournisseur" >&2
    cargo tree -i "$crate" >&2
    exit 1
  fi
done
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
