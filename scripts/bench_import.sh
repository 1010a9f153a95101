#!/usr/bin/env bash
# The workers list through the registry's API (issue 7 §3 to §5): a CSV import of ROWS workers
# with valid NIRs (rows/s) against the sqlite3 CLI's `.import` of the same file into a table of
# the same columns; the export (rows/s); GET of a workers page over kept-alive mTLS connections
# (requests/s, p50, p99: the first page, and pages drawn across the list); the daemon's peak RSS.
# The caller is the correspondent of `siseri demo` (certificate + access code). Appends JSON
# lines to OUT; called by scripts/bench.sh after the release build.
#   scripts/bench_import.sh [--quick] OUT      (1,000,000 rows; --quick: 10,000)
# When the API answers 404 (a build without the workers routes) it says so and measures nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_import.sh [--quick] OUT}"
if [ -n "$quick" ]; then rows=10000 seconds=3 warmup=1 rounds=1; else rows=1000000 seconds=15 warmup=2 rounds=3; fi
rows="${BENCH_IMPORT_ROWS:-$rows}"
rounds="${BENCH_IMPORT_ROUNDS:-$rounds}"
seconds="${BENCH_IMPORT_SECONDS:-$seconds}"
bench_name=import
. scripts/bench_lib.sh
ensure_tool sqlite3 sqlite3
ensure_tool curl curl

record() { # JSON
    printf '%s\n' "$1" >>"$out"
}

pending() { # WHY
    record "$(python3 -c 'import json, sys; print(json.dumps({"bench": "pending", "what": "Import, export and requests (issue 7 §3, §4)", "why": sys.argv[1]}))' "$1")"
    echo "   non mesuré : $1" >&2
    exit 0
}

echo "== liste des travailleurs : import, export, pages ($rows lignes)" >&2
sync # the previous section's gigabyte of files must not be written back during the import
python3 scripts/bench_workers_csv.py "$rows" "$work/workers.csv"
bytes="$(stat -c %s "$work/workers.csv")"

# A daemon of its own for each import (`siseri demo` in a new directory: an empty list), the
# correspondent's session open. Sets data, spid, registry_addr, port, base, est, session.
fresh_siseri() { # DIR
    mkdir -p "$1"
    "$siseri" demo --in "$1" >"$1/demo.txt"
    read -r data p12 password code < <(python3 - "$1/demo.txt" <<'PY2'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
data = re.search(r"siseri --data (\S+) serve", text)
p12 = re.search(r"--cert (\S+\.p12):(\S+) --cert-type P12", text)
code = re.search(r'"access_code":"([^"]+)"', text)
if not (data and p12 and code):
    sys.exit("la sortie de « siseri demo » n'a pas la forme attendue")
print(data[1], p12[1], p12[2], code[1])
PY2
    )
    [ -n "${code:-}" ] || { echo "siseri demo : sortie inattendue" >&2; cat "$1/demo.txt" >&2; exit 1; }
    openssl pkcs12 -in "$p12" -passin "pass:$password" -clcerts -nokeys -out "$work/cert.pem" 2>/dev/null
    openssl pkcs12 -in "$p12" -passin "pass:$password" -nocerts -nodes -out "$work/key.pem" 2>/dev/null
    start_siseri "$data" "$1/serve.log"
    login
}

# The correspondent's session on the daemon just started (sessions live in its memory). Sets
# port, base, est, session.
login() {
    port="${registry_addr##*:}"
    base="https://localhost:$port/api/v1"
    rm -f "$work/cookies"
    reg -f -o /dev/null -H 'Content-Type: application/json' -d "{\"access_code\":\"$code\"}" "$base/session"
    est="$(reg -f "$base/establishments" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')"
    session="$(python3 - "$work/cookies" <<'PY2'
import sys
for line in open(sys.argv[1]):
    fields = line.rstrip("\n").split("\t")
    if len(fields) == 7 and fields[5] == "siseri_session":
        print(fields[6])
PY2
    )"
}

reg() {
    curl -sS --max-time 900 --cacert "$data/ca/ac-siseri.pem" --cert "$work/cert.pem" \
        --key "$work/key.pem" --resolve "localhost:$port:127.0.0.1" \
        -b "$work/cookies" -c "$work/cookies" "$@"
}

