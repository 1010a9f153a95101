//! The workers list: the form's operations, reading one worker, searching.

use super::{worker_target, Ctx, Registry};
use crate::nir::{Nir, NirError};
use crate::person::{self, Binding};
use crate::policy::{identity_views, Action, DataKind, View};
use crate::principal::Principal;
use crate::storage::{self, conflict, Conflict};
use crate::worker::input::{self, by_json_name, RawWorker};
use crate::worker::Columns;
use crate::worker::{
    Applied, Operation, Page, Worker, WorkerInput, WorkerQuery, WorkerRecord, WorkerRef,
    WorkerSummary, WorkerView,
};
use crate::{storage_fractions, storage_persons, storage_workers, RegistryError, Result};
use store::text::fold;

/// The kinds of data that show a worker, best first (see [`identity_views`]).
pub(super) const IDENTITY_KINDS: [DataKind; 3] = [
    identity_views()[0].0,
    identity_views()[1].0,
    identity_views()[2].0,
];

/// The view a grant on one of [`IDENTITY_KINDS`] gives.
pub(super) fn view_of(record: WorkerRecord, kind: DataKind) -> WorkerView {
    let view = identity_views()
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map_or(View::Dosimetry, |(_, v)| v);
    match view {
        View::Complete => WorkerView::Complete(record),
        View::Dosimetry => WorkerView::Dosimetry(WorkerSummary::from(record)),
    }
}

fn map_conflict(e: rusqlite::Error) -> RegistryError {
    match conflict(&e) {
        Some(Conflict::Nir) => RegistryError::DuplicateNir,
        Some(Conflict::Card) => RegistryError::DuplicateCard,
        Some(Conflict::FractionName) => RegistryError::DuplicateFraction,
        Some(Conflict::Identity(_)) => RegistryError::IdentityConflict,
        None => e.into(),
    }
}

/// The fraction a form names, which must exist: `(id, name as stored)`.
fn resolve_fraction(ctx: &Ctx<'_>, w: &mut Worker) -> Result<Option<i64>> {
    let Some(name) = &w.fraction else {
        return Ok(None);
    };
    match storage_fractions::by_name(ctx.tx, ctx.establishment, name)? {
        Some((id, stored)) => {
            w.fraction = Some(stored);
            Ok(Some(id))
        }
        None => Err(RegistryError::field(
            "fraction",
            "Cette fraction n'existe pas dans la liste : créez-la d'abord (Fractionner la liste).",
        )),
    }
}

/// The worker a *Modification* or *Suppression* names: by card number when given, else by NIR.
fn identify(ctx: &Ctx<'_>, raw: &RawWorker<'_>, operation: Operation) -> Result<i64> {
    let by = match input::card_number(raw.card_number) {
        Err((field, message)) => return Err(RegistryError::field(field.json(), message)),
        Ok(Some(card)) => WorkerRef::Card(card),
        Ok(None) => match input::nir(raw.nir, raw.nir_key) {
            Ok(nir) => WorkerRef::Nir(nir),
            Err((field, message)) => {
                let message =
                    if raw.nir.is_none_or(|n| n.trim().is_empty()) {
                        format!(
                        "Indiquez le numéro de carte de suivi médical ou le NIR du travailleur {}.",
                        if operation == Operation::Remove { "à supprimer" } else { "à modifier" }
                    )
                    } else {
                        message
                    };
                return Err(RegistryError::field(field.json(), message));
            }
        },
    };
    match storage_workers::find(ctx.tx, ctx.establishment, &by)? {
        Some((id, false)) => Ok(id),
        _ => Err(RegistryError::NotFound),
    }
}

