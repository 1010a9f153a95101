#!/usr/bin/env bash
# A worker's whole career through the registry's API (issue 15): RESULTS stored results, each
# worker with 40 years of monthly results (480); the occupational physician of `siseri demo`
# (certificate withdrawn on the withdrawal page, access code from her e-mail) reads one worker's
# career (`GET …/workers/{w}/doses`, a worker drawn at random each time: p50, p99, goal p99
# ≤ 10 ms), then records one result for a worker drawn likewise (`POST …/workers/{w}/doses`: the
# limit check across the career runs on each, p50, p99); the daemon's peak RSS and the size of
# the database. Appends JSON lines to OUT; called by scripts/bench.sh after the release build.
#   scripts/bench_career.sh [--quick] OUT     (50,000,000 results; --quick: 100,000)
# The results are written by scripts/bench_career_fill.py, straight into the database. When the
# disk cannot hold them (about 110 bytes per result with its index), it says so, records why,
# and measures nothing. Every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_career.sh [--quick] OUT}"
if [ -n "$quick" ]; then results=100000 seconds=3 warmup=1; else results=50000000 seconds=15 warmup=2; fi
results="${BENCH_CAREER_RESULTS:-$results}"
seconds="${BENCH_CAREER_SECONDS:-$seconds}"
requests="${BENCH_CAREER_REQUESTS:-100}" # per connection, kept alive
bench_name=career
. scripts/bench_lib.sh
ensure_tool curl curl

record() { # JSON
    printf '%s\n' "$1" >>"$out"
}

echo "== carrière d'un travailleur : $results résultats enregistrés" >&2
# The database: ~110 bytes per result (row and index), plus a margin for the WAL (emptied after
# each million results) and the audit log.
need_kb=$((results * 110 / 1024 + 2097152))
free_kb="$(df -Pk "$work" | awk 'NR == 2 {print $4}')"
if [ "$free_kb" -lt "$need_kb" ]; then
    why="$((free_kb / 1048576)) Gio libres sur $(dirname "$work"), il en faut environ $((need_kb / 1048576))"
    record "$(python3 -c 'import json, sys; print(json.dumps({"bench": "pending", "what": "Career read and limit check (issue 15)", "why": sys.argv[1]}))' "$why")"
    echo "   non mesuré : $why" >&2
    exit 0
fi

mkdir -p "$work/demo"
"$siseri" demo --in "$work/demo" >"$work/demo.txt"
data="$(sed -n 's/^ *siseri --data \(\S*\) serve$/\1/p' "$work/demo.txt" | head -n 1)"
[ -d "$data" ] || { echo "siseri demo : sortie inattendue" >&2; cat "$work/demo.txt" >&2; exit 1; }

