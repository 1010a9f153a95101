//! The listeners' TLS side: their certificate and key, the accept loop, and hyper serving each
//! connection (HTTP/1.1 or HTTP/2, as ALPN chose).

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulConnection;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower_service::Service;

use crate::config::{Config, Limits};
use crate::datadir::DataDir;
use crate::error::AppError;

/// How long a connection asked to close (idle, or the daemon stopping) may take to finish
/// what it is sending before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// One listener's connection budget: so many open connections in all, so many per client
/// address. Each listener has its own, so that a flood of one cannot take the other's file
/// descriptors, tasks or connections; beyond it, a new connection is closed at once, before
/// any TLS work.
#[derive(Debug)]
pub(super) struct Budget {
    total: Arc<Semaphore>,
    max: usize,
    per_address: usize,
    by_address: Mutex<HashMap<IpAddr, usize>>,
}

impl Budget {
    pub(super) fn new(max: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self {
            total: Arc::new(Semaphore::new(max)),
            max,
            per_address,
            by_address: Mutex::new(HashMap::new()),
        })
    }

    /// A place for a connection from `ip`, or `None` when the listener or the address is full.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Admission> {
        let permit = self.total.clone().try_acquire_owned().ok()?;
        let mut map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        let count = map.entry(ip).or_insert(0);
        if *count >= self.per_address {
            return None;
        }
        *count += 1;
        Some(Admission {
            _permit: permit,
            budget: self.clone(),
            ip,
        })
    }

    /// Waits until every connection of this listener has ended.
    pub(super) async fn drained(&self) {
        let all = u32::try_from(self.max).unwrap_or(u32::MAX);
        let _ = self.total.acquire_many(all).await;
    }
}

/// A connection's place in its listener's [`Budget`], given back when it ends.
#[derive(Debug)]
struct Admission {
    _permit: OwnedSemaphorePermit,
    budget: Arc<Budget>,
    ip: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut map = self
            .budget
            .by_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(count) = map.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// One listener: its socket, TLS, application, budget and limits.
pub(super) struct Listener {
    pub tcp: TcpListener,
    /// `None`: plain HTTP (the publication listener), with the same budgets and timeouts.
    pub acceptor: Option<TlsAcceptor>,
    pub router: Router,
    /// Mutual TLS: a connection whose client certificate does not parse is dropped, and
    /// handlers get the parsed one as an extension.
    pub mtls: bool,
    pub budget: Arc<Budget>,
    pub limits: Limits,
}

/// Accepts connections until `stop` turns true; the connections already open are then asked
/// to finish their requests and close (HTTP/1.1 after the response in flight, HTTP/2 with a
/// GOAWAY), which [`Budget::drained`] waits for.
pub(super) async fn accept_loop(l: Listener, mut stop: watch::Receiver<bool>) {
    let builder = Arc::new(http_builder(&l.limits));
    loop {
        let accepted = tokio::select! {
            a = l.tcp.accept() => a,
            _ = stop.wait_for(|s| *s) => return,
        };
        let (tcp, peer) = match accepted {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(admission) = l.budget.admit(peer.ip()) else {
            tracing::debug!(%peer, "connexion refusée : budget de l'écoute ou de l'adresse atteint");
            // Reset rather than closed: no FIN exchange and no TIME_WAIT kept here for each
            // refusal of a flood that reconnects as fast as it is refused.
            let _ = tcp.set_zero_linger();
            drop(tcp);
            continue;
        };
        // Each write goes out at once: with Nagle's algorithm, a response's last segment waited
        // for the client's acknowledgement of the one before, which a client delays by 40 ms
        // (measured: a worker's career read at 50,000,000 results, p99 48 ms with, see
        // BENCHMARKS.md). hyper and rustls already gather what they write.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "TCP_NODELAY non posé");
        }
        let acceptor = l.acceptor.clone();
        let router = l.router.clone();
        let (builder, stop, mtls) = (builder.clone(), stop.clone(), l.mtls);
        let handshake = Duration::from_secs(l.limits.tls_handshake_secs);
        let idle = Duration::from_secs(l.limits.idle_secs);
        tokio::spawn(async move {
            let _admission = admission;
            let Some(acceptor) = acceptor else {
                let connection = Connection {
                    router,
                    peer,
                    cert: None,
                };
                serve_stream(tcp, connection, &builder, idle, stop).await;
                return;
            };
            let tls = match tokio::time::timeout(handshake, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "poignée de main TLS refusée");
                    return;
                }
                Err(_) => return,
            };
            let cert = if mtls {
                let cert = tls
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| crate::mtls::client_cert(c));
                match cert {
                    Some(cert) => Some(cert),
                    None => return,
                }
            } else {
                None
            };
            let connection = Connection { router, peer, cert };
            serve_stream(tls, connection, &builder, idle, stop).await;
        });
    }
}

/// What one connection gives each of its requests: the listener's application, the peer
/// address (rate limits, signature evidence) as `ConnectInfo`, and on mutual-TLS listeners
/// the client certificate (checked again at every request by the handlers).
///
/// Put into each request's extensions by [`serve_stream`], rather than by `Router::layer` per
/// connection: that would rebuild every route of the router at each connection, a cost a
/// flood of new connections would multiply.
struct Connection {
    router: Router,
    peer: SocketAddr,
    cert: Option<crate::mtls::ClientCert>,
}

