//! The listeners' TLS side: their certificate and key, the accept loop, and hyper serving each
//! connection (HTTP/1.1 or HTTP/2, as ALPN chose).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::config::Config;
use crate::datadir::DataDir;
use crate::error::AppError;

const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until the task is aborted. With `mtls`, a connection whose client
/// certificate does not parse is dropped, and handlers get the parsed one as an extension.
pub(super) async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: Router,
    mtls: bool,
) {
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
                    .and_then(|c| crate::mtls::client_cert(c));
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
