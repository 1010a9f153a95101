//! Receiving a transmission (issue 16): every line checked and recorded, kept pending or
//! refused in one transaction, the récépissé recorded, then signed; pending lines attached when
//! the employer declares the worker; the operators' listings; §3's missing periods.

use std::collections::HashMap;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender};

use bit_set::BitSet;
use rusqlite::{Transaction, TransactionBehavior};
use store::audit::{self, Event};
use store::date::IsoDay;
use time::{Duration, OffsetDateTime};

use super::alerts::LimitSubject;
use super::{stamp, Ctx, Grant, Registry};
use crate::dose::{DoseInput, NewDose, Sender};
use crate::limits::{self, Contribution};
use crate::policy::{Action, Role};
use crate::principal::Identity;
use crate::storage_transmissions::{self as storage, Found, NewPending};
use crate::transmission::format::{LineReader, RawLine};
use crate::transmission::line::{self, CheckedLine};
use crate::transmission::{
    cut, may_send, periods, DocumentSender, MissingPeriod, NotSent, PendingLine, ReceiptDocument,
    ReceiptSigner, RejectedLine, SignedReceipt, TransmissionFormat, TransmissionSender,
    TransmissionSummary, MANY_REJECTED, MAX_DOCUMENT_BYTES, MAX_TRANSMISSION_LINES,
    MISSING_AFTER_DAYS, REASON_CHARS, REASON_CHARS_MANY,
};
use crate::{storage_bodies, storage_doses, RegistryError, Result};

/// Reasons given for refused lines (in the récépissé: French, never the line's data).
const NOT_YOURS: &str = "Vous ne transmettez pas pour cet établissement (SIRET) : il ne vous a pas désigné, ou vous n'y êtes pas rattaché.";
const NOT_YOUR_KIND: &str =
    "Votre rôle dans cet établissement ne permet pas de transmettre ce type de résultat.";
const NO_ENVOI: &str =
    "Le protocole de l'établissement ne vous confie pas l'envoi des informations dosimétriques.";
const IDENTITY: &str = "Le nom, le prénom ou la date de naissance ne correspondent pas au travailleur que le registre connaît sous ce NIR.";
const DUPLICATE: &str =
    "Doublon : ce résultat (même référence, même travailleur, même type, même période) a déjà été reçu.";
const NO_REPLACED: &str = "Colonne remplace : aucun résultat de ce type, de ce travailleur, ne porte cette référence parmi vos envois.";

/// A récépissé's canonical JSON and, once signed, its DER.
pub type SignedDocument = (Vec<u8>, Option<Vec<u8>>);

/// Where one line ends.
enum Outcome {
    Accepted,
    Pending,
    Rejected(String),
}

/// The establishments of one SIRET the sender may send for, with the roles held there.
struct Right {
    establishment: i64,
    roles: Vec<Role>,
    sends_dosimetry: bool,
}

/// What the recording thread's transaction holds for every line.
struct Receiving<'t> {
    tx: &'t Transaction<'t>,
    insert: std::cell::RefCell<storage_doses::SentInsert<'t>>,
    now: OffsetDateTime,
    stamp: String,
    actor: String,
    transmission: i64,
}

impl Registry {
    /// Receives a transmission: reads `input` as it arrives (CSV or JSON Lines), checks and
    /// records each line, and answers the signed récépissé. The same file from the same sender
    /// (same SHA-256) gives back the récépissé already issued and records nothing. A file that
    /// cannot be a transmission (no BOM, wrong header, an endless line, cut short) is refused
    /// whole and records nothing.
    pub fn receive_transmission<R: Read + Send>(
        &self,
        sender: &TransmissionSender,
        format: TransmissionFormat,
        input: R,
        signer: &dyn ReceiptSigner,
    ) -> Result<SignedReceipt> {
        let received = {
            let conn = self.pool.get()?;
            let _set_up = storage::set_up_receiving(&conn, storage::RECEIVING_CACHE_KIB)?;
            self.receive(&conn, sender, format, input)
        };
        match received {
            Ok(id) => self.signed_receipt(id, signer),
            Err(e) => {
                if matches!(
                    e,
                    RegistryError::TransmissionRefused(_)
                        | RegistryError::TransmissionLineTooLong
                        | RegistryError::ImportRead(_)
                ) {
                    // Nothing of the file is kept, but that it was sent and refused is.
                    self.audit_refusal(sender, e.code())?;
                }
                Err(e)
            }
        }
    }

