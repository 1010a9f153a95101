-- The relying parties' revocation set is refreshed incrementally by revocation time.
CREATE INDEX ca_certificates_revoked_at ON ca_certificates (revoked_at) WHERE status = 'revoked';
