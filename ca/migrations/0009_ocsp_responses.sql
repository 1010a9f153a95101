-- OCSP responses signed ahead (RFC 5019 profile): one per certificate and CertID hash
-- algorithm, served as stored, so that answering costs a lookup and never a signature.
-- SHA-1 rows are produced for every signed, unexpired certificate (at issuance, at revocation,
-- and by the daemon's job); rows for SHA-256/384/512 CertIDs are signed on first demand, then
-- kept and renewed the same way.
--
-- `cert_status` and `revocation_seq` say what the response was produced for: a revocation
-- deletes the certificate's rows in its own transaction (and writes the revoked one), and a
-- response is only ever written if the certificate's revocation_seq is still the one it states.
-- `refresh_after` (half-way between thisUpdate and nextUpdate) is when the job renews it.
CREATE TABLE ca_ocsp_responses (
    serial         BLOB NOT NULL,
    hash           TEXT NOT NULL CHECK (hash IN ('sha1', 'sha256', 'sha384', 'sha512')),
    cert_status    TEXT NOT NULL CHECK (cert_status IN ('good', 'revoked')),
    revocation_seq INTEGER NOT NULL DEFAULT 0,
    this_update    INTEGER NOT NULL,
    next_update    INTEGER NOT NULL CHECK (next_update > this_update),
    refresh_after  INTEGER NOT NULL,
    der            BLOB NOT NULL,
    PRIMARY KEY (serial, hash),
    CHECK ((cert_status = 'revoked') = (revocation_seq > 0))
) STRICT, WITHOUT ROWID;

CREATE INDEX ca_ocsp_responses_refresh ON ca_ocsp_responses (refresh_after);
