//! SQL of the limit alerts: what a person's results add up to, across their employments, and
//! the alerts raised, shown and acknowledged (see [`crate::limits`]).

use std::sync::LazyLock;

use rusqlite::{params, Connection};
use time::Date;

use crate::date::{self, iso};
use crate::limits::{Contribution, Limit};
use crate::storage::optional;
use crate::storage_doses::{CURRENT, EFFECTIVE_USV, EXTREMITIES_USV, LENS_USV, SKIN_USV};
use crate::Result;

/// The columns of a result's parts in the limits' sums (its table aliased `d`), in the order
/// [`contribution_at`] reads them.
pub(crate) static CONTRIBUTION_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "d.period_end, coalesce({EFFECTIVE_USV}, 0), coalesce({SKIN_USV}, 0),
         coalesce({EXTREMITIES_USV}, 0), coalesce({LENS_USV}, 0)"
    )
});

/// The [`Contribution`] of row `r`, whose [`CONTRIBUTION_COLUMNS`] start at column `at`;
/// `None` when they are NULL (an outer join's row without a result).
pub(crate) fn contribution_at(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> rusqlite::Result<Option<Contribution>> {
    let Some(end) = r.get_ref(at)?.as_str_or_null()? else {
        return Ok(None);
    };
    Ok(Some(Contribution {
        period_end: date::from_iso(end)?,
        effective_usv: r.get(at + 1)?,
        skin_usv: r.get(at + 2)?,
        extremities_usv: r.get(at + 3)?,
        lens_usv: r.get(at + 4)?,
    }))
}

/// The parts in the limits' sums of person `person`'s current results ending within
/// `[from, to]`, every employment together.
pub(crate) fn contributions(
    conn: &Connection,
    person: i64,
    from: Date,
    to: Date,
) -> Result<Vec<Contribution>> {
    // Built once: asked at every result recorded (a transmission records a million).
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {columns}
             FROM registry_workers w JOIN registry_doses d ON d.worker_id = w.id
             WHERE w.person_id = ?1 AND d.period_end BETWEEN ?2 AND ?3 AND {CURRENT}",
            columns = *CONTRIBUTION_COLUMNS
        )
    });
    let mut stmt = conn.prepare_cached(&SQL)?;
    let rows = stmt.query_map(params![person, iso(from), iso(to)], |r| {
        contribution_at(r, 0)
    })?;
    // An inner join: every row holds a result.
    Ok(rows
        .filter_map(rusqlite::Result::transpose)
        .collect::<rusqlite::Result<_>>()?)
}

