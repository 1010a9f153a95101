-- covers_seq, added by 0004, is stored after der in each row: reading it walked the whole CRL
-- (45 MB at 1,000,000 revoked) at every start and for every new CRL. A covering index holds it
-- beside the number, and the queries name it (INDEXED BY), so the blob is never read for it.
CREATE INDEX ca_crls_covers ON ca_crls (number, covers_seq);
