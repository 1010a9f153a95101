-- The regulation's dose model (issue 15 §2): every kind of result, its quantities, its sender,
-- the SIRET of the establishment it concerns, and corrections. New kinds and checks cannot be
-- added to the CHECKs of 0001 in place, hence SQLite's procedure: a new table, the rows copied,
-- the old table dropped, the new one renamed (foreign keys are off meanwhile and checked after,
-- see store::migrate::apply); its triggers and index are made again. Same for the alerts,
-- whose limit codes grow.
--
-- Kinds and what they carry (registry/src/dose.rs says why):
--   passive       Hp(10), Hp(0.07) skin, Hp(0.07) extremities, Hp(3) lens: at least one
--   operational   Hp(10), Hp(0.07): at least one
--   internal      E (committed effective dose)
--   effective     E (determined by the physician)
--   equivalent    H for one organ: lens, skin or extremities
--   radon         the exposure (Bq.h.m-3) and E, the resulting dose
--   aircrew       E (calculated)
--   no_result     nothing: "absence de résultat" for the period
-- A correction names the result it replaces (`replaces_id`, unique: replaced once at most);
-- the replaced row stays, unchanged, as the history.

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
    -- The establishment the result concerns, when the sender named it.
    siret         TEXT CHECK (siret GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    replaces_id   INTEGER UNIQUE REFERENCES registry_doses (id),
    -- accessor:<habilitation> or organisme:<name>.
    source        TEXT NOT NULL CHECK (source GLOB 'accessor:?*' OR source GLOB 'organisme:?*'),
    recorded_at   TEXT NOT NULL,
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
    hp007_usv, e_usv, sender, source, recorded_at)
SELECT id, worker_id, kind, period_start, period_end, hp10_usv, hp007_usv, e_usv,
       CASE WHEN source GLOB 'organisme:*' THEN 'body'
            WHEN kind = 'operational' THEN 'pcr'
            WHEN kind = 'passive' THEN 'body'
            ELSE 'physician' END,
       source, recorded_at
FROM registry_doses ORDER BY id;

DROP TABLE registry_doses;
ALTER TABLE registry_doses_new RENAME TO registry_doses;

CREATE INDEX registry_doses_worker ON registry_doses (worker_id, period_end);

-- A result once recorded is never changed: a correction is a new record.
CREATE TRIGGER registry_doses_no_update BEFORE UPDATE ON registry_doses
BEGIN
    SELECT RAISE(ABORT, 'registry_doses is append-only');
END;

CREATE TRIGGER registry_doses_no_delete BEFORE DELETE ON registry_doses
BEGIN
    SELECT RAISE(ABORT, 'registry_doses is append-only');
END;

-- A correction replaces a result of the same employment and kind (the service checks it first,
-- with a French message; this is the last line).
CREATE TRIGGER registry_doses_correction_same_result BEFORE INSERT ON registry_doses
WHEN NEW.replaces_id IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM registry_doses o
    WHERE o.id = NEW.replaces_id AND o.worker_id = NEW.worker_id AND o.kind = NEW.kind)
BEGIN
    SELECT RAISE(ABORT, 'a correction replaces a result of the same employment and kind');
END;

-- Declared pregnancies (issue 15 §3), entered by the physician: from the declaration to its
-- declared end the unborn child's dose stays at most 1 mSv.
CREATE TABLE registry_pregnancies (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES registry_persons (id),
    declared_on  TEXT NOT NULL CHECK (declared_on = date(declared_on)),
    ends_on      TEXT NOT NULL CHECK (ends_on = date(ends_on)),
    declared_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    CHECK (declared_on <= ends_on)
) STRICT;

CREATE INDEX registry_pregnancies_person ON registry_pregnancies (person_id, ends_on);

CREATE TABLE registry_alerts_new (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES registry_persons (id),
    limit_code      TEXT NOT NULL CHECK (limit_code = 'effective' OR limit_code = 'skin'
                                         OR limit_code = 'extremities' OR limit_code = 'lens'
                                         OR limit_code = 'pregnancy'
                                         OR limit_code = 'category_b'
                                         OR limit_code = 'category_b_skin'
                                         OR limit_code = 'category_b_extremities'
                                         OR limit_code = 'category_b_lens'),
    window_from     TEXT NOT NULL CHECK (window_from = date(window_from)),
    window_to       TEXT NOT NULL CHECK (window_to = date(window_to)),
    -- Microsieverts.
    sum_usv         INTEGER NOT NULL CHECK (sum_usv >= 0),
    limit_usv       INTEGER NOT NULL CHECK (limit_usv > 0),
    -- The result that raised it.
    dose_id         INTEGER NOT NULL REFERENCES registry_doses (id),
    raised_at       TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
) STRICT;

INSERT INTO registry_alerts_new SELECT * FROM registry_alerts ORDER BY id;
DROP TABLE registry_alerts;
ALTER TABLE registry_alerts_new RENAME TO registry_alerts;

CREATE INDEX registry_alerts_open ON registry_alerts (person_id, limit_code)
    WHERE acknowledged_at IS NULL;
