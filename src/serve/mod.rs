//! The daemon: start-up and wiring. Two TLS listeners ([`listener`]): the public one (PASS,
//! withdrawals, PKI publication in [`publication`], health) and the registry's, behind mutual
//! TLS; the operators' plain-HTTP listener, on loopback by default (`/metrics` in
//! [`metrics`], health); and the plain-HTTP publication listener ([`http`]: CRLs, AC SISERI's
//! certificate, OCSP). Both routers get the same cross-cutting layers ([`layers`]:
//! tracing, security headers, caching, error bodies). Background work (CRL, sweeps, revocations, WAL checkpoints,
//! outbox delivery) is in [`jobs`].

mod body_rate;
mod cpus;
mod http;
mod jobs;
mod layers;
mod listener;
mod metrics;
mod publication;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use ca::Authority;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::datadir::{self, DataDir};
use crate::error::AppError;
use crate::services::Services;

pub use cpus::PublicCpus;

/// What the public listener's own routes (publication, metrics) share.
struct AppState {
    dir: DataDir,
    ca_pem: String,
    ca_der: Vec<u8>,
    /// Signs OCSP responses: per request when `ocsp_presigned` is off, otherwise only those
    /// signed on first demand (`ca` answers them; only the transport is here).
    authority: Arc<Authority>,
    /// Answers OCSP from the responses signed ahead.
    responder: ca::OcspResponder,
    /// Revoked serials, refreshed every 200 ms: the OCSP responses kept in memory are checked
    /// against it.
    revoked: Arc<ca::revocation::RevocationSet>,
    /// `[ca] ocsp_presigned`.
    ocsp_presigned: bool,
    pool: Arc<store::pool::Pool>,
    ocsp_sent: metrics::OcspCounters,
    ocsp_presign: Arc<metrics::PresignCounters>,
    /// Request latency of every listener but the admin one.
    latency: Arc<metrics::Latency>,
    /// `siseri_signer_up`.
    signer_up: Arc<metrics::SignerUp>,
}