# The upload by siseri-loadgen (Rust, tokio-rustls) rather than curl: on this two-core machine
# curl spends about 7 s of CPU polling its socket while the server takes the file, CPU the
# server then lacks. The time runs from the request's first byte to the response read.
siseri_import() { # ROUND → seconds
    fresh_siseri "$work/round$1"
    rm -f "$work/upload.jsonl"
    run_loadgen "$work/upload.jsonl" --addr "$registry_addr" --pid "$spid" --server-name localhost \
        --ca "$data/ca/ac-siseri.pem" --cert "$work/cert.pem" --key "$work/key.pem" \
        --header "Cookie: siseri_session=$session" \
        --path "/api/v1/establishments/$est/workers/import" --upload "$work/workers.csv"
    read -r status import_s created < <(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
body = r["response"] if isinstance(r["response"], dict) else {}
print(r["status"], r["seconds"], body.get("created", -1))' "$work/upload.jsonl")
    case "$status" in
        200 | 201) ;;
        404) pending "no route POST /api/v1/establishments/{id}/workers/import in this build" ;;
        *)
            echo "import refusé (HTTP $status) :" >&2
            head -c 2000 "$work/upload.jsonl" >&2
            exit 1
            ;;
    esac
    [ "$created" = "$rows" ] || { echo "import : $created créés sur $rows" >&2; exit 1; }
    peak_import="$(awk '/^VmHWM/ {print $2}' "/proc/$spid/status")"
    echo "   tour $1, import API : $rows lignes en $import_s s ($((peak_import / 1024)) Mo au plus)" >&2
}

# Baseline: the sqlite3 CLI's .import of the same file (header skipped) in one transaction,
# into a new table of the same 17 columns.
columns="$(head -n 1 "$work/workers.csv" | sed 's/^\xEF\xBB\xBF//; s/;/ TEXT, /g; s/$/ TEXT/')"
sqlite_import() { # ROUND → sqlite_s
    rm -f "$work/baseline.db"
    local t
    t="$(now)"
    sqlite3 "$work/baseline.db" <<SQL
CREATE TABLE workers ($columns);
.mode csv
.separator ";" "\n"
.import --skip 1 $work/workers.csv workers
SQL
    sqlite_s="$(since "$t")"
    local got
    got="$(sqlite3 "$work/baseline.db" 'SELECT count(*) FROM workers')"
    [ "$got" = "$rows" ] || { echo "sqlite3 .import : $got lignes sur $rows" >&2; exit 1; }
    echo "   tour $1, sqlite3 .import : $rows lignes en $sqlite_s s" >&2
}

# Rounds taking turns (order reversed every other round), so that the drift of this shared
# machine's speed falls on both alike; the daemon of the last round stays for the rest.
imports=() baselines=() peaks=()
for round in $(seq 1 "$rounds"); do
    if [ $((round % 2)) = 1 ]; then
        sqlite_import "$round"
        siseri_import "$round"
    else
        siseri_import "$round"
        sqlite_import "$round"
    fi
    imports+=("$import_s") baselines+=("$sqlite_s") peaks+=("$peak_import")
    if [ "$round" != "$rounds" ]; then
        stop "$spid"
        forget "$spid"
        rm -rf "$work/round$round"
    fi
done

t="$(now)"
reg -f -o "$work/export.csv" "$base/establishments/$est/workers.csv"
export_s="$(since "$t")"
exported=$(($(wc -l <"$work/export.csv") - 1))
echo "   export API : $exported lignes en $export_s s" >&2

