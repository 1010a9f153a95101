//! PASS, the *protocole d'accès sécurisé*: drafts kept on the server, supporting documents, the
//! SMS signature bound to the exact Annexe 1, numbers and key names, renewal. The HTML wizard
//! and the JSON API both go through [`Pass`], so they follow the same rules.

mod documents;
mod error;
mod signature;
mod storage;

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use store::pool::Pool;
use store::Clock;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

pub use documents::{sniff, DocumentKind};
pub use error::PassError;
pub use signature::{CodeSent, Signed};
pub use storage::DocumentRecord;

use crate::db::{immediate, Audit};
use crate::protocol::{Annexe, FieldErrors, Protocol, ProtocolInput};
use store::secrets::{new_id, new_token, ServerKey};

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
    /// Drafts one client address may start in an hour.
    pub drafts_per_hour: u32,
    /// Supporting documents one client address may send in an hour.
    pub uploads_per_hour: u32,
    /// Signature codes sent to one mobile number in an hour, whatever the draft.
    pub sms_per_number_per_hour: u32,
    /// Signature codes sent to one mobile number in a day, whatever the draft.
    pub sms_per_number_per_day: u32,
    /// Days after which a draft never signed is deleted, with its documents.
    pub draft_retention_days: u32,
}

impl Default for PassConfig {
    fn default() -> Self {
        Self {
            document_max_bytes: 10 * 1024 * 1024,
            code_ttl_minutes: 10,
            code_max_attempts: 5,
            code_requests_per_hour: 3,
            renewal_attempts_per_hour: 10,
            drafts_per_hour: 10,
            uploads_per_hour: 40,
            sms_per_number_per_hour: 3,
            sms_per_number_per_day: 10,
            draft_retention_days: 30,
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

crate::text_column::text_column!(Status, "statut de protocole");

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

/// An anonymous action of the public side, limited per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anonymous {
    /// Starting a draft.
    NewDraft,
    /// Sending a supporting document.
    Upload,
}

impl Anonymous {
    /// The rate limit's name, in its stored buckets.
    fn bucket_name(self) -> &'static str {
        match self {
            Self::NewDraft => "draft-create",
            Self::Upload => "document-upload",
        }
    }
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
    /// Held while an Annexe 1 PDF is rendered (see [`Pass::annexe_pdf`]).
    pdf_rendering: std::sync::Mutex<()>,
    /// Rate-limit buckets found over their limit, refused from memory until the time kept
    /// here: a client spamming one action then costs a map lookup per attempt, not a write
    /// transaction. The stored events stay the reference (a restart forgets this map; the
    /// first attempt after it reads the store again and refuses as before).
    over_limit: std::sync::Mutex<std::collections::HashMap<String, OffsetDateTime>>,
}

/// Buckets [`Pass::over_limit`] holds at most; beyond, the expired ones go, then all.
const OVER_LIMIT_MAX: usize = 100_000;

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
            pdf_rendering: std::sync::Mutex::new(()),
            over_limit: std::sync::Mutex::default(),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &PassConfig {
        &self.config
    }

    fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Refuses at once, from memory only, a `client` already over its limit for `action`:
    /// called by the web layer before the request's body is even parsed, so that a flood of
    /// refused requests costs no parsing, no blocking thread and no database access.
    /// [`admit`](Self::admit) still decides, and counts, for the others.
    pub fn refused_already(&self, action: Anonymous, client: &Client) -> Result<(), PassError> {
        let now = self.now();
        let bucket = format!("{}:{}", action.bucket_name(), client.ip);
        let over = self.over_limit.lock().unwrap_or_else(|p| p.into_inner());
        match over.get(&bucket) {
            Some(until) if *until > now => Err(PassError::TooManyRequests {
                retry_after_minutes: (((*until - now).whole_seconds() + 59) / 60).max(1),
            }),
            _ => Ok(()),
        }
    }

    /// Counts one anonymous `action` of `client` and refuses it (429, with when to try again)
    /// beyond its hourly limit per client address. Called by the web layer before the action;
    /// the count is stored, so it survives a restart.
    pub fn admit(&self, action: Anonymous, client: &Client) -> Result<(), PassError> {
        let name = action.bucket_name();
        let limit = match action {
            Anonymous::NewDraft => self.config.drafts_per_hour,
            Anonymous::Upload => self.config.uploads_per_hour,
        };
        let now = self.now();
        let bucket = format!("{name}:{}", client.ip);
        {
            let mut over = self.over_limit.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(until) = over.get(&bucket).copied() {
                if until > now {
                    let minutes = ((until - now).whole_seconds() + 59) / 60;
                    return Err(PassError::TooManyRequests {
                        retry_after_minutes: minutes.max(1),
                    });
                }
                over.remove(&bucket);
            }
        }
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let hits = crate::db::rate_event(&tx, &bucket, now, now - Duration::hours(1))?;
        tx.commit()?;
        if hits > i64::from(limit) {
            let mut over = self.over_limit.lock().unwrap_or_else(|p| p.into_inner());
            if over.len() >= OVER_LIMIT_MAX {
                over.retain(|_, until| *until > now);
                if over.len() >= OVER_LIMIT_MAX {
                    over.clear();
                }
            }
            over.insert(bucket, now + Duration::hours(1));
            return Err(PassError::TooManyRequests {
                retry_after_minutes: 60,
            });
        }
        Ok(())
    }

