//! Group commit of audit entries for reads.
//!
//! A read must leave its trace in the audit log before its answer leaves, and must not take
//! SQLite's write lock for the time it reads: a deep page held the lock for seconds, and every
//! other read queued behind it. So a read runs in a read transaction, collects its entries, and
//! hands them to [`AuditWriter::write`], which blocks until they are committed. One thread owns
//! the writing: it takes every batch waiting at that moment and commits them together in one
//! IMMEDIATE transaction (one fsync for many reads), then wakes each caller with the result.
//! A caller whose entries could not be committed gets the error, and shows nothing: no read is
//! shown without its trace, and none is traced twice (a batch is written once, or not at all).

use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;

use rusqlite::TransactionBehavior;
use time::OffsetDateTime;

use crate::audit::{self, Event};
use crate::pool::Pool;
use crate::{Error, Result};

/// Batches committed in one transaction at most: bounds the time one commit holds the lock.
const MAX_BATCHES: usize = 512;

/// An audit entry that owns its text, to cross to the writing thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedEvent {
    /// When it happened.
    pub at: OffsetDateTime,
    /// See [`Event::actor`].
    pub actor: String,
    /// See [`Event::action`].
    pub action: String,
    /// See [`Event::target`].
    pub target: String,
    /// See [`Event::details`].
    pub details: Vec<(String, String)>,
}

impl OwnedEvent {
    /// Copies `event`, which happened at `at`.
    pub fn new(at: OffsetDateTime, event: &Event<'_>) -> Self {
        Self {
            at,
            actor: event.actor.to_owned(),
            action: event.action.to_owned(),
            target: event.target.to_owned(),
            details: event
                .details
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

/// One caller's entries and where to tell it they are committed.
struct Batch {
    events: Vec<OwnedEvent>,
    done: SyncSender<std::result::Result<(), String>>,
}

/// The handle callers share; the thread ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct AuditWriter {
    queue: Sender<Batch>,
}

impl AuditWriter {
    /// Starts the writing thread over `pool`.
    pub fn start(pool: Arc<Pool>) -> Result<Self> {
        let (queue, batches) = mpsc::channel();
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || run(&pool, &batches))
            .map_err(|e| Error::AuditUnwritten(e.to_string()))?;
        Ok(Self { queue })
    }

    /// Commits `events` (in this order, after every entry already committed) and returns once
    /// they are in the database, or with the error that kept them out. Blocks: call it where
    /// blocking is allowed.
    pub fn write(&self, events: Vec<OwnedEvent>) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, outcome) = mpsc::sync_channel(1);
        self.queue
            .send(Batch { events, done })
            .map_err(|_| Error::AuditUnwritten("le fil d'écriture s'est arrêté".into()))?;
        outcome
            .recv()
            .map_err(|_| Error::AuditUnwritten("le fil d'écriture s'est arrêté".into()))?
            .map_err(Error::AuditUnwritten)
    }
}

fn run(pool: &Pool, batches: &Receiver<Batch>) {
    while let Ok(first) = batches.recv() {
        let mut group = vec![first];
        while group.len() < MAX_BATCHES {
            match batches.try_recv() {
                Ok(b) => group.push(b),
                Err(_) => break,
            }
        }
        let outcome = commit(pool, &group).map_err(|e| {
            tracing::error!(error = %e, batches = group.len(), "journal d'audit : lectures non tracées");
            e.to_string()
        });
        for batch in group {
            let _ = batch.done.send(outcome.clone());
        }
    }
}

fn commit(pool: &Pool, group: &[Batch]) -> Result<()> {
    let mut conn = pool.get()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for event in group.iter().flat_map(|b| &b.events) {
        let details: Vec<(&str, &str)> = event
            .details
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        audit::append(
            &tx,
            event.at,
            &Event {
                actor: &event.actor,
                action: &event.action,
                target: &event.target,
                details: &details,
            },
        )?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate;

    fn pool() -> (tempfile::TempDir, Arc<Pool>) {
        let dir = tempfile::tempdir().unwrap();
        let pool = Arc::new(Pool::new(dir.path().join("db.sqlite"), 8));
        migrate::apply(&mut pool.get().unwrap(), "store", migrate::MIGRATIONS).unwrap();
        (dir, pool)
    }

    fn event(n: usize) -> OwnedEvent {
        OwnedEvent::new(
            OffsetDateTime::UNIX_EPOCH,
            &Event {
                actor: "accessor:42000",
                action: "registry.read",
                target: &format!("worker:{n}"),
                details: &[("n", &n.to_string())],
            },
        )
    }

    #[test]
    fn every_entry_of_concurrent_callers_is_committed_once_and_the_chain_holds() {
        let (_dir, pool) = pool();
        let writer = AuditWriter::start(pool.clone()).unwrap();
        std::thread::scope(|s| {
            for t in 0..8 {
                let writer = writer.clone();
                s.spawn(move || {
                    for i in 0..50 {
                        writer
                            .write(vec![event(t * 1000 + i), event(t * 1000 + i + 500)])
                            .unwrap();
                    }
                });
            }
        });
        let conn = pool.get().unwrap();
        let verified = audit::verify(&conn).unwrap();
        assert_eq!(verified.entries, 8 * 50 * 2);
        let distinct: i64 = conn
            .query_row("SELECT COUNT(DISTINCT target) FROM audit_log", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(distinct, 800);
        // A caller's entries stay together and in order.
        let pairs: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1
                 WHERE CAST(substr(a.target, 8) AS INTEGER) % 1000 < 500
                   AND CAST(substr(b.target, 8) AS INTEGER) = CAST(substr(a.target, 8) AS INTEGER) + 500",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(pairs, 400);
    }

    #[test]
    fn a_batch_that_cannot_be_committed_is_reported_to_its_caller_and_written_nowhere() {
        let (_dir, pool) = pool();
        let writer = AuditWriter::start(pool.clone()).unwrap();
        writer.write(vec![event(1)]).unwrap();
        // The log is out of reach: the next batch cannot be committed.
        let conn = pool.get().unwrap();
        conn.execute_batch("ALTER TABLE audit_log RENAME TO audit_log_away")
            .unwrap();
        let failed = writer.write(vec![event(2), event(3)]);
        assert!(
            matches!(failed, Err(Error::AuditUnwritten(_))),
            "{failed:?}"
        );
        conn.execute_batch("ALTER TABLE audit_log_away RENAME TO audit_log")
            .unwrap();
        drop(conn);
        // Nothing of the failed batch was written, and the writer goes on afterwards.
        writer.write(vec![event(4)]).unwrap();
        let conn = pool.get().unwrap();
        let targets: Vec<String> = conn
            .prepare("SELECT target FROM audit_log ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(targets, ["worker:1", "worker:4"]);
        assert_eq!(audit::verify(&conn).unwrap().entries, 2);
    }
}
