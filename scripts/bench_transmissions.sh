#!/usr/bin/env bash
# Transmissions of results (issue 16): a file of ROWS passive results POSTed to
# `POST /api/v1/transmissions` by a dosimetry body (mTLS, its `organisme` certificate), timed
# from the request's first byte to the signed récépissé, against the sqlite3 CLI's `.import` of
# the same file into a table of its 20 columns; then the same with ROWS results already stored.
# Each round starts a new daemon on a copy of one data directory whose list holds the ROWS
# workers the file names (imported once through the API); the daemon's peak RSS is read after
# each upload. Appends JSON lines to OUT; called by scripts/bench.sh after the release build.
#   scripts/bench_transmissions.sh [--quick] OUT      (1,000,000 rows, 3 rounds; --quick: 5,000, 1)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_transmissions.sh [--quick] OUT}"
if [ -n "$quick" ]; then rows=5000 rounds=1; else rows=1000000 rounds=3; fi
rows="${BENCH_TRANSMISSION_ROWS:-$rows}"
rounds="${BENCH_TRANSMISSION_ROUNDS:-$rounds}"
bench_name=transmissions
. scripts/bench_lib.sh
ensure_tool sqlite3 sqlite3
ensure_tool curl curl

record() { printf '%s\n' "$1" >>"$out"; }
pending() { # WHY
    record "$(python3 -c 'import json, sys; print(json.dumps({"bench": "pending", "what": "Transmissions of results (issue 16)", "why": sys.argv[1]}))' "$1")"
    echo "   non mesuré : $1" >&2
    exit 0
}

echo "== transmissions de résultats ($rows lignes)" >&2
sync
python3 scripts/bench_workers_csv.py "$rows" "$work/workers.csv"
python3 scripts/bench_transmissions_csv.py "$rows" 1 "$work/january.csv"
python3 scripts/bench_transmissions_csv.py "$rows" 2 "$work/february.csv"
bytes="$(stat -c %s "$work/january.csv")"

# The data directory every round copies: `siseri demo`, its list filled with the workers, a
# dosimetry body's certificate named by its establishment.
mkdir -p "$work/seed"
"$siseri" demo --in "$work/seed" >"$work/seed/demo.txt"
read -r data p12 password code < <(python3 - "$work/seed/demo.txt" <<'PY2'
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
openssl pkcs12 -in "$p12" -passin "pass:$password" -clcerts -nokeys -out "$work/cse.pem" 2>/dev/null
openssl pkcs12 -in "$p12" -passin "pass:$password" -nocerts -nodes -out "$work/cse.key" 2>/dev/null
start_siseri "$data" "$work/seed.log"
port="${registry_addr##*:}"
base="https://localhost:$port/api/v1"
cse() {
    curl -sS --max-time 1800 --cacert "$data/ca/ac-siseri.pem" --cert "$work/cse.pem" --key "$work/cse.key" \
        --resolve "localhost:$port:127.0.0.1" -b "$work/cookies" -c "$work/cookies" "$@"
}
cse -f -o /dev/null -H 'Content-Type: application/json' -d "{\"access_code\":\"$code\"}" "$base/session"
est="$(cse -f "$base/establishments" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')"
cse -f -o /dev/null -H 'Content-Type: text/csv' --data-binary "@$work/workers.csv" \
    "$base/establishments/$est/workers/import"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=BANC" \
    -keyout "$work/body.key" -out "$work/body.csr" 2>/dev/null
"$siseri" --data "$data" cert issue --profile organisme --cn "LABO DU BANC" --csr "$work/body.csr" \
    --out "$work/body.pem" >/dev/null
"$siseri" --data "$data" registry organisme add "$est" "LABO DU BANC" >/dev/null
stop "$spid"
forget "$spid"
sqlite3 "$data/siseri.db" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null

# One upload by siseri-loadgen (see bench_import.sh: curl's CPU would be the server's); checks
# the récépissé's counts in the database. Sets upload_s, upload_peak.
upload() { # FILE DATA LABEL EXPECTED_ACCEPTED
    rm -f "$work/upload.jsonl"
    run_loadgen "$work/upload.jsonl" --addr "$registry_addr" --pid "$spid" --server-name localhost \
        --ca "$2/ca/ac-siseri.pem" --cert "$work/body.pem" --key "$work/body.key" \
        --header "Accept: application/json" --path "/api/v1/transmissions" --upload "$1"
    read -r status upload_s upload_peak < <(python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).readline())
print(r["status"], r["seconds"], r.get("server_peak_rss_kb") or 0)' "$work/upload.jsonl")
    case "$status" in
        200) ;;
        404) pending "no route POST /api/v1/transmissions in this build" ;;
        *) echo "transmission refusée (HTTP $status) :" >&2; head -c 2000 "$work/upload.jsonl" >&2; exit 1 ;;
    esac
    local got
    got="$(sqlite3 "$2/siseri.db" 'SELECT accepted FROM registry_transmissions ORDER BY id DESC LIMIT 1')"
    [ "$got" = "$4" ] || { echo "transmission : $got acceptées sur $4" >&2; exit 1; }
    echo "   $3 : $rows lignes en $upload_s s ($((upload_peak / 1024)) Mo au plus)" >&2
}

