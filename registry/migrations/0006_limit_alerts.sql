-- Limit alerts (issue 15 §3): a sum over 12 consecutive months, across every employer of a
-- person, above a limit of registry/src/limits.rs. Raised when a new result makes it so; seen
-- by the physicians and PCRs of the establishments concerned (those whose results are in the
-- window, and the one whose result raised it); acknowledged by a physician.

CREATE TABLE registry_alerts (
    id              INTEGER PRIMARY KEY,
    person_id       INTEGER NOT NULL REFERENCES registry_persons (id),
    limit_code      TEXT NOT NULL CHECK (limit_code = 'effective' OR limit_code = 'skin'
                                         OR limit_code = 'category_b'
                                         OR limit_code = 'category_b_skin'),
    window_from     TEXT NOT NULL CHECK (window_from = date(window_from)),
    window_to       TEXT NOT NULL CHECK (window_to = date(window_to)),
    -- Microsieverts.
    sum_usv         INTEGER NOT NULL CHECK (sum_usv >= 0),
    limit_usv       INTEGER NOT NULL CHECK (limit_usv > 0),
    -- The result that raised it.
    dose_id         INTEGER NOT NULL REFERENCES registry_doses (id),
    raised_at       TEXT NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
) STRICT;

-- One alert awaiting acknowledgement per person and limit: later results above the same limit
-- add nothing until a physician has seen it.
CREATE INDEX registry_alerts_open ON registry_alerts (person_id, limit_code)
    WHERE acknowledged_at IS NULL;

CREATE TABLE registry_alert_establishments (
    alert_id         INTEGER NOT NULL REFERENCES registry_alerts (id),
    establishment_id INTEGER NOT NULL,
    -- The person's employment there, for the pages' links.
    worker_id        INTEGER NOT NULL REFERENCES registry_workers (id),
    PRIMARY KEY (establishment_id, alert_id)
) STRICT, WITHOUT ROWID;
