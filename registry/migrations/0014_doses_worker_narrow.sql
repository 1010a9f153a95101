-- The employment's results in the order of their last days, by a narrow index: a result is
-- found by (worker_id, period_end), which every reading of a career, a window of the limits or
-- a period asks; its sender's reference is no longer part of the key.
--
-- 0011 made this index unique on (worker_id, period_end, source, reference, kind,
-- period_start): one index held both the order and the rule that a sender's result is received
-- once. Its entries took some 80 bytes each (the sender's name and reference in every one),
-- and a month of results goes into the middle of every leaf page (each worker's new result
-- after the ones they had): with a million results stored, a million-line transmission split
-- every page of the index and wrote it all again. Measured in the sqlite3 shell on the
-- benchmark's data, inserting a million results with a million stored took 3.7-3.9 s of CPU
-- with this index against 4.5-4.6 s with 0011's (the table without the index at all: 3.0 s);
-- in the daemon, see BENCHMARKS.md.
--
-- The rule stays, said by the service in the same write transaction as the insert (which is
-- the only writer while it holds SQLite's write lock): a transmission's lookup reads the
-- employment's stored results within the line's window, which holds the line's own period, and
-- compares sender, reference, kind and period; a line for a person the transmission already
-- recorded a result of, a pending line attached, and a correction ask the database
-- (`storage_transmissions::is_duplicate`, through this index). A result entered by hand has no
-- reference: it never was a duplicate. Building the index costs about a second per million
-- results at upgrade.

DROP INDEX registry_doses_worker;

CREATE INDEX registry_doses_worker ON registry_doses (worker_id, period_end);
