#!/usr/bin/env bash
# mTLS handshakes as revocations grow: the registry listener (`siseri serve`) beside nginx from
# Debian (ssl_verify_client on, the same AC SISERI, server certificate and CRL, a static page),
# both loaded by bench/src/bin/siseri-loadgen (full handshakes, one GET /healthz each, no
# resumption). Appends JSON lines to OUT; called by scripts/bench.sh after the release build.
#   scripts/bench_mtls.sh [--quick] OUT
# Sizes: 0, 10,000, 100,000, 1,000,000 revoked certificates, 24 s of load per server and size
# (--quick: 0 and 10,000, 5 s). Every server of every size is set up first and left running;
# the load then goes round them in short windows (8 rounds of 3 s), in alternating order, so
# that the drift of the machine's speed (a shared 2-core VM: ±15% from one window to the next)
# falls on every size alike rather than on the last ones.
# Last, registry running, one more client certificate of each size is revoked with the CLI and
# the time until the registry refuses it is measured (issue 5 §2).
# Every process started here (siseri, nginx and its workers) is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_mtls.sh [--quick] OUT}"
if [ -n "$quick" ]; then
    sizes=(0 10000) rounds=2 seconds=2.5 warmup=0.5
else
    sizes=(0 10000 100000 1000000) rounds=8 seconds=3 warmup=1
fi
sizes=(${BENCH_MTLS_SIZES:-${sizes[@]}})
rounds="${BENCH_MTLS_ROUNDS:-$rounds}"
seconds="${BENCH_MTLS_SECONDS:-$seconds}"
concurrency="${BENCH_MTLS_CONCURRENCY:-16}"
cores="$(nproc)"
bench_name=mtls
. scripts/bench_lib.sh
chmod 755 "$work" # nginx's workers (nobody) read the static page under it

ensure_tool nginx nginx-light nginx
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
nginx_version="$("$nginx_bin" -v 2>&1 | sed 's|.*nginx/||')"
openssl_version="$(openssl version | awk '{print $2}')"

declare -A siseri_pid siseri_addr nginx_pid nginx_addr setup_json

load() { # IMPL SIZE ROUND ADDR PID
    local d="$work/$2"
    run_loadgen "$out" --addr "$4" --pid "$5" \
        --ca "$d/data/ca/ac-siseri.pem" --cert "$d/client.pem" --key "$d/client.key.pem" \
        --server-name localhost --path /healthz \
        --concurrency "$concurrency" --seconds "$seconds" --warmup "$warmup" \
        --label impl="$1" --label revoked="$2" --label round="$3"
    tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   %-6s %9s révoqués, tour %d : %8.1f poignées de main/s, %.3f ms de CPU serveur chacune"
      % (r["impl"], r["revoked"], r["round"], r["per_second"], r["server_cpu_ms_per_handshake"]),
      file=sys.stderr)'
}

# Seconds from the start of `siseri cert revoke` (a separate CLI process, as an operator would
# run it) to the first request of the revoked certificate that the running registry refuses
# (issue 5 §2: within one second), in $revoke_refused_s; the CLI's own time (it also signs
# and publishes a CRL) in $revoke_cli_s. Empty without curl.
revoke_probe() { # SIZE
    local d="$work/$1" port="${siseri_addr[$1]##*:}" serial t
    revoke_cli_s="" revoke_refused_s=""
    command -v curl >/dev/null || return 0
    probe() {
        curl -fsS -o /dev/null --max-time 5 --cacert "$d/data/ca/ac-siseri.pem" \
            --cert "$d/probe.pem" --key "$d/probe.key.pem" \
            --resolve "localhost:$port:127.0.0.1" "https://localhost:$port/healthz" 2>/dev/null
    }
    probe || { echo "sonde de révocation : le certificat n'est pas accepté avant révocation" >&2; return 1; }
    serial="$(openssl x509 -in "$d/probe.pem" -noout -serial | cut -d= -f2)"
    t="$(now)"
    "$siseri" --data "$d/data" cert revoke "$serial" --reason superseded >/dev/null &
    local cli=$!
    running+=("$cli")
    # Probed while the CLI runs: the registry may refuse before the CLI is done (the CRL).
    for _ in $(seq 3000); do
        if [ -z "$revoke_cli_s" ] && ! alive "$cli"; then revoke_cli_s="$(since "$t")"; fi
        probe || { revoke_refused_s="$(since "$t")"; break; }
        sleep 0.02
    done
    wait "$cli"
    forget "$cli"
    [ -n "$revoke_cli_s" ] || revoke_cli_s="$(since "$t")"
    echo "   $1 révoqués : révocation par la CLI en $revoke_cli_s s, refusée par le registre après ${revoke_refused_s:-?} s" >&2
}