/// Serves one connection's requests (TLS already done, or plain HTTP) under the idle watchdog.
async fn serve_stream<S>(
    io: S,
    connection: Connection,
    builder: &auto::Builder<TokioExecutor>,
    idle: Duration,
    stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let busy = activity.clone();
    let Connection { router, peer, cert } = connection;
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        let extensions = request.extensions_mut();
        extensions.insert(ConnectInfo(peer));
        if let Some(cert) = &cert {
            extensions.insert(cert.clone());
        }
        // A request being answered is not silence, however long the application works.
        let answering = busy.answering();
        let response = router.clone().call(request.map(Body::new));
        async move {
            let response = response.await;
            drop(answering);
            response
        }
    });
    let io = TokioIo::new(Watched {
        inner: io,
        activity: activity.clone(),
    });
    let conn = builder.serve_connection(io, service);
    serve_watched(conn, &activity, idle, stop).await;
}

/// HTTP/1.1 and HTTP/2 with their timers and limits.
fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_secs))
        // No read while a request is being answered: hyper would otherwise try one at every
        // request to notice a client gone, and that read needs a fresh 8 KB buffer each time
        // (the one it has is still shared with the request being answered), a third of the
        // allocator's work on the OCSP path. A client gone mid-request is noticed when the
        // answer is written; the request timeout bounds the work done meanwhile. It also lets
        // a client that shut its sending side after its request (`nc -N`) get its answer.
        .half_close(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.h2_max_concurrent_streams)
        .max_header_list_size(limits.h2_max_header_list_bytes)
        .keep_alive_interval(Duration::from_secs(limits.h2_keep_alive_secs))
        .keep_alive_timeout(Duration::from_secs(limits.h2_keep_alive_secs));
    builder
}

/// Drives `conn` to its end, closing it gracefully when it has been silent for `idle` or when
/// the daemon stops, and dropping it if it has not closed [`CLOSE_GRACE`] after that (the
/// daemon's own shutdown grace bounds the wait for requests in flight).
async fn serve_watched<C>(
    conn: C,
    activity: &Activity,
    idle: Duration,
    mut stop: watch::Receiver<bool>,
) where
    C: GracefulConnection,
    C::Error: std::fmt::Display,
{
    tokio::pin!(conn);
    let mut closing: Option<Instant> = None;
    let mut stopping = false;
    loop {
        // One timer per connection, set to when it could next be due, not a periodic tick:
        // ten thousand idle connections wake the daemon once per `idle` each, not every second.
        let due = match closing {
            None => tokio::time::Instant::now() + idle.saturating_sub(activity.silent_for()),
            Some(since) => tokio::time::Instant::from_std(since + CLOSE_GRACE),
        };
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connexion");
                }
                return;
            }
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tokio::time::sleep_until(due) => {
                match closing {
                    None if activity.silent_for() >= idle => {
                        closing = Some(Instant::now());
                        conn.as_mut().graceful_shutdown();
                    }
                    Some(since) if since.elapsed() >= CLOSE_GRACE => return,
                    _ => {}
                }
            }
        }
    }
}

/// When a connection last moved a byte, and how many of its requests are being answered.
#[derive(Debug)]
struct Activity {
    epoch: Instant,
    last_ms: AtomicU64,
    answering: AtomicUsize,
}

/// A request being answered on a connection (see [`Activity::answering`]).
struct Answering(Arc<Activity>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.touch();
        self.0.answering.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            last_ms: AtomicU64::new(0),
            answering: AtomicUsize::new(0),
        }
    }

    /// Marks a request as being answered until the guard drops.
    fn answering(self: &Arc<Self>) -> Answering {
        self.answering.fetch_add(1, Ordering::Relaxed);
        Answering(self.clone())
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// How long nothing moved and no request was being answered.
    fn silent_for(&self) -> Duration {
        if self.answering.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }
}

/// A stream that notes in its [`Activity`] every byte read or written. Written by hand: what
/// hyper offers are timers for headers and HTTP/2 pings, not "no byte for so long" across
/// requests and both protocols.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> Watched<S> {
    /// Runs one write on the inner stream; a write that moved a byte is activity.
    fn write_with(
        self: Pin<&mut Self>,
        write: impl FnOnce(Pin<&mut S>) -> Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = write(Pin::new(&mut this.inner));
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write_with(|inner| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.write_with(|inner| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The listeners' certificate chain and key: ours, or the configured external files.
pub(super) fn server_identity(
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
pub(super) fn server_tls(dir: &DataDir, config: &Config) -> Result<rustls::ServerConfig, AppError> {
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

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, AppError> {
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
fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, AppError> {
    let pem = zeroize::Zeroizing::new(std::fs::read(path).map_err(|e| AppError::io(path, e))?);
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| match e {
        pem::Error::NoItemsFound => {
            AppError::Tls(format!("aucune clé privée dans {}", path.display()))
        }
        _ => AppError::Tls(format!("clé privée illisible dans {}", path.display())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_answering_a_request_is_never_silent() {
        let activity = Arc::new(Activity::new());
        std::thread::sleep(Duration::from_millis(20));
        assert!(activity.silent_for() >= Duration::from_millis(20));
        let answering = activity.answering();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(activity.silent_for(), Duration::ZERO);
        drop(answering);
        assert!(activity.silent_for() < Duration::from_millis(20));
    }
}
