//! All of the CA's SQL (the OCSP responses signed ahead in `storage/ocsp.rs`).

pub(crate) mod ocsp;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use time::OffsetDateTime;

use crate::{Error, ProfileKind, Result, RevocationReason, Serial};

/// What the database holds about one certificate.
#[derive(Debug, Clone)]
pub struct CertificateRecord {
    /// Serial number.
    pub serial: Serial,
    /// Profile it was issued under.
    pub profile: ProfileKind,
    /// Subject common name.
    pub subject: String,
    /// Who asked for it.
    pub requester: String,
    /// Its status.
    pub status: CertificateStatus,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// The signed certificate, once signed.
    pub der: Option<Vec<u8>>,
    /// The CRL shard it was assigned at issuance; `None`: the full CRL covers it alone.
    pub crl_shard: Option<u32>,
}

/// Stored life cycle of a certificate. Expiry is not stored: it follows from `not_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateStatus {
    /// Recorded, not (yet) signed: an issuance interrupted between record and signature.
    Unsigned,
    /// Signed and released.
    Issued,
    /// Revoked at this time for this reason.
    Revoked {
        /// When the CA processed the revocation.
        at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
    },
}

impl CertificateRecord {
    /// `Expired` is derived: an issued certificate past its `not_after`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        now > self.not_after
    }
}

pub(crate) struct NewRecord<'a> {
    pub serial: &'a Serial,
    pub profile: ProfileKind,
    pub subject: &'a str,
    pub requester: &'a str,
    pub key_description: &'a str,
    pub tbs: &'a [u8],
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub crl_shard: Option<u32>,
}

pub(crate) fn insert_unsigned(tx: &Transaction<'_>, r: &NewRecord<'_>) -> Result<()> {
    insert(tx, r, None)
}

/// Inserts a certificate that was signed outside the usual path (AC SISERI's own).
pub(crate) fn insert_signed(tx: &Transaction<'_>, r: &NewRecord<'_>, der: &[u8]) -> Result<()> {
    insert(tx, r, Some(der))
}

/// One row for `r`: `unsigned` without `der`, `issued` (signed at creation) with it.
fn insert(tx: &Transaction<'_>, r: &NewRecord<'_>, der: Option<&[u8]>) -> Result<()> {
    let (status, signed_at) = match der {
        None => ("unsigned", None),
        Some(_) => ("issued", Some(r.created_at.unix_timestamp())),
    };
    tx.execute(
        "INSERT INTO ca_certificates (serial, serial_hex, profile, subject, requester,
             key_description, tbs, der, status, not_before, not_after, created_at, signed_at,
             crl_shard)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            r.serial.as_bytes(),
            r.serial.to_hex(),
            r.profile.as_str(),
            r.subject,
            r.requester,
            r.key_description,
            r.tbs,
            der,
            status,
            r.not_before.unix_timestamp(),
            r.not_after.unix_timestamp(),
            r.created_at.unix_timestamp(),
            signed_at,
            r.crl_shard,
        ],
    )?;
    Ok(())
}

/// Marks an unsigned record signed; false when another process signed it first.
pub(crate) fn mark_signed(
    tx: &Transaction<'_>,
    serial: &Serial,
    der: &[u8],
    at: OffsetDateTime,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE ca_certificates SET der = ?2, status = 'issued', signed_at = ?3
         WHERE serial = ?1 AND status = 'unsigned'",
        params![serial.as_bytes(), der, at.unix_timestamp()],
    )?;
    Ok(n == 1)
}

