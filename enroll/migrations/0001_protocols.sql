-- PASS: protocols, their versions (drafts, signed, approved…), documents, signature codes.

-- A protocol exists from its first signature: it then has a number and a key name (nom clé).
CREATE TABLE enroll_protocols (
    id         INTEGER PRIMARY KEY,
    number     TEXT NOT NULL UNIQUE,
    key_name   TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Every draft and every signed version. `id` is the random public id used in URLs.
CREATE TABLE enroll_versions (
    id              TEXT PRIMARY KEY,
    protocol_id     INTEGER REFERENCES enroll_protocols (id),
    renewal_of      INTEGER REFERENCES enroll_protocols (id),
    version         INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'signed', 'approved', 'rejected',
                                                    'superseded', 'cancelled')),
    input           TEXT NOT NULL,
    wizard_step     TEXT NOT NULL DEFAULT 'preamble',
    token_hash      BLOB NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    signed_at       INTEGER,
    document_sha256 TEXT,
    annexe_text     TEXT,
    evidence        TEXT,
    decided_at      INTEGER,
    decided_by      TEXT,
    reject_reason   TEXT,
    CHECK (status IN ('draft', 'cancelled')
           OR (signed_at IS NOT NULL AND protocol_id IS NOT NULL AND version IS NOT NULL
               AND document_sha256 IS NOT NULL AND annexe_text IS NOT NULL
               AND evidence IS NOT NULL)),
    UNIQUE (protocol_id, version)
) STRICT;

CREATE INDEX enroll_versions_status ON enroll_versions (status, signed_at);

-- What was signed never changes.
CREATE TRIGGER enroll_versions_signed_are_immutable
BEFORE UPDATE OF input, annexe_text, document_sha256, evidence, signed_at, version, protocol_id
ON enroll_versions
WHEN OLD.status NOT IN ('draft')
BEGIN
    SELECT RAISE(ABORT, 'a signed protocol version is immutable');
END;

-- Supporting documents, stored content-addressed under documents/.
CREATE TABLE enroll_documents (
    version_id  TEXT NOT NULL REFERENCES enroll_versions (id),
    kind        TEXT NOT NULL CHECK (kind IN ('kbis', 'identity')),
    sha256      TEXT NOT NULL CHECK (length(sha256) = 64),
    media_type  TEXT NOT NULL CHECK (media_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size        INTEGER NOT NULL CHECK (size > 0),
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (version_id, kind)
) STRICT;

CREATE TRIGGER enroll_documents_frozen_after_signature
BEFORE UPDATE ON enroll_documents
WHEN (SELECT status FROM enroll_versions WHERE id = OLD.version_id) <> 'draft'
BEGIN
    SELECT RAISE(ABORT, 'the documents of a signed version are immutable');
END;

-- The pending SMS signature code of a draft: only its keyed hash, bound to the SHA-256 of the
-- exact Annexe 1 shown when it was sent.
CREATE TABLE enroll_signature_codes (
    version_id      TEXT PRIMARY KEY REFERENCES enroll_versions (id),
    code_hmac       BLOB NOT NULL,
    annexe_sha256   TEXT NOT NULL,
    phone           TEXT NOT NULL,
    sent_at         INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
    consent_at      INTEGER NOT NULL
) STRICT;

-- Attempts counted over a sliding window (code requests, renewal look-ups…).
CREATE TABLE enroll_rate_events (
    bucket TEXT NOT NULL,
    at     INTEGER NOT NULL
) STRICT;

CREATE INDEX enroll_rate_events_bucket ON enroll_rate_events (bucket, at);