impl Registry {
    /// One line of the workers form (`POST …/workers`, `examples/worker.json`), for a CSE:
    /// - *Ajout*: a new worker; a NIR already on the list is refused (`DuplicateNir`), one
    ///   removed earlier is put back with the new line. *Nouvelle carte* issues the next card
    ///   number unless the worker already holds one.
    /// - *Modification*: the whole line replaced, the worker found by card number, else by NIR
    ///   (so a NIR typed wrong can be corrected by card number).
    /// - *Suppression*: the worker leaves the list (kept for the doses and the card).
    pub fn apply_worker(
        &self,
        who: &Principal,
        establishment: i64,
        input: &WorkerInput,
    ) -> Result<Applied> {
        // An identity conflict is recorded and committed, then answered as a refusal.
        self.edit_list(who, establishment, |ctx| {
            let Some(operation) = input.operation else {
                return Err(RegistryError::field(
                    "operation",
                    "Choisissez le type d'opération : ajout, modification ou suppression.",
                ));
            };
            let raw = RawWorker::from(input);
            let outcome = match operation {
                Operation::Add => add(ctx, input, &raw)?,
                Operation::Modify => modify(ctx, input, &raw)?,
                Operation::Remove => {
                    let id = identify(ctx, &raw, operation)?;
                    storage_workers::mark_removed(ctx.tx, id, &ctx.stamp())?;
                    ctx.audit("registry.worker.remove", &worker_target(id), &[])?;
                    let card = storage_workers::get(ctx.tx, ctx.establishment, id)?
                        .and_then(|r| r.worker.card_number);
                    Ok((id, card))
                }
            };
            if outcome.is_ok() && operation != Operation::Remove {
                // Results sent before the worker was declared become theirs now.
                self.attach_pending(ctx)?;
            }
            Ok(outcome.map(|(id, card)| Applied {
                operation,
                worker_id: id,
                card_number: card,
            }))
        })?
    }

    /// One worker, in the view the caller's role gives (complete for a CSE, dosimetric for a PCR
    /// or the physician). A worker of another establishment is `NotFound`.
    pub fn worker(&self, who: &Principal, establishment: i64, id: i64) -> Result<WorkerView> {
        self.run(who, establishment, &IDENTITY_KINDS, Action::Read, |ctx| {
            let record = storage_workers::get(ctx.tx, ctx.establishment, id)?
                .ok_or(RegistryError::NotFound)?;
            ctx.audit("registry.worker.read", &worker_target(id), &[])?;
            Ok(view_of(record, ctx.grant.kind))
        })
    }

    /// Searches the list by name prefix and/or NIR, optionally in one fraction, a page at a time:
    /// by key (`after`) or by position (`offset`), not both. The audit entry lists the ids of
    /// the workers shown, and only those (the entries an offset skips are not shown).
    pub fn search_workers(
        &self,
        who: &Principal,
        establishment: i64,
        query: &WorkerQuery,
    ) -> Result<Page<WorkerView>> {
        self.run(who, establishment, &IDENTITY_KINDS, Action::Read, |ctx| {
            if query.after.is_some() && query.offset > 0 {
                return Err(RegistryError::field(
                    "offset",
                    "Une page se demande soit par sa position (offset, page), soit à la suite \
                     de la précédente (after), pas les deux.",
                ));
            }
            let name = query.name.as_deref().map(fold).filter(|n| !n.is_empty());
            let nir = query.nir.as_deref().map(search_nir).transpose()?;
            let limit = query.page_size();
            let mut rows = storage_workers::search(
                ctx.tx,
                ctx.establishment,
                &storage_workers::Search {
                    name,
                    nir: nir.as_deref(),
                    fraction: query.fraction,
                    include_removed: query.include_removed,
                    after: query.after,
                    offset: query.offset,
                    limit,
                },
            )?;
            let more = rows.len() > limit as usize;
            rows.truncate(limit as usize);
            let next = if more {
                rows.last().map(|r| r.id)
            } else {
                None
            };
            let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
            let criteria = match (&query.name, &query.nir) {
                (Some(_), Some(_)) => "nom+nir",
                (Some(_), None) => "nom",
                (None, Some(_)) => "nir",
                (None, None) => "aucun",
            };
            ctx.audit(
                "registry.workers.search",
                &format!("establishment:{establishment}"),
                &[
                    ("criteria", criteria),
                    ("count", &rows.len().to_string()),
                    ("workers", &ids.join(",")),
                ],
            )?;
            Ok(Page {
                items: rows
                    .into_iter()
                    .map(|r| view_of(r, ctx.grant.kind))
                    .collect(),
                next,
            })
        })
    }
}

