//! What every service of this crate does around its storage: write transactions taken up front,
//! and audit lines written inside them.

use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::OffsetDateTime;

/// A write transaction that holds the lock from its start, so that a read-then-write decision
/// (a compare-and-swap, an attempt count) cannot race another writer.
pub(crate) fn immediate(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Appends a line to the hash-chained audit log, in the transaction of the change it records.
pub(crate) fn audit(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    actor: &str,
    action: &str,
    target: &str,
    details: &[(&str, &str)],
) -> Result<(), ca::Error> {
    ca::audit::append(
        tx,
        now,
        &ca::audit::Event {
            actor,
            action,
            target,
            details,
        },
    )?;
    Ok(())
}
