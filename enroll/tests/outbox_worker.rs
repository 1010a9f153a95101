//! The worker: concurrent deliveries never send a message twice, and the delivery thread runs,
//! wakes, retries and stops as the daemon needs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use enroll::outbox::{
    self, DeliveryStatus, MemoryTransport, Message, OutboxId, StoredMessage, Transport,
    TransportError, TransportKind, Transports, WorkerSignal,
};
use rusqlite::Connection;
use time::OffsetDateTime;
#[path = "outbox_common/mod.rs"]
mod outbox_common;

use outbox_common::{migrate, T0};

fn database(path: &Path) -> Connection {
    let mut conn = Connection::open(path).expect("Connection::open failed");
    conn.busy_timeout(Duration::from_secs(30))
        .expect("busy_timeout failed");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("pragma_update failed");
    migrate(&mut conn);
    conn
}

fn mail(n: usize) -> Message {
    Message::Mail {
        to: format!("personne{n}@cabinet-durand.example"),
        to_name: None,
        subject: format!("Message {n}"),
        body: format!("Corps {n}"),
    }
}

/// Counts sends per Message-ID, slowly enough for two workers to interleave.
#[derive(Clone, Default)]
struct CountingTransport {
    sends: Arc<Mutex<HashMap<String, usize>>>,
}

impl Transport for CountingTransport {
    fn send(&self, msg: &StoredMessage) -> Result<(), TransportError> {
        std::thread::sleep(Duration::from_millis(3));
        *self
            .sends
            .lock()
            .expect("lock failed")
            .entry(msg.message_id.clone())
            .or_default() += 1;
        Ok(())
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Memory
    }
}

#[test]
fn two_concurrent_workers_deliver_each_message_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("siseri.db");
    let mut conn = database(&db);
    let total = 40;
    {
        let tx = conn.transaction().unwrap();
        for n in 0..total {
            outbox::enqueue(&tx, &mail(n), T0).unwrap();
        }
        tx.commit().unwrap();
    }
    drop(conn);

    let counting = CountingTransport::default();
    let start = Arc::new(Barrier::new(2));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let db = db.clone();
            let counting = counting.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let mut conn = database(&db);
                let transports = Transports::new(counting.clone(), counting);
                start.wait();
                outbox::deliver_due(&mut conn, &transports, T0).unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();

    assert_eq!(reports.iter().map(|r| r.delivered).sum::<usize>(), total);
    assert!(reports.iter().all(|r| r.failed == 0));
    let sends = counting.sends.lock().unwrap();
    assert_eq!(sends.len(), total);
    assert!(sends.values().all(|&n| n == 1), "{sends:?}");
    let conn = database(&db);
    let counts = outbox::counts(&conn).unwrap();
    assert_eq!((counts.pending, counts.delivered), (0, total as u64));
}

#[test]
fn one_call_delivers_at_most_one_batch_oldest_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(&dir.path().join("siseri.db"));
    let total = outbox::BATCH_SIZE + 5;
    {
        let tx = conn.transaction().unwrap();
        for n in 0..total {
            outbox::enqueue(&tx, &mail(n), T0).unwrap();
        }
        tx.commit().unwrap();
    }
    let memory = MemoryTransport::new();
    let transports = Transports::new(memory.clone(), memory.clone());

    let first = outbox::deliver_due(&mut conn, &transports, T0).unwrap();
    assert_eq!(first.delivered, outbox::BATCH_SIZE);
    let subjects: Vec<_> = memory
        .sent()
        .iter()
        .map(|m| m.message.subject().unwrap().to_owned())
        .collect();
    assert_eq!(subjects[0], "Message 0");
    assert_eq!(
        subjects[outbox::BATCH_SIZE - 1],
        format!("Message {}", outbox::BATCH_SIZE - 1)
    );
    let second = outbox::deliver_due(&mut conn, &transports, T0).unwrap();
    assert_eq!(second.delivered, 5);
}

#[test]
fn a_failure_backs_off_exponentially_and_the_message_is_never_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(&dir.path().join("siseri.db"));
    let id = {
        let tx = conn.transaction().unwrap();
        let id = outbox::enqueue(&tx, &mail(1), T0).unwrap();
        tx.commit().unwrap();
        id
    };
    let memory = MemoryTransport::new();
    let transports = Transports::new(memory.clone(), memory.clone());
    memory.fail_next(10);

    let mut now = T0;
    let mut delays = Vec::new();
    for _ in 0..10 {
        let report = outbox::deliver_due(&mut conn, &transports, now).unwrap();
        assert_eq!(report.failed, 1);
        let next = outbox::show(&conn, id)
            .unwrap()
            .unwrap()
            .summary
            .next_attempt_at
            .unwrap();
        delays.push((next - now).whole_seconds());
        now = next;
    }
    assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    let report = outbox::deliver_due(&mut conn, &transports, now).unwrap();
    assert_eq!(report.delivered, 1);
    let detail = outbox::show(&conn, id).unwrap().unwrap();
    assert_eq!(detail.summary.attempts, 11);
    assert_eq!(detail.summary.status, DeliveryStatus::Delivered);
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_worker_thread_delivers_retries_with_the_injected_clock_and_stops_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("siseri.db");
    let mut conn = database(&db);
    let memory = MemoryTransport::new();
    let clock = Arc::new(store::FakeClock::at(T0));
    let signal = WorkerSignal::new();
    let worker = outbox::spawn_worker(
        db.clone(),
        Transports::new(memory.clone(), memory.clone()),
        clock.clone(),
        signal.clone(),
    )
    .unwrap();

    let queue = |conn: &mut Connection, n| -> OutboxId {
        let tx = conn.transaction().unwrap();
        let id = outbox::enqueue(&tx, &mail(n), clock_now(&clock)).unwrap();
        tx.commit().unwrap();
        signal.wake();
        id
    };
    queue(&mut conn, 1);
    wait_until("the first message is delivered", || {
        memory.sent().len() == 1
    });

    // A failed attempt waits for the clock to pass the backoff.
    memory.fail_next(1);
    let second = queue(&mut conn, 2);
    wait_until("the second message has failed once", || {
        outbox::show(&conn, second)
            .unwrap()
            .unwrap()
            .summary
            .attempts
            == 1
    });
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(memory.sent().len(), 1, "retried before its time");
    clock.advance(time::Duration::seconds(31));
    signal.wake();
    wait_until("the second message is delivered", || {
        memory.sent().len() == 2
    });

    signal.stop();
    worker.join().unwrap();
    assert!(signal.is_stopped());
}

fn clock_now(clock: &store::FakeClock) -> OffsetDateTime {
    use store::Clock;
    clock.now()
}

#[test]
fn the_worker_thread_refuses_a_database_it_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent").join("siseri.db");
    let memory = MemoryTransport::new();
    let result = outbox::spawn_worker(
        missing,
        Transports::new(memory.clone(), memory),
        Arc::new(store::SystemClock),
        WorkerSignal::new(),
    );
    assert!(result.is_err());
}