/// The NIR of a search: 15 characters (number and key, the key checked) or the 13 of the
/// number alone (its structure checked). Returns the 13 characters.
fn search_nir(text: &str) -> Result<String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let refuse = |e: NirError| RegistryError::field("nir", e.to_string());
    if compact.chars().count() == 15 {
        return Nir::parse_full(&compact)
            .map(|n| n.as_str().to_owned())
            .map_err(refuse);
    }
    // No key is `00` (97 − n mod 97 is 1..=97): a number whose structure holds fails on the
    // key alone.
    match Nir::parse(&compact, "00") {
        Err(NirError::KeyMismatch) => Ok(compact),
        Err(e) => Err(refuse(e)),
        Ok(_) => Err(refuse(NirError::KeyMismatch)),
    }
}

/// The person line `w` is an employment of ([`crate::person`]), created or corrected as the
/// line says; `Ok(Err(person))` when the NIR is another identity's, known elsewhere: nothing is
/// written then but the conflict's record.
fn bind_person(ctx: &Ctx<'_>, employment: Option<i64>, w: &Worker) -> Result<Result<i64, i64>> {
    let columns = Columns::of(w);
    let by_nir = storage_persons::find_by_nir(
        &mut *ctx.tx.prepare_cached(storage_persons::FIND_BY_NIR)?,
        &w.nir,
        ctx.establishment,
    )?;
    let current = match employment {
        Some(id) => match storage_persons::person_of(ctx.tx, id)? {
            Some(person) => storage_persons::find_by_id(
                &mut *ctx.tx.prepare_cached(storage_persons::FIND_BY_ID)?,
                person,
                ctx.establishment,
            )?,
            None => None,
        },
        None => None,
    };
    let binding = person::bind(by_nir.as_ref(), current.as_ref(), &columns);
    if let Binding::Conflict(person) = binding {
        let conflict = storage_persons::record_conflict(
            ctx.tx,
            person,
            ctx.establishment,
            w,
            storage_persons::Source::Form,
            &ctx.actor,
            &ctx.stamp(),
        )?;
        ctx.audit(
            "registry.person.conflict",
            &format!("person:{person}"),
            &[("conflict", &conflict.to_string()), ("source", "form")],
        )?;
        return Ok(Err(person));
    }
    let person = storage_persons::apply(
        &mut *ctx.tx.prepare_cached(storage_persons::INSERT)?,
        &mut *ctx.tx.prepare_cached(storage_persons::UPDATE)?,
        ctx.tx,
        binding,
        w,
        &columns,
        &ctx.stamp(),
    )?;
    Ok(Ok(person))
}

/// The declared first day of the employment, if the form gives one.
fn employed_from(input: &WorkerInput) -> Result<Option<time::Date>> {
    match input.employed_from.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => crate::date::parse(text).map(Some).map_err(|_| {
            RegistryError::field(
                "employed_from",
                "La date d'entrée doit être une date existante, écrite jj/mm/aaaa.",
            )
        }),
    }
}

/// What a line of the form did: applied, or left aside as an identity conflict (recorded, to be
/// committed before the refusal is answered).
type Outcome = Result<(i64, Option<crate::CardNumber>), RegistryError>;