/// Records left unsigned by an interrupted issuance: evidence that nothing was released.
pub fn unsigned_serials(conn: &Connection) -> Result<Vec<Serial>> {
    let mut stmt = conn.prepare(
        "SELECT serial FROM ca_certificates WHERE status = 'unsigned' ORDER BY created_at",
    )?;
    let rows = stmt.query_map([], |r| Ok(Serial::from_der_bytes(&r.get::<_, Vec<u8>>(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn mark_revoked(
    tx: &Transaction<'_>,
    serial: &Serial,
    reason: RevocationReason,
    at: OffsetDateTime,
) -> Result<bool> {
    let n = tx.execute(
        "UPDATE ca_certificates SET status = 'revoked', revoked_at = ?2, revocation_reason = ?3
         WHERE serial = ?1 AND status = 'issued'",
        params![serial.as_bytes(), at.unix_timestamp(), reason.as_str()],
    )?;
    Ok(n == 1)
}

const RECORD_COLUMNS: &str = "serial, profile, subject, requester, status, not_before, not_after,
     der, revoked_at, revocation_reason, crl_shard";

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CertificateRecord> {
    let ts = |i: usize| -> rusqlite::Result<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(r.get(i)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })
    };
    let bad = |i: usize, e: Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let status: String = r.get(4)?;
    let status = match status.as_str() {
        "unsigned" => CertificateStatus::Unsigned,
        "issued" => CertificateStatus::Issued,
        _ => CertificateStatus::Revoked {
            at: ts(8)?,
            reason: r.get::<_, String>(9)?.parse().map_err(|e| bad(9, e))?,
        },
    };
    Ok(CertificateRecord {
        serial: Serial::from_der_bytes(&r.get::<_, Vec<u8>>(0)?),
        profile: r.get::<_, String>(1)?.parse().map_err(|e| bad(1, e))?,
        subject: r.get(2)?,
        requester: r.get(3)?,
        status,
        not_before: ts(5)?,
        not_after: ts(6)?,
        der: r.get(7)?,
        crl_shard: r.get(10)?,
    })
}

pub(crate) fn find(conn: &Connection, serial: &Serial) -> Result<Option<CertificateRecord>> {
    Ok(conn
        .query_row(
            &format!("SELECT {RECORD_COLUMNS} FROM ca_certificates WHERE serial = ?1"),
            params![serial.as_bytes()],
            record_from_row,
        )
        .optional()?)
}

/// The to-be-signed certificate recorded for `serial`.
pub(crate) fn recorded_tbs(conn: &Connection, serial: &Serial) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .query_row(
            "SELECT tbs FROM ca_certificates WHERE serial = ?1",
            params![serial.as_bytes()],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn list(conn: &Connection, limit: u32) -> Result<Vec<CertificateRecord>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {RECORD_COLUMNS} FROM ca_certificates ORDER BY created_at DESC, serial LIMIT ?1"
    ))?;
    let rows = stmt.query_map(params![limit], record_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The distinct subjects of the `organisme` certificates issued, not revoked and not expired
/// at `now`, sorted.
pub(crate) fn valid_organisme_names(conn: &Connection, now: OffsetDateTime) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT DISTINCT subject FROM ca_certificates
         WHERE profile = 'organisme' AND status = 'issued' AND not_after >= ?1
         ORDER BY subject",
    )?;
    let rows = stmt.query_map(params![now.unix_timestamp()], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A CRL's entry: serial, revocation time and reason.
pub(crate) type RevokedEntry = (Serial, OffsetDateTime, RevocationReason);

/// Revoked certificates that have not yet expired: the CRL's entries.
pub(crate) fn revoked_unexpired(
    conn: &Connection,
    now: OffsetDateTime,
) -> Result<Vec<RevokedEntry>> {
    let mut stmt = conn.prepare(
        "SELECT serial, revoked_at, revocation_reason FROM ca_certificates
         WHERE status = 'revoked' AND not_after >= ?1 ORDER BY revoked_at, serial",
    )?;
    revoked_entries(&mut stmt, params![now.unix_timestamp()])
}

/// Revoked certificates of CRL shard `shard` that have not yet expired: its CRL's entries.
pub(crate) fn revoked_unexpired_in_shard(
    conn: &Connection,
    shard: u32,
    now: OffsetDateTime,
) -> Result<Vec<RevokedEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT serial, revoked_at, revocation_reason FROM ca_certificates
         INDEXED BY ca_certificates_shard_revoked
         WHERE status = 'revoked' AND crl_shard = ?1 AND not_after >= ?2
         ORDER BY revoked_at, serial",
    )?;
    revoked_entries(&mut stmt, params![shard, now.unix_timestamp()])
}

/// The rows `(serial, revoked_at, revocation_reason)` of `stmt` as CRL entries.
fn revoked_entries(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<RevokedEntry>> {
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (serial, at, reason) = row?;
        let at = OffsetDateTime::from_unix_timestamp(at).map_err(|e| Error::Lint(e.to_string()))?;
        out.push((Serial::from_der_bytes(&serial), at, reason.parse()?));
    }
    Ok(out)
}

/// The highest revocation sequence number among the certificates of shard `shard` (`None`:
/// those without a shard), 0 when none was revoked: one lookup in `ca_certificates_shard_seq`.
pub(crate) fn max_revocation_seq_in(conn: &Connection, shard: Option<u32>) -> Result<i64> {
    let sql = match shard {
        Some(_) => {
            "SELECT COALESCE(MAX(revocation_seq), 0) FROM ca_certificates
             INDEXED BY ca_certificates_shard_seq
             WHERE crl_shard = ?1 AND revocation_seq IS NOT NULL"
        }
        None => {
            "SELECT COALESCE(MAX(revocation_seq), 0) FROM ca_certificates
             INDEXED BY ca_certificates_shard_seq
             WHERE crl_shard IS NULL AND revocation_seq IS NOT NULL"
        }
    };
    let mut stmt = conn.prepare_cached(sql)?;
    Ok(match shard {
        Some(s) => stmt.query_row([s], |r| r.get(0))?,
        None => stmt.query_row([], |r| r.get(0))?,
    })
}

/// A shard's CRL in force, without its bytes, and what it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardCrlInfo {
    /// The shard.
    pub shard: u32,
    /// Its number, in the shard's own sequence.
    pub number: i64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// Number of entries.
    pub entries: i64,
    /// The highest revocation sequence number committed when it was signed.
    pub covers_seq: i64,
}

