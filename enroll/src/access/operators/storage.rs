//! The SQL of operators, their certificates and withdrawals.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use time::OffsetDateTime;

use super::{OperatorRole, OperatorRow};
use crate::access::{AccessError, CertificateState, WithdrawalState};

type R<T> = Result<T, AccessError>;

const OPERATOR_COLUMNS: &str = "id, name, email, role, created_at, created_by, revoked_at";

fn operator_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OperatorRow> {
    let role: String = r.get(3)?;
    Ok(OperatorRow {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        role: OperatorRole::parse(&role).unwrap_or(OperatorRole::Instructeur),
        created_at: r.get(4)?,
        created_by: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

pub(super) fn insert_operator(
    tx: &Transaction<'_>,
    name: &str,
    email: &str,
    role: OperatorRole,
    by: &str,
    now: OffsetDateTime,
) -> R<i64> {
    tx.execute(
        "INSERT INTO enroll_operators (name, email, role, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![name, email, role.as_str(), now.unix_timestamp(), by],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(super) fn operator(conn: &Connection, id: i64) -> R<Option<OperatorRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {OPERATOR_COLUMNS} FROM enroll_operators WHERE id = ?1"),
            params![id],
            operator_row,
        )
        .optional()?)
}

pub(super) fn operators(conn: &Connection) -> R<Vec<OperatorRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {OPERATOR_COLUMNS} FROM enroll_operators ORDER BY id"
    ))?;
    let rows = stmt.query_map([], operator_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn any_administrator(conn: &Connection) -> R<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM enroll_operators
                        WHERE role = 'administrateur' AND revoked_at IS NULL)",
        [],
        |r| r.get(0),
    )?)
}

/// Administrators other than operator `id` who can open the console at `now`: in office, and
/// holding a withdrawn certificate not past its end.
pub(super) fn other_administrators(conn: &Connection, id: i64, now: OffsetDateTime) -> R<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM enroll_operators o
         WHERE o.role = 'administrateur' AND o.revoked_at IS NULL AND o.id <> ?1
           AND EXISTS (SELECT 1 FROM enroll_operator_certificates c
                       WHERE c.operator_id = o.id AND c.state = 'delivered' AND c.not_after > ?2)",
        params![id, now.unix_timestamp()],
        |r| r.get(0),
    )?)
}

pub(super) fn mark_revoked(tx: &Transaction<'_>, id: i64, now: OffsetDateTime) -> R<bool> {
    Ok(tx.execute(
        "UPDATE enroll_operators SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now.unix_timestamp()],
    )? == 1)
}

/// The operator holding certificate `serial`, with the certificate's state.
pub(super) fn by_serial(
    conn: &Connection,
    serial: &[u8],
) -> R<Option<(OperatorRow, CertificateState)>> {
    Ok(conn
        .query_row(
            "SELECT o.id, o.name, o.email, o.role, o.created_at, o.created_by, o.revoked_at,
                    c.state
             FROM enroll_operator_certificates c JOIN enroll_operators o ON o.id = c.operator_id
             WHERE c.serial = ?1",
            params![serial],
            |r| Ok((operator_row(r)?, r.get::<_, CertificateState>(7)?)),
        )
        .optional()?)
}

pub(super) fn insert_certificate(
    tx: &Transaction<'_>,
    serial: &[u8],
    operator: i64,
    now: OffsetDateTime,
) -> R<()> {
    tx.execute(
        "INSERT INTO enroll_operator_certificates (serial, operator_id, state, created_at)
         VALUES (?1, ?2, 'preparing', ?3)",
        params![serial, operator, now.unix_timestamp()],
    )?;
    Ok(())
}

pub(super) fn set_certificate_state(
    tx: &Transaction<'_>,
    serial: &[u8],
    state: CertificateState,
    not_after: Option<i64>,
) -> R<()> {
    tx.execute(
        "UPDATE enroll_operator_certificates SET state = ?2, not_after = COALESCE(?3, not_after)
         WHERE serial = ?1",
        params![serial, state, not_after],
    )?;
    Ok(())
}

