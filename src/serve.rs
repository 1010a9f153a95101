//! The daemon: the public TLS listener (PKI publication, health), the CRL refresher.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ca::{Authority, OcspOutcome, OcspReply};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use time::OffsetDateTime;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::datadir::{self, DataDir};
use crate::error::AppError;

/// How often the refresher looks at the CRL: it re-signs once a day, and at once when a
/// revocation was committed after the CRL in force (a process that died between the two).
const CRL_CHECK_EVERY: Duration = Duration::from_secs(60);
const CRL_MAX_AGE: time::Duration = time::Duration::days(1);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const MAINTENANCE_EVERY: Duration = Duration::from_secs(600);
const REVOCATION_REFRESH: Duration = Duration::from_millis(200);
/// An OCSPRequest for a few certificates is a few hundred octets; this is generous.
const OCSP_MAX_BODY: usize = 64 * 1024;

/// Everything the daemon runs, started by [`run`].
struct AppState {
    dir: DataDir,
    ca_pem: String,
    ca_der: Vec<u8>,
    /// Signs the OCSP responses (`ca` answers them; only the transport is here).
    authority: Arc<Authority>,
    pool: Arc<ca::pool::Pool>,
    /// OCSP responses sent since start, by responseStatus: not audited (public, high volume),
    /// counted for `/metrics`.
    ocsp_sent: [std::sync::atomic::AtomicU64; 3],
}

/// Runs until SIGINT or SIGTERM.
pub fn run(dir: DataDir) -> Result<(), AppError> {
    let config = dir.load_config()?;
    // A previous run's addresses must not be mistaken for this one's.
    let _ = std::fs::remove_file(dir.listening());
    let authority = Arc::new(dir.load_authority(&config)?);
    {
        let mut conn = dir.open_db()?;
        if Authority::crl_is_stale(&conn)? {
            let crl = authority.publish_crl(&mut conn, "daemon", OffsetDateTime::now_utc())?;
            dir.write_crl(&crl.der)?;
        }
    }
    let tls = Arc::new(server_tls(&dir, &config)?);
    let revoked = Arc::new(ca::revocation::RevocationSet::new());
    revoked.refresh(&crate::db::open_existing(&dir.database())?)?;
    let (chain, key_der) = server_identity(&dir, &config)?;
    let registry_tls = Arc::new(crate::mtls::registry_tls(
        chain,
        key_der,
        authority.certificate_der(),
        revoked.clone(),
    )?);
    let clock: Arc<dyn ca::Clock> = Arc::new(ca::SystemClock);
    let services = crate::services::Services::open_for_daemon(&dir, &config, clock.clone())?;
    spawn_checkpointer(services.pool.clone())?;
    let pass = services.pass.clone();
    let access = services.access.clone();
    let key = services.key.clone();
    let transports = enroll::outbox::Transports::from_config(&config.outbox(), &dir.outbox())
        .map_err(|e| AppError::Config(e.to_string()))?;
    let outbox_signal = enroll::outbox::WorkerSignal::new();
    let outbox_worker = enroll::outbox::spawn_worker(
        dir.database(),
        transports,
        clock.clone(),
        outbox_signal.clone(),
    )
    .map_err(|e| AppError::DataDir(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::io(dir.root(), e))?;
    let worker_signal = outbox_signal.clone();
    let worker_stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    runtime.block_on(async move {
        let public = TcpListener::bind(config.listen.public).await.map_err(|e| {
            AppError::DataDir(format!("écoute publique {} : {e}", config.listen.public))
        })?;
        let public_addr = public
            .local_addr()
            .map_err(|e| AppError::io(dir.root(), e))?;
        let registry = TcpListener::bind(config.listen.registry)
            .await
            .map_err(|e| {
                AppError::DataDir(format!(
                    "écoute du registre {} : {e}",
                    config.listen.registry
                ))
            })?;
        let registry_addr = registry
            .local_addr()
            .map_err(|e| AppError::io(dir.root(), e))?;
        let registry_router = crate::registry_web::router(crate::registry_web::RegistryState {
            access: access.clone(),
            pool: services.pool.clone(),
            revoked: revoked.clone(),
            sessions: Arc::new(crate::registry_web::Sessions::default()),
            clock: clock.clone(),
            registry: registry::Registry::new(services.pool.clone(), clock.clone()),
            key: services.key.clone(),
            access_code_attempts: config.access.access_code_max_attempts,
        });
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
                pass,
                key: key.clone(),
                outbox: outbox_signal.clone(),
            }))
            .merge(enroll::web::withdrawal::router(
                enroll::web::withdrawal::WithdrawalState {
                    access: access.clone(),
                    authority: authority.clone(),
                    key,
                },
            ));
        write_listening(&dir, public_addr, registry_addr)?;
        warn_if_links_elsewhere(&config, public_addr);
        println!("siseri à l'écoute : https://{public_addr}/ (publique, PASS et retraits)");
        println!("                    https://{registry_addr}/ (registre, TLS mutuel)");
        tracing::info!(%public_addr, %registry_addr, "listening");

        tokio::spawn(refresh_crl(dir.clone(), authority.clone()));
        tokio::spawn(maintenance(
            dir.clone(),
            access.clone(),
            authority.clone(),
            outbox_signal.clone(),
        ));
        let server = tokio::spawn(accept_loop(public, TlsAcceptor::from(tls), router, false));
        let registry_server = tokio::spawn(accept_loop(
            registry,
            TlsAcceptor::from(registry_tls),
            registry_router,
            true,
        ));
        let refresher = tokio::task::spawn_blocking({
            let (dir, revoked, stop) = (dir.clone(), revoked.clone(), worker_stop.clone());
            move || refresh_revocations(&dir, &revoked, &stop)
        });
        shutdown_signal().await;
        tracing::info!("arrêt demandé");
        server.abort();
        registry_server.abort();
        worker_stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = refresher.await;
        Ok::<(), AppError>(())
    })?;
    worker_signal.stop();
    let _ = outbox_worker.join();
    Ok(())
}

