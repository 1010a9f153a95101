#!/usr/bin/env bash
# OCSP responses per second (issue 14 §3): the daemon's public listener answering from the
# responses signed ahead, the same daemon signing at each request (`[ca] ocsp_presigned =
# false`, the former behaviour), and OpenSSL's own responder (`openssl ocsp -index … -port`,
# one process per core with `-multi`), on the same machine, at 0 and 1,000,000 other
# certificates in the database (and in OpenSSL's index). Load: bench/src/bin/siseri-loadgen
# `--ocsp`: one fixed DER request (SHA-1 CertID, no nonce, as RFC 5019 clients send it) POSTed
# again and again on kept-alive connections. The daemon speaks HTTPS only (TLS amortised over
# the kept-alive connection); OpenSSL's responder speaks plain HTTP only.
# Also: how fast the daemon's job signs responses ahead (a database filled without them).
# Appends JSON lines to OUT; called by scripts/bench.sh after the release build.
#   scripts/bench_ocsp.sh [--quick] OUT
# Sizes: 0 and 1,000,000 (--quick: 0 and 10,000); rounds of a few seconds per server, taken in
# turn (order reversed every other round) so that the machine's drift falls on all alike.
# Every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_ocsp.sh [--quick] OUT}"
if [ -n "$quick" ]; then
    sizes=(0 10000) rounds=1 seconds=2 warmup=0.5 sweep=2000
else
    sizes=(0 1000000) rounds=4 seconds=4 warmup=1 sweep=20000
fi
sizes=(${BENCH_OCSP_SIZES:-${sizes[@]}})
rounds="${BENCH_OCSP_ROUNDS:-$rounds}"
seconds="${BENCH_OCSP_SECONDS:-$seconds}"
sweep="${BENCH_OCSP_SWEEP:-$sweep}"
concurrency="${BENCH_OCSP_CONCURRENCY:-32}"
cores="$(nproc)"
bench_name=ocsp
. scripts/bench_lib.sh
openssl_version="$(openssl version | awk '{print $2}')"

declare -A addr pid

public_addr() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["public"])' "$1/listening.json"; }
# The plain-HTTP publication listener (RFC 5019's transport, as certificates' AIA names it).
http_addr() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["http"])' "$1/listening.json"; }

# `siseri serve` on DATA with extra environment; its public address in $public.
serve() { # DATA LOG ENV...
    local data="$1" log="$2"
    shift 2
    # The public listener at nice 0, as OpenSSL's responder runs: this measures the responder,
    # not the daemon's choice of giving the registry the CPU first (`[limits] public_nice`).
    env SISERI_LIMITS_PUBLIC_NICE=0 "$@" SISERI_LISTEN_PUBLIC=127.0.0.1:0 SISERI_LISTEN_REGISTRY=127.0.0.1:0 \
        SISERI_LISTEN_ADMIN=127.0.0.1:0 SISERI_LISTEN_HTTP=127.0.0.1:0 SISERI_LISTEN_CONSOLE=127.0.0.1:0 "$siseri" --data "$data" serve >"$log" 2>&1 &
    spid=$!
    running+=("$spid")
    if ! wait_for_file "$data/listening.json" "$spid"; then
        echo "siseri serve n'a pas démarré :" >&2
        tail -n 20 "$log" >&2
        exit 1
    fi
    public="$(public_addr "$data")"
}

setup() { # SIZE
    local n="$1" d="$work/$1" t fill_s port
    echo "== OCSP : préparation, $n autres certificats" >&2
    mkdir -p "$d"
    "$siseri" --data "$d/data" init >/dev/null 2>"$d/init.log" || { cat "$d/init.log" >&2; exit 1; }
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/leaf.key.pem" 2>/dev/null
    openssl req -new -key "$d/leaf.key.pem" -subj "/CN=BENCH OCSP" -out "$d/leaf.csr" 2>/dev/null
    "$siseri" --data "$d/data" cert issue --profile organisme --cn "BENCH OCSP" \
        --csr "$d/leaf.csr" --out "$d/chain.pem" >/dev/null
    openssl x509 -in "$d/chain.pem" -out "$d/leaf.pem"
    local ca="$d/data/ca/ac-siseri.pem"
    openssl ocsp -issuer "$ca" -cert "$d/leaf.pem" -no_nonce -reqout "$d/req.der" >/dev/null
    t="$(now)"
    python3 scripts/bench_ocsp_fill.py "$d/data/siseri.db" "$n" "$d/index.txt" --responses
    fill_s="$(since "$t")"
    # The per-request daemon gets a copy: both run side by side (one data directory each).
    cp -a "$d/data" "$d/data-live"

    serve "$d/data" "$d/ahead.log"
    addr[ahead-$n]="$public" pid[ahead-$n]="$spid"
    addr[ahead-http-$n]="$(http_addr "$d/data")" pid[ahead-http-$n]="$spid"
    serve "$d/data-live" "$d/live.log" SISERI_CA_OCSP_PRESIGNED=false
    addr[live-$n]="$public" pid[live-$n]="$spid"
    addr[live-http-$n]="$(http_addr "$d/data-live")" pid[live-http-$n]="$spid"

    openssl pkey -in "$d/data/ca/ac-siseri.key.pem" -passin env:SISERI_CA_PASSPHRASE \
        -out "$d/ca.key.pem" 2>/dev/null
    # A free port may be taken by another process before OpenSSL binds it: three tries.
    local try started=""
    for try in 1 2 3; do
        port="$(free_port)"
        t="$(now)"
        openssl ocsp -index "$d/index.txt" -port "$port" -rsigner "$ca" -rkey "$d/ca.key.pem" \
            -CA "$ca" -ndays 1 -multi "$cores" >"$d/openssl.log" 2>&1 &
        pid[openssl-$n]=$!
        running+=("${pid[openssl-$n]}")
        if wait_for_port "$port" "${pid[openssl-$n]}"; then
            started=1
            break
        fi
        echo "openssl ocsp n'a pas démarré (essai $try) :" >&2
        tail -n 20 "$d/openssl.log" >&2
    done
    [ -n "$started" ] || exit 1
    addr[openssl-$n]="127.0.0.1:$port"
    # Its children (-multi) load the index before they answer: stopped on exit too.
    local kids=()
    for _ in $(seq 600); do
        kids=($(ps -o pid= --ppid "${pid[openssl-$n]}" || true))
        [ "${#kids[@]}" -ge "$cores" ] && break
        sleep 0.1
    done
    running+=("${kids[@]}")

    # Each responder answers the request before the load starts.
    check "$n" ahead "https://localhost:${addr[ahead-$n]##*:}/ocsp"
    check "$n" live "https://localhost:${addr[live-$n]##*:}/ocsp"
    check "$n" ahead-http "http://${addr[ahead-http-$n]}/ocsp"
    check "$n" live-http "http://${addr[live-http-$n]}/ocsp"
    check "$n" openssl "http://${addr[openssl-$n]}/"
    python3 - "$n" "$fill_s" "$openssl_version" >>"$out" <<'PY'
import json, sys
n, fill_s, openssl_v = sys.argv[1:]
print(json.dumps({"bench": "ocsp_setup", "certificates": int(n), "fill_seconds": float(fill_s),
                  "openssl_version": openssl_v}))
PY
}

