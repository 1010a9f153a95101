//! The daemon: start-up and wiring. Two TLS listeners ([`listener`]): the public one (PASS,
//! withdrawals, PKI publication in [`publication`], `/metrics` in [`metrics`], health) and the
//! registry's, behind mutual TLS. Background work (CRL, sweeps, revocations, WAL checkpoints,
//! outbox delivery) is in [`jobs`].

mod jobs;
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

/// What the public listener's own routes (publication, metrics) share.
struct AppState {
    dir: DataDir,
    ca_pem: String,
    ca_der: Vec<u8>,
    /// Signs the OCSP responses (`ca` answers them; only the transport is here).
    authority: Arc<Authority>,
    pool: Arc<ca::pool::Pool>,
    ocsp_sent: metrics::OcspCounters,
}

/// Runs until SIGINT or SIGTERM.
pub fn run(dir: DataDir) -> Result<(), AppError> {
    let config = dir.load_config()?;
    // A previous run's addresses must not be mistaken for this one's.
    let _ = std::fs::remove_file(dir.listening());
    let authority = Arc::new(dir.load_authority(&config)?);
    jobs::publish_crl_if_stale(&dir, &authority)?;
    let tls = Arc::new(listener::server_tls(&dir, &config)?);
    let revoked = Arc::new(ca::revocation::RevocationSet::new());
    revoked.refresh(&crate::db::open_existing(&dir.database())?)?;
    let (chain, key_der) = listener::server_identity(&dir, &config)?;
    let registry_tls = Arc::new(crate::mtls::registry_tls(
        chain,
        key_der,
        authority.certificate_der(),
        revoked.clone(),
    )?);
    let clock: Arc<dyn ca::Clock> = Arc::new(ca::SystemClock);
    let services = Services::open_for_daemon(&dir, &config, clock.clone())?;
    jobs::spawn_checkpointer(services.pool.clone())?;
    let (outbox_signal, outbox_worker) = jobs::spawn_outbox_worker(&dir, &config, clock.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::io(dir.root(), e))?;
    let worker_signal = outbox_signal.clone();
    let worker_stop = Arc::new(AtomicBool::new(false));
    runtime.block_on(async move {
        let (public, public_addr) = bind(&dir, config.listen.public, "écoute publique").await?;
        let (registry, registry_addr) =
            bind(&dir, config.listen.registry, "écoute du registre").await?;
        let registry_router = registry_router(&services, &revoked, &clock, &config);
        let state = Arc::new(AppState {
            dir: dir.clone(),
            ca_pem: authority.certificate_pem(),
            ca_der: authority.certificate_der().to_vec(),
            authority: authority.clone(),
            pool: services.pool.clone(),
            ocsp_sent: Default::default(),
        });
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
        write_listening(&dir, public_addr, registry_addr)?;
        warn_if_links_elsewhere(&config, public_addr);
        println!("siseri à l'écoute : https://{public_addr}/ (publique, PASS et retraits)");
        println!("                    https://{registry_addr}/ (registre, TLS mutuel)");
        tracing::info!(%public_addr, %registry_addr, "listening");

        tokio::spawn(jobs::refresh_crl(dir.clone(), authority.clone()));
        tokio::spawn(jobs::maintenance(
            dir.clone(),
            services.access.clone(),
            authority.clone(),
            outbox_signal.clone(),
        ));
        let server = tokio::spawn(listener::accept_loop(
            public,
            TlsAcceptor::from(tls),
            router,
            false,
        ));
        let registry_server = tokio::spawn(listener::accept_loop(
            registry,
            TlsAcceptor::from(registry_tls),
            registry_router,
            true,
        ));
        let refresher = tokio::task::spawn_blocking({
            let (dir, revoked, stop) = (dir.clone(), revoked.clone(), worker_stop.clone());
            move || jobs::refresh_revocations(&dir, &revoked, &stop)
        });
        shutdown_signal().await;
        tracing::info!("arrêt demandé");
        server.abort();
        registry_server.abort();
        worker_stop.store(true, Ordering::SeqCst);
        let _ = refresher.await;
        Ok::<(), AppError>(())
    })?;
    worker_signal.stop();
    let _ = outbox_worker.join();
    Ok(())
}

/// The registry listener's application and its state: the one place serve knows it.
fn registry_router(
    services: &Services,
    revoked: &Arc<ca::revocation::RevocationSet>,
    clock: &Arc<dyn ca::Clock>,
    config: &Config,
) -> Router {
    registry::web::router(registry::web::RegistryState {
        directory: Arc::new(enroll::access::RegistryDirectory::new(
            services.access.clone(),
            services.pool.clone(),
            revoked.clone(),
            config.access.access_code_max_attempts,
        )),
        sessions: Arc::new(registry::web::Sessions::default()),
        clock: clock.clone(),
        registry: registry::Registry::new(services.pool.clone(), clock.clone()),
        key: services.key.clone(),
    })
}

/// The public listener's own routes; PASS and the withdrawal pages are merged in by [`run`].
fn public_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(publication::routes())
        .route("/metrics", get(metrics::serve))
        .with_state(state)
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

/// Withdrawal links and the CRL URL in certificates are built from `[public] base_url`: say so
/// when the listener is bound to another port (port 0, an override), or those links are dead.
fn warn_if_links_elsewhere(config: &Config, bound: SocketAddr) {
    let base = config.public.base_url.trim_end_matches('/');
    let after_scheme = base.split("://").nth(1).unwrap_or(base);
    let authority = after_scheme.split('/').next().unwrap_or(after_scheme);
    let port = match authority.rsplit_once(':') {
        Some((_, p)) => p.parse().unwrap_or(0),
        None if base.starts_with("https://") => 443,
        None => 80,
    };
    if port != bound.port() {
        eprintln!(
            "attention : les liens des e-mails et des certificats pointent vers {base} (config [public] base_url), \
             mais l'écoute publique est sur le port {} ; réglez SISERI_PUBLIC_BASE_URL si ces liens doivent mener ici",
            bound.port()
        );
    }
}

fn write_listening(
    dir: &DataDir,
    public: SocketAddr,
    registry: SocketAddr,
) -> Result<(), AppError> {
    let body =
        serde_json::json!({ "public": public.to_string(), "registry": registry.to_string() });
    datadir::write_atomic(&dir.listening(), format!("{body}\n").as_bytes(), 0o644)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
