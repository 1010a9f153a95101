//! SQL of the dose records and of the medical follow-up card.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};
use store::date::IsoDay;
use time::Date;

use crate::card::{CardFollowUp, Fitness};
use crate::date::{self, iso};
use crate::dose::{msv, DoseKind, DoseRecord, NewDose, Organ, Sender};
use crate::policy::DoseScope;
use crate::storage::optional;
use crate::Result;

/// What a result `d` adds to each sum of [`crate::limits`] (see [`crate::dose`]): SQL
/// expressions over `registry_doses d`, NULL when nothing.
pub(crate) const EFFECTIVE_USV: &str = "CASE WHEN d.kind = 'passive' THEN d.hp10_usv
     WHEN d.kind = 'operational' THEN NULL ELSE d.e_usv END";
pub(crate) const SKIN_USV: &str =
    "CASE WHEN d.kind = 'passive' THEN d.hp007_usv WHEN d.organ = 'skin' THEN d.h_usv END";
pub(crate) const EXTREMITIES_USV: &str = "CASE WHEN d.kind = 'passive' THEN d.extremity_usv
     WHEN d.organ = 'extremities' THEN d.h_usv END";
pub(crate) const LENS_USV: &str =
    "CASE WHEN d.kind = 'passive' THEN d.hp3_usv WHEN d.organ = 'lens' THEN d.h_usv END";
/// `d` is current: no correction replaces it.
pub(crate) const CURRENT: &str =
    "NOT EXISTS (SELECT 1 FROM registry_doses c WHERE c.replaces_id = d.id)";

/// Records a result entered by hand; returns its id.
pub(crate) fn insert(
    conn: &Connection,
    worker: i64,
    d: &NewDose,
    sender: Sender,
    source: &str,
    now: &str,
) -> Result<i64> {
    let mut stmt = conn.prepare_cached(INSERT)?;
    insert_with(conn, &mut stmt, worker, d, sender, source, now, None)
}

/// What a result sent in a transmission records besides the result: the sender's reference
/// and the transmission.
pub(crate) struct Sent<'a> {
    pub reference: &'a str,
    pub transmission: i64,
}

/// Records a result. That a sent result is not one already received (same sender, reference,
/// employment, kind and period) is the caller's to have checked, in the same write transaction
/// (registry migration 0014 says why no unique index says it).
const INSERT: &str = "INSERT INTO registry_doses (worker_id, kind, period_start, period_end,
    hp10_usv, hp007_usv, e_usv, extremity_usv, hp3_usv, organ, h_usv, radon_bqhm3, sender, siret,
    replaces_id, source, recorded_at, reference, transmission_id)
 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";

/// Records results sent (in a transmission, or pending lines attached), through one statement
/// taken from the connection's cache once for them all: a cached statement is found again by
/// its text's hash at every use, and a transmission records a million.
pub(crate) struct SentInsert<'c> {
    conn: &'c Connection,
    stmt: rusqlite::CachedStatement<'c>,
}

impl<'c> SentInsert<'c> {
    /// Takes the statement from `conn`'s cache (it goes back when this is dropped).
    pub(crate) fn new(conn: &'c Connection) -> Result<Self> {
        Ok(Self {
            conn,
            stmt: conn.prepare_cached(INSERT)?,
        })
    }

