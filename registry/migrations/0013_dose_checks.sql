-- registry_doses' checks, said again so that SQLite evaluates fewer of them at each insert, with
-- the same meaning (a test holds each rule: registry/tests/dose_model.rs). A transmission inserts
-- a million results in one go, one thread setting its pace; in the sqlite3 shell, inserting a
-- million of the bench's results into the table alone took 1.5-1.6 s against 1.8-1.9 s with
-- 0011's checks.
-- - The kind's rules are one CASE on the kind: which quantities it carries, which it does not,
--   the organ's values for an equivalent dose, and no other kind (ELSE 0). 0011 said them in six
--   checks, each comparing the kind with up to eight names again.
-- - The source's prefix is said by comparisons: a text greater than 'organisme:' and less than
--   'organisme;' (';' follows ':') is 'organisme:' followed by at least one character, what
--   GLOB 'organisme:?*' says, without calling the GLOB function.
-- Same procedure as 0011: a new table, the rows copied, the old table dropped, the new one
-- renamed, its indexes and triggers made again (foreign keys are off meanwhile and checked
-- after, see store::migrate::apply).

CREATE TABLE registry_doses_new (
    id            INTEGER PRIMARY KEY,
    worker_id     INTEGER NOT NULL REFERENCES registry_workers (id),
    kind          TEXT NOT NULL,
    period_start  TEXT NOT NULL CHECK (period_start = date(period_start)),
    period_end    TEXT NOT NULL CHECK (period_end = date(period_end)),
    -- Microsieverts.
    hp10_usv      INTEGER CHECK (hp10_usv BETWEEN 0 AND 100000000),
    hp007_usv     INTEGER CHECK (hp007_usv BETWEEN 0 AND 100000000),
    extremity_usv INTEGER CHECK (extremity_usv BETWEEN 0 AND 100000000),
    hp3_usv       INTEGER CHECK (hp3_usv BETWEEN 0 AND 100000000),
    e_usv         INTEGER CHECK (e_usv BETWEEN 0 AND 100000000),
    organ         TEXT,
    h_usv         INTEGER CHECK (h_usv BETWEEN 0 AND 100000000),
    -- Bq.h.m-3.
    radon_bqhm3   INTEGER CHECK (radon_bqhm3 BETWEEN 0 AND 1000000000000),
    -- Who sent it, by role: the dosimetry body, the PCR or the physician.
    sender        TEXT NOT NULL CHECK (sender = 'body' OR sender = 'pcr' OR sender = 'physician'),
    -- The establishment the result concerns, when the sender named it: 14 digits.
    siret         TEXT CHECK (length(siret) = 14 AND trim(siret, '0123456789') = ''),
    -- The result this one corrects: of the same employment and kind (the foreign key below).
    replaces_id   INTEGER,
    -- accessor:<habilitation> or organisme:<name>.
    source        TEXT NOT NULL CHECK ((source > 'accessor:' AND source < 'accessor;')
                                    OR (source > 'organisme:' AND source < 'organisme;')),
    recorded_at   TEXT NOT NULL,
    reference     TEXT,
    transmission_id INTEGER REFERENCES registry_transmissions (id),
    FOREIGN KEY (replaces_id, worker_id, kind) REFERENCES registry_doses (id, worker_id, kind),
    CHECK (period_start <= period_end),
    CHECK (replaces_id IS NULL OR replaces_id < id),
    CHECK (CASE kind
        WHEN 'passive' THEN e_usv IS NULL AND organ IS NULL AND h_usv IS NULL
            AND radon_bqhm3 IS NULL
            AND (hp10_usv IS NOT NULL OR hp007_usv IS NOT NULL OR extremity_usv IS NOT NULL
                 OR hp3_usv IS NOT NULL)
        WHEN 'operational' THEN e_usv IS NULL AND organ IS NULL AND h_usv IS NULL
            AND radon_bqhm3 IS NULL AND extremity_usv IS NULL AND hp3_usv IS NULL
            AND (hp10_usv IS NOT NULL OR hp007_usv IS NOT NULL)
        ELSE hp10_usv IS NULL AND hp007_usv IS NULL AND extremity_usv IS NULL
            AND hp3_usv IS NULL AND CASE kind
            WHEN 'equivalent' THEN organ IS NOT NULL AND organ IN ('lens', 'skin', 'extremities')
                AND h_usv IS NOT NULL AND e_usv IS NULL AND radon_bqhm3 IS NULL
            WHEN 'radon' THEN organ IS NULL AND h_usv IS NULL AND e_usv IS NOT NULL
                AND radon_bqhm3 IS NOT NULL
            WHEN 'internal' THEN organ IS NULL AND h_usv IS NULL AND e_usv IS NOT NULL
                AND radon_bqhm3 IS NULL
            WHEN 'effective' THEN organ IS NULL AND h_usv IS NULL AND e_usv IS NOT NULL
                AND radon_bqhm3 IS NULL
            WHEN 'aircrew' THEN organ IS NULL AND h_usv IS NULL AND e_usv IS NOT NULL
                AND radon_bqhm3 IS NULL
            WHEN 'no_result' THEN organ IS NULL AND h_usv IS NULL AND e_usv IS NULL
                AND radon_bqhm3 IS NULL
            ELSE 0 END END)
) STRICT;

INSERT INTO registry_doses_new (id, worker_id, kind, period_start, period_end, hp10_usv,
    hp007_usv, extremity_usv, hp3_usv, e_usv, organ, h_usv, radon_bqhm3, sender, siret,
    replaces_id, source, recorded_at, reference, transmission_id)
SELECT id, worker_id, kind, period_start, period_end, hp10_usv, hp007_usv, extremity_usv,
       hp3_usv, e_usv, organ, h_usv, radon_bqhm3, sender, siret, replaces_id, source,
       recorded_at, reference, transmission_id
FROM registry_doses ORDER BY id;

DROP TABLE registry_doses;
ALTER TABLE registry_doses_new RENAME TO registry_doses;


-- Its indexes and triggers, as 0011 made them (see there why each).
CREATE UNIQUE INDEX registry_doses_result ON registry_doses (id, worker_id, kind);

CREATE UNIQUE INDEX registry_doses_replaces ON registry_doses (replaces_id)
    WHERE replaces_id IS NOT NULL;

CREATE UNIQUE INDEX registry_doses_worker
    ON registry_doses (worker_id, period_end, source, reference, kind, period_start);

CREATE TRIGGER registry_doses_no_update BEFORE UPDATE ON registry_doses
BEGIN
    SELECT RAISE(ABORT, 'registry_doses is append-only');
END;

CREATE TRIGGER registry_doses_no_delete BEFORE DELETE ON registry_doses
BEGIN
    SELECT RAISE(ABORT, 'registry_doses is append-only');
END;
