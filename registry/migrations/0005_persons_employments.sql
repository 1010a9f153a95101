-- One person per NIR across establishments (issue 15 §1). A row of `registry_workers` is from
-- now on an *employment*: a person on one establishment's list, with that list's contract
-- fields, its doses and its card. The table keeps its name so that the list's SQL, its indexes
-- and the import's bulk path stay as they are; what is national moves to `registry_persons`.
--
-- The employment's own name columns are what its correspondent declared, always the same person
-- as `registry_persons` says (folded names and birth date): a declaration that contradicts the
-- person known from another employer is not applied, it is recorded in
-- `registry_identity_conflicts` for the operators.

CREATE TABLE registry_persons (
    id                INTEGER PRIMARY KEY,
    nir               TEXT NOT NULL CHECK (length(nir) = 13),
    nir_key           TEXT NOT NULL CHECK (nir_key GLOB '[0-9][0-9]'),
    last_name         TEXT NOT NULL CHECK (last_name <> ''),
    other_name        TEXT,
    first_name        TEXT NOT NULL CHECK (first_name <> ''),
    other_first_names TEXT,
    birth_date        TEXT CHECK (birth_date = date(birth_date)),
    -- Folded "LAST FIRST" (as `registry_workers.search_name`): what two declarations compare.
    search_name       TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX registry_persons_nir ON registry_persons (nir);

-- Each NIR's person takes the identity of its most recently updated row.
INSERT INTO registry_persons (nir, nir_key, last_name, other_name, first_name,
                              other_first_names, birth_date, search_name, created_at, updated_at)
SELECT nir, nir_key, last_name, other_name, first_name, other_first_names, birth_date,
       search_name, created_at, updated_at
FROM (SELECT *, row_number() OVER (PARTITION BY nir ORDER BY updated_at DESC, id DESC) AS rank
      FROM registry_workers)
WHERE rank = 1
ORDER BY nir;

-- Nullable only because SQLite cannot add a NOT NULL column without a default: every row is
-- given its person here, and the code never writes one without.
ALTER TABLE registry_workers ADD COLUMN person_id INTEGER REFERENCES registry_persons (id);
-- The employment's current (or last) period on the list: from the day it began to the day the
-- worker was removed (NULL while on the list). Earlier periods, ended then begun again, are in
-- `registry_employment_periods`.
ALTER TABLE registry_workers ADD COLUMN employed_from TEXT
    CHECK (employed_from = date(employed_from));
ALTER TABLE registry_workers ADD COLUMN employed_to TEXT CHECK (employed_to = date(employed_to));

UPDATE registry_workers
SET person_id = (SELECT p.id FROM registry_persons p WHERE p.nir = registry_workers.nir),
    -- From the day the row was written, or from the first period a result of it covers when
    -- that is earlier: a PCR keeps seeing what it saw before the migration.
    employed_from = min(date(created_at),
                        coalesce((SELECT min(d.period_start) FROM registry_doses d
                                  WHERE d.worker_id = registry_workers.id), date(created_at))),
    employed_to = date(removed_at);

CREATE INDEX registry_workers_person ON registry_workers (person_id);

CREATE TABLE registry_employment_periods (
    id         INTEGER PRIMARY KEY,
    worker_id  INTEGER NOT NULL REFERENCES registry_workers (id),
    started_on TEXT NOT NULL CHECK (started_on = date(started_on)),
    ended_on   TEXT NOT NULL CHECK (ended_on = date(ended_on)),
    CHECK (started_on <= ended_on)
) STRICT;

CREATE INDEX registry_employment_periods_worker
    ON registry_employment_periods (worker_id, started_on);

-- A correspondent's declaration of a known NIR under another identity, not applied to the
-- person. `source` says whether it came from the form, an import, or this migration (two
-- establishments that had declared one NIR differently before persons existed).
CREATE TABLE registry_identity_conflicts (
    id                INTEGER PRIMARY KEY,
    person_id         INTEGER NOT NULL REFERENCES registry_persons (id),
    establishment_id  INTEGER NOT NULL,
    last_name         TEXT NOT NULL,
    other_name        TEXT,
    first_name        TEXT NOT NULL,
    other_first_names TEXT,
    birth_date        TEXT,
    source            TEXT NOT NULL CHECK (source = 'form' OR source = 'import'
                                           OR source = 'migration'),
    declared_by       TEXT NOT NULL,
    declared_at       TEXT NOT NULL,
    resolved_at       TEXT,
    resolved_by       TEXT
) STRICT;

CREATE INDEX registry_identity_conflicts_open
    ON registry_identity_conflicts (declared_at) WHERE resolved_at IS NULL;

INSERT INTO registry_identity_conflicts (person_id, establishment_id, last_name, other_name,
    first_name, other_first_names, birth_date, source, declared_by, declared_at)
SELECT p.id, w.establishment_id, w.last_name, w.other_name, w.first_name, w.other_first_names,
       w.birth_date, 'migration', 'operator:migration', w.updated_at
FROM registry_workers w JOIN registry_persons p ON p.id = w.person_id
WHERE w.search_name <> p.search_name
   OR (w.birth_date IS NOT NULL AND p.birth_date IS NOT NULL AND w.birth_date <> p.birth_date)
ORDER BY w.id;
