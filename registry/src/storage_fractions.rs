//! SQL of the fractions of a workers list.

use rusqlite::{params, Connection};

use crate::fraction::Fraction;
use crate::storage::optional;
use crate::Result;
use store::text::fold;

/// The establishment's fractions in name order, with the number of workers on the list in each.
pub(crate) fn list(conn: &Connection, establishment: i64) -> Result<Vec<Fraction>> {
    let mut stmt = conn.prepare(
        "SELECT f.id, f.name,
                (SELECT count(*) FROM registry_workers w
                 WHERE w.establishment_id = f.establishment_id AND w.fraction_id = f.id
                   AND w.removed_at IS NULL)
         FROM registry_fractions f WHERE f.establishment_id = ?1 ORDER BY f.name_key, f.id",
    )?;
    let rows = stmt.query_map(params![establishment], |r| {
        Ok(Fraction {
            id: r.get(0)?,
            name: r.get(1)?,
            workers: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One fraction of the establishment.
pub(crate) fn get(conn: &Connection, establishment: i64, id: i64) -> Result<Option<Fraction>> {
    Ok(list(conn, establishment)?.into_iter().find(|f| f.id == id))
}

/// The fraction of that name (accents and case ignored): `(id, name as stored)`.
pub(crate) fn by_name(
    conn: &Connection,
    establishment: i64,
    name: &str,
) -> Result<Option<(i64, String)>> {
    optional(conn.query_row(
        "SELECT id, name FROM registry_fractions WHERE establishment_id = ?1 AND name_key = ?2",
        params![establishment, fold(name)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))
}

/// Creates a fraction; a name taken (accents and case ignored) fails on the UNIQUE constraint.
pub(crate) fn create(
    conn: &Connection,
    establishment: i64,
    name: &str,
    now: &str,
) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO registry_fractions (establishment_id, name, name_key, created_at)
         VALUES (?1, ?2, ?3, ?4) RETURNING id",
        params![establishment, name, fold(name), now],
        |r| r.get(0),
    )
}

/// Renames a fraction; returns whether it existed.
pub(crate) fn rename(
    conn: &Connection,
    establishment: i64,
    id: i64,
    name: &str,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE registry_fractions SET name = ?3, name_key = ?4 WHERE establishment_id = ?1 AND id = ?2",
        params![establishment, id, name, fold(name)],
    )?;
    Ok(n == 1)
}

/// Deletes a fraction, its workers left in none; returns the ids of those workers, or `None`
/// when there was no such fraction.
pub(crate) fn delete(
    conn: &Connection,
    establishment: i64,
    id: i64,
    now: &str,
) -> Result<Option<Vec<i64>>> {
    let exists: Option<i64> = optional(conn.query_row(
        "SELECT id FROM registry_fractions WHERE establishment_id = ?1 AND id = ?2",
        params![establishment, id],
        |r| r.get(0),
    ))?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "UPDATE registry_workers SET fraction_id = NULL, updated_at = ?3
         WHERE establishment_id = ?1 AND fraction_id = ?2 RETURNING id",
    )?;
    let ids = stmt
        .query_map(params![establishment, id, now], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    conn.execute(
        "DELETE FROM registry_fractions WHERE establishment_id = ?1 AND id = ?2",
        params![establishment, id],
    )?;
    Ok(Some(ids))
}

/// Puts workers in a fraction (or in none); returns how many rows changed.
pub(crate) fn assign(
    conn: &Connection,
    establishment: i64,
    fraction: Option<i64>,
    worker: i64,
    now: &str,
) -> Result<usize> {
    Ok(conn.execute(
        "UPDATE registry_workers SET fraction_id = ?3, updated_at = ?4
         WHERE establishment_id = ?1 AND id = ?2",
        params![establishment, worker, fraction, now],
    )?)
}
