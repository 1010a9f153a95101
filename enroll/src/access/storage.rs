//! All of the accessor life cycle's SQL.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use time::OffsetDateTime;

use super::{AccessCodeState, AccessError, CertificateState, WithdrawalState};
use crate::pass::Status;
use crate::protocol::Role;

type R<T> = Result<T, AccessError>;

pub(crate) fn next_habilitation(tx: &Transaction<'_>, start: u32) -> R<u32> {
    tx.execute(
        "INSERT INTO enroll_sequences (name, next) VALUES ('habilitation', ?1)
         ON CONFLICT (name) DO NOTHING",
        params![start],
    )?;
    let n: i64 = tx.query_row(
        "UPDATE enroll_sequences SET next = next + 1 WHERE name = 'habilitation' RETURNING next - 1",
        [],
        |r| r.get(0),
    )?;
    u32::try_from(n).map_err(|_| AccessError::HabilitationsExhausted)
}

/// A person as stored.
#[derive(Debug, Clone)]
pub struct AccessorRow {
    /// N° habilitation SISERI.
    pub habilitation: u32,
    /// Last name.
    pub last_name: String,
    /// First name.
    pub first_name: String,
    /// E-mail.
    pub email: String,
}

pub(crate) struct NewAccessor<'a> {
    pub habilitation: u32,
    pub last_name: &'a str,
    pub first_name: &'a str,
    pub match_key: Option<&'a str>,
    pub email: &'a str,
    pub civility: Option<&'a str>,
    pub birth_date: Option<&'a str>,
    pub birth_departement: Option<&'a str>,
}

pub(crate) fn insert_accessor(
    tx: &Transaction<'_>,
    a: &NewAccessor<'_>,
    now: OffsetDateTime,
) -> R<()> {
    tx.execute(
        "INSERT INTO enroll_accessors (habilitation, last_name, first_name, match_key, email,
             civility, birth_date, birth_departement, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            a.habilitation,
            a.last_name,
            a.first_name,
            a.match_key,
            a.email,
            a.civility,
            a.birth_date,
            a.birth_departement,
            now.unix_timestamp()
        ],
    )?;
    Ok(())
}

fn accessor_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessorRow> {
    Ok(AccessorRow {
        habilitation: r.get(0)?,
        last_name: r.get(1)?,
        first_name: r.get(2)?,
        email: r.get(3)?,
    })
}

pub(crate) fn accessor(conn: &Connection, hab: u32) -> R<Option<AccessorRow>> {
    Ok(conn
        .query_row(
            "SELECT habilitation, last_name, first_name, email FROM enroll_accessors WHERE habilitation = ?1",
            params![hab],
            accessor_row,
        )
        .optional()?)
}

pub(crate) fn accessor_by_match(conn: &Connection, key: &str) -> R<Option<u32>> {
    Ok(conn
        .query_row(
            "SELECT habilitation FROM enroll_accessors WHERE match_key = ?1",
            params![key],
            |r| r.get(0),
        )
        .optional()?)
}

/// Sets a person's address; whether it changed.
pub(crate) fn set_email(tx: &Transaction<'_>, hab: u32, email: &str) -> R<bool> {
    Ok(tx.execute(
        "UPDATE enroll_accessors SET email = ?2 WHERE habilitation = ?1 AND email <> ?2",
        params![hab, email],
    )? == 1)
}

/// What the registry knows of a person besides their name and address (absent for people
/// recorded without them).
#[derive(Debug, Clone, Default)]
pub(crate) struct StoredIdentity {
    pub civility: Option<String>,
    pub birth_date: Option<String>,
    pub birth_departement: Option<String>,
}

pub(crate) fn accessor_identity(conn: &Connection, hab: u32) -> R<Option<StoredIdentity>> {
    Ok(conn
        .query_row(
            "SELECT civility, birth_date, birth_departement FROM enroll_accessors
             WHERE habilitation = ?1",
            params![hab],
            |r| {
                Ok(StoredIdentity {
                    civility: r.get(0)?,
                    birth_date: r.get(1)?,
                    birth_departement: r.get(2)?,
                })
            },
        )
        .optional()?)
}