    /// Records a transmission refused whole (`registry.transmission.refused`).
    fn audit_refusal(&self, sender: &TransmissionSender, code: &str) -> Result<()> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(
            &tx,
            self.clock.now(),
            &Event {
                actor: &sender.principal.actor(),
                action: "registry.transmission.refused",
                target: "registry",
                details: &[("serial", &sender.serial), ("reason", code)],
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// [`Self::receive_transmission`] up to the récépissé recorded: its transmission's id (the
    /// earlier one for a file sent again).
    fn receive<R: Read + Send>(
        &self,
        conn: &rusqlite::Connection,
        sender: &TransmissionSender,
        format: TransmissionFormat,
        input: R,
    ) -> Result<i64> {
        // `new_unchecked`: the connection is borrowed by its set-up guard too; nothing else
        // uses it meanwhile (a pooled connection is one caller's).
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        let now = self
            .clock
            .now()
            .replace_nanosecond(0)
            .unwrap_or(self.clock.now());
        let now = now.to_offset(time::UtcOffset::UTC);
        let actor = sender.principal.actor();
        let reader = match LineReader::open(input, format).map_err(read_error)? {
            Ok(reader) => reader,
            Err(problem) => return Err(RegistryError::TransmissionRefused(problem.message())),
        };
        let (transmission, number) = storage::start(
            &tx,
            &actor,
            &sender.subject,
            &sender.serial,
            &stamp(now),
            now.year(),
            format.as_str(),
        )?;
        let rights = rights(&tx, sender)?;
        let r = Receiving {
            tx: &tx,
            insert: std::cell::RefCell::new(storage_doses::SentInsert::new(&tx)?),
            now,
            stamp: stamp(now),
            actor: actor.clone(),
            transmission,
        };
        let (mut lines, mut accepted, mut pending) = (0_u64, 0_u64, 0_u64);
        let mut rejected: Vec<RejectedLine> = Vec::new();
        // Three threads: the reading thread reads, hashes and checks each line alone (see
        // `read_lines`), the lookup thread finds what the registry knows of it (`look_up`),
        // this one records; the récépissé's order is the file's, the channels keeping it.
        let (to_look_up, checked) = std::sync::mpsc::sync_channel::<Vec<Checked>>(BATCHES_AHEAD);
        let (to_record, placed) = std::sync::mpsc::sync_channel::<Vec<Placed>>(BATCHES_AHEAD);
        let sha256 = std::thread::scope(|scope| -> Result<String> {
            let rights = &rights;
            let source = actor.as_str();
            let reading = std::thread::Builder::new()
                .name("siseri-reception".into())
                .spawn_scoped(scope, move || {
                    yield_to_recording();
                    self.read_lines(reader, now.date(), to_look_up)
                })
                .map_err(RegistryError::Io)?;
            let looking_up = std::thread::Builder::new()
                .name("siseri-recherche".into())
                .spawn_scoped(scope, move || {
                    yield_to_recording();
                    self.look_up(source, checked, rights, to_record)
                })
                .map_err(RegistryError::Io)?;
            let recorded = (|| -> Result<()> {
                for batch in &placed {
                    for p in batch {
                        lines += 1;
                        let (n, outcome) = self.record_placed(&r, p)?;
                        match outcome {
                            Outcome::Accepted => accepted += 1,
                            Outcome::Pending => pending += 1,
                            Outcome::Rejected(mut reason) => {
                                let max = if rejected.len() < MANY_REJECTED {
                                    REASON_CHARS
                                } else {
                                    REASON_CHARS_MANY
                                };
                                cut(&mut reason, max);
                                rejected.push(RejectedLine { line: n, reason });
                            }
                        }
                    }
                }
                Ok(())
            })();
            // A thread still sending stops at its next batch.
            drop(placed);
            let stopped =
                |_| RegistryError::Io(std::io::Error::other("un fil de réception s'est arrêté"));
            let looked_up = looking_up.join().map_err(stopped)?;
            let read = reading.join().map_err(stopped)?;
            // The first thread that failed tells why: the others stopped after it.
            recorded?;
            looked_up?;
            read
        })?;
        if rejected.len() > MANY_REJECTED {
            // The first ones too, so that the récépissé keeps within the signer's bound.
            for r in &mut rejected[..MANY_REJECTED] {
                cut(&mut r.reason, REASON_CHARS_MANY);
            }
        }
        if let Some(earlier) = storage::same_file(&tx, &actor, &sha256)? {
            // Sent before: nothing of this reading is kept, the récépissé is the first one.
            return Ok(earlier);
        }
        let document = serde_json::to_vec(&ReceiptDocument {
            number: &number,
            received_at: &r.stamp,
            file_sha256: &sha256,
            sender: DocumentSender {
                subject: &sender.subject,
                serial: &sender.serial,
            },
            accepted,
            pending,
            rejected: rejected.len() as u64,
            rejected_lines: &rejected,
        })
        .map_err(|e| RegistryError::Io(std::io::Error::other(e)))?;
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(RegistryError::TransmissionRefused(
                "Trop de lignes refusées pour un seul récépissé : corrigez le fichier ou découpez-le."
                    .into(),
            ));
        }
        storage::finish(
            &tx,
            transmission,
            &sha256,
            lines,
            accepted,
            pending,
            rejected.len() as u64,
            &document,
        )?;
        audit::append(
            &tx,
            now,
            &Event {
                actor: &actor,
                action: "registry.transmission.receive",
                target: &format!("transmission:{number}"),
                details: &[
                    ("sha256", &sha256),
                    ("serial", &sender.serial),
                    ("lines", &lines.to_string()),
                    ("accepted", &accepted.to_string()),
                    ("pending", &pending.to_string()),
                    ("rejected", &rejected.len().to_string()),
                ],
            },
        )?;
        drop(r);
        tx.commit()?;
        Ok(transmission)
    }

    /// The signed récépissé of transmission `id`, signed now if it was not yet.
    fn signed_receipt(&self, id: i64, signer: &dyn ReceiptSigner) -> Result<SignedReceipt> {
        let (number, document, signed) = {
            let conn = self.pool.get()?;
            storage::receipt(&conn, id)?
        };
        if let Some(der) = signed {
            return Ok(SignedReceipt { number, der });
        }
        let der = signer.sign(&document).map_err(RegistryError::Receipt)?;
        let conn = self.pool.get()?;
        storage::store_receipt(&conn, id, &der, &stamp(self.clock.now()))?;
        // Another request may have signed it meanwhile: the stored one is the récépissé.
        let (number, _, signed) = storage::receipt(&conn, id)?;
        Ok(SignedReceipt {
            number,
            der: signed.unwrap_or(der),
        })
    }

    /// The récépissé `number`, for its sender only (anyone else: `NotFound`). Audited.
    pub fn transmission_receipt(
        &self,
        sender: &TransmissionSender,
        number: &str,
        signer: &dyn ReceiptSigner,
    ) -> Result<SignedReceipt> {
        let actor = sender.principal.actor();
        let id = {
            let mut conn = self.pool.get()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let found = storage::by_number(&tx, number)?;
            let id = match found {
                Some((id, who)) if who == actor => id,
                _ => return Err(RegistryError::NotFound),
            };
            audit::append(
                &tx,
                self.clock.now(),
                &Event {
                    actor: &actor,
                    action: "registry.transmission.recepisse",
                    target: &format!("transmission:{number}"),
                    details: &[("serial", &sender.serial)],
                },
            )?;
            tx.commit()?;
            id
        };
        self.signed_receipt(id, signer)
    }

    /// The reading thread: reads `reader` to its end, checks each line alone, and sends the
    /// lines to the lookup thread in batches; returns the file's SHA-256.
    fn read_lines<R: Read>(
        &self,
        mut reader: LineReader<R>,
        today: time::Date,
        to_look_up: SyncSender<Vec<Checked>>,
    ) -> Result<String> {
        let mut lines = 0_u64;
        let mut batch = Vec::with_capacity(BATCH_LINES);
        while let Some(raw) = reader.next_line().map_err(read_error)? {
            lines += 1;
            if lines > MAX_TRANSMISSION_LINES {
                return Err(RegistryError::TransmissionRefused(format!(
                    "{MAX_TRANSMISSION_LINES} lignes au plus par transmission : découpez le fichier."
                )));
            }
            batch.push(match raw {
                RawLine::Unreadable(n, why) => Err((n, why)),
                RawLine::Cells(n, cells) => line::check(n, &cells, today).map_err(|why| (n, why)),
            });
            if batch.len() == BATCH_LINES {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LINES));
                if to_look_up.send(full).is_err() {
                    // A later thread stopped (its error is the one told).
                    return Ok(String::new());
                }
            }
        }
        if !batch.is_empty() && to_look_up.send(batch).is_err() {
            return Ok(String::new());
        }
        drop(to_look_up);
        reader.finish().map_err(read_error)
    }

    /// The lookup thread: finds what the registry knows of each checked line's NIR and sends
    /// the lines, placed, to the recording thread in batches. Its reads go through a
    /// connection of its own, in a read transaction begun once the recording thread holds the
    /// write lock: what it sees is what that thread would (a transmission records results and
    /// pending lines only, never persons, employments or pregnancies), and looking up beside
    /// the writes takes the other core.
    fn look_up(
        &self,
        source: &str,
        checked: Receiver<Vec<Checked>>,
        rights: &HashMap<String, Vec<Right>>,
        to_record: SyncSender<Vec<Placed>>,
    ) -> Result<()> {
        let conn = self.pool.get()?;
        let _set_up = storage::set_up_receiving(&conn, storage::LOOKUP_CACHE_KIB)?;
        // Deferred: its snapshot is taken at the first lookup, after the writer's lock.
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Deferred)?;
        let mut lookup = storage::Lookup::new(&tx, source)?;
        // The persons a line of the file was placed for already (a result of this
        // transmission may be recorded for them: their limits' check asks the transaction).
        let mut seen = BitSet::new();
        for lines in &checked {
            // The sender's right for each line, then what the registry knows of the NIRs of
            // the lines it may send, asked together.
            let routed: Vec<std::result::Result<(CheckedLine, Route), (u64, String)>> = lines
                .into_iter()
                .map(|l| {
                    let l = l?;
                    match route(rights, &l) {
                        Ok(r) => Ok((l, r)),
                        Err(why) => Err((l.line, why.to_owned())),
                    }
                })
                .collect();
            let asks: Vec<storage::Ask<'_>> = routed
                .iter()
                .filter_map(|l| l.as_ref().ok())
                .map(|(l, r)| {
                    let (from, to) = limits::span_of(l.dose.period_end);
                    storage::Ask {
                        establishment: r.establishment,
                        nir: &l.nir,
                        from,
                        to,
                        reference: &l.reference,
                        kind: l.dose.kind,
                        period_start: l.dose.period_start,
                        period_end: l.dose.period_end,
                    }
                })
                .collect();
            let found = lookup.find(&asks)?;
            drop(asks);
            let mut found = found.into_iter();
            let mut batch = Vec::with_capacity(routed.len());
            for l in routed {
                batch.push(match l {
                    Err((n, why)) => Placed::Rejected(n, why),
                    Ok((l, r)) => placement(r, found.next().flatten(), &mut seen, l)?,
                });
            }
            if to_record.send(batch).is_err() {
                // The recording thread stopped (its error is the one told).
                return Ok(());
            }
        }
        drop(lookup);
        tx.finish()?;
        Ok(())
    }

    /// Records one line the lookup thread placed: its line number and where it ended.
    fn record_placed(&self, r: &Receiving<'_>, placed: Placed) -> Result<(u64, Outcome)> {
        Ok(match placed {
            Placed::Rejected(n, why) => (n, Outcome::Rejected(why)),
            Placed::Pending {
                line: l,
                establishment,
                sender,
            } => {
                if storage::is_pending_duplicate(
                    r.tx,
                    establishment,
                    &l.nir,
                    &r.actor,
                    &l.reference,
                    &l.dose,
                )? {
                    return Ok((l.line, Outcome::Rejected(DUPLICATE.into())));
                }
                storage::insert_pending(
                    r.tx,
                    &NewPending {
                        transmission: r.transmission,
                        line: l.line,
                        establishment,
                        nir: &l.nir,
                        search_name: &l.search_name,
                        birth_date: IsoDay::of(l.birth).as_str(),
                        input: &DoseInput::of(&l.dose),
                        dose: &l.dose,
                        reference: &l.reference,
                        replaces_ref: l.replaces_ref.as_deref(),
                        sender,
                        source: &r.actor,
                        now: &r.stamp,
                    },
                )?;
                (l.line, Outcome::Pending)
            }
            Placed::Employed {
                line: l,
                establishment,
                role,
                sender,
                worker,
                subject,
                no_duplicate,
            } => {
                let ctx = Ctx {
                    tx: r.tx,
                    now: r.now,
                    actor: r.actor.clone(),
                    establishment,
                    grant: Grant {
                        role,
                        kind: l.dose.kind.data_kind(),
                    },
                    deferred: None,
                };
                let outcome = match self.record_sent(
                    &ctx,
                    &r.stamp,
                    worker,
                    sender,
                    &l.dose,
                    &l.reference,
                    l.replaces_ref.as_deref(),
                    r.transmission,
                    Some(&subject),
                    no_duplicate,
                    &mut r.insert.borrow_mut(),
                )? {
                    Ok(_) => Outcome::Accepted,
                    Err(why) => Outcome::Rejected(why),
                };
                (l.line, outcome)
            }
        })
    }

    /// Records a sent result for employment `worker` (duplicate and correction checked), then
    /// checks the limits (of `subject` when the caller knows them); `Ok(Err(reason))` when it is
    /// refused. `no_duplicate`: the caller knows the result was not received already (a
    /// transmission's lookup, see `storage_transmissions::Known::duplicate`); otherwise the
    /// transaction is asked.
    #[allow(clippy::too_many_arguments)]
    fn record_sent(
        &self,
        ctx: &Ctx<'_>,
        stamp: &str,
        worker: i64,
        sender: Sender,
        dose: &crate::dose::NewDose,
        reference: &str,
        replaces_ref: Option<&str>,
        transmission: i64,
        subject: Option<&LimitSubject>,
        no_duplicate: bool,
        insert: &mut storage_doses::SentInsert<'_>,
    ) -> Result<std::result::Result<i64, String>> {
        // Before a correction's own checks: a correction sent again is a duplicate. In the same
        // write transaction as the insert below: no other writer comes in between (registry
        // migration 0014: no unique index holds this rule).
        if !no_duplicate && storage::is_duplicate(ctx.tx, worker, &ctx.actor, reference, dose)? {
            return Ok(Err(DUPLICATE.into()));
        }
        let mut dose = std::borrow::Cow::Borrowed(dose);
        if let Some(replaced) = replaces_ref {
            let Some(id) = storage::by_reference(ctx.tx, worker, &ctx.actor, replaced, dose.kind)?
            else {
                return Ok(Err(NO_REPLACED.into()));
            };
            if let Some(why) =
                storage_doses::replaceable(ctx.tx, worker, dose.kind, id, &ctx.actor)?
            {
                return Ok(Err(format!("Colonne remplace : {why}")));
            }
            dose.to_mut().replaces = Some(id);
        }
        let sent = storage_doses::Sent {
            reference,
            transmission,
        };
        let id = insert.insert(worker, &dose, sender, &ctx.actor, stamp, sent)?;
        if dose.replaces.is_some() {
            // As for a correction entered by hand: an alert the corrected sums no longer
            // justify is closed (then a crossing that remains raises a new one).
            self.close_corrected(ctx, worker, id)?;
        }
        match subject {
            Some(subject) => {
                // A correction makes the result it replaces no longer count: the database says.
                let new = dose.replaces.is_none().then(|| Contribution::of(&dose));
                self.check_limits_of(ctx, subject, new, worker, id, dose.period_end)?
            }
            None => self.check_limits(ctx, worker, id, dose.period_end)?,
        }
        Ok(Ok(id))
    }

    /// Attaches the pending lines of the establishment of `ctx` whose worker is now declared:
    /// each becomes a result, or is refused (identity, duplicate) with its reason. Called in the
    /// declaration's own transaction (the form, the import).
    pub(super) fn attach_pending(&self, ctx: &Ctx<'_>) -> Result<u64> {
        let mut attached = 0;
        let mut insert = storage_doses::SentInsert::new(ctx.tx)?;
        for p in storage::attachable(ctx.tx, ctx.establishment)? {
            let person = storage::person_identity_of_worker(ctx.tx, p.worker)?;
            let same = person.is_some_and(|(name, birth)| {
                name == p.search_name
                    && match (birth, &p.birth_date) {
                        (Some(a), Some(b)) => a == *b,
                        _ => true,
                    }
            });
            let outcome = if !same {
                Err(IDENTITY.to_owned())
            } else {
                let sender = Sender::from_str(&p.sender).unwrap_or(Sender::Body);
                let dose = serde_json::from_str::<DoseInput>(&p.input)
                    .ok()
                    .and_then(|input| input.validate(ctx.today()).ok());
                match dose {
                    None => Err("Résultat illisible une fois le travailleur déclaré.".to_owned()),
                    Some(dose) => {
                        let sent = Ctx {
                            tx: ctx.tx,
                            now: ctx.now,
                            actor: p.source.clone(),
                            establishment: ctx.establishment,
                            grant: ctx.grant,
                            deferred: None,
                        };
                        self.record_sent(
                            &sent,
                            &ctx.stamp(),
                            p.worker,
                            sender,
                            &dose,
                            &p.reference,
                            p.replaces_ref.as_deref(),
                            p.transmission,
                            None,
                            false,
                            &mut insert,
                        )?
                    }
                }
            };
            match outcome {
                Ok(dose) => {
                    attached += 1;
                    storage::settle(ctx.tx, p.id, Some(dose), None, &ctx.stamp())?;
                }
                Err(why) => storage::settle(ctx.tx, p.id, None, Some(&why), &ctx.stamp())?,
            }
        }
        if attached > 0 {
            ctx.audit(
                "registry.transmission.attach",
                &format!("establishment:{}", ctx.establishment),
                &[("attached", &attached.to_string())],
            )?;
        }
        Ok(attached)
    }

    /// The transmissions, newest first, for the operator `actor` (`siseri transmission list`).
    pub fn operator_transmissions(
        &self,
        actor: &str,
        limit: u32,
    ) -> Result<Vec<TransmissionSummary>> {
        self.operator_read(actor, "registry.transmission.list", "", |tx| {
            storage::list(tx, limit)
        })
    }

    /// One transmission, its pending lines and its récépissé (`siseri transmission show`);
    /// `NotFound` if none.
    pub fn operator_transmission(
        &self,
        actor: &str,
        number: &str,
    ) -> Result<(
        TransmissionSummary,
        Vec<PendingLine>,
        Option<SignedDocument>,
    )> {
        self.operator_read(actor, "registry.transmission.show", number, |tx| {
            let summary = storage::get(tx, number)?.ok_or(RegistryError::NotFound)?;
            let lines = storage::pending(tx, None, Some(number), 100_000)?;
            let document = storage::by_number(tx, number)?
                .map(|(id, _)| storage::receipt(tx, id))
                .transpose()?
                .map(|(_, doc, der)| (doc, der));
            Ok((summary, lines, document))
        })
    }

    /// The signed récépissé of transmission `number` (the console's download), read alone:
    /// `NotFound` if no transmission bears the number, `None` while it is not signed. Audited as
    /// [`Self::operator_transmission`] is.
    pub fn operator_receipt(&self, actor: &str, number: &str) -> Result<Option<Vec<u8>>> {
        self.operator_read(actor, "registry.transmission.show", number, |tx| {
            let (id, _) = storage::by_number(tx, number)?.ok_or(RegistryError::NotFound)?;
            Ok(storage::receipt(tx, id)?.2)
        })
    }

    /// The lines still pending that arrived `older_than_days` days ago or more
    /// (`siseri transmission pending`).
    pub fn operator_pending(&self, actor: &str, older_than_days: u32) -> Result<Vec<PendingLine>> {
        let before = stamp(self.clock.now() - Duration::days(i64::from(older_than_days)));
        self.operator_read(actor, "registry.transmission.pending", "", |tx| {
            storage::pending(tx, Some(&before), None, 100_000)
        })
    }

    /// §3: the periods without result nor *absence de résultat* 20 days after their end
    /// (`siseri transmission missing`); every establishment when `establishment` is `None`.
    pub fn operator_missing(&self, actor: &str) -> Result<Vec<MissingPeriod>> {
        let today = self.clock.now().date();
        self.operator_read(actor, "registry.transmission.missing", "", |tx| {
            missing(tx, None, today)
        })
    }

    /// §3 for the physician: the missing periods of the establishment's workers (reading them is
    /// reading passive dosimetry, the matrix's row of *absence de résultat*).
    pub fn missing_results(
        &self,
        who: &crate::Principal,
        establishment: i64,
    ) -> Result<Vec<MissingPeriod>> {
        self.run_on(
            Action::Read,
            who,
            establishment,
            crate::DataKind::PassiveDose,
            |ctx| {
                let found = missing(ctx.tx, Some(establishment), ctx.today())?;
                ctx.audit(
                    "registry.transmission.missing.read",
                    &format!("establishment:{establishment}"),
                    &[("count", &found.len().to_string())],
                )?;
                Ok(found)
            },
        )
    }

    /// The establishments that named the body `who` (for the web layer, which asks their
    /// SIRET of the directory); empty for a person.
    pub fn body_clients(&self, who: &crate::Principal) -> Result<Vec<i64>> {
        let Identity::DosimetryBody { name } = &who.identity else {
            return Ok(Vec::new());
        };
        let conn = self.pool.get()?;
        Ok(storage_bodies::clients(&conn, name)?
            .into_iter()
            .map(|b| b.establishment)
            .collect())
    }

    /// Runs an operator's read in a transaction with its audit entry.
    fn operator_read<T>(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        let target = if target.is_empty() {
            "registry".to_owned()
        } else {
            format!("transmission:{target}")
        };
        audit::append(
            &tx,
            self.clock.now(),
            &Event {
                actor,
                action,
                target: &target,
                details: &[],
            },
        )?;
        tx.commit()?;
        Ok(out)
    }
}

