#!/usr/bin/env bash
# Revocation at scale (issue 14 §4): `siseri cert revoke` wall time, and the bytes a relying
# party must fetch afterwards (the CRL its certificate's distribution point names: its shard's),
# at 0, 100,000 and 1,000,000 revoked certificates (--quick: 0 and 2,000). Beside each, the
# baseline of the code before shards: signing the full CRL (`siseri ca crl`, what every
# revocation did) and that CRL's size (what every relying party fetched).
# Appends JSON lines to OUT; called by scripts/bench.sh after the release build.
#   scripts/bench_revoke.sh [--quick] OUT
# Per size: a fresh `siseri init`, the revoked rows inserted in one transaction
# (scripts/bench_revoked.py, each with its shard), `siseri ca crl` (shard CRLs, then the full CRL
# alone, timed), the
# daemon started, one organisme certificate issued with the CLI, then revoked with the CLI
# (timed, daemon running), and its shard fetched from the plain-HTTP listener at the path its
# distribution point names. Every process started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
out="${1:?usage: scripts/bench_revoke.sh [--quick] OUT}"
if [ -n "$quick" ]; then sizes=(0 2000); else sizes=(0 100000 1000000); fi
sizes=(${BENCH_REVOKE_SIZES:-${sizes[@]}})
bench_name=revoke
. scripts/bench_lib.sh
command -v curl >/dev/null || { echo "curl manquant" >&2; exit 1; }

for n in "${sizes[@]}"; do
    d="$work/$n"
    mkdir -p "$d"
    echo "== révocation : $n certificats révoqués" >&2
    "$siseri" --data "$d/data" init >/dev/null 2>"$d/init.log" || { cat "$d/init.log" >&2; exit 1; }
    python3 scripts/bench_revoked.py "$d/data/siseri.db" "$n"
    # The first `ca crl` also signs every shard's CRL; the second, timed, signs the full CRL
    # alone: the work each revocation did before shards.
    "$siseri" --data "$d/data" ca crl --out "$d/full.crl" >/dev/null
    t="$(now)"
    "$siseri" --data "$d/data" ca crl --out "$d/full.crl" >/dev/null
    full_s="$(since "$t")"
    full_bytes="$(stat -c %s "$d/full.crl")"

    start_siseri "$d/data" "$d/serve.log"
    http_addr="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["http"])' "$d/data/listening.json")"

    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/probe.key.pem" 2>/dev/null
    openssl req -new -key "$d/probe.key.pem" -subj "/CN=BENCH probe" -out "$d/probe.csr" 2>/dev/null
    "$siseri" --data "$d/data" cert issue --profile organisme --cn "BENCH probe" \
        --csr "$d/probe.csr" --out "$d/probe.pem" >/dev/null
    serial="$(openssl x509 -in "$d/probe.pem" -noout -serial | cut -d= -f2)"
    url="$(openssl x509 -in "$d/probe.pem" -noout -text | sed -n 's/^ *URI:\(.*\/pki\/crl\/[0-9]*\.crl\)$/\1/p' | head -n 1)"
    [ -n "$url" ] || { echo "pas de point de distribution de partition dans le certificat" >&2; exit 1; }
    path="/${url#http://*/}"

    t="$(now)"
    "$siseri" --data "$d/data" cert revoke "$serial" --reason superseded >/dev/null
    revoke_s="$(since "$t")"

    # What the relying party fetches: the shard its certificate names, over plain HTTP.
    curl -fsS -o "$d/shard.crl" "http://$http_addr$path"
    shard_bytes="$(stat -c %s "$d/shard.crl")"
    entries="$(openssl crl -inform DER -in "$d/shard.crl" -noout -text | grep -c 'Serial Number:' || true)"
    openssl crl -inform DER -in "$d/shard.crl" -out "$d/shard.pem"
    if openssl verify -crl_check -CAfile "$d/data/ca/ac-siseri.pem" -CRLfile "$d/shard.pem" \
        "$d/probe.pem" >/dev/null 2>&1; then
        echo "le certificat révoqué est encore accepté avec la LCR de sa partition" >&2
        exit 1
    fi
    echo "   $n révoqués : cert revoke en $revoke_s s, LCR de partition $shard_bytes octets ($entries entrées) ; LCR complète $full_bytes octets signée en $full_s s" >&2
    python3 - "$n" "$revoke_s" "$shard_bytes" "$entries" "$full_s" "$full_bytes" >>"$out" <<'PY'
import json, sys
n, revoke_s, shard_bytes, entries, full_s, full_bytes = sys.argv[1:]
print(json.dumps({"bench": "revoke", "revoked": int(n), "revoke_cli_seconds": float(revoke_s),
                  "shard_bytes": int(shard_bytes), "shard_entries": int(entries),
                  "full_crl_seconds": float(full_s), "full_crl_bytes": int(full_bytes)}))
PY
    stop "$spid"
    forget "$spid"
done