fn add(ctx: &Ctx<'_>, input: &WorkerInput, raw: &RawWorker<'_>) -> Result<Outcome> {
    let mut w =
        input::validate(raw, ctx.today()).map_err(|p| RegistryError::Invalid(by_json_name(p)))?;
    let from = employed_from(input)?;
    if input.new_card && w.card_number.is_some() {
        return Err(RegistryError::field(
            "new_card",
            "Indiquez un numéro de carte ou cochez « Nouvelle carte », pas les deux.",
        ));
    }
    let fraction = resolve_fraction(ctx, &mut w)?;
    let existing = storage_workers::nir_holder(ctx.tx, ctx.establishment, &w.nir)?;
    if let Some((_, false)) = existing {
        return Err(RegistryError::DuplicateNir);
    }
    // Before the card number is issued: a conflict commits nothing but its record.
    let person = match bind_person(ctx, existing.map(|(id, _)| id), &w)? {
        Ok(person) => person,
        Err(_) => return Ok(Err(RegistryError::IdentityConflict)),
    };
    let existing_card = match existing {
        Some((id, _)) => {
            storage_workers::get(ctx.tx, ctx.establishment, id)?.and_then(|r| r.worker.card_number)
        }
        None => None,
    };
    if let Some(card) = &w.card_number {
        let holder = storage_workers::card_holder(ctx.tx, ctx.establishment, card)?;
        if holder.is_some() && holder != existing.map(|(id, _)| id) {
            return Err(RegistryError::DuplicateCard);
        }
        storage::reserve_card_numbers(ctx.tx, card.sequence())?;
    } else if input.new_card && existing_card.is_none() {
        w.card_number = Some(storage::next_card_number(ctx.tx)?);
    }
    let id = match existing {
        Some((id, _)) => {
            storage_persons::archive_period(ctx.tx, id)?;
            storage_workers::update(ctx.tx, id, person, &w, fraction, &ctx.stamp())
                .map_err(map_conflict)?;
            id
        }
        None => storage_workers::insert(
            ctx.tx,
            ctx.establishment,
            person,
            &w,
            fraction,
            &ctx.stamp(),
        )
        .map_err(map_conflict)?,
    };
    if let Some(from) = from {
        storage_workers::set_employed_from(ctx.tx, id, from)?;
    }
    let reactivated = if existing.is_some() { "oui" } else { "non" };
    ctx.audit(
        "registry.worker.add",
        &worker_target(id),
        &[("reactivated", reactivated)],
    )?;
    Ok(Ok((id, w.card_number.or(existing_card))))
}

fn modify(ctx: &Ctx<'_>, input: &WorkerInput, raw: &RawWorker<'_>) -> Result<Outcome> {
    let id = identify(ctx, raw, Operation::Modify)?;
    let mut w =
        input::validate(raw, ctx.today()).map_err(|p| RegistryError::Invalid(by_json_name(p)))?;
    let from = employed_from(input)?;
    let current =
        storage_workers::get(ctx.tx, ctx.establishment, id)?.ok_or(RegistryError::NotFound)?;
    if w.nir != current.worker.nir
        && storage_workers::nir_holder(ctx.tx, ctx.establishment, &w.nir)?.is_some()
    {
        return Err(RegistryError::DuplicateNir);
    }
    let person = match bind_person(ctx, Some(id), &w)? {
        Ok(person) => person,
        Err(_) => return Ok(Err(RegistryError::IdentityConflict)),
    };
    if w.card_number.is_none() {
        w.card_number = current.worker.card_number.clone();
    }
    if input.new_card {
        if w.card_number.is_some() {
            return Err(RegistryError::field(
                "new_card",
                "Ce travailleur a déjà une carte de suivi médical.",
            ));
        }
        w.card_number = Some(storage::next_card_number(ctx.tx)?);
    }
    let fraction = resolve_fraction(ctx, &mut w)?;
    storage_workers::update(ctx.tx, id, person, &w, fraction, &ctx.stamp())
        .map_err(map_conflict)?;
    if let Some(from) = from {
        storage_workers::set_employed_from(ctx.tx, id, from)?;
    }
    let nir_changed = if w.nir != current.worker.nir {
        "oui"
    } else {
        "non"
    };
    ctx.audit(
        "registry.worker.modify",
        &worker_target(id),
        &[("nir_changed", nir_changed)],
    )?;
    Ok(Ok((id, w.card_number)))
}