/// Lines a thread sends the next at once, and batches it may have sent ahead: some 600 KB at
/// most between two threads, whatever the file's size. A batch stays under 64 KiB (a line is
/// under 300 bytes): with glibc's malloc, the `free` of a larger block first consolidated all
/// the small free blocks of its arena, and the recording thread spent a twentieth of its time
/// there with batches of 1,024 lines. The daemon's Rust allocations now go to mimalloc
/// (`src/main.rs`), where batches of 512 lines measured the same as 64; the bound is kept for
/// builds without it (the library's tests).
const BATCH_LINES: usize = 64;
const BATCHES_AHEAD: usize = 32;

/// The largest person id the lookup thread keeps a bit for (32 MB of bits); ids are the
/// registry's own row ids, about as many as the persons.
const MAX_PERSON_BIT: usize = 1 << 28;

/// Where the lookup thread places one line, with what the registry knows of its NIR.
// `Employed` is the large variant and most lines' (a worker's result): boxing it would take an
// allocation per line, freed by the recording thread (see `ToRecord`).
#[allow(clippy::large_enum_variant)]
enum Placed {
    Rejected(u64, String),
    /// For a NIR the establishment has not declared: kept pending.
    Pending {
        /// Boxed: most lines are for workers, and a batch of them stays small.
        line: Box<CheckedLine>,
        establishment: i64,
        sender: Sender,
    },
    /// For a worker of the establishment: a result to record.
    Employed {
        line: ToRecord,
        establishment: i64,
        role: Role,
        sender: Sender,
        worker: i64,
        subject: LimitSubject,
        /// Whether the lookup's answer that the line is no duplicate is the whole answer: no
        /// result of the person was recorded by this transmission before it.
        no_duplicate: bool,
    },
}

