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
    /// The NIR is this person's, known elsewhere under another identity (not a constraint of
    /// the schema: see [`crate::person`]).
    Identity(i64),
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

/// Registry migration 0004: every search key remade with today's `store::text::fold`; only the
/// rows whose key changes are written. Two fractions of one establishment whose names now fold
/// alike are both kept: the older keeps the key, the other's gets its id appended (the key only
/// serves uniqueness and order).
pub(crate) fn refold_search_keys(tx: &rusqlite::Transaction<'_>) -> store::Result<()> {
    use crate::worker::search_key;
    /// id, last name, other name, first name, and the two keys as stored.
    type Keyed = (i64, String, Option<String>, String, String, Option<String>);
    let workers: Vec<Keyed> = tx
        .prepare(
            "SELECT id, last_name, other_name, first_name, search_name, search_other
             FROM registry_workers",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx
        .prepare("UPDATE registry_workers SET search_name = ?2, search_other = ?3 WHERE id = ?1")?;
    for (id, last, other, first, name_key, other_key) in workers {
        let new_name = search_key(&last, &first);
        let new_other = other.as_deref().map(|o| search_key(o, &first));
        if new_name != name_key || new_other != other_key {
            update.execute(params![id, new_name, new_other])?;
        }
    }
    let fractions: Vec<(i64, i64, String, String)> = tx
        .prepare("SELECT id, establishment_id, name, name_key FROM registry_fractions ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut taken = std::collections::HashSet::new();
    let mut changed = Vec::new();
    for (id, establishment, name, old) in fractions {
        let mut key = store::text::fold(&name);
        if key.is_empty() {
            key = old.clone();
        }
        if !taken.insert((establishment, key.clone())) {
            key = format!("{key} {id}");
            taken.insert((establishment, key.clone()));
        }
        if key != old {
            changed.push((id, key));
        }
    }
    // Out of the way first: a new key may be another fraction's old one until that one moves.
    for (id, _) in &changed {
        tx.execute(
            "UPDATE registry_fractions SET name_key = char(1) || id WHERE id = ?1",
            params![id],
        )?;
    }
    for (id, key) in &changed {
        tx.execute(
            "UPDATE registry_fractions SET name_key = ?2 WHERE id = ?1",
            params![id, key],
        )?;
    }
    Ok(())
}

/// An in-memory database with every migration applied, for the storage modules' tests.
#[cfg(test)]
pub(crate) fn migrated_in_memory() -> rusqlite::Connection {
    let mut conn = rusqlite::Connection::open_in_memory().unwrap();
    store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).unwrap();
    store::migrate::apply(&mut conn, "registry", crate::migrations::MIGRATIONS).unwrap();
    conn
}

#[cfg(test)]
mod refold_tests {
    use rusqlite::{params, Connection};

    use crate::migrations::MIGRATIONS;

    #[test]
    fn search_keys_of_the_old_folding_are_remade_and_fraction_clashes_kept_apart() {
        let mut conn = Connection::open_in_memory().unwrap();
        store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).unwrap();
        store::migrate::apply(&mut conn, "registry", &MIGRATIONS[..3]).unwrap();
        // Keys as the old folding made them: the modifier apostrophe and ẞ left alone.
        for (id, name, key) in [
            (1, "Blocʼ A", "BLOCʼ A"),
            (2, "Bloc A", "BLOC A"),
            (3, "Radiologie", "RADIOLOGIE"),
        ] {
            conn.execute(
                "INSERT INTO registry_fractions (id, establishment_id, name, name_key, created_at)
                 VALUES (?1, 7, ?2, ?3, '2026-01-01')",
                params![id, name, key],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO registry_workers (id, establishment_id, nir, nir_key, last_name,
                 other_name, first_name, search_name, search_other, created_at, updated_at)
             VALUES (1, 7, '1700367482001', '86', 'GROẞ', 'Dʼ ARC', 'Zoé',
                     'GROẞ ZOE', 'Dʼ ARC ZOE', '2026-01-01', '2026-01-01')",
            [],
        )
        .unwrap();
        assert_eq!(
            store::migrate::apply(&mut conn, "registry", &MIGRATIONS[..4]).unwrap(),
            1
        );
        let (name, other): (String, String) = conn
            .query_row(
                "SELECT search_name, search_other FROM registry_workers WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(name, "GROSS ZOE");
        assert_eq!(other, "D ARC ZOE");
        let keys: Vec<String> = conn
            .prepare("SELECT name_key FROM registry_fractions ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(keys, ["BLOC A", "BLOC A 2", "RADIOLOGIE"]);
    }
}
