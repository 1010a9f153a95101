//! Mutual TLS of the registry listener: only certificates of AC SISERI, neither revoked nor
//! expired, at the handshake and again at every request (kept-alive connections and resumed
//! TLS sessions skip the handshake's verifier; neither may outlive a revocation).

use std::sync::Arc;

use ca::revocation::RevocationSet;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme,
};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::error::AppError;

/// WebPKI's chain and validity checks, then our revocation set.
#[derive(Debug)]
pub struct SiseriClientVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    revoked: Arc<RevocationSet>,
}

impl SiseriClientVerifier {
    /// Trusts AC SISERI only.
    pub fn new(
        ca_der: &[u8],
        revoked: Arc<RevocationSet>,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> Result<Self, AppError> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca_der.to_vec()))
            .map_err(|e| AppError::Tls(e.to_string()))?;
        let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| AppError::Tls(e.to_string()))?;
        Ok(Self { inner, revoked })
    }
}

/// The handshake's signature checks, TLS 1.2 and 1.3 alike, are WebPKI's: passed on as they are.
macro_rules! delegate_signature_checks {
    ($($method:ident),+) => {$(
        fn $method(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.inner.$method(message, cert, dss)
        }
    )+};
}

impl ClientCertVerifier for SiseriClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    /// Sent to the browser, so that it offers an AC SISERI certificate.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        let identity = client_cert(end_entity).ok_or(rustls::Error::InvalidCertificate(
            CertificateError::BadEncoding,
        ))?;
        if self.revoked.is_revoked(&identity.serial) {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Revoked));
        }
        Ok(verified)
    }

    delegate_signature_checks!(verify_tls12_signature, verify_tls13_signature);

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

pub use registry::web::ClientCert;

/// Reads what the registry needs of a DER client certificate.
pub fn client_cert(der: &[u8]) -> Option<ClientCert> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    Some(ClientCert {
        serial: cert.raw_serial().to_vec(),
        not_after: cert.validity().not_after.timestamp(),
        common_name,
        subject: cert.subject().to_string(),
    })
}

/// The registry listener's TLS configuration: client certificate required, TLS 1.2 and 1.3,
/// h2 and HTTP/1.1.
pub fn registry_tls(
    chain: Vec<CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
    ca_der: &[u8],
    revoked: Arc<RevocationSet>,
) -> Result<rustls::ServerConfig, AppError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = SiseriClientVerifier::new(ca_der, revoked, provider.clone())?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| AppError::Tls(e.to_string()))?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(chain, key)
        .map_err(|e| AppError::Tls(e.to_string()))?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}
