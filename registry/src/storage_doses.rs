//! SQL of the dose records and of the medical follow-up card.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};
use time::Date;

use crate::card::{CardFollowUp, Fitness};
use crate::date::{self, iso};
use crate::dose::{msv, DoseKind, DoseRecord, NewDose};
use crate::policy::DoseScope;
use crate::storage::optional;
use crate::Result;

/// Records a result; returns its id.
pub(crate) fn insert(
    conn: &Connection,
    worker: i64,
    d: &NewDose,
    source: &str,
    now: &str,
) -> Result<i64> {
    Ok(conn.query_row(
        "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, hp10_usv,
                                     hp007_usv, e_usv, source, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        params![
            worker,
            d.kind.as_str(),
            iso(d.period_start),
            iso(d.period_end),
            d.hp10_usv,
            d.hp007_usv,
            d.e_usv,
            source,
            now
        ],
        |r| r.get(0),
    )?)
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DoseRecord> {
    let kind: String = r.get(2)?;
    let usv = |i| r.get::<_, Option<i64>>(i).map(|v| v.map(msv));
    Ok(DoseRecord {
        id: r.get(0)?,
        worker_id: r.get(1)?,
        kind: DoseKind::from_str(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                "type de dose inconnu en base".into(),
            )
        })?,
        period_start: date::from_iso(&r.get::<_, String>(3)?)?,
        period_end: date::from_iso(&r.get::<_, String>(4)?)?,
        hp10_msv: usv(5)?,
        hp007_msv: usv(6)?,
        e_msv: usv(7)?,
        source: r.get(8)?,
        recorded_at: r.get(9)?,
        establishment_id: r.get(10)?,
    })
}

/// The records of employment `worker` of the given kinds, by period end then id, within
/// `scope` ([`crate::policy::dose_scope`]): every employment of the person (`Career`), or only
/// this one's results whose period meets one of its periods of employment.
pub(crate) fn list(
    conn: &Connection,
    worker: i64,
    scope: DoseScope,
    kinds: &[DoseKind],
    from: Option<Date>,
    to: Option<Date>,
) -> Result<Vec<DoseRecord>> {
    let whose = match scope {
        DoseScope::Nothing => return Ok(Vec::new()),
        DoseScope::Career => {
            "d.worker_id IN (SELECT e.id FROM registry_workers w
                             JOIN registry_workers e ON e.person_id = w.person_id
                             WHERE w.id = ?1)"
        }
        // The current (or last) period on the row, and the earlier ones archived.
        DoseScope::EmploymentPeriods => {
            "d.worker_id = ?1 AND (
                 EXISTS (SELECT 1 FROM registry_workers w
                         WHERE w.id = d.worker_id
                           AND d.period_start <= coalesce(w.employed_to, '9999-12-31')
                           AND d.period_end >= w.employed_from)
                 OR EXISTS (SELECT 1 FROM registry_employment_periods p
                            WHERE p.worker_id = d.worker_id
                              AND d.period_start <= p.ended_on
                              AND d.period_end >= p.started_on))"
        }
    };
    let mut values = vec![Value::Integer(worker)];
    let mut marks = Vec::new();
    for k in kinds {
        values.push(Value::Text(k.as_str().to_owned()));
        marks.push(format!("?{}", values.len()));
    }
    let mut sql = format!(
        "SELECT d.id, d.worker_id, d.kind, d.period_start, d.period_end, d.hp10_usv,
                d.hp007_usv, d.e_usv, d.source, d.recorded_at,
                (SELECT establishment_id FROM registry_workers WHERE id = d.worker_id)
         FROM registry_doses d WHERE {whose} AND d.kind IN ({})",
        marks.join(", ")
    );
    if let Some(from) = from {
        values.push(Value::Text(iso(from)));
        sql.push_str(&format!(" AND d.period_end >= ?{}", values.len()));
    }
    if let Some(to) = to {
        values.push(Value::Text(iso(to)));
        sql.push_str(&format!(" AND d.period_end <= ?{}", values.len()));
    }
    sql.push_str(" ORDER BY d.period_end, d.id");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(values), record_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Sums over the periods ending within `[from, to]`, in µSv.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    /// Passive Hp(10) + internal E + effective E: the effective dose.
    pub effective: i64,
    /// How many records make up `effective`.
    pub effective_records: u64,
    pub passive_hp10: i64,
    pub passive_hp007: i64,
    pub operational_hp10: i64,
    pub internal_e: i64,
    pub effective_e: i64,
}

