//! What every service of this crate does around its storage: write transactions taken up front,
//! and audit lines written inside them.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::OffsetDateTime;

/// A write transaction that holds the lock from its start, so that a read-then-write decision
/// (a compare-and-swap, an attempt count) cannot race another writer.
pub(crate) fn immediate(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Who writes the audit lines of a transaction, and when: made where the change is, so that
/// each line recorded names only what it changes.
pub(crate) struct Audit<'a, 'c> {
    tx: &'a Transaction<'c>,
    now: OffsetDateTime,
    actor: &'a str,
}

impl<'a, 'c> Audit<'a, 'c> {
    pub(crate) fn new(tx: &'a Transaction<'c>, now: OffsetDateTime, actor: &'a str) -> Self {
        Self { tx, now, actor }
    }

    /// Appends a line to the hash-chained audit log, in the transaction of the change it records.
    pub(crate) fn record(
        &self,
        action: &str,
        target: impl std::fmt::Display,
        details: &[(&str, &str)],
    ) -> Result<(), ca::Error> {
        store::audit::append(
            self.tx,
            self.now,
            &store::audit::Event {
                actor: self.actor,
                action,
                target: &target.to_string(),
                details,
            },
        )?;
        Ok(())
    }
}

/// Records one event in the sliding-window counter `bucket` (attempts of a client, codes sent
/// to a number…), forgets those before `since`, and returns how many fell since then. Stored,
/// so that limits survive a restart.
pub(crate) fn rate_event(
    tx: &Transaction<'_>,
    bucket: &str,
    now: OffsetDateTime,
    since: OffsetDateTime,
) -> rusqlite::Result<i64> {
    tx.execute(
        "DELETE FROM enroll_rate_events WHERE bucket = ?1 AND at < ?2",
        rusqlite::params![bucket, since.unix_timestamp()],
    )?;
    tx.execute(
        "INSERT INTO enroll_rate_events (bucket, at) VALUES (?1, ?2)",
        rusqlite::params![bucket, now.unix_timestamp()],
    )?;
    rate_count(tx, bucket, since)
}

/// How many events of `bucket` fell since `since`, without recording one.
pub(crate) fn rate_count(
    conn: &Connection,
    bucket: &str,
    since: OffsetDateTime,
) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM enroll_rate_events WHERE bucket = ?1 AND at >= ?2",
        rusqlite::params![bucket, since.unix_timestamp()],
        |r| r.get(0),
    )
}
