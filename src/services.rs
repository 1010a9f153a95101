//! The services of `enroll` built from a data directory, shared by the daemon and the CLI.

use std::sync::Arc;

use ca::P12Options;
use store::pool::Pool;
use store::Clock;

use crate::config::Config;
use crate::datadir::DataDir;
use crate::error::AppError;

/// PASS and the access life cycle over one database.
#[derive(Debug)]
pub struct Services {
    /// The database.
    pub pool: Arc<Pool>,
    /// PASS.
    pub pass: Arc<enroll::pass::Pass>,
    /// Approval, withdrawals, access codes.
    pub access: Arc<enroll::access::Access>,
    /// Server key of keyed hashes.
    pub key: store::secrets::ServerKey,
}

impl Services {
    /// Opens the database (applying migrations) and builds the services.
    pub fn open(dir: &DataDir, config: &Config, clock: Arc<dyn Clock>) -> Result<Self, AppError> {
        Self::open_with(dir, config, clock, Pool::new(dir.database(), 8))
    }

    /// The same for the daemon: its connections leave checkpoints to its own thread (see
    /// [`Pool::with_background_checkpoints`]), which calls [`Pool::checkpoint`].
    pub fn open_for_daemon(
        dir: &DataDir,
        config: &Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AppError> {
        let pool = Pool::new(dir.database(), 8).with_background_checkpoints();
        Self::open_with(dir, config, clock, pool)
    }

    fn open_with(
        dir: &DataDir,
        config: &Config,
        clock: Arc<dyn Clock>,
        pool: Pool,
    ) -> Result<Self, AppError> {
        drop(dir.open_db()?);
        let pool = Arc::new(pool);
        let key = dir.server_key()?;
        let pass = Arc::new(enroll::pass::Pass::new(
            pool.clone(),
            dir.documents(),
            key.clone(),
            clock.clone(),
            config.pass.clone(),
        ));
        let access = Arc::new(enroll::access::Access::new(
            pool.clone(),
            key.clone(),
            clock,
            config.access.clone(),
            enroll::access::IssueSettings {
                base_url: config.public.base_url.clone(),
                key_algorithm: config.issuance.key_algorithm,
                p12: P12Options {
                    profile: config.issuance.p12_profile,
                    iterations: config.issuance.p12_iterations,
                },
            },
        ));
        Ok(Self {
            pool,
            pass,
            access,
            key,
        })
    }
}

/// Delivers what the outbox holds now (the CLI does it after queueing, so that the file
/// transport shows its e-mails at once even when no daemon runs). Failures stay queued for the
/// daemon's worker.
pub fn flush_outbox(dir: &DataDir, config: &Config) {
    let result = (|| -> Result<usize, String> {
        let transports = enroll::outbox::Transports::from_config(&config.outbox(), &dir.outbox())
            .map_err(|e| e.to_string())?;
        let mut conn = store::pool::open(&dir.database()).map_err(|e| e.to_string())?;
        let mut delivered = 0;
        loop {
            let report = enroll::outbox::deliver_due(
                &mut conn,
                &transports,
                time::OffsetDateTime::now_utc(),
            )
            .map_err(|e| e.to_string())?;
            delivered += report.delivered;
            if report.attempted() < enroll::outbox::BATCH_SIZE || report.failed > 0 {
                return Ok(delivered);
            }
        }
    })();
    if let Err(e) = result {
        eprintln!("attention : envoi différé des messages ({e}) ; le service les enverra");
    }
}
