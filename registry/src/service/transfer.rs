//! *Importer une liste*, *Exporter la liste*: the workers list as a CSV file.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{self, Read, Write};
use std::sync::mpsc;

use super::{Ctx, Registry};
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
    ///
    /// Reading and checking the file runs on a second thread while this one writes, so that a
    /// million lines take seconds.
    pub fn import_workers<R: Read + Send>(
        &self,
        who: &Principal,
        establishment: i64,
        input: R,
    ) -> Result<ImportSummary> {
        self.run(
            who,
            establishment,
            &[DataKind::AdminComplete],
            Action::Write,
            |ctx| {
                let reader =
                    match Reader::open(input, ctx.today()).map_err(RegistryError::ImportRead)? {
                        Ok(reader) => reader,
                        Err(report) => return Err(RegistryError::ImportRejected(report)),
                    };
                let mut importer = Importer::new(ctx.tx, ctx.establishment, ctx.stamp())?;
                let mut report = ImportReport::default();
                let mut lines = 0_u64;
                let (sender, receiver) = mpsc::sync_channel::<Vec<Line>>(16);
                // Used batches go back to the reading thread to be freed where they were allocated.
                let (recycle, used) = mpsc::channel::<Vec<Line>>();
                let (written, parsed) = std::thread::scope(|scope| {
                    let parser = scope.spawn(move || parse(reader, &sender, &used));
                    let written = (|| -> Result<()> {
                        for batch in &receiver {
                            for line in &batch {
                                lines += 1;
                                write_line(ctx, &mut importer, &mut report, line)?;
                            }
                            // The reader may have finished: then this thread frees the batch.
                            let _ = recycle.send(batch);
                        }
                        Ok(())
                    })();
                    // Unblocks the parser if writing stopped early.
                    drop(receiver);
                    let parsed = parser.join().unwrap_or_else(|_| {
                        Err(io::Error::other("lecture du fichier interrompue"))
                    });
                    (written, parsed)
                });
                written?;
                let sha256 = parsed.map_err(RegistryError::ImportRead)?;
                if !report.is_empty() {
                    return Err(RegistryError::ImportRejected(report));
                }
                let fractions_created = importer.fractions_created;
                let (created, updated, unchanged) = importer.finish()?;
                drop(importer);
                let summary = ImportSummary {
                    lines,
                    created,
                    updated,
                    unchanged,
                    fractions_created,
                    sha256,
                };
                ctx.audit(
                    "registry.workers.import",
                    &format!("establishment:{establishment}"),
                    &[
                        ("lines", &summary.lines.to_string()),
                        ("created", &summary.created.to_string()),
                        ("updated", &summary.updated.to_string()),
                        ("unchanged", &summary.unchanged.to_string()),
                        ("fractions_created", &summary.fractions_created.to_string()),
                        ("sha256", &summary.sha256),
                    ],
                )?;
                Ok(summary)
            },
        )
    }

    /// Writes the establishment's list (workers not removed, in name order) as a CSV file (CSE):
    /// BOM, header, one line per worker. Returns the number of workers written. The export is
    /// recorded in the audit log before the first byte leaves, and read from one consistent
    /// snapshot without holding the write lock.
    pub fn export_workers<W: Write>(
        &self,
        who: &Principal,
        establishment: i64,
        out: W,
    ) -> Result<u64> {
        self.run(
            who,
            establishment,
            &[DataKind::AdminComplete],
            Action::Read,
            |ctx| {
                ctx.audit(
                    "registry.workers.export",
                    &format!("establishment:{establishment}"),
                    &[],
                )
            },
        )?;
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

/// Lines go from the parser to the writer by batches of this many.
const BATCH: usize = 1024;

/// Reads and checks every line, the file's own duplicates included, and hands them over by
/// batches; returns the file's SHA-256. Stops early when the writer is gone.
fn parse<R: Read>(
    mut reader: Reader<R>,
    out: &mpsc::SyncSender<Vec<Line>>,
    used: &mpsc::Receiver<Vec<Line>>,
) -> io::Result<String> {
    let mut nirs = Seen::default();
    let mut cards = Seen::default();
    let mut batch = Vec::with_capacity(BATCH);
    while let Some(line) = reader.next_line()? {
        let line = match line {
            Line::Worker(n, worker) => {
                let problems = duplicates(&worker.0, n, &mut nirs, &mut cards);
                if problems.is_empty() {
                    Line::Worker(n, worker)
                } else {
                    Line::Invalid(n, problems)
                }
            }
            invalid => invalid,
        };
        batch.push(line);
        if batch.len() == BATCH {
            if out
                .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                .is_err()
            {
                return Ok(String::new());
            }
            while let Ok(old) = used.try_recv() {
                drop(old);
            }
        }
    }
    if !batch.is_empty() && out.send(batch).is_err() {
        return Ok(String::new());
    }
    reader.finish()
}

/// Writes one checked line, or records its problems. After the first problem nothing more is
/// written (it will all be rolled back), but each line is still checked against the list.
fn write_line(
    ctx: &Ctx<'_>,
    importer: &mut Importer<'_>,
    report: &mut ImportReport,
    line: &Line,
) -> Result<()> {
    let (n, (worker, columns)) = match line {
        Line::Invalid(n, problems) => {
            for (field, message) in problems {
                report.push(*n, *field, message.clone());
            }
            return Ok(());
        }
        Line::Worker(n, prepared) => (*n, &**prepared),
    };
    if report.is_empty() {
        match importer.upsert(worker, columns)? {
            Ok(()) => {}
            Err(Conflict::Card) => report.push(n, Some(Field::CardNumber), CARD_TAKEN),
            Err(_) => report.push(n, Some(Field::Nir), RegistryError::DuplicateNir.to_string()),
        }
    } else if card_taken(ctx.tx, ctx.establishment, worker)? {
        report.push(n, Some(Field::CardNumber), CARD_TAKEN);
    }
    Ok(())
}

/// The first line of each NIR (or card number) read, by a number that identifies it.
type Seen = HashMap<u64, u64, BuildHasherDefault<Multiply>>;

/// A multiplicative hash for keys that are already well spread numbers: a million lines are
/// checked, SipHash's resistance to chosen keys buys nothing against a file of one's own.
#[derive(Default)]
struct Multiply(u64);

impl Hasher for Multiply {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The 13 characters of a NIR as one number: digits, and `A`/`B` of Corsica as 10 and 11, in
/// base 12 (12^13 < 2^64).
fn nir_number(nir: &crate::Nir) -> u64 {
    nir.as_str().bytes().fold(0, |n, b| {
        let digit = match b {
            b'A' => 10,
            b'B' => 11,
            _ => u64::from(b - b'0'),
        };
        n * 12 + digit
    })
}

/// The same NIR or card number twice in one file is a mistake in the file.
fn duplicates(
    w: &Worker,
    line: u64,
    nirs: &mut Seen,
    cards: &mut Seen,
) -> Vec<(Option<Field>, String)> {
    let mut problems = Vec::new();
    match nirs.entry(nir_number(&w.nir)) {
        Entry::Occupied(first) => problems.push((
            Some(Field::Nir),
            format!("Ce NIR figure déjà à la ligne {}.", first.get()),
        )),
        Entry::Vacant(slot) => {
            slot.insert(line);
        }
    }
    if let Some(card) = &w.card_number {
        match cards.entry(card.sequence().unsigned_abs()) {
            Entry::Occupied(first) => problems.push((
                Some(Field::CardNumber),
                format!("Ce numéro de carte figure déjà à la ligne {}.", first.get()),
            )),
            Entry::Vacant(slot) => {
                slot.insert(line);
            }
        }
    }
    problems
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
