//! SQL of the workers list: one worker's row, searches, and the export's walk.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, Statement, ToSql};

use crate::fraction::FractionFilter;
use crate::nir::Nir;
use crate::storage::{optional, worker_from_row, WORKER_COLUMNS, WORKER_FROM};
use crate::worker::{CardNumber, Category, Columns, ContractType, Worker, WorkerRecord, WorkerRef};
use crate::Result;
use store::text::prefix_upper_bound;

/// Adds a worker to the establishment's list. A plain single-row INSERT (no upsert, no
/// `RETURNING`): SQLite then needs no statement journal, which an import would pay a million
/// times.
pub(crate) const INSERT: &str = "INSERT INTO registry_workers (
        establishment_id, nir, nir_key, card_number, last_name, other_name, first_name,
        other_first_names, birth_date, fraction_id, category, job, radiological_hazard,
        contract_type, work_fraction_pm, activity_character, domain, sector, search_name,
        search_other, created_at, updated_at, person_id, employed_from)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
        ?19, ?20, ?21, ?21, ?22, date(?21))";

/// Replaces every field of worker `?1` and puts them back on the list if they had been removed
/// (a new period of employment beginning today: archive the last one first, see
/// [`crate::storage_persons::archive_period`]). A card number left empty keeps the one the
/// worker holds: card numbers are never taken back.
pub(crate) const UPDATE: &str = "UPDATE registry_workers SET
        nir = ?2, nir_key = ?3, card_number = coalesce(?4, card_number), last_name = ?5,
        other_name = ?6, first_name = ?7, other_first_names = ?8, birth_date = ?9,
        fraction_id = ?10, category = ?11, job = ?12, radiological_hazard = ?13,
        contract_type = ?14, work_fraction_pm = ?15, activity_character = ?16, domain = ?17,
        sector = ?18, search_name = ?19, search_other = ?20, updated_at = ?21, removed_at = NULL,
        person_id = ?22,
        employed_from = CASE WHEN removed_at IS NULL THEN employed_from ELSE date(?21) END,
        employed_to = NULL
    WHERE id = ?1";

