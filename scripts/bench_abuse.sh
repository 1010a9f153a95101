#!/usr/bin/env bash
# The registry under a flood of the public listener (issue 13): the p99 of registry requests
# (kept-alive GET /healthz over mutual TLS) with no flood; then, for each mode, again with no
# flood and, just after, while siseri-loadgen --flood holds N connections to the public listener
# (idle TCP, slow headers, slow bodies, TLS-idle, draft spam); and the daemon's peak RSS. One
# JSON line per measure appended to OUT.
# The attacker runs at nice 19, pinned to the last core (BENCH_ABUSE_ATTACKER_CPUS, a taskset
# list; empty: anywhere): on a two-core machine it would otherwise take half the CPU from the
# daemon, which no real attacker on another machine can; the daemon still does all the work
# its connections cost (accepts, handshakes, timeouts, refusals), on every core.
#   scripts/bench_abuse.sh [--quick] OUT      (--quick: 200 connections, 3 s)
# Builds nothing: cargo build --release -p siseri -p siseri-bench first (scripts/bench.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_abuse.sh [--quick] OUT}"
if [ -n "$quick" ]; then flood=200 seconds=3; else flood=10000 seconds=15; fi
flood="${BENCH_ABUSE_FLOOD:-$flood}"
modes=(${BENCH_ABUSE_MODES:-idle slow-headers slow-body tls-idle draft-spam})
bench_name=abuse
. scripts/bench_lib.sh
# Ours and the flood's sockets: one descriptor each.
ulimit -n "$(ulimit -Hn)"

d="$work"
"$siseri" --data "$d/data" init >/dev/null 2>"$d/init.log" || { cat "$d/init.log" >&2; exit 1; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/client.key.pem" 2>/dev/null
openssl req -new -key "$d/client.key.pem" -subj "/CN=BENCH client" -out "$d/client.csr" 2>/dev/null
"$siseri" --data "$d/data" cert issue --profile organisme --cn "BENCH client" \
    --csr "$d/client.csr" --out "$d/client.pem" >/dev/null
start_siseri "$d/data" "$d/serve.log"
public_addr="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["public"])' "$d/data/listening.json")"
tls=(--ca "$d/data/ca/ac-siseri.pem" --cert "$d/client.pem" --key "$d/client.key.pem" --server-name localhost)

registry_p99() { # LABEL [MODE THIS CALM WINDOW PRECEDES]
    local before=()
    if [ -n "${2:-}" ]; then before=(--label before="$2"); fi
    run_loadgen "$out" --addr "$registry_addr" --pid "$spid" "${tls[@]}" --path /healthz \
        --requests 1000 --concurrency 4 --seconds "$seconds" --warmup 1 \
        --label bench=abuse --label flood_mode="$1" "${before[@]}"
    tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   registre, %-12s : p99 %7.3f ms, p50 %.3f ms, %d requêtes, %d erreurs, RSS max %s ko"
      % (r["flood_mode"], r["request_ms_p99"] or -1, r["request_ms_p50"] or -1, r["requests"], r["errors"], r["server_peak_rss_kb"]),
      file=sys.stderr)'
}

# The attacker confined to the last core (BENCH_ABUSE_ATTACKER_CPUS, taskset's list; empty:
# anywhere), as far as one machine can stand for two: its own TLS and TCP work then stays off
# the other core.
cores="$(nproc)"
attacker_cpus="${BENCH_ABUSE_ATTACKER_CPUS-$((cores - 1))}"
pin=()
if [ -n "$attacker_cpus" ] && [ "$cores" -gt 1 ] && command -v taskset >/dev/null; then
    pin=(taskset -c "$attacker_cpus")
fi
echo "== registre sans inondation" >&2
registry_p99 none
for mode in "${modes[@]}"; do
    # Each flood is compared with a calm window just before it: this host's speed drifts over
    # minutes (other tenants), and a single calm window at the start would carry its drift
    # into every ratio. The previous flood's connections are gone first.
    sleep 2
    echo "== registre sans inondation, avant $mode" >&2
    registry_p99 none "$mode"
    echo "== registre pendant l'inondation de l'écoute publique : $flood connexions $mode" >&2
    nice -n 19 "${pin[@]}" "$loadgen" --addr "$public_addr" "${tls[@]}" --flood "$flood" --flood-mode "$mode" \
        --seconds "$((seconds + 4))" >>"$out" &
    fpid=$!
    running+=("$fpid")
    sleep 2 # the flood is up
    registry_p99 "$mode"
    wait "$fpid" || true
    forget "$fpid"
    tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   inondation %-12s : %d connexions ouvertes, %d au plus à la fois, %d coupées par le serveur%s"
      % (r["mode"], r["opened"], r["held_max"], r["dropped_by_server"],
         ", brouillons : %d créés, %d refusés (429)" % (r["drafts_created"], r["drafts_limited"])
         if r["mode"] == "draft-spam" else ""), file=sys.stderr)'
done
