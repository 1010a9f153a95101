#!/usr/bin/env bash
# Benchmarks, each beside a named baseline in the same run, ratios first; writes BENCHMARKS.md.
#   scripts/bench.sh           full sizes (minutes)
#   scripts/bench.sh --quick   small sizes (CI keeps the harness working; figures not judged)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/siseri-target}"
quick=""
[ "${1:-}" = "--quick" ] && quick="--quick"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

echo "== émission et PKCS#12 (siseri)" >&2
cargo bench --quiet -p ca --bench issuance -- $quick | grep '^{' >>"$out"
echo "== émission et PKCS#12 (référence : Python cryptography / OpenSSL)" >&2
python3 scripts/bench_baseline.py $quick >>"$out"

python3 - "$out" "${quick:-full}" <<'PY'
import json, platform, subprocess, sys, datetime, os
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
mode = sys.argv[2]
def get(impl, measure, workers):
    for r in rows:
        if r["impl"] == impl and r["measure"] == measure and r["workers"] == workers:
            return r["per_second"]
cpu = "unknown"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except Exception:
    pass
cores = os.cpu_count()
lines = []
lines.append("# Benchmarks\n")
lines.append(f"Run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, mode `{mode}`, "
             f"{cores} cores ({cpu}), {platform.platform()}. Produced by `scripts/bench.sh`.\n")
lines.append("## Persons issued per second, end to end (P-256 key, recorded issuance, signature, PKCS#12)\n")
lines.append("Baseline: Python `cryptography` 48 (OpenSSL 3) doing key generation, signature and PKCS#12 "
             "export at the same algorithms and iterations, one process per core.\n")
lines.append("| measure | workers | siseri /s | baseline /s | ratio |")
lines.append("|---|---|---|---|---|")
for m in ("person_p12_2048", "person_p12_100000"):
    for w in (cores, 1):
        a, b = get("siseri", m, w), get("python-cryptography", m, w)
        if a is None or b is None:
            continue
        lines.append(f"| {m} | {w} | {a:.1f} | {b:.1f} | **{a / b:.2f}×** |")
sig = get("siseri", "issue_p256", cores)
if sig is not None:
    lines.append(f"\nSignature alone (key generation, record, signature, lint, commit; no PKCS#12): "
                 f"**{sig:.0f} issuances/s** on {cores} workers, so PBKDF2, not signing, bounds issuance.\n")
text = "\n".join(lines) + "\n"
print(text)
if mode != "--quick":
    open("BENCHMARKS.md", "w").write(text)
PY
