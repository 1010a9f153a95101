-- Four eyes (issue 17): with [access] four_eyes, an approval (and the revocation of an
-- operator) takes two different operators. The first one's request waits here, bound to what
-- it is about (a protocol's version, an operator); the second, by someone else, carries it out.
CREATE TABLE enroll_pending_acts (
    act        TEXT NOT NULL CHECK (act IN ('approve', 'revoke-operator')),
    subject    TEXT NOT NULL,
    -- Who asked first: `operator:<id>` (console) or `operator:cli`.
    asked_by   TEXT NOT NULL,
    -- Their name for the audit log and the pages.
    asked_name TEXT NOT NULL,
    asked_at   INTEGER NOT NULL,
    PRIMARY KEY (act, subject)
) STRICT;