/// A line checked alone by the reading thread, or why it was refused.
type Checked = std::result::Result<CheckedLine, (u64, String)>;

/// What the recording thread needs of a line for a worker: the rest of it (the identity, the
/// input as sent) is dropped by the lookup thread, so that the recording thread, which sets
/// the pace, frees only what it records. Memory freed by a thread that did not allocate it
/// goes back to the other thread's heap: under glibc's malloc, under that arena's lock (the
/// recording thread spent a tenth of its time there when whole lines crossed); under
/// mimalloc, the daemon's, onto a list the other thread collects.
struct ToRecord {
    line: u64,
    dose: NewDose,
    reference: String,
    replaces_ref: Option<String>,
}

/// Where a line the sender may send goes: the establishment, the role it is sent in, and the
/// sender's role in the record.
#[derive(Clone, Copy)]
struct Route {
    establishment: i64,
    role: Role,
    sender: Sender,
}

/// The sender's right for a checked line's SIRET and kind: where it goes, or why it is refused.
fn route(rights: &HashMap<String, Vec<Right>>, l: &CheckedLine) -> Result<Route, &'static str> {
    let Some(rights) = rights.get(l.dose.siret.as_deref().unwrap_or_default()) else {
        return Err(NOT_YOURS);
    };
    let mut why = NOT_YOUR_KIND;
    let mut chosen = None;
    'rights: for right in rights {
        for &role in &right.roles {
            match may_send(role, l.dose.kind, right.sends_dosimetry) {
                Ok(()) => {
                    chosen = Some((right.establishment, role));
                    break 'rights;
                }
                Err(NotSent::NoEnvoi) => why = NO_ENVOI,
                Err(NotSent::Kind) => {}
            }
        }
    }
    let Some((establishment, role)) = chosen else {
        return Err(why);
    };
    // Only bodies, PCRs and physicians write results (the matrix).
    let Some(sender) = Sender::of(role) else {
        return Err(NOT_YOUR_KIND);
    };
    Ok(Route {
        establishment,
        role,
        sender,
    })
}

