//! The receipt key in the signer process (issue 16 §2): made at the signer's first start
//! (`ca/recepisse.key.pem`, encrypted with the CA key's passphrase, owner-only; with the CA key
//! in a PKCS#11 token, in that token as `<key_label>-recepisse`), certified by
//! AC SISERI under the `receipt` profile whenever no certificate of it is valid for 30 more
//! days (`ca/recepisse.pem`, the one in force first, older ones kept until they expire).
//!
//! The signer otherwise never writes the shared database; this is the one exception, made from
//! a connection of its own at start and then by a periodic thread, never from a request an
//! asker waits on (it may hold the write lock: see `ARCHITECTURE.md`).

use std::sync::Arc;
use std::time::Duration;

use ca::signer::SignerService;
use ca::ReceiptKey;
use secrecy::ExposeSecret;

use crate::config::Config;
use crate::datadir::{read, write_atomic, DataDir};
use crate::error::AppError;

/// How often a running signer checks its receipt certificate; until one is in force (a first
/// attempt failed), every minute.
const CHECK_EVERY: Duration = Duration::from_secs(6 * 3600);
const RETRY_EVERY: Duration = Duration::from_secs(60);

/// Gives the signer its receipt key and certificate before it says it is ready (so that a
/// daemon's first récépissé, and every test's count of certificates, never race with the
/// issuance), then keeps the certificate current from a thread. Never fails the signer:
/// without a receipt key it still signs certificates, CRLs and OCSP responses, and refuses
/// récépissés with a message saying why.
pub fn start(dir: &DataDir, config: &Config, service: &Arc<SignerService>) {
    let key = match config.ca.token() {
        Some(token) => in_token(service, &token),
        None => load_or_create(dir),
    };
    let key = match key {
        Ok(key) => key,
        Err(e) => {
            tracing::error!(error = %e, "clé des récépissés inutilisable : les récépissés ne seront pas signés");
            return;
        }
    };
    if let Err(e) = service.authority().install_receipt_key(key) {
        tracing::error!(error = %e, "clé des récépissés non installée");
        return;
    }
    let in_token = config.ca.token().is_some();
    let mut ready = renew(dir, service, in_token);
    let (dir, service) = (dir.clone(), service.clone());
    let spawned = std::thread::Builder::new()
        .name("recepisses".into())
        .spawn(move || loop {
            std::thread::sleep(if ready { CHECK_EVERY } else { RETRY_EVERY });
            ready = renew(&dir, &service, in_token);
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "contrôle périodique du certificat des récépissés impossible");
    }
}

/// The receipt key beside the CA key in its PKCS#11 token (label `<key_label>-recepisse`),
/// made there at the first start.
fn in_token(service: &SignerService, token: &ca::TokenConfig) -> Result<ReceiptKey, AppError> {
    let label = format!("{}-recepisse", token.key_label);
    service
        .authority()
        .receipt_key_in_token(&label)?
        .ok_or_else(|| AppError::DataDir("la clé de l'AC n'est pas dans le jeton configuré".into()))
}

/// The receipt key from its file, or a new one written there (0600).
fn load_or_create(dir: &DataDir) -> Result<ReceiptKey, AppError> {
    let passphrase = dir.passphrase()?;
    let path = dir.receipt_key();
    if path.exists() {
        return Ok(ReceiptKey::from_encrypted_pem(
            &read(&path)?,
            passphrase.expose_secret(),
        )?);
    }
    let (key, pem) = ReceiptKey::generate(passphrase.expose_secret())?;
    write_atomic(&path, pem.as_bytes(), 0o600)?;
    tracing::info!(path = %path.display(), "clé des récépissés créée");
    Ok(key)
}

/// One check of the receipt certificate; true when one is in force afterwards. A key whose
/// certificate was revoked is replaced (its file kept aside as `recepisse.key.pem.revoquee`)
/// and the new one certified; in a token, that is the operator's to do.
fn renew(dir: &DataDir, service: &SignerService, in_token: bool) -> bool {
    let outcome = match try_renew(dir, service) {
        Err(AppError::Ca(ca::Error::ReceiptKeyRevoked { serial })) if !in_token => {
            tracing::warn!(serial = %serial, "certificat des récépissés révoqué : nouvelle clé des récépissés");
            replace_key(dir, service).and_then(|()| try_renew(dir, service))
        }
        other => other,
    };
    match outcome {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "certificat des récépissés non renouvelé");
            service.authority().receipt_certificate().is_some()
        }
    }
}

/// A new receipt key in place of the file's, which is kept aside.
fn replace_key(dir: &DataDir, service: &SignerService) -> Result<(), AppError> {
    let path = dir.receipt_key();
    let aside = path.with_extension("pem.revoquee");
    std::fs::rename(&path, &aside).map_err(|e| AppError::io(&path, e))?;
    let key = load_or_create(dir)?;
    service.authority().install_receipt_key(key)?;
    Ok(())
}

fn try_renew(dir: &DataDir, service: &SignerService) -> Result<(), AppError> {
    let path = dir.receipt_cert();
    let current = if path.exists() {
        Some(read(&path)?)
    } else {
        None
    };
    // Opening applies pending migrations: a signer started before the daemon of a newer
    // version still finds the `receipt` profile allowed.
    let mut conn = dir.open_db()?;
    if let Some(renewal) = service.ensure_receipt_certificate(&mut conn, current.as_deref())? {
        write_atomic(&path, renewal.file_pem.as_bytes(), 0o644)?;
        if let Some(serial) = renewal.issued {
            tracing::info!(serial = %serial, "certificat des récépissés émis");
        }
    }
    Ok(())
}

/// The registry's récépissés signed by AC SISERI's receipt key, through the signer process
/// (`registry` never depends on `ca`: it hands over the canonical JSON, this parses it at the
/// edge and signs it).
#[derive(Debug)]
pub struct AuthorityReceipts {
    authority: Arc<ca::Authority>,
    clock: Arc<dyn store::Clock>,
}

impl AuthorityReceipts {
    /// Signs with `authority`'s receipt key, at `clock`'s time.
    pub fn new(authority: Arc<ca::Authority>, clock: Arc<dyn store::Clock>) -> Self {
        Self { authority, clock }
    }
}

impl registry::ReceiptSigner for AuthorityReceipts {
    fn sign(&self, document: &[u8]) -> Result<Vec<u8>, registry::DirectoryError> {
        let internal = |e: String| registry::DirectoryError::Internal(e.into());
        let recepisse = ca::Recepisse::from_signed_bytes(document).map_err(internal)?;
        self.authority
            .sign_receipt(&recepisse, self.clock.now())
            .map_err(|e| internal(e.to_string()))
    }
}
