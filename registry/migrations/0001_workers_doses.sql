-- The registry: workers lists per establishment, their fractions, dose records and medical
-- follow-up cards. Establishment ids are enroll's protocol ids; no foreign key crosses crates.
-- Enumerations are checked with OR chains rather than IN lists: SQLite builds a temporary b-tree
-- for an IN list of three or more values at every row written, which an import pays a million
-- times.

-- The one sequence medical follow-up card numbers (C + 8 digits) are issued from.
CREATE TABLE registry_card_sequence (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    next INTEGER NOT NULL CHECK (next BETWEEN 1 AND 100000000)
) STRICT;
INSERT INTO registry_card_sequence (id, next) VALUES (1, 1);

CREATE TABLE registry_fractions (
    id               INTEGER PRIMARY KEY,
    establishment_id INTEGER NOT NULL,
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- Folded name (accents and case dropped): two fractions may not differ only by those.
    name_key         TEXT NOT NULL CHECK (length(name_key) >= 1),
    created_at       TEXT NOT NULL,
    UNIQUE (establishment_id, name_key),
    UNIQUE (establishment_id, id)
) STRICT;

CREATE TABLE registry_workers (
    id                  INTEGER PRIMARY KEY,
    establishment_id    INTEGER NOT NULL,
    nir                 TEXT NOT NULL CHECK (length(nir) = 13),
    nir_key             TEXT NOT NULL CHECK (nir_key GLOB '[0-9][0-9]'),
    card_number         TEXT CHECK (card_number GLOB 'C[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    -- Names and labels: their lengths and characters are the domain types' (registry::text);
    -- checks here would cost every line of an import a function call each.
    last_name           TEXT NOT NULL CHECK (last_name <> ''),
    other_name          TEXT,
    first_name          TEXT NOT NULL CHECK (first_name <> ''),
    other_first_names   TEXT,
    birth_date          TEXT CHECK (birth_date = date(birth_date)),
    fraction_id         INTEGER,
    category            TEXT CHECK (category = 'A' OR category = 'B' OR category = 'NC'),
    job                 TEXT,
    radiological_hazard TEXT,
    contract_type       TEXT CHECK (contract_type = 'CDI' OR contract_type = 'CDD'
                            OR contract_type = 'INTERIM' OR contract_type = 'NON_SALARIE'
                            OR contract_type = 'APPRENTISSAGE' OR contract_type = 'STAGE'
                            OR contract_type = 'AUTRE'),
    -- Quotité in thousandths: 0 < q <= 1.
    work_fraction_pm    INTEGER CHECK (work_fraction_pm BETWEEN 1 AND 1000),
    activity_character  TEXT CHECK (activity_character = 'CIVILE' OR activity_character = 'MILITAIRE'),
    domain              TEXT,
    sector              TEXT,
    -- Folded "LAST FIRST" and "OTHER FIRST": what name searches range over, and the list's order.
    search_name         TEXT NOT NULL,
    search_other        TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    -- Set by a Suppression: off the list, but the row (and its doses and card) is kept.
    removed_at          TEXT,
    UNIQUE (establishment_id, nir),
    -- A worker's fraction is one of their own establishment's.
    FOREIGN KEY (establishment_id, fraction_id) REFERENCES registry_fractions (establishment_id, id)
) STRICT;

CREATE UNIQUE INDEX registry_workers_card
    ON registry_workers (establishment_id, card_number) WHERE card_number IS NOT NULL;
-- Every index ends with the rowid (the id): these serve `ORDER BY search_name, id` as they are.
CREATE INDEX registry_workers_name
    ON registry_workers (establishment_id, search_name) WHERE removed_at IS NULL;
CREATE INDEX registry_workers_other
    ON registry_workers (establishment_id, search_other)
    WHERE search_other IS NOT NULL AND removed_at IS NULL;
-- Narrow on purpose: within a fraction, new rows have ever larger ids and land at the end of
-- their range, where an index on the name would take a random place at every insert.
CREATE INDEX registry_workers_fraction
    ON registry_workers (fraction_id) WHERE fraction_id IS NOT NULL;

CREATE TABLE registry_doses (
    id           INTEGER PRIMARY KEY,
    worker_id    INTEGER NOT NULL REFERENCES registry_workers (id),
    kind         TEXT NOT NULL CHECK (kind = 'passive' OR kind = 'operational'
                                      OR kind = 'internal' OR kind = 'effective'),
    period_start TEXT NOT NULL CHECK (period_start = date(period_start)),
    period_end   TEXT NOT NULL CHECK (period_end = date(period_end)),
    -- Microsieverts.
    hp10_usv     INTEGER CHECK (hp10_usv BETWEEN 0 AND 100000000),
    hp007_usv    INTEGER CHECK (hp007_usv BETWEEN 0 AND 100000000),
    e_usv        INTEGER CHECK (e_usv BETWEEN 0 AND 100000000),
    -- accessor:<habilitation> or organisme:<name>.
    source       TEXT NOT NULL CHECK (source GLOB 'accessor:?*' OR source GLOB 'organisme:?*'),
    recorded_at  TEXT NOT NULL,
    CHECK (period_start <= period_end),
    CHECK (CASE WHEN kind IN ('passive', 'operational')
                THEN e_usv IS NULL AND (hp10_usv IS NOT NULL OR hp007_usv IS NOT NULL)
                ELSE e_usv IS NOT NULL AND hp10_usv IS NULL AND hp007_usv IS NULL END)
) STRICT;

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

CREATE TABLE registry_medical_cards (
    worker_id   INTEGER PRIMARY KEY REFERENCES registry_workers (id),
    last_visit  TEXT CHECK (last_visit = date(last_visit)),
    fitness     TEXT CHECK (fitness = 'fit' OR fitness = 'fit_with_restrictions' OR fitness = 'unfit'),
    next_visit  TEXT CHECK (next_visit = date(next_visit)),
    notes       TEXT CHECK (length(notes) <= 4000),
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK (fitness IS NULL OR last_visit IS NOT NULL)
) STRICT;
