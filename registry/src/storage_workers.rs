//! SQL of the workers list: one worker's row, searches, and the export's walk.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, Statement, ToSql};

use crate::fraction::FractionFilter;
use crate::nir::Nir;
use crate::storage::{optional, worker_from_row, WORKER_COLUMNS, WORKER_FROM};
use crate::text::prefix_upper_bound;
use crate::worker::{CardNumber, Category, Columns, ContractType, Worker, WorkerRecord, WorkerRef};
use crate::Result;

/// Adds a worker to the establishment's list. A plain single-row INSERT (no upsert, no
/// `RETURNING`): SQLite then needs no statement journal, which an import would pay a million
/// times.
pub(crate) const INSERT: &str = "INSERT INTO registry_workers (
        establishment_id, nir, nir_key, card_number, last_name, other_name, first_name,
        other_first_names, birth_date, fraction_id, category, job, radiological_hazard,
        contract_type, work_fraction_pm, activity_character, domain, sector, search_name,
        search_other, created_at, updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
        ?19, ?20, ?21, ?21)";

/// Replaces every field of worker `?1` and puts them back on the list if they had been removed.
/// A card number left empty keeps the one the worker holds: card numbers are never taken back.
pub(crate) const UPDATE: &str = "UPDATE registry_workers SET
        nir = ?2, nir_key = ?3, card_number = coalesce(?4, card_number), last_name = ?5,
        other_name = ?6, first_name = ?7, other_first_names = ?8, birth_date = ?9,
        fraction_id = ?10, category = ?11, job = ?12, radiological_hazard = ?13,
        contract_type = ?14, work_fraction_pm = ?15, activity_character = ?16, domain = ?17,
        sector = ?18, search_name = ?19, search_other = ?20, updated_at = ?21, removed_at = NULL
    WHERE id = ?1";

