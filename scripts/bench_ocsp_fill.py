"""Setup of the OCSP benchmark: COUNT more issued certificates in a siseri database, straight
into `ca_certificates` in one transaction (a million in seconds, where issuing them through the
CLI would take hours), and, with --responses, a response signed ahead for each of them in
`ca_ocsp_responses` (migration 0009), as the daemon's job would have left them: same size as the
real response of the certificate the load asks about (random bytes: nobody asks for these, they
make the table and its B-tree the size they would have), renewal due in 12 hours. Also writes
the OpenSSL responder's index (`openssl ocsp -index`) listing every certificate of the database.

Rows obey the tables' CHECK constraints; serials are 16 random octets, first one 01..7F, as
AC SISERI draws them, inserted in serial order so that the indexes grow at their right edge.

    python3 scripts/bench_ocsp_fill.py DATA/siseri.db COUNT INDEX.txt [--responses]
"""
import sqlite3
import sys
import time

DAY = 86_400
FIRST_OCTETS = bytes(range(1, 0x80))

CERTIFICATES = """
WITH RECURSIVE
  n(i) AS (SELECT 1 WHERE :count > 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count),
  drawn(i, serial) AS MATERIALIZED (
    SELECT i, CAST(substr(:first, 1 + abs(random() % 127), 1) || randomblob(15) AS BLOB) FROM n)
INSERT INTO ca_certificates (serial, serial_hex, profile, subject, requester, key_description,
    tbs, der, status, not_before, not_after, created_at, signed_at)
SELECT serial, hex(serial), 'person', 'CN=Bench ' || i || ',O=SISERI bench', 'bench',
       'ECDSA P-256', x'30', x'30', 'issued', :now - DAY_, :now + 365 * DAY_, :now - DAY_, :now - DAY_
FROM drawn ORDER BY serial
""".replace("DAY_", str(DAY))

RESPONSES = """
INSERT INTO ca_ocsp_responses (serial, hash, cert_status, revocation_seq, this_update,
    next_update, refresh_after, der)
SELECT serial, 'sha1', 'good', 0, :now, :now + DAY_, :now + DAY_ / 2, randomblob(:size)
FROM ca_certificates WHERE requester = 'bench' ORDER BY serial
""".replace("DAY_", str(DAY))


def main() -> None:
    path, count, index = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    responses = "--responses" in sys.argv[4:]
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
    conn.execute("BEGIN IMMEDIATE")
    now = int(time.time())
    conn.execute(CERTIFICATES, {"count": count, "first": FIRST_OCTETS, "now": now})
    if responses:
        size = conn.execute("SELECT max(length(der)) FROM ca_ocsp_responses").fetchone()[0] or 700
        conn.execute(RESPONSES, {"now": now, "size": size})
    conn.execute("COMMIT")
    # OpenSSL's index (ca(1) format): status, expiry (YYMMDDHHMMSSZ), revocation, serial, file, DN.
    with open(index, "w") as out:
        for serial_hex, not_after, status, revoked_at, subject in conn.execute(
                "SELECT serial_hex, not_after, status, revoked_at, subject FROM ca_certificates"):
            expiry = time.strftime("%y%m%d%H%M%SZ", time.gmtime(not_after))
            revoked = time.strftime("%y%m%d%H%M%SZ", time.gmtime(revoked_at)) if revoked_at else ""
            flag = "R" if status == "revoked" else "V"
            out.write(f"{flag}\t{expiry}\t{revoked}\t{serial_hex}\tunknown\t/CN={serial_hex}\n")
    total = conn.execute("SELECT count(*) FROM ca_certificates").fetchone()[0]
    conn.close()
    print(f"{count} certificats insérés{' avec leurs réponses OCSP' if responses else ''} en "
          f"{time.perf_counter() - start:.1f} s ({total} au total)", file=sys.stderr)


if __name__ == "__main__":
    main()
