"""Setup of the career benchmark: workers with a whole career each (40 years of monthly passive
results, 480 results) on one establishment's list, straight into `registry_persons`,
`registry_workers` and `registry_doses` by SQL, the results in transactions of about a million
(50,000,000 results in minutes, where the registry's API would take days), as a dosimetry body
would have left them.

Rows obey the tables' CHECK constraints and the domain's: each worker its own valid NIR and key
(born in Paris, no birth date given), employed since the career's first month; monthly Hp(10)
and Hp(0.07) of 0 to 99 µSv, so that no 12-month sum comes near a limit (the benchmark's new
results must not raise alerts). Results are inserted worker after worker, month after month, as
the index `(worker_id, period_end)` sorts them, so that the B-trees grow at their right edge.

    python3 scripts/bench_career_fill.py DATA/siseri.db ESTABLISHMENT RESULTS
prints the number of workers and their first and last ids (`{page}` of the load generator).
"""
import sqlite3
import sys
import time

MONTHS = 480
FIRST_MONTH = "1986-01-01"

PERSONS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :workers),
  drawn(i, nir) AS MATERIALIZED (
    SELECT i, '1' || printf('%02d', 40 + i % 20) || printf('%02d', 1 + i % 12) || '75'
              || printf('%03d', 1 + i / 999) || printf('%03d', 1 + i % 999) FROM n)
INSERT INTO registry_persons (nir, nir_key, last_name, first_name, search_name, created_at,
                              updated_at)
SELECT nir, printf('%02d', 97 - CAST(nir AS INTEGER) % 97), 'BANC', 'Travailleur ' || i,
       'BANC TRAVAILLEUR ' || i, :now, :now
FROM drawn ORDER BY i
"""

WORKERS = """
INSERT INTO registry_workers (establishment_id, person_id, nir, nir_key, last_name, first_name,
                              search_name, category, job, created_at, updated_at, employed_from)
SELECT :establishment, id, nir, nir_key, last_name, first_name, search_name, 'A',
       'Manipulateur', :now, :now, :first
FROM registry_persons WHERE id > :persons_before ORDER BY id
"""

MONTHS_TABLE = """
CREATE TEMP TABLE bench_months AS
WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < :months - 1)
SELECT i, date(:first, '+' || i || ' months') AS start_day,
       date(:first, '+' || (i + 1) || ' months', '-1 day') AS end_day,
       date(:first, '+' || (i + 1) || ' months', '+20 days') AS recorded
FROM m
"""

# CROSS JOIN keeps the loop order: workers outside, months inside.
DOSES = """
INSERT INTO registry_doses (worker_id, kind, period_start, period_end, hp10_usv, hp007_usv,
                            sender, source, recorded_at)
SELECT w.id, 'passive', m.start_day, m.end_day, abs(random() % 100), abs(random() % 100),
       'body', 'organisme:BANC', m.recorded || 'T00:00:00Z'
FROM registry_workers w CROSS JOIN bench_months m
WHERE w.id > :from AND w.id <= :to
"""

# Workers whose results go in one transaction (about a million results): the WAL, emptied
# after each, stays small where one transaction would double the database's size on disk.
CHUNK = 2000


def main() -> None:
    path, establishment, results = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    workers = max(1, -(-results // MONTHS))
    start = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None, timeout=60)
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
    persons_before = conn.execute("SELECT coalesce(max(id), 0) FROM registry_persons").fetchone()[0]
    workers_before = conn.execute("SELECT coalesce(max(id), 0) FROM registry_workers").fetchone()[0]
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(PERSONS, {"workers": workers, "now": now})
    conn.execute(WORKERS, {"establishment": establishment, "now": now, "first": FIRST_MONTH,
                           "persons_before": persons_before})
    conn.execute(MONTHS_TABLE, {"months": MONTHS, "first": FIRST_MONTH})
    conn.execute("COMMIT")
    for low in range(workers_before, workers_before + workers, CHUNK):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(DOSES, {"from": low, "to": min(low + CHUNK, workers_before + workers)})
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    first, last = conn.execute(
        "SELECT min(id), max(id) FROM registry_workers WHERE id > ?", (workers_before,)).fetchone()
    total = conn.execute("SELECT max(id) FROM registry_doses").fetchone()[0]
    conn.close()
    print(f"{workers} travailleurs et {workers * MONTHS} résultats insérés en "
          f"{time.perf_counter() - start:.1f} s (résultat n° {total} le dernier)", file=sys.stderr)
    print(workers, first, last)


if __name__ == "__main__":
    main()
