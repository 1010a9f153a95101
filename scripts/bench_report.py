"""Turns the JSON lines of one `scripts/bench.sh` run into BENCHMARKS.md: date, machine, the
ratios against each baseline first, then the figures.

    python3 scripts/bench_report.py RESULTS.jsonl MODE   (Markdown on stdout)
"""
import datetime
import json
import os
import platform
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
mode = sys.argv[2]
cores = os.cpu_count()
ISSUANCE_GOAL = 1.0
HANDSHAKE_GOAL = 5.0  # registry vs nginx handshakes/s at 100,000 revoked
FLAT_GOAL = 1.10  # CPU per handshake at the largest size vs at 0
REFUSED_GOAL = 1.0  # seconds from `siseri cert revoke` to a refused request (issue 5 §2)


def issuance(impl, measure, workers):
    for r in rows:
        if r.get("impl") == impl and r.get("measure") == measure and r.get("workers") == workers:
            return r["per_second"]


def handshake(impl, revoked):
    for r in rows:
        if r.get("bench") == "mtls_handshake" and r["impl"] == impl and r["revoked"] == revoked:
            return r


def setup(revoked):
    for r in rows:
        if r.get("bench") == "mtls_setup" and r["revoked"] == revoked:
            return r


def verdict(ok):
    return "yes" if ok else "**no**"


def n(v):
    return f"{v:,}"


cpu = "unknown"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except (OSError, StopIteration):
    pass
mem = ""
try:
    kb = int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")))
    mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
except (OSError, StopIteration):
    pass
sizes = sorted({r["revoked"] for r in rows if r.get("bench") == "mtls_handshake"})
largest = sizes[-1] if sizes else None
versions = next((r for r in rows if r.get("bench") == "mtls_setup"), {})

out = []
out.append("# Benchmarks\n")
out.append(f"Run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, mode `{mode}`, "
           f"{cores} cores ({cpu}){mem}, {platform.platform()}. Produced by `scripts/bench.sh`; "
           "the load generator and every server share the same cores.\n")

# Ratios first.
out.append("## Ratios against the baselines\n")
out.append("| benchmark | siseri | baseline | ratio | goal | met |")
out.append("|---|---|---|---|---|---|")
for m in ("person_p12_2048", "person_p12_100000"):
    a, b = issuance("siseri", m, cores), issuance("python-cryptography", m, cores)
    if a is not None and b is not None:
        out.append(f"| persons issued/s, {m}, {cores} workers (vs Python `cryptography`) | {a:.1f} | {b:.1f} "
                   f"| **{a / b:.2f}×** | ≥ {ISSUANCE_GOAL:.1f}× | {verdict(a / b >= ISSUANCE_GOAL)} |")
for size in sizes:
    s, g = handshake("siseri", size), handshake("nginx", size)
    if s and g:
        ratio = s["per_second"] / g["per_second"]
        goal = f"≥ {HANDSHAKE_GOAL:.0f}×" if size == 100_000 else "—"
        met = verdict(ratio >= HANDSHAKE_GOAL) if size == 100_000 else "—"
        out.append(f"| mTLS handshakes/s at {n(size)} revoked (registry vs nginx) | {s['per_second']:.0f} "
                   f"| {g['per_second']:.0f} | **{ratio:.2f}×** | {goal} | {met} |")
if largest:
    for impl, label in (("siseri", "registry"), ("nginx", "nginx")):
        lo, hi = handshake(impl, 0), handshake(impl, largest)
        if lo and hi:
            r = hi["server_cpu_ms_per_handshake"] / lo["server_cpu_ms_per_handshake"]
            goal = f"≤ {FLAT_GOAL:.2f}×" if impl == "siseri" and largest == 1_000_000 else "—"
            met = verdict(r <= FLAT_GOAL) if impl == "siseri" and largest == 1_000_000 else "—"
            out.append(f"| {label}: server CPU per handshake, {n(largest)} vs 0 revoked (ms) "
                       f"| {hi['server_cpu_ms_per_handshake']:.3f} | {lo['server_cpu_ms_per_handshake']:.3f} "
                       f"| **{r:.2f}×** | {goal} | {met} |")
    for size in sizes:
        s = setup(size) or {}
        if s.get("revoked_refused_seconds") is not None:
            secs = s["revoked_refused_seconds"]
            out.append(f"| registry: `siseri cert revoke` → request refused, at {n(size)} revoked (s) "
                       f"| {secs:.2f} | — | — | ≤ {REFUSED_GOAL:.0f} s | {verdict(secs <= REFUSED_GOAL)} |")
out.append("")

