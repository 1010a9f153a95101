//! Opening the one SQLite database, and applying every component's migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::AppError;

/// Opens `path` in WAL mode with a busy timeout, and applies pending migrations of every
/// component. WAL with `synchronous = NORMAL` loses nothing when the process dies; only a power
/// cut can lose the last commits, never corrupt the file.
pub fn open(path: &Path) -> Result<Connection, AppError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    ca::migrations::apply(&mut conn)?;
    store::migrate::apply(&mut conn, "enroll", enroll::migrations::MIGRATIONS)?;
    store::migrate::apply(&mut conn, "registry", registry::migrations::MIGRATIONS)?;
    Ok(conn)
}

/// Opens `path` without migrating, for the daemon's request handlers.
pub fn open_existing(path: &Path) -> Result<Connection, AppError> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;")?;
    Ok(conn)
}

/// The schema this binary knows: for each component, the last migration it ships.
pub fn known_schema() -> std::collections::BTreeMap<String, u32> {
    [
        ("store", store::migrate::MIGRATIONS),
        ("ca", ca::migrations::MIGRATIONS),
        ("enroll", enroll::migrations::MIGRATIONS),
        ("registry", registry::migrations::MIGRATIONS),
    ]
    .into_iter()
    .map(|(component, steps)| {
        let last = steps.iter().map(|m| m.version).max().unwrap_or(0);
        (component.to_owned(), last)
    })
    .collect()
}

/// The schema a database is at: for each component, the last migration it recorded.
pub fn schema_of(conn: &Connection) -> Result<std::collections::BTreeMap<String, u32>, AppError> {
    let mut stmt =
        conn.prepare("SELECT component, MAX(version) FROM schema_migrations GROUP BY component")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