const SHARD_INFO_COLUMNS: &str = "shard, number, this_update, next_update, entries, covers_seq";

fn shard_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<ShardCrlInfo> {
    let ts = |i: usize| -> rusqlite::Result<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(r.get(i)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })
    };
    Ok(ShardCrlInfo {
        shard: r.get(0)?,
        number: r.get(1)?,
        this_update: ts(2)?,
        next_update: ts(3)?,
        entries: r.get(4)?,
        covers_seq: r.get(5)?,
    })
}

/// Every shard's CRL in force, without the bytes, by shard.
pub(crate) fn shard_crls_info(conn: &Connection) -> Result<Vec<ShardCrlInfo>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {SHARD_INFO_COLUMNS} FROM ca_crl_shards ORDER BY shard"
    ))?;
    let rows = stmt.query_map([], shard_info)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Shard `shard`'s CRL in force, without the bytes.
pub(crate) fn shard_crl_info(conn: &Connection, shard: u32) -> Result<Option<ShardCrlInfo>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SHARD_INFO_COLUMNS} FROM ca_crl_shards WHERE shard = ?1"
        ))?
        .query_row([shard], shard_info)
        .optional()?)
}

/// Shard `shard`'s CRL in force, with its bytes.
pub(crate) fn shard_crl(conn: &Connection, shard: u32) -> Result<Option<PublishedCrl>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {SHARD_INFO_COLUMNS}, der FROM ca_crl_shards WHERE shard = ?1"
        ))?
        .query_row([shard], |r| {
            let info = shard_info(r)?;
            Ok(PublishedCrl {
                number: info.number,
                this_update: info.this_update,
                next_update: info.next_update,
                entries: info.entries,
                der: r.get(6)?,
                shard: Some(shard),
            })
        })
        .optional()?)
}