# One data directory per size, its registry and its nginx started and left running.
setup() { # SIZE
    local n="$1" d="$work/$1" t insert_s crl_s serve_s nginx_s port workers
    echo "== poignées de main mTLS : préparation, $n certificats révoqués" >&2
    mkdir -p "$d/www" "$d/nginx"
    "$siseri" --data "$d/data" init >/dev/null 2>"$d/init.log" || { cat "$d/init.log" >&2; exit 1; }
    t="$(now)"
    python3 scripts/bench_revoked.py "$d/data/siseri.db" "$n"
    insert_s="$(since "$t")"
    t="$(now)"
    "$siseri" --data "$d/data" ca crl --out "$d/crl.pem" >/dev/null
    crl_s="$(since "$t")"

    # The load's client certificate, and another one to revoke while the registry runs.
    for who in client probe; do
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/$who.key.pem" 2>/dev/null
        openssl req -new -key "$d/$who.key.pem" -subj "/CN=BENCH $who" -out "$d/$who.csr" 2>/dev/null
        "$siseri" --data "$d/data" cert issue --profile organisme --cn "BENCH $who" \
            --csr "$d/$who.csr" --out "$d/$who.pem" >/dev/null
    done

    # The registry: its revocation set is loaded before listening.json is written.
    t="$(now)"
    start_siseri "$d/data" "$d/serve.log"
    serve_s="$(since "$t")"
    siseri_pid[$n]="$spid"
    siseri_addr[$n]="$registry_addr"

    # nginx: one worker per core, the same files.
    port="$(free_port)"
    printf 'ok\n' >"$d/www/healthz"
    chmod -R a+rX "$d/www"
    cat >"$d/nginx/nginx.conf" <<EOF
worker_processes $cores;
pid $d/nginx/nginx.pid;
error_log $d/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type text/plain;
    server {
        listen 127.0.0.1:$port ssl;
        server_name localhost;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $d/data/tls/server.pem;
        ssl_certificate_key $d/data/tls/server.key.pem;
        ssl_verify_client on;
        ssl_client_certificate $d/data/ca/ac-siseri.pem;
        ssl_crl $d/crl.pem;
        root $d/www;
    }
}
EOF
    t="$(now)"
    "$nginx_bin" -p "$d/nginx" -c "$d/nginx/nginx.conf" -e "$d/nginx/error.log" -g 'daemon off;' \
        2>>"$d/nginx/error.log" &
    nginx_pid[$n]=$!
    running+=("${nginx_pid[$n]}")
    if ! wait_for_port "$port" "${nginx_pid[$n]}"; then
        echo "nginx n'a pas démarré :" >&2
        tail -n 20 "$d/nginx/error.log" >&2
        exit 1
    fi
    nginx_s="$(since "$t")"
    nginx_addr[$n]="127.0.0.1:$port"
    sleep 0.5
    workers=($(ps -o pid= --ppid "${nginx_pid[$n]}"))
    running+=("${workers[@]}") # stopped on exit should the master be gone first

    setup_json[$n]="$(python3 - "$n" "$insert_s" "$crl_s" "$(stat -c %s "$d/crl.pem")" "$serve_s" \
        "$nginx_s" "$nginx_version" "$openssl_version" <<'PY'
import json, sys
n, insert_s, crl_s, crl_bytes, serve_s, nginx_s, nginx_v, openssl_v = sys.argv[1:]
print(json.dumps({"bench": "mtls_setup", "revoked": int(n), "insert_seconds": float(insert_s),
                  "crl_seconds": float(crl_s), "crl_pem_bytes": int(crl_bytes),
                  "siseri_ready_seconds": float(serve_s), "nginx_ready_seconds": float(nginx_s),
                  "nginx_version": nginx_v, "openssl_version": openssl_v}))
PY
)"
}

for n in "${sizes[@]}"; do setup "$n"; done

echo "== poignées de main mTLS : $rounds tours de ${seconds} s par serveur et par taille" >&2
order=("${sizes[@]}")
for round in $(seq "$rounds"); do
    for n in "${order[@]}"; do
        load siseri "$n" "$round" "${siseri_addr[$n]}" "${siseri_pid[$n]}"
        load nginx "$n" "$round" "${nginx_addr[$n]}" "${nginx_pid[$n]}"
    done
    # Every other round backwards: a steady drift weighs the same on every size.
    reversed=()
    for ((i = ${#order[@]} - 1; i >= 0; i--)); do reversed+=("${order[$i]}"); done
    order=("${reversed[@]}")
done

for n in "${sizes[@]}"; do
    revoke_probe "$n"
    python3 - "${setup_json[$n]}" "$revoke_cli_s" "$revoke_refused_s" >>"$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r["revoke_cli_seconds"] = float(sys.argv[2]) if sys.argv[2] else None
r["revoked_refused_seconds"] = float(sys.argv[3]) if sys.argv[3] else None
print(json.dumps(r))
PY
done
