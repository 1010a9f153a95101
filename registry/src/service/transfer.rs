//! *Importer une liste*, *Exporter la liste*: the workers list as a CSV file.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::io::{Read, Write};

use super::Registry;
use crate::csv_format::{ImportReport, ImportSummary, Line, Reader, Writer};
use crate::policy::{Action, DataKind};
use crate::principal::Principal;
use crate::storage::Conflict;
use crate::storage_import::Importer;
use crate::worker::input::Field;
use crate::worker::{Worker, WorkerRef};
use crate::{storage_workers, RegistryError, Result};

const CARD_TAKEN: &str =
    "Ce numéro de carte de suivi médical est déjà attribué à un autre travailleur de l'établissement.";

impl Registry {
    /// Imports a CSV file into the establishment's list (CSE). Every line is validated; any error
    /// and nothing is imported, the report giving each line's problems in French
    /// ([`RegistryError::ImportRejected`]). Otherwise all lines are written in one transaction:
    /// a NIR already in the establishment has its line replaced (and is put back on the list if
    /// it had been removed; an empty card number keeps the card it has), a new NIR is added,
    /// fractions the file names that do not exist are created. Workers absent from the file are
    /// left as they are.
    pub fn import_workers<R: Read>(&self, who: &Principal, establishment: i64, input: R) -> Result<ImportSummary> {
        self.run(who, establishment, &[DataKind::AdminComplete], Action::Write, |ctx| {
            let mut reader = match Reader::open(input, ctx.today())? {
                Ok(reader) => reader,
                Err(report) => return Err(RegistryError::ImportRejected(report)),
            };
            let mut importer = Importer::new(ctx.tx, ctx.establishment, ctx.stamp())?;
            let mut report = ImportReport::default();
            let mut nirs: HashMap<[u8; 13], u64> = HashMap::new();
            let mut cards: HashMap<i64, u64> = HashMap::new();
            let mut lines = 0_u64;
            while let Some(line) = reader.next_line()? {
                lines += 1;
                let (n, worker) = match line {
                    Line::Invalid(n, problems) => {
                        for (field, message) in problems {
                            report.push(n, field, message);
                        }
                        continue;
                    }
                    Line::Worker(n, worker) => (n, worker),
                };
                if !unique_in_file(&worker, n, &mut nirs, &mut cards, &mut report) {
                    continue;
                }
                if report.is_empty() {
                    match importer.upsert(&worker)? {
                        Ok(()) => {}
                        Err(Conflict::Card) => report.push(n, Some(Field::CardNumber), CARD_TAKEN),
                        Err(_) => report.push(n, Some(Field::Nir), RegistryError::DuplicateNir.to_string()),
                    }
                } else if card_taken(ctx.tx, ctx.establishment, &worker)? {
                    // Nothing will be written: check what the upsert would have refused.
                    report.push(n, Some(Field::CardNumber), CARD_TAKEN);
                }
            }
            let sha256 = reader.finish()?;
            if !report.is_empty() {
                return Err(RegistryError::ImportRejected(report));
            }
            let summary = ImportSummary {
                lines,
                created: importer.created,
                updated: importer.updated,
                fractions_created: importer.fractions_created,
                sha256,
            };
            importer.finish()?;
            ctx.audit(
                "registry.workers.import",
                &format!("establishment:{establishment}"),
                &[
                    ("lines", &summary.lines.to_string()),
                    ("created", &summary.created.to_string()),
                    ("updated", &summary.updated.to_string()),
                    ("fractions_created", &summary.fractions_created.to_string()),
                    ("sha256", &summary.sha256),
                ],
            )?;
            Ok(summary)
        })
    }

    /// Writes the establishment's list (workers not removed, in name order) as a CSV file (CSE):
    /// BOM, header, one line per worker. Returns the number of workers written. The export is
    /// recorded in the audit log before the first byte leaves, and read from one consistent
    /// snapshot without holding the write lock.
    pub fn export_workers<W: Write>(&self, who: &Principal, establishment: i64, out: W) -> Result<u64> {
        self.run(who, establishment, &[DataKind::AdminComplete], Action::Read, |ctx| {
            ctx.audit("registry.workers.export", &format!("establishment:{establishment}"), &[])
        })?;
        let mut conn = self.pool.get()?;
        let snapshot = conn.transaction()?;
        let mut writer = Writer::start(out)?;
        let count = storage_workers::for_each(&snapshot, establishment, |record| {
            Ok(writer.write(&record.worker)?)
        })?;
        writer.finish()?;
        snapshot.commit()?;
        Ok(count)
    }
}

/// The same NIR or card number twice in one file is a mistake in the file.
fn unique_in_file(
    w: &Worker,
    line: u64,
    nirs: &mut HashMap<[u8; 13], u64>,
    cards: &mut HashMap<i64, u64>,
    report: &mut ImportReport,
) -> bool {
    let mut unique = true;
    let mut nir = [0_u8; 13];
    nir.copy_from_slice(w.nir.as_str().as_bytes());
    match nirs.entry(nir) {
        Entry::Occupied(first) => {
            report.push(line, Some(Field::Nir), format!("Ce NIR figure déjà à la ligne {}.", first.get()));
            unique = false;
        }
        Entry::Vacant(slot) => {
            slot.insert(line);
        }
    }
    if let Some(card) = &w.card_number {
        match cards.entry(card.sequence()) {
            Entry::Occupied(first) => {
                report.push(
                    line,
                    Some(Field::CardNumber),
                    format!("Ce numéro de carte figure déjà à la ligne {}.", first.get()),
                );
                unique = false;
            }
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
    }
    unique
}

/// Whether the line's card number belongs to another worker (another NIR) of the establishment.
fn card_taken(conn: &rusqlite::Connection, establishment: i64, w: &Worker) -> Result<bool> {
    let Some(card) = &w.card_number else {
        return Ok(false);
    };
    let Some(holder) = storage_workers::card_holder(conn, establishment, card)? else {
        return Ok(false);
    };
    let same = storage_workers::find(conn, establishment, &WorkerRef::Nir(w.nir.clone()))?;
    Ok(same.map(|(id, _)| id) != Some(holder))
}
