-- The Annexe 1 PDF of each signed version, made once (at signature, or at the first download
-- for versions signed before this table existed) and served as stored: it is the signed
-- document and never changes, and rendering a large one costs seconds of CPU.
CREATE TABLE enroll_annexe_pdfs (
    version_id TEXT PRIMARY KEY REFERENCES enroll_versions (id),
    pdf        BLOB NOT NULL
) STRICT;