/// Replaces shard `crl.shard`'s CRL in force.
pub(crate) fn put_shard_crl(
    tx: &Transaction<'_>,
    shard: u32,
    crl: &PublishedCrl,
    covers_seq: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO ca_crl_shards (shard, number, this_update, next_update, entries,
             covers_seq, der)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (shard) DO UPDATE SET number = excluded.number,
             this_update = excluded.this_update, next_update = excluded.next_update,
             entries = excluded.entries, covers_seq = excluded.covers_seq, der = excluded.der",
        params![
            shard,
            crl.number,
            crl.this_update.unix_timestamp(),
            crl.next_update.unix_timestamp(),
            crl.entries,
            covers_seq,
            crl.der
        ],
    )?;
    Ok(())
}

/// Every revoked serial, expired or not: what a relying party must refuse.
pub fn revoked_serials(conn: &Connection) -> Result<Vec<Serial>> {
    let mut stmt = conn.prepare("SELECT serial FROM ca_certificates WHERE status = 'revoked'")?;
    let rows = stmt.query_map([], |r| Ok(Serial::from_der_bytes(&r.get::<_, Vec<u8>>(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn next_crl_number(tx: &Transaction<'_>) -> Result<i64> {
    Ok(tx.query_row(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM ca_crls",
        [],
        |r| r.get(0),
    )?)
}

pub(crate) fn insert_crl(
    tx: &Transaction<'_>,
    number: i64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    entries: usize,
    covers_seq: i64,
    der: &[u8],
) -> Result<()> {
    tx.execute(
        "INSERT INTO ca_crls (number, this_update, next_update, entries, covers_seq, der)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            number,
            this_update.unix_timestamp(),
            next_update.unix_timestamp(),
            entries as i64,
            covers_seq,
            der
        ],
    )?;
    Ok(())
}

/// The highest revocation sequence number (0 when nothing was ever revoked).
pub(crate) fn max_revocation_seq(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(revocation_seq), 0) FROM ca_certificates",
        [],
        |r| r.get(0),
    )?)
}

/// What the latest CRL covers, from the index that holds it beside the number (`covers_seq`
/// follows `der` in the row: reading it there walks the whole blob).
const LATEST_COVERS: &str =
    "SELECT covers_seq FROM ca_crls INDEXED BY ca_crls_covers ORDER BY number DESC LIMIT 1";

/// What CRL `?1` covers, the same way.
const CRL_COVERS: &str =
    "SELECT covers_seq FROM ca_crls INDEXED BY ca_crls_covers WHERE number = ?1";

/// What the CRL in force covers, if there is one.
pub(crate) fn latest_crl_covers(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn.query_row(LATEST_COVERS, [], |r| r.get(0)).optional()?)
}

/// The CRL in force, as published.
#[derive(Debug, Clone)]
pub struct PublishedCrl {
    /// CRL number.
    pub number: i64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// Number of entries.
    pub entries: i64,
    /// The signed CRL.
    pub der: Vec<u8>,
    /// The shard it covers (its Issuing Distribution Point names it); `None`: the full CRL,
    /// which covers every certificate.
    pub shard: Option<u32>,
}

/// The CRL in force without its bytes: what the daemon's checks and `/metrics` read, every
/// minute or every scrape, of a CRL that weighs 45 MB at a million entries.
///
/// Only the columns stored *before* `der` are read: SQLite then stops at the row's first page.
/// `covers_seq` is not here on purpose: added by a later migration, it is stored after `der`,
/// and reading it follows the blob's whole overflow chain (see [`crl_covers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrlInfo {
    /// CRL number.
    pub number: i64,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: OffsetDateTime,
    /// Number of entries.
    pub entries: i64,
}

/// The CRL in force: its metadata and, when `with_der`, its bytes.
const LATEST_CRL: &str = "SELECT number, this_update, next_update, entries FROM ca_crls
     ORDER BY number DESC LIMIT 1";
const LATEST_CRL_DER: &str = "SELECT number, this_update, next_update, entries, der FROM ca_crls
     ORDER BY number DESC LIMIT 1";

fn crl_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<CrlInfo> {
    let ts = |i: usize| -> rusqlite::Result<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(r.get(i)?).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Integer,
                Box::new(e),
            )
        })
    };
    Ok(CrlInfo {
        number: r.get(0)?,
        this_update: ts(1)?,
        next_update: ts(2)?,
        entries: r.get(3)?,
    })
}

