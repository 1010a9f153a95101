-- The dosimetry bodies (organismes de dosimétrie) an establishment has named: the only
-- establishments where a body's certificate may send anything (registry/src/policy.rs).
-- A body is known by the common name of its certificate of profile `organisme`, which only an
-- operator issues (`siseri cert issue --profile organisme --cn NAME`); a renewed certificate
-- keeps the name, hence the clients. `declared_by` is `accessor:<habilitation>` or
-- `operator:cli`.
CREATE TABLE registry_dosimetry_bodies (
    id               INTEGER PRIMARY KEY,
    establishment_id INTEGER NOT NULL,
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    declared_by      TEXT NOT NULL,
    declared_at      TEXT NOT NULL,
    UNIQUE (establishment_id, name)
) STRICT;

-- `siseri registry organisme list --name`: the clients of one body.
CREATE INDEX registry_dosimetry_bodies_name ON registry_dosimetry_bodies (name);
