-- The triggers of 0004 number a revocation with MAX(revocation_seq) over the whole table: without
-- a WHERE clause, SQLite cannot use the partial index on revocation_seq (its own WHERE must be
-- implied by the query's) and scanned every certificate at each revocation. The same triggers,
-- with the clause that lets the index answer from its last entry.

DROP TRIGGER ca_certificates_revocation_seq_on_update;
DROP TRIGGER ca_certificates_revocation_seq_on_insert;

CREATE TRIGGER ca_certificates_revocation_seq_on_update
AFTER UPDATE OF status ON ca_certificates
WHEN NEW.status = 'revoked' AND NEW.revocation_seq IS NULL
BEGIN
    UPDATE ca_certificates
    SET revocation_seq = (SELECT COALESCE(MAX(revocation_seq), 0) + 1 FROM ca_certificates
                          WHERE revocation_seq IS NOT NULL)
    WHERE serial = NEW.serial;
END;

CREATE TRIGGER ca_certificates_revocation_seq_on_insert
AFTER INSERT ON ca_certificates
WHEN NEW.status = 'revoked' AND NEW.revocation_seq IS NULL
BEGIN
    UPDATE ca_certificates
    SET revocation_seq = (SELECT COALESCE(MAX(revocation_seq), 0) + 1 FROM ca_certificates
                          WHERE revocation_seq IS NOT NULL)
    WHERE serial = NEW.serial;
END;
