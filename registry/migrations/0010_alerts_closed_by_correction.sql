-- An alert whose results were corrected below its limit is closed by that correction (issue 15):
-- it no longer awaits acknowledgement, and says which result closed it and when. `closed_at`
-- and `closed_by_dose` are both set or both empty (the service writes them together).

ALTER TABLE registry_alerts ADD COLUMN closed_at TEXT;
ALTER TABLE registry_alerts ADD COLUMN closed_by_dose INTEGER REFERENCES registry_doses (id);

-- An alert awaits acknowledgement while neither acknowledged nor closed.
DROP INDEX registry_alerts_open;
CREATE INDEX registry_alerts_open ON registry_alerts (person_id, limit_code)
    WHERE acknowledged_at IS NULL AND closed_at IS NULL;
