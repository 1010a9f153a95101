//! SQL of a CSV import: prepared statements run for every line (find the NIR, then update or
//! insert), inside the caller's single transaction.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Statement};

use crate::storage::{conflict, reserve_card_numbers, Conflict};
use crate::storage_workers::{self, INSERT, UPDATE};
use crate::text::fold;
use crate::worker::Worker;
use crate::Result;

/// Writes the lines of one import.
pub(crate) struct Importer<'c> {
    conn: &'c Connection,
    establishment: i64,
    now: String,
    find: Statement<'c>,
    insert: Statement<'c>,
    update: Statement<'c>,
    create_fraction: Statement<'c>,
    /// Folded name → id: the establishment's fractions, and those the file created.
    fractions: HashMap<String, i64>,
    /// True when the establishment had no worker before the import: every line is then an
    /// insert (the file's own duplicates are caught before), and the lookup by NIR is skipped.
    empty: bool,
    /// Highest card number the file gave, to move the sequence past it.
    max_card: i64,
    created: u64,
    updated: u64,
    pub(crate) fractions_created: u64,
}

impl Drop for Importer<'_> {
    fn drop(&mut self) {
        // Best effort: a connection whose cache stays large only costs memory.
        let _ = self.conn.execute_batch("PRAGMA cache_size = -2000");
    }
}

impl<'c> Importer<'c> {
    pub(crate) fn new(conn: &'c Connection, establishment: i64, now: String) -> Result<Self> {
        // A large list does not fit SQLite's default 2 MB page cache: without room, dirty pages
        // are spilled to the WAL and read back at every other line. Put back on drop.
        conn.execute_batch("PRAGMA cache_size = -1048576")?;
        let mut fractions = HashMap::new();
        {
            let mut stmt = conn
                .prepare("SELECT name_key, id FROM registry_fractions WHERE establishment_id = ?1")?;
            let rows = stmt.query_map([establishment], |r| Ok((r.get(0)?, r.get(1)?)))?;
            for row in rows {
                let (key, id) = row?;
                fractions.insert(key, id);
            }
        }
        Ok(Self {
            conn,
            establishment,
            now,
            find: conn.prepare(
                "SELECT id FROM registry_workers WHERE establishment_id = ?1 AND nir = ?2",
            )?,
            insert: conn.prepare(INSERT)?,
            update: conn.prepare(UPDATE)?,
            create_fraction: conn.prepare(
                "INSERT INTO registry_fractions (establishment_id, name, name_key, created_at)
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )?,
            fractions,
            empty: conn
                .query_row(
                    "SELECT 1 FROM registry_workers WHERE establishment_id = ?1 LIMIT 1",
                    [establishment],
                    |_| Ok(()),
                )
                .optional()?
                .is_none(),
            max_card: 0,
            created: 0,
            updated: 0,
            fractions_created: 0,
        })
    }

    fn fraction_id(&mut self, name: &str) -> Result<i64> {
        let key = fold(name);
        if let Some(id) = self.fractions.get(&key) {
            return Ok(*id);
        }
        let id: i64 = self.create_fraction.query_row(
            rusqlite::params![self.establishment, name, key, self.now],
            |r| r.get(0),
        )?;
        self.fractions.insert(key, id);
        self.fractions_created += 1;
        Ok(id)
    }

    /// Adds or replaces the worker of this NIR. `Ok(Err(_))` is a line the file got wrong (a card
    /// number another worker holds); `Err(_)` a failure of the database.
    pub(crate) fn upsert(&mut self, w: &Worker) -> Result<Result<(), Conflict>> {
        let fraction = match &w.fraction {
            Some(name) => Some(self.fraction_id(name)?),
            None => None,
        };
        if let Some(card) = &w.card_number {
            self.max_card = self.max_card.max(card.sequence());
        }
        let existing: Option<i64> = if self.empty {
            None
        } else {
            self.find
                .query_row(rusqlite::params![self.establishment, w.nir.as_str()], |r| r.get(0))
                .optional()?
        };
        let written = match existing {
            Some(id) => storage_workers::write(&mut self.update, id, w, fraction, &self.now),
            None => storage_workers::write(&mut self.insert, self.establishment, w, fraction, &self.now),
        };
        match written {
            Ok(()) if existing.is_some() => self.updated += 1,
            Ok(()) => self.created += 1,
            Err(e) => {
                return match conflict(&e) {
                    Some(c) => Ok(Err(c)),
                    None => Err(e.into()),
                }
            }
        }
        Ok(Ok(()))
    }

    /// Moves the card sequence past the numbers the file gave; returns how many workers were
    /// created and how many updated.
    pub(crate) fn finish(self) -> Result<(u64, u64)> {
        if self.max_card > 0 {
            reserve_card_numbers(self.conn, self.max_card)?;
        }
        Ok((self.created, self.updated))
    }
}