/// Runs a prepared [`INSERT`] (`key` = the establishment) or [`UPDATE`] (`key` = the worker's
/// id) for `w`, employment of person `person`.
pub(crate) fn write(
    stmt: &mut Statement<'_>,
    key: i64,
    person: i64,
    w: &Worker,
    d: &Columns,
    fraction_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<()> {
    let values: [&dyn ToSql; 22] = [
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
        &person,
    ];
    stmt.execute(&values[..])?;
    Ok(())
}

/// Adds a worker, employment of `person`; returns their id.
pub(crate) fn insert(
    conn: &Connection,
    establishment: i64,
    person: i64,
    w: &Worker,
    fraction_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<i64> {
    write_one(conn, INSERT, establishment, person, w, fraction_id, now)?;
    Ok(conn.last_insert_rowid())
}

/// Replaces worker `id`'s fields (see [`UPDATE`]).
pub(crate) fn update(
    conn: &Connection,
    id: i64,
    person: i64,
    w: &Worker,
    fraction_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<()> {
    write_one(conn, UPDATE, id, person, w, fraction_id, now)
}

/// [`write`] outside an import: the statement from the connection's cache, the derived columns
/// computed here.
fn write_one(
    conn: &Connection,
    sql: &str,
    key: i64,
    person: i64,
    w: &Worker,
    fraction_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<()> {
    write(
        &mut *conn.prepare_cached(sql)?,
        key,
        person,
        w,
        &Columns::of(w),
        fraction_id,
        now,
    )
}

/// *Suppression*: off the list, the employment ended today; the row stays for the doses and
/// the card.
pub(crate) fn mark_removed(conn: &Connection, id: i64, now: &str) -> Result<()> {
    conn.execute(
        "UPDATE registry_workers SET removed_at = ?2, updated_at = ?2,
             employed_to = max(date(?2), employed_from)
         WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Sets the first day of worker `id`'s current period of employment.
pub(crate) fn set_employed_from(conn: &Connection, id: i64, from: time::Date) -> Result<()> {
    conn.execute(
        "UPDATE registry_workers SET employed_from = ?2 WHERE id = ?1",
        params![id, crate::date::iso(from)],
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
    /// Results skipped in name order; not combined with `after` (the service refuses both).
    pub offset: u64,
    pub limit: u32,
}

/// One page of the establishment's list in name order, with one row more than `limit` when
/// there is a next page.
///
/// The page's ids are chosen first, over the name index alone (`registry_workers_name` ends
/// with the id, so it covers `ORDER BY search_name, id`), and only their rows are read: an
/// `OFFSET` of a million then walks index entries, never rows. (A fraction filter or the
/// removed workers still need the rows they test.)
///
/// A name is looked up as two index ranges, the last name's and the other name's, merged by a
/// compound `SELECT` (`MERGE (UNION ALL)` in the plan): one query with `OR` between them makes
/// SQLite walk the whole list in name order instead.
pub(crate) fn search(
    conn: &Connection,
    establishment: i64,
    s: &Search<'_>,
) -> Result<Vec<WorkerRecord>> {
    let mut values: Vec<Value> = vec![Value::Integer(establishment)];
    let page = page_ids(s, &mut values);
    // CROSS JOIN: SQLite keeps that order of the loops, so the page's ids lead.
    let sql = format!(
        "SELECT {WORKER_COLUMNS} FROM ({page}) p CROSS JOIN {WORKER_FROM} WHERE w.id = p.id
         ORDER BY w.search_name, w.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), worker_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

enum ByName<'a> {
    Any,
    /// The last name starts with this (folded) prefix.
    Last(&'a str),
    /// The other name does, and the last name does not (found by the other range).
    Other(&'a str),
}

fn bind(values: &mut Vec<Value>, v: Value) -> usize {
    values.push(v);
    values.len()
}

/// The `SELECT` of the page's ids (and names) in name order, `?1` being the establishment;
/// pushes its parameters onto `values`.
pub(crate) fn page_ids(s: &Search<'_>, values: &mut Vec<Value>) -> String {
    let mut sql = match &s.name {
        None => range(s, ByName::Any, values),
        Some(name) => {
            let last = range(s, ByName::Last(name), values);
            let other = range(s, ByName::Other(name), values);
            format!("{last} UNION ALL {other}")
        }
    };
    let limit = bind(values, Value::Integer(i64::from(s.limit) + 1));
    let offset = bind(
        values,
        Value::Integer(i64::try_from(s.offset).unwrap_or(i64::MAX)),
    );
    // A compound's ORDER BY names its result columns: 2 is search_name, 1 the id.
    sql.push_str(&format!(" ORDER BY 2, 1 LIMIT ?{limit} OFFSET ?{offset}"));
    sql
}

/// The `(id, search_name)` of one index range, filtered, without its order.
fn range(s: &Search<'_>, by: ByName<'_>, values: &mut Vec<Value>) -> String {
    let mut sql =
        "SELECT w.id, w.search_name FROM registry_workers w WHERE w.establishment_id = ?1"
            .to_owned();
    if !s.include_removed {
        // Spelt out so that the partial indexes apply.
        sql.push_str(" AND w.removed_at IS NULL");
    }
    match by {
        ByName::Any => {}
        ByName::Last(name) => {
            let low = bind(values, Value::Text(name.to_owned()));
            let high = bind(values, Value::Text(prefix_upper_bound(name)));
            sql.push_str(&format!(
                " AND w.search_name >= ?{low} AND w.search_name < ?{high}"
            ));
        }
        ByName::Other(name) => {
            let low = bind(values, Value::Text(name.to_owned()));
            let high = bind(values, Value::Text(prefix_upper_bound(name)));
            sql.push_str(&format!(
                " AND w.search_other >= ?{low} AND w.search_other < ?{high}
                  AND NOT (w.search_name >= ?{low} AND w.search_name < ?{high})"
            ));
        }
    }
    if let Some(nir) = s.nir {
        let n = bind(values, Value::Text(nir.to_owned()));
        sql.push_str(&format!(" AND w.nir = ?{n}"));
    }
    match s.fraction {
        FractionFilter::Any => {}
        FractionFilter::In(id) => {
            let n = bind(values, Value::Integer(id));
            sql.push_str(&format!(" AND w.fraction_id = ?{n}"));
        }
        FractionFilter::None => sql.push_str(" AND w.fraction_id IS NULL"),
    }
    if let Some(after) = s.after {
        let n = bind(values, Value::Integer(after));
        sql.push_str(&format!(
            " AND (w.search_name, w.id) > (SELECT search_name, id FROM registry_workers
                                           WHERE id = ?{n} AND establishment_id = ?1)"
        ));
    }
    sql
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

#[cfg(test)]
mod tests {

    use super::*;

    /// `EXPLAIN QUERY PLAN` of the page's ids, one line a step.
    fn plan(conn: &Connection, s: &Search<'_>) -> String {
        let mut values = vec![Value::Integer(1)];
        let sql = format!("EXPLAIN QUERY PLAN {}", page_ids(s, &mut values));
        let mut stmt = conn.prepare(&sql).unwrap();
        let rows = stmt
            .query_map(params_from_iter(values), |r| r.get::<_, String>(3))
            .unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
            .join("\n")
    }

    /// The bytecode of the page's ids: `(opcode, p1, p4)`.
    fn program(conn: &Connection, s: &Search<'_>) -> Vec<(String, i64, Option<String>)> {
        let mut values = vec![Value::Integer(1)];
        let sql = format!("EXPLAIN {}", page_ids(s, &mut values));
        let mut stmt = conn.prepare(&sql).unwrap();
        let rows = stmt
            .query_map(params_from_iter(values), |r| {
                let p4 = match r.get_ref(5)? {
                    rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into()),
                    _ => None,
                };
                Ok((r.get(1)?, r.get(2)?, p4))
            })
            .unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    fn whole_list(offset: u64) -> Search<'static> {
        Search {
            name: None,
            nir: None,
            fraction: FractionFilter::Any,
            include_removed: false,
            after: None,
            offset,
            limit: 50,
        }
    }

    #[test]
    fn a_page_by_offset_walks_the_name_index_alone_in_its_order() {
        let conn = crate::storage::migrated_in_memory();
        let s = whole_list(800_000);
        let plan = plan(&conn, &s);
        assert!(
            plan.contains("USING INDEX registry_workers_name (establishment_id=?)"),
            "{plan}"
        );
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        // The planner does not call the partial index covering (its WHERE names `removed_at`),
        // but the table is only ever seeked lazily (`DeferredSeek`): every column read, hence
        // every seek, is of the index. The entries an offset skips cost no row.
        let program = program(&conn, &s);
        let index_cursors: Vec<i64> = program
            .iter()
            .filter(|(op, _, p4)| {
                op == "OpenRead" && p4.as_deref().is_some_and(|k| k.starts_with("k("))
            })
            .map(|(_, cursor, _)| *cursor)
            .collect();
        assert_eq!(index_cursors.len(), 1, "{program:?}");
        for (op, cursor, _) in &program {
            if matches!(op.as_str(), "Column" | "Rowid" | "SeekRowid" | "NotExists") {
                assert!(
                    index_cursors.contains(cursor),
                    "{op} on {cursor}: {program:?}"
                );
            }
            assert!(
                !matches!(op.as_str(), "SorterOpen" | "OpenEphemeral"),
                "{program:?}"
            );
        }
    }

    #[test]
    fn a_name_search_by_offset_merges_the_two_name_ranges() {
        let conn = crate::storage::migrated_in_memory();
        let mut s = whole_list(1_000);
        s.name = Some("DUR".into());
        let plan = plan(&conn, &s);
        assert!(plan.contains("MERGE (UNION ALL)"), "{plan}");
        assert!(
            plan.contains(
                "USING INDEX registry_workers_name \
                 (establishment_id=? AND search_name>? AND search_name<?)"
            ),
            "{plan}"
        );
        assert!(plan.contains("registry_workers_other"), "{plan}");
    }
}
