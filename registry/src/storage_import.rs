//! SQL of a CSV import: prepared statements run for every line (find the NIR, then update or
//! insert), inside the caller's single transaction.
//!
//! A large list imported into an empty one is loaded the way bulk loaders do it: once the import
//! has written more rows than the whole table held, the list's indexes are dropped (inside the
//! transaction: a failure or a crash puts them back) and built again at the end, each from its
//! sorted keys. Kept up to date row by row, the index on the NIR alone would cost such an import
//! more than its rows, and a cache holding the whole index would cost hundreds of megabytes.
//! Uniqueness is not lost meanwhile: the file's own duplicates are found by the caller, the list
//! was empty, and the unique indexes are built back (and checked) before the commit.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Statement};

use crate::person::{self, Binding};
use crate::storage::{conflict, reserve_card_numbers, Conflict};
use crate::storage_persons;
use crate::storage_workers::{self, INSERT, UPDATE};
use crate::worker::{Columns, Worker};
use crate::Result;
use store::pool::Pragmas;
use store::text::fold;

/// The import connection's page cache, in KiB.
const IMPORT_CACHE_KIB: u32 = 16 * 1024;

/// The page cache while rows are appended with the indexes dropped, in KiB.
const BULK_CACHE_KIB: u32 = 2 * 1024;

/// Below this many rows, an import into an empty list keeps the indexes up to date as it goes.
const BULK_MIN: u64 = 10_000;

/// Writes the lines of one import.
pub(crate) struct Importer<'c> {
    conn: &'c Connection,
    establishment: i64,
    now: String,
    find: Statement<'c>,
    insert: Statement<'c>,
    update: Statement<'c>,
    create_fraction: Statement<'c>,
    person_by_nir: Statement<'c>,
    person_by_id: Statement<'c>,
    insert_person: Statement<'c>,
    update_person: Statement<'c>,
    /// Folded name → id: the establishment's fractions, and those the file created.
    fractions: HashMap<String, i64>,
    /// The same, by the name as the file spells it: most lines repeat a few fractions, and
    /// folding each line's again would cost the writing thread.
    spelt: HashMap<String, i64>,
    /// True when the establishment had no worker before the import: every line is then an
    /// insert (the file's own duplicates are caught before), and the lookup by NIR is skipped.
    empty: bool,
    /// Rows written with the indexes kept up to date; past them they are dropped (see the
    /// module's comment).
    bulk_after: u64,
    /// Once the indexes are dropped, the SQL that builds each back.
    dropped: Option<Vec<String>>,
    /// Highest card number the file gave, to move the sequence past it.
    max_card: i64,
    /// The connection's page cache size and sorting threads before the import, put back on drop.
    _kept: Pragmas<'c>,
    created: u64,
    updated: u64,
    unchanged: u64,
    pub(crate) fractions_created: u64,
}

