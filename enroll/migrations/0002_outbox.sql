-- Durable outbox of e-mails and SMS (see enroll::outbox). A row is written in the transaction of
-- the state change it announces; a worker delivers it at least once, retrying with backoff, and
-- never drops it. Times are Unix seconds.
CREATE TABLE enroll_outbox (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('mail', 'sms')),
    -- E-mail address, or mobile number in E.164 form.
    recipient       TEXT NOT NULL CHECK (length(recipient) > 0),
    recipient_name  TEXT,
    subject         TEXT,
    -- May hold a code or a password: erased (NULL) as soon as the message is delivered.
    body            TEXT,
    -- RFC 5322 Message-ID fixed at enqueue: every attempt carries the same one.
    message_id      TEXT NOT NULL UNIQUE CHECK (message_id LIKE '<%@%>'),
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
    -- Attempts started, counted when a worker claims the message.
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- While pending: when the message is due. A worker claiming it pushes it one lease ahead,
    -- so that no other worker takes it meanwhile, and a crash only delays it.
    next_attempt_at INTEGER NOT NULL,
    -- Why the last attempt failed; never holds the body.
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    transport       TEXT CHECK (transport IN ('file', 'smtp', 'http', 'memory')),
    -- Where the file transport wrote the message.
    file_path       TEXT,
    CHECK ((channel = 'mail') = (subject IS NOT NULL)),
    CHECK (channel = 'mail' OR recipient_name IS NULL),
    CHECK ((status = 'pending') = (body IS NOT NULL)),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CHECK ((status = 'delivered') = (transport IS NOT NULL)),
    CHECK (file_path IS NULL OR transport = 'file')
) STRICT;

-- The worker's question: which pending messages are due, oldest first.
CREATE INDEX enroll_outbox_due ON enroll_outbox (next_attempt_at, id) WHERE status = 'pending';