/// Runs until SIGINT or SIGTERM; then stops accepting, lets the requests in flight finish
/// (`[limits] shutdown_grace_secs` at most) and returns.
pub fn run(dir: DataDir) -> Result<(), AppError> {
    let _lock = lock_data_dir(&dir)?;
    let config = dir.load_config()?;
    let files = raise_file_limit();
    // A previous run's addresses must not be mistaken for this one's.
    let _ = std::fs::remove_file(dir.listening());
    // The CA key lives in a signer process of its own, never here.
    let (authority, signer) = crate::signer::for_daemon(&dir, &config)?;
    let signer_pid = signer.as_ref().and_then(|s| s.pid());
    let authority = Arc::new(authority);
    jobs::publish_crl_if_stale(&dir, &authority)?;
    let tls = Arc::new(listener::server_tls(&dir, &config)?);
    let revoked = Arc::new(ca::revocation::RevocationSet::new());
    revoked.refresh(&crate::db::open_existing(&dir.database())?)?;
    let (chain, key_der) = listener::server_identity(&dir, &config)?;
    let registry_tls = Arc::new(crate::mtls::registry_tls(
        chain.clone(),
        key_der.clone_key(),
        authority.certificate_der(),
        revoked.clone(),
    )?);
    // The console's own configuration: the same verifier (AC SISERI, revocation set); which
    // certificates are operators' is decided per request (enroll::web::console).
    let console_tls = Arc::new(crate::mtls::registry_tls(
        chain,
        key_der,
        authority.certificate_der(),
        revoked.clone(),
    )?);
    let clock: Arc<dyn store::Clock> = Arc::new(store::SystemClock);
    let services = Services::open_for_daemon(&dir, &config, clock.clone())?;
    jobs::spawn_checkpointer(services.pool.clone())?;
    let (outbox_signal, outbox_worker) = jobs::spawn_outbox_worker(&dir, &config, clock.clone())?;
    // Threads inherit their creator's nice: the target is counted from the daemon's own, once.
    let public_nice = (rustix::process::getpriority_process(None).unwrap_or(0)
        + config.limits.public_nice)
        .min(19);
    // The daemon's CPUs (it may have been started under `taskset` or in a cpuset).
    let daemon_cpus =
        rustix::thread::sched_getaffinity(None).map_err(|e| AppError::io(dir.root(), e.into()))?;
    let public_side = cpus::PublicSide {
        nice: public_nice,
        cpus: PublicCpus::parse(&config.limits.public_cpus)
            .and_then(|p| p.confine(&daemon_cpus))
            .map_err(AppError::Config)?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("siseri-public")
        .max_blocking_threads(config.limits.public_blocking_threads)
        .on_thread_start(move || public_side.enter())
        .build()
        .map_err(|e| AppError::io(dir.root(), e))?;
    // The registry's own runtime: its accept loop, connections, handlers and their blocking
    // work never wait for a thread the public listener holds.
    let registry_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("siseri-registre")
        .worker_threads(config.limits.registry_worker_threads)
        .max_blocking_threads(config.limits.registry_blocking_threads)
        .build()
        .map_err(|e| AppError::io(dir.root(), e))?;
    let registry_handle = registry_runtime.handle().clone();
    // Registered with the registry runtime's own reactor.
    let (registry, registry_addr) =
        registry_runtime.block_on(bind(&dir, config.listen.registry, "écoute du registre"))?;
    // The plain-HTTP publication (CRLs, OCSP) has its runtime too: anonymous, so at the public
    // side's priority, but on every CPU. Relying parties ask it tens of thousands of times a
    // second for bytes signed ahead, which cost next to nothing each; confined with the
    // public listener, whose floods cost TLS handshakes and parsing, they would share its CPUs.
    let publication_side = cpus::PublicSide {
        nice: public_nice,
        cpus: None,
    };
    let publication_runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("siseri-pki")
        .max_blocking_threads(config.limits.public_blocking_threads)
        .on_thread_start(move || publication_side.enter())
        .build()
        .map_err(|e| AppError::io(dir.root(), e))?;
    let publication_handle = publication_runtime.handle().clone();
    let (http, http_addr) = publication_runtime.block_on(bind(
        &dir,
        config.listen.http,
        "écoute de publication HTTP",
    ))?;
    let worker_signal = outbox_signal.clone();
    let worker_stop = Arc::new(AtomicBool::new(false));
    let ocsp_presign = Arc::new(metrics::PresignCounters::default());
    let latency = Arc::new(metrics::Latency::default());
    runtime.block_on(async move {
        let (public, public_addr) = bind(&dir, config.listen.public, "écoute publique").await?;

        let (admin, admin_addr) = bind(&dir, config.listen.admin, "écoute d'administration").await?;
        let (console, console_addr) =
            bind(&dir, config.listen.console, "écoute de la console").await?;
        let (records, directory) = registry_service(&services, &revoked, &clock, &config);
        let console_routes = enroll::web::console::router(enroll::web::console::ConsoleState {
            access: services.access.clone(),
            pass: services.pass.clone(),
            authority: authority.clone(),
            key: services.key.clone(),
            revoked: revoked.clone(),
            clock: clock.clone(),
            outbox: outbox_signal.clone(),
            pool: services.pool.clone(),
            approvals: enroll::web::console::Jobs::default(),
            registry: records.clone(),
        });
        let registry_router = registry_router(&services, records, directory, &clock, &authority);
        let state = Arc::new(AppState {
            dir: dir.clone(),
            ca_pem: authority.certificate_pem(),
            ca_der: authority.certificate_der().to_vec(),
            authority: authority.clone(),
            responder: ca::OcspResponder::new(authority.certificate_der())?,
            revoked: revoked.clone(),
            ocsp_presigned: config.ca.ocsp_presigned,
            pool: services.pool.clone(),
            ocsp_sent: Default::default(),
            ocsp_presign: ocsp_presign.clone(),
            latency: latency.clone(),
            signer_up: Arc::new(metrics::SignerUp::at(
                config
                    .signer
                    .socket
                    .clone()
                    .unwrap_or_else(|| dir.signer_socket()),
            )),
        });
        let admin_routes = admin_router(state.clone());
        let http_routes = http::router(state.clone());
        let router = public_router(state)
            .merge(enroll::web::router(enroll::web::PublicState {
                pass: services.pass.clone(),
                key: services.key.clone(),
                outbox: outbox_signal.clone(),
            }))
            .merge(enroll::web::withdrawal::router(
                enroll::web::withdrawal::WithdrawalState {
                    access: services.access.clone(),
                    authority: authority.clone(),
                    key: services.key.clone(),
                },
            ));
        // Signals are ours before anyone can learn where we listen: a supervisor or a test that
        // reads listening.json and sends SIGTERM at once must get a graceful stop.
        #[cfg(unix)]
        tokio::spawn(reload_on_hangup(
            dir.clone(),
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
                .map_err(|e| AppError::io(dir.root(), e))?,
        ));
        let shutdown = shutdown_signal(&dir)?;
        write_listening(
            &dir,
            [public_addr, registry_addr, admin_addr, http_addr, console_addr],
            signer_pid,
        )?;
        warn_if_links_elsewhere(&config.public.base_url, "base_url", public_addr);
        warn_if_links_elsewhere(&config.public.http_base_url, "http_base_url", http_addr);
        println!("siseri à l'écoute : https://{public_addr}/ (publique, PASS et retraits)");
        println!("                    https://{registry_addr}/ (registre, TLS mutuel)");
        println!("                    http://{admin_addr}/metrics (administration, Prometheus)");
        println!("                    http://{http_addr}/pki/ (publication : LCR, AC, OCSP)");
        println!("                    https://{console_addr}/ (console des opérateurs, TLS mutuel)");
        println!(
            "                    {files} descripteurs de fichiers ; connexions : {} (publique), {} (registre), {} par adresse",
            config.limits.public_connections,
            config.limits.registry_connections,
            config.limits.connections_per_address
        );
        println!(
            "                    processeurs : {} (écoute publique, nice {public_nice}), {} (registre ; publication HTTP, nice {public_nice})",
            public_side
                .cpus
                .as_ref()
                .map_or_else(|| cpus::describe(&daemon_cpus), cpus::describe),
            cpus::describe(&daemon_cpus),
        );
        tracing::info!(
            event = "listening",
            %public_addr,
            %registry_addr,
            %admin_addr,
            %http_addr,
            %console_addr,
            files,
            "écoutes ouvertes"
        );
        crate::systemd::ready();

        tokio::spawn(jobs::refresh_crl(dir.clone(), authority.clone()));
        tokio::spawn(jobs::maintenance(
            dir.clone(),
            services.pass.clone(),
            services.access.clone(),
            authority.clone(),
            outbox_signal.clone(),
        ));
        let limits = &config.limits;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let admin_server = tokio::spawn(serve_admin(admin, admin_routes, stopped.clone()));
        let public_budget =
            listener::Budget::new(limits.public_connections, limits.connections_per_address);
        let registry_budget =
            listener::Budget::new(limits.registry_connections, limits.connections_per_address);
        let http_budget =
            listener::Budget::new(limits.http_connections, limits.connections_per_address);
        let http_server = publication_handle.spawn(listener::accept_loop(
            listener::Listener {
                tcp: http,
                acceptor: None,
                router: layers::apply(
                    http_routes,
                    stack(
                        layers::Front::Public,
                        "http",
                        &latency,
                        limits,
                        Some(Arc::from(config.public.base_url.trim_end_matches('/'))),
                    ),
                ),
                mtls: false,
                budget: http_budget.clone(),
                limits: limits.clone(),
            },
            stopped.clone(),
        ));
        let server = tokio::spawn(listener::accept_loop(
            listener::Listener {
                tcp: public,
                acceptor: Some(TlsAcceptor::from(tls)),
                router: layers::apply(
                    router,
                    stack(layers::Front::Public, "public", &latency, limits, None),
                ),
                mtls: false,
                budget: public_budget.clone(),
                limits: limits.clone(),
            },
            stopped.clone(),
        ));
        let console_budget =
            listener::Budget::new(limits.registry_connections, limits.connections_per_address);
        let console_server = tokio::spawn(listener::accept_loop(
            listener::Listener {
                tcp: console,
                acceptor: Some(TlsAcceptor::from(console_tls)),
                router: layers::apply(
                    console_routes,
                    stack(layers::Front::Console, "console", &latency, limits, None),
                ),
                mtls: true,
                budget: console_budget.clone(),
                limits: limits.clone(),
            },
            stopped.clone(),
        ));
        let registry_server = registry_handle.spawn(listener::accept_loop(
            listener::Listener {
                tcp: registry,
                acceptor: Some(TlsAcceptor::from(registry_tls)),
                router: layers::apply(
                    registry_router,
                    stack(layers::Front::Registry, "registry", &latency, limits, None),
                ),
                mtls: true,
                budget: registry_budget.clone(),
                limits: limits.clone(),
            },
            stopped,
        ));
        let refresher = tokio::task::spawn_blocking({
            let (dir, revoked, stop) = (dir.clone(), revoked.clone(), worker_stop.clone());
            move || jobs::refresh_revocations(&dir, &revoked, &stop)
        });
        // Responses signed per request (the baseline) need no job.
        let presigner = if config.ca.ocsp_presigned {
            Some(jobs::spawn_ocsp_presigner(
                dir.clone(),
                authority.clone(),
                ocsp_presign.clone(),
                worker_stop.clone(),
                public_side,
            )?)
        } else {
            None
        };
        shutdown.await;
        crate::systemd::stopping();
        tracing::info!("arrêt demandé : plus de nouvelle connexion, fin des requêtes en cours");
        let _ = stop.send(true);
        let _ = server.await;
        let _ = registry_server.await;
        let _ = http_server.await;
        let _ = console_server.await;
        let _ = admin_server.await;
        let grace = std::time::Duration::from_secs(limits.shutdown_grace_secs);
        let drained = tokio::time::timeout(grace, async {
            public_budget.drained().await;
            registry_budget.drained().await;
            http_budget.drained().await;
            console_budget.drained().await;
        })
        .await;
        if drained.is_err() {
            tracing::warn!("délai d'arrêt écoulé : des connexions sont coupées");
        }
        worker_stop.store(true, Ordering::SeqCst);
        let _ = refresher.await;
        if let Some(presigner) = presigner {
            let _ = tokio::task::spawn_blocking(move || presigner.join()).await;
        }
        Ok::<(), AppError>(())
    })?;
    registry_runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    publication_runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    worker_signal.stop();
    let _ = outbox_worker.join();
    // Last: the signer child is stopped once nothing may ask it anything.
    drop(signer);
    Ok(())
}

/// The registry service, one for the process: the registry listener and the console share its
/// audit writer and its turn of reads. Its limit alerts go out through the durable outbox.
fn registry_service(
    services: &Services,
    revoked: &Arc<ca::revocation::RevocationSet>,
    clock: &Arc<dyn store::Clock>,
    config: &Config,
) -> (registry::Registry, Arc<enroll::access::RegistryDirectory>) {
    let directory = Arc::new(enroll::access::RegistryDirectory::new(
        services.access.clone(),
        services.pool.clone(),
        revoked.clone(),
        config.access.access_code_max_attempts,
    ));
    let registry = registry::Registry::new(services.pool.clone(), clock.clone())
        .with_alert_mail(directory.clone())
        .with_concurrent_reads(config.limits.registry_concurrent_reads);
    let registry = if config.limits.registry_grouped_read_audit {
        registry
    } else {
        registry.with_inline_read_audit()
    };
    (registry, directory)
}

/// The registry listener's application and its state: the one place serve knows it.
fn registry_router(
    services: &Services,
    registry: registry::Registry,
    directory: Arc<enroll::access::RegistryDirectory>,
    clock: &Arc<dyn store::Clock>,
    authority: &Arc<Authority>,
) -> Router {
    registry::web::router(registry::web::RegistryState {
        directory,
        sessions: Arc::new(registry::web::Sessions::default()),
        clock: clock.clone(),
        registry,
        key: services.key.clone(),
        receipts: Some(Arc::new(crate::recepisse::AuthorityReceipts::new(
            authority.clone(),
            clock.clone(),
        ))),
    })
}

/// The public listener's own routes; PASS and the withdrawal pages are merged in by [`run`].
fn public_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(publication::routes())
        .with_state(state)
}