/// Where one checked line the sender may send goes (`route`): the identity against the person
/// the registry knows under the NIR (`known`, what the lookup found), then the employment.
fn placement(route: Route, known: Found, seen: &mut BitSet, l: CheckedLine) -> Result<Placed> {
    let n = l.line;
    let Route {
        establishment,
        role,
        sender,
    } = route;
    // The person is known if any employer declared them; the employment only if this one did.
    let Some((k, results)) = known else {
        return Ok(Placed::Pending {
            line: Box::new(l),
            establishment,
            sender,
        });
    };
    if k.search_name != l.search_name
        || k.birth_date
            .as_ref()
            .is_some_and(|b| b != IsoDay::of(l.birth).as_str())
    {
        return Ok(Placed::Rejected(n, IDENTITY.into()));
    }
    let Some(worker) = k.worker else {
        return Ok(Placed::Pending {
            line: Box::new(l),
            establishment,
            sender,
        });
    };
    // Received before this transmission (a correction sent again too).
    if k.duplicate {
        return Ok(Placed::Rejected(n, DUPLICATE.into()));
    }
    // The first line for the person: what was committed is all there is of them (a declared
    // pregnancy's span is asked for by the recording thread).
    let first = match usize::try_from(k.person) {
        Ok(id) if id <= MAX_PERSON_BIT => seen.insert(id),
        // Beyond the bits kept: as if seen, the transaction is asked.
        _ => false,
    };
    let earlier = (first && !k.pregnancies).then_some(results);
    let subject = LimitSubject {
        person: k.person,
        birth: k
            .birth_date
            .as_deref()
            .map(crate::date::from_iso)
            .transpose()?,
        category_b: k.category_b,
        pregnancies: k.pregnancies,
        earlier,
    };
    Ok(Placed::Employed {
        line: ToRecord {
            line: l.line,
            dose: l.dose,
            reference: l.reference,
            replaces_ref: l.replaces_ref,
        },
        establishment,
        role,
        sender,
        worker,
        subject,
        no_duplicate: first,
    })
}

