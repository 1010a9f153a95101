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
            step: None,
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

/// Runs the worker at `at` with `id` the only message due: checks what became of the attempt,
/// then the message's status and count of attempts, and returns the message.
pub fn attempt(
    conn: &mut Connection,
    transports: &Transports,
    id: OutboxId,
    at: OffsetDateTime,
    (status, attempts): (DeliveryStatus, u32),
) -> OutboxDetail {
    let report = outbox::deliver_due(conn, transports, at).expect("deliver_due failed");
    let delivered = status == DeliveryStatus::Delivered;
    assert_eq!(
        (report.delivered, report.failed),
        (usize::from(delivered), usize::from(!delivered))
    );
    let detail = outbox::show(conn, id)
        .expect("show failed")
        .expect("the message is in the outbox");
    assert_eq!(detail.summary.status, status);
    assert_eq!(detail.summary.attempts, attempts);
    detail
}

/// The first attempt, at `T0`, against a transport that fails: the message waits 30 s for the
/// next. Returns the error it recorded.
pub fn first_attempt_fails(conn: &mut Connection, transports: &Transports, id: OutboxId) -> String {
    let detail = attempt(conn, transports, id, T0, (DeliveryStatus::Pending, 1));
    assert_eq!(
        detail.summary.next_attempt_at,
        Some(T0 + time::Duration::seconds(30))
    );
    detail
        .summary
        .last_error
        .expect("a failed attempt records its error")
}

/// The second attempt, at `at`, after a failed first: the message goes.
pub fn second_attempt_delivers(
    conn: &mut Connection,
    transports: &Transports,
    id: OutboxId,
    at: OffsetDateTime,
) -> OutboxDetail {
    attempt(conn, transports, id, at, (DeliveryStatus::Delivered, 2))
}
