//! Delivery: claim a due message, send it, record the outcome; and the thread that does it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};
use time::{Duration, OffsetDateTime};

use super::storage::{claim_next, mark_delivered, mark_failed, overwrite_erased_content};
use super::{OutboxError, Transports};

/// Most messages one [`deliver_due`] call attempts.
pub const BATCH_SIZE: usize = 50;

/// How long a claimed message is kept from other workers. Far longer than any send takes; a
/// worker that dies holding a message delays it by this much.
const LEASE: Duration = Duration::minutes(10);

/// The first retry comes after this; each further one after twice the previous delay…
const FIRST_RETRY: Duration = Duration::seconds(30);

/// …up to this.
const LONGEST_RETRY: Duration = Duration::hours(1);

/// How often the worker looks for due messages when nobody wakes it.
const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The longest error text kept in the database.
const MAX_ERROR_LEN: usize = 500;

/// What one [`deliver_due`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Messages handed to their transport and marked delivered.
    pub delivered: usize,
    /// Attempts that failed, each with a retry scheduled.
    pub failed: usize,
}

impl DeliveryReport {
    /// Messages attempted.
    pub fn attempted(&self) -> usize {
        self.delivered + self.failed
    }
}

/// Delivers the messages due at `now`, oldest first, at most [`BATCH_SIZE`] of them.
///
/// Each message is claimed in its own immediate transaction before it is sent, so that two
/// workers (threads or processes) never send it concurrently. A success erases the body; a
/// failure is recorded (without the body) and the message is retried after 30 s, 1 min,
/// 2 min… up to every hour, never dropped. The call stops at its first failure: a server that is
/// down or hangs then costs one timeout per call, not one per message, and the worker stays
/// responsive to its stop signal.
pub fn deliver_due(
    conn: &mut Connection,
    transports: &Transports,
    now: OffsetDateTime,
) -> Result<DeliveryReport, OutboxError> {
    overwrite_erased_content(conn)?;
    let mut report = DeliveryReport::default();
    while report.attempted() < BATCH_SIZE {
        let Some(msg) = claim_next(conn, now, now + LEASE)? else {
            break;
        };
        let channel = msg.message.channel();
        let transport = transports.for_channel(channel);
        let recipient = msg.message.masked_recipient();
        match transport.send(&msg) {
            Ok(()) => {
                let file = transport.file_path(&msg);
                if !mark_delivered(conn, msg.id, now, transport.kind(), file.as_deref())? {
                    tracing::warn!(id = %msg.id, "message déjà remis par un autre envoi");
                }
                tracing::info!(
                    id = %msg.id,
                    %channel,
                    %recipient,
                    message_id = %msg.message_id,
                    transport = %transport.kind(),
                    attempt = msg.attempts,
                    "message remis"
                );
                report.delivered += 1;
            }
            Err(error) => {
                let retry_at = now + retry_delay(msg.attempts);
                let error = truncated(error.to_string());
                mark_failed(conn, msg.id, &error, retry_at)?;
                tracing::warn!(
                    id = %msg.id,
                    %channel,
                    %recipient,
                    attempt = msg.attempts,
                    %retry_at,
                    %error,
                    "échec de l'envoi, nouvel essai prévu"
                );
                report.failed += 1;
                break;
            }
        }
    }
    Ok(report)
}

/// 30 s × 2^(attempts − 1), capped at one hour.
fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    (FIRST_RETRY * 2_i32.pow(doublings)).min(LONGEST_RETRY)
}

fn truncated(mut text: String) -> String {
    if text.len() > MAX_ERROR_LEN {
        let mut end = MAX_ERROR_LEN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

/// Wakes the worker early (a message was just queued) or stops it. Clones share the signal.
#[derive(Debug, Clone, Default)]
pub struct WorkerSignal {
    inner: Arc<SignalInner>,
}

#[derive(Debug, Default)]
struct SignalInner {
    stop: Arc<AtomicBool>,
    woken: Mutex<bool>,
    condvar: Condvar,
}

impl WorkerSignal {
    /// A fresh signal.
    pub fn new() -> Self {
        Self::default()
    }

    /// A signal that also stops the worker when `stop` is set elsewhere (noticed within a
    /// second, or at once after [`wake`](Self::wake)).
    pub fn with_stop_flag(stop: Arc<AtomicBool>) -> Self {
        Self {
            inner: Arc::new(SignalInner {
                stop,
                woken: Mutex::new(false),
                condvar: Condvar::new(),
            }),
        }
    }

    /// Makes the worker look for due messages now: call it after committing a transaction
    /// that queued one. Cheap, never blocks for long.
    pub fn wake(&self) {
        let mut woken = self
            .inner
            .woken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *woken = true;
        self.inner.condvar.notify_all();
    }

    /// Asks the worker to stop once its current attempt is over.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.wake();
    }

    /// Whether the worker was asked to stop.
    pub fn is_stopped(&self) -> bool {
        self.inner.stop.load(Ordering::SeqCst)
    }

    fn wait(&self, timeout: std::time::Duration) {
        let woken = self
            .inner
            .woken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (mut woken, _) = self
            .inner
            .condvar
            .wait_timeout_while(woken, timeout, |woken| !*woken && !self.is_stopped())
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *woken = false;
    }
}

/// Starts the delivery thread on its own connection to `db_path` (opened here, so that a bad
/// path fails at once): it calls [`deliver_due`] with `clock`'s time, then waits a second or
/// until woken, until `signal` says stop. Errors are logged and retried, never fatal.
pub fn spawn_worker(
    db_path: PathBuf,
    transports: Transports,
    clock: Arc<dyn store::Clock>,
    signal: WorkerSignal,
) -> Result<JoinHandle<()>, OutboxError> {
    let conn = Connection::open_with_flags(
        &db_path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    std::thread::Builder::new()
        .name("siseri-outbox".into())
        .spawn(move || run(conn, &transports, clock.as_ref(), &signal))
        .map_err(OutboxError::Spawn)
}

fn run(
    mut conn: Connection,
    transports: &Transports,
    clock: &dyn store::Clock,
    signal: &WorkerSignal,
) {
    tracing::info!(?transports, "fil d'envoi des e-mails et SMS démarré");
    while !signal.is_stopped() {
        let now = clock.now();
        // A panic in a transport must not silently end all deliveries.
        let outcome = catch_unwind(AssertUnwindSafe(|| deliver_due(&mut conn, transports, now)));
        let more_due = match outcome {
            Ok(Ok(report)) => report.attempted() >= BATCH_SIZE,
            Ok(Err(error)) => {
                tracing::error!(%error, "file d'envoi");
                false
            }
            Err(_) => {
                tracing::error!("file d'envoi : panique pendant un envoi");
                false
            }
        };
        if !more_due {
            signal.wait(POLL_INTERVAL);
        }
    }
    tracing::info!("fil d'envoi arrêté");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_thirty_seconds_up_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::seconds(30));
        assert_eq!(retry_delay(2), Duration::minutes(1));
        assert_eq!(retry_delay(3), Duration::minutes(2));
        assert_eq!(retry_delay(7), Duration::minutes(32));
        assert_eq!(retry_delay(8), Duration::hours(1));
        assert_eq!(retry_delay(u32::MAX), Duration::hours(1));
    }

    #[test]
    fn long_errors_are_cut_on_a_character_boundary() {
        let cut = truncated("é".repeat(400));
        assert!(cut.len() <= MAX_ERROR_LEN + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(truncated("court".into()), "court");
    }
}
