# Shared by the benchmark sections (scripts/bench_mtls.sh, scripts/bench_import.sh): sourced,
# not run. Sets $siseri, $loadgen, $clk_tck and $work (a fresh directory, removed on exit),
# keeps in $running the PIDs that `cleanup` stops on exit, and installs Debian packages once.

target="${CARGO_TARGET_DIR:-/var/tmp/siseri-target}"
siseri="$target/release/siseri"
loadgen="$target/release/siseri-loadgen"
clk_tck="$(getconf CLK_TCK)"
for tool in "$siseri" "$loadgen"; do
    [ -x "$tool" ] || { echo "$tool manquant : cargo build --release -p siseri -p siseri-bench" >&2; exit 1; }
done
# The daemon and the CLI read SISERI_* settings: only ours apply here.
for v in $(compgen -v SISERI_ || true); do unset "$v"; done
unset RUST_LOG
export SISERI_CA_PASSPHRASE="banc d'essai, jetable"

work="$(mktemp -d "/var/tmp/siseri-bench-${bench_name:-x}.XXXXXX")"
running=()      # PIDs to stop on exit
policy_guard="" # set while our temporary /usr/sbin/policy-rc.d exists

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

# Removes PIDs from $running once stopped.
forget() {
    local keep=() pid gone
    for pid in "${running[@]}"; do
        for gone in "$@"; do [ "$pid" = "$gone" ] && continue 2; done
        keep+=("$pid")
    done
    running=("${keep[@]}")
}

cleanup() {
    if [ "${#running[@]}" -gt 0 ]; then stop "${running[@]}"; fi
    if [ -n "$policy_guard" ]; then rm -f /usr/sbin/policy-rc.d; fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# A failing command says which, before the cleanup (set -e alone stops in silence).
set -E
trap 'echo "$(basename "$0") : échec (code $?) ligne $LINENO : $BASH_COMMAND" >&2' ERR

# Installs Debian packages unless COMMAND is already there; the packages must not start
# system-wide services (policy-rc.d says so while apt runs).
ensure_tool() { # COMMAND PACKAGE...
    local command="$1" sudo=""
    shift
    if command -v "$command" >/dev/null || [ -x "/usr/sbin/$command" ]; then return 0; fi
    echo "== installation de $* (paquets Debian)" >&2
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod 755 /usr/sbin/policy-rc.d
        policy_guard=1
    fi
    $sudo apt-get update -qq >&2
    local package ok=""
    for package in "$@"; do
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2 && { ok=1; break; }
    done
    if [ -n "$policy_guard" ]; then $sudo rm -f /usr/sbin/policy-rc.d; policy_guard=""; fi
    [ -n "$ok" ]
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now() { date +%s.%N; }
since() { python3 -c "print(round($(now) - $1, 3))"; }

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

# Waits until something listens on 127.0.0.1:PORT (or any address), without connecting: an
# empty connection, opened and closed, makes a child of OpenSSL 3.0's `ocsp -port -multi`
# loop forever on read() = 0 (one core lost for the whole benchmark).
wait_for_port() {
    local port="$1" pid="$2" hex
    hex="$(printf '%04X' "$port")"
    for _ in $(seq 3000); do
        # /proc/net/tcp{,6}: local address "IP:PORT" in hex, state 0A = LISTEN.
        awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
            END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null && return 0
        alive "$pid" || return 1
        sleep 0.1
    done
    return 1
}

# Starts `siseri serve` on DATA with both listeners on free loopback ports; sets $spid and
# $registry_addr once its listening.json is written (the revocation set is loaded by then).
start_siseri() { # DATA LOG
    SISERI_LISTEN_PUBLIC=127.0.0.1:0 SISERI_LISTEN_REGISTRY=127.0.0.1:0 SISERI_LISTEN_ADMIN=127.0.0.1:0 \
        SISERI_LISTEN_HTTP=127.0.0.1:0 SISERI_LISTEN_CONSOLE=127.0.0.1:0 \
        "$siseri" --data "$1" serve >"$2" 2>&1 &
    spid=$!
    running+=("$spid")
    if ! wait_for_file "$1/listening.json" "$spid"; then
        echo "siseri serve n'a pas démarré :" >&2
        tail -n 20 "$2" >&2
        exit 1
    fi
    registry_addr="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["registry"])' "$1/listening.json")"
}

# siseri-loadgen in the background, so that a signal stops everything at once; its JSON line
# is appended to OUT.
run_loadgen() { # OUT ARGS...
    local out="$1" lpid
    shift
    "$loadgen" --clk-tck "$clk_tck" "$@" >>"$out" &
    lpid=$!
    running+=("$lpid")
    wait "$lpid"
    forget "$lpid"
}