/// Migration 0005's data step: every match key remade with the project's one folding
/// ([`super::match_key`]). The names in an old key were folded by a function that only
/// upper-cased and dropped some accents, which the new folding does too: folding them again
/// gives the key the original names would give. When several people end up with one key, the
/// lowest habilitation number keeps it and the others lose theirs (they can no longer be
/// found by name and birth, never merged); the numbers are logged for an operator to look at.
pub(crate) fn refold_match_keys(tx: &Transaction<'_>) -> store::Result<()> {
    let old: Vec<(u32, String)> = tx
        .prepare(
            "SELECT habilitation, match_key FROM enroll_accessors
             WHERE match_key IS NOT NULL ORDER BY habilitation",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut keys: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for (hab, key) in &old {
        let new = match key.split('|').collect::<Vec<_>>()[..] {
            [last, first, birth, departement] => super::match_key(last, first, birth, departement),
            _ => {
                tracing::warn!(
                    habilitation = hab,
                    "clé de rapprochement illisible, gardée telle quelle"
                );
                key.clone()
            }
        };
        keys.entry(new).or_default().push(*hab);
    }
    // Cleared first: a new key may be another person's old one until that one is remade.
    tx.execute(
        "UPDATE enroll_accessors SET match_key = NULL WHERE match_key IS NOT NULL",
        [],
    )?;
    for (key, habs) in &keys {
        tx.execute(
            "UPDATE enroll_accessors SET match_key = ?2 WHERE habilitation = ?1",
            params![habs[0], key],
        )?;
        if habs.len() > 1 {
            tracing::warn!(
                kept = habs[0],
                cleared = ?&habs[1..],
                "même nom et même naissance une fois les noms repliés : personnes gardées \
                 séparées, seule la première reste trouvable par nom et naissance"
            );
        }
    }
    Ok(())
}

pub(crate) fn accessors(conn: &Connection) -> R<Vec<AccessorRow>> {
    let mut stmt = conn.prepare(
        "SELECT habilitation, last_name, first_name, email FROM enroll_accessors ORDER BY habilitation",
    )?;
    let rows = stmt.query_map([], accessor_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The people attached (attachment not ended) to an establishment whose version in force
/// names SIRET `siret` (14 digits; the protocol's input may hold spaces).
pub(crate) fn accessors_by_siret(conn: &Connection, siret: &str) -> R<Vec<AccessorRow>> {
    let mut stmt = conn.prepare(
        "SELECT a.habilitation, a.last_name, a.first_name, a.email FROM enroll_accessors a
         WHERE EXISTS (
             SELECT 1 FROM enroll_attachments t JOIN enroll_versions v
                 ON v.protocol_id = t.protocol_id AND v.status = 'approved'
             WHERE t.habilitation = a.habilitation AND t.ended_at IS NULL
               AND replace(replace(json_extract(v.input, '$.employer.siret'), ' ', ''),
                           char(160), '') = ?1)
         ORDER BY a.habilitation",
    )?;
    let rows = stmt.query_map([siret], accessor_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An attachment as stored.
#[derive(Debug, Clone)]
pub struct AttachmentRow {
    /// Row id.
    pub id: i64,
    /// The person.
    pub habilitation: u32,
    /// The establishment (protocol).
    pub protocol_id: i64,
    /// The role there.
    pub role: Role,
    /// PCR sending dosimetry.
    pub sends_dosimetry: bool,
    /// Version that attached them.
    pub since_version: i64,
    /// When it ended, if it did.
    pub ended_at: Option<i64>,
}

fn attachment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentRow> {
    let role: String = r.get(3)?;
    Ok(AttachmentRow {
        id: r.get(0)?,
        habilitation: r.get(1)?,
        protocol_id: r.get(2)?,
        role: Role::parse(&role).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, "role".into())
        })?,
        sends_dosimetry: r.get::<_, i64>(4)? == 1,
        since_version: r.get(5)?,
        ended_at: r.get(6)?,
    })
}

const ATTACHMENT_COLUMNS: &str =
    "id, habilitation, protocol_id, role, sends_dosimetry, since_version, ended_at";

pub(crate) fn active_attachment(
    conn: &Connection,
    hab: u32,
    protocol_id: i64,
    role: Role,
) -> R<Option<AttachmentRow>> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM enroll_attachments
                 WHERE habilitation = ?1 AND protocol_id = ?2 AND role = ?3 AND ended_at IS NULL"
            ),
            params![hab, protocol_id, role.as_str()],
            attachment_row,
        )
        .optional()?)
}