fn public_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/pki/ac-siseri.pem", get(ca_pem))
        .route("/pki/ac-siseri.cer", get(ca_cer))
        .route("/pki/ac-siseri.crl", get(crl))
        .route(
            "/ocsp",
            post(ocsp_post).layer(DefaultBodyLimit::max(OCSP_MAX_BODY)),
        )
        .route("/ocsp/{*request}", get(ocsp_get))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn ca_pem(State(s): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        s.ca_pem.clone(),
    )
        .into_response()
}

async fn ca_cer(State(s): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        s.ca_der.clone(),
    )
        .into_response()
}

/// Always the latest CRL from the database (a CLI revocation is visible at once), with
/// caching headers that match its nextUpdate.
async fn crl(State(s): State<Arc<AppState>>) -> Response {
    let path = s.dir.database();
    let latest = tokio::task::spawn_blocking(move || {
        let conn = crate::db::open_existing(&path)?;
        Ok::<_, AppError>(Authority::latest_crl(&conn)?)
    })
    .await;
    match latest {
        Ok(Ok(Some(crl))) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pkix-crl"),
            );
            let max_age = (crl.next_update - OffsetDateTime::now_utc())
                .whole_seconds()
                .max(0);
            if let Ok(v) =
                HeaderValue::from_str(&format!("public, max-age={max_age}, must-revalidate"))
            {
                headers.insert(header::CACHE_CONTROL, v);
            }
            for (name, t) in [
                (header::EXPIRES, crl.next_update),
                (header::LAST_MODIFIED, crl.this_update),
            ] {
                if let Some(v) = http_date(t) {
                    headers.insert(name, v);
                }
            }
            if let Ok(v) = HeaderValue::from_str(&format!("\"crl-{}\"", crl.number)) {
                headers.insert(header::ETAG, v);
            }
            (headers, crl.der).into_response()
        }
        Ok(Ok(None)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "LCR pas encore publiée\n").into_response()
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "lecture de la LCR");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "tâche de lecture de la LCR");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne\n").into_response()
        }
    }
}