start_siseri "$data" "$work/serve-setup.log"
public="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["public"])' "$data/listening.json")"
# The physician's two e-mails (withdrawal, access code), as the outbox wrote them.
for _ in $(seq 300); do
    [ "$(grep -l 'c.martin@sst-alsace.example' "$data"/outbox/mail/*.eml 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.1
done
read -r token wcode password code < <(python3 - "$data"/outbox/mail/*.eml <<'PY'
import json, subprocess, sys
mails = json.loads(subprocess.run([sys.executable, "tests/tools/eml_secrets.py", *sys.argv[1:]],
                                  check=True, capture_output=True).stdout)
hers = [m for m in mails if m["to"] == "c.martin@sst-alsace.example"]
take = next(m for m in hers if m["token"])
code = next(m["access_code"] for m in hers if m["access_code"])
print(take["token"], take["withdrawal_code"], take["p12_password"], code)
PY
)
[ -n "${code:-}" ] || { echo "e-mails du médecin du travail introuvables" >&2; exit 1; }
curl -sS -f --max-time 60 --cacert "$data/ca/ac-siseri.pem" --resolve "localhost:${public##*:}:127.0.0.1" \
    -H 'Content-Type: application/json' -d "{\"code\":\"$wcode\"}" \
    -o "$work/martin.p12" "https://localhost:${public##*:}/retrait/$token"
openssl pkcs12 -in "$work/martin.p12" -passin "pass:$password" -clcerts -nokeys -out "$work/cert.pem" 2>/dev/null
openssl pkcs12 -in "$work/martin.p12" -passin "pass:$password" -nocerts -nodes -out "$work/key.pem" 2>/dev/null

reg() {
    curl -sS --max-time 120 --cacert "$data/ca/ac-siseri.pem" --cert "$work/cert.pem" \
        --key "$work/key.pem" --resolve "localhost:$port:127.0.0.1" \
        -b "$work/cookies" -c "$work/cookies" "$@"
}

# The physician's session on the daemon just started (sessions live in its memory). Sets port,
# base, est, session.
login() {
    port="${registry_addr##*:}"
    base="https://localhost:$port/api/v1"
    rm -f "$work/cookies"
    reg -f -o /dev/null -H 'Content-Type: application/json' -d "{\"access_code\":\"$code\"}" "$base/session"
    est="$(reg -f "$base/establishments" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')"
    session="$(awk -F '\t' 'NF == 7 && $6 == "siseri_session" {print $7}' "$work/cookies")"
}
login
stop "$spid"
forget "$spid"

t="$(now)"
read -r workers first last < <(python3 scripts/bench_career_fill.py "$data/siseri.db" "$est" "$results")
fill_s="$(since "$t")"
db_bytes="$(du -cb "$data"/siseri.db* | tail -n 1 | cut -f 1)"
echo "   base : $((db_bytes / 1048576)) Mo après remplissage en $fill_s s" >&2

rm -f "$data/listening.json"
start_siseri "$data" "$work/serve.log"
login
# One career read whole before measuring: 480 results, every one the physician's to see.
got="$(reg -f "$base/establishments/$est/workers/$first/doses" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["records"]))')"
[ "$got" = 480 ] || { echo "carrière du travailleur $first : $got résultats au lieu de 480" >&2; exit 1; }

# `{page}` is drawn from 1..=PAGES: the workers' ids, on the demo's empty list.
[ "$first" = 1 ] && [ "$last" = "$workers" ] || { echo "travailleurs n° $first à $last, 1 à $workers attendus" >&2; exit 1; }
career="/api/v1/establishments/$est/workers/{page}/doses"

run_loadgen "$out" --addr "$registry_addr" --pid "$spid" --server-name localhost \
    --ca "$data/ca/ac-siseri.pem" --cert "$work/cert.pem" --key "$work/key.pem" \
    --header "Cookie: siseri_session=$session" \
    --path "$career" --pages "$workers" \
    --requests "$requests" --concurrency 1 --seconds "$seconds" --warmup "$warmup" \
    --label bench=career_read --label results="$results" --label workers="$workers"
tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   carrière (480 résultats) : %.1f lectures/s, p50 %s ms, p99 %s ms, %d erreurs"
      % (r["requests_per_second"], r["request_ms_p50"], r["request_ms_p99"], r["errors"]),
      file=sys.stderr)
met = "atteint" if r["request_ms_p99"] is not None and r["request_ms_p99"] <= 10 else "NON atteint"
judged = "" if r["results"] >= 50000000 else " (jugé à 50 000 000 résultats seulement)"
print("   objectif p99 ≤ 10 ms : %s%s" % (met, judged), file=sys.stderr)'

# A result of last month, 1 µSv of effective dose: the limit check reads the worker's 12-month
# sums across the career and raises nothing.
month_start="$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%d/%m/%Y)"
month_end="$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%d/%m/%Y)"
printf '{"kind":"effective","period_start":"%s","period_end":"%s","e_msv":0.001}' \
    "$month_start" "$month_end" >"$work/result.json"
run_loadgen "$out" --addr "$registry_addr" --pid "$spid" --server-name localhost \
    --ca "$data/ca/ac-siseri.pem" --cert "$work/cert.pem" --key "$work/key.pem" \
    --header "Cookie: siseri_session=$session" \
    --path "$career" --pages "$workers" --body "$work/result.json" \
    --content-type application/json \
    --requests "$requests" --concurrency 1 --seconds "$seconds" --warmup "$warmup" \
    --label bench=career_record --label results="$results" --label workers="$workers"
tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   résultat enregistré (contrôle des limites) : %.1f/s, p50 %s ms, p99 %s ms, %d erreurs"
      % (r["requests_per_second"], r["request_ms_p50"], r["request_ms_p99"], r["errors"]),
      file=sys.stderr)'
alerts="$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM registry_alerts").fetchone()[0])' "$data/siseri.db")"
[ "$alerts" = 0 ] || { echo "$alerts alerte(s) levée(s) : le banc ne mesure plus le seul contrôle" >&2; exit 1; }

peak="$(awk '/^VmHWM/ {print $2}' "/proc/$spid/status")"
stop "$spid"
forget "$spid"
record "$(python3 -c '
import json, sys
results, workers, fill_s, db_bytes, peak = sys.argv[1:]
print(json.dumps({"bench": "career_memory", "impl": "siseri", "results": int(results),
                  "workers": int(workers), "fill_seconds": float(fill_s),
                  "db_bytes": int(db_bytes), "peak_rss_kb": int(peak)}))' \
    "$((workers * 480))" "$workers" "$fill_s" "$db_bytes" "$peak")"
echo "   mémoire du démon : $((peak / 1024)) Mo au plus" >&2
