-- A monotonic sequence number per revocation, so that relying parties read exactly the
-- revocations they have not seen (revocation times have a one-second grain: many revocations
-- can share one, and re-reading "the last second" could mean re-reading millions of rows).
-- Set by triggers, whoever writes the row.
ALTER TABLE ca_certificates ADD COLUMN revocation_seq INTEGER;

UPDATE ca_certificates SET revocation_seq = rowid WHERE status = 'revoked';

CREATE UNIQUE INDEX ca_certificates_revocation_seq ON ca_certificates (revocation_seq)
    WHERE revocation_seq IS NOT NULL;

CREATE TRIGGER ca_certificates_revocation_seq_on_update
AFTER UPDATE OF status ON ca_certificates
WHEN NEW.status = 'revoked' AND NEW.revocation_seq IS NULL
BEGIN
    UPDATE ca_certificates
    SET revocation_seq = (SELECT COALESCE(MAX(revocation_seq), 0) + 1 FROM ca_certificates)
    WHERE serial = NEW.serial;
END;

CREATE TRIGGER ca_certificates_revocation_seq_on_insert
AFTER INSERT ON ca_certificates
WHEN NEW.status = 'revoked' AND NEW.revocation_seq IS NULL
BEGIN
    UPDATE ca_certificates
    SET revocation_seq = (SELECT COALESCE(MAX(revocation_seq), 0) + 1 FROM ca_certificates)
    WHERE serial = NEW.serial;
END;

-- Which revocations a CRL covers: a revocation committed after it makes it stale, and the
-- daemon publishes a new one (the CRL is signed after the revocation's own transaction, so
-- that a revocation takes effect at once even when signing a large CRL takes seconds).
ALTER TABLE ca_crls ADD COLUMN covers_seq INTEGER NOT NULL DEFAULT 0;