/// OCSP over HTTP (RFC 6960 appendix A): the DER request as the body.
async fn ocsp_post(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let reply = ocsp_answer(&s, body.to_vec()).await;
    ocsp_response(&s, reply, false)
}

/// OCSP over HTTP, GET form: the base64 of the DER request, URL-encoded, as the last path
/// segments. A path that does not decode gets `malformedRequest` (status 200, as for a POST).
async fn ocsp_get(State(s): State<Arc<AppState>>, uri: Uri) -> Response {
    let reply = match ocsp_get_request(uri.path()) {
        Some(der) => ocsp_answer(&s, der).await,
        None => OcspReply::malformed(),
    };
    ocsp_response(&s, reply, true)
}

/// `/ocsp/{base64}` → the DER request. Accepts the standard and URL-safe alphabets, with or
/// without padding, percent-encoded or not (a raw `/` of the standard alphabet included).
fn ocsp_get_request(path: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let encoded = path.strip_prefix("/ocsp/")?.as_bytes();
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == b'%' {
            let hex = std::str::from_utf8(encoded.get(i + 1..i + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(encoded[i]);
            i += 1;
        }
    }
    decoded.retain(|b| !b.is_ascii_whitespace());
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&decoded).ok())
}

async fn ocsp_answer(s: &Arc<AppState>, der: Vec<u8>) -> OcspReply {
    let state = s.clone();
    let reply = tokio::task::spawn_blocking(move || match state.pool.get() {
        Ok(conn) => state
            .authority
            .answer_ocsp(&conn, &der, OffsetDateTime::now_utc()),
        Err(e) => {
            tracing::error!(error = %e, "base de données pour OCSP");
            OcspReply::internal_error()
        }
    })
    .await;
    reply.unwrap_or_else(|e| {
        tracing::error!(error = %e, "tâche de réponse OCSP");
        OcspReply::internal_error()
    })
}

/// `application/ocsp-response`; a GET answer without a nonce may be cached until nextUpdate
/// (RFC 5019 §6), anything else is for one client only.
fn ocsp_response(s: &AppState, reply: OcspReply, get: bool) -> Response {
    let slot = match reply.outcome {
        OcspOutcome::Successful => 0,
        OcspOutcome::MalformedRequest => 1,
        _ => 2,
    };
    s.ocsp_sent[slot].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ocsp-response"),
    );
    if get {
        match (reply.this_update, reply.next_update) {
            (Some(this_update), Some(next_update)) if !reply.has_nonce => {
                let max_age = (next_update - OffsetDateTime::now_utc())
                    .whole_seconds()
                    .max(0);
                if let Ok(v) = HeaderValue::from_str(&format!(
                    "public, max-age={max_age}, no-transform, must-revalidate"
                )) {
                    headers.insert(header::CACHE_CONTROL, v);
                }
                for (name, t) in [
                    (header::EXPIRES, next_update),
                    (header::LAST_MODIFIED, this_update),
                ] {
                    if let Some(v) = http_date(t) {
                        headers.insert(name, v);
                    }
                }
            }
            _ => {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            }
        }
    }
    (headers, reply.der).into_response()
}

