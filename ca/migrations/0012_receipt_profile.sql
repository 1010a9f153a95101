-- The receipt key's certificate (issue 16 §2) has its own profile, 'receipt'. SQLite cannot
-- change a CHECK constraint in place: the table is rebuilt as 0010 did (create, copy, drop,
-- rename), then its indexes and triggers are made again as 0010 left them.
CREATE TABLE ca_certificates_new (
    serial            BLOB PRIMARY KEY,
    serial_hex        TEXT NOT NULL UNIQUE,
    profile           TEXT NOT NULL CHECK (profile IN ('ca', 'person', 'organisme', 'tls-server',
                                                       'operator', 'receipt')),
    subject           TEXT NOT NULL,
    requester         TEXT NOT NULL,
    key_description   TEXT NOT NULL,
    tbs               BLOB NOT NULL,
    der               BLOB,
    status            TEXT NOT NULL CHECK (status IN ('unsigned', 'issued', 'revoked')),
    not_before        INTEGER NOT NULL,
    not_after         INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    signed_at         INTEGER,
    revoked_at        INTEGER,
    revocation_reason TEXT CHECK (revocation_reason IN ('unspecified', 'keyCompromise',
                          'cACompromise', 'affiliationChanged', 'superseded',
                          'cessationOfOperation', 'privilegeWithdrawn')),
    revocation_seq    INTEGER,
    crl_shard         INTEGER CHECK (crl_shard >= 0),
    CHECK ((status = 'unsigned') = (der IS NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL))
) STRICT;

INSERT INTO ca_certificates_new (serial, serial_hex, profile, subject, requester,
    key_description, tbs, der, status, not_before, not_after, created_at, signed_at,
    revoked_at, revocation_reason, revocation_seq, crl_shard)
SELECT serial, serial_hex, profile, subject, requester, key_description, tbs, der, status,
    not_before, not_after, created_at, signed_at, revoked_at, revocation_reason,
    revocation_seq, crl_shard
FROM ca_certificates;

DROP TABLE ca_certificates;
ALTER TABLE ca_certificates_new RENAME TO ca_certificates;

CREATE INDEX ca_certificates_revoked ON ca_certificates (not_after) WHERE status = 'revoked';
CREATE INDEX ca_certificates_revoked_at ON ca_certificates (revoked_at) WHERE status = 'revoked';
CREATE UNIQUE INDEX ca_certificates_revocation_seq ON ca_certificates (revocation_seq)
    WHERE revocation_seq IS NOT NULL;
CREATE INDEX ca_certificates_shard_revoked ON ca_certificates (crl_shard, not_after)
    WHERE status = 'revoked';
CREATE INDEX ca_certificates_shard_seq ON ca_certificates (crl_shard, revocation_seq)
    WHERE revocation_seq IS NOT NULL;

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
