//! PASS, the *protocole d'accès sécurisé*: drafts kept on the server, supporting documents, the
//! SMS signature bound to the exact Annexe 1, numbers and key names, renewal. The HTML wizard
//! and the JSON API both go through [`Pass`], so they follow the same rules.

mod documents;
mod storage;

use std::path::PathBuf;
use std::sync::Arc;

use ca::pool::Pool;
use ca::Clock;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

pub use documents::{sniff, DocumentKind};
pub use storage::DocumentRecord;

use crate::outbox;
use crate::protocol::{Annexe, FieldErrors, Protocol, ProtocolInput};
use crate::secrets::{new_id, new_token, ServerKey};

const DRAFT_TOKEN: &str = "pass-draft-token";
const SIGNATURE_CODE: &str = "pass-signature-code";
const KEY_NAME: &str = "pass-key-name";

/// Limits and lifetimes, from `config.toml`'s `[pass]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PassConfig {
    /// Largest supporting document accepted, in bytes.
    pub document_max_bytes: usize,
    /// Lifetime of an SMS signature code, in minutes.
    pub code_ttl_minutes: u32,
    /// Wrong codes before the code is locked.
    pub code_max_attempts: u32,
    /// Codes a draft may ask for in an hour.
    pub code_requests_per_hour: u32,
    /// Renewal look-ups (number + key name) per client address and per number in an hour.
    pub renewal_attempts_per_hour: u32,
}

impl Default for PassConfig {
    fn default() -> Self {
        Self {
            document_max_bytes: 10 * 1024 * 1024,
            code_ttl_minutes: 10,
            code_max_attempts: 5,
            code_requests_per_hour: 3,
            renewal_attempts_per_hour: 10,
        }
    }
}

/// Life cycle of a protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being written; changeable.
    Draft,
    /// Signed with the SMS code; immutable; awaiting an operator.
    Signed,
    /// Approved: in force.
    Approved,
    /// Refused by an operator.
    Rejected,
    /// Replaced by a later approved version.
    Superseded,
    /// Abandoned by its author.
    Cancelled,
}

impl Status {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Signed => "signed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Superseded => "superseded",
            Self::Cancelled => "cancelled",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" => Self::Draft,
            "signed" => Self::Signed,
            "approved" => Self::Approved,
            "rejected" => Self::Rejected,
            "superseded" => Self::Superseded,
            "cancelled" => Self::Cancelled,
            _ => return None,
        })
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "brouillon",
            Self::Signed => "signé, en attente de validation",
            Self::Approved => "validé",
            Self::Rejected => "refusé",
            Self::Superseded => "remplacé",
            Self::Cancelled => "abandonné",
        }
    }
}

/// What can go wrong, with the HTTP status and stable code the API answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PassError {
    /// No such draft or version.
    #[error("Protocole introuvable.")]
    NotFound,
    /// The bearer token or draft cookie does not open this draft.
    #[error("Accès refusé à ce brouillon : jeton absent ou invalide.")]
    BadToken,
    /// The version is signed (or abandoned) and cannot change.
    #[error("Ce protocole est signé ou abandonné : il ne peut plus être modifié.")]
    NotDraft,
    /// Fields are wrong or missing.
    #[error("Certaines informations sont à corriger.")]
    Invalid(FieldErrors),
    /// A supporting document is missing before signature.
    #[error("Chargez les pièces justificatives : {0}.")]
    MissingDocuments(String),
    /// The acceptance box was not ticked.
    #[error("Cochez la case d'acceptation du protocole avant de demander le code.")]
    ConsentRequired,
    /// The document is larger than allowed.
    #[error("Le fichier dépasse la taille maximale de {max_mib} Mo.")]
    DocumentTooLarge {
        /// The limit, in MiB.
        max_mib: usize,
    },
    /// The document is not a PDF, JPEG or PNG (by content).
    #[error("Le fichier doit être un PDF, une image JPEG ou PNG.")]
    DocumentType,
    /// Too many attempts in the window.
    #[error("Trop de tentatives : réessayez dans {retry_after_minutes} minutes.")]
    TooManyRequests {
        /// When to try again.
        retry_after_minutes: i64,
    },
    /// No code was asked for, or it was voided.
    #[error("Aucun code de signature en attente : demandez un code.")]
    NoPendingCode,
    /// The code has expired.
    #[error("Le code de signature a expiré : demandez un nouveau code.")]
    CodeExpired,
    /// The protocol changed after the code was sent.
    #[error("Le protocole a été modifié depuis l'envoi du code : demandez un nouveau code.")]
    CodeVoided,
    /// Wrong code.
    #[error("Code de signature incorrect ({attempts_left} essai(s) restant(s)).")]
    WrongCode {
        /// Tries left before the lock.
        attempts_left: u32,
    },
    /// Too many wrong codes: this code is locked.
    #[error("Trop de codes erronés : ce code est bloqué. Demandez un nouveau code.")]
    CodeLocked,
    /// Renewal: number or key name wrong (one message for both).
    #[error("Numéro de protocole ou nom clé incorrect.")]
    RenewalRefused,
    /// Renewal of a protocol with nothing in force.
    #[error("Ce protocole n'a pas de version en vigueur à renouveler.")]
    NothingInForce,

    /// Storage failure (details in the log only).
    #[error("Erreur interne : réessayez plus tard.")]
    Internal(String),
}