pub(crate) fn latest_crl(conn: &Connection) -> Result<Option<PublishedCrl>> {
    Ok(conn
        .query_row(LATEST_CRL_DER, [], |r| {
            let info = crl_info(r)?;
            Ok(PublishedCrl {
                number: info.number,
                this_update: info.this_update,
                next_update: info.next_update,
                entries: info.entries,
                der: r.get(4)?,
                shard: None,
            })
        })
        .optional()?)
}

pub(crate) fn latest_crl_info(conn: &Connection) -> Result<Option<CrlInfo>> {
    Ok(conn.query_row(LATEST_CRL, [], crl_info).optional()?)
}

/// The revocation sequence number CRL `number` covers, read from the index that holds it (the
/// column follows `der` in the row).
pub(crate) fn crl_covers(conn: &Connection, number: i64) -> Result<Option<i64>> {
    Ok(conn
        .query_row(CRL_COVERS, [number], |r| r.get(0))
        .optional()?)
}

/// Counts by status, for `siseri ca show`.
pub fn counts(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn
        .prepare("SELECT status, COUNT(*) FROM ca_certificates GROUP BY status ORDER BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Issued certificates whose `not_after` falls in `(now, until]` and that no later issued
/// certificate of the same subject and profile follows (no renewal yet), by profile: for
/// `/metrics`, whose alert asks someone to renew them.
pub fn expiring_without_successor(
    conn: &Connection,
    now: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT c.profile, COUNT(*) FROM ca_certificates c
         WHERE c.status = 'issued' AND c.not_after > ?1 AND c.not_after <= ?2
           AND NOT EXISTS (SELECT 1 FROM ca_certificates s
                           WHERE s.subject = c.subject AND s.profile = c.profile
                             AND s.status = 'issued' AND s.not_after > c.not_after)
         GROUP BY c.profile ORDER BY c.profile",
    )?;
    let rows = stmt.query_map([now.unix_timestamp(), until.unix_timestamp()], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {

    use time::macros::datetime;

    use super::*;

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut conn).unwrap();
        conn
    }

    fn publish(conn: &mut Connection, number: i64, this_update: OffsetDateTime, der: &[u8]) {
        let tx = conn.transaction().unwrap();
        let next = this_update + time::Duration::days(7);
        insert_crl(&tx, number, this_update, next, 3, number * 10, der).unwrap();
        tx.commit().unwrap();
    }

    #[test]
    fn the_crl_metadata_is_the_latest_crls_without_its_bytes() {
        let mut conn = migrated();
        assert_eq!(latest_crl_info(&conn).unwrap(), None);
        publish(&mut conn, 1, datetime!(2025-06-01 00:00 UTC), b"first");
        publish(&mut conn, 2, datetime!(2025-06-02 00:00 UTC), &[7; 300_000]);

        let info = latest_crl_info(&conn).unwrap().unwrap();
        let full = latest_crl(&conn).unwrap().unwrap();
        assert_eq!(
            info,
            CrlInfo {
                number: 2,
                this_update: datetime!(2025-06-02 00:00 UTC),
                next_update: datetime!(2025-06-09 00:00 UTC),
                entries: 3,
            }
        );
        assert_eq!(
            (
                full.number,
                full.this_update,
                full.next_update,
                full.entries
            ),
            (
                info.number,
                info.this_update,
                info.next_update,
                info.entries
            )
        );
        assert_eq!(full.der.len(), 300_000);
        assert_eq!(crl_covers(&conn, 2).unwrap(), Some(20));
        assert_eq!(crl_covers(&conn, 3).unwrap(), None);
    }

    /// The columns `ca_crls` stores before `der`: reading any of them stops at the row's first
    /// page, reading `der` or a later one (`covers_seq`) walks the whole blob.
    #[test]
    fn the_metadata_query_reads_no_column_from_der_on() {
        let conn = migrated();
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('ca_crls') ORDER BY cid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let der = columns.iter().position(|c| c == "der").unwrap();
        let program = |sql: &str| -> Vec<(String, i64)> {
            conn.prepare(&format!("EXPLAIN {sql}"))
                .unwrap()
                .query_map([], |r| Ok((r.get(1)?, r.get(3)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        let reads = |sql: &str| -> Vec<i64> {
            program(sql)
                .into_iter()
                .filter(|(op, _)| op == "Column")
                .map(|(_, column)| column)
                .collect()
        };
        let metadata = reads(LATEST_CRL);
        assert!(!metadata.is_empty(), "{:?}", program(LATEST_CRL));
        assert!(
            metadata.iter().all(|c| *c < der as i64),
            "{metadata:?} (der is column {der})"
        );
        // The check has teeth: the query that serves the bytes does read `der`.
        assert!(reads(LATEST_CRL_DER).contains(&(der as i64)));
    }

    /// What a CRL covers is read from the index alone, never from the row and its blob.
    #[test]
    fn what_a_crl_covers_is_read_from_its_index() {
        let conn = migrated();
        for sql in [LATEST_COVERS, CRL_COVERS] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let params = vec![1_i64; stmt.parameter_count()];
            let plan: String = stmt
                .query_row(rusqlite::params_from_iter(params), |r| r.get(3))
                .unwrap();
            assert!(
                plan.contains("COVERING INDEX ca_crls_covers"),
                "{sql}: {plan}"
            );
        }
        // Without the index, the same read goes through the table's rows.
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT covers_seq, der FROM ca_crls WHERE number = 1",
                [],
                |r| r.get(3),
            )
            .unwrap();
        assert!(!plan.contains("COVERING"), "{plan}");
    }

    #[test]
    fn a_certificate_expiring_soon_counts_until_a_later_one_of_its_subject_is_issued() {
        let conn = migrated();
        let now = datetime!(2025-06-01 00:00 UTC);
        let day = 86_400;
        let t = now.unix_timestamp();
        let cert = |serial: u8, profile: &str, subject: &str, status: &str, not_after: i64| {
            let der: Option<&[u8]> = (status != "unsigned").then_some(b"der");
            let revoked: Option<i64> = (status == "revoked").then_some(t);
            let reason = revoked.map(|_| "superseded");
            conn.execute(
                "INSERT INTO ca_certificates (serial, serial_hex, profile, subject, requester,
                     key_description, tbs, der, status, not_before, not_after, created_at,
                     revoked_at, revocation_reason)
                 VALUES (?1, ?2, ?3, ?4, 'test', 'P-256', x'00', ?5, ?6, ?7, ?8, ?7, ?9, ?10)",
                params![
                    [serial],
                    format!("{serial:02x}"),
                    profile,
                    subject,
                    der,
                    status,
                    t - 300 * day,
                    not_after,
                    revoked,
                    reason
                ],
            )
            .unwrap();
        };
        let count =
            || expiring_without_successor(&conn, now, now + time::Duration::days(30)).unwrap();
        cert(1, "person", "CN=A", "issued", t + 10 * day);
        cert(2, "person", "CN=B", "issued", t + 40 * day); // not within 30 days
        cert(3, "person", "CN=C", "issued", t - day); // already expired
        cert(4, "person", "CN=D", "revoked", t + 10 * day); // revoked: nothing to renew
        cert(5, "organisme", "CN=E", "issued", t + 20 * day);
        assert_eq!(count(), vec![("organisme".into(), 1), ("person".into(), 1)]);
        // A renewal in progress (recorded, not signed) is no successor yet; a signed one is.
        cert(6, "organisme", "CN=E", "unsigned", t + 400 * day);
        assert_eq!(count(), vec![("organisme".into(), 1), ("person".into(), 1)]);
        cert(7, "person", "CN=A", "issued", t + 400 * day);
        cert(8, "organisme", "CN=E", "issued", t + 400 * day);
        assert_eq!(count(), vec![]);
    }
}