# Pages of 50 over kept-alive connections (100 requests each), the session cookie of the login:
# the first page (the list as it opens), a page drawn among all (`page=N`, as the pages' links
# go), and the 50 workers following one drawn among all (`after=ID`: ids 1..ROWS, a fresh list).
# A deep `page=N` walks the name index up to its offset (tens of milliseconds at 1,000,000
# workers): 2 connections (one per core) there, so that its latency is not mostly queueing.
for which in first random after; do
    case "$which" in
        first) query="page={page}" n=1 c=8 ;;
        random) query="page={page}" n=$(((rows + 49) / 50)) c=2 ;;
        after) query="after={page}" n="$rows" c=8 ;;
    esac
    run_loadgen "$out" --addr "$registry_addr" --pid "$spid" --server-name localhost \
        --ca "$data/ca/ac-siseri.pem" --cert "$work/cert.pem" --key "$work/key.pem" \
        --header "Cookie: siseri_session=$session" \
        --path "/api/v1/establishments/$est/workers?$query&per_page=50" --pages "$n" \
        --requests 100 --concurrency "$c" --seconds "$seconds" --warmup "$warmup" \
        --label bench=requests --label impl=siseri --label workers="$rows" --label page="$which"
    tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   pages (%s) : %.1f requêtes/s, p50 %s ms, p99 %s ms, %d erreurs"
      % (r["page"], r["requests_per_second"], r["request_ms_p50"], r["request_ms_p99"], r["errors"]),
      file=sys.stderr)'
done
peak="$(awk '/^VmHWM/ {print $2}' "/proc/$spid/status")"
stop "$spid"
forget "$spid"

# Reads at 64 connections (issue 15 §5): the first page again, on the same data, by a daemon
# whose reads take the write lock for their audit entry (`inline`, as before) and by one whose
# reads run in read transactions with their entries committed in groups (`grouped`).
for audit in inline grouped; do
    if [ "$audit" = inline ]; then grouped=false; else grouped=true; fi
    rm -f "$data/listening.json"
    # 64 connections from one address, each reopened after its 100 requests: the per-address
    # cap (64 by default) is raised so that a reopened connection never waits for the old one.
    SISERI_LIMITS_REGISTRY_GROUPED_READ_AUDIT="$grouped" SISERI_LIMITS_CONNECTIONS_PER_ADDRESS=256 \
        start_siseri "$data" "$work/serve-$audit.log"
    login
    run_loadgen "$out" --addr "$registry_addr" --pid "$spid" --server-name localhost \
        --ca "$data/ca/ac-siseri.pem" --cert "$work/cert.pem" --key "$work/key.pem" \
        --header "Cookie: siseri_session=$session" \
        --path "/api/v1/establishments/$est/workers?page={page}&per_page=50" --pages 1 \
        --requests 100 --concurrency 64 --seconds "$seconds" --warmup "$warmup" \
        --label bench=read_audit --label audit="$audit" --label workers="$rows"
    tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   lectures à 64 connexions, audit %s : %.1f requêtes/s, p50 %s ms, p99 %s ms, %d erreurs"
      % (r["audit"], r["requests_per_second"], r["request_ms_p50"], r["request_ms_p99"], r["errors"]),
      file=sys.stderr)'
    stop "$spid"
    forget "$spid"
done

peak_import="$(printf '%s\n' "${peaks[@]}" | sort -n | tail -n 1)"
python3 - "$rows" "$bytes" "${imports[*]}" "$export_s" "$exported" "${baselines[*]}" "$peak_import" \
    "$peak" "$(sqlite3 --version | awk '{print $1}')" >>"$out" <<'PY'
import json, statistics, sys
rows, size, imports, export_s, exported, baselines, peak_import, peak, sqlite_v = sys.argv[1:]
rows, export_s = int(rows), float(export_s)
imports = [float(v) for v in imports.split()]
baselines = [float(v) for v in baselines.split()]
# The median round of each, and each round's own ratio (the baseline's time over ours).
ratios = [round(b / i, 3) for i, b in zip(imports, baselines)]
import_s, sqlite_s = statistics.median(imports), statistics.median(baselines)
print(json.dumps({"bench": "import", "impl": "siseri", "rows": rows, "bytes": int(size),
                  "seconds": import_s, "per_second": round(rows / import_s, 1),
                  "rounds": imports, "round_ratios": ratios}))
print(json.dumps({"bench": "import", "impl": "sqlite3", "rows": rows, "bytes": int(size),
                  "seconds": sqlite_s, "per_second": round(rows / sqlite_s, 1), "version": sqlite_v,
                  "rounds": baselines}))
print(json.dumps({"bench": "export", "impl": "siseri", "rows": int(exported), "seconds": export_s,
                  "per_second": round(int(exported) / export_s, 1)}))
print(json.dumps({"bench": "workers_memory", "impl": "siseri", "workers": rows,
                  "peak_rss_kb_after_import": int(peak_import), "peak_rss_kb": int(peak)}))
PY
