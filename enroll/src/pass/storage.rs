//! All of PASS's SQL.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use time::OffsetDateTime;

use super::documents::DocumentKind;
use super::{PassError, Status};

pub(crate) struct VersionRow {
    pub id: String,
    pub protocol_id: Option<i64>,
    pub renewal_of: Option<i64>,
    pub version: Option<i64>,
    pub status: Status,
    pub input: String,
    pub wizard_step: String,
    pub token_hash: Vec<u8>,
    pub signed_at: Option<i64>,
    pub document_sha256: Option<String>,
    pub annexe_text: Option<String>,
    pub evidence: Option<String>,
    pub reject_reason: Option<String>,
}

const VERSION_COLUMNS: &str = "id, protocol_id, renewal_of, version, status, input, wizard_step,
    token_hash, signed_at, document_sha256, annexe_text, evidence, reject_reason";

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<VersionRow> {
    Ok(VersionRow {
        id: r.get(0)?,
        protocol_id: r.get(1)?,
        renewal_of: r.get(2)?,
        version: r.get(3)?,
        status: r.get(4)?,
        input: r.get(5)?,
        wizard_step: r.get(6)?,
        token_hash: r.get(7)?,
        signed_at: r.get(8)?,
        document_sha256: r.get(9)?,
        annexe_text: r.get(10)?,
        evidence: r.get(11)?,
        reject_reason: r.get(12)?,
    })
}

pub(crate) fn insert_draft(
    tx: &Transaction<'_>,
    id: &str,
    renewal_of: Option<i64>,
    input: &str,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> Result<(), PassError> {
    tx.execute(
        "INSERT INTO enroll_versions (id, renewal_of, status, input, token_hash, created_at, updated_at)
         VALUES (?1, ?2, 'draft', ?3, ?4, ?5, ?5)",
        params![id, renewal_of, input, token_hash, now.unix_timestamp()],
    )?;
    Ok(())
}

pub(crate) fn find_version(conn: &Connection, id: &str) -> Result<Option<VersionRow>, PassError> {
    Ok(conn
        .query_row(
            &format!("SELECT {VERSION_COLUMNS} FROM enroll_versions WHERE id = ?1"),
            params![id],
            version_row,
        )
        .optional()?)
}

/// The version `id` if it is still a draft: only a draft takes documents, codes and signatures.
pub(crate) fn find_draft(conn: &Connection, id: &str) -> Result<VersionRow, PassError> {
    let row = find_version(conn, id)?.ok_or(PassError::NotFound)?;
    if row.status != Status::Draft {
        return Err(PassError::NotDraft);
    }
    Ok(row)
}

pub(crate) fn update_draft(
    tx: &Transaction<'_>,
    id: &str,
    input: &str,
    step: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), PassError> {
    let n = tx.execute(
        "UPDATE enroll_versions SET input = ?2, wizard_step = COALESCE(?3, wizard_step), updated_at = ?4
         WHERE id = ?1 AND status = 'draft'",
        params![id, input, step, now.unix_timestamp()],
    )?;
    if n != 1 {
        return Err(PassError::NotDraft);
    }
    // Whatever changed, a code sent for the previous content is void.
    tx.execute(
        "DELETE FROM enroll_signature_codes WHERE version_id = ?1",
        params![id],
    )?;
    Ok(())
}

pub(crate) fn set_step(tx: &Transaction<'_>, id: &str, step: &str) -> Result<(), PassError> {
    tx.execute(
        "UPDATE enroll_versions SET wizard_step = ?2 WHERE id = ?1 AND status = 'draft'",
        params![id, step],
    )?;
    Ok(())
}

pub(crate) fn cancel_draft(
    tx: &Transaction<'_>,
    id: &str,
    now: OffsetDateTime,
) -> Result<bool, PassError> {
    let n = tx.execute(
        "UPDATE enroll_versions SET status = 'cancelled', updated_at = ?2 WHERE id = ?1 AND status = 'draft'",
        params![id, now.unix_timestamp()],
    )?;
    tx.execute(
        "DELETE FROM enroll_signature_codes WHERE version_id = ?1",
        params![id],
    )?;
    Ok(n == 1)
}

/// A stored supporting document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DocumentRecord {
    /// Which one.
    pub kind: DocumentKind,
    /// SHA-256 of the content.
    pub sha256: String,
    /// Recognised type.
    pub media_type: String,
    /// Size in bytes.
    pub size: i64,
}

pub(crate) fn put_document(
    tx: &Transaction<'_>,
    version_id: &str,
    doc: &DocumentRecord,
    now: OffsetDateTime,
) -> Result<(), PassError> {
    tx.execute(
        "INSERT INTO enroll_documents (version_id, kind, sha256, media_type, size, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (version_id, kind) DO UPDATE SET sha256 = excluded.sha256,
             media_type = excluded.media_type, size = excluded.size, uploaded_at = excluded.uploaded_at",
        params![
            version_id,
            doc.kind.as_str(),
            doc.sha256,
            doc.media_type,
            doc.size,
            now.unix_timestamp()
        ],
    )?;
    Ok(())
}

