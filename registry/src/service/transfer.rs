//! *Importer une liste*, *Exporter la liste*: the workers list as a CSV file.

use std::io::{self, Read, Write};
use std::sync::mpsc;

use super::{Ctx, Registry};
use crate::csv_format::{ImportReport, ImportSummary, Line, LineBound, Reader, Writer};
use crate::policy::{Action, DataKind};
use crate::principal::Principal;
use crate::storage::Conflict;
use crate::storage_import::Importer;
use crate::worker::input::Field;
use crate::worker::{Worker, WorkerRef};
use crate::{storage_persons, storage_workers, RegistryError, Result};

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
    /// million lines take seconds; a NIR or card number met twice in the file is only known
    /// once all of it is read, so those lines are reported then. A large list into an empty
    /// one has its indexes built after the rows (see `storage_import`). Memory stays bounded
    /// whatever the file's size, but for 12 bytes a line kept to find repeats.
    pub fn import_workers<R: Read + Send>(
        &self,
        who: &Principal,
        establishment: i64,
        input: R,
    ) -> Result<ImportSummary> {
        // The identity conflicts of a refused import, recorded once its writes are rolled back.
        let mut identities: Vec<(i64, Worker)> = Vec::new();
        let done = self.edit_list(who, establishment, |ctx| {
            let reader =
                match Reader::open(LineBound::new(input), ctx.today()).map_err(import_read)? {
                    Ok(reader) => reader,
                    Err(report) => return Err(RegistryError::ImportRejected(report)),
                };
            let mut importer = Importer::new(ctx.tx, ctx.establishment, ctx.stamp())?;
            let mut writing = Writing::default();
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
                            write_line(ctx, &mut importer, &mut writing, line)?;
                        }
                        // The reader may have finished: then this thread frees the batch.
                        let _ = recycle.send(batch);
                    }
                    Ok(())
                })();
                // Unblocks the parser if writing stopped early.
                drop(receiver);
                let parsed = parser
                    .join()
                    .unwrap_or_else(|_| Err(io::Error::other("lecture du fichier interrompue")));
                (written, parsed)
            });
            written?;
            let parsed = parsed.map_err(import_read)?;
            let mut report = writing.report;
            report.merge(late_problems(parsed.nirs, parsed.cards, writing.conflicts));
            if !report.is_empty() {
                identities = writing.identities;
                return Err(RegistryError::ImportRejected(report));
            }
            let sha256 = parsed.sha256;
            let fractions_created = importer.fractions_created;
            let (created, updated, unchanged) = importer.finish()?;
            drop(importer);
            // Results sent before these workers were declared become theirs now.
            self.attach_pending(ctx)?;
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
        });
        if !identities.is_empty() {
            self.record_import_conflicts(who, establishment, &identities)?;
        }
        done
    }

    /// Records the identity conflicts of a refused import, in their own transaction (the
    /// import's was rolled back).
    fn record_import_conflicts(
        &self,
        who: &Principal,
        establishment: i64,
        identities: &[(i64, Worker)],
    ) -> Result<()> {
        self.edit_list(who, establishment, |ctx| {
            for (person, worker) in identities {
                let conflict = storage_persons::record_conflict(
                    ctx.tx,
                    *person,
                    ctx.establishment,
                    worker,
                    storage_persons::Source::Import,
                    &ctx.actor,
                    &ctx.stamp(),
                )?;
                ctx.audit(
                    "registry.person.conflict",
                    &format!("person:{person}"),
                    &[("conflict", &conflict.to_string()), ("source", "import")],
                )?;
            }
            Ok(())
        })
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
        self.run_on(
            Action::Read,
            who,
            establishment,
            DataKind::AdminComplete,
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

/// What the writing thread learnt: the lines' own problems, in line order, and the lines the
/// list refused (a card number another worker holds; a NIR written twice).
#[derive(Default)]
struct Writing {
    report: ImportReport,
    conflicts: Vec<(u64, Conflict)>,
    /// The lines whose identity contradicts a person known elsewhere, kept to be recorded for
    /// the operators once the import is refused (at most [`IDENTITY_CONFLICTS_KEPT`]; every one
    /// is in the report).
    identities: Vec<(i64, Worker)>,
}

/// Identity conflicts of one import recorded for the operators: past them the file is more
/// likely a wrong file than a few wrong lines, and the report says it all to its sender.
const IDENTITY_CONFLICTS_KEPT: usize = 1000;

/// A NIR or card number (as a number) and the line it is on. Packed: a million-line file keeps
/// one per line until its end, 12 bytes each, where a hash map would take 32 or more.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
struct Seen {
    key: u64,
    line: u32,
}

/// What the reading thread hands back once the file is read.
#[derive(Default)]
struct Parsed {
    /// SHA-256 of the file (hex).
    sha256: String,
    /// Every valid line's NIR, and card number when it has one.
    nirs: Vec<Seen>,
    cards: Vec<Seen>,
}

/// Reads and checks every line and hands them over by batches; keeps each valid line's NIR and
/// card number for [`late_problems`]. Stops early when the writer is gone.
fn parse<R: Read>(
    mut reader: Reader<R>,
    out: &mpsc::SyncSender<Vec<Line>>,
    used: &mpsc::Receiver<Vec<Line>>,
) -> io::Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut batch = Vec::with_capacity(BATCH);
    // Lines the writer is done with, freed one before each line read: the blocks they free are
    // those the next line allocates, of the same sizes, and glibc's per-thread cache hands them
    // back at once. Freed a batch at a time, they would overflow that cache and cost a third of
    // this thread's time in malloc and free.
    let mut spent: Vec<Line> = Vec::new();
    loop {
        if spent.is_empty() {
            if let Ok(old) = used.try_recv() {
                spent = old;
            }
        }
        drop(spent.pop());
        let Some(line) = reader.next_line()? else {
            break;
        };
        if let Line::Worker(n, worker) = &line {
            // A file is at most 1 GB: fewer lines than a u32 counts.
            let line = u32::try_from(*n).unwrap_or(u32::MAX);
            let w = &worker.0;
            parsed.nirs.push(Seen {
                key: nir_number(&w.nir),
                line,
            });
            if let Some(card) = &w.card_number {
                parsed.cards.push(Seen {
                    key: card.sequence().unsigned_abs(),
                    line,
                });
            }
        }
        batch.push(line);
        if batch.len() == BATCH
            && out
                .send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                .is_err()
        {
            return Ok(Parsed::default());
        }
    }
    if !batch.is_empty() && out.send(batch).is_err() {
        return Ok(Parsed::default());
    }
    parsed.sha256 = reader.finish()?;
    Ok(parsed)
}

/// Writes one checked line, or records its problems. After the first problem nothing more is
/// written (it will all be rolled back), but each line is still checked against the list.
fn write_line(
    ctx: &Ctx<'_>,
    importer: &mut Importer<'_>,
    writing: &mut Writing,
    line: &Line,
) -> Result<()> {
    let (n, (worker, columns)) = match line {
        Line::Invalid(n, problems) => {
            for (field, message) in problems {
                writing.report.push(*n, *field, message.clone());
            }
            return Ok(());
        }
        Line::Worker(n, prepared) => (*n, &**prepared),
    };
    if writing.report.is_empty() && writing.conflicts.is_empty() {
        if let Err(conflict) = importer.upsert(worker, columns)? {
            writing.conflicts.push((n, conflict));
            if let Conflict::Identity(person) = conflict {
                writing.identities.push((person, worker.clone()));
            }
        }
        return Ok(());
    }
    if let Some(person) = importer.identity_conflict(worker, columns)? {
        writing.conflicts.push((n, Conflict::Identity(person)));
        if writing.identities.len() < IDENTITY_CONFLICTS_KEPT {
            writing.identities.push((person, worker.clone()));
        }
    } else if !importer.was_empty() && card_taken(ctx.tx, ctx.establishment, worker)? {
        // An empty list holds no card but those of this file, whose repeats are found apart.
        writing.conflicts.push((n, Conflict::Card));
    }
    Ok(())
}

/// The problems known once the whole file is read: each NIR and card number met again (the
/// line pointing to the first), then the lines the list refused that are not such repeats.
/// Sorted by line, the NIR's before the card's.
fn late_problems(
    mut nirs: Vec<Seen>,
    mut cards: Vec<Seen>,
    conflicts: Vec<(u64, Conflict)>,
) -> Vec<(u64, Option<Field>, String)> {
    let mut out = Vec::new();
    let nir_repeats = repeats(&mut nirs, &mut out, Field::Nir, |first| {
        format!("Ce NIR figure déjà à la ligne {first}.")
    });
    drop(nirs);
    let card_repeats = repeats(&mut cards, &mut out, Field::CardNumber, |first| {
        format!("Ce numéro de carte figure déjà à la ligne {first}.")
    });
    drop(cards);
    for (line, conflict) in conflicts {
        match conflict {
            Conflict::Card if card_repeats.binary_search(&line).is_err() => {
                out.push((line, Some(Field::CardNumber), CARD_TAKEN.to_owned()));
            }
            Conflict::Card => {}
            Conflict::Identity(_) => out.push((
                line,
                Some(Field::Nir),
                RegistryError::IdentityConflict.to_string(),
            )),
            _ if nir_repeats.binary_search(&line).is_err() => {
                out.push((
                    line,
                    Some(Field::Nir),
                    RegistryError::DuplicateNir.to_string(),
                ));
            }
            _ => {}
        }
    }
    out.sort_by_key(|(line, field, _)| (*line, *field == Some(Field::CardNumber)));
    out
}

/// Finds the keys met more than once: each later line gets `message(first line)` in `out`.
/// Returns those later lines, sorted.
fn repeats(
    seen: &mut [Seen],
    out: &mut Vec<(u64, Option<Field>, String)>,
    field: Field,
    message: impl Fn(u32) -> String,
) -> Vec<u64> {
    seen.sort_unstable_by_key(|s| (s.key, s.line));
    let mut lines = Vec::new();
    // Each repeat points to the key's first line, not to the previous repeat.
    let mut first_line = 0_u32;
    let mut previous: Option<u64> = None;
    for s in seen.iter() {
        let (key, line) = (s.key, s.line);
        if previous == Some(key) {
            lines.push(u64::from(line));
            out.push((u64::from(line), Some(field), message(first_line)));
        } else {
            first_line = line;
            previous = Some(key);
        }
    }
    lines.sort_unstable();
    lines
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

/// A reading failure of an import: an endless line, or a file cut short.
fn import_read(e: std::io::Error) -> RegistryError {
    if crate::csv_format::is_line_too_long(&e) {
        RegistryError::ImportLineTooLong
    } else {
        RegistryError::ImportRead(e)
    }
}
