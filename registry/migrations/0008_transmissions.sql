-- Transmissions of results (issue 16 §1, §2): a whole file sent by a dosimetry body, a PCR or a
-- physician, its récépissé, the lines kept pending until the employer declares the worker, and
-- the sender's reference of each result (what a duplicate and a correction are known by).

CREATE TABLE registry_transmissions (
    id             INTEGER PRIMARY KEY,
    -- RT-AAAA-NNNNNNNNN: the year of reception and this row's id on nine digits.
    number         TEXT NOT NULL UNIQUE CHECK (number GLOB 'RT-[0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'),
    -- accessor:<habilitation> or organisme:<name>: the same file from the same sender is the
    -- same transmission, whatever certificate of theirs sent it again.
    sender         TEXT NOT NULL CHECK (sender GLOB 'accessor:?*' OR sender GLOB 'organisme:?*'),
    sender_subject TEXT NOT NULL,
    sender_serial  TEXT NOT NULL,
    sha256         TEXT NOT NULL CHECK (length(sha256) = 64),
    received_at    TEXT NOT NULL,
    format         TEXT NOT NULL CHECK (format = 'csv' OR format = 'json'),
    lines          INTEGER NOT NULL CHECK (lines >= 0),
    accepted       INTEGER NOT NULL CHECK (accepted >= 0),
    pending        INTEGER NOT NULL CHECK (pending >= 0),
    rejected       INTEGER NOT NULL CHECK (rejected >= 0),
    -- The canonical JSON the receipt key signs, recorded before it is signed.
    document       BLOB NOT NULL,
    -- The signed récépissé (CMS SignedData, DER); NULL until the signer answered.
    recepisse      BLOB,
    signed_at      TEXT
) STRICT;

CREATE UNIQUE INDEX registry_transmissions_file ON registry_transmissions (sender, sha256);
CREATE INDEX registry_transmissions_received ON registry_transmissions (received_at);

-- A line for a NIR its establishment has not declared (yet). Attached (made a result) when the
-- employer declares the worker; listed for the operators after a delay.
CREATE TABLE registry_transmission_pending (
    id               INTEGER PRIMARY KEY,
    transmission_id  INTEGER NOT NULL REFERENCES registry_transmissions (id),
    line             INTEGER NOT NULL,
    establishment_id INTEGER NOT NULL,
    nir              TEXT NOT NULL CHECK (length(nir) = 13),
    -- Folded "LAST FIRST" and birth date, compared with the person once declared.
    search_name      TEXT NOT NULL,
    birth_date       TEXT CHECK (birth_date = date(birth_date)),
    kind             TEXT NOT NULL,
    period_start     TEXT NOT NULL CHECK (period_start = date(period_start)),
    period_end       TEXT NOT NULL CHECK (period_end = date(period_end)),
    -- The result as validated (JSON of the dose input), recorded as is once attached.
    result           TEXT NOT NULL,
    reference        TEXT NOT NULL,
    replaces_ref     TEXT,
    sender           TEXT NOT NULL CHECK (sender = 'body' OR sender = 'pcr' OR sender = 'physician'),
    source           TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    -- pending, attached (dose_id set), or refused once declared (reason set).
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state = 'pending' OR state = 'attached' OR state = 'refused'),
    dose_id          INTEGER REFERENCES registry_doses (id),
    reason           TEXT,
    settled_at       TEXT
) STRICT;

CREATE INDEX registry_transmission_pending_nir
    ON registry_transmission_pending (establishment_id, nir) WHERE state = 'pending';
CREATE INDEX registry_transmission_pending_received
    ON registry_transmission_pending (received_at) WHERE state = 'pending';

ALTER TABLE registry_doses ADD COLUMN reference TEXT;
ALTER TABLE registry_doses ADD COLUMN transmission_id INTEGER REFERENCES registry_transmissions (id);

-- One result per sender reference, worker, kind and period: the same line sent again is a
-- duplicate, not a second result.
CREATE UNIQUE INDEX registry_doses_reference
    ON registry_doses (worker_id, source, reference, kind, period_start, period_end)
    WHERE reference IS NOT NULL;
