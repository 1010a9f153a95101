//! The enrollment component's schema, applied by the binary at start-up.

use store::migrate::Migration;

/// `enroll`'s migrations, in order.
pub const MIGRATIONS: &[Migration] = store::migrations![
    1 => "0001_protocols.sql",
    2 => "0002_outbox.sql",
    3 => "0003_accessors.sql",
    4 => "0004_annexe_pdfs.sql",
    5 => "0005_refold_match_keys.sql" then crate::access::refold_match_keys,
];
