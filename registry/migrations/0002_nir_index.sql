-- The NIR's uniqueness in an establishment becomes a named index, like the list's other indexes,
-- so that a large import into an empty list can drop them all and build them once at the end
-- from sorted keys (registry/src/storage_import.rs): maintained row by row, the NIR index alone
-- cost a million-line import more than the rows themselves. A UNIQUE written in the table
-- cannot be dropped, hence SQLite's procedure for such changes: a new table, the rows copied,
-- the old table dropped, the new one renamed (foreign keys are off meanwhile and checked after,
-- see ca::migrate::apply). Columns, checks and indexes are otherwise those of 0001.

CREATE TABLE registry_workers_new (
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
    -- A worker's fraction is one of their own establishment's.
    FOREIGN KEY (establishment_id, fraction_id) REFERENCES registry_fractions (establishment_id, id)
) STRICT;

INSERT INTO registry_workers_new (
    id, establishment_id, nir, nir_key, card_number, last_name, other_name, first_name,
    other_first_names, birth_date, fraction_id, category, job, radiological_hazard,
    contract_type, work_fraction_pm, activity_character, domain, sector, search_name,
    search_other, created_at, updated_at, removed_at)
SELECT
    id, establishment_id, nir, nir_key, card_number, last_name, other_name, first_name,
    other_first_names, birth_date, fraction_id, category, job, radiological_hazard,
    contract_type, work_fraction_pm, activity_character, domain, sector, search_name,
    search_other, created_at, updated_at, removed_at
FROM registry_workers;

DROP TABLE registry_workers;
ALTER TABLE registry_workers_new RENAME TO registry_workers;

CREATE UNIQUE INDEX registry_workers_nir ON registry_workers (establishment_id, nir);
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
