//! What the daemon does besides answering: keep the CRL current, sign OCSP responses ahead,
//! close expired withdrawals and send expiry notices, follow revocations for the registry's
//! handshakes, checkpoint the WAL, and deliver the outbox.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ca::Authority;
use time::OffsetDateTime;

use crate::config::Config;
use crate::datadir::DataDir;
use crate::error::AppError;

/// How often the refresher looks at the CRLs: it re-signs each once a day, and when a
/// revocation was committed after the CRL in force. A shard's CRL is re-signed by the
/// revocation itself, so this only catches a process that died between the two; the full CRL
/// is left to this job (at most a minute behind, seconds of work at a million revoked).
const CRL_CHECK_EVERY: Duration = Duration::from_secs(60);
const CRL_MAX_AGE: time::Duration = time::Duration::days(1);
const MAINTENANCE_EVERY: Duration = Duration::from_secs(600);
const REVOCATION_REFRESH: Duration = Duration::from_millis(200);
/// The OCSP job's pause when it has nothing left to do: a revocation written by another path
/// than the CA's own (which signs its response in its transaction) is served within this.
const OCSP_IDLE: Duration = Duration::from_millis(200);
/// Its pause between two batches while work remains: writers get the database in between.
const OCSP_BUSY: Duration = Duration::from_millis(5);
/// Signatures per batch (a few milliseconds of work, one short write transaction).
const OCSP_BATCH: usize = 256;
/// How often the OCSP job says what it did, while it works.
const OCSP_LOG_EVERY: Duration = Duration::from_secs(10);
/// How often the daemon copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// At start, before anything is served: every shard's CRL exists and covers every committed
/// revocation (a few milliseconds each), and a full CRL exists. A stale full CRL is left to
/// [`refresh_crl`], whose first round starts at once: seconds of signing at a million revoked
/// need not delay the listeners.
pub(super) fn publish_crl_if_stale(dir: &DataDir, authority: &Authority) -> Result<(), AppError> {
    let mut conn = dir.open_db()?;
    let now = OffsetDateTime::now_utc();
    authority.refresh_shard_crls(&mut conn, "daemon", now, CRL_MAX_AGE)?;
    if Authority::latest_crl_info(&conn)?.is_none() {
        let crl = authority.publish_crl(&mut conn, "daemon", now)?;
        dir.write_crl(&crl)?;
    }
    Ok(())
}

/// Checkpoints the database every [`CHECKPOINT_EVERY`], on a thread of its own, so that no
/// request's commit pays for it (the daemon's connections do not checkpoint themselves). A
/// passive checkpoint waits for no one; an idle WAL costs it a look at the WAL index.
pub(super) fn spawn_checkpointer(pool: Arc<store::pool::Pool>) -> Result<(), AppError> {
    std::thread::Builder::new()
        .name("siseri-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            if let Err(e) = pool.checkpoint() {
                tracing::warn!(error = %e, "point de contrôle de la base (WAL) en échec");
            }
        })
        .map(drop)
        .map_err(|e| AppError::DataDir(format!("fil de point de contrôle : {e}")))
}

/// The outbox's delivery thread, over the configured transports; stopped through the signal.
pub(super) fn spawn_outbox_worker(
    dir: &DataDir,
    config: &Config,
    clock: Arc<dyn store::Clock>,
) -> Result<(enroll::outbox::WorkerSignal, JoinHandle<()>), AppError> {
    let transports = enroll::outbox::Transports::from_config(&config.outbox(), &dir.outbox())
        .map_err(|e| AppError::Config(e.to_string()))?;
    let signal = enroll::outbox::WorkerSignal::new();
    let worker = enroll::outbox::spawn_worker(dir.database(), transports, clock, signal.clone())
        .map_err(|e| AppError::DataDir(e.to_string()))?;
    Ok((signal, worker))
}

/// Re-signs the CRL once a day, so that relying parties never hold one past its nextUpdate,
/// and after a revocation the CRL in force does not cover. Reads only the CRL's metadata and
/// what it covers (an index lookup, remembered per CRL number), never the CRL's bytes.
pub(super) async fn refresh_crl(dir: DataDir, authority: Arc<Authority>) {
    let mut every = tokio::time::interval(CRL_CHECK_EVERY);
    // (number, covers_seq) of the last CRL seen.
    let mut known: Option<(i64, i64)> = None;
    loop {
        every.tick().await;
        let dir = dir.clone();
        let authority = authority.clone();
        let done = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
            let now = OffsetDateTime::now_utc();
            let mut conn = crate::db::open_existing(&dir.database())?;
            let shards = authority.refresh_shard_crls(&mut conn, "daemon", now, CRL_MAX_AGE)?;
            if !shards.is_empty() {
                tracing::info!(partitions = shards.len(), "LCR de partition re-signées");
            }
            let (due, seen) = match Authority::latest_crl_info(&conn)? {
                None => (true, None),
                Some(crl) => {
                    let covers = match known {
                        Some((number, covers)) if number == crl.number => Some(covers),
                        _ => Authority::crl_covers(&conn, crl.number)?,
                    };
                    let stale = match covers {
                        Some(covers) => Authority::revoked_after(&conn, covers)?,
                        None => true,
                    };
                    let seen = covers.map(|covers| (crl.number, covers));
                    (stale || now - crl.this_update >= CRL_MAX_AGE, seen)
                }
            };
            if !due {
                return Ok((None, seen));
            }
            let crl = authority.publish_crl(&mut conn, "daemon", now)?;
            dir.write_crl(&crl)?;
            Ok((Some(crl.number), None))
        })
        .await;
        match done {
            Ok(Ok((published, seen))) => {
                known = seen;
                if let Some(n) = published {
                    tracing::info!(number = n, "LCR complète re-signée");
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "re-signature de la LCR"),
            Err(e) => tracing::error!(error = %e, "tâche de re-signature de la LCR"),
        }
    }
}

