-- Every certificate AC SISERI ever considered, recorded BEFORE it is signed.
-- `serial` holds the DER INTEGER content octets, exactly as they appear in the certificate.
CREATE TABLE ca_certificates (
    serial            BLOB PRIMARY KEY,
    serial_hex        TEXT NOT NULL UNIQUE,
    profile           TEXT NOT NULL CHECK (profile IN ('ca', 'person', 'organisme', 'tls-server')),
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
    CHECK ((status = 'unsigned') = (der IS NULL)),
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL AND revocation_reason IS NOT NULL))
) STRICT;

-- The CRL and the registry's revocation check read revoked serials that have not expired.
CREATE INDEX ca_certificates_revoked ON ca_certificates (not_after) WHERE status = 'revoked';

-- Every CRL ever signed; the highest number is the one in force.
CREATE TABLE ca_crls (
    number      INTEGER PRIMARY KEY CHECK (number > 0),
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL CHECK (next_update > this_update),
    entries     INTEGER NOT NULL,
    der         BLOB NOT NULL
) STRICT;
