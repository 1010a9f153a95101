//! The SQL of the OCSP responses signed ahead (`ca_ocsp_responses`, migration 0009).

use rusqlite::{params, Connection, OptionalExtension};
use time::OffsetDateTime;

use crate::ocsp::HashAlg;
use crate::{Error, Result, RevocationReason, Serial};

/// A stored response, as the request path serves it.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub der: Vec<u8>,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    /// It says `revoked`.
    pub revoked: bool,
}

/// A response to store, and what it was produced for.
#[derive(Debug, Clone)]
pub(crate) struct NewResponse {
    pub serial: Serial,
    pub hash: HashAlg,
    /// 0 for `good`, the certificate's revocation sequence number for `revoked`.
    pub revocation_seq: i64,
    pub this_update: OffsetDateTime,
    pub next_update: OffsetDateTime,
    pub refresh_after: OffsetDateTime,
    pub der: Vec<u8>,
}

/// What a certificate's response must say: a signed certificate's status now.
#[derive(Debug, Clone)]
pub(crate) struct CertState {
    pub serial: Serial,
    pub not_after: OffsetDateTime,
    /// (time, reason, revocation_seq) when revoked.
    pub revoked: Option<(OffsetDateTime, RevocationReason, i64)>,
}

impl CertState {
    pub(crate) fn revocation_seq(&self) -> i64 {
        self.revoked.map_or(0, |(_, _, seq)| seq)
    }
}

fn ts(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(r.get(i)?).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Integer, Box::new(e))
    })
}

/// Columns `serial, not_after, status, revoked_at, revocation_reason, revocation_seq` from
/// index `at` on.
fn cert_state(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<CertState> {
    let status: String = r.get(at + 2)?;
    let revoked = if status == "revoked" {
        let reason: String = r.get(at + 4)?;
        let reason: RevocationReason = reason.parse().map_err(|e: Error| {
            rusqlite::Error::FromSqlConversionFailure(
                at + 4,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })?;
        Some((ts(r, at + 3)?, reason, r.get(at + 5)?))
    } else {
        None
    };
    Ok(CertState {
        serial: Serial::from_der_bytes(r.get_ref(at)?.as_blob()?),
        not_after: ts(r, at + 1)?,
        revoked,
    })
}

const STATE_COLUMNS: &str = "c.serial, c.not_after, c.status, c.revoked_at, c.revocation_reason,
     COALESCE(c.revocation_seq, 0)";

/// The stored response for this serial and CertID hash, if any.
pub(crate) fn find(conn: &Connection, serial: &[u8], hash: HashAlg) -> Result<Option<Stored>> {
    let mut stmt = conn.prepare_cached(
        "SELECT der, this_update, next_update, revocation_seq > 0 FROM ca_ocsp_responses
         WHERE serial = ?1 AND hash = ?2",
    )?;
    Ok(stmt
        .query_row(params![serial, hash.as_str()], |r| {
            Ok(Stored {
                der: r.get(0)?,
                this_update: ts(r, 1)?,
                next_update: ts(r, 2)?,
                revoked: r.get(3)?,
            })
        })
        .optional()?)
}

/// A signed certificate's state (`None`: never recorded, or recorded and never signed).
pub(crate) fn state(conn: &Connection, serial: &[u8]) -> Result<Option<CertState>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS} FROM ca_certificates c
         WHERE c.serial = ?1 AND c.status != 'unsigned'"
    ))?;
    Ok(stmt
        .query_row(params![serial], |r| cert_state(r, 0))
        .optional()?)
}

/// Stores `r` (replacing the row for the same serial and hash) only if the certificate's
/// revocation sequence number is still the one the response states: a response signed while
/// a revocation committed is dropped, never written over the revoked one. Returns whether it
/// was written.
pub(crate) fn store_if_current(conn: &Connection, r: &NewResponse) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO ca_ocsp_responses (serial, hash, cert_status, revocation_seq, this_update,
             next_update, refresh_after, der)
         SELECT ?1, ?2, CASE WHEN ?3 > 0 THEN 'revoked' ELSE 'good' END, ?3, ?4, ?5, ?6, ?7
         WHERE (SELECT COALESCE(revocation_seq, 0) FROM ca_certificates
                WHERE serial = ?1 AND status != 'unsigned') = ?3
         ON CONFLICT (serial, hash) DO UPDATE SET cert_status = excluded.cert_status,
             revocation_seq = excluded.revocation_seq, this_update = excluded.this_update,
             next_update = excluded.next_update, refresh_after = excluded.refresh_after,
             der = excluded.der",
    )?;
    let n = stmt.execute(params![
        r.serial.as_bytes(),
        r.hash.as_str(),
        r.revocation_seq,
        r.this_update.unix_timestamp(),
        r.next_update.unix_timestamp(),
        r.refresh_after.unix_timestamp(),
        r.der,
    ])?;
    Ok(n == 1)
}

