//! What the storage modules (`storage_*.rs`, the only places with SQL) share: reading a worker
//! row back, the card number sequence, and telling constraint failures apart.

use rusqlite::types::Type;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Row};

use crate::date;
use crate::nir::Nir;
use crate::worker::{
    ActivityCharacter, CardNumber, Category, ContractType, WorkFraction, Worker, WorkerRecord,
};
use crate::Result;

/// The columns [`worker_from_row`] reads, from `registry_workers w LEFT JOIN registry_fractions f`.
pub(crate) const WORKER_COLUMNS: &str = "w.id, w.removed_at IS NOT NULL, w.fraction_id, f.name, \
     w.card_number, w.last_name, w.other_name, w.first_name, w.other_first_names, w.nir, \
     w.nir_key, w.birth_date, w.category, w.job, w.radiological_hazard, w.contract_type, \
     w.work_fraction_pm, w.activity_character, w.domain, w.sector";

/// The `FROM` that goes with [`WORKER_COLUMNS`].
pub(crate) const WORKER_FROM: &str =
    "registry_workers w LEFT JOIN registry_fractions f ON f.id = w.fraction_id";

fn corrupt(column: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, what.into())
}

fn coded<T>(
    row: &Row<'_>,
    column: usize,
    parse: impl Fn(&str) -> Option<T>,
) -> rusqlite::Result<Option<T>> {
    match row.get_ref(column)?.as_str_or_null()? {
        None => Ok(None),
        Some(code) => parse(code)
            .map(Some)
            .ok_or_else(|| corrupt(column, "code inconnu en base")),
    }
}

/// Reads a row selected with [`WORKER_COLUMNS`].
pub(crate) fn worker_from_row(row: &Row<'_>) -> rusqlite::Result<WorkerRecord> {
    let nir: String = row.get(9)?;
    let key: String = row.get(10)?;
    // The schema only holds what `Nir::parse` accepted; a failure here is a corrupt row, and its
    // message must not carry the NIR.
    let nir = Nir::parse(&nir, &key).map_err(|_| corrupt(9, "NIR invalide en base"))?;
    let birth_date = match row.get_ref(11)?.as_str_or_null()? {
        None => None,
        Some(text) => Some(date::from_iso(text)?),
    };
    let work_fraction = match row.get::<_, Option<i64>>(16)? {
        None => None,
        Some(pm) => Some(
            u16::try_from(pm)
                .ok()
                .and_then(WorkFraction::from_per_mille)
                .ok_or_else(|| corrupt(16, "quotité invalide en base"))?,
        ),
    };
    Ok(WorkerRecord {
        id: row.get(0)?,
        removed: row.get(1)?,
        fraction_id: row.get(2)?,
        worker: Worker {
            fraction: row.get(3)?,
            card_number: coded(row, 4, CardNumber::parse)?,
            last_name: row.get(5)?,
            other_name: row.get(6)?,
            first_name: row.get(7)?,
            other_first_names: row.get(8)?,
            nir,
            birth_date,
            category: coded(row, 12, Category::from_code)?,
            job: row.get(13)?,
            radiological_hazard: row.get(14)?,
            contract_type: coded(row, 15, ContractType::from_code)?,
            work_fraction,
            activity_character: coded(row, 17, ActivityCharacter::from_code)?,
            domain: row.get(18)?,
            sector: row.get(19)?,
        },
    })
}

/// Issues the next medical follow-up card number.
pub(crate) fn next_card_number(conn: &Connection) -> Result<CardNumber> {
    let n: i64 = conn.query_row(
        "UPDATE registry_card_sequence SET next = next + 1 WHERE id = 1 RETURNING next - 1",
        [],
        |r| r.get(0),
    )?;
    // The CHECK on `next` stops the sequence at 99,999,999 before this can fail.
    CardNumber::from_sequence(n).ok_or(rusqlite::Error::QueryReturnedNoRows.into())
}

/// Moves the sequence past a number that was typed or imported, so that it is never issued
/// to someone else.
pub(crate) fn reserve_card_numbers(conn: &Connection, up_to: i64) -> Result<()> {
    conn.execute(
        "UPDATE registry_card_sequence SET next = max(next, ?1 + 1) WHERE id = 1",
        params![up_to],
    )?;
    Ok(())
}

/// Which uniqueness rule a failed write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conflict {
    Nir,
    Card,
    FractionName,
}

/// Tells a broken UNIQUE constraint apart by the columns SQLite names (never by values, which
/// SQLite does not print).
pub(crate) fn conflict(error: &rusqlite::Error) -> Option<Conflict> {
    let rusqlite::Error::SqliteFailure(e, Some(message)) = error else {
        return None;
    };
    if e.code != ErrorCode::ConstraintViolation {
        return None;
    }
    if message.contains("registry_workers.card_number") {
        Some(Conflict::Card)
    } else if message.contains("registry_workers.nir") {
        Some(Conflict::Nir)
    } else if message.contains("registry_fractions.name_key") {
        Some(Conflict::FractionName)
    } else {
        None
    }
}

/// A single optional row.
pub(crate) fn optional<T>(r: rusqlite::Result<T>) -> Result<Option<T>> {
    Ok(r.optional()?)
}
