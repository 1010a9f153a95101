-- Operators of the console (issue 17): instructeurs and administrateurs, each with certificates
-- of AC SISERI's `operator` profile, delivered by a one-shot withdrawal like people's.
CREATE TABLE enroll_operators (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('instructeur', 'administrateur')),
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    -- Set when the operator is revoked: no certificate of theirs opens the console any more.
    revoked_at INTEGER
) STRICT;

-- Their certificates (serials of ca_certificates, profile 'operator').
--   preparing: recorded, not yet signed;  issued: awaiting withdrawal;
--   delivered: withdrawn;                 revoked.
CREATE TABLE enroll_operator_certificates (
    serial      BLOB PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES enroll_operators (id),
    state       TEXT NOT NULL CHECK (state IN ('preparing', 'issued', 'delivered', 'revoked')),
    not_after   INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX enroll_operator_certificates_operator ON enroll_operator_certificates (operator_id);

-- Their one-shot withdrawals: keyed hashes of the token and code; the .p12 until taken.
CREATE TABLE enroll_operator_withdrawals (
    id              INTEGER PRIMARY KEY,
    operator_id     INTEGER NOT NULL REFERENCES enroll_operators (id),
    serial          BLOB NOT NULL REFERENCES enroll_operator_certificates (serial),
    token_hash      BLOB NOT NULL UNIQUE,
    code_hmac       BLOB NOT NULL,
    p12             BLOB,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'used', 'expired', 'locked',
                                                    'superseded')),
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    closed_at       INTEGER,
    CHECK (status IN ('pending', 'locked') OR p12 IS NULL)
) STRICT;

CREATE INDEX enroll_operator_withdrawals_operator ON enroll_operator_withdrawals (operator_id);
