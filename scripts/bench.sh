#!/usr/bin/env bash
# Benchmarks, each beside a named baseline in the same run, ratios first; writes BENCHMARKS.md.
#   scripts/bench.sh           full sizes (about 8 minutes), writes BENCHMARKS.md
#   scripts/bench.sh --quick   small sizes, under 2 minutes once built (CI keeps the harness
#                              working; figures not judged, printed only)
# Sections: issuance (ca/benches/issuance.rs vs scripts/bench_baseline.py), mTLS handshakes as
# revocations grow (scripts/bench_mtls.sh: the registry vs nginx), the workers list: import vs
# sqlite3, export, pages, memory (scripts/bench_import.sh), the registry during a flood of the
# public listener (scripts/bench_abuse.sh), revocation at scale with sharded CRLs
# (scripts/bench_revoke.sh), a worker's career at 50,000,000 results (scripts/bench_career.sh),
# transmissions of results vs sqlite3 (scripts/bench_transmissions.sh),
# OCSP responses signed ahead vs per request vs `openssl ocsp -port`
# (scripts/bench_ocsp.sh). Shared helpers: scripts/bench_lib.sh;
# the report: scripts/bench_report.py. Every process a section starts is stopped when it ends or
# fails.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/siseri-target}"
quick=""
[ "${1:-}" = "--quick" ] && quick="--quick"
out="$(mktemp)"
section="" # a section running in the background, stopped (and so cleaned up) if we are
trap 'rm -f "$out"; [ -z "$section" ] || { kill -TERM "$section" 2>/dev/null; wait "$section"; }' EXIT
trap 'exit 130' INT TERM

echo "== compilation (release)" >&2
cargo build --quiet --release -p siseri -p siseri-bench

echo "== émission et PKCS#12 (siseri)" >&2
cargo bench --quiet -p ca --bench issuance -- $quick | grep '^{' >>"$out"
echo "== émission et PKCS#12 (référence : Python cryptography / OpenSSL)" >&2
python3 scripts/bench_baseline.py $quick >>"$out"

scripts/bench_mtls.sh $quick "$out" &
section=$!
wait "$section"
section=""

# Revocation at scale (issue 14 §4): `cert revoke` time and the shard a relying party fetches.
scripts/bench_revoke.sh $quick "$out" &
section=$!
wait "$section"
section=""

# Import, export, pages and memory (issue 7 §3 to §5) through the registry's workers API; says
# "not measured" by itself when the build has no such route.
scripts/bench_import.sh $quick "$out" &
section=$!
wait "$section"
section=""

# A worker's whole career read by the physician, and the limit check of one new result, at
# 50,000,000 stored results (issue 15).
scripts/bench_career.sh $quick "$out" &
section=$!
wait "$section"
section=""

# Transmissions of results (issue 16): POST of a results file to the signed récépissé vs
# sqlite3 .import, with and without results already stored; RSS.
scripts/bench_transmissions.sh $quick "$out" &
section=$!
wait "$section"
section=""

# The registry while the public listener is flooded (issue 13): p99 with and without, RSS.
scripts/bench_abuse.sh $quick "$out" &
section=$!
wait "$section"
section=""

# OCSP responses per second, signed ahead vs per request vs OpenSSL's responder (issue 14 §3).
scripts/bench_ocsp.sh $quick "$out" &
section=$!
wait "$section"
section=""

# The raw figures stay beside the build, to re-render the report without re-running.
cp "$out" "$CARGO_TARGET_DIR/bench-results${quick:+-quick}.jsonl"
report="$(python3 scripts/bench_report.py "$out" "${quick:-full}")"
printf '%s\n' "$report"
if [ -z "$quick" ]; then
    printf '%s\n' "$report" >BENCHMARKS.md
    echo "== BENCHMARKS.md écrit" >&2
fi
