//! A small pool of SQLite connections for the daemon's blocking tasks. Connections are cheap to
//! open but not free (pragmas, prepared statements cache); a handful reused is enough, as
//! SQLite serialises writers anyway. r2d2 would bring a thread pool and timeouts we don't need.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::Connection;

use crate::Result;

/// Connections to one database file.
#[derive(Debug)]
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    max_idle: usize,
}

/// A connection borrowed from the pool; returned to it when dropped.
#[derive(Debug)]
pub struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
}

impl Pool {
    /// A pool over `path`, which must already exist and be migrated.
    pub fn new(path: impl AsRef<Path>, max_idle: usize) -> Self {
        Self {
            path: path.as_ref().to_owned(),
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A connection: an idle one, or a new one.
    pub fn get(&self) -> Result<Pooled<'_>> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => open(&self.path)?,
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }
}

/// Opens a connection with the pragmas every component relies on. `secure_delete` overwrites
/// erased content (a withdrawn `.p12`, a delivered e-mail's codes) instead of leaving it in free
/// pages of the file.
pub fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )?;
    Ok(conn)
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Invariant: `conn` is only taken in `drop`.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A connection left inside a transaction (a panic mid-way) is not reused.
            if !conn.is_autocommit() {
                return;
            }
            let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < self.pool.max_idle {
                idle.push(conn);
            }
        }
    }
}
