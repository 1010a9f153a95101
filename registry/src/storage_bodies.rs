//! SQL of the dosimetry bodies establishments have named.

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::dosimetry_body::NamedBody;
use crate::Result;

const COLUMNS: &str = "id, establishment_id, name, declared_by, declared_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<NamedBody> {
    Ok(NamedBody {
        id: r.get(0)?,
        establishment: r.get(1)?,
        name: r.get(2)?,
        declared_by: r.get(3)?,
        declared_at: r.get(4)?,
    })
}

/// The bodies `establishment` has named, by name.
pub(crate) fn list(conn: &Connection, establishment: i64) -> Result<Vec<NamedBody>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM registry_dosimetry_bodies WHERE establishment_id = ?1 ORDER BY name, id"
    ))?;
    let rows = stmt.query_map(params![establishment], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The establishments that named the body `name`, by establishment.
pub(crate) fn clients(conn: &Connection, name: &str) -> Result<Vec<NamedBody>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM registry_dosimetry_bodies WHERE name = ?1 ORDER BY establishment_id"
    ))?;
    let rows = stmt.query_map(params![name], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether `establishment` has named the body whose certificate name is exactly `name`.
pub(crate) fn is_client(conn: &Connection, establishment: i64, name: &str) -> Result<bool> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM registry_dosimetry_bodies WHERE establishment_id = ?1 AND name = ?2",
            params![establishment, name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// Names the body `name` for `establishment`: the relation, and whether it is new (naming a
/// body twice changes nothing).
pub(crate) fn insert(
    conn: &Connection,
    establishment: i64,
    name: &str,
    by: &str,
    at: &str,
) -> Result<(NamedBody, bool)> {
    let added = conn.execute(
        "INSERT INTO registry_dosimetry_bodies (establishment_id, name, declared_by, declared_at)
         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (establishment_id, name) DO NOTHING",
        params![establishment, name, by, at],
    )? == 1;
    let body = conn.query_row(
        &format!(
            "SELECT {COLUMNS} FROM registry_dosimetry_bodies WHERE establishment_id = ?1 AND name = ?2"
        ),
        params![establishment, name],
        from_row,
    )?;
    Ok((body, added))
}

/// Removes the relation `id` of `establishment`; what it was, if it existed.
pub(crate) fn delete(conn: &Connection, establishment: i64, id: i64) -> Result<Option<NamedBody>> {
    Ok(conn
        .query_row(
            &format!(
                "DELETE FROM registry_dosimetry_bodies WHERE establishment_id = ?1 AND id = ?2
                 RETURNING {COLUMNS}"
            ),
            params![establishment, id],
            from_row,
        )
        .optional()?)
}