/// Every few minutes: expired withdrawals are closed and their files erased, expiry notices go
/// out, and drafts never signed are purged after their retention (all idempotent).
pub(super) async fn maintenance(
    dir: DataDir,
    pass: Arc<enroll::pass::Pass>,
    access: Arc<enroll::access::Access>,
    authority: Arc<Authority>,
    outbox: enroll::outbox::WorkerSignal,
) {
    let mut every = tokio::time::interval(MAINTENANCE_EVERY);
    loop {
        every.tick().await;
        let (access, authority, dir) = (access.clone(), authority.clone(), dir.clone());
        let pass = pass.clone();
        let done = tokio::task::spawn_blocking(move || {
            let purged = pass.purge_drafts()?;
            if purged > 0 {
                tracing::info!(purged, "brouillons jamais signés purgés");
            }
            let swept = access.sweep_withdrawals(&authority)?;
            let notices = access.expiry_notices()?;
            if swept > 0 {
                let conn = crate::db::open_existing(&dir.database())?;
                if let Ok(Some(crl)) = Authority::latest_crl(&conn) {
                    let _ = dir.write_crl(&crl);
                }
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>((swept, notices))
        })
        .await;
        match done {
            Ok(Ok((swept, notices))) => {
                if swept > 0 || notices > 0 {
                    tracing::info!(swept, notices, "maintenance des retraits et préavis");
                    outbox.wake();
                }
            }
            Ok(Err(e)) => tracing::error!(error = %web::error_chain(e.as_ref()), "maintenance"),
            Err(e) => tracing::error!(error = %e, "tâche de maintenance"),
        }
    }
}

/// Follows the database's revocations (the CLI's included) every 200 ms, so that a revoked
/// certificate is refused at the handshake within a second. Returns once `stop` is set.
pub(super) fn refresh_revocations(
    dir: &DataDir,
    revoked: &ca::revocation::RevocationSet,
    stop: &AtomicBool,
) {
    let mut conn = None;
    while !stop.load(Ordering::SeqCst) {
        if conn.is_none() {
            conn = crate::db::open_existing(&dir.database()).ok();
        }
        if let Some(c) = &conn {
            match revoked.refresh(c) {
                Ok(n) if n > 0 => {
                    tracing::info!(new = n, total = revoked.len(), "révocations")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "lecture des révocations");
                    conn = None;
                }
            }
        }
        std::thread::sleep(REVOCATION_REFRESH);
    }
}

/// The OCSP job (`ca::OcspPresigner`) on a thread of its own, at the public listener's lower
/// priority and on its CPUs: at start a sweep signs what is missing (every certificate, on a database filled
/// by other means), then it follows revocations and renews responses half-way through their
/// validity, in batches of [`OCSP_BATCH`]. Its progress goes to the log every
/// [`OCSP_LOG_EVERY`] while it works, and to `/metrics`. Returns once `stop` is set.
pub(super) fn spawn_ocsp_presigner(
    dir: DataDir,
    authority: Arc<Authority>,
    counters: Arc<super::metrics::PresignCounters>,
    stop: Arc<AtomicBool>,
    public_side: super::cpus::PublicSide,
) -> Result<JoinHandle<()>, AppError> {
    std::thread::Builder::new()
        .name("siseri-ocsp".into())
        .spawn(move || {
            public_side.enter();
            let mut job = ca::OcspPresigner::new();
            let mut conn = None;
            let mut progress = ca::PresignReport::default();
            let mut last_log = std::time::Instant::now();
            while !stop.load(Ordering::SeqCst) {
                if conn.is_none() {
                    conn = crate::db::open_existing(&dir.database()).ok();
                }
                let mut pause = OCSP_IDLE;
                if let Some(c) = conn.as_mut() {
                    match job.tick(&authority, c, OffsetDateTime::now_utc(), OCSP_BATCH) {
                        Ok(report) => {
                            counters.record(&report);
                            progress.revoked += report.revoked;
                            progress.renewed += report.renewed;
                            progress.missing += report.missing;
                            progress.dropped += report.dropped;
                            if report.more {
                                pause = OCSP_BUSY;
                            }
                            let quiet = !report.more && progress.signed() + progress.dropped > 0;
                            if quiet || last_log.elapsed() >= OCSP_LOG_EVERY {
                                if progress.signed() + progress.dropped > 0 {
                                    tracing::info!(
                                        revoked = progress.revoked,
                                        renewed = progress.renewed,
                                        missing = progress.missing,
                                        dropped = progress.dropped,
                                        more = report.more,
                                        "réponses OCSP signées d'avance"
                                    );
                                }
                                progress = ca::PresignReport::default();
                                last_log = std::time::Instant::now();
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "signature d'avance des réponses OCSP");
                            conn = None;
                        }
                    }
                }
                std::thread::sleep(pause);
            }
        })
        .map_err(|e| AppError::DataDir(format!("fil des réponses OCSP : {e}")))
}
