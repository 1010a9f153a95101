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
    /// [`Pool::checkpoint`]'s own connection, which never waits for a lock.
    checkpointer: Mutex<Option<Connection>>,
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
            checkpointer: Mutex::new(None),
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
    /// waiting for anyone (`PASSIVE`); then, when everything was copied, empties the WAL file
    /// (`TRUNCATE`), if no one is reading or writing at that moment. Returns the WAL's size and
    /// how much of it is copied, in pages.
    ///
    /// Why empty it: erasing a row (a delivered e-mail's codes, a withdrawn `.p12`) overwrites
    /// it in the database file (`secure_delete`), but the WAL still holds the pages as they
    /// were before, until later writes happen to reuse its frames; a WAL that never shrinks
    /// keeps them for ever. Cut to zero bytes, it keeps nothing. The truncation never waits
    /// (this connection has no busy timeout): when a reader or a writer is there, it is not
    /// done this time, and the next call, a second later on the daemon, tries again. It takes
    /// the write lock only for the truncation itself, the pages being copied already.
    pub fn checkpoint(&self) -> Result<(i64, i64)> {
        let mut slot = self.checkpointer.lock().unwrap_or_else(|p| p.into_inner());
        let conn = match slot.take() {
            Some(conn) => conn,
            None => {
                let conn = open(&self.path)?;
                conn.busy_timeout(Duration::ZERO)?;
                conn
            }
        };
        let (log, copied) = wal_checkpoint(&conn, "PASSIVE")?;
        let done = if log > 0 && copied == log {
            wal_checkpoint(&conn, "TRUNCATE")?
        } else {
            (log, copied)
        };
        *slot = Some(conn);
        Ok(done)
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

/// Pragmas of a connection changed for one piece of work (a larger page cache for an import),
/// put back as they were when this is dropped: a pooled connection goes back to the pool as it
/// came out of it. [`Pragmas::remember`] reads their values; the caller then sets what it needs.
#[derive(Debug)]
pub struct Pragmas<'c> {
    conn: &'c Connection,
    before: Vec<(&'static str, i64)>,
}

impl<'c> Pragmas<'c> {
    /// Remembers the integer pragmas `names` of `conn` (e.g. `cache_size`, `temp_store`,
    /// `threads`), to set them back on drop.
    pub fn remember(conn: &'c Connection, names: &[&'static str]) -> Result<Self> {
        let mut before = Vec::with_capacity(names.len());
        for &name in names {
            let value: i64 = conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))?;
            before.push((name, value));
        }
        Ok(Self { conn, before })
    }
}

impl Drop for Pragmas<'_> {
    fn drop(&mut self) {
        // Best effort: a connection left with a larger cache only costs memory. (SQLite refuses
        // `temp_store` inside a transaction; the callers drop this after theirs ends.)
        for (name, value) in &self.before {
            let _ = self.conn.execute_batch(&format!("PRAGMA {name} = {value}"));
        }
    }
}

/// `PRAGMA wal_checkpoint(mode)`: the WAL's size and how much of it is copied, in pages (both
/// -1 when the database is not in WAL mode). A checkpoint that could not complete is no error.
fn wal_checkpoint(conn: &Connection, mode: &str) -> Result<(i64, i64)> {
    Ok(
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok((r.get(1)?, r.get(2)?))
        })?,
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"mot de passe du .p12 : Zx81-pQr7-Lm02";

    struct Db {
        _dir: tempfile::TempDir,
        pool: Pool,
    }

    impl Db {
        fn new() -> Self {
            let dir = tempfile::tempdir().expect("tempdir failed");
            let path = dir.path().join("siseri.db");
            open(&path)
                .expect("open failed")
                .execute_batch("CREATE TABLE outbox (id INTEGER PRIMARY KEY, body TEXT)")
                .expect("create failed");
            let pool = Pool::new(&path, 2).with_background_checkpoints();
            Self { _dir: dir, pool }
        }

        fn wal(&self) -> Vec<u8> {
            std::fs::read(self.pool.path().with_extension("db-wal")).unwrap_or_default()
        }

        /// The bytes of the database file and its WAL.
        fn files(&self) -> Vec<u8> {
            let mut bytes = std::fs::read(self.pool.path()).expect("read failed");
            bytes.extend(self.wal());
            bytes
        }

        fn holds_secret(&self) -> bool {
            self.files().windows(SECRET.len()).any(|w| w == SECRET)
        }

        /// A message queued, delivered to the next checkpoint, then erased.
        fn queue_and_erase(&self) {
            let conn = self.pool.get().expect("get failed");
            conn.execute(
                "INSERT INTO outbox (body) VALUES (?1)",
                [String::from_utf8_lossy(SECRET)],
            )
            .expect("insert failed");
            self.pool.checkpoint().expect("checkpoint failed");
            assert!(
                self.holds_secret(),
                "the test needs the secret on disk first"
            );
            conn.execute("UPDATE outbox SET body = NULL", [])
                .expect("update failed");
        }
    }

    #[test]
    fn an_erased_value_is_in_no_file_after_the_next_checkpoint() {
        let db = Db::new();
        db.queue_and_erase();
        assert!(db.holds_secret(), "the WAL keeps the page as it was");
        db.pool.checkpoint().expect("checkpoint failed");
        assert!(db.wal().is_empty(), "the WAL was not emptied");
        assert!(!db.holds_secret(), "the erased value is still on disk");
    }

    #[test]
    fn a_reader_delays_the_truncation_without_being_waited_for() {
        let db = Db::new();
        db.queue_and_erase();
        let reader = open(db.pool.path()).expect("open failed");
        reader.execute_batch("BEGIN").expect("begin failed");
        let _: i64 = reader
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))
            .expect("select failed");
        let started = std::time::Instant::now();
        db.pool.checkpoint().expect("checkpoint failed");
        // Far below the pool's 30-second busy timeout: nobody was waited for.
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!db.wal().is_empty(), "truncated under a reader");
        reader.execute_batch("COMMIT").expect("commit failed");
        db.pool.checkpoint().expect("checkpoint failed");
        assert!(
            db.wal().is_empty(),
            "the next checkpoint did not empty the WAL"
        );
        assert!(!db.holds_secret());
    }

    #[test]
    fn pragmas_changed_for_one_piece_of_work_are_put_back_when_dropped() {
        let db = Db::new();
        let conn = db.pool.get().expect("get failed");
        let read = |name: &str| -> i64 {
            conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
                .expect("pragma failed")
        };
        let (cache, temp) = (read("cache_size"), read("temp_store"));
        {
            let _kept = Pragmas::remember(&conn, &["cache_size", "temp_store"]).expect("remember");
            conn.execute_batch("PRAGMA cache_size = -16384; PRAGMA temp_store = MEMORY")
                .expect("set failed");
            assert_eq!((read("cache_size"), read("temp_store")), (-16384, 2));
        }
        assert_eq!((read("cache_size"), read("temp_store")), (cache, temp));
        assert_ne!(cache, -16384);
    }
}