/// The SHA-256 of draft `version_id`'s document `kind`, if it has one.
pub(crate) fn document_sha256(
    tx: &Transaction<'_>,
    version_id: &str,
    kind: DocumentKind,
) -> Result<Option<String>, PassError> {
    Ok(tx
        .query_row(
            "SELECT sha256 FROM enroll_documents WHERE version_id = ?1 AND kind = ?2",
            params![version_id, kind.as_str()],
            |r| r.get(0),
        )
        .optional()?)
}

/// Whether any version, draft or signed, still refers to the content `sha256`.
pub(crate) fn document_in_use(tx: &Transaction<'_>, sha256: &str) -> Result<bool, PassError> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM enroll_documents WHERE sha256 = ?1)",
        params![sha256],
        |r| r.get(0),
    )?)
}

pub(crate) fn documents(
    conn: &Connection,
    version_id: &str,
) -> Result<Vec<DocumentRecord>, PassError> {
    let mut stmt = conn.prepare(
        "SELECT kind, sha256, media_type, size FROM enroll_documents WHERE version_id = ?1 ORDER BY kind",
    )?;
    let rows = stmt.query_map(params![version_id], |r| {
        let kind: String = r.get(0)?;
        Ok((kind, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, sha256, media_type, size) = row?;
        if let Some(kind) = DocumentKind::parse(&kind) {
            out.push(DocumentRecord {
                kind,
                sha256,
                media_type,
                size,
            });
        }
    }
    Ok(out)
}

pub(crate) fn copy_documents(
    tx: &Transaction<'_>,
    from: &str,
    to: &str,
    now: OffsetDateTime,
) -> Result<(), PassError> {
    tx.execute(
        "INSERT INTO enroll_documents (version_id, kind, sha256, media_type, size, uploaded_at)
         SELECT ?2, kind, sha256, media_type, size, ?3 FROM enroll_documents WHERE version_id = ?1",
        params![from, to, now.unix_timestamp()],
    )?;
    Ok(())
}

pub(crate) struct CodeRow {
    pub code_hmac: Vec<u8>,
    pub annexe_sha256: String,
    pub phone: String,
    pub expires_at: i64,
    pub failed_attempts: i64,
    pub consent_at: i64,
}

pub(crate) fn put_code(
    tx: &Transaction<'_>,
    version_id: &str,
    code_hmac: &[u8],
    annexe_sha256: &str,
    phone: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), PassError> {
    tx.execute(
        "INSERT INTO enroll_signature_codes (version_id, code_hmac, annexe_sha256, phone, sent_at,
             expires_at, failed_attempts, consent_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?5)
         ON CONFLICT (version_id) DO UPDATE SET code_hmac = excluded.code_hmac,
             annexe_sha256 = excluded.annexe_sha256, phone = excluded.phone,
             sent_at = excluded.sent_at, expires_at = excluded.expires_at, failed_attempts = 0,
             consent_at = excluded.consent_at",
        params![
            version_id,
            code_hmac,
            annexe_sha256,
            phone,
            now.unix_timestamp(),
            expires_at.unix_timestamp()
        ],
    )?;
    Ok(())
}

pub(crate) fn find_code(conn: &Connection, version_id: &str) -> Result<Option<CodeRow>, PassError> {
    Ok(conn
        .query_row(
            "SELECT code_hmac, annexe_sha256, phone, expires_at, failed_attempts, consent_at
             FROM enroll_signature_codes WHERE version_id = ?1",
            params![version_id],
            |r| {
                Ok(CodeRow {
                    code_hmac: r.get(0)?,
                    annexe_sha256: r.get(1)?,
                    phone: r.get(2)?,
                    expires_at: r.get(3)?,
                    failed_attempts: r.get(4)?,
                    consent_at: r.get(5)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn count_failure(tx: &Transaction<'_>, version_id: &str) -> Result<i64, PassError> {
    Ok(tx.query_row(
        "UPDATE enroll_signature_codes SET failed_attempts = failed_attempts + 1
         WHERE version_id = ?1 RETURNING failed_attempts",
        params![version_id],
        |r| r.get(0),
    )?)
}

pub(crate) fn delete_code(tx: &Transaction<'_>, version_id: &str) -> Result<(), PassError> {
    tx.execute(
        "DELETE FROM enroll_signature_codes WHERE version_id = ?1",
        params![version_id],
    )?;
    Ok(())
}

pub(crate) fn insert_protocol(
    tx: &Transaction<'_>,
    key_name: &str,
    now: OffsetDateTime,
) -> Result<(i64, String), PassError> {
    let id: i64 = tx.query_row(
        "SELECT COALESCE(MAX(id), 0) + 1 FROM enroll_protocols",
        [],
        |r| r.get(0),
    )?;
    let number = format!("{}-{id:06}", now.year());
    tx.execute(
        "INSERT INTO enroll_protocols (id, number, key_name, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, number, key_name, now.unix_timestamp()],
    )?;
    Ok((id, number))
}

pub(crate) fn protocol_by_id(
    conn: &Connection,
    id: i64,
) -> Result<Option<(String, String)>, PassError> {
    Ok(conn
        .query_row(
            "SELECT number, key_name FROM enroll_protocols WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub(crate) fn protocol_by_number(
    conn: &Connection,
    number: &str,
) -> Result<Option<(i64, String)>, PassError> {
    Ok(conn
        .query_row(
            "SELECT id, key_name FROM enroll_protocols WHERE number = ?1",
            params![number],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub(crate) fn next_version(tx: &Transaction<'_>, protocol_id: i64) -> Result<i64, PassError> {
    Ok(tx.query_row(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM enroll_versions WHERE protocol_id = ?1",
        params![protocol_id],
        |r| r.get(0),
    )?)
}

pub(crate) struct Signature<'a> {
    pub protocol_id: i64,
    pub version: i64,
    pub document_sha256: &'a str,
    pub annexe_text: &'a str,
    pub evidence: &'a str,
    pub at: OffsetDateTime,
}

pub(crate) fn mark_signed(
    tx: &Transaction<'_>,
    id: &str,
    s: &Signature<'_>,
) -> Result<(), PassError> {
    let n = tx.execute(
        "UPDATE enroll_versions SET status = 'signed', protocol_id = ?2, version = ?3,
             document_sha256 = ?4, annexe_text = ?5, evidence = ?6, signed_at = ?7, updated_at = ?7,
             wizard_step = 'signed'
         WHERE id = ?1 AND status = 'draft'",
        params![
            id,
            s.protocol_id,
            s.version,
            s.document_sha256,
            s.annexe_text,
            s.evidence,
            s.at.unix_timestamp()
        ],
    )?;
    if n != 1 {
        return Err(PassError::NotDraft);
    }
    Ok(())
}

/// What a renewal starts from: the latest approved version (the one in force), else the latest
/// signed one awaiting a decision (approving the renewal will supersede it), else the latest
/// rejected one (a refused protocol is corrected by a renewal, as the refusal e-mail says).
pub(crate) fn version_in_force(
    conn: &Connection,
    protocol_id: i64,
) -> Result<Option<VersionRow>, PassError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {VERSION_COLUMNS} FROM enroll_versions
                 WHERE protocol_id = ?1 AND status IN ('approved', 'signed', 'rejected')
                 ORDER BY CASE status WHEN 'approved' THEN 0 WHEN 'signed' THEN 1 ELSE 2 END,
                          version DESC
                 LIMIT 1"
            ),
            params![protocol_id],
            version_row,
        )
        .optional()?)
}

/// The stored Annexe 1 PDF of version `id`.
pub(crate) fn annexe_pdf(conn: &Connection, id: &str) -> Result<Option<Vec<u8>>, PassError> {
    Ok(conn
        .query_row(
            "SELECT pdf FROM enroll_annexe_pdfs WHERE version_id = ?1",
            params![id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Stores the Annexe 1 PDF of version `id` (the first one made stays).
pub(crate) fn put_annexe_pdf(conn: &Connection, id: &str, pdf: &[u8]) -> Result<(), PassError> {
    conn.execute(
        "INSERT OR IGNORE INTO enroll_annexe_pdfs (version_id, pdf) VALUES (?1, ?2)",
        params![id, pdf],
    )?;
    Ok(())
}

/// Deletes the drafts last touched before `before` (Unix seconds) with their signature codes
/// and document rows; returns how many drafts went and the SHA-256 of the documents they had
/// (their files may go if no other version refers to them).
pub(crate) fn purge_drafts(
    tx: &Transaction<'_>,
    before: i64,
) -> Result<(usize, Vec<String>), PassError> {
    const OLD: &str = "SELECT id FROM enroll_versions WHERE status = 'draft' AND updated_at < ?1";
    let candidates: Vec<String> = {
        let mut stmt = tx.prepare(&format!(
            "SELECT DISTINCT sha256 FROM enroll_documents WHERE version_id IN ({OLD})"
        ))?;
        let rows = stmt.query_map(params![before], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    tx.execute(
        &format!("DELETE FROM enroll_signature_codes WHERE version_id IN ({OLD})"),
        params![before],
    )?;
    tx.execute(
        &format!("DELETE FROM enroll_documents WHERE version_id IN ({OLD})"),
        params![before],
    )?;
    let purged = tx.execute(
        "DELETE FROM enroll_versions WHERE status = 'draft' AND updated_at < ?1",
        params![before],
    )?;
    Ok((purged, candidates))
}
