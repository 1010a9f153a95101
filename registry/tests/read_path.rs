//! Issue 15 §5: reads do not queue behind writes. A read runs in a read transaction and its
//! audit entries are committed by the group writer before the read returns: while a read is
//! under way, another connection can still write; a read whose entries cannot be committed
//! shows nothing; concurrent reads are each traced once.

#[path = "support.rs"]
mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use registry::{Registry, WorkerQuery};
use store::Clock;
use support::*;
use time::macros::datetime;
use time::OffsetDateTime;

/// A clock that, each time the registry reads it (inside a request's transaction, once the
/// transaction has begun), tries to take SQLite's write lock from another connection without
/// waiting, and counts the times it could not.
#[derive(Debug)]
struct LockProbe {
    db: PathBuf,
    armed: Mutex<bool>,
    blocked: AtomicUsize,
    probed: AtomicUsize,
}

impl Clock for LockProbe {
    fn now(&self) -> OffsetDateTime {
        if *self.armed.lock().unwrap_or_else(|p| p.into_inner()) {
            self.probed.fetch_add(1, Ordering::SeqCst);
            let conn = rusqlite::Connection::open(&self.db).expect("open failed");
            conn.busy_timeout(Duration::ZERO)
                .expect("busy_timeout failed");
            match conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
                Ok(()) => {}
                Err(_) => {
                    self.blocked.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        datetime!(2025-06-30 10:00 UTC)
    }
}

#[test]
fn a_read_under_way_leaves_the_write_lock_free_and_a_change_still_takes_it() {
    let env = env();
    let id = seed_worker_id(&env);
    let probe = Arc::new(LockProbe {
        db: env.pool.path().to_owned(),
        armed: Mutex::new(true),
        blocked: AtomicUsize::new(0),
        probed: AtomicUsize::new(0),
    });
    let registry = Registry::new(env.pool.clone(), probe.clone());

    registry.worker(&pcr(), EST, id).expect("worker failed");
    registry
        .search_workers(&cse(), EST, &WorkerQuery::default())
        .expect("search_workers failed");
    let reads = probe.probed.load(Ordering::SeqCst);
    assert!(reads >= 2, "the clock was not read during the reads");
    assert_eq!(
        probe.blocked.load(Ordering::SeqCst),
        0,
        "a read held SQLite's write lock"
    );

    // The probe is not blind: a change holds the lock while it works.
    let mut change = seed_worker();
    change.operation = Some(registry::Operation::Modify);
    change.new_card = false;
    change.other_name = Some("MARTIN".into());
    registry
        .apply_worker(&cse(), EST, &change)
        .expect("apply_worker failed");
    assert!(
        probe.blocked.load(Ordering::SeqCst) >= 1,
        "the probe never saw the write lock taken"
    );

    // Both reads are in the log, after the worker's creation, and the chain holds.
    let actions: Vec<String> = audit_rows(&env).into_iter().map(|r| r.1).collect();
    assert!(
        actions.iter().any(|a| a == "registry.worker.read"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "registry.workers.search"),
        "{actions:?}"
    );
    verify_audit(&env);
}

#[test]
fn a_read_whose_trace_cannot_be_committed_shows_nothing() {
    let env = env();
    let id = seed_worker_id(&env);
    let before = audit_rows(&env).len();
    let conn = env.pool.get().expect("get failed");
    conn.execute_batch("ALTER TABLE audit_log RENAME TO audit_log_away")
        .expect("rename failed");
    let read = env.registry.worker(&pcr(), EST, id);
    assert!(read.is_err(), "a read was shown without its trace");
    conn.execute_batch("ALTER TABLE audit_log_away RENAME TO audit_log")
        .expect("rename failed");
    drop(conn);
    assert_eq!(audit_rows(&env).len(), before);
    // And reads are traced again once the log can be written.
    env.registry.worker(&pcr(), EST, id).expect("worker failed");
    assert_eq!(audit_rows(&env).len(), before + 1);
    verify_audit(&env);
}

#[test]
fn concurrent_reads_are_each_traced_once() {
    let env = env();
    let id = seed_worker_id(&env);
    let before = audit_rows(&env).len();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let registry = env.registry.clone();
            s.spawn(move || {
                for _ in 0..25 {
                    registry.worker(&pcr(), EST, id).expect("worker failed");
                }
            });
        }
    });
    let rows = audit_rows(&env);
    assert_eq!(rows.len(), before + 200);
    assert_eq!(
        rows.iter()
            .filter(|r| r.1 == "registry.worker.read")
            .count(),
        200
    );
    assert_eq!(verify_audit(&env), u64::try_from(before + 200).unwrap());
}