/// The declared pregnancies of `person` whose span holds `day`: `(declared, ends)`.
pub(crate) fn pregnancies_holding(
    conn: &Connection,
    person: i64,
    day: Date,
) -> Result<Vec<(Date, Date)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT declared_on, ends_on FROM registry_pregnancies
         WHERE person_id = ?1 AND declared_on <= ?2 AND ends_on >= ?2 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![person, iso(day)], |r| {
        Ok((
            date::from_iso(&r.get::<_, String>(0)?)?,
            date::from_iso(&r.get::<_, String>(1)?)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The latest current result of `person` ending within `[from, to]`.
pub(crate) fn last_dose_in(
    conn: &Connection,
    person: i64,
    from: Date,
    to: Date,
) -> Result<Option<i64>> {
    let sql = format!(
        "SELECT d.id FROM registry_workers w JOIN registry_doses d ON d.worker_id = w.id
         WHERE w.person_id = ?1 AND d.period_end BETWEEN ?2 AND ?3 AND {CURRENT}
         ORDER BY d.period_end DESC, d.id DESC LIMIT 1"
    );
    optional(conn.query_row(&sql, params![person, iso(from), iso(to)], |r| r.get(0)))
}

/// Records a declared pregnancy; returns its id.
pub(crate) fn insert_pregnancy(
    conn: &Connection,
    person: i64,
    declared: Date,
    ends: Date,
    by: &str,
    now: &str,
) -> Result<i64> {
    Ok(conn.query_row(
        "INSERT INTO registry_pregnancies (person_id, declared_on, ends_on, declared_by,
             recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        params![person, iso(declared), iso(ends), by, now],
        |r| r.get(0),
    )?)
}

/// The declared pregnancies of `person`, latest first: `(declared, ends)`.
pub(crate) fn pregnancies(conn: &Connection, person: i64) -> Result<Vec<(Date, Date)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT declared_on, ends_on FROM registry_pregnancies
         WHERE person_id = ?1 ORDER BY declared_on DESC, id DESC",
    )?;
    let rows = stmt.query_map(params![person], |r| {
        Ok((
            date::from_iso(&r.get::<_, String>(0)?)?,
            date::from_iso(&r.get::<_, String>(1)?)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether employment `worker` is of category B.
pub(crate) fn category_b(conn: &Connection, worker: i64) -> Result<bool> {
    Ok(optional(
        conn.prepare_cached("SELECT category = 'B' FROM registry_workers WHERE id = ?1")?
            .query_row(params![worker], |r| r.get::<_, Option<bool>>(0)),
    )?
    .flatten()
    .unwrap_or(false))
}

/// The person's birth date, as far as the registry knows it.
pub(crate) fn birth_date(conn: &Connection, person: i64) -> Result<Option<Date>> {
    // Cached: asked at every result recorded (a transmission records a million).
    let text: Option<String> = optional(
        conn.prepare_cached("SELECT birth_date FROM registry_persons WHERE id = ?1")?
            .query_row(params![person], |r| r.get(0)),
    )?
    .flatten();
    Ok(text.map(|t| date::from_iso(&t)).transpose()?)
}

/// The establishments whose results of `person` end within `[from, to]`, with the person's
/// employment in each.
pub(crate) fn employers_in(
    conn: &Connection,
    person: i64,
    from: Date,
    to: Date,
) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT w.establishment_id, w.id
         FROM registry_workers w JOIN registry_doses d ON d.worker_id = w.id
         WHERE w.person_id = ?1 AND d.period_end BETWEEN ?2 AND ?3
         ORDER BY w.establishment_id",
    )?;
    let rows = stmt.query_map(params![person, iso(from), iso(to)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether an alert of `limit` for `person` awaits acknowledgement (neither acknowledged nor
/// closed by a correction).
pub(crate) fn is_open(conn: &Connection, person: i64, limit: Limit) -> Result<bool> {
    Ok(optional(conn.query_row(
        "SELECT 1 FROM registry_alerts
         WHERE person_id = ?1 AND limit_code = ?2 AND acknowledged_at IS NULL
               AND closed_at IS NULL",
        params![person, limit.as_str()],
        |_| Ok(()),
    ))?
    .is_some())
}

/// An alert awaiting acknowledgement, as a correction re-checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenAlert {
    pub id: i64,
    pub limit: Limit,
    pub from: Date,
    pub to: Date,
    pub limit_usv: i64,
}

/// The alerts of `person` awaiting acknowledgement.
pub(crate) fn open_of(conn: &Connection, person: i64) -> Result<Vec<OpenAlert>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, limit_code, window_from, window_to, limit_usv FROM registry_alerts
         WHERE person_id = ?1 AND acknowledged_at IS NULL AND closed_at IS NULL ORDER BY id",
    )?;
    let rows = stmt.query_map(params![person], |r| {
        Ok(OpenAlert {
            id: r.get(0)?,
            limit: limit_of(&r.get::<_, String>(1)?, 1)?,
            from: date::from_iso(&r.get::<_, String>(2)?)?,
            to: date::from_iso(&r.get::<_, String>(3)?)?,
            limit_usv: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Closes alert `id`, which correction `dose` brought back under its limit; whether it was
/// still open.
pub(crate) fn close(conn: &Connection, id: i64, dose: i64, now: &str) -> Result<bool> {
    let changed = conn.execute(
        "UPDATE registry_alerts SET closed_at = ?2, closed_by_dose = ?3
         WHERE id = ?1 AND acknowledged_at IS NULL AND closed_at IS NULL",
        params![id, now, dose],
    )?;
    Ok(changed == 1)
}

fn limit_of(code: &str, column: usize) -> rusqlite::Result<Limit> {
    Limit::from_str(code).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Text,
            "limite inconnue en base".into(),
        )
    })
}

/// An alert to record.
pub(crate) struct NewAlert<'a> {
    pub person: i64,
    pub limit: Limit,
    pub from: Date,
    pub to: Date,
    pub sum_usv: i64,
    pub limit_usv: i64,
    pub dose: i64,
    /// `(establishment, employment)` of those concerned.
    pub establishments: &'a [(i64, i64)],
}

/// Records an alert and who it concerns; returns its id.
pub(crate) fn insert(conn: &Connection, a: &NewAlert<'_>, now: &str) -> Result<i64> {
    let id: i64 = conn.query_row(
        "INSERT INTO registry_alerts (person_id, limit_code, window_from, window_to, sum_usv,
             limit_usv, dose_id, raised_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        params![
            a.person,
            a.limit.as_str(),
            iso(a.from),
            iso(a.to),
            a.sum_usv,
            a.limit_usv,
            a.dose,
            now
        ],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "INSERT INTO registry_alert_establishments (alert_id, establishment_id, worker_id)
         VALUES (?1, ?2, ?3)",
    )?;
    for (establishment, worker) in a.establishments {
        stmt.execute(params![id, establishment, worker])?;
    }
    Ok(id)
}

/// A limit alert as the physician and the PCR see it in one establishment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LimitAlert {
    /// Its id.
    pub id: i64,
    /// The worker's id in this establishment.
    pub worker_id: i64,
    /// The worker's last and first names, as this establishment's list has them.
    pub worker_name: String,
    /// Which limit.
    pub limit: Limit,
    /// What it means, in French.
    pub label: &'static str,
    /// First day of the 12 months.
    #[serde(with = "date::serde_french")]
    pub window_from: Date,
    /// Last day.
    #[serde(with = "date::serde_french")]
    pub window_to: Date,
    /// The sum over the 12 months, every employer together, mSv.
    pub sum_msv: f64,
    /// The limit, mSv.
    pub limit_msv: f64,
    /// When it was raised.
    pub raised_at: String,
    /// When a physician acknowledged it, if one did.
    pub acknowledged_at: Option<String>,
    /// Who did.
    pub acknowledged_by: Option<String>,
    /// When a correction brought its sum back under the limit, if one did: it awaits nothing.
    pub closed_at: Option<String>,
    /// That correction (a result's id).
    pub closed_by_dose: Option<i64>,
}

/// The alerts that concern `establishment`, those awaiting acknowledgement first, newest first.
pub(crate) fn list(conn: &Connection, establishment: i64) -> Result<Vec<LimitAlert>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.id, e.worker_id, w.last_name || ' ' || w.first_name, a.limit_code,
                a.window_from, a.window_to, a.sum_usv, a.limit_usv, a.raised_at,
                a.acknowledged_at, a.acknowledged_by, a.closed_at, a.closed_by_dose
         FROM registry_alert_establishments e
         JOIN registry_alerts a ON a.id = e.alert_id
         JOIN registry_workers w ON w.id = e.worker_id
         WHERE e.establishment_id = ?1
         ORDER BY a.acknowledged_at IS NOT NULL OR a.closed_at IS NOT NULL, a.id DESC",
    )?;
    let rows = stmt.query_map(params![establishment], |r| {
        let limit = limit_of(&r.get::<_, String>(3)?, 3)?;
        Ok(LimitAlert {
            id: r.get(0)?,
            worker_id: r.get(1)?,
            worker_name: r.get(2)?,
            limit,
            label: limit.label(),
            window_from: date::from_iso(&r.get::<_, String>(4)?)?,
            window_to: date::from_iso(&r.get::<_, String>(5)?)?,
            sum_msv: crate::dose::msv(r.get(6)?),
            limit_msv: crate::dose::msv(r.get(7)?),
            raised_at: r.get(8)?,
            acknowledged_at: r.get(9)?,
            acknowledged_by: r.get(10)?,
            closed_at: r.get(11)?,
            closed_by_dose: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Acknowledges alert `id` of `establishment`; `None` when it does not concern it, `Some(false)`
/// when it was acknowledged already, or closed by a correction (nothing awaits).
pub(crate) fn acknowledge(
    conn: &Connection,
    establishment: i64,
    id: i64,
    by: &str,
    now: &str,
) -> Result<Option<bool>> {
    let concerned = optional(conn.query_row(
        "SELECT 1 FROM registry_alert_establishments WHERE establishment_id = ?1 AND alert_id = ?2",
        params![establishment, id],
        |_| Ok(()),
    ))?;
    if concerned.is_none() {
        return Ok(None);
    }
    let changed = conn.execute(
        "UPDATE registry_alerts SET acknowledged_at = ?2, acknowledged_by = ?3
         WHERE id = ?1 AND acknowledged_at IS NULL AND closed_at IS NULL",
        params![id, now, by],
    )?;
    Ok(Some(changed == 1))
}