/// Forgets every response of `serial` (at its revocation, in the same transaction).
pub(crate) fn delete_all(conn: &Connection, serial: &Serial) -> Result<()> {
    conn.prepare_cached("DELETE FROM ca_ocsp_responses WHERE serial = ?1")?
        .execute(params![serial.as_bytes()])?;
    Ok(())
}

/// Forgets one response (its certificate expired, or is gone).
pub(crate) fn delete_one(conn: &Connection, serial: &Serial, hash: HashAlg) -> Result<()> {
    conn.prepare_cached("DELETE FROM ca_ocsp_responses WHERE serial = ?1 AND hash = ?2")?
        .execute(params![serial.as_bytes(), hash.as_str()])?;
    Ok(())
}

/// The hash algorithms `serial` has responses for.
pub(crate) fn hashes(conn: &Connection, serial: &Serial) -> Result<Vec<HashAlg>> {
    let mut stmt = conn.prepare_cached("SELECT hash FROM ca_ocsp_responses WHERE serial = ?1")?;
    let rows = stmt.query_map(params![serial.as_bytes()], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for h in rows {
        if let Some(h) = HashAlg::from_name(&h?) {
            out.push(h);
        }
    }
    Ok(out)
}

/// The highest rowid of `ca_certificates` (where a sweep ends).
pub(crate) fn max_certificate_rowid(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(rowid), 0) FROM ca_certificates",
        [],
        |r| r.get(0),
    )?)
}

/// Signed, unexpired certificates with rowid in `(after, after + window]` whose SHA-1 response
/// is missing or does not state their status, at most `limit` of them; with the rowid of the
/// last one returned (or the window's end when fewer than `limit` came back). Bounded work:
/// one window of the table per call, whatever its size.
pub(crate) fn sweep(
    conn: &Connection,
    after: i64,
    window: i64,
    now: OffsetDateTime,
    limit: usize,
) -> Result<(Vec<CertState>, i64)> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT c.rowid, {STATE_COLUMNS} FROM ca_certificates c
         WHERE c.rowid > ?1 AND c.rowid <= ?2 AND c.status != 'unsigned' AND c.not_after > ?3
           AND NOT EXISTS (SELECT 1 FROM ca_ocsp_responses o
                           WHERE o.serial = c.serial AND o.hash = 'sha1'
                             AND o.revocation_seq = COALESCE(c.revocation_seq, 0))
         ORDER BY c.rowid LIMIT ?4"
    ))?;
    let end = after.saturating_add(window);
    let mut rows = stmt.query(params![after, end, now.unix_timestamp(), limit as i64])?;
    let mut out = Vec::new();
    let mut last = end;
    while let Some(r) = rows.next()? {
        out.push(cert_state(r, 1)?);
        if out.len() == limit {
            last = r.get(0)?;
        }
    }
    Ok((out, last))
}

/// Revocations numbered after `seq`, in order, at most `limit`, each with whether its SHA-1
/// response already states it (the revocation's own transaction wrote it).
pub(crate) fn revoked_since(
    conn: &Connection,
    seq: i64,
    limit: usize,
) -> Result<Vec<(CertState, bool)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS},
             EXISTS (SELECT 1 FROM ca_ocsp_responses o
                     WHERE o.serial = c.serial AND o.hash = 'sha1'
                       AND o.revocation_seq = c.revocation_seq)
         FROM ca_certificates c
         WHERE c.revocation_seq > ?1 ORDER BY c.revocation_seq LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![seq, limit as i64], |r| {
        Ok((cert_state(r, 0)?, r.get(6)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The highest revocation sequence number.
pub(crate) fn max_revocation_seq(conn: &Connection) -> Result<i64> {
    super::max_revocation_seq(conn)
}

/// Responses due for renewal at `now`, oldest first, at most `limit`: (serial, hash, the
/// certificate's state, `None` if it is no longer a signed certificate).
pub(crate) fn due(
    conn: &Connection,
    now: OffsetDateTime,
    limit: usize,
) -> Result<Vec<(Serial, HashAlg, Option<CertState>)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT o.serial, o.hash, c.serial IS NOT NULL, {STATE_COLUMNS}
         FROM ca_ocsp_responses o INDEXED BY ca_ocsp_responses_refresh
         LEFT JOIN ca_certificates c ON c.serial = o.serial AND c.status != 'unsigned'
         WHERE o.refresh_after <= ?1 ORDER BY o.refresh_after LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now.unix_timestamp(), limit as i64], |r| {
        let serial = Serial::from_der_bytes(r.get_ref(0)?.as_blob()?);
        let hash: String = r.get(1)?;
        let known: bool = r.get(2)?;
        let state = if known { Some(cert_state(r, 3)?) } else { None };
        Ok((serial, hash, state))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (serial, hash, state) = row?;
        // The CHECK constraint allows only names `from_name` reads.
        let hash = HashAlg::from_name(&hash).unwrap_or(HashAlg::Sha1);
        out.push((serial, hash, state));
    }
    Ok(out)
}
