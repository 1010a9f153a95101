//! Schema migrations: each crate ships its own `.sql` files (its component) and the binary
//! applies them all to the one SQLite database at start-up, `store`'s first.

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::{Error, Result};

/// One schema step of one component.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Strictly increasing within a component.
    pub version: u32,
    /// File name, for the record.
    pub name: &'static str,
    /// The SQL to run once.
    pub sql: &'static str,
    /// A data step SQL cannot do (a key recomputed by Rust code), run once after `sql` in the
    /// same transaction.
    pub step: Option<Step>,
}

/// A migration's Rust-side data step: it reads and rewrites rows inside the migration's
/// transaction, and fails it by returning an error.
pub type Step = fn(&Transaction<'_>) -> Result<()>;

/// A component's migrations from its `migrations/` folder (beside `src/`), in order:
/// `migrations![1 => "0001_first.sql", 2 => "0002_second.sql" then path::to::step]`. The file is
/// read at compile time, relative to the file that invokes the macro; `then` names a
/// [`Step`] run after the file's SQL.
#[macro_export]
macro_rules! migrations {
    (@step) => { None };
    (@step $step:path) => { Some($step as $crate::migrate::Step) };
    ($($version:literal => $file:literal $(then $step:path)?),* $(,)?) => {
        &[$($crate::migrate::Migration {
            version: $version,
            name: $file,
            sql: include_str!(concat!("../migrations/", $file)),
            step: $crate::migrations!(@step $($step)?),
        }),*]
    };
}

/// The migrations of this crate's own component, `store`: the audit log shared by every
/// component. Data directories created before this crate existed got the same table from the
/// CA's step 2; the step is written to be a no-op there (`IF NOT EXISTS`).
pub const MIGRATIONS: &[Migration] = crate::migrations![1 => "0001_audit_log.sql"];

/// Applies, in order and each in its own immediate transaction, the migrations of `component`
/// not yet recorded. Safe to run from several processes at once.
///
/// Foreign keys are off while the steps run: a step may rebuild a table (SQLite's documented
/// procedure for the changes `ALTER TABLE` cannot make: create the new table, copy, drop the old
/// one, rename), and dropping a parent table with foreign keys on would delete or refuse its
/// children. The pragma is a no-op inside a transaction, hence around them; each step is then
/// checked with `PRAGMA foreign_key_check` before it commits.
pub fn apply(conn: &mut Connection, component: &str, migrations: &[Migration]) -> Result<usize> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             component  TEXT NOT NULL,
             version    INTEGER NOT NULL,
             name       TEXT NOT NULL,
             applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
             PRIMARY KEY (component, version)
         ) STRICT;",
    )?;
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let applied = apply_steps(conn, component, migrations);
    conn.execute_batch(if foreign_keys {
        "PRAGMA foreign_keys = ON"
    } else {
        "PRAGMA foreign_keys = OFF"
    })?;
    applied
}

fn apply_steps(conn: &mut Connection, component: &str, migrations: &[Migration]) -> Result<usize> {
    // An existing database being brought up to date (not a new one): each step is told, as a
    // step may rebuild a table of millions of rows while the service waits.
    let upgrading: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE component = ?1)",
        [component],
        |r| r.get(0),
    )?;
    let mut applied = 0;
    for m in migrations {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: Option<i64> = tx
            .query_row(
                "SELECT version FROM schema_migrations WHERE component = ?1 AND version = ?2",
                params![component, m.version],
                |r| r.get(0),
            )
            .optional()?;
        let ran = done.is_none();
        let started = std::time::Instant::now();
        if ran {
            if upgrading {
                tracing::info!(
                    component,
                    migration = m.name,
                    "mise à jour du schéma : en cours"
                );
            }
            tx.execute_batch(m.sql)?;
            if let Some(step) = m.step {
                step(&tx)?;
            }
            let broken: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .optional()?;
            if let Some(table) = broken {
                return Err(Error::MigrationForeignKeys(m.name.to_owned(), table));
            }
            tx.execute(
                "INSERT INTO schema_migrations (component, version, name) VALUES (?1, ?2, ?3)",
                params![component, m.version, m.name],
            )?;
            applied += 1;
        }
        tx.commit()?;
        if ran && upgrading {
            tracing::info!(
                component,
                migration = m.name,
                seconds = started.elapsed().as_secs(),
                "mise à jour du schéma : faite"
            );
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper_names(tx: &Transaction<'_>) -> Result<()> {
        let names: Vec<(i64, String)> = tx
            .prepare("SELECT id, name FROM t")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, name) in names {
            tx.execute(
                "UPDATE t SET name = ?2 WHERE id = ?1",
                params![id, crate::text::fold(&name)],
            )?;
        }
        Ok(())
    }

    #[test]
    fn a_rust_step_runs_once_after_its_sql() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = [
            Migration {
                version: 1,
                name: "0001_t.sql",
                sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                      INSERT INTO t (name) VALUES ('Hélène');",
                step: None,
            },
            Migration {
                version: 2,
                name: "0002_fold.sql",
                sql: "INSERT INTO t (name) VALUES ('Muñoz');",
                step: Some(upper_names),
            },
        ];
        assert_eq!(apply(&mut conn, "test", &steps).unwrap(), 2);
        conn.execute("INSERT INTO t (name) VALUES ('later')", [])
            .unwrap();
        assert_eq!(apply(&mut conn, "test", &steps).unwrap(), 0);
        let names: Vec<String> = conn
            .prepare("SELECT name FROM t ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(names, ["HELENE", "MUNOZ", "later"]);
    }

    /// What `f` logs, as text.
    fn logged(f: impl FnOnce()) -> String {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn each_step_brought_to_an_existing_database_is_told_and_a_new_one_is_quiet() {
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = [
            Migration {
                version: 1,
                name: "0001_t.sql",
                sql: "CREATE TABLE t (id INTEGER PRIMARY KEY);",
                step: None,
            },
            Migration {
                version: 2,
                name: "0002_u.sql",
                sql: "CREATE TABLE u (id INTEGER PRIMARY KEY);",
                step: None,
            },
        ];
        let new = logged(|| assert_eq!(apply(&mut conn, "test", &steps[..1]).unwrap(), 1));
        assert_eq!(new, "");
        let upgrade = logged(|| assert_eq!(apply(&mut conn, "test", &steps).unwrap(), 1));
        assert!(
            upgrade.contains("en cours") && upgrade.contains("faite"),
            "{upgrade}"
        );
        assert!(
            upgrade.contains("0002_u.sql") && !upgrade.contains("0001_t.sql"),
            "{upgrade}"
        );
        let again = logged(|| assert_eq!(apply(&mut conn, "test", &steps).unwrap(), 0));
        assert_eq!(again, "");
    }

    #[test]
    fn a_failing_rust_step_leaves_its_migration_unrecorded() {
        fn fail(_: &Transaction<'_>) -> Result<()> {
            Err(Error::Random)
        }
        let mut conn = Connection::open_in_memory().unwrap();
        let steps = [Migration {
            version: 1,
            name: "0001_t.sql",
            sql: "CREATE TABLE t (id INTEGER PRIMARY KEY);",
            step: Some(fail),
        }];
        assert!(apply(&mut conn, "test", &steps).is_err());
        let recorded: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(recorded, 0);
        let table: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 't'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(table, 0, "the step's SQL is rolled back with it");
    }
}
