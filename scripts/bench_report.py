"""Turns the JSON lines of one `scripts/bench.sh` run into BENCHMARKS.md: date, machine, the
ratios against each baseline first, then the figures.

    python3 scripts/bench_report.py RESULTS.jsonl MODE   (Markdown on stdout)
"""
import datetime
import json
import os
import platform
import subprocess
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
mode = sys.argv[2]
cores = os.cpu_count()
ISSUANCE_GOAL = 1.0
HANDSHAKE_GOAL = 5.0  # registry vs nginx handshakes/s at 100,000 revoked
FLAT_GOAL = 1.10  # CPU per handshake at the largest size vs at 0
REFUSED_GOAL = 1.0  # seconds from `siseri cert revoke` to a refused request (issue 5 §2)
IMPORT_GOAL = 0.5  # API import vs sqlite3 .import, rows/s
TRANSMISSION_GOAL = 0.5  # POST /api/v1/transmissions vs sqlite3 .import, lines/s
TRANSMISSION_MEMORY_MB = 150  # daemon peak RSS receiving 1,000,000 lines
MEMORY_GOAL_MB = 100  # daemon peak RSS at 1,000,000 workers
FLOOD_GOAL = 2.0  # registry p99 during a flood of the public listener vs without (issue 13)
READS_SPREAD_GOAL = 5.0  # registry reads at 64 connections, p99 over p50 (issue 15 §5)
CAREER_READ_GOAL_MS = 10.0  # p99 of a 480-result career read at 50,000,000 results (issue 15)
CAREER_SIZE = 50_000_000
REVOKE_GOAL = 1.0  # seconds of `siseri cert revoke` at 1,000,000 revoked (issue 14 §4)
FETCH_GOAL_MB = 1.0  # MB a relying party fetches after one revocation at 1,000,000 revoked
OCSP_LIVE_GOAL = 10.0  # OCSP responses/s signed ahead vs signed per request (issue 14 §3)
OCSP_OPENSSL_GOAL = 5.0  # OCSP responses/s signed ahead vs `openssl ocsp -index -port`
OCSP_NAMES = {"ahead": "siseri, signed ahead", "live": "siseri, signed per request",
              "ahead-http": "siseri, signed ahead (plain HTTP)",
              "live-http": "siseri, signed per request (plain HTTP)",
              "openssl": "`openssl ocsp -port`"}
# Like against like: each transport with itself; OpenSSL's responder speaks only plain HTTP.
OCSP_PAIRS = (("ahead", "live", OCSP_LIVE_GOAL), ("ahead-http", "live-http", OCSP_LIVE_GOAL),
              ("ahead-http", "openssl", OCSP_OPENSSL_GOAL), ("ahead", "openssl", None))