columns="$(head -n 1 "$work/january.csv" | sed 's/^\xEF\xBB\xBF//; s/;/ TEXT, /g; s/$/ TEXT/')"
sqlite_import() { # ROUND → sqlite_s
    rm -f "$work/baseline.db"
    local t got
    t="$(now)"
    sqlite3 "$work/baseline.db" <<SQL
CREATE TABLE results ($columns);
.mode csv
.separator ";" "\n"
.import --skip 1 $work/january.csv results
SQL
    sqlite_s="$(since "$t")"
    got="$(sqlite3 "$work/baseline.db" 'SELECT count(*) FROM results')"
    [ "$got" = "$rows" ] || { echo "sqlite3 .import : $got lignes sur $rows" >&2; exit 1; }
    echo "   tour $1, sqlite3 .import : $rows lignes en $sqlite_s s" >&2
}

empties=() storeds=() baselines=() peaks=() stored_peaks=()
for round in $(seq 1 "$rounds"); do
    rm -rf "$work/round"
    cp -a "$(dirname "$data")" "$work/round"
    rdata="$work/round/$(basename "$data")"
    rm -f "$rdata/listening.json"
    if [ $((round % 2)) = 0 ]; then sqlite_import "$round"; fi
    start_siseri "$rdata" "$work/round$round.log"
    upload "$work/january.csv" "$rdata" "tour $round, transmission (aucun résultat)" "$rows"
    empties+=("$upload_s") peaks+=("$upload_peak")
    upload "$work/february.csv" "$rdata" "tour $round, transmission ($rows résultats déjà là)" "$rows"
    storeds+=("$upload_s") stored_peaks+=("$upload_peak")
    stop "$spid"
    forget "$spid"
    if [ $((round % 2)) = 1 ]; then sqlite_import "$round"; fi
    baselines+=("$sqlite_s")
done

python3 - "$rows" "$bytes" "${empties[*]}" "${storeds[*]}" "${baselines[*]}" "${peaks[*]}" \
    "${stored_peaks[*]}" "$(sqlite3 --version | awk '{print $1}')" >>"$out" <<'PY'
import json, statistics, sys
rows, size, empties, storeds, baselines, peaks, stored_peaks, version = sys.argv[1:]
rows = int(rows)
floats = lambda s: [float(v) for v in s.split()]
empties, storeds, baselines = floats(empties), floats(storeds), floats(baselines)
for impl, rounds, stored, peak in (("siseri", empties, 0, peaks), ("siseri", storeds, rows, stored_peaks)):
    seconds = statistics.median(rounds)
    print(json.dumps({"bench": "transmission", "impl": impl, "rows": rows, "bytes": int(size),
                      "stored_before": stored, "seconds": seconds,
                      "per_second": round(rows / seconds, 1), "rounds": rounds,
                      "round_ratios": [round(b / s, 3) for s, b in zip(rounds, baselines)],
                      "peak_rss_kb": max(int(p) for p in peak.split())}))
seconds = statistics.median(baselines)
print(json.dumps({"bench": "transmission", "impl": "sqlite3", "rows": rows, "bytes": int(size),
                  "seconds": seconds, "per_second": round(rows / seconds, 1), "rounds": baselines,
                  "version": version}))
PY
