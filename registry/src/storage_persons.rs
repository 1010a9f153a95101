//! SQL of the national persons (`registry_persons`), of the employments' periods and of the
//! identity conflicts (see [`crate::person`]).

use rusqlite::{params, Connection, OptionalExtension, Row, Statement};

use crate::nir::Nir;
use crate::person::{Binding, Known};
use crate::storage::optional;
use crate::worker::{Columns, Worker};
use crate::Result;

/// The person holding NIR `?1`, and whether an establishment other than `?2` employs them.
pub(crate) const FIND_BY_NIR: &str = "SELECT p.id, p.search_name, p.birth_date,
        EXISTS (SELECT 1 FROM registry_workers w
                WHERE w.person_id = p.id AND w.establishment_id <> ?2)
    FROM registry_persons p WHERE p.nir = ?1";

/// The same, by the person's id `?1`.
pub(crate) const FIND_BY_ID: &str = "SELECT p.id, p.search_name, p.birth_date,
        EXISTS (SELECT 1 FROM registry_workers w
                WHERE w.person_id = p.id AND w.establishment_id <> ?2)
    FROM registry_persons p WHERE p.id = ?1";

/// Creates a person; `?9` is the time.
pub(crate) const INSERT: &str = "INSERT INTO registry_persons (nir, nir_key, last_name,
        other_name, first_name, other_first_names, birth_date, search_name, created_at,
        updated_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";

/// Replaces person `?10`'s NIR and identity; `?9` is the time.
pub(crate) const UPDATE: &str = "UPDATE registry_persons SET nir = ?1, nir_key = ?2,
        last_name = ?3, other_name = ?4, first_name = ?5, other_first_names = ?6,
        birth_date = ?7, search_name = ?8, updated_at = ?9
    WHERE id = ?10";

/// Records a declaration not applied: `?1` person, `?2` establishment, `?3`–`?7` the declared
/// identity, `?8` source, `?9` who, `?10` when.
pub(crate) const INSERT_CONFLICT: &str = "INSERT INTO registry_identity_conflicts (person_id,
        establishment_id, last_name, other_name, first_name, other_first_names, birth_date,
        source, declared_by, declared_at)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

fn known(r: &Row<'_>) -> rusqlite::Result<Known> {
    Ok(Known {
        id: r.get(0)?,
        search_name: r.get(1)?,
        birth_date: r.get(2)?,
        elsewhere: r.get(3)?,
    })
}

/// Runs a prepared [`FIND_BY_NIR`].
pub(crate) fn find_by_nir(
    stmt: &mut Statement<'_>,
    nir: &Nir,
    establishment: i64,
) -> Result<Option<Known>> {
    Ok(stmt
        .query_row(params![nir.as_str(), establishment], known)
        .optional()?)
}

/// Runs a prepared [`FIND_BY_ID`].
pub(crate) fn find_by_id(
    stmt: &mut Statement<'_>,
    id: i64,
    establishment: i64,
) -> Result<Option<Known>> {
    Ok(stmt
        .query_row(params![id, establishment], known)
        .optional()?)
}

/// Writes what [`Binding`] decided (never for a conflict); returns the person's id.
pub(crate) fn apply(
    insert: &mut Statement<'_>,
    update: &mut Statement<'_>,
    conn: &Connection,
    binding: Binding,
    w: &Worker,
    columns: &Columns,
    now: &str,
) -> Result<i64> {
    let identity = params![
        w.nir.as_str(),
        w.nir.key(),
        w.last_name,
        w.other_name,
        w.first_name,
        w.other_first_names,
        columns.birth_date,
        columns.search_name,
        now
    ];
    match binding {
        Binding::Existing(id) | Binding::Conflict(id) => Ok(id),
        Binding::Correct(id) => {
            let mut values: Vec<&dyn rusqlite::ToSql> = identity.to_vec();
            values.push(&id);
            update.execute(&values[..])?;
            Ok(id)
        }
        Binding::New => {
            insert.execute(identity)?;
            Ok(conn.last_insert_rowid())
        }
    }
}

/// Where a declaration came from, as stored with a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Form,
    Import,
}

/// Records a declaration that was not applied to person `person`.
pub(crate) fn record_conflict(
    conn: &Connection,
    person: i64,
    establishment: i64,
    w: &Worker,
    source: Source,
    by: &str,
    now: &str,
) -> Result<i64> {
    conn.prepare_cached(INSERT_CONFLICT)?.execute(params![
        person,
        establishment,
        w.last_name,
        w.other_name,
        w.first_name,
        w.other_first_names,
        w.birth_date.map(crate::date::iso),
        match source {
            Source::Form => "form",
            Source::Import => "import",
        },
        by,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// An identity conflict, for the operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityConflict {
    /// Its id.
    pub id: i64,
    /// The person's id.
    pub person_id: i64,
    /// The person's NIR, masked (sex digit and key).
    pub nir_masked: String,
    /// The identity the registry holds: `LAST First (born aaaa-mm-jj)`.
    pub known: String,
    /// The establishment that declared the other identity.
    pub establishment: i64,
    /// The identity it declared, same form.
    pub declared: String,
    /// `form`, `import` or `migration`.
    pub source: String,
    /// Who declared it.
    pub declared_by: String,
    /// When.
    pub declared_at: String,
}

fn identity(last: String, first: String, birth: Option<String>) -> String {
    match birth {
        Some(b) => format!("{last} {first} (né(e) le {b})"),
        None => format!("{last} {first}"),
    }
}

/// The conflicts no operator has dealt with yet, oldest first.
pub(crate) fn open_conflicts(conn: &Connection) -> Result<Vec<IdentityConflict>> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.person_id, p.nir, p.nir_key, p.last_name, p.first_name, p.birth_date,
                c.establishment_id, c.last_name, c.first_name, c.birth_date, c.source,
                c.declared_by, c.declared_at
         FROM registry_identity_conflicts c JOIN registry_persons p ON p.id = c.person_id
         WHERE c.resolved_at IS NULL ORDER BY c.declared_at, c.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let nir: String = r.get(2)?;
        let key: String = r.get(3)?;
        let nir_masked = Nir::parse(&nir, &key)
            .map(|n| n.masked())
            .unwrap_or_else(|_| "NIR invalide en base".into());
        Ok(IdentityConflict {
            id: r.get(0)?,
            person_id: r.get(1)?,
            nir_masked,
            known: identity(r.get(4)?, r.get(5)?, r.get(6)?),
            establishment: r.get(7)?,
            declared: identity(r.get(8)?, r.get(9)?, r.get(10)?),
            source: r.get(11)?,
            declared_by: r.get(12)?,
            declared_at: r.get(13)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The person of employment `worker`.
pub(crate) fn person_of(conn: &Connection, worker: i64) -> Result<Option<i64>> {
    Ok(optional(
        conn.prepare_cached("SELECT person_id FROM registry_workers WHERE id = ?1")?
            .query_row(params![worker], |r| r.get(0)),
    )?
    .flatten())
}

/// Keeps the employment's current period in `registry_employment_periods` before the worker
/// comes back on the list (a new period then begins).
pub(crate) fn archive_period(conn: &Connection, worker: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO registry_employment_periods (worker_id, started_on, ended_on)
         SELECT id, employed_from, employed_to FROM registry_workers
         WHERE id = ?1 AND employed_from IS NOT NULL AND employed_to IS NOT NULL",
    )?
    .execute(params![worker])?;
    Ok(())
}