def ocsp(impl, size):
    """The rounds of one OCSP responder at one size, pooled."""
    runs = [r for r in rows
            if r.get("bench") == "ocsp" and r["impl"] == impl and r["certificates"] == size]
    done = sum(r["requests"] for r in runs)
    if not done:
        return None
    seconds = sum(r["seconds"] for r in runs)
    cpu = [r["server_cpu_ms_per_request"] * r["requests"] for r in runs
           if r["server_cpu_ms_per_request"] is not None]
    return {
        "rounds": len(runs), "seconds": seconds, "requests": done, "per_second": done / seconds,
        "per_round": [r["per_second"] for r in runs],
        "server_cpu_ms_per_request": sum(cpu) / done if cpu else None,
        "server_cpu_cores": sum((r["server_cpu_cores"] or 0) * r["seconds"] for r in runs) / seconds,
        "request_ms_p50": median(r["request_ms_p50"] for r in runs),
        "request_ms_p99": median(r["request_ms_p99"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "connections": sum(r["connections"] for r in runs),
        "concurrency": runs[0]["concurrency"], "transport": runs[0]["transport"],
        "server_peak_rss_kb": max(r["server_peak_rss_kb"] or 0 for r in runs),
    }


def issuance(impl, measure, workers):
    for r in rows:
        if r.get("impl") == impl and r.get("measure") == measure and r.get("workers") == workers:
            return r["per_second"]


def median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def handshake(impl, revoked):
    """The rounds of one server at one size, pooled: total CPU ÷ total handshakes."""
    runs = [r for r in rows
            if r.get("bench") == "mtls_handshake" and r["impl"] == impl and r["revoked"] == revoked]
    done = sum(r["handshakes"] for r in runs)
    if not done:
        return None
    seconds = sum(r["seconds"] for r in runs)

    def pooled(key):
        return sum(r[key] * r["handshakes"] for r in runs if r[key] is not None) / done

    cpu = [r["server_cpu_ms_per_handshake"] for r in runs if r["server_cpu_ms_per_handshake"] is not None]
    return {
        "rounds": len(runs), "seconds": seconds, "handshakes": done, "per_second": done / seconds,
        "server_cpu_ms_per_handshake": pooled("server_cpu_ms_per_handshake"),
        "client_cpu_ms_per_handshake": pooled("client_cpu_ms_per_handshake"),
        "server_cpu_cores": sum(r["server_cpu_cores"] * r["seconds"] for r in runs) / seconds,
        "cpu_min": min(cpu), "cpu_max": max(cpu),
        "connection_ms_p50": median(r["connection_ms_p50"] for r in runs),
        "connection_ms_p99": median(r["connection_ms_p99"] for r in runs),
        "server_peak_rss_kb": max(r["server_peak_rss_kb"] for r in runs),
        "server_rss_kb": runs[-1]["server_rss_kb"],
        "errors": sum(r["errors"] for r in runs),
        "concurrency": runs[0]["concurrency"], "tls": runs[0]["tls"],
    }


def setup(revoked):
    for r in rows:
        if r.get("bench") == "mtls_setup" and r["revoked"] == revoked:
            return r


def first(bench, **match):
    for r in rows:
        if r.get("bench") == bench and all(r.get(k) == v for k, v in match.items()):
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
tree = "unknown tree"
try:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=True).stdout.strip()
    tree = f"commit `{head}`" + (" with uncommitted changes" if dirty else "")
except (OSError, subprocess.CalledProcessError):
    pass
sizes = sorted({r["revoked"] for r in rows if r.get("bench") == "mtls_handshake"})
largest = sizes[-1] if sizes else None
versions = next((r for r in rows if r.get("bench") == "mtls_setup"), {})

out = []
out.append("# Benchmarks\n")
out.append(f"Run: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}, mode `{mode}`, "
           f"{cores} cores ({cpu}){mem}, {platform.platform()}, {tree}. Produced by `scripts/bench.sh`; "
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
def paired(impl, size):
    """Per round, CPU per handshake at `size` ÷ at 0: windows close in time, so the machine's
    drift cancels; their median and range."""
    cpu = {}
    for r in rows:
        if r.get("bench") == "mtls_handshake" and r["impl"] == impl and r["server_cpu_ms_per_handshake"]:
            cpu[(r["revoked"], r.get("round"))] = r["server_cpu_ms_per_handshake"]
    ratios = sorted(cpu[(size, k)] / cpu[(0, k)] for (s_, k) in cpu if s_ == size and (0, k) in cpu)
    if not ratios:
        return ""
    return f" (per round: median {median(ratios):.2f}×, {ratios[0]:.2f}–{ratios[-1]:.2f}×)"


if largest:
    for impl, label in (("siseri", "registry"), ("nginx", "nginx")):
        lo, hi = handshake(impl, 0), handshake(impl, largest)
        if lo and hi:
            r = hi["server_cpu_ms_per_handshake"] / lo["server_cpu_ms_per_handshake"]
            goal = f"≤ {FLAT_GOAL:.2f}×" if impl == "siseri" and largest == 1_000_000 else "—"
            met = verdict(r <= FLAT_GOAL) if impl == "siseri" and largest == 1_000_000 else "—"
            out.append(f"| {label}: server CPU per handshake, {n(largest)} vs 0 revoked (ms) "
                       f"| {hi['server_cpu_ms_per_handshake']:.3f} | {lo['server_cpu_ms_per_handshake']:.3f} "
                       f"| **{r:.2f}×**{paired(impl, largest)} | {goal} | {met} |")
            if impl == "siseri":
                c = hi["client_cpu_ms_per_handshake"] / lo["client_cpu_ms_per_handshake"]
                out.append(f"| control: the load generator's CPU per handshake against the registry, "
                           f"{n(largest)} vs 0 revoked (ms; its work does not depend on revocations) "
                           f"| {hi['client_cpu_ms_per_handshake']:.3f} | {lo['client_cpu_ms_per_handshake']:.3f} "
                           f"| {c:.2f}× | — | — |")
    for size in sizes:
        s = setup(size) or {}
        if s.get("revoked_refused_seconds") is not None:
            secs = s["revoked_refused_seconds"]
            out.append(f"| registry: `siseri cert revoke` → request refused, at {n(size)} revoked (s) "
                       f"| {secs:.2f} | — | — | ≤ {REFUSED_GOAL:.0f} s | {verdict(secs <= REFUSED_GOAL)} |")
imp, base = first("import", impl="siseri"), first("import", impl="sqlite3")
if imp and base:
    r = imp["per_second"] / base["per_second"]
    rounds = imp.get("round_ratios") or []
    spread = (f" (per round: {', '.join(f'{x:.2f}×' for x in rounds)})" if len(rounds) > 1 else "")
    out.append(f"| workers imported/s through the API, {n(imp['rows'])} rows, median of "
               f"{max(len(rounds), 1)} round(s) (vs `sqlite3` `.import`) "
               f"| {imp['per_second']:,.0f} | {base['per_second']:,.0f} | **{r:.2f}×**{spread} "
               f"| ≥ {IMPORT_GOAL:.1f}× at 1,000,000 "
               f"| {verdict(r >= IMPORT_GOAL) if imp['rows'] >= 1_000_000 else '—'} |")
mem = first("workers_memory")
if mem:
    mb = mem["peak_rss_kb"] / 1024
    judged = mem["workers"] >= 1_000_000
    out.append(f"| daemon peak RSS at {n(mem['workers'])} workers (import, export, pages) (MB) | {mb:.0f} | — | — "
               f"| < {MEMORY_GOAL_MB} MB at 1,000,000 | {verdict(mb < MEMORY_GOAL_MB) if judged else '—'} |")
tr_base = first("transmission", impl="sqlite3")
tr_stored = next((r for r in rows if r.get("bench") == "transmission"
                  and r.get("impl") == "siseri" and r.get("stored_before")), None)
for tr in (first("transmission", impl="siseri", stored_before=0), tr_stored):
    if not (tr and tr_base):
        continue
    r = tr["per_second"] / tr_base["per_second"]
    rounds = tr.get("round_ratios") or []
    spread = (f" (per round: {', '.join(f'{x:.2f}×' for x in rounds)})" if len(rounds) > 1 else "")
    judged = tr["rows"] >= 1_000_000
    stored = (f", {n(tr['stored_before'])} results already stored" if tr["stored_before"] else "")
    out.append(f"| results received/s, `POST /api/v1/transmissions` to the signed récépissé, "
               f"{n(tr['rows'])} lines{stored}, median of {max(len(rounds), 1)} round(s) "
               f"(vs `sqlite3` `.import`) | {tr['per_second']:,.0f} | {tr_base['per_second']:,.0f} "
               f"| **{r:.2f}×**{spread} | ≥ {TRANSMISSION_GOAL:.1f}× at 1,000,000 "
               f"| {verdict(r >= TRANSMISSION_GOAL) if judged else '—'} |")
    mb = tr["peak_rss_kb"] / 1024
    out.append(f"| daemon peak RSS receiving {n(tr['rows'])} lines{stored} (MB) | {mb:.0f} | — | — "
               f"| < {TRANSMISSION_MEMORY_MB} MB at 1,000,000 "
               f"| {verdict(mb < TRANSMISSION_MEMORY_MB) if judged else '—'} |")
inline_reads, grouped_reads = first("read_audit", audit="inline"), first("read_audit", audit="grouped")
for r in (inline_reads, grouped_reads):
    if r and r["request_ms_p50"] and r["request_ms_p99"]:
        spread = r["request_ms_p99"] / r["request_ms_p50"]
        judged = r["workers"] >= 1_000_000 and r is grouped_reads
        what = ("reads in read transactions, audit entries committed in groups" if r is grouped_reads
                else "each read takes the write lock for its audit entry (before)")
        out.append(f"| registry reads (`?page=1`) at 64 connections, {n(r['workers'])} workers, {what}: "
                   f"p99 ÷ p50 (ms) | {r['request_ms_p99']:.1f} | {r['request_ms_p50']:.1f} "
                   f"| **{spread:.1f}×** | ≤ {READS_SPREAD_GOAL:.0f}× | {verdict(spread <= READS_SPREAD_GOAL) if judged else '—'} |")
if inline_reads and grouped_reads and inline_reads["request_ms_p99"] and grouped_reads["request_ms_p99"]:
    out.append(f"| registry reads at 64 connections: requests/s, grouped (vs inline) "
               f"| {grouped_reads['requests_per_second']:,.0f} | {inline_reads['requests_per_second']:,.0f} "
               f"| **{grouped_reads['requests_per_second'] / inline_reads['requests_per_second']:.2f}×** | — | — |")
career_read, career_record = first("career_read"), first("career_record")
career_mem = first("career_memory")
for r, what in ((career_read, "a worker's whole career (480 results) read by the physician"),
                (career_record, "one result recorded by the physician, limit check across the career")):
    if r and r["request_ms_p50"] and r["request_ms_p99"]:
        judged = r["results"] >= CAREER_SIZE and r is career_read
        goal = f"≤ {CAREER_READ_GOAL_MS:.0f} ms at {n(CAREER_SIZE)}" if r is career_read else "—"
        met = verdict(r["request_ms_p99"] <= CAREER_READ_GOAL_MS) if judged else "—"
        out.append(f"| {what}, {n(r['results'])} results stored: p99 (vs p50) (ms) "
                   f"| {r['request_ms_p99']:.2f} | {r['request_ms_p50']:.2f} "
                   f"| {r['request_ms_p99'] / r['request_ms_p50']:.1f}× | {goal} | {met} |")
if career_mem:
    out.append(f"| daemon peak RSS, careers at {n(career_mem['results'])} results (MB) "
               f"| {career_mem['peak_rss_kb'] / 1024:.0f} | — | — | — | — |")
def calm_before(mode):
    """The calm window measured just before the flood `mode` (older runs: the run's first)."""
    return first("abuse", flood_mode="none", before=mode) or first("abuse", flood_mode="none")


for r in [r for r in rows if r.get("bench") == "abuse" and r.get("flood_mode") != "none"]:
    calm = calm_before(r["flood_mode"])
    if calm and calm["request_ms_p99"] and r["request_ms_p99"]:
        ratio = r["request_ms_p99"] / calm["request_ms_p99"]
        size = (first("flood", mode=r["flood_mode"]) or {}).get("flood", 0)
        out.append(f"| registry p99 during a flood of {n(size)} connections to the public listener, "
                   f"`{r['flood_mode']}` (vs no flood just before) (ms) | {r['request_ms_p99']:.3f} | {calm['request_ms_p99']:.3f} "
                   f"| **{ratio:.1f}×** | ≤ {FLOOD_GOAL:.0f}× at 10,000 "
                   f"| {verdict(ratio <= FLOOD_GOAL) if size >= 10_000 else '—'} |")
for r in sorted((r for r in rows if r.get("bench") == "revoke"), key=lambda r: r["revoked"]):
    judged = r["revoked"] >= 1_000_000
    t, base = r["revoke_cli_seconds"], r["full_crl_seconds"]
    out.append(f"| `siseri cert revoke` at {n(r['revoked'])} revoked, its shard's CRL re-signed (vs signing "
               f"the full CRL, as every revocation did before shards) (s) | {t:.2f} | {base:.2f} "
               f"| **{t / base:.2f}×** | ≤ {REVOKE_GOAL:.0f} s at 1,000,000 | {verdict(t <= REVOKE_GOAL) if judged else '—'} |")
    kb, full_kb = r["shard_bytes"] / 1e3, r["full_crl_bytes"] / 1e3
    out.append(f"| bytes a relying party fetches after one revocation at {n(r['revoked'])} revoked: the "
               f"shard its certificate names (vs the full CRL) (KB) | {kb:,.1f} | {full_kb:,.1f} "
               f"| **{kb / full_kb:.3f}×** | ≤ {FETCH_GOAL_MB:.0f} MB at 1,000,000 "
               f"| {verdict(kb <= FETCH_GOAL_MB * 1e3) if judged else '—'} |")
ocsp_sizes = sorted({r["certificates"] for r in rows if r.get("bench") == "ocsp"})
for size in ocsp_sizes:
    for mine, impl, goal in OCSP_PAIRS:
        a, b = ocsp(mine, size), ocsp(impl, size)
        if a and b:
            ratio = a["per_second"] / b["per_second"]
            judged = (f"| ≥ {goal:.0f}× | {verdict(ratio >= goal)} |" if goal
                      else "| — (transports differ) | — |")
            out.append(f"| OCSP responses/s at {n(size)} certificates, {OCSP_NAMES[mine]} (vs {OCSP_NAMES[impl]}) "
                       f"| {a['per_second']:,.0f} | {b['per_second']:,.0f} | **{ratio:.1f}×** "
                       + judged)
            ca_, cb = a["server_cpu_ms_per_request"], b["server_cpu_ms_per_request"]
            if ca_ and cb:
                out.append(f"| OCSP server CPU per response at {n(size)} certificates (ms), {OCSP_NAMES[impl]} "
                           f"÷ signed ahead | {ca_:.4f} | {cb:.4f} | **{cb / ca_:.1f}×** | — | — |")
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
        f"(no resumption) and one `GET /healthz`, {any_run.get('seconds', 0):.0f} s measured per server "
        f"and size, in {any_run.get('rounds', '?')} windows taken in turn across every size and server "
        f"(all set up and running beforehand; order reversed every other round), so that the drift of "
        f"this shared machine's speed falls on every size alike. Server CPU = utime + stime of the "
        f"server's processes (`/proc/PID/stat`) over the windows ÷ handshakes (range: the windows' "
        f"own values); client CPU, the load generator's own, is the control; p50 and p99 of the "
        f"connection time (connect → response), median of the windows; peak RSS = `VmHWM` (nginx: its "
        f"largest process; its workers share the master's copy of the CRL).\n")
    out.append("| revoked | server | handshakes/s | server CPU ms/handshake (range) | server cores busy "
               "| client CPU ms/handshake | server ÷ client CPU | p50 ms | p99 ms | peak RSS MB "
               "| RSS after MB | errors |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        for impl, label in (("siseri", "registry"), ("nginx", "nginx")):
            r = handshake(impl, size)
            if not r:
                continue
            out.append(f"| {n(size)} | {label} | {r['per_second']:.0f} | {r['server_cpu_ms_per_handshake']:.3f} "
                       f"({r['cpu_min']:.3f}–{r['cpu_max']:.3f}) "
                       f"| {r['server_cpu_cores']:.2f} | {r['client_cpu_ms_per_handshake']:.3f} "
                       f"| {r['server_cpu_ms_per_handshake'] / r['client_cpu_ms_per_handshake']:.2f} "
                       f"| {r['connection_ms_p50']:.1f} | {r['connection_ms_p99']:.1f} "
                       f"| {r['server_peak_rss_kb'] / 1024:.0f} | {r['server_rss_kb'] / 1024:.0f} "
                       f"| {r['errors']} |")
    out.append("")
    out.append("Setup per size (fresh `siseri init`, revoked rows inserted in one transaction, CRL signed "
               "by `siseri ca crl`), and one revocation while the registry runs: `siseri cert revoke` of "
               "another client certificate (a separate process, which also signs and publishes a new "
               "CRL), while curl asks the registry over mTLS every 20 ms until it refuses that "
               "certificate:\n")
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

# Revocation at scale (issue 14 §4).
revokes = sorted((r for r in rows if r.get("bench") == "revoke"), key=lambda r: r["revoked"])
if revokes:
    out.append("## Revocation at scale: sharded CRLs\n")
    out.append("`scripts/bench_revoke.sh`: per size, a fresh `siseri init` (128 CRL shards), the revoked "
               "rows inserted in one transaction with their shards, `siseri ca crl` once (every shard's CRL) "
               "and again, timed (the full CRL alone: the work every revocation did before shards; its "
               "size: what every relying party fetched), the daemon started, one organisme certificate issued and then revoked with the "
               "CLI (wall time of the whole `siseri cert revoke` process: key decryption, revocation, its "
               "shard's CRL signed and linted), and the CRL its distribution point names fetched from the "
               "plain-HTTP listener; OpenSSL then refuses the certificate with it.\n")
    out.append("| revoked | `cert revoke` s | shard CRL KB | shard entries | full CRL: signing s | full CRL KB |")
    out.append("|---|---|---|---|---|---|")
    for r in revokes:
        out.append(f"| {n(r['revoked'])} | {r['revoke_cli_seconds']:.2f} | {r['shard_bytes'] / 1e3:,.1f} "
                   f"| {n(r['shard_entries'])} | {r['full_crl_seconds']:.2f} | {r['full_crl_bytes'] / 1e3:,.1f} |")
    out.append("")

# The registry during a flood of the public listener.
calm = first("abuse", flood_mode="none")
floods = [r for r in rows if r.get("bench") == "abuse" and r.get("flood_mode") != "none"]
flood_runs = {r["mode"]: r for r in rows if r.get("bench") == "flood"}
if calm and floods:
    size = next(iter(flood_runs.values()), {}).get("flood", 0)
    out.append("## The registry while the public listener is flooded\n")
    out.append("`scripts/bench_abuse.sh`: registry requests (`GET /healthz` over mutual TLS, kept-alive "
               f"connections, {calm['concurrency']} clients, {calm['seconds']:.0f} s) with no flood; then, for each "
               "mode, with no flood again and, just after, while "
               f"`siseri-loadgen --flood {n(size)}` holds that many connections to the public listener from "
               "127.0.0.0/8 (each reopened as soon as the server drops it), one mode at a time. The attacker "
               "runs at nice 19 on the same two cores (a real one has its own machine); the daemon does all "
               "the work its connections cost. Modes: `idle` TCP (TLS handshake timeout), `slow-headers` "
               "(header timeout), `slow-body` (minimum body rate), `tls-idle` (idle timeout), `draft-spam` "
               "(drafts per address, 429). Each flood's p99 is compared with the calm window just before it: "
               "this host's speed drifts over minutes.\n")
    out.append("| flood | registry p99 ms | p50 ms | errors | no flood just before: p99 ms | p99 / no flood | goal | met | held at once | dropped by the server | daemon peak RSS MB |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    out.append(f"| none | {calm['request_ms_p99']:.3f} | {calm['request_ms_p50']:.3f} | {calm['errors']} | — | 1 | — | — | — | — "
               f"| {calm['server_peak_rss_kb'] / 1024:.0f} |")
    for r in floods:
        f = flood_runs.get(r["flood_mode"], {})
        before = calm_before(r["flood_mode"])
        ratio = r["request_ms_p99"] / before["request_ms_p99"] if before["request_ms_p99"] else float("nan")
        extra = ""
        if r["flood_mode"] == "draft-spam" and f:
            extra = f" ({n(f.get('drafts_created', 0))} drafts created, {n(f.get('drafts_limited', 0))} refused 429)"
        out.append(f"| {r['flood_mode']}{extra} | {r['request_ms_p99']:.3f} | {r['request_ms_p50']:.3f} | {r['errors']} "
                   f"| {before['request_ms_p99']:.3f} | **{ratio:.1f}×** | ≤ {FLOOD_GOAL:.0f}× | {verdict(ratio <= FLOOD_GOAL)} | {n(f.get('held_max', 0))} "
                   f"| {n(f.get('dropped_by_server', 0))} | {r['server_peak_rss_kb'] / 1024:.0f} |")
    out.append("")

# Sections 3 to 5: the workers list through the API.
imp, base, exp = first("import", impl="siseri"), first("import", impl="sqlite3"), first("export", impl="siseri")
if imp and base:
    out.append("## Workers list: import, export, pages\n")
    out.append(f"A CSV of {n(imp['rows'])} workers ({imp['bytes'] / 1e6:.0f} MB, valid NIRs, the lines of "
               "`registry/tests/import_speed.rs`) posted to `POST /api/v1/establishments/{id}/workers/import` "
               "by the correspondent of `siseri demo` (certificate + access code session), over mTLS by "
               "`siseri-loadgen --upload` (curl spends about 7 s of CPU polling its socket during such an "
               "upload on two cores), timed from the request's first byte to the answer (validation of "
               "every line, one transaction; in an empty list the indexes are built after the rows), each "
               "round into a new daemon's empty list, taking turns with the baseline (order reversed "
               "every other round); the figures are the median rounds. "
               f"Baseline: the `sqlite3` {base.get('version', '')} CLI's `.import` of the same file into a "
               "table of the same 17 TEXT columns (no validation, no index). Export: `GET .../workers.csv`.\n")
    out.append("| measure | rows | seconds | rows/s |")
    out.append("|---|---|---|---|")
    each = lambda r: ", ".join(f"{x:.2f}" for x in r.get("rounds", []))
    out.append(f"| import, registry API (rounds: {each(imp)} s) | {n(imp['rows'])} | {imp['seconds']:.2f} | {imp['per_second']:,.0f} |")
    out.append(f"| import, `sqlite3` `.import` (rounds: {each(base)} s) | {n(base['rows'])} | {base['seconds']:.2f} | {base['per_second']:,.0f} |")
    if exp:
        out.append(f"| export, registry API | {n(exp['rows'])} | {exp['seconds']:.2f} | {exp['per_second']:,.0f} |")
    out.append("")
reqs = [r for r in rows if r.get("bench") == "requests"]
if reqs:
    out.append(f"Pages of 50 workers at {n(reqs[0]['workers'])} workers, over kept-alive mTLS connections "
               f"({reqs[0]['requests_per_connection']} requests each, {reqs[0]['seconds']:.0f} s): `first` = "
               "`?page=1`, `random` = `?page=N` drawn among all pages, `after` = `?after=ID` drawn among all "
               "workers.\n")
    out.append("| page | connections | requests/s | p50 ms | p99 ms | server CPU ms/request | errors |")
    out.append("|---|---|---|---|---|---|---|")
    fmt = lambda v, spec: "—" if v is None else format(v, spec)
    for r in reqs:
        out.append(f"| {r['page']} | {r['concurrency']} | {r['requests_per_second']:.1f} | {fmt(r['request_ms_p50'], '.1f')} "
                   f"| {fmt(r['request_ms_p99'], '.1f')} | {fmt(r['server_cpu_ms_per_request'], '.2f')} "
                   f"| {r['errors']} |")
    out.append("\n`?page=N` is an SQL `OFFSET` over the name index (only the index entries skipped are "
               "read, and only the rows shown are audited): a page deep in a million costs a walk of "
               "that index, where `?after=ID` seeks straight to it.\n")
if mem:
    out.append(f"Daemon peak RSS (`VmHWM`): {mem['peak_rss_kb_after_import'] / 1024:.0f} MB after the import, "
               f"{mem['peak_rss_kb'] / 1024:.0f} MB after the export and the pages.\n")
if ocsp_sizes:
    any_run = ocsp("ahead", ocsp_sizes[0]) or {}
    sweep = first("ocsp_sweep")
    setup_o = first("ocsp_setup") or {}
    out.append("## OCSP responses per second: signed ahead, signed per request, OpenSSL\n")
    out.append(
        "`scripts/bench_ocsp.sh`: one DER OCSPRequest (SHA-1 CertID, no nonce, as RFC 5019 clients "
        "send it, for a certificate issued by `siseri cert issue`) POSTed again and again by "
        f"`siseri-loadgen --ocsp`, {any_run.get('concurrency', '?')} kept-alive connections at a time, "
        f"in {any_run.get('rounds', '?')} window(s) of {any_run.get('seconds', 0) / max(any_run.get('rounds', 1), 1):.0f} s "
        "per responder and size, taken in turn. Responders, all running side by side: `siseri serve` "
        "answering from the responses signed ahead (`[ca] ocsp_presigned = true`, the default: a parse, "
        "a lookup in memory or in the database, the stored bytes), the same daemon on a copy of the database signing each response "
        "(`ocsp_presigned = false`, the former behaviour), and OpenSSL "
        f"{setup_o.get('openssl_version', '?')}'s responder (`openssl ocsp -index … -port … -multi {cores}`, "
        "the CA key decrypted for it, signing each response); both daemons with the public listener at "
        "nice 0 like OpenSSL (`[limits] public_nice = 0`). Each daemon is measured on its public "
        "listener (HTTPS, TLS 1.3 amortised over the kept-alive connection) and on its plain-HTTP "
        "publication listener (`[listen] http`, RFC 5019's transport, the one certificates' AIA "
        "names); OpenSSL's responder speaks only plain HTTP (it closes the connection after each "
        "response: `connections` counts them). Ratios compare like with like. The other certificates are "
        "inserted by SQL, with (for the daemon) a stored response each of the real one's size; "
        "OpenSSL gets the same serials in its index. Server CPU = utime + stime of the responder's "
        "processes ÷ responses.\n")
    out.append("| certificates | responder | transport | responses/s (per window) | server CPU ms/response "
               "| server cores busy | p50 ms | p99 ms | connections | errors |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    fmt = lambda v, spec: "—" if v is None else format(v, spec)
    for size in ocsp_sizes:
        for impl in ("ahead", "live", "ahead-http", "live-http", "openssl"):
            r = ocsp(impl, size)
            if not r:
                continue
            windows = ", ".join(f"{x:,.0f}" for x in r["per_round"])
            out.append(f"| {n(size)} | {OCSP_NAMES[impl]} | {r['transport']} | {r['per_second']:,.0f} ({windows}) "
                       f"| {fmt(r['server_cpu_ms_per_request'], '.4f')} | {r['server_cpu_cores']:.2f} "
                       f"| {fmt(r['request_ms_p50'], '.2f')} | {fmt(r['request_ms_p99'], '.2f')} "
                       f"| {n(r['connections'])} | {r['errors']} |")
    out.append("")
    fills = [r for r in rows if r.get("bench") == "ocsp_setup"]
    if fills:
        out.append("Setup: " + "; ".join(f"{n(r['certificates'])} certificates and responses inserted in "
                                        f"{r['fill_seconds']:.1f} s" for r in fills) + ".\n")
    if sweep:
        out.append(f"Signing ahead: a daemon started on a database of {n(sweep['certificates'])} certificates "
                   f"without responses signed {n(sweep['signed'])} of them in {sweep['seconds']:.1f} s "
                   f"(start-up included), **{sweep['per_second']:,.0f} responses/s** by its background job "
                   "(batches of 256; no load meanwhile).\n")

if career_read and career_mem:
    out.append(f"## A worker's career at {n(career_mem['results'])} stored results\n")
    out.append(
        f"`scripts/bench_career.sh`: {n(career_mem['workers'])} workers on the list of `siseri demo`'s "
        "establishment, each with 40 years of monthly passive results (480, written by "
        "`scripts/bench_career_fill.py` straight into the database in "
        f"{career_mem['fill_seconds']:.0f} s; database and WAL {career_mem['db_bytes'] / 1e9:.2f} GB). "
        "The occupational physician (certificate withdrawn on the withdrawal page, access-code "
        "session) asks `GET /api/v1/establishments/{id}/workers/{w}/doses` for a worker drawn at random "
        "each time (the whole career, audited), then `POST`s one effective dose of 1 µSv for a worker "
        "drawn likewise (validation, the limit check over every 12-month window the result falls in, "
        "across employers, its audit entry; no alert is raised). One kept-alive mTLS connection "
        f"({career_read['requests_per_connection']} requests each, then a new one), "
        f"{career_read['seconds']:.0f} s measured each.\n")
    out.append("| measure | requests/s | p50 ms | p99 ms | server CPU ms/request | errors |")
    out.append("|---|---|---|---|---|---|")
    for r, what in ((career_read, "career read (480 results)"), (career_record, "one result recorded")):
        if r:
            out.append(f"| {what} | {r['requests_per_second']:.1f} | {r['request_ms_p50']:.2f} "
                       f"| {r['request_ms_p99']:.2f} | {r['server_cpu_ms_per_request'] or 0:.2f} | {r['errors']} |")
    out.append(f"\nDaemon peak RSS (`VmHWM`): {career_mem['peak_rss_kb'] / 1024:.0f} MB.\n")
trs = [r for r in rows if r.get("bench") == "transmission"]
if trs:
    out.append("## Transmissions of results\n")
    out.append("`scripts/bench_transmissions.sh`: a file of passive results, one per worker of a list of "
               "the same size (valid NIRs, names that match), posted by a dosimetry body's certificate to "
               "`POST /api/v1/transmissions` over mTLS by `siseri-loadgen --upload`, timed from the "
               "request's first byte to the signed récépissé (every line checked: format, NIR key, "
               "identity, the body's right for the SIRET, duplicates; one transaction; the récépissé "
               "recorded, then signed by the signer process). Each round runs a new daemon on a copy of "
               "one data directory; the second file (the next month) is sent to the same daemon, with "
               "the first file's results stored. Baseline: the `sqlite3` CLI's `.import` of the same file "
               "into a table of its 20 TEXT columns.\n")
    out.append("| measure | rows | seconds | rows/s | peak RSS (MB) |")
    out.append("|---|---|---|---|---|")
    for r in trs:
        what = ("`sqlite3` `.import`" if r["impl"] == "sqlite3" else
                f"registry API, {n(r['stored_before'])} results stored before")
        rss = f"{r['peak_rss_kb'] / 1024:.0f}" if r.get("peak_rss_kb") else "—"
        out.append(f"| {what} (rounds: {', '.join(f'{x:.2f}' for x in r['rounds'])} s) | {n(r['rows'])} "
                   f"| {r['seconds']:.2f} | {r['per_second']:,.0f} | {rss} |")
    out.append("")

pending = [r for r in rows if r.get("bench") == "pending"]
if pending:
    out.append("## Not measured yet\n")
    for r in pending:
        out.append(f"- {r['what']}: {r['why']}")
    out.append("")

print("\n".join(out))
