//! The enrollment component's schema, applied by the binary at start-up.

use store::migrate::Migration;

/// `enroll`'s migrations, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_protocols.sql",
        sql: include_str!("../migrations/0001_protocols.sql"),
    },
    Migration {
        version: 2,
        name: "0002_outbox.sql",
        sql: include_str!("../migrations/0002_outbox.sql"),
    },
    Migration {
        version: 3,
        name: "0003_accessors.sql",
        sql: include_str!("../migrations/0003_accessors.sql"),
    },
];
