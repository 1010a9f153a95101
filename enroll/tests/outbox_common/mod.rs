//! Shared by the `outbox_*.rs` tests: a database holding the outbox's table alone, and messages
//! queued the way the services queue them, in a committed transaction.
#![allow(dead_code)]

use std::path::Path;

use enroll::outbox::{self, Message, OutboxId};
use rusqlite::Connection;
use time::macros::datetime;
use time::OffsetDateTime;

/// The tests' clock.
pub const T0: OffsetDateTime = datetime!(2025-03-14 09:30:00 UTC);

/// Applies the outbox's migration, alone, to `conn`.
pub fn migrate(conn: &mut Connection) {
    store::migrate::apply(
        conn,
        "enroll-outbox-test",
        &[store::migrate::Migration {
            version: 2,
            name: "0002_outbox.sql",
            sql: include_str!("../../migrations/0002_outbox.sql"),
        }],
    )
    .expect("the outbox migration failed");
}

/// `siseri.db` in `dir`, with the outbox's table.
pub fn database(dir: &Path) -> Connection {
    let mut conn = Connection::open(dir.join("siseri.db")).expect("Connection::open failed");
    migrate(&mut conn);
    conn
}

/// Queues `message` at `at` in a transaction of its own.
pub fn queue(conn: &mut Connection, message: &Message, at: OffsetDateTime) -> OutboxId {
    let tx = conn.transaction().expect("transaction failed");
    let id = outbox::enqueue(&tx, message, at).expect("enqueue failed");
    tx.commit().expect("commit failed");
    id
}
