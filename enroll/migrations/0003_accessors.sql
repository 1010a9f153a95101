-- Accessors (people holding a habilitation number), their attachments, certificates,
-- withdrawals and access codes.

-- Habilitation numbers come from here, in sequence, and are never reused.
CREATE TABLE enroll_sequences (
    name TEXT PRIMARY KEY,
    next INTEGER NOT NULL CHECK (next > 0)
) STRICT;

CREATE TABLE enroll_accessors (
    habilitation      INTEGER PRIMARY KEY CHECK (habilitation > 0),
    last_name         TEXT NOT NULL,
    first_name        TEXT NOT NULL,
    -- Folded (upper-case, no accents) for matching a person named without a number.
    match_key         TEXT,
    email             TEXT NOT NULL,
    civility          TEXT CHECK (civility IN ('M', 'Mme')),
    birth_date        TEXT,
    birth_departement TEXT,
    created_at        INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX enroll_accessors_match ON enroll_accessors (match_key)
    WHERE match_key IS NOT NULL;

-- One person, many attachments: (establishment = protocol, role).
CREATE TABLE enroll_attachments (
    id              INTEGER PRIMARY KEY,
    habilitation    INTEGER NOT NULL REFERENCES enroll_accessors (habilitation),
    protocol_id     INTEGER NOT NULL REFERENCES enroll_protocols (id),
    role            TEXT NOT NULL CHECK (role IN ('CSE', 'PCR', 'MDT')),
    sends_dosimetry INTEGER NOT NULL DEFAULT 0 CHECK (sends_dosimetry IN (0, 1)),
    since_version   INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    ended_at        INTEGER
) STRICT;

CREATE UNIQUE INDEX enroll_attachments_active
    ON enroll_attachments (habilitation, protocol_id, role) WHERE ended_at IS NULL;
CREATE INDEX enroll_attachments_protocol ON enroll_attachments (protocol_id);

-- The certificates of each person (serials of ca_certificates).
--   preparing:   recorded, not yet signed (an approval interrupted here is redone)
--   issued:      signed, its withdrawal pending
--   delivered:   withdrawn by its holder
--   revoked:     revoked (including certificates never withdrawn)
CREATE TABLE enroll_certificates (
    serial       BLOB PRIMARY KEY,
    habilitation INTEGER NOT NULL REFERENCES enroll_accessors (habilitation),
    state        TEXT NOT NULL CHECK (state IN ('preparing', 'issued', 'delivered', 'revoked')),
    replaces     BLOB,
    not_after    INTEGER,
    created_at   INTEGER NOT NULL,
    expiry_notified_at INTEGER
) STRICT;

CREATE INDEX enroll_certificates_person ON enroll_certificates (habilitation, state);

-- One-shot withdrawals: only the token's and the code's keyed hashes are kept; the .p12 only
-- until it is taken or expires.
CREATE TABLE enroll_withdrawals (
    id              INTEGER PRIMARY KEY,
    habilitation    INTEGER NOT NULL REFERENCES enroll_accessors (habilitation),
    serial          BLOB NOT NULL REFERENCES enroll_certificates (serial),
    token_hash      BLOB NOT NULL UNIQUE,
    code_hmac       BLOB,
    p12             BLOB,
    p12_profile     TEXT NOT NULL CHECK (p12_profile IN ('modern', 'compat')),
    status          TEXT NOT NULL CHECK (status IN ('preparing', 'pending', 'used', 'expired',
                                                    'locked', 'superseded')),
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    closed_at       INTEGER,
    CHECK (status IN ('preparing', 'pending', 'locked') OR p12 IS NULL)
) STRICT;

CREATE INDEX enroll_withdrawals_person ON enroll_withdrawals (habilitation, status);
CREATE INDEX enroll_withdrawals_due ON enroll_withdrawals (status, expires_at);

CREATE TABLE enroll_access_codes (
    habilitation    INTEGER PRIMARY KEY REFERENCES enroll_accessors (habilitation),
    code_hmac       BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'locked')),
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    updated_at      INTEGER NOT NULL
) STRICT;