    /// Records a result sent, which the caller found to be no duplicate; returns its id.
    pub(crate) fn insert(
        &mut self,
        worker: i64,
        d: &NewDose,
        sender: Sender,
        source: &str,
        now: &str,
        sent: Sent<'_>,
    ) -> Result<i64> {
        insert_with(
            self.conn,
            &mut self.stmt,
            worker,
            d,
            sender,
            source,
            now,
            Some(sent),
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn insert_with(
    conn: &Connection,
    stmt: &mut rusqlite::Statement<'_>,
    worker: i64,
    d: &NewDose,
    sender: Sender,
    source: &str,
    now: &str,
    sent: Option<Sent<'_>>,
) -> Result<i64> {
    stmt.execute(params![
        worker,
        d.kind.as_str(),
        IsoDay::of(d.period_start),
        IsoDay::of(d.period_end),
        d.hp10_usv,
        d.hp007_usv,
        d.e_usv,
        d.extremity_usv,
        d.hp3_usv,
        d.organ.map(Organ::as_str),
        d.h_usv,
        d.radon_bqhm3,
        sender.as_str(),
        d.siret,
        d.replaces,
        source,
        now,
        sent.as_ref().map(|s| s.reference),
        sent.as_ref().map(|s| s.transmission)
    ])?;
    // No `RETURNING`: SQLite would gather the returned row in a temporary table at every
    // execution (a transmission inserts a million). The row's id is the connection's last.
    Ok(conn.last_insert_rowid())
}

/// The result `id` may be replaced by a new result of employment `worker` and kind `kind`,
/// sent by `source`: `Ok(None)` when so, else why not (French, for the `replaces` field). A
/// dosimetry body corrects only its own results; people correct those of their role in the
/// establishment (a new physician corrects the former one's).
pub(crate) fn replaceable(
    conn: &Connection,
    worker: i64,
    kind: DoseKind,
    id: i64,
    source: &str,
) -> Result<Option<&'static str>> {
    let found: Option<(i64, String, bool)> = optional(conn.query_row(
        "SELECT d.worker_id, d.kind, EXISTS (SELECT 1 FROM registry_doses c
                                             WHERE c.replaces_id = d.id)
         FROM registry_doses d
         WHERE d.id = ?1 AND (d.source NOT GLOB 'organisme:*' OR d.source = ?2)",
        params![id, source],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    ))?;
    // Another employment's result, or one of another kind (which the sender may not be allowed
    // to read: a dosimetry body must not learn that an internal exposure was recorded), is as
    // unknown as a missing one.
    Ok(match found {
        Some((w, k, replaced)) if w == worker && k == kind.as_str() => replaced
            .then_some("Ce résultat a déjà été corrigé : corrigez la correction."),
        _ => Some("Aucun résultat de ce type ne porte ce numéro pour ce travailleur : une correction remplace un résultat du même travailleur et du même type."),
    })
}

const COLUMNS: &str = "d.id, d.worker_id, d.kind, d.period_start, d.period_end, d.hp10_usv,
    d.hp007_usv, d.e_usv, d.source, d.recorded_at,
    (SELECT establishment_id FROM registry_workers WHERE id = d.worker_id),
    d.extremity_usv, d.hp3_usv, d.organ, d.h_usv, d.radon_bqhm3, d.sender, d.siret,
    d.replaces_id, (SELECT c.id FROM registry_doses c WHERE c.replaces_id = d.id)";

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DoseRecord> {
    let bad = |i: usize, what: &'static str| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.into())
    };
    let kind: String = r.get(2)?;
    let usv = |i| r.get::<_, Option<i64>>(i).map(|v| v.map(msv));
    let organ: Option<String> = r.get(13)?;
    let sender: String = r.get(16)?;
    Ok(DoseRecord {
        id: r.get(0)?,
        worker_id: r.get(1)?,
        kind: DoseKind::from_str(&kind).ok_or_else(|| bad(2, "type de dose inconnu en base"))?,
        period_start: date::from_iso(&r.get::<_, String>(3)?)?,
        period_end: date::from_iso(&r.get::<_, String>(4)?)?,
        hp10_msv: usv(5)?,
        hp007_msv: usv(6)?,
        e_msv: usv(7)?,
        source: r.get(8)?,
        recorded_at: r.get(9)?,
        establishment_id: r.get(10)?,
        extremity_msv: usv(11)?,
        hp3_msv: usv(12)?,
        organ: organ
            .map(|o| Organ::from_str(&o).ok_or_else(|| bad(13, "organe inconnu en base")))
            .transpose()?,
        h_msv: usv(14)?,
        radon_bqhm3: r.get(15)?,
        unit: "mSv",
        sender: Sender::from_str(&sender).ok_or_else(|| bad(16, "émetteur inconnu en base"))?,
        siret: r.get(17)?,
        replaces_id: r.get(18)?,
        replaced_by: r.get(19)?,
    })
}

/// The SQL condition for the records of employment `?1` within `scope`.
fn whose(scope: DoseScope) -> Option<&'static str> {
    match scope {
        DoseScope::Nothing => None,
        DoseScope::Career => Some(
            "d.worker_id IN (SELECT e.id FROM registry_workers w
                             JOIN registry_workers e ON e.person_id = w.person_id
                             WHERE w.id = ?1)",
        ),
        // The current (or last) period on the row, and the earlier ones archived.
        DoseScope::EmploymentPeriods => Some(
            "d.worker_id = ?1 AND (
                 EXISTS (SELECT 1 FROM registry_workers w
                         WHERE w.id = d.worker_id
                           AND d.period_start <= coalesce(w.employed_to, '9999-12-31')
                           AND d.period_end >= w.employed_from)
                 OR EXISTS (SELECT 1 FROM registry_employment_periods p
                            WHERE p.worker_id = d.worker_id
                              AND d.period_start <= p.ended_on
                              AND d.period_end >= p.started_on))",
        ),
    }
}

