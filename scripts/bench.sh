#!/usr/bin/env bash
# Benchmarks, each beside a named baseline in the same run, ratios first; writes BENCHMARKS.md.
#   scripts/bench.sh           full sizes (about 10 minutes), writes BENCHMARKS.md
#   scripts/bench.sh --quick   small sizes, under 2 minutes once built (CI keeps the harness
#                              working; figures not judged, printed only)
# Sections: issuance (ca/benches/issuance.rs vs scripts/bench_baseline.py), mTLS handshakes as
# revocations grow (scripts/bench_mtls.sh: the registry vs nginx), then import/export and requests
# (TODO below). Every process a section starts is stopped when it ends or fails.
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

# TODO(import/export, issue 7 §3): needs POST /api/v1/establishments/{id}/workers/import and the
# export route (not in src/registry_web.rs yet). Write scripts/bench_import.sh: a
# 1,000,000-worker CSV with valid NIRs imported through the API over mTLS (rows/s), against the
# sqlite3 CLI's `.import` of the same rows into a table of the same columns (goal ≥ 0.5×), and
# export rows/s; one JSON line each, e.g.
#   {"bench": "import", "impl": "siseri"|"sqlite3", "rows": N, "per_second": R}
#   {"bench": "export", "impl": "siseri", "rows": N, "per_second": R}
# plus the daemon's VmHWM (goal: under 100 MB at 1,000,000 workers), and a table in
# scripts/bench_report.py. Until then the report says it is not measured:
echo '{"bench": "pending", "what": "Import and export (issue 7 §3)", "why": "waits for the registry workers API (POST /api/v1/establishments/{id}/workers/import, export)"}' >>"$out"
# TODO(requests, issue 7 §4): GET of a workers page over kept-alive mTLS connections at
# 1,000,000 workers: requests/s, p50, p99 (a keep-alive mode for bench/src/bin/siseri-loadgen:
# an access-code session cookie, N requests per connection), and the daemon's VmHWM:
#   {"bench": "requests", "impl": "siseri", "workers": N, "per_second": R, "p50_ms": A, "p99_ms": B}
echo '{"bench": "pending", "what": "Requests on a workers page at 1,000,000 workers (issue 7 §4)", "why": "waits for the registry workers API"}' >>"$out"

report="$(python3 scripts/bench_report.py "$out" "${quick:-full}")"
printf '%s\n' "$report"
if [ -z "$quick" ]; then
    printf '%s\n' "$report" >BENCHMARKS.md
    echo "== BENCHMARKS.md écrit" >&2
fi