/// The operators' routes: plain HTTP, no secret, counts only.
fn admin_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics::serve))
        .with_state(state)
}

/// Serves the admin listener until `stop` turns true.
async fn serve_admin(
    tcp: TcpListener,
    router: Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let served = axum::serve(tcp, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
    if let Err(e) = served {
        tracing::warn!(error = %e, "écoute d'administration");
    }
}

/// A listener's [`layers::Stack`]: its front, its name in the metrics, the limits of
/// `[limits]`, and for the plain-HTTP publication listener the HTTPS base URL.
fn stack(
    front: layers::Front,
    listener: &'static str,
    latency: &Arc<metrics::Latency>,
    limits: &crate::config::Limits,
    redirect_to: Option<Arc<str>>,
) -> layers::Stack {
    layers::Stack {
        front,
        latency: latency.listener(listener),
        request_limit: std::time::Duration::from_secs(limits.request_secs),
        rate: body_rate::MinRate {
            bytes_per_sec: limits.min_body_bytes_per_sec,
            window: std::time::Duration::from_secs(limits.body_rate_window_secs),
        },
        redirect_to,
    }
}

/// One daemon per data directory: an exclusive lock on `serve.lock`, which the kernel
/// releases when the process ends, however it ends.
fn lock_data_dir(dir: &DataDir) -> Result<std::fs::File, AppError> {
    let path = dir.root().join("serve.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| AppError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(AppError::DataDir(format!(
            "un autre « siseri serve » utilise déjà le répertoire de données {} : arrêtez-le d'abord",
            dir.root().display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(AppError::io(&path, e)),
    }
}

/// Raises the soft limit of open files to the hard one (each connection holds one) and says
/// what it is.
fn raise_file_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "limite des fichiers ouverts inchangée");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .map(|(soft, _)| soft)
                .unwrap_or(0)
        }
    }
}