/// Runs a prepared [`INSERT`] (`key` = the establishment) or [`UPDATE`] (`key` = the worker's
/// id) for `w`.
pub(crate) fn write(
    stmt: &mut Statement<'_>,
    key: i64,
    w: &Worker,
    d: &Columns,
    fraction_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<()> {
    let values: [&dyn ToSql; 21] = [
        &key,
        &w.nir.as_str(),
        &w.nir.key(),
        &w.card_number.as_ref().map(CardNumber::as_str),
        &w.last_name,
        &w.other_name,
        &w.first_name,
        &w.other_first_names,
        &d.birth_date,
        &fraction_id,
        &w.category.map(Category::code),
        &w.job,
        &w.radiological_hazard,
        &w.contract_type.map(ContractType::code),
        &w.work_fraction.map(|q| q.per_mille()),
        &w.activity_character.map(|a| a.code()),
        &w.domain,
        &w.sector,
        &d.search_name,
        &d.search_other,
        &now,
    ];
    stmt.execute(&values[..])?;
    Ok(())
}

/// Adds a worker; returns their id.
pub(crate) fn insert(
    conn: &Connection,
    establishment: i64,
    w: &Worker,
    fraction_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<i64> {
    write(
        &mut *conn.prepare_cached(INSERT)?,
        establishment,
        w,
        &Columns::of(w),
        fraction_id,
        now,
    )?;
    Ok(conn.last_insert_rowid())
}

/// Replaces worker `id`'s fields (see [`UPDATE`]).
pub(crate) fn update(
    conn: &Connection,
    id: i64,
    w: &Worker,
    fraction_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<()> {
    write(
        &mut *conn.prepare_cached(UPDATE)?,
        id,
        w,
        &Columns::of(w),
        fraction_id,
        now,
    )
}

/// *Suppression*: off the list; the row stays for the doses and the card.
pub(crate) fn mark_removed(conn: &Connection, id: i64, now: &str) -> Result<()> {
    conn.execute(
        "UPDATE registry_workers SET removed_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// A worker of the establishment named by `r`: `(id, removed)`.
pub(crate) fn find(
    conn: &Connection,
    establishment: i64,
    r: &WorkerRef,
) -> Result<Option<(i64, bool)>> {
    let sql = |column: &str| {
        format!(
            "SELECT id, removed_at IS NOT NULL FROM registry_workers
             WHERE establishment_id = ?1 AND {column} = ?2"
        )
    };
    let map = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, row.get(1)?));
    let found = match r {
        WorkerRef::Id(id) => conn.query_row(&sql("id"), params![establishment, id], map),
        WorkerRef::Nir(nir) => {
            conn.query_row(&sql("nir"), params![establishment, nir.as_str()], map)
        }
        WorkerRef::Card(card) => conn.query_row(
            &sql("card_number"),
            params![establishment, card.as_str()],
            map,
        ),
    };
    optional(found)
}

/// One worker of the establishment, removed or not.
pub(crate) fn get(conn: &Connection, establishment: i64, id: i64) -> Result<Option<WorkerRecord>> {
    let sql = format!(
        "SELECT {WORKER_COLUMNS} FROM {WORKER_FROM} WHERE w.establishment_id = ?1 AND w.id = ?2"
    );
    optional(conn.query_row(&sql, params![establishment, id], worker_from_row))
}

/// What to search for, parsed.
pub(crate) struct Search<'a> {
    pub name: Option<String>,
    pub nir: Option<&'a str>,
    pub fraction: FractionFilter,
    pub include_removed: bool,
    pub after: Option<i64>,
    pub limit: u32,
}

/// One page of the establishment's list in name order, with one row more than `limit` when
/// there is a next page.
///
/// A name is looked up as two index ranges, the last name's and the other name's, merged here:
/// one query with `OR` between them makes SQLite walk the whole list in name order instead.
pub(crate) fn search(
    conn: &Connection,
    establishment: i64,
    s: &Search<'_>,
) -> Result<Vec<WorkerRecord>> {
    let mut rows = match &s.name {
        None => query(conn, establishment, s, ByName::Any)?,
        Some(name) => {
            let mut rows = query(conn, establishment, s, ByName::Last(name))?;
            rows.extend(query(conn, establishment, s, ByName::Other(name))?);
            rows.sort_by(|a, b| (&a.0, a.1.id).cmp(&(&b.0, b.1.id)));
            rows
        }
    };
    rows.truncate(s.limit as usize + 1);
    Ok(rows.into_iter().map(|(_, record)| record).collect())
}

enum ByName<'a> {
    Any,
    /// The last name starts with this (folded) prefix.
    Last(&'a str),
    /// The other name does, and the last name does not (found by the other query).
    Other(&'a str),
}

/// `(search_name, worker)` rows of one index range, in name order.
fn query(
    conn: &Connection,
    establishment: i64,
    s: &Search<'_>,
    by: ByName<'_>,
) -> Result<Vec<(String, WorkerRecord)>> {
    let mut sql = format!(
        "SELECT {WORKER_COLUMNS}, w.search_name FROM {WORKER_FROM} WHERE w.establishment_id = ?1"
    );
    let mut values: Vec<Value> = vec![Value::Integer(establishment)];
    fn bind(values: &mut Vec<Value>, v: Value) -> usize {
        values.push(v);
        values.len()
    }
    if !s.include_removed {
        // Spelt out so that the partial indexes apply.
        sql.push_str(" AND w.removed_at IS NULL");
    }
    match by {
        ByName::Any => {}
        ByName::Last(name) => {
            let low = bind(&mut values, Value::Text(name.to_owned()));
            let high = bind(&mut values, Value::Text(prefix_upper_bound(name)));
            sql.push_str(&format!(
                " AND w.search_name >= ?{low} AND w.search_name < ?{high}"
            ));
        }
        ByName::Other(name) => {
            let low = bind(&mut values, Value::Text(name.to_owned()));
            let high = bind(&mut values, Value::Text(prefix_upper_bound(name)));
            sql.push_str(&format!(
                " AND w.search_other >= ?{low} AND w.search_other < ?{high}
                  AND NOT (w.search_name >= ?{low} AND w.search_name < ?{high})"
            ));
        }
    }
    if let Some(nir) = s.nir {
        let n = bind(&mut values, Value::Text(nir.to_owned()));
        sql.push_str(&format!(" AND w.nir = ?{n}"));
    }
    match s.fraction {
        FractionFilter::Any => {}
        FractionFilter::In(id) => {
            let n = bind(&mut values, Value::Integer(id));
            sql.push_str(&format!(" AND w.fraction_id = ?{n}"));
        }
        FractionFilter::None => sql.push_str(" AND w.fraction_id IS NULL"),
    }
    if let Some(after) = s.after {
        let n = bind(&mut values, Value::Integer(after));
        sql.push_str(&format!(
            " AND (w.search_name, w.id) > (SELECT search_name, id FROM registry_workers
                                           WHERE id = ?{n} AND establishment_id = ?1)"
        ));
    }
    let n = bind(&mut values, Value::Integer(i64::from(s.limit) + 1));
    sql.push_str(&format!(" ORDER BY w.search_name, w.id LIMIT ?{n}"));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), |row| {
        Ok((row.get(20)?, worker_from_row(row)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Calls `each` on every worker on the list (not removed), in name order.
pub(crate) fn for_each(
    conn: &Connection,
    establishment: i64,
    mut each: impl FnMut(&WorkerRecord) -> Result<()>,
) -> Result<u64> {
    let sql = format!(
        "SELECT {WORKER_COLUMNS} FROM {WORKER_FROM}
         WHERE w.establishment_id = ?1 AND w.removed_at IS NULL
         ORDER BY w.search_name, w.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![establishment])?;
    let mut count = 0;
    while let Some(row) = rows.next()? {
        each(&worker_from_row(row)?)?;
        count += 1;
    }
    Ok(count)
}

/// The worker holding `card` in the establishment, if any.
pub(crate) fn card_holder(
    conn: &Connection,
    establishment: i64,
    card: &CardNumber,
) -> Result<Option<i64>> {
    optional(conn.query_row(
        "SELECT id FROM registry_workers WHERE establishment_id = ?1 AND card_number = ?2",
        params![establishment, card.as_str()],
        |r| r.get(0),
    ))
}

/// The worker with this NIR in the establishment, if any: `(id, removed)`.
pub(crate) fn nir_holder(
    conn: &Connection,
    establishment: i64,
    nir: &Nir,
) -> Result<Option<(i64, bool)>> {
    find(conn, establishment, &WorkerRef::Nir(nir.clone()))
}
