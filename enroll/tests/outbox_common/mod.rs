//! Shared by the `outbox_*.rs` tests: a database holding the outbox's table alone, and messages
//! queued the way the services queue them, in a committed transaction.
#![allow(dead_code)]

use std::path::Path;

use enroll::outbox::{self, DeliveryStatus, Message, OutboxDetail, OutboxId, Transports};
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

/// Runs the worker at `T0` against a transport that fails: one attempt, failed, the message kept
/// pending for a retry 30 s later. Returns the error it recorded.
pub fn first_attempt_fails(conn: &mut Connection, transports: &Transports, id: OutboxId) -> String {
    let report = outbox::deliver_due(conn, transports, T0).expect("deliver_due failed");
    assert_eq!((report.delivered, report.failed), (0, 1));
    let detail = outbox::show(conn, id)
        .expect("show failed")
        .expect("the message is in the outbox");
    assert_eq!(detail.summary.status, DeliveryStatus::Pending);
    assert_eq!(detail.summary.attempts, 1);
    assert_eq!(
        detail.summary.next_attempt_at,
        Some(T0 + time::Duration::seconds(30))
    );
    detail
        .summary
        .last_error
        .expect("a failed attempt records its error")
}

/// Runs the worker at `at`, after one failed attempt: the message goes on the second.
pub fn second_attempt_delivers(
    conn: &mut Connection,
    transports: &Transports,
    id: OutboxId,
    at: OffsetDateTime,
) -> OutboxDetail {
    let report = outbox::deliver_due(conn, transports, at).expect("deliver_due failed");
    assert_eq!((report.delivered, report.failed), (1, 0));
    let detail = outbox::show(conn, id)
        .expect("show failed")
        .expect("the message is in the outbox");
    assert_eq!(detail.summary.status, DeliveryStatus::Delivered);
    assert_eq!(detail.summary.attempts, 2);
    detail
}