/// The current records (corrected ones give way to their correction) of employment `worker`
/// of the given kinds, by period end then id, within `scope` ([`crate::policy::dose_scope`]):
/// every employment of the person (`Career`), or only this one's results whose period meets
/// one of its periods of employment.
pub(crate) fn list(
    conn: &Connection,
    worker: i64,
    scope: DoseScope,
    kinds: &[DoseKind],
    from: Option<Date>,
    to: Option<Date>,
) -> Result<Vec<DoseRecord>> {
    let Some(whose) = whose(scope) else {
        return Ok(Vec::new());
    };
    let mut values = vec![Value::Integer(worker)];
    let mut marks = Vec::new();
    for k in kinds {
        values.push(Value::Text(k.as_str().to_owned()));
        marks.push(format!("?{}", values.len()));
    }
    let mut sql = format!(
        "SELECT {COLUMNS} FROM registry_doses d
         WHERE {whose} AND d.kind IN ({}) AND {CURRENT}",
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

/// The chain of corrections result `id` belongs to, newest first, when `id` is a record of
/// employment `worker` the `scope` shows, of one of `kinds`; empty otherwise.
pub(crate) fn history(
    conn: &Connection,
    worker: i64,
    scope: DoseScope,
    kinds: &[DoseKind],
    id: i64,
) -> Result<Vec<DoseRecord>> {
    let Some(whose) = whose(scope) else {
        return Ok(Vec::new());
    };
    // Up the chain to its newest, then down through what each replaces.
    let sql = format!(
        "WITH RECURSIVE
           up(id) AS (SELECT ?2 UNION SELECT c.id FROM registry_doses c JOIN up
                      ON c.replaces_id = up.id),
           top(id) AS (SELECT max(id) FROM up),
           down(id, depth) AS (SELECT id, 0 FROM top
                               UNION SELECT r.replaces_id, down.depth + 1
                               FROM registry_doses r JOIN down ON r.id = down.id
                               WHERE r.replaces_id IS NOT NULL)
         SELECT {COLUMNS} FROM down JOIN registry_doses d ON d.id = down.id
         WHERE {whose} ORDER BY down.depth"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows: Vec<DoseRecord> = stmt
        .query_map(params![worker, id], record_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    if !rows.iter().any(|r| r.id == id) || rows.iter().any(|r| !kinds.contains(&r.kind)) {
        return Ok(Vec::new());
    }
    Ok(rows)
}

/// Sums over the current results ending within `[from, to]`, in µSv.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Sums {
    /// The effective dose ([`EFFECTIVE_USV`]).
    pub effective: i64,
    /// How many records make up `effective`.
    pub effective_records: u64,
    pub passive_hp10: i64,
    pub passive_hp007: i64,
    pub operational_hp10: i64,
    pub internal_e: i64,
    pub effective_e: i64,
    pub skin: i64,
    pub extremities: i64,
    pub lens: i64,
}

/// Over every employment of the person employment `worker` is of (issue 15 §3: the limits are
/// the person's, whoever employed them).
pub(crate) fn sums(conn: &Connection, worker: i64, from: Date, to: Date) -> Result<Sums> {
    let sql = format!(
        "SELECT
            coalesce(sum({EFFECTIVE_USV}), 0),
            count({EFFECTIVE_USV}),
            coalesce(sum(CASE d.kind WHEN 'passive' THEN d.hp10_usv END), 0),
            coalesce(sum(CASE d.kind WHEN 'passive' THEN d.hp007_usv END), 0),
            coalesce(sum(CASE d.kind WHEN 'operational' THEN d.hp10_usv END), 0),
            coalesce(sum(CASE d.kind WHEN 'internal' THEN d.e_usv END), 0),
            coalesce(sum(CASE d.kind WHEN 'effective' THEN d.e_usv END), 0),
            coalesce(sum({SKIN_USV}), 0),
            coalesce(sum({EXTREMITIES_USV}), 0),
            coalesce(sum({LENS_USV}), 0)
         FROM registry_doses d
         WHERE d.worker_id IN (SELECT e.id FROM registry_workers w
                               JOIN registry_workers e ON e.person_id = w.person_id
                               WHERE w.id = ?1)
           AND d.period_end BETWEEN ?2 AND ?3 AND {CURRENT}"
    );
    Ok(
        conn.query_row(&sql, params![worker, iso(from), iso(to)], |r| {
            Ok(Sums {
                effective: r.get(0)?,
                effective_records: r.get(1)?,
                passive_hp10: r.get(2)?,
                passive_hp007: r.get(3)?,
                operational_hp10: r.get(4)?,
                internal_e: r.get(5)?,
                effective_e: r.get(6)?,
                skin: r.get(7)?,
                extremities: r.get(8)?,
                lens: r.get(9)?,
            })
        })?,
    )
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

/// An employment in a bilan: its category code, its métier, and its person's effective dose
/// over the window in µSv.
pub(crate) type BilanLine = (Option<String>, Option<String>, i64);

/// For the bilan of `establishment` over `[from, to]` ([`crate::bilan`]): each employment there
/// whose time meets the window, its category code, its métier, and its person's effective dose
/// over the window, every employer together.
pub(crate) fn effective_by_employment(
    conn: &Connection,
    establishment: i64,
    from: Date,
    to: Date,
) -> Result<Vec<BilanLine>> {
    let sql = format!(
        "SELECT w.category, w.job,
                (SELECT coalesce(sum({EFFECTIVE_USV}), 0)
                 FROM registry_workers e JOIN registry_doses d ON d.worker_id = e.id
                 WHERE e.person_id = w.person_id AND d.period_end BETWEEN ?2 AND ?3
                   AND {CURRENT})
         FROM registry_workers w
         WHERE w.establishment_id = ?1 AND w.employed_from <= ?3
           AND coalesce(w.employed_to, '9999-12-31') >= ?2
         ORDER BY w.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![establishment, iso(from), iso(to)], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
