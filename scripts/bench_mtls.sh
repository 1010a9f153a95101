#!/usr/bin/env bash
# mTLS handshakes as revocations grow: the registry listener (`siseri serve`) beside nginx from
# Debian (ssl_verify_client on, the same AC SISERI, server certificate and CRL, a static page),
# both loaded by bench/src/bin/siseri-loadgen (full handshakes, one GET /healthz each, no
# resumption). Then, registry running, one more client certificate is revoked with the CLI and
# the time until the registry refuses it is measured (issue 5 §2). Appends JSON lines to OUT;
# called by scripts/bench.sh after the release build.
#   scripts/bench_mtls.sh [--quick] OUT
# Sizes: 0, 10,000, 100,000, 1,000,000 revoked certificates (--quick: 0 and 10,000, 5 s each).
# Every process started here (siseri, nginx and its workers) is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-/var/tmp/siseri-target}"
siseri="$target/release/siseri"
loadgen="$target/release/siseri-loadgen"

quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_mtls.sh [--quick] OUT}"
if [ -n "$quick" ]; then
    sizes=(0 10000) seconds=5 warmup=1
else
    sizes=(0 10000 100000 1000000) seconds=25 warmup=2
fi
sizes=(${BENCH_MTLS_SIZES:-${sizes[@]}})
seconds="${BENCH_MTLS_SECONDS:-$seconds}"
concurrency="${BENCH_MTLS_CONCURRENCY:-16}"
cores="$(nproc)"
clk_tck="$(getconf CLK_TCK)"
for tool in "$siseri" "$loadgen"; do
    [ -x "$tool" ] || { echo "$tool manquant : cargo build --release -p siseri -p siseri-bench" >&2; exit 1; }
done
# The daemon and the CLI read SISERI_* settings: only ours apply here.
for v in $(compgen -v SISERI_ || true); do unset "$v"; done
unset RUST_LOG
export SISERI_CA_PASSPHRASE="banc d'essai mTLS, jetable"

work="$(mktemp -d /var/tmp/siseri-bench-mtls.XXXXXX)"
chmod 755 "$work" # nginx's workers (nobody) read the static page under it
running=()        # PIDs to stop on exit
policy_guard=""   # set while our temporary /usr/sbin/policy-rc.d exists

alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# TERM, then KILL whatever is still there after 10 s; reaps our children.
stop() {
    local pid
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

forget() {
    local keep=() pid gone
    for pid in "${running[@]}"; do
        for gone in "$@"; do [ "$pid" = "$gone" ] && continue 2; done
        keep+=("$pid")
    done
    running=("${keep[@]}")
}

cleanup() {
    [ "${#running[@]}" -gt 0 ] && stop "${running[@]}"
    [ -n "$policy_guard" ] && rm -f /usr/sbin/policy-rc.d
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# nginx from Debian, installed once; the package must not start a system-wide nginx.
nginx_bin="$(command -v nginx || true)"
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
    echo "== installation de nginx (paquet Debian nginx-light)" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod 755 /usr/sbin/policy-rc.d
        policy_guard=1
    fi
    $sudo apt-get update -qq >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >&2 \
        || $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >&2
    if [ -n "$policy_guard" ]; then $sudo rm -f /usr/sbin/policy-rc.d; policy_guard=""; fi
    nginx_bin=/usr/sbin/nginx
fi
nginx_version="$("$nginx_bin" -v 2>&1 | sed 's|.*nginx/||')"
openssl_version="$(openssl version | awk '{print $2}')"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() { date +%s.%N; }
since() { python3 -c "import sys; print(round($(now) - $1, 2))"; }

# Waits until FILE exists while PID lives (up to 300 s).
wait_for_file() {
    local file="$1" pid="$2"
    for _ in $(seq 3000); do
        [ -s "$file" ] && return 0
        alive "$pid" || return 1
        sleep 0.1
    done
    return 1
}

wait_for_port() {
    local port="$1" pid="$2"
    for _ in $(seq 3000); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        alive "$pid" || return 1
        sleep 0.1
    done
    return 1
}

load() { # IMPL REVOKED ADDR PID
    "$loadgen" --addr "$3" --pid "$4" --clk-tck "$clk_tck" \
        --ca "$d/data/ca/ac-siseri.pem" --cert "$d/client.pem" --key "$d/client.key.pem" \
        --server-name localhost --path /healthz \
        --concurrency "$concurrency" --seconds "$seconds" --warmup "$warmup" \
        --label impl="$1" --label revoked="$2" >>"$out" &
    local lpid=$!
    running+=("$lpid")
    wait "$lpid" # in the background, so that a signal stops everything at once
    forget "$lpid"
    tail -n 1 "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("   %-6s %8.1f poignées de main/s, %.3f ms de CPU serveur chacune, pic RSS %.0f Mo, %d erreurs"
      % (r["impl"], r["per_second"], r["server_cpu_ms_per_handshake"],
         r["server_peak_rss_kb"] / 1024, r["errors"]), file=sys.stderr)'
}

# Seconds from the start of `siseri cert revoke` (a separate CLI process, as an operator would
# run it) to the first request of the revoked certificate that the running registry refuses
# (issue 5 §2: within one second); the CLI's own time in $revoke_cli_s. Empty without curl.
revoke_probe() { # ADDR
    local port="${1##*:}" serial t
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
    "$siseri" --data "$d/data" cert revoke "$serial" --reason superseded >/dev/null
    revoke_cli_s="$(since "$t")"
    for _ in $(seq 1500); do
        probe || { revoke_refused_s="$(since "$t")"; break; }
        sleep 0.02
    done
    echo "   révocation : CLI $revoke_cli_s s, refusée par le registre après ${revoke_refused_s:-?} s" >&2
}

for n in "${sizes[@]}"; do
    echo "== poignées de main mTLS, $n certificats révoqués" >&2
    d="$work/$n"
    mkdir -p "$d/www"
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
    SISERI_LISTEN_PUBLIC=127.0.0.1:0 SISERI_LISTEN_REGISTRY=127.0.0.1:0 \
        "$siseri" --data "$d/data" serve >"$d/serve.log" 2>&1 &
    spid=$!
    running+=("$spid")
    if ! wait_for_file "$d/data/listening.json" "$spid"; then
        echo "siseri serve n'a pas démarré :" >&2
        tail -n 20 "$d/serve.log" >&2
        exit 1
    fi
    serve_s="$(since "$t")"
    addr="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["registry"])' "$d/data/listening.json")"
    load siseri "$n" "$addr" "$spid"
    revoke_probe "$addr"
    stop "$spid"
    forget "$spid"

    # nginx: one worker per core, the same files.
    port="$(free_port)"
    printf 'ok\n' >"$d/www/healthz"
    chmod -R a+rX "$d/www"
    mkdir -p "$d/nginx"
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
    npid=$!
    running+=("$npid")
    if ! wait_for_port "$port" "$npid"; then
        echo "nginx n'a pas démarré :" >&2
        tail -n 20 "$d/nginx/error.log" >&2
        exit 1
    fi
    nginx_s="$(since "$t")"
    sleep 0.5
    workers=($(ps -o pid= --ppid "$npid"))
    running+=("${workers[@]}")
    load nginx "$n" "127.0.0.1:$port" "$npid"
    stop "$npid"
    stop "${workers[@]}"
    forget "$npid" "${workers[@]}"

    python3 - "$n" "$insert_s" "$crl_s" "$(stat -c %s "$d/crl.pem")" "$serve_s" "$nginx_s" \
        "$nginx_version" "$openssl_version" "$revoke_cli_s" "$revoke_refused_s" >>"$out" <<'PY'
import json, sys
n, insert_s, crl_s, crl_bytes, serve_s, nginx_s, nginx_v, openssl_v, cli_s, refused_s = sys.argv[1:]
print(json.dumps({"bench": "mtls_setup", "revoked": int(n), "insert_seconds": float(insert_s),
                  "crl_seconds": float(crl_s), "crl_pem_bytes": int(crl_bytes),
                  "siseri_ready_seconds": float(serve_s), "nginx_ready_seconds": float(nginx_s),
                  "revoke_cli_seconds": float(cli_s) if cli_s else None,
                  "revoked_refused_seconds": float(refused_s) if refused_s else None,
                  "nginx_version": nginx_v, "openssl_version": openssl_v}))
PY
    rm -rf "$d"
done