check() { # SIZE IMPL URL
    local d="$work/$1" text
    text="$(openssl ocsp -issuer "$d/data/ca/ac-siseri.pem" -cert "$d/leaf.pem" -no_nonce \
        -CAfile "$d/data/ca/ac-siseri.pem" -url "$3" 2>&1)" || true
    if ! grep -q "Response verify OK" <<<"$text" || ! grep -q ": good" <<<"$text"; then
        echo "OCSP ($2, $1) : réponse inattendue :" >&2
        echo "$text" >&2
        exit 1
    fi
}

load() { # IMPL SIZE ROUND
    local d="$work/$2" key="$1-$2" path=/ocsp plain=()
    if [ "$1" = openssl ]; then path=/ plain=(--plain); fi
    case "$1" in *-http) plain=(--plain) ;; esac
    run_loadgen "$out" --ocsp "$d/req.der" "${plain[@]}" --addr "${addr[$key]}" --pid "${pid[$key]}" \
        --ca "$d/data/ca/ac-siseri.pem" --server-name localhost --path "$path" \
        --concurrency "$concurrency" --seconds "$seconds" --warmup "$warmup" \
        --label impl="$1" --label certificates="$2" --label round="$3"
    tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   %-7s %9s certificats, tour %d : %9.1f réponses/s, p99 %.2f ms, %.4f ms de CPU serveur chacune, %d erreurs"
      % (r["impl"], r["certificates"], r["round"], r["per_second"], r["request_ms_p99"] or 0,
         r["server_cpu_ms_per_request"] or 0, r["errors"]), file=sys.stderr)'
}

# How fast the job signs ahead: SWEEP certificates without responses, a fresh daemon, the time
# until its first sweep is done (`/metrics`).
sweep_rate() {
    local d="$work/sweep" t admin signed
    echo "== OCSP : signature d'avance de $sweep réponses par le démon" >&2
    mkdir -p "$d"
    "$siseri" --data "$d/data" init >/dev/null 2>"$d/init.log" || { cat "$d/init.log" >&2; exit 1; }
    python3 scripts/bench_ocsp_fill.py "$d/data/siseri.db" "$sweep" "$d/index.txt"
    t="$(now)"
    serve "$d/data" "$d/serve.log"
    admin="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["admin"])' "$d/data/listening.json")"
    for _ in $(seq 6000); do
        if curl -fsS "http://$admin/metrics" 2>/dev/null | grep -q '^siseri_ocsp_presign_sweeps_total [1-9]'; then
            break
        fi
        sleep 0.1
    done
    local secs
    secs="$(since "$t")"
    signed="$(curl -fsS "http://$admin/metrics" | awk '/^siseri_ocsp_presigned_total\{reason="missing"\}/ {print $2}')"
    stop "$spid"
    forget "$spid"
    echo "   $signed réponses signées d'avance en $secs s (démarrage compris)" >&2
    python3 - "$sweep" "$signed" "$secs" >>"$out" <<'PY'
import json, sys
n, signed, secs = sys.argv[1:]
print(json.dumps({"bench": "ocsp_sweep", "certificates": int(n), "signed": int(signed or 0),
                  "seconds": float(secs), "per_second": round(int(signed or 0) / float(secs), 1)}))
PY
}

for n in "${sizes[@]}"; do setup "$n"; done

echo "== OCSP : $rounds tours de ${seconds} s par répondeur et par taille" >&2
order=("${sizes[@]}")
for round in $(seq "$rounds"); do
    for n in "${order[@]}"; do
        for impl in ahead live ahead-http live-http openssl; do load "$impl" "$n" "$round"; done
    done
    reversed=()
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do reversed+=("${order[$i]}"); done
    order=("${reversed[@]}")
done

# The servers of every size stop before the sweep is measured (it wants the CPU alone).
if [ "${#running[@]}" -gt 0 ]; then stop "${running[@]}"; running=(); fi
sweep_rate
