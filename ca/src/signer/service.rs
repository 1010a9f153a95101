//! The side that holds the key: answers the requests of [`wire`](super::wire) on a Unix socket,
//! one thread per connection, each request checked before it is signed and every signature
//! audited in the signer's own hash-chained log.

use std::io;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use der::Decode;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use store::audit::{self, Event};
use store::Clock;

use super::wire::{read_frame, write_frame, Answer, Request};
use crate::storage::{self, CertificateStatus};
use crate::{Authority, Error, Result, Serial};

/// AC SISERI's signer: the authority holding its key, the CA database it reads (to check that
/// what it signs was recorded), and its own audit log.
pub struct SignerService {
    authority: Authority,
    database: PathBuf,
    audit: Mutex<Connection>,
    clock: Arc<dyn Clock>,
    fingerprint: Vec<u8>,
}

impl std::fmt::Debug for SignerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerService")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl SignerService {
    /// A signer for `authority` (which must hold its key), checking requests against the
    /// database at `database` and auditing into the SQLite file `audit_log` (created, with
    /// its hash-chained table, if missing).
    pub fn new(
        authority: Authority,
        database: &Path,
        audit_log: &Path,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        if !authority.holds_key() {
            return Err(Error::SignerUnavailable(
                "le signataire doit détenir la clé de l'AC".into(),
            ));
        }
        let mut audit = Connection::open(audit_log)?;
        audit.busy_timeout(std::time::Duration::from_secs(30))?;
        audit.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
        store::migrate::apply(&mut audit, "store", store::migrate::MIGRATIONS)?;
        let fingerprint = ring::digest::digest(&ring::digest::SHA256, authority.certificate_der())
            .as_ref()
            .to_vec();
        Ok(Self {
            authority,
            database: database.to_owned(),
            audit: Mutex::new(audit),
            clock,
            fingerprint,
        })
    }

    /// The authority it signs for.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// [`Authority::ensure_receipt_certificate`], with the certificate's signature audited in
    /// the signer's log like every other: `conn` is a read-write connection to the CA
    /// database, opened for this alone (at start, or by a periodic check: never while an
    /// asker waits on us with the write lock held).
    pub fn ensure_receipt_certificate(
        &self,
        conn: &mut Connection,
        file_pem: Option<&str>,
    ) -> Result<Option<crate::ReceiptRenewal>> {
        let now = self.clock.now();
        let renewal = self
            .authority
            .ensure_receipt_certificate(conn, file_pem, now)?;
        if let Some(serial) = renewal.as_ref().and_then(|r| r.issued.as_ref()) {
            let tbs = storage::recorded_tbs(conn, serial)?.unwrap_or_default();
            self.audit("signer.certificate", &serial.to_hex(), &tbs, now)?;
        }
        Ok(renewal)
    }

    /// Serves `listener` until it fails: a thread per connection.
    pub fn serve(self: Arc<Self>, listener: UnixListener) -> io::Result<()> {
        for stream in listener.incoming() {
            let stream = match stream {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let me = self.clone();
            std::thread::Builder::new()
                .name("signataire".into())
                .spawn(move || me.connection(stream))?;
        }
        Ok(())
    }

    fn connection(&self, mut stream: UnixStream) {
        let db = match self.open_database() {
            Ok(db) => db,
            Err(e) => {
                tracing::error!(erreur = %e, "base de l'AC illisible pour le signataire");
                return;
            }
        };
        loop {
            let payload = match read_frame(&mut stream) {
                Ok(Some(p)) => p,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(erreur = %e, "connexion au signataire interrompue");
                    return;
                }
            };
            let answer = match Request::decode(&payload) {
                Ok(request) => self.answer(&db, &request),
                Err(why) => Answer::Refused(format!("demande illisible : {why}")),
            };
            if let Answer::Refused(why) | Answer::Failed(why) = &answer {
                tracing::warn!(motif = %why, "signature refusée");
            }
            if write_frame(&mut stream, &answer.encode()).is_err() {
                return;
            }
        }
    }

    /// The CA database, read-only: the signer never writes it.
    fn open_database(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.database,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        Ok(conn)
    }

    /// Checks and signs one request, reading the CA database through `db`.
    pub fn answer(&self, db: &Connection, request: &Request) -> Answer {
        match self.sign(db, request) {
            Ok(signature) => Answer::Signed(signature),
            Err(Error::Lint(why) | Error::SignerRefused(why)) => Answer::Refused(why),
            Err(e) => Answer::Failed(e.to_string()),
        }
    }

    fn sign(&self, db: &Connection, request: &Request) -> Result<Vec<u8>> {
        let now = self.clock.now();
        let (action, target, tbs, signature) = match request {
            Request::Hello => return Ok(self.fingerprint.clone()),
            Request::Certificate { serial, tbs } => {
                let serial = Serial::from_der_bytes(serial);
                recorded_unsigned(db, &serial, tbs)?;
                let (signature, _) = self.authority.certificate_signature(tbs, &serial, now)?;
                ("signer.certificate", serial.to_hex(), tbs, signature)
            }
            Request::Crl { entries, idp, tbs } => {
                let entries = usize::try_from(*entries).map_err(|_| refused("trop d'entrées"))?;
                let signature = self
                    .authority
                    .crl_signature(tbs, entries, idp.as_deref(), now)?;
                let target = idp.clone().unwrap_or_else(|| "complète".into());
                ("signer.crl", target, tbs, signature)
            }
            Request::Ocsp { tbs } => {
                no_good_for_revoked(db, tbs)?;
                let (_, signature) = self.authority.sign_ocsp_response(tbs)?;
                ("signer.ocsp", String::new(), tbs, signature)
            }
            Request::Receipt { document } => {
                receipt_certificate_in_force(db, self.authority.receipt_certificate_serial())?;
                let (der, number) = self.authority.receipt_signature(document, now)?;
                ("signer.receipt", number, document, der)
            }
        };
        self.audit(action, &target, tbs, now)?;
        Ok(signature)
    }

    /// One line of the signer's own chained log: what was signed (the SHA-256 of the
    /// to-be-signed bytes), when.
    fn audit(
        &self,
        action: &str,
        target: &str,
        tbs: &[u8],
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let digest = hex::encode(ring::digest::digest(&ring::digest::SHA256, tbs));
        let mut audit = self.audit.lock().unwrap_or_else(|p| p.into_inner());
        let tx = audit.transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(
            &tx,
            now,
            &Event {
                actor: "signer",
                action,
                target,
                details: &[("tbs_sha256", &digest)],
            },
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn refused(why: &str) -> Error {
    Error::SignerRefused(why.to_owned())
}

/// A certificate is signed only if its serial is recorded, unsigned, with these exact
/// to-be-signed bytes: nothing is issued without a record, whatever the asker says.
fn recorded_unsigned(db: &Connection, serial: &Serial, tbs: &[u8]) -> Result<()> {
    let record = storage::find(db, serial)?
        .ok_or_else(|| refused("numéro de série non enregistré dans la base de l'AC"))?;
    if record.status != CertificateStatus::Unsigned {
        return Err(refused("ce numéro de série est déjà signé"));
    }
    if storage::recorded_tbs(db, serial)?.as_deref() != Some(tbs) {
        return Err(refused(
            "le certificat à signer diffère de celui enregistré pour ce numéro de série",
        ));
    }
    Ok(())
}

/// A récépissé is signed only under a receipt certificate the database has issued and not
/// revoked: a revocation stops the receipt key at once, not at the next periodic check.
fn receipt_certificate_in_force(db: &Connection, serial: Option<Serial>) -> Result<()> {
    let serial = serial.ok_or_else(|| {
        Error::SignerUnavailable("aucun certificat des récépissés en cours de validité".into())
    })?;
    match storage::find(db, &serial)?.map(|r| r.status) {
        Some(CertificateStatus::Issued) => Ok(()),
        _ => Err(refused(
            "le certificat des récépissés est révoqué ou inconnu de la base de l'AC",
        )),
    }
}

/// An OCSP response never says `good` of a certificate the database has revoked.
fn no_good_for_revoked(db: &Connection, tbs: &[u8]) -> Result<()> {
    let data = x509_ocsp::ResponseData::from_der(tbs)
        .map_err(|_| refused("ce n'est pas une réponse OCSP (ResponseData)"))?;
    for single in &data.responses {
        if matches!(single.cert_status, x509_ocsp::CertStatus::Good(_)) {
            let serial = Serial::from_der_bytes(single.cert_id.serial_number.as_bytes());
            if let Some(record) = storage::find(db, &serial)? {
                if matches!(record.status, CertificateStatus::Revoked { .. }) {
                    return Err(refused("réponse OCSP « good » pour un certificat révoqué"));
                }
            }
        }
    }
    Ok(())
}