/// One certificate of an operator as stored: serial, state, notAfter.
pub(super) type CertificateEntry = (Vec<u8>, CertificateState, Option<i64>);

/// An operator's certificates, oldest first.
pub(super) fn certificates_of(conn: &Connection, operator: i64) -> R<Vec<CertificateEntry>> {
    let mut stmt = conn.prepare(
        "SELECT serial, state, not_after FROM enroll_operator_certificates
         WHERE operator_id = ?1 ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map(params![operator], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn insert_withdrawal(
    tx: &Transaction<'_>,
    operator: i64,
    serial: &[u8],
    token_hash: &[u8],
    code_hmac: &[u8],
    p12: &[u8],
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> R<()> {
    tx.execute(
        "INSERT INTO enroll_operator_withdrawals (operator_id, serial, token_hash, code_hmac, p12,
             status, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7)",
        params![
            operator,
            serial,
            token_hash,
            code_hmac,
            p12,
            now.unix_timestamp(),
            expires_at.unix_timestamp()
        ],
    )?;
    Ok(())
}

/// An operator's withdrawal as stored (without its file).
#[derive(Debug, Clone)]
pub(crate) struct OperatorWithdrawal {
    pub id: i64,
    pub operator_id: i64,
    pub serial: Vec<u8>,
    pub code_hmac: Vec<u8>,
    pub status: WithdrawalState,
    pub failed_attempts: i64,
    pub expires_at: i64,
}

pub(super) fn withdrawal_by_token(
    conn: &Connection,
    token_hash: &[u8],
) -> R<Option<OperatorWithdrawal>> {
    Ok(conn
        .query_row(
            "SELECT id, operator_id, serial, code_hmac, status, failed_attempts, expires_at
             FROM enroll_operator_withdrawals WHERE token_hash = ?1",
            params![token_hash],
            |r| {
                Ok(OperatorWithdrawal {
                    id: r.get(0)?,
                    operator_id: r.get(1)?,
                    serial: r.get(2)?,
                    code_hmac: r.get(3)?,
                    status: r.get(4)?,
                    failed_attempts: r.get(5)?,
                    expires_at: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// Closes every open withdrawal of an operator.
pub(super) fn close_withdrawals(
    tx: &Transaction<'_>,
    operator: i64,
    status: WithdrawalState,
    now: OffsetDateTime,
) -> R<()> {
    tx.execute(
        "UPDATE enroll_operator_withdrawals SET status = ?2, p12 = NULL, closed_at = ?3
         WHERE operator_id = ?1 AND status IN ('pending', 'locked')",
        params![operator, status, now.unix_timestamp()],
    )?;
    Ok(())
}

pub(super) fn expire_withdrawal(tx: &Transaction<'_>, id: i64, now: OffsetDateTime) -> R<()> {
    tx.execute(
        "UPDATE enroll_operator_withdrawals SET status = 'expired', p12 = NULL, closed_at = ?2
         WHERE id = ?1 AND status IN ('pending', 'locked')",
        params![id, now.unix_timestamp()],
    )?;
    Ok(())
}

/// Open withdrawals past their end: `(id, operator, serial)`.
pub(super) fn withdrawals_due(conn: &Connection, now: i64) -> R<Vec<(i64, i64, Vec<u8>)>> {
    let mut stmt = conn.prepare(
        "SELECT id, operator_id, serial FROM enroll_operator_withdrawals
         WHERE status IN ('pending', 'locked') AND expires_at < ?1",
    )?;
    let rows = stmt.query_map(params![now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An operator's withdrawals, oldest first, without their secrets nor their file:
/// (id, serial, status, failed attempts, created at, expires at).
pub(super) type WithdrawalEntry = (i64, Vec<u8>, WithdrawalState, i64, i64, i64);

pub(super) fn withdrawals_of(conn: &Connection, operator: i64) -> R<Vec<WithdrawalEntry>> {
    let mut stmt = conn.prepare(
        "SELECT id, serial, status, failed_attempts, created_at, expires_at
         FROM enroll_operator_withdrawals WHERE operator_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([operator], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