/// A generic 500 for the client, the cause in the log.
fn internal_error(what: &str, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "{what}");
    (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne\n").into_response()
}

async fn bind(
    dir: &DataDir,
    addr: SocketAddr,
    what: &str,
) -> Result<(TcpListener, SocketAddr), AppError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| AppError::DataDir(format!("{what} {addr} : {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| AppError::io(dir.root(), e))?;
    Ok((listener, bound))
}

/// Withdrawal links are built from `[public] base_url`, the CRL and AIA URLs in certificates
/// from `[public] http_base_url`: say so when their listener is bound to another port (port 0,
/// an override), or those links are dead.
fn warn_if_links_elsewhere(base: &str, key: &str, bound: SocketAddr) {
    let base = base.trim_end_matches('/');
    let after_scheme = base.split("://").nth(1).unwrap_or(base);
    let authority = after_scheme.split('/').next().unwrap_or(after_scheme);
    let port = match authority.rsplit_once(':') {
        Some((_, p)) => p.parse().unwrap_or(0),
        None if base.starts_with("https://") => 443,
        None => 80,
    };
    if port != bound.port() {
        // A log event, not a bare line: a collector reading `--log-format json` parses it.
        tracing::warn!(
            event = "links_elsewhere",
            setting = key,
            "des liens des e-mails ou des certificats pointent vers {base} (config [public] {key}), \
             mais l'écoute correspondante est sur le port {} ; réglez SISERI_PUBLIC_{} si ces liens doivent mener ici",
            bound.port(),
            key.to_uppercase()
        );
    }
}

/// `listening.json`: the addresses really bound (public, registry, admin, http, console) and the
/// process id of the signer started with the daemon, if any.
fn write_listening(
    dir: &DataDir,
    [public, registry, admin, http, console]: [SocketAddr; 5],
    signer_pid: Option<u32>,
) -> Result<(), AppError> {
    let body = serde_json::json!({
        "public": public.to_string(),
        "registry": registry.to_string(),
        "admin": admin.to_string(),
        "http": http.to_string(),
        "console": console.to_string(),
        "signer_pid": signer_pid,
    });
    datadir::write_atomic(&dir.listening(), format!("{body}\n").as_bytes(), 0o644)
}

/// SIGHUP re-reads config.toml and puts in force what can change under running requests: the
/// log level (`[log] level`). Everything else (listeners, certificates, limits, which size
/// runtimes and connection budgets at start) needs a restart, and the log says so. A file that
/// no longer parses changes nothing. Without this handler SIGHUP would end the process.
#[cfg(unix)]
async fn reload_on_hangup(dir: DataDir, mut hangup: tokio::signal::unix::Signal) {
    while hangup.recv().await.is_some() {
        crate::systemd::reloading();
        match dir.load_config() {
            Ok(config) => match crate::logging::reload_level(&config.log.level) {
                Ok(crate::logging::Reloaded::Level(level)) => tracing::info!(
                    event = "config_reloaded",
                    level,
                    "configuration relue (SIGHUP) : niveau des journaux appliqué ; \
                     les autres réglages demandent un redémarrage"
                ),
                Ok(crate::logging::Reloaded::KeptRustLog) => tracing::info!(
                    event = "config_reloaded",
                    "configuration relue (SIGHUP) : RUST_LOG est défini et reste en vigueur ; \
                     les autres réglages demandent un redémarrage"
                ),
                Err(why) => tracing::warn!(
                    event = "config_reload_failed",
                    "configuration non rechargée (SIGHUP) : {why}"
                ),
            },
            Err(e) => tracing::warn!(
                event = "config_reload_failed",
                error = %e,
                "configuration non rechargée (SIGHUP) : rien n'a changé"
            ),
        }
        crate::systemd::ready();
    }
}

/// SIGINT or SIGTERM, registered at once (before readiness is told, so that a SIGTERM sent
/// right after `READY=1` is a graceful stop, not the default death); the future resolves at
/// the first of them.
fn shutdown_signal(dir: &DataDir) -> Result<impl std::future::Future<Output = ()>, AppError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| AppError::io(dir.root(), e))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| AppError::io(dir.root(), e))?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {},
            _ = term.recv() => {},
        }
    })
}