pub(crate) fn attach(
    tx: &Transaction<'_>,
    hab: u32,
    protocol_id: i64,
    role: Role,
    sends_dosimetry: bool,
    version: i64,
    now: OffsetDateTime,
) -> R<()> {
    tx.execute(
        "INSERT INTO enroll_attachments (habilitation, protocol_id, role, sends_dosimetry, since_version, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![hab, protocol_id, role.as_str(), i64::from(sends_dosimetry), version, now.unix_timestamp()],
    )?;
    Ok(())
}

/// Whether the person holds an attachment in force to this establishment, whatever the role.
pub(crate) fn attached_to_protocol(conn: &Connection, hab: u32, protocol_id: i64) -> R<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM enroll_attachments
             WHERE habilitation = ?1 AND protocol_id = ?2 AND ended_at IS NULL)",
        params![hab, protocol_id],
        |r| r.get(0),
    )?)
}

pub(crate) fn set_sends_dosimetry(tx: &Transaction<'_>, id: i64, sends: bool) -> R<()> {
    tx.execute(
        "UPDATE enroll_attachments SET sends_dosimetry = ?2 WHERE id = ?1",
        params![id, i64::from(sends)],
    )?;
    Ok(())
}

pub(crate) fn end_attachment(tx: &Transaction<'_>, id: i64, now: OffsetDateTime) -> R<()> {
    tx.execute(
        "UPDATE enroll_attachments SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
        params![id, now.unix_timestamp()],
    )?;
    Ok(())
}

pub(crate) fn attachments_of_protocol(
    conn: &Connection,
    protocol_id: i64,
) -> R<Vec<AttachmentRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM enroll_attachments
         WHERE protocol_id = ?1 AND ended_at IS NULL ORDER BY role, habilitation"
    ))?;
    let rows = stmt.query_map(params![protocol_id], attachment_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn attachments_of_person(
    conn: &Connection,
    hab: u32,
    active_only: bool,
) -> R<Vec<AttachmentRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM enroll_attachments
         WHERE habilitation = ?1 AND (?2 = 0 OR ended_at IS NULL) ORDER BY protocol_id, role"
    ))?;
    let rows = stmt.query_map(params![hab, i64::from(active_only)], attachment_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Enrollment's view of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRow {
    /// Serial (DER octets).
    pub serial: Vec<u8>,
    /// The person.
    pub habilitation: u32,
    /// Where it stands.
    pub state: CertificateState,
    /// The certificate it replaces (renewal).
    pub replaces: Option<Vec<u8>>,
    /// End of validity.
    pub not_after: Option<i64>,
}

fn certificate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CertificateRow> {
    Ok(CertificateRow {
        serial: r.get(0)?,
        habilitation: r.get(1)?,
        state: r.get(2)?,
        replaces: r.get(3)?,
        not_after: r.get(4)?,
    })
}

pub(crate) fn insert_certificate(
    tx: &Transaction<'_>,
    serial: &[u8],
    hab: u32,
    replaces: Option<&[u8]>,
    now: OffsetDateTime,
) -> R<()> {
    tx.execute(
        "INSERT INTO enroll_certificates (serial, habilitation, state, replaces, created_at)
         VALUES (?1, ?2, 'preparing', ?3, ?4)",
        params![serial, hab, replaces, now.unix_timestamp()],
    )?;
    Ok(())
}

pub(crate) fn set_certificate_state(
    tx: &Transaction<'_>,
    serial: &[u8],
    state: CertificateState,
    not_after: Option<i64>,
) -> R<()> {
    tx.execute(
        "UPDATE enroll_certificates SET state = ?2, not_after = COALESCE(?3, not_after) WHERE serial = ?1",
        params![serial, state, not_after],
    )?;
    Ok(())
}

