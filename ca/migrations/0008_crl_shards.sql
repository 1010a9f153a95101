-- Sharded CRLs (issue 14 §4). Each certificate issued from now on is assigned one shard, whose
-- CRL its CRL distribution point names; the shard is stored, so that changing [ca] crl_shards
-- never moves an existing certificate to another CRL. NULL: a certificate issued before shards
-- existed (or without a publication URL), covered by the full CRL (ca_crls) only.
ALTER TABLE ca_certificates ADD COLUMN crl_shard INTEGER CHECK (crl_shard >= 0);

-- A shard's CRL lists its revoked certificates that have not expired.
CREATE INDEX ca_certificates_shard_revoked ON ca_certificates (crl_shard, not_after)
    WHERE status = 'revoked';

-- The CRL in force of each shard, and only that one (the audit log keeps a line for every CRL
-- ever signed): one row per shard that a certificate names, written before that certificate
-- is signed. `number` is the shard's own CRL number sequence (RFC 5280 §5.2.3: monotonic per
-- CRL scope; each shard is its own scope, named by its Issuing Distribution Point).
-- `covers_seq`: the highest revocation_seq committed when it was signed. Metadata first, `der`
-- last, so that reading the metadata stops at the row's first page.
CREATE TABLE ca_crl_shards (
    shard       INTEGER PRIMARY KEY CHECK (shard >= 0),
    number      INTEGER NOT NULL CHECK (number > 0),
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL CHECK (next_update > this_update),
    entries     INTEGER NOT NULL,
    covers_seq  INTEGER NOT NULL,
    der         BLOB NOT NULL
) STRICT;

-- A shard's CRL is stale when a revocation in that shard is newer than what it covers: one
-- index lookup per shard (crl_shard IS NULL: the certificates only the full CRL covers).
CREATE INDEX ca_certificates_shard_seq ON ca_certificates (crl_shard, revocation_seq)
    WHERE revocation_seq IS NOT NULL;