/// Prometheus text format: what an operator watches (certificates by status, the CRL in force,
/// the outbox backlog). Counts only, never a name.
async fn metrics(State(s): State<Arc<AppState>>) -> Response {
    let path = s.dir.database();
    let ocsp_sent: Vec<u64> = s
        .ocsp_sent
        .iter()
        .map(|n| n.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    let text = tokio::task::spawn_blocking(move || -> Result<String, AppError> {
        use std::fmt::Write as _;
        let conn = crate::db::open_existing(&path)?;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP siseri_ocsp_responses_total OCSP responses sent since start, by responseStatus."
        );
        let _ = writeln!(out, "# TYPE siseri_ocsp_responses_total counter");
        for (status, n) in ["successful", "malformedRequest", "internalError"]
            .iter()
            .zip(&ocsp_sent)
        {
            let _ = writeln!(
                out,
                "siseri_ocsp_responses_total{{status=\"{status}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP siseri_certificates Certificates recorded by AC SISERI, by status."
        );
        let _ = writeln!(out, "# TYPE siseri_certificates gauge");
        for (status, n) in ca::counts(&conn)? {
            let _ = writeln!(out, "siseri_certificates{{status=\"{status}\"}} {n}");
        }
        if let Some(crl) = Authority::latest_crl_info(&conn)? {
            let _ = writeln!(out, "# HELP siseri_crl_number Number of the CRL in force.");
            let _ = writeln!(out, "# TYPE siseri_crl_number gauge");
            let _ = writeln!(out, "siseri_crl_number {}", crl.number);
            let _ = writeln!(
                out,
                "# HELP siseri_crl_entries Entries of the CRL in force."
            );
            let _ = writeln!(out, "# TYPE siseri_crl_entries gauge");
            let _ = writeln!(out, "siseri_crl_entries {}", crl.entries);
            let _ = writeln!(
                out,
                "# HELP siseri_crl_next_update_seconds nextUpdate of the CRL in force (Unix time)."
            );
            let _ = writeln!(out, "# TYPE siseri_crl_next_update_seconds gauge");
            let _ = writeln!(
                out,
                "siseri_crl_next_update_seconds {}",
                crl.next_update.unix_timestamp()
            );
        }
        let o = enroll::outbox::counts(&conn).map_err(|e| AppError::DataDir(e.to_string()))?;
        let _ = writeln!(
            out,
            "# HELP siseri_outbox_messages E-mails and SMS in the durable outbox."
        );
        let _ = writeln!(out, "# TYPE siseri_outbox_messages gauge");
        let _ = writeln!(
            out,
            "siseri_outbox_messages{{state=\"pending\"}} {}",
            o.pending
        );
        let _ = writeln!(
            out,
            "siseri_outbox_messages{{state=\"retrying\"}} {}",
            o.retrying
        );
        let _ = writeln!(
            out,
            "siseri_outbox_messages{{state=\"delivered\"}} {}",
            o.delivered
        );
        Ok(out)
    })
    .await;
    match text {
        Ok(Ok(t)) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            t,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "métriques");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne\n").into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "tâche des métriques");
            (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne\n").into_response()
        }
    }
}

/// An HTTP-date (RFC 9110 §5.6.7); none for a time before 1970, which `httpdate` cannot write
/// (it panics).
fn http_date(t: OffsetDateTime) -> Option<HeaderValue> {
    if !(1970..=9999).contains(&t.year()) {
        return None;
    }
    HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::from(t))).ok()
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, router: Router, mtls: bool) {
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "poignée de main TLS refusée");
                    return;
                }
                Err(_) => return,
            };
            // Handlers see the peer address (rate limits, signature evidence) as ConnectInfo,
            // and on the registry the client certificate, checked again at every request.
            let mut router = router.layer(axum::Extension(axum::extract::ConnectInfo(peer)));
            if mtls {
                let cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| crate::mtls::ClientCert::parse(c));
                match cert {
                    Some(cert) => router = router.layer(axum::Extension(cert)),
                    None => return,
                }
            }
            let service = TowerToHyperService::new(router);
            if let Err(e) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(tls), service)
                .await
            {
                tracing::debug!(%peer, error = %e, "connexion");
            }
        });
    }
}

/// How often the daemon copies the WAL back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the database every [`CHECKPOINT_EVERY`], on a thread of its own, so that no
/// request's commit pays for it (the daemon's connections do not checkpoint themselves). A
/// passive checkpoint waits for no one; an idle WAL costs it a look at the WAL index.
fn spawn_checkpointer(pool: Arc<ca::pool::Pool>) -> Result<(), AppError> {
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

/// Re-signs the CRL once a day, so that relying parties never hold one past its nextUpdate,
/// and after a revocation the CRL in force does not cover. Reads only the CRL's metadata and
/// what it covers (an index lookup, remembered per CRL number), never the CRL's bytes.
async fn refresh_crl(dir: DataDir, authority: Arc<Authority>) {
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
            dir.write_crl(&crl.der)?;
            Ok((Some(crl.number), None))
        })
        .await;
        match done {
            Ok(Ok((published, seen))) => {
                known = seen;
                if let Some(n) = published {
                    tracing::info!(number = n, "LCR re-signée");
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "re-signature de la LCR"),
            Err(e) => tracing::error!(error = %e, "tâche de re-signature de la LCR"),
        }
    }
}

