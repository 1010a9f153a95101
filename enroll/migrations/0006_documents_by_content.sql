-- Replacing or purging a supporting document asks whether any other version still refers to
-- the same content (its file is then kept): an index rather than a scan of every document.
CREATE INDEX enroll_documents_by_content ON enroll_documents (sha256);