impl PassError {
    /// HTTP status for the API.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound | Self::RenewalRefused => 404,
            Self::BadToken => 401,
            Self::NotDraft | Self::NoPendingCode | Self::CodeVoided | Self::NothingInForce => 409,
            Self::Invalid(_) | Self::MissingDocuments(_) | Self::ConsentRequired => 422,
            Self::DocumentTooLarge { .. } => 413,
            Self::DocumentType => 415,
            Self::TooManyRequests { .. } => 429,
            Self::CodeExpired => 410,
            Self::WrongCode { .. } => 403,
            Self::CodeLocked => 423,
            Self::Internal(_) => 500,
        }
    }

    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::BadToken => "bad_token",
            Self::NotDraft => "not_a_draft",
            Self::Invalid(_) => "invalid",
            Self::MissingDocuments(_) => "missing_documents",
            Self::ConsentRequired => "consent_required",
            Self::DocumentTooLarge { .. } => "document_too_large",
            Self::DocumentType => "document_type",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::NoPendingCode => "no_pending_code",
            Self::CodeExpired => "code_expired",
            Self::CodeVoided => "code_voided",
            Self::WrongCode { .. } => "wrong_code",
            Self::CodeLocked => "code_locked",
            Self::RenewalRefused => "renewal_refused",
            Self::NothingInForce => "nothing_in_force",
            Self::Internal(_) => "internal",
        }
    }

    /// Field errors, when there are.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            Self::Invalid(f) => Some(f),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for PassError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<store::Error> for PassError {
    fn from(e: store::Error) -> Self {
        ca::Error::from(e).into()
    }
}

