//! The CA's schema, applied by the binary at start-up (after `store`'s).

use store::migrate::Migration;

/// The CA's own migrations (certificates, CRLs, CRL shards, OCSP responses signed ahead). Step 2 created the audit log, which now
/// belongs to `store` (its component's step 1); it is kept out of this list so that a new
/// database gets the table once, from `store`.
pub const MIGRATIONS: &[Migration] = store::migrations![
    1 => "0001_certificates.sql",
    3 => "0003_revoked_at.sql",
    4 => "0004_revocation_seq.sql",
    5 => "0005_revocation_seq_lookup.sql",
    6 => "0006_crl_covers_index.sql",
    8 => "0008_crl_shards.sql",
    9 => "0009_ocsp_responses.sql",
    10 => "0010_operator_profile.sql",
];

/// Brings `conn` to the CA's schema: `store`'s steps (the audit log), then the CA's own.
/// What a database needs before the CA uses it; the binary applies every component the same way.
pub fn apply(conn: &mut rusqlite::Connection) -> store::Result<usize> {
    Ok(
        store::migrate::apply(conn, "store", store::migrate::MIGRATIONS)?
            + store::migrate::apply(conn, "ca", MIGRATIONS)?,
    )
}