/// Over every employment of the person employment `worker` is of (issue 15 §3: the limits are
/// the person's, whoever employed them).
pub(crate) fn sums(conn: &Connection, worker: i64, from: Date, to: Date) -> Result<Sums> {
    Ok(conn.query_row(
        "SELECT
            coalesce(sum(CASE kind WHEN 'passive' THEN hp10_usv
                                   WHEN 'internal' THEN e_usv
                                   WHEN 'effective' THEN e_usv END), 0),
            count(CASE WHEN (kind = 'passive' AND hp10_usv IS NOT NULL)
                            OR kind IN ('internal', 'effective') THEN 1 END),
            coalesce(sum(CASE kind WHEN 'passive' THEN hp10_usv END), 0),
            coalesce(sum(CASE kind WHEN 'passive' THEN hp007_usv END), 0),
            coalesce(sum(CASE kind WHEN 'operational' THEN hp10_usv END), 0),
            coalesce(sum(CASE kind WHEN 'internal' THEN e_usv END), 0),
            coalesce(sum(CASE kind WHEN 'effective' THEN e_usv END), 0)
         FROM registry_doses
         WHERE worker_id IN (SELECT e.id FROM registry_workers w
                             JOIN registry_workers e ON e.person_id = w.person_id
                             WHERE w.id = ?1)
           AND period_end BETWEEN ?2 AND ?3",
        params![worker, iso(from), iso(to)],
        |r| {
            Ok(Sums {
                effective: r.get(0)?,
                effective_records: r.get(1)?,
                passive_hp10: r.get(2)?,
                passive_hp007: r.get(3)?,
                operational_hp10: r.get(4)?,
                internal_e: r.get(5)?,
                effective_e: r.get(6)?,
            })
        },
    )?)
}

/// The physician's part of a worker's card; empty when nothing was written yet.
pub(crate) fn card(conn: &Connection, worker: i64) -> Result<CardFollowUp> {
    let found = optional(conn.query_row(
        "SELECT last_visit, fitness, next_visit, notes, updated_by, updated_at
         FROM registry_medical_cards WHERE worker_id = ?1",
        params![worker],
        |r| {
            let day = |i| -> rusqlite::Result<Option<Date>> {
                r.get::<_, Option<String>>(i)?
                    .map(|t| date::from_iso(&t))
                    .transpose()
            };
            let fitness: Option<String> = r.get(1)?;
            Ok(CardFollowUp {
                last_visit: day(0)?,
                fitness: fitness.as_deref().and_then(Fitness::from_code),
                next_visit: day(2)?,
                notes: r.get(3)?,
                updated_by: r.get(4)?,
                updated_at: r.get(5)?,
            })
        },
    ))?;
    Ok(found.unwrap_or_default())
}

/// Replaces the physician's part of a worker's card.
pub(crate) fn put_card(
    conn: &Connection,
    worker: i64,
    c: &CardFollowUp,
    by: &str,
    now: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO registry_medical_cards
             (worker_id, last_visit, fitness, next_visit, notes, updated_by, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (worker_id) DO UPDATE SET
             last_visit = excluded.last_visit, fitness = excluded.fitness,
             next_visit = excluded.next_visit, notes = excluded.notes,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        params![
            worker,
            c.last_visit.map(iso),
            c.fitness.map(Fitness::code),
            c.next_visit.map(iso),
            c.notes,
            by,
            now
        ],
    )?;
    Ok(())
}