pub(crate) fn certificates_of(conn: &Connection, hab: u32) -> R<Vec<CertificateRow>> {
    let mut stmt = conn.prepare(
        "SELECT serial, habilitation, state, replaces, not_after FROM enroll_certificates
         WHERE habilitation = ?1 ORDER BY created_at, serial",
    )?;
    let rows = stmt.query_map(params![hab], certificate_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn certificate(conn: &Connection, serial: &[u8]) -> R<Option<CertificateRow>> {
    Ok(conn
        .query_row(
            "SELECT serial, habilitation, state, replaces, not_after FROM enroll_certificates WHERE serial = ?1",
            params![serial],
            certificate_row,
        )
        .optional()?)
}

pub(crate) fn certificates_expiring(
    conn: &Connection,
    now: i64,
    until: i64,
) -> R<Vec<CertificateRow>> {
    let mut stmt = conn.prepare(
        "SELECT serial, habilitation, state, replaces, not_after FROM enroll_certificates
         WHERE state = 'delivered' AND expiry_notified_at IS NULL AND not_after > ?1 AND not_after <= ?2",
    )?;
    let rows = stmt.query_map(params![now, until], certificate_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn mark_expiry_notified(
    tx: &Transaction<'_>,
    serial: &[u8],
    now: OffsetDateTime,
) -> R<bool> {
    Ok(tx.execute(
        "UPDATE enroll_certificates SET expiry_notified_at = ?2 WHERE serial = ?1 AND expiry_notified_at IS NULL",
        params![serial, now.unix_timestamp()],
    )? == 1)
}

/// A withdrawal as stored (never the token or the code).
#[derive(Debug, Clone)]
pub struct WithdrawalRow {
    /// Row id.
    pub id: i64,
    /// The person.
    pub habilitation: u32,
    /// The certificate inside.
    pub serial: Vec<u8>,
    /// Keyed hash of the withdrawal code.
    pub code_hmac: Option<Vec<u8>>,
    /// Where it stands.
    pub status: WithdrawalState,
    /// Wrong codes so far.
    pub failed_attempts: i64,
    /// Creation time.
    pub created_at: i64,
    /// End of the 60 days.
    pub expires_at: i64,
    /// modern / compat.
    pub p12_profile: String,
    /// Whether the .p12 bytes are still stored.
    pub has_p12: bool,
}

const WITHDRAWAL_COLUMNS: &str = "id, habilitation, serial, code_hmac, status, failed_attempts,
    created_at, expires_at, p12_profile, p12 IS NOT NULL";

fn withdrawal_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WithdrawalRow> {
    Ok(WithdrawalRow {
        id: r.get(0)?,
        habilitation: r.get(1)?,
        serial: r.get(2)?,
        code_hmac: r.get(3)?,
        status: r.get(4)?,
        failed_attempts: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        p12_profile: r.get(8)?,
        has_p12: r.get(9)?,
    })
}

pub(crate) fn insert_withdrawal(
    tx: &Transaction<'_>,
    hab: u32,
    serial: &[u8],
    token_hash: &[u8],
    profile: &str,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> R<i64> {
    tx.execute(
        "INSERT INTO enroll_withdrawals (habilitation, serial, token_hash, p12_profile, status, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, 'preparing', ?5, ?6)",
        params![hab, serial, token_hash, profile, now.unix_timestamp(), expires_at.unix_timestamp()],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(crate) fn withdrawal_ready(
    tx: &Transaction<'_>,
    id: i64,
    code_hmac: &[u8],
    p12: &[u8],
) -> R<()> {
    tx.execute(
        "UPDATE enroll_withdrawals SET code_hmac = ?2, p12 = ?3, status = 'pending'
         WHERE id = ?1 AND status = 'preparing'",
        params![id, code_hmac, p12],
    )?;
    Ok(())
}

pub(crate) fn withdrawal_by_token(
    conn: &Connection,
    token_hash: &[u8],
) -> R<Option<WithdrawalRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {WITHDRAWAL_COLUMNS} FROM enroll_withdrawals WHERE token_hash = ?1"),
            params![token_hash],
            withdrawal_row,
        )
        .optional()?)
}

pub(crate) fn withdrawals_of(conn: &Connection, hab: u32) -> R<Vec<WithdrawalRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {WITHDRAWAL_COLUMNS} FROM enroll_withdrawals WHERE habilitation = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![hab], withdrawal_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn withdrawals_due(conn: &Connection, now: i64) -> R<Vec<WithdrawalRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {WITHDRAWAL_COLUMNS} FROM enroll_withdrawals
         WHERE status IN ('pending', 'locked', 'preparing') AND expires_at < ?1"
    ))?;
    let rows = stmt.query_map(params![now], withdrawal_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The two tables of one-shot withdrawals, which share their counting and taking: people's
/// certificates and operators'.
#[derive(Debug, Clone, Copy)]
pub(crate) enum WithdrawalTable {
    /// `enroll_withdrawals`.
    People,
    /// `enroll_operator_withdrawals`.
    Operators,
}

impl WithdrawalTable {
    fn name(self) -> &'static str {
        match self {
            Self::People => "enroll_withdrawals",
            Self::Operators => "enroll_operator_withdrawals",
        }
    }
}

/// Counts a wrong code; locks the withdrawal at `max`. Returns the failures so far.
pub(crate) fn withdrawal_failure(
    tx: &Transaction<'_>,
    table: WithdrawalTable,
    id: i64,
    max: i64,
) -> R<i64> {
    Ok(tx.query_row(
        &format!(
            "UPDATE {} SET failed_attempts = failed_attempts + 1,
                 status = CASE WHEN failed_attempts + 1 >= ?2 THEN 'locked' ELSE status END
             WHERE id = ?1 RETURNING failed_attempts",
            table.name()
        ),
        params![id, max],
        |r| r.get(0),
    )?)
}

/// The compare-and-swap of a withdrawal: takes the file only if still pending, and erases it.
pub(crate) fn take_p12(
    tx: &Transaction<'_>,
    table: WithdrawalTable,
    id: i64,
    now: OffsetDateTime,
) -> R<Option<Vec<u8>>> {
    let p12: Option<Option<Vec<u8>>> = tx
        .query_row(
            &format!(
                "SELECT p12 FROM {} WHERE id = ?1 AND status = 'pending'",
                table.name()
            ),
            params![id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(Some(p12)) = p12 else {
        return Ok(None);
    };
    let n = tx.execute(
        &format!(
            "UPDATE {} SET status = 'used', p12 = NULL, closed_at = ?2
             WHERE id = ?1 AND status = 'pending'",
            table.name()
        ),
        params![id, now.unix_timestamp()],
    )?;
    Ok((n == 1).then_some(p12))
}

pub(crate) fn close_withdrawal(
    tx: &Transaction<'_>,
    id: i64,
    status: WithdrawalState,
    now: OffsetDateTime,
) -> R<bool> {
    Ok(tx.execute(
        "UPDATE enroll_withdrawals SET status = ?2, p12 = NULL, closed_at = ?3
         WHERE id = ?1 AND status IN ('preparing', 'pending', 'locked')",
        params![id, status, now.unix_timestamp()],
    )? == 1)
}

/// An access code as stored.
#[derive(Debug, Clone)]
pub struct AccessCodeRow {
    /// Keyed hash.
    pub code_hmac: Vec<u8>,
    /// Usable or locked.
    pub status: AccessCodeState,
    /// Wrong codes since the last success or reset.
    pub failed_attempts: i64,
}

pub(crate) fn access_code(conn: &Connection, hab: u32) -> R<Option<AccessCodeRow>> {
    Ok(conn
        .query_row(
            "SELECT code_hmac, status, failed_attempts FROM enroll_access_codes WHERE habilitation = ?1",
            params![hab],
            |r| {
                Ok(AccessCodeRow {
                    code_hmac: r.get(0)?,
                    status: r.get(1)?,
                    failed_attempts: r.get(2)?,
                })
            },
        )
        .optional()?)
}

pub(crate) fn put_access_code(
    tx: &Transaction<'_>,
    hab: u32,
    code_hmac: &[u8],
    now: OffsetDateTime,
) -> R<()> {
    tx.execute(
        "INSERT INTO enroll_access_codes (habilitation, code_hmac, status, failed_attempts, updated_at)
         VALUES (?1, ?2, 'active', 0, ?3)
         ON CONFLICT (habilitation) DO UPDATE SET code_hmac = excluded.code_hmac, status = 'active',
             failed_attempts = 0, updated_at = excluded.updated_at",
        params![hab, code_hmac, now.unix_timestamp()],
    )?;
    Ok(())
}

pub(crate) fn access_code_failure(
    tx: &Transaction<'_>,
    hab: u32,
    max: i64,
    now: OffsetDateTime,
) -> R<i64> {
    Ok(tx.query_row(
        "UPDATE enroll_access_codes SET failed_attempts = failed_attempts + 1, updated_at = ?3,
             status = CASE WHEN failed_attempts + 1 >= ?2 THEN 'locked' ELSE status END
         WHERE habilitation = ?1 RETURNING failed_attempts",
        params![hab, max, now.unix_timestamp()],
        |r| r.get(0),
    )?)
}

pub(crate) fn access_code_success(tx: &Transaction<'_>, hab: u32) -> R<()> {
    tx.execute(
        "UPDATE enroll_access_codes SET failed_attempts = 0 WHERE habilitation = ?1 AND failed_attempts <> 0",
        params![hab],
    )?;
    Ok(())
}

/// A protocol version as the operator reviews it.
#[derive(Debug, Clone)]
pub(crate) struct ReviewRow {
    pub version_id: String,
    pub protocol_id: i64,
    pub number: String,
    pub key_name: String,
    pub version: i64,
    pub status: Status,
    pub input: String,
    pub signed_at: i64,
    pub document_sha256: String,
    pub annexe_text: String,
    pub evidence: String,
    pub reject_reason: Option<String>,
    pub decided_by: Option<String>,
}

const REVIEW_COLUMNS: &str = "v.id, p.id, p.number, p.key_name, v.version, v.status, v.input,
    v.signed_at, v.document_sha256, v.annexe_text, v.evidence, v.reject_reason, v.decided_by";

fn review_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReviewRow> {
    Ok(ReviewRow {
        version_id: r.get(0)?,
        protocol_id: r.get(1)?,
        number: r.get(2)?,
        key_name: r.get(3)?,
        version: r.get(4)?,
        status: r.get(5)?,
        input: r.get(6)?,
        signed_at: r.get(7)?,
        document_sha256: r.get(8)?,
        annexe_text: r.get(9)?,
        evidence: r.get(10)?,
        reject_reason: r.get(11)?,
        decided_by: r.get(12)?,
    })
}

pub(crate) fn versions(conn: &Connection, status: Option<&str>) -> R<Vec<ReviewRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {REVIEW_COLUMNS} FROM enroll_versions v JOIN enroll_protocols p ON p.id = v.protocol_id
         WHERE v.status NOT IN ('draft', 'cancelled') AND (?1 IS NULL OR v.status = ?1)
         ORDER BY v.signed_at, p.number, v.version"
    ))?;
    let rows = stmt.query_map(params![status], review_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn versions_of(conn: &Connection, number: &str) -> R<Vec<ReviewRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {REVIEW_COLUMNS} FROM enroll_versions v JOIN enroll_protocols p ON p.id = v.protocol_id
         WHERE p.number = ?1 AND v.status NOT IN ('draft', 'cancelled') ORDER BY v.version"
    ))?;
    let rows = stmt.query_map(params![number], review_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn versions_of_id(conn: &Connection, protocol_id: i64) -> R<Vec<ReviewRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {REVIEW_COLUMNS} FROM enroll_versions v JOIN enroll_protocols p ON p.id = v.protocol_id
         WHERE p.id = ?1 AND v.status NOT IN ('draft', 'cancelled') ORDER BY v.version"
    ))?;
    let rows = stmt.query_map(params![protocol_id], review_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn decide(
    tx: &Transaction<'_>,
    version_id: &str,
    status: Status,
    by: &str,
    reason: Option<&str>,
    now: OffsetDateTime,
) -> R<bool> {
    Ok(tx.execute(
        "UPDATE enroll_versions SET status = ?2, decided_by = ?3, reject_reason = ?4, decided_at = ?5
         WHERE id = ?1 AND status = 'signed'",
        params![version_id, status, by, reason, now.unix_timestamp()],
    )? == 1)
}

pub(crate) fn supersede_older(tx: &Transaction<'_>, protocol_id: i64, version: i64) -> R<()> {
    tx.execute(
        "UPDATE enroll_versions SET status = 'superseded'
         WHERE protocol_id = ?1 AND version < ?2 AND status IN ('approved', 'signed')",
        params![protocol_id, version],
    )?;
    Ok(())
}