impl<'c> Importer<'c> {
    pub(crate) fn new(conn: &'c Connection, establishment: i64, now: String) -> Result<Self> {
        // While the indexes are kept up to date, SQLite's default 2 MB page cache would spill
        // their dirty pages to the WAL and read them back at every other line; 16 MB also bounds
        // the memory the index builds' sorter takes before it spills to temporary files (see
        // `drop_indexes` for the cache while rows are only appended). Put back on drop.
        let kept = Pragmas::remember(conn, &["cache_size", "threads"])?;
        conn.execute_batch(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))?;
        // An upper bound of the table's rows, without counting them.
        let table_rows: i64 = conn.query_row(
            "SELECT coalesce(max(id), 0) FROM registry_workers",
            [],
            |r| r.get(0),
        )?;
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
                        domain, sector, search_name, search_other, person_id
                 FROM registry_workers WHERE establishment_id = ?1 AND nir = ?2",
            )?,
            person_by_nir: conn.prepare(storage_persons::FIND_BY_NIR)?,
            person_by_id: conn.prepare(storage_persons::FIND_BY_ID)?,
            insert_person: conn.prepare(storage_persons::INSERT)?,
            update_person: conn.prepare(storage_persons::UPDATE)?,
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
            bulk_after: BULK_MIN.max(u64::try_from(table_rows).unwrap_or(u64::MAX)),
            dropped: None,
            max_card: 0,
            _kept: kept,
            created: 0,
            updated: 0,
            unchanged: 0,
            fractions_created: 0,
        })
    }

    /// Whether the establishment had no worker before the import.
    pub(crate) fn was_empty(&self) -> bool {
        self.empty
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

    /// The person holding the line's NIR when the line contradicts their identity, known from
    /// another establishment ([`crate::person`]); reads only.
    pub(crate) fn identity_conflict(
        &mut self,
        w: &Worker,
        columns: &Columns,
    ) -> Result<Option<i64>> {
        let by_nir =
            storage_persons::find_by_nir(&mut self.person_by_nir, &w.nir, self.establishment)?;
        Ok(match by_nir {
            Some(p) if p.elsewhere && !person::same_identity(&p, columns) => Some(p.id),
            _ => None,
        })
    }

    /// Adds or replaces the worker of this NIR, employment of the person the NIR names. `Ok(Err(_))`
    /// is a line the file got wrong (a card number another worker holds, an identity that
    /// contradicts the person's); `Err(_)` a failure of the database.
    pub(crate) fn upsert(&mut self, w: &Worker, columns: &Columns) -> Result<Result<(), Conflict>> {
        let fraction = match &w.fraction {
            Some(name) => Some(self.fraction_id(name)?),
            None => None,
        };
        if let Some(card) = &w.card_number {
            self.max_card = self.max_card.max(card.sequence());
        }
        /// The row's id, whether the line is what it holds, whether it was removed, its person.
        type Found = (i64, bool, bool, Option<i64>);
        let existing: Option<Found> = if self.empty {
            None
        } else {
            self.find
                .query_row(rusqlite::params![self.establishment, w.nir.as_str()], |r| {
                    Ok((
                        r.get(0)?,
                        same(r, w, columns, fraction)?,
                        r.get(1)?,
                        r.get(20)?,
                    ))
                })
                .optional()?
        };
        // A line identical to what is stored (a list sent again) writes nothing.
        if let Some((_, true, _, _)) = existing {
            self.updated += 1;
            self.unchanged += 1;
            return Ok(Ok(()));
        }
        let by_nir =
            storage_persons::find_by_nir(&mut self.person_by_nir, &w.nir, self.establishment)?;
        let current = match existing.and_then(|(_, _, _, person)| person) {
            Some(id) => {
                storage_persons::find_by_id(&mut self.person_by_id, id, self.establishment)?
            }
            None => None,
        };
        let binding = person::bind(by_nir.as_ref(), current.as_ref(), columns);
        if let Binding::Conflict(person) = binding {
            return Ok(Err(Conflict::Identity(person)));
        }
        let person = storage_persons::apply(
            &mut self.insert_person,
            &mut self.update_person,
            self.conn,
            binding,
            w,
            columns,
            &self.now,
        )?;
        if let Some((id, _, true, _)) = existing {
            storage_persons::archive_period(self.conn, id)?;
        }
        let existing = existing.map(|(id, _, _, _)| id);
        let written = match existing {
            Some(id) => storage_workers::write(
                &mut self.update,
                id,
                person,
                w,
                columns,
                fraction,
                &self.now,
            ),
            None => storage_workers::write(
                &mut self.insert,
                self.establishment,
                person,
                w,
                columns,
                fraction,
                &self.now,
            ),
        };
        match written {
            Ok(()) if existing.is_some() => self.updated += 1,
            Ok(()) => {
                self.created += 1;
                if self.empty && self.dropped.is_none() && self.created > self.bulk_after {
                    self.drop_indexes()?;
                }
            }
            Err(e) => {
                return match conflict(&e) {
                    Some(c) => Ok(Err(c)),
                    None => Err(e.into()),
                }
            }
        }
        Ok(Ok(()))
    }

    /// Drops the list's indexes (all but the table's own rowid and the one to persons: each line
    /// asks whether its NIR's person is employed elsewhere, which without it would read the
    /// whole table; new persons only ever append to it), keeping the SQL that makes each: the schema is the one reference of what to build back. Kept up to date as rows
    /// come, even the index of fractions (where each row lands at the end of its fraction's
    /// range) cost the import more than building it at the end.
    fn drop_indexes(&mut self) -> Result<()> {
        let mut dropped = Vec::new();
        {
            let mut stmt = self.conn.prepare(
                "SELECT name, sql FROM sqlite_schema
                 WHERE type = 'index' AND tbl_name = 'registry_workers' AND sql IS NOT NULL
                   AND name <> 'registry_workers_person'
                 ORDER BY name",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            for row in rows {
                dropped.push(row?);
            }
        }
        for (name, _) in &dropped {
            self.conn
                .execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
        }
        self.dropped = Some(dropped.into_iter().map(|(_, sql)| sql).collect());
        // Rows now only go to the end of the table: a few pages suffice to fill them.
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = -{BULK_CACHE_KIB}"))?;
        Ok(())
    }

    /// Builds back the indexes [`Self::drop_indexes`] dropped, sorting with the spare cores.
    /// A unique index that finds two equal keys fails, and the import with it.
    fn build_indexes(&mut self) -> Result<()> {
        let Some(dropped) = self.dropped.take() else {
            return Ok(());
        };
        let spare = std::thread::available_parallelism().map_or(0, |n| n.get() - 1);
        // The sorter of each index build takes as much memory as the page cache may.
        self.conn.execute_batch(&format!(
            "PRAGMA threads = {}; PRAGMA cache_size = -{IMPORT_CACHE_KIB}",
            spare.min(4)
        ))?;
        for sql in &dropped {
            self.conn.execute_batch(sql)?;
        }
        Ok(())
    }

    /// Builds back dropped indexes, moves the card sequence past the numbers the file gave;
    /// returns how many workers were created, updated, and (among the updated) left as they
    /// were.
    pub(crate) fn finish(&mut self) -> Result<(u64, u64, u64)> {
        self.build_indexes()?;
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
