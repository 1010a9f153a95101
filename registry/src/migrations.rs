//! The registry's schema, applied by the binary at start-up (after the CA's, whose audit log the
//! registry writes to).

use store::migrate::Migration;

/// `registry`'s migrations, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_workers_doses.sql",
        sql: include_str!("../migrations/0001_workers_doses.sql"),
    },
    Migration {
        version: 2,
        name: "0002_nir_index.sql",
        sql: include_str!("../migrations/0002_nir_index.sql"),
    },
];