/// The sender's rights by SIRET: for each establishment it gave, the roles it holds there; a
/// body only where the establishment named it.
fn rights(
    tx: &Transaction<'_>,
    sender: &TransmissionSender,
) -> Result<HashMap<String, Vec<Right>>> {
    let mut out: HashMap<String, Vec<Right>> = HashMap::new();
    for e in &sender.establishments {
        let roles: Vec<Role> = sender.principal.roles_in(e.id).into_iter().collect();
        if roles.is_empty() {
            continue;
        }
        if let Identity::DosimetryBody { name } = &sender.principal.identity {
            if !storage_bodies::is_client(tx, e.id, name)? {
                continue;
            }
        }
        out.entry(e.siret.clone()).or_default().push(Right {
            establishment: e.id,
            roles,
            sends_dosimetry: e.sends_dosimetry,
        });
    }
    for rights in out.values_mut() {
        rights.sort_by_key(|r| r.establishment);
    }
    Ok(out)
}

/// §3 over `establishment` (every one when `None`), as of `today`.
fn missing(
    tx: &Transaction<'_>,
    establishment: Option<i64>,
    today: time::Date,
) -> Result<Vec<MissingPeriod>> {
    let last_end = today - Duration::days(MISSING_AFTER_DAYS);
    let window = crate::date::twelve_months_before(today);
    let mut out = Vec::new();
    for w in storage::watched(tx, establishment)? {
        let Ok(from) = crate::date::from_iso(&w.from) else {
            continue;
        };
        let to = match w.to.as_deref().map(crate::date::from_iso) {
            Some(Ok(d)) => d.min(today),
            _ => today,
        };
        for (start, end) in periods(&w.category, from.max(window), to) {
            if end > last_end || end < window {
                continue;
            }
            if !storage::covered(tx, w.worker, start, end)? {
                out.push(MissingPeriod {
                    establishment: w.establishment,
                    worker_id: w.worker,
                    worker_name: w.name.clone(),
                    period_start: start,
                    period_end: end,
                });
            }
        }
    }
    Ok(out)
}