# Issuance (section 1 of the benchmark issue).
out.append("## Persons issued per second, end to end (P-256 key, recorded issuance, signature, PKCS#12)\n")
out.append("Baseline: Python `cryptography` (OpenSSL 3) doing key generation, signature and PKCS#12 "
           "export at the same algorithms and iterations, one process per core.\n")
out.append("| measure | workers | siseri /s | baseline /s | ratio |")
out.append("|---|---|---|---|---|")
for m in ("person_p12_2048", "person_p12_100000"):
    for w in (cores, 1):
        a, b = issuance("siseri", m, w), issuance("python-cryptography", m, w)
        if a is None or b is None:
            continue
        out.append(f"| {m} | {w} | {a:.1f} | {b:.1f} | **{a / b:.2f}×** |")
sig = issuance("siseri", "issue_p256", cores)
if sig is not None:
    out.append(f"\nSignature alone (key generation, record, signature, lint, commit; no PKCS#12): "
               f"**{sig:.0f} issuances/s** on {cores} workers, so PBKDF2, not signing, bounds issuance.")
out.append("")

# mTLS handshakes (section 2).
if sizes:
    any_run = handshake("siseri", sizes[0]) or {}
    out.append("## mTLS handshakes as revocations grow\n")
    out.append(
        f"`siseri serve` (registry listener: rustls + ring, revoked serials in a hash set refreshed from "
        f"the database) against nginx {versions.get('nginx_version', '?')} from Debian (OpenSSL "
        f"{versions.get('openssl_version', '?')}, `ssl_verify_client on`, the same AC SISERI, server "
        f"certificate and CRL from `siseri ca crl`, a static page, {cores} worker processes). Load: "
        f"`siseri-loadgen` (bench/), {any_run.get('concurrency', '?')} connections at a time, each a new "
        f"TCP connection, a full TLS {any_run.get('tls', '?')} handshake with a P-256 client certificate "
        f"(no resumption) and one `GET /healthz`, {any_run.get('seconds', 0):.0f} s measured per run after "
        f"a warm-up. Server CPU = utime + stime of the server's processes (`/proc/PID/stat`) over the "
        f"measured window ÷ handshakes; peak RSS = `VmHWM` (nginx: its largest process; its workers share "
        f"the master's copy of the CRL).\n")
    out.append("| revoked | server | handshakes/s | server CPU ms/handshake | server cores busy "
               "| client CPU ms/handshake | p50 ms | p99 ms | peak RSS MB | RSS after MB | errors |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        for impl, label in (("siseri", "registry"), ("nginx", "nginx")):
            r = handshake(impl, size)
            if not r:
                continue
            out.append(f"| {n(size)} | {label} | {r['per_second']:.0f} | {r['server_cpu_ms_per_handshake']:.3f} "
                       f"| {r['server_cpu_cores']:.2f} | {r['client_cpu_ms_per_handshake']:.3f} "
                       f"| {r['connection_ms_p50']:.1f} | {r['connection_ms_p99']:.1f} "
                       f"| {r['server_peak_rss_kb'] / 1024:.0f} | {r['server_rss_kb'] / 1024:.0f} "
                       f"| {r['errors']} |")
    out.append("")
    out.append("Setup per size (fresh `siseri init`, revoked rows inserted in one transaction, CRL signed "
               "by `siseri ca crl`), and one revocation while the registry runs: `siseri cert revoke` of "
               "another client certificate (a separate process, which signs and publishes a new CRL in "
               "its transaction), then curl over mTLS every 20 ms until the registry refuses it:\n")
    out.append("| revoked | insert s | `ca crl` s | CRL (PEM) MB | registry ready s | nginx ready s "
               "| `cert revoke` s | revoke → refused s |")
    out.append("|---|---|---|---|---|---|---|---|")
    opt = lambda v: "—" if v is None else f"{v:.2f}"
    for size in sizes:
        s = setup(size)
        if s:
            out.append(f"| {n(size)} | {s['insert_seconds']:.1f} | {s['crl_seconds']:.1f} "
                       f"| {s['crl_pem_bytes'] / 1e6:.1f} | {s['siseri_ready_seconds']:.1f} "
                       f"| {s['nginx_ready_seconds']:.1f} | {opt(s.get('revoke_cli_seconds'))} "
                       f"| {opt(s.get('revoked_refused_seconds'))} |")
    out.append("")

# Sections 3 and 4 wait for the registry's workers API (see the TODO hooks in scripts/bench.sh).
pending = [r for r in rows if r.get("bench") == "pending"]
if pending:
    out.append("## Not measured yet\n")
    for r in pending:
        out.append(f"- {r['what']}: {r['why']}")
    out.append("")

print("\n".join(out))