impl From<ca::Error> for PassError {
    fn from(e: ca::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<outbox::OutboxError> for PassError {
    fn from(e: outbox::OutboxError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// A new draft: its public id and its bearer token (shown once, stored hashed).
#[derive(Debug)]
pub struct NewDraft {
    /// Public id.
    pub id: String,
    /// Bearer token; never logged.
    pub token: Zeroizing<String>,
}

/// What the author of a draft sees of it.
#[derive(Debug, Clone, Serialize)]
pub struct DraftView {
    /// Public id.
    pub id: String,
    /// Life cycle.
    pub status: Status,
    /// What was typed.
    pub protocol: ProtocolInput,
    /// Uploaded documents.
    pub documents: Vec<DocumentRecord>,
    /// What is still wrong or missing (empty when the protocol is complete).
    pub errors: FieldErrors,
    /// Where the wizard stands.
    pub wizard_step: String,
    /// Protocol number, once signed (or the renewed protocol's).
    pub number: Option<String>,
    /// Key name, once signed.
    pub key_name: Option<String>,
    /// Version number, once signed.
    pub version: Option<i64>,
    /// SHA-256 of the signed Annexe 1.
    pub document_sha256: Option<String>,
    /// Operator's reason, when rejected.
    pub reject_reason: Option<String>,
}

/// Sent-code confirmation.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSent {
    /// Until when the code works.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Where it went, masked.
    pub phone: String,
}

/// The result of a signature.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    /// Protocol number.
    pub number: String,
    /// Key name (*nom clé*).
    pub key_name: String,
    /// Version number.
    pub version: i64,
    /// SHA-256 of the signed Annexe 1.
    pub document_sha256: String,
}

/// Who is asking, for rate limits and signature evidence.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// Remote address.
    pub ip: String,
    /// Browser or script.
    pub user_agent: String,
}

/// The PASS service.
#[derive(Debug)]
pub struct Pass {
    pool: Arc<Pool>,
    documents_dir: PathBuf,
    key: ServerKey,
    clock: Arc<dyn Clock>,
    config: PassConfig,
}

impl Pass {
    /// PASS over the database `pool`, storing documents under `documents_dir`.
    pub fn new(
        pool: Arc<Pool>,
        documents_dir: PathBuf,
        key: ServerKey,
        clock: Arc<dyn Clock>,
        config: PassConfig,
    ) -> Self {
        Self {
            pool,
            documents_dir,
            key,
            clock,
            config,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &PassConfig {
        &self.config
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Starts a draft, possibly with a first content.
    pub fn create(&self, input: &ProtocolInput) -> Result<NewDraft, PassError> {
        let id = new_id()?;
        let token = new_token()?;
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        storage::insert_draft(
            &tx,
            &id,
            None,
            &to_json(input)?,
            &self.key.hash(DRAFT_TOKEN, &token),
            self.now(),
        )?;
        tx.commit()?;
        Ok(NewDraft { id, token })
    }

    /// Checks that `token` opens draft `id`.
    pub fn authorize(&self, id: &str, token: &str) -> Result<(), PassError> {
        let conn = self.pool.get()?;
        let row = storage::find_version(&conn, id)?.ok_or(PassError::NotFound)?;
        if self.key.verify(DRAFT_TOKEN, token, &row.token_hash) {
            Ok(())
        } else {
            Err(PassError::BadToken)
        }
    }

    /// The draft or version as its author sees it.
    pub fn view(&self, id: &str) -> Result<DraftView, PassError> {
        let conn = self.pool.get()?;
        let row = storage::find_version(&conn, id)?.ok_or(PassError::NotFound)?;
        let protocol: ProtocolInput = from_json(&row.input)?;
        let errors = match Protocol::parse(&protocol) {
            Ok(_) => FieldErrors::default(),
            Err(e) => e,
        };
        let (number, key_name) = match row.protocol_id.or(row.renewal_of) {
            Some(pid) => match storage::protocol_by_id(&conn, pid)? {
                Some((n, k)) => (Some(n), (row.status != Status::Draft).then_some(k)),
                None => (None, None),
            },
            None => (None, None),
        };
        Ok(DraftView {
            id: row.id.clone(),
            status: row.status,
            documents: storage::documents(&conn, &row.id)?,
            protocol,
            errors,
            wizard_step: row.wizard_step,
            number,
            key_name,
            version: row.version,
            document_sha256: row.document_sha256,
            reject_reason: row.reject_reason,
        })
    }

    /// Replaces the draft's content (and voids any code sent for the previous content).
    pub fn update(
        &self,
        id: &str,
        input: &ProtocolInput,
        step: Option<&str>,
    ) -> Result<(), PassError> {
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        storage::find_version(&tx, id)?.ok_or(PassError::NotFound)?;
        storage::update_draft(&tx, id, &to_json(input)?, step, self.now())?;
        tx.commit()?;
        Ok(())
    }

    /// Records where the wizard stands, without touching the content.
    pub fn set_step(&self, id: &str, step: &str) -> Result<(), PassError> {
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        storage::set_step(&tx, id, step)?;
        tx.commit()?;
        Ok(())
    }

    /// Abandons a draft.
    pub fn cancel(&self, id: &str) -> Result<(), PassError> {
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        if !storage::cancel_draft(&tx, id, self.now())? {
            return Err(PassError::NotDraft);
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores a supporting document after recognising its type by content.
    pub fn upload(
        &self,
        id: &str,
        kind: DocumentKind,
        bytes: &[u8],
    ) -> Result<DocumentRecord, PassError> {
        if bytes.len() > self.config.document_max_bytes {
            return Err(PassError::DocumentTooLarge {
                max_mib: self.config.document_max_bytes / (1024 * 1024),
            });
        }
        let media_type = sniff(bytes).ok_or(PassError::DocumentType)?;
        {
            let conn = self.pool.get()?;
            let row = storage::find_version(&conn, id)?.ok_or(PassError::NotFound)?;
            if row.status != Status::Draft {
                return Err(PassError::NotDraft);
            }
        }
        let sha256 = documents::sha256_hex(bytes);
        // The file first: a record never points at a file that is not there.
        documents::store(&self.documents_dir, &sha256, bytes)
            .map_err(|e| PassError::Internal(format!("document : {e}")))?;
        let record = DocumentRecord {
            kind,
            sha256,
            media_type: media_type.to_owned(),
            size: bytes.len() as i64,
        };
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::find_version(&tx, id)?.ok_or(PassError::NotFound)?;
        if row.status != Status::Draft {
            return Err(PassError::NotDraft);
        }
        storage::put_document(&tx, id, &record, self.now())?;
        // A new document changes what is signed: any pending code is void.
        storage::delete_code(&tx, id)?;
        tx.commit()?;
        Ok(record)
    }

    /// Where a stored document's bytes are.
    pub fn document_path(&self, sha256: &str) -> PathBuf {
        documents::stored_path(&self.documents_dir, sha256)
    }

    /// The documents of a version.
    pub fn documents(&self, id: &str) -> Result<Vec<DocumentRecord>, PassError> {
        let conn = self.pool.get()?;
        storage::documents(&conn, id)
    }

    /// The Annexe 1 of a complete draft, exactly as it will be signed.
    pub fn annexe(&self, id: &str) -> Result<Annexe, PassError> {
        let conn = self.pool.get()?;
        let row = storage::find_version(&conn, id)?.ok_or(PassError::NotFound)?;
        self.annexe_of(&conn, &row).map(|(a, _)| a)
    }

    fn annexe_of(
        &self,
        conn: &rusqlite::Connection,
        row: &storage::VersionRow,
    ) -> Result<(Annexe, Protocol), PassError> {
        let input: ProtocolInput = from_json(&row.input)?;
        let protocol = Protocol::parse(&input).map_err(PassError::Invalid)?;
        let renews = match row.renewal_of {
            Some(pid) => storage::protocol_by_id(conn, pid)?.map(|(n, _)| n),
            None => None,
        };
        let mut annexe = Annexe::of(&protocol, renews.as_deref());
        let docs = storage::documents(conn, &row.id)?;
        annexe.sections.push(crate::protocol::Section {
            title: "PIÈCES JUSTIFICATIVES".into(),
            lines: docs
                .iter()
                .map(|d| format!("{} : SHA-256 {}", d.kind.label(), d.sha256))
                .collect(),
        });
        Ok((annexe, protocol))
    }

    /// Sends the signature code by SMS to the legal representative's mobile, after checking the
    /// protocol is complete, the documents are there and the acceptance box is ticked.
    pub fn request_code(&self, id: &str, consent: bool) -> Result<CodeSent, PassError> {
        if !consent {
            return Err(PassError::ConsentRequired);
        }
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::find_version(&tx, id)?.ok_or(PassError::NotFound)?;
        if row.status != Status::Draft {
            return Err(PassError::NotDraft);
        }
        let (annexe, protocol) = self.annexe_of(&tx, &row)?;
        let docs = storage::documents(&tx, id)?;
        let missing: Vec<_> = [DocumentKind::Kbis, DocumentKind::Identity]
            .into_iter()
            .filter(|k| !docs.iter().any(|d| d.kind == *k))
            .map(|k| k.label())
            .collect();
        if !missing.is_empty() {
            return Err(PassError::MissingDocuments(missing.join(", ")));
        }
        let window = now - Duration::hours(1);
        let bucket = format!("code-request:{id}");
        let limit = i64::from(self.config.code_requests_per_hour);
        if storage::rate_count(&tx, &bucket, window)? >= limit {
            return Err(PassError::TooManyRequests {
                retry_after_minutes: 60,
            });
        }
        storage::rate_event(&tx, &bucket, now, window)?;
        let code = ca::secret::digits(6)?;
        let expires_at = now + Duration::minutes(i64::from(self.config.code_ttl_minutes));
        let phone = protocol.legal_representative.mobile.e164().to_owned();
        storage::put_code(
            &tx,
            id,
            &self.key.hash(SIGNATURE_CODE, &code),
            &annexe.sha256(),
            &phone,
            now,
            expires_at,
        )?;
        outbox::enqueue(
            &tx,
            &outbox::templates::signature_code_sms(
                &protocol.legal_representative.mobile,
                &code,
                self.config.code_ttl_minutes,
            ),
            now,
        )?;
        tx.commit()?;
        Ok(CodeSent {
            expires_at,
            phone: protocol.legal_representative.mobile.masked(),
        })
    }

    /// Checks the code and signs: the version becomes immutable, gets its number and key name
    /// (a new protocol's at its first signature), and the evidence is kept.
    pub fn sign(&self, id: &str, code: &str, client: &Client) -> Result<Signed, PassError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::find_version(&tx, id)?.ok_or(PassError::NotFound)?;
        if row.status != Status::Draft {
            return Err(PassError::NotDraft);
        }
        let pending = storage::find_code(&tx, id)?.ok_or(PassError::NoPendingCode)?;
        let max = i64::from(self.config.code_max_attempts);
        if pending.failed_attempts >= max {
            return Err(PassError::CodeLocked);
        }
        if now.unix_timestamp() > pending.expires_at {
            return Err(PassError::CodeExpired);
        }
        let (annexe, protocol) = self.annexe_of(&tx, &row)?;
        let document_sha256 = annexe.sha256();
        if document_sha256 != pending.annexe_sha256 {
            storage::delete_code(&tx, id)?;
            tx.commit()?;
            return Err(PassError::CodeVoided);
        }
        let code = code.trim();
        if !self.key.verify(SIGNATURE_CODE, code, &pending.code_hmac) {
            let failures = storage::count_failure(&tx, id)?;
            if failures >= max {
                audit(&tx, now, "pass", "protocol.code_locked", id, &[])?;
                tx.commit()?;
                return Err(PassError::CodeLocked);
            }
            tx.commit()?;
            return Err(PassError::WrongCode {
                attempts_left: u32::try_from(max - failures).unwrap_or(0),
            });
        }
        let (protocol_id, number, key_name) = match row.renewal_of {
            Some(pid) => {
                let (number, key_name) =
                    storage::protocol_by_id(&tx, pid)?.ok_or(PassError::NotFound)?;
                (pid, number, key_name)
            }
            None => {
                let key_name = key_name_for(&protocol.employer.address.name)?;
                let (pid, number) = storage::insert_protocol(&tx, &key_name, now)?;
                (pid, number, key_name)
            }
        };
        let version = storage::next_version(&tx, protocol_id)?;
        let evidence = serde_json::json!({
            "signed_at": now.format(&Rfc3339).unwrap_or_default(),
            "document_sha256": document_sha256,
            "phone": pending.phone,
            "ip": client.ip,
            "user_agent": client.user_agent,
            "consent": true,
            "consent_at": OffsetDateTime::from_unix_timestamp(pending.consent_at)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok()),
            "method": "code SMS à usage unique",
        });
        storage::mark_signed(
            &tx,
            id,
            &storage::Signature {
                protocol_id,
                version,
                document_sha256: &document_sha256,
                annexe_text: &annexe.text(),
                evidence: &evidence.to_string(),
                at: now,
            },
        )?;
        storage::delete_code(&tx, id)?;
        audit(
            &tx,
            now,
            "pass",
            "protocol.sign",
            &number,
            &[
                ("version", &version.to_string()),
                ("document_sha256", &document_sha256),
            ],
        )?;
        tx.commit()?;
        Ok(Signed {
            number,
            key_name,
            version,
            document_sha256,
        })
    }

    /// The signed Annexe 1 as a PDF.
    pub fn annexe_pdf(&self, id: &str) -> Result<Vec<u8>, PassError> {
        let conn = self.pool.get()?;
        let row = storage::find_version(&conn, id)?.ok_or(PassError::NotFound)?;
        if matches!(row.status, Status::Draft | Status::Cancelled) {
            return Err(PassError::NotFound);
        }
        // Exactly the signed text, not a new rendering of the input.
        let annexe = crate::protocol::Annexe::from_text(row.annexe_text.as_deref().unwrap_or(""));
        if row.document_sha256.as_deref() != Some(annexe.sha256().as_str()) {
            return Err(PassError::Internal(format!(
                "le texte signé de {id} ne correspond plus à son empreinte"
            )));
        }
        let evidence: serde_json::Value = from_json(row.evidence.as_deref().unwrap_or("{}"))?;
        let (number, key_name) = row
            .protocol_id
            .map(|pid| storage::protocol_by_id(&conn, pid))
            .transpose()?
            .flatten()
            .ok_or(PassError::NotFound)?;
        let phone = evidence["phone"].as_str().unwrap_or_default();
        let phone_masked = crate::MobileNumber::parse(phone, true)
            .map(|m| m.masked())
            .unwrap_or_default();
        Ok(crate::protocol::annexe_pdf(
            &annexe,
            &crate::protocol::SignatureEvidence {
                protocol_number: number,
                key_name,
                version: u32::try_from(row.version.unwrap_or(1)).unwrap_or(1),
                signed_at: OffsetDateTime::from_unix_timestamp(row.signed_at.unwrap_or(0))
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                document_sha256: row.document_sha256.unwrap_or_default(),
                phone_masked,
            },
        ))
    }

    /// *Renouveler un protocole existant*: number + key name → a draft pre-filled from the
    /// version in force. One message whether the number or the key name is wrong; attempts
    /// are limited per client and per number.
    pub fn start_renewal(
        &self,
        number: &str,
        key_name: &str,
        client: &Client,
    ) -> Result<NewDraft, PassError> {
        let now = self.now();
        let window = now - Duration::hours(1);
        let limit = i64::from(self.config.renewal_attempts_per_hour);
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let by_client =
            storage::rate_event(&tx, &format!("renewal-client:{}", client.ip), now, window)?;
        let number = number.trim();
        let by_number = storage::rate_event(&tx, &format!("renewal-number:{number}"), now, window)?;
        if by_client > limit || by_number > limit {
            tx.commit()?;
            return Err(PassError::TooManyRequests {
                retry_after_minutes: 60,
            });
        }
        let found = storage::protocol_by_number(&tx, number)?;
        let expected = found.as_ref().map(|(_, k)| k.as_str()).unwrap_or("");
        // Always compare (against an empty name when the number is unknown), in constant time.
        let matches = self.key.verify(
            KEY_NAME,
            key_name.trim(),
            &self.key.hash(KEY_NAME, expected),
        ) && found.is_some();
        let Some((protocol_id, _)) = found.filter(|_| matches) else {
            tx.commit()?;
            return Err(PassError::RenewalRefused);
        };
        let in_force =
            storage::version_in_force(&tx, protocol_id)?.ok_or(PassError::NothingInForce)?;
        let id = new_id()?;
        let token = new_token()?;
        storage::insert_draft(
            &tx,
            &id,
            Some(protocol_id),
            &in_force.input,
            &self.key.hash(DRAFT_TOKEN, &token),
            now,
        )?;
        storage::copy_documents(&tx, &in_force.id, &id, now)?;
        audit(&tx, now, "pass", "protocol.renewal_started", number, &[])?;
        tx.commit()?;
        Ok(NewDraft { id, token })
    }
}

fn immediate(conn: &mut rusqlite::Connection) -> Result<rusqlite::Transaction<'_>, PassError> {
    Ok(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
}

fn audit(
    tx: &rusqlite::Transaction<'_>,
    now: OffsetDateTime,
    actor: &str,
    action: &str,
    target: &str,
    details: &[(&str, &str)],
) -> Result<(), PassError> {
    ca::audit::append(
        tx,
        now,
        &ca::audit::Event {
            actor,
            action,
            target,
            details,
        },
    )?;
    Ok(())
}

fn to_json<T: Serialize>(v: &T) -> Result<String, PassError> {
    serde_json::to_string(v).map_err(|e| PassError::Internal(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, PassError> {
    serde_json::from_str(s).map_err(|e| PassError::Internal(e.to_string()))
}

/// *Nom clé*: the company's name in capitals, without accents nor spaces, cut to 12
/// characters, then 4 random characters so that it cannot be guessed from the name alone.
fn key_name_for(company: &str) -> Result<String, PassError> {
    let mut base: String = company
        .chars()
        .filter_map(|c| {
            let c = match c {
                'à' | 'â' | 'ä' | 'À' | 'Â' | 'Ä' => 'A',
                'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' | 'Ê' | 'Ë' => 'E',
                'î' | 'ï' | 'Î' | 'Ï' => 'I',
                'ô' | 'ö' | 'Ô' | 'Ö' => 'O',
                'ù' | 'û' | 'ü' | 'Ù' | 'Û' | 'Ü' => 'U',
                'ç' | 'Ç' => 'C',
                c => c,
            };
            c.is_ascii_alphanumeric().then(|| c.to_ascii_uppercase())
        })
        .take(12)
        .collect();
    if base.is_empty() {
        base.push_str("SISERI");
    }
    Ok(format!("{base}-{}", &*ca::secret::unambiguous_string(4)?))
}