/// Every few minutes: expired withdrawals are closed and their files erased, and expiry
/// notices go out (both idempotent).
async fn maintenance(
    dir: DataDir,
    access: Arc<enroll::access::Access>,
    authority: Arc<Authority>,
    outbox: enroll::outbox::WorkerSignal,
) {
    let mut every = tokio::time::interval(MAINTENANCE_EVERY);
    loop {
        every.tick().await;
        let (access, authority, dir) = (access.clone(), authority.clone(), dir.clone());
        let done = tokio::task::spawn_blocking(move || {
            let swept = access.sweep_withdrawals(&authority)?;
            let notices = access.expiry_notices()?;
            if swept > 0 {
                let conn = crate::db::open_existing(&dir.database())
                    .map_err(|e| enroll::access::AccessError::Internal(e.to_string()))?;
                if let Ok(Some(crl)) = Authority::latest_crl(&conn) {
                    let _ = dir.write_crl(&crl.der);
                }
            }
            Ok::<_, enroll::access::AccessError>((swept, notices))
        })
        .await;
        match done {
            Ok(Ok((swept, notices))) => {
                if swept > 0 || notices > 0 {
                    tracing::info!(swept, notices, "maintenance des retraits et préavis");
                    outbox.wake();
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "maintenance"),
            Err(e) => tracing::error!(error = %e, "tâche de maintenance"),
        }
    }
}

/// Follows the database's revocations (the CLI's included) every 200 ms, so that a revoked
/// certificate is refused at the handshake within a second.
fn refresh_revocations(
    dir: &DataDir,
    revoked: &ca::revocation::RevocationSet,
    stop: &std::sync::atomic::AtomicBool,
) {
    let mut conn = None;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        if conn.is_none() {
            conn = crate::db::open_existing(&dir.database()).ok();
        }
        if let Some(c) = &conn {
            match revoked.refresh(c) {
                Ok(n) if n > 0 => {
                    tracing::info!(nouvelles = n, total = revoked.len(), "révocations")
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

/// The listeners' certificate chain and key: ours, or the configured external files.
fn server_identity(
    dir: &DataDir,
    config: &Config,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), AppError> {
    let (cert_path, key_path) = match (&config.tls.cert_file, &config.tls.key_file) {
        (Some(c), Some(k)) => (c.into(), k.into()),
        _ => (dir.tls_cert(), dir.tls_key()),
    };
    Ok((load_certs(&cert_path)?, load_key(&key_path)?))
}

/// The public listener's TLS configuration (server authentication only), ring as the provider.
fn server_tls(dir: &DataDir, config: &Config) -> Result<rustls::ServerConfig, AppError> {
    let (chain, key) = server_identity(dir, config)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| AppError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| AppError::Tls(e.to_string()))?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

fn load_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, AppError> {
    CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| match e {
            pem::Error::Io(e) => AppError::io(path, e),
            e => AppError::Tls(format!(
                "{} : certificats PEM illisibles ({e})",
                path.display()
            )),
        })
}

/// Read into a buffer wiped on drop; the parser's messages are not passed on, as they may quote
/// the file.
fn load_key(path: &std::path::Path) -> Result<PrivateKeyDer<'static>, AppError> {
    let pem = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| AppError::io(path, e))?);
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        pem::Error::NoItemsFound => {
            AppError::Tls(format!("aucune clé privée dans {}", path.display()))
        }
        _ => AppError::Tls(format!("clé privée illisible dans {}", path.display())),
    })
}
