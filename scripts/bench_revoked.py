"""Setup of the mTLS benchmark: inserts COUNT revoked certificates straight into the
`ca_certificates` table of a siseri database, in one transaction (a million in seconds, where
revoking them one by one through the CLI would sign a million CRLs).

Each row obeys the table's CHECK constraints (ca/migrations/0001_certificates.sql): a random
16-octet positive serial as AC SISERI draws them (first octet 01..7F), status 'revoked' with a
revocation time and reason, a stand-in DER (revoked rows are signed ones), not_after in the
future so that the CRL lists them. The rows are made by SQLite itself (a recursive CTE), in
serial order so that the primary key and serial_hex indexes grow at their right edge.

Where certificates carry a CRL shard (ca migration 0008), each row gets the one AC SISERI would
assign: the serial modulo SHARDS (default 128, the default `[ca] crl_shards`).

    python3 scripts/bench_revoked.py DATA/siseri.db COUNT [SHARDS]
"""
import sqlite3
import sys
import time

DAY = 86_400
FIRST_OCTETS = bytes(range(1, 0x80))  # a positive DER INTEGER with no leading zero octet

INSERT = """
WITH RECURSIVE
  n(i) AS (SELECT 1 WHERE :count > 0 UNION ALL SELECT i + 1 FROM n WHERE i < :count),
  drawn(i, serial, issued, reason) AS MATERIALIZED (
    SELECT i,
           CAST(substr(:first, 1 + abs(random() % 127), 1) || randomblob(15) AS BLOB),
           :now - 400 * :day + abs(random() % (250 * :day)),
           abs(random() % 6)
    FROM n)
INSERT INTO ca_certificates (serial, serial_hex, profile, subject, requester, key_description,
    tbs, der, status, not_before, not_after, created_at, signed_at, revoked_at,
    revocation_reason{seq_column}{shard_column})
SELECT serial, hex(serial), 'person', 'CN=Revoked ' || i || ',O=SISERI bench', 'bench',
       'ECDSA P-256', x'30', x'30', 'revoked', issued, issued + 3 * 365 * :day, issued, issued,
       issued + :day + abs(random() % (100 * :day)),
       CASE reason WHEN 0 THEN 'unspecified' WHEN 1 THEN 'keyCompromise'
                   WHEN 2 THEN 'affiliationChanged' WHEN 3 THEN 'superseded'
                   WHEN 4 THEN 'cessationOfOperation' ELSE 'privilegeWithdrawn' END{seq_value}{shard_value}
FROM drawn ORDER BY serial
"""


def main() -> None:
    path, count = sys.argv[1], int(sys.argv[2])
    shards = int(sys.argv[3]) if len(sys.argv) > 3 else 128
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
    conn.execute("BEGIN IMMEDIATE")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(ca_certificates)")}
    parts = {"seq_column": "", "seq_value": "", "shard_column": "", "shard_value": ""}
    if "revocation_seq" in columns:
        # Where revocations carry a sequence number (set by a trigger, one UPDATE per row
        # otherwise), number them here, after those already there.
        parts.update(
            seq_column=", revocation_seq",
            seq_value=", (SELECT COALESCE(MAX(revocation_seq), 0) FROM ca_certificates "
                      "WHERE revocation_seq IS NOT NULL) + i")
    if "crl_shard" in columns:
        conn.create_function("crl_shard", 1, lambda serial: int.from_bytes(serial, "big") % shards,
                             deterministic=True)
        parts.update(shard_column=", crl_shard", shard_value=", crl_shard(serial)")
    sql = INSERT.format(**parts)
    conn.execute(sql, {"count": count, "first": FIRST_OCTETS, "now": int(time.time()), "day": DAY})
    conn.execute("COMMIT")
    total = conn.execute("SELECT count(*) FROM ca_certificates WHERE status = 'revoked'").fetchone()[0]
    conn.close()
    print(f"{count} révocations insérées en {time.perf_counter() - start:.1f} s ({total} au total)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
