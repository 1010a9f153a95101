//! SQL of a CSV import: prepared statements run for every line (find the NIR, then update or
//! insert), inside the caller's single transaction.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Statement};

use crate::storage::{conflict, reserve_card_numbers, Conflict};
use crate::storage_workers::{self, INSERT, UPDATE};
use crate::text::fold;
use crate::worker::{Columns, Worker};
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
    /// The same, by the name as the file spells it: most lines repeat a few fractions, and
    /// folding each line's again would cost the writing thread.
    spelt: HashMap<String, i64>,
    /// True when the establishment had no worker before the import: every line is then an
    /// insert (the file's own duplicates are caught before), and the lookup by NIR is skipped.
    empty: bool,
    /// Highest card number the file gave, to move the sequence past it.
    max_card: i64,
    /// The connection's page cache size before the import, put back on drop.
    cache_size: i64,
    created: u64,
    updated: u64,
    unchanged: u64,
    pub(crate) fractions_created: u64,
}

impl Drop for Importer<'_> {
    fn drop(&mut self) {
        // Best effort: a connection whose cache stays large only costs memory.
        let _ = self
            .conn
            .execute_batch(&format!("PRAGMA cache_size = {}", self.cache_size));
    }
}

impl<'c> Importer<'c> {
    pub(crate) fn new(conn: &'c Connection, establishment: i64, now: String) -> Result<Self> {
        // A large list does not fit SQLite's default 2 MB page cache: without room, dirty pages
        // are spilled to the WAL and read back at every other line. Put back on drop.
        let cache_size: i64 = conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        conn.execute_batch("PRAGMA cache_size = -262144")?;
        let mut fractions = HashMap::new();
        {
            let mut stmt = conn.prepare(
                "SELECT name_key, id FROM registry_fractions WHERE establishment_id = ?1",
            )?;
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
                "SELECT id, removed_at IS NOT NULL, nir_key, card_number, last_name, other_name,
                        first_name, other_first_names, birth_date, fraction_id, category, job,
                        radiological_hazard, contract_type, work_fraction_pm, activity_character,
                        domain, sector, search_name, search_other
                 FROM registry_workers WHERE establishment_id = ?1 AND nir = ?2",
            )?,
            insert: conn.prepare(INSERT)?,
            update: conn.prepare(UPDATE)?,
            create_fraction: conn.prepare(
                "INSERT INTO registry_fractions (establishment_id, name, name_key, created_at)
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )?,
            fractions,
            spelt: HashMap::new(),
            empty: conn
                .query_row(
                    "SELECT 1 FROM registry_workers WHERE establishment_id = ?1 LIMIT 1",
                    [establishment],
                    |_| Ok(()),
                )
                .optional()?
                .is_none(),
            max_card: 0,
            cache_size,
            created: 0,
            updated: 0,
            unchanged: 0,
            fractions_created: 0,
        })
    }

    fn fraction_id(&mut self, name: &str) -> Result<i64> {
        if let Some(id) = self.spelt.get(name) {
            return Ok(*id);
        }
        let key = fold(name);
        if let Some(id) = self.fractions.get(&key) {
            self.spelt.insert(name.to_owned(), *id);
            return Ok(*id);
        }
        let id: i64 = self.create_fraction.query_row(
            rusqlite::params![self.establishment, name, key, self.now],
            |r| r.get(0),
        )?;
        self.fractions.insert(key, id);
        self.spelt.insert(name.to_owned(), id);
        self.fractions_created += 1;
        Ok(id)
    }

    /// Adds or replaces the worker of this NIR. `Ok(Err(_))` is a line the file got wrong (a card
    /// number another worker holds); `Err(_)` a failure of the database.
    pub(crate) fn upsert(&mut self, w: &Worker, columns: &Columns) -> Result<Result<(), Conflict>> {
        let fraction = match &w.fraction {
            Some(name) => Some(self.fraction_id(name)?),
            None => None,
        };
        if let Some(card) = &w.card_number {
            self.max_card = self.max_card.max(card.sequence());
        }
        let existing: Option<(i64, bool)> = if self.empty {
            None
        } else {
            self.find
                .query_row(rusqlite::params![self.establishment, w.nir.as_str()], |r| {
                    Ok((r.get(0)?, same(r, w, columns, fraction)?))
                })
                .optional()?
        };
        // A line identical to what is stored (a list sent again) writes nothing.
        if let Some((_, true)) = existing {
            self.updated += 1;
            self.unchanged += 1;
            return Ok(Ok(()));
        }
        let existing = existing.map(|(id, _)| id);
        let written = match existing {
            Some(id) => {
                storage_workers::write(&mut self.update, id, w, columns, fraction, &self.now)
            }
            None => storage_workers::write(
                &mut self.insert,
                self.establishment,
                w,
                columns,
                fraction,
                &self.now,
            ),
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
    /// created, updated, and (among the updated) left as they were.
    pub(crate) fn finish(&self) -> Result<(u64, u64, u64)> {
        if self.max_card > 0 {
            reserve_card_numbers(self.conn, self.max_card)?;
        }
        Ok((self.created, self.updated, self.unchanged))
    }
}

/// Whether the row read by `find` (on the list, not removed) already holds exactly this line.
/// An empty card number keeps the stored one, so it matches any.
fn same(
    r: &rusqlite::Row<'_>,
    w: &Worker,
    columns: &Columns,
    fraction: Option<i64>,
) -> rusqlite::Result<bool> {
    let text = |i: usize, v: Option<&str>| -> rusqlite::Result<bool> {
        Ok(r.get_ref(i)?.as_str_or_null()? == v)
    };
    let int = |i: usize, v: Option<i64>| -> rusqlite::Result<bool> {
        Ok(r.get::<_, Option<i64>>(i)? == v)
    };
    let removed: bool = r.get(1)?;
    Ok(!removed
        && text(2, Some(w.nir.key()))?
        && (w.card_number.is_none() || text(3, w.card_number.as_ref().map(|c| c.as_str()))?)
        && text(4, Some(&w.last_name))?
        && text(5, w.other_name.as_deref())?
        && text(6, Some(&w.first_name))?
        && text(7, w.other_first_names.as_deref())?
        && text(8, columns.birth_date.as_deref())?
        && int(9, fraction)?
        && text(10, w.category.map(|c| c.code()))?
        && text(11, w.job.as_deref())?
        && text(12, w.radiological_hazard.as_deref())?
        && text(13, w.contract_type.map(|c| c.code()))?
        && int(14, w.work_fraction.map(|q| i64::from(q.per_mille())))?
        && text(15, w.activity_character.map(|a| a.code()))?
        && text(16, w.domain.as_deref())?
        && text(17, w.sector.as_deref())?
        && text(18, Some(&columns.search_name))?
        && text(19, columns.search_other.as_deref())?)
}
