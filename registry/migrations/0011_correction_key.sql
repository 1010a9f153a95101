-- A correction replaces a result of the same employment and kind: a composite foreign key says
-- so where a BEFORE INSERT trigger did (0007). Any INSERT trigger makes every insert into the
-- table open a statement journal (SQLite copies each page it is about to change, in case the
-- trigger aborts), even when the trigger's WHEN is false: a transmission inserts a million
-- results, and that copying was a fifth of its recording thread. A foreign key is checked before
-- the row is written, so a single-row INSERT needs no statement journal.
--
-- The parent key (id, worker_id, kind) needs a unique index of its own; `replaces_id`'s
-- uniqueness (replaced once at most) becomes a partial index, which holds the corrections only
-- (the column's UNIQUE held an entry for every result). Same procedure as 0007: a new table,
-- the rows copied, the old table dropped, the new one renamed, its indexes and triggers made
-- again (foreign keys are off meanwhile and checked after, see store::migrate::apply). The
-- SIRET's check is said more cheaply, with the same meaning, and the worker's index and the
-- sender references' unique index are one.

CREATE TABLE registry_doses_new (
    id            INTEGER PRIMARY KEY,
    worker_id     INTEGER NOT NULL REFERENCES registry_workers (id),
    kind          TEXT NOT NULL CHECK (kind = 'passive' OR kind = 'operational'
                                       OR kind = 'internal' OR kind = 'effective'
                                       OR kind = 'equivalent' OR kind = 'radon'
                                       OR kind = 'aircrew' OR kind = 'no_result'),
    period_start  TEXT NOT NULL CHECK (period_start = date(period_start)),
    period_end    TEXT NOT NULL CHECK (period_end = date(period_end)),
    -- Microsieverts.
    hp10_usv      INTEGER CHECK (hp10_usv BETWEEN 0 AND 100000000),
    hp007_usv     INTEGER CHECK (hp007_usv BETWEEN 0 AND 100000000),
    extremity_usv INTEGER CHECK (extremity_usv BETWEEN 0 AND 100000000),
    hp3_usv       INTEGER CHECK (hp3_usv BETWEEN 0 AND 100000000),
    e_usv         INTEGER CHECK (e_usv BETWEEN 0 AND 100000000),
    organ         TEXT CHECK (organ = 'lens' OR organ = 'skin' OR organ = 'extremities'),
    h_usv         INTEGER CHECK (h_usv BETWEEN 0 AND 100000000),
    -- Bq.h.m-3.
    radon_bqhm3   INTEGER CHECK (radon_bqhm3 BETWEEN 0 AND 1000000000000),
    -- Who sent it, by role: the dosimetry body, the PCR or the physician.
    sender        TEXT NOT NULL CHECK (sender = 'body' OR sender = 'pcr' OR sender = 'physician'),
    -- The establishment the result concerns, when the sender named it: 14 digits (said as
    -- 0007's GLOB of fourteen classes did, which SQLite parsed again at every insert).
    siret         TEXT CHECK (length(siret) = 14 AND trim(siret, '0123456789') = ''),
    -- The result this one corrects: of the same employment and kind (the foreign key below).
    replaces_id   INTEGER,
    -- accessor:<habilitation> or organisme:<name>.
    source        TEXT NOT NULL CHECK (source GLOB 'accessor:?*' OR source GLOB 'organisme:?*'),
    recorded_at   TEXT NOT NULL,
    reference     TEXT,
    transmission_id INTEGER REFERENCES registry_transmissions (id),
    FOREIGN KEY (replaces_id, worker_id, kind) REFERENCES registry_doses (id, worker_id, kind),
    CHECK (period_start <= period_end),
    CHECK (replaces_id IS NULL OR replaces_id < id),
    CHECK (CASE kind
        WHEN 'passive' THEN e_usv IS NULL AND h_usv IS NULL AND radon_bqhm3 IS NULL
            AND (hp10_usv IS NOT NULL OR hp007_usv IS NOT NULL OR extremity_usv IS NOT NULL
                 OR hp3_usv IS NOT NULL)
        WHEN 'operational' THEN e_usv IS NULL AND h_usv IS NULL AND radon_bqhm3 IS NULL
            AND extremity_usv IS NULL AND hp3_usv IS NULL
            AND (hp10_usv IS NOT NULL OR hp007_usv IS NOT NULL)
        ELSE hp10_usv IS NULL AND hp007_usv IS NULL AND extremity_usv IS NULL
            AND hp3_usv IS NULL END),
    CHECK ((kind = 'equivalent') = (organ IS NOT NULL AND h_usv IS NOT NULL)),
    CHECK (kind = 'equivalent' OR (organ IS NULL AND h_usv IS NULL)),
    CHECK ((kind = 'radon') = (radon_bqhm3 IS NOT NULL)),
    CHECK ((kind = 'internal' OR kind = 'effective' OR kind = 'radon' OR kind = 'aircrew')
           = (e_usv IS NOT NULL))
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


-- The foreign key's parent key.
CREATE UNIQUE INDEX registry_doses_result ON registry_doses (id, worker_id, kind);

-- A result is replaced once at most.
CREATE UNIQUE INDEX registry_doses_replaces ON registry_doses (replaces_id)
    WHERE replaces_id IS NOT NULL;

-- One result per sender reference, worker, kind and period (0008), and a worker's results in
-- the order of their last days (0007's registry_doses_worker, which this index replaces: its
-- first two columns are that index's). Not partial: a result without a reference (entered by
-- hand) is never a duplicate all the same, SQLite's unique indexes holding NULLs distinct.
-- One B-tree fewer to write at every result.
CREATE UNIQUE INDEX registry_doses_worker
    ON registry_doses (worker_id, period_end, source, reference, kind, period_start);

-- A result once recorded is never changed: a correction is a new record.
CREATE TRIGGER registry_doses_no_update BEFORE UPDATE ON registry_doses
BEGIN
    SELECT RAISE(ABORT, 'registry_doses is append-only');
END;

CREATE TRIGGER registry_doses_no_delete BEFORE DELETE ON registry_doses
BEGIN
    SELECT RAISE(ABORT, 'registry_doses is append-only');
END;
