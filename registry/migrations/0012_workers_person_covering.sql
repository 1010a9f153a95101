-- A transmission's lookup finds, for each line, the employments of the line's person: their id,
-- establishment, NIR and category. The index on person_id now holds these, so that the lookup
-- reads no employment's row: one B-tree descent fewer per line (measured with
-- scripts/bench_transmissions.sh, BENCHMARKS.md). Its first column is the old index's, which
-- every other query on person_id keeps using; its name too, which the workers list's import
-- keeps up to date as rows come while it drops the others (storage_import::drop_indexes).
DROP INDEX registry_workers_person;
CREATE INDEX registry_workers_person
    ON registry_workers (person_id, establishment_id, nir, category);
