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
    background_checkpoints: bool,
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
            background_checkpoints: false,
        }
    }

    /// The same pool, whose connections leave checkpoints (copying the WAL's pages back into the
    /// database file) to [`Pool::checkpoint`], which the daemon calls on a thread of its own.
    /// Otherwise the commit that grows the WAL past 1,000 pages does it, in the middle of a
    /// request: seconds, after a million-line import. SQLite's documentation suggests this
    /// arrangement for servers.
    pub fn with_background_checkpoints(mut self) -> Self {
        self.background_checkpoints = true;
        self
    }

    /// Copies into the database file what the WAL holds that no reader still needs, without
    /// waiting for anyone (`PASSIVE`). Returns the WAL's size and how much of it is copied, in
    /// pages.
    pub fn checkpoint(&self) -> Result<(i64, i64)> {
        let conn = self.get()?;
        Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })?)
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
            None => {
                let conn = open(&self.path)?;
                if self.background_checkpoints {
                    conn.execute_batch("PRAGMA wal_autocheckpoint = 0")?;
                }
                conn
            }
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }
}

/// Opens a connection with the pragmas every component relies on. `secure_delete` overwrites
/// erased content (a withdrawn `.p12`, a delivered e-mail's codes) instead of leaving it in free
/// pages of the file. `journal_size_limit`: once checkpointed, a WAL that a large import grew to
/// hundreds of megabytes is cut back to 64 MiB when writing starts over at its beginning.
pub fn open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON; PRAGMA journal_size_limit = 67108864;",
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
