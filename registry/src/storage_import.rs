//! SQL of a CSV import: one prepared upsert run for every line, inside the caller's single
//! transaction.

use std::collections::HashMap;

use rusqlite::{Connection, Statement};

use crate::storage::{conflict, reserve_card_numbers, Conflict};
use crate::storage_workers::{self, UPSERT};
use crate::text::fold;
use crate::worker::Worker;
use crate::Result;

/// Writes the lines of one import.
pub(crate) struct Importer<'c> {
    conn: &'c Connection,
    establishment: i64,
    now: String,
    upsert: Statement<'c>,
    create_fraction: Statement<'c>,
    /// Folded name → id: the establishment's fractions, and those the file created.
    fractions: HashMap<String, i64>,
    /// Rows above this id were created by the import.
    max_id_before: i64,
    /// Highest card number the file gave, to move the sequence past it.
    max_card: i64,
    pub(crate) created: u64,
    pub(crate) updated: u64,
    pub(crate) fractions_created: u64,
}

impl<'c> Importer<'c> {
    pub(crate) fn new(conn: &'c Connection, establishment: i64, now: String) -> Result<Self> {
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
            upsert: conn.prepare(UPSERT)?,
            create_fraction: conn.prepare(
                "INSERT INTO registry_fractions (establishment_id, name, name_key, created_at)
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )?,
            fractions,
            max_id_before: storage_workers::max_id(conn)?,
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
        match storage_workers::upsert(&mut self.upsert, self.establishment, w, fraction, &self.now) {
            Ok(id) if id > self.max_id_before => self.created += 1,
            Ok(_) => self.updated += 1,
            Err(e) => match conflict(&e) {
                Some(c) => return Ok(Err(c)),
                None => return Err(e.into()),
            },
        }
        Ok(Ok(()))
    }

    /// Moves the card sequence past the numbers the file gave.
    pub(crate) fn finish(self) -> Result<()> {
        if self.max_card > 0 {
            reserve_card_numbers(self.conn, self.max_card)?;
        }
        Ok(())
    }
}