    /// Deletes the drafts never signed and untouched for `draft_retention_days`, their
    /// signature codes and documents, and the document files no other version uses. Returns
    /// how many drafts went.
    pub fn purge_drafts(&self) -> Result<usize, PassError> {
        let before = self.now() - Duration::days(i64::from(self.config.draft_retention_days));
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let (purged, candidates) = storage::purge_drafts(&tx, before.unix_timestamp())?;
        if purged > 0 {
            Audit::new(&tx, self.now(), "pass").record(
                "protocol.drafts_purged",
                "drafts",
                &[("count", &purged.to_string())],
            )?;
        }
        let orphans = self.retire_unused(&tx, candidates)?;
        commit_then_remove(tx, orphans)?;
        Ok(purged)
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
            storage::find_draft(&conn, id)?;
        }
        let sha256 = documents::sha256_hex(bytes);
        // The file first: a record never points at a file that is not there.
        documents::store(&self.documents_dir, &sha256, bytes).map_err(PassError::Document)?;
        let record = DocumentRecord {
            kind,
            sha256,
            media_type: media_type.to_owned(),
            size: bytes.len() as i64,
        };
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        storage::find_draft(&tx, id)?;
        let previous = storage::document_sha256(&tx, id, kind)?;
        // Under the write lock: a replacement elsewhere may have removed the file since.
        documents::store(&self.documents_dir, &record.sha256, bytes)
            .map_err(PassError::Document)?;
        storage::put_document(&tx, id, &record, self.now())?;
        // A new document changes what is signed: any pending code is void.
        storage::delete_code(&tx, id)?;
        let replaced = match previous.filter(|p| *p != record.sha256) {
            Some(old) => self.retire_unused(&tx, [old])?,
            None => Vec::new(),
        };
        commit_then_remove(tx, replaced)?;
        Ok(record)
    }

    /// Takes aside the files of the contents in `candidates` that no version refers to any
    /// more, with the transaction's write lock held (see [`documents::retire`]). A document
    /// holds an identity card: it does not stay on disk once nobody needs it.
    fn retire_unused(
        &self,
        tx: &rusqlite::Transaction<'_>,
        candidates: impl IntoIterator<Item = String>,
    ) -> Result<Vec<documents::Retired>, PassError> {
        let mut retired = Vec::new();
        for sha256 in candidates {
            if storage::document_in_use(tx, &sha256)? {
                continue;
            }
            match documents::retire(&self.documents_dir, &sha256) {
                Ok(Some(r)) => retired.push(r),
                Ok(None) => {}
                Err(e) => {
                    retired.into_iter().for_each(documents::Retired::restore);
                    return Err(PassError::Document(e));
                }
            }
        }
        Ok(retired)
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
            crate::db::rate_event(&tx, &format!("renewal-client:{}", client.ip), now, window)?;
        let number = number.trim();
        let by_number =
            crate::db::rate_event(&tx, &format!("renewal-number:{number}"), now, window)?;
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
        Audit::new(&tx, now, "pass").record("protocol.renewal_started", number, &[])?;
        tx.commit()?;
        Ok(NewDraft { id, token })
    }
}

/// Commits `tx`, then deletes the files it took aside; puts them back if the commit failed,
/// since the rows that refer to them are then still there.
fn commit_then_remove(
    tx: rusqlite::Transaction<'_>,
    retired: Vec<documents::Retired>,
) -> Result<(), PassError> {
    match tx.commit() {
        Ok(()) => {
            retired.into_iter().for_each(documents::Retired::bury);
            Ok(())
        }
        Err(e) => {
            retired.into_iter().for_each(documents::Retired::restore);
            Err(e.into())
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<String, PassError> {
    serde_json::to_string(v).map_err(PassError::Json)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, PassError> {
    serde_json::from_str(s).map_err(PassError::Json)
}

/// *Nom clé*: the company's name in capitals, without accents nor spaces, cut to 12
/// characters, then 4 random characters so that it cannot be guessed from the name alone.
fn key_name_for(company: &str) -> Result<String, PassError> {
    let mut base: String = store::text::fold(company)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect();
    if base.is_empty() {
        base.push_str("SISERI");
    }
    Ok(format!(
        "{base}-{}",
        &*store::random::unambiguous_string(4)?
    ))
}