/// How much nicer than the recording thread the reading and lookup threads run.
const HELPER_NICE: i32 = 5;

/// Lowers the calling thread's priority by [`HELPER_NICE`] (Linux gives each thread its own
/// nice value). The recording thread sets a transmission's pace: the two others run ahead of it
/// and wait on their channels, but on two cores they, the connection's TLS and the sender took
/// the recording thread's core from it for a tenth of its time (its time waiting, measured in
/// the daemon against its CPU time). Lowering is always allowed; a failure changes nothing
/// but the speed, and is not worth refusing a transmission for.
fn yield_to_recording() {
    let me = rustix::thread::gettid();
    let nice = rustix::process::getpriority_process(Some(me)).unwrap_or(0);
    if let Err(e) = rustix::process::setpriority_process(Some(me), (nice + HELPER_NICE).min(19)) {
        tracing::debug!(error = %e, "priorité du fil de réception inchangée");
    }
}

/// A reading failure: an endless line, a file cut short, one past the size limit.
fn read_error(e: std::io::Error) -> RegistryError {
    if crate::csv_format::is_line_too_long(&e) {
        RegistryError::TransmissionLineTooLong
    } else {
        RegistryError::ImportRead(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_stays_under_the_size_whose_free_consolidates_the_arena() {
        // glibc's FASTBIN_CONSOLIDATION_THRESHOLD (see BATCH_LINES).
        const CONSOLIDATES: usize = 64 * 1024;
        assert!(BATCH_LINES * std::mem::size_of::<Placed>() < CONSOLIDATES);
        assert!(BATCH_LINES * std::mem::size_of::<Checked>() < CONSOLIDATES);
    }
}
