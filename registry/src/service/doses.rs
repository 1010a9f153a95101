//! Dose records, the rolling effective dose and the medical follow-up card.

use time::Date;

use super::{authorize, worker_target, Ctx, Registry};
use crate::card::{CardFollowUp, CardInput, DeclaredPregnancy, DoseSummary, MedicalCard};
use crate::date::twelve_months_before;
use crate::dose::{msv, DoseInput, DoseKind, DoseQuery, DoseRecord, RollingDose, Sender};
use crate::error::FieldErrors;
use crate::policy::{allows, dose_scope, Action, DataKind, DoseScope};
use crate::principal::Principal;
use crate::storage_doses::Sums;
use crate::worker::{WorkerRef, WorkerSummary};
use crate::{
    storage_alerts, storage_doses, storage_persons, storage_workers, RegistryError, Result,
};

/// The worker of the establishment named by `r`, on the list or removed from it (results keep
/// coming after someone leaves).
fn worker_id(ctx: &Ctx<'_>, r: &WorkerRef) -> Result<i64> {
    storage_workers::find(ctx.tx, ctx.establishment, r)?
        .map(|(id, _)| id)
        .ok_or(RegistryError::NotFound)
}

fn rolling(ctx: &Ctx<'_>, worker: i64, on: Option<Date>) -> Result<(RollingDose, Sums)> {
    let to = on.unwrap_or_else(|| ctx.today());
    let from = twelve_months_before(to);
    let sums = storage_doses::sums(ctx.tx, worker, from, to)?;
    Ok((
        RollingDose::new(worker, from, to, sums.effective, sums.effective_records),
        sums,
    ))
}

fn scope_name(scope: DoseScope) -> &'static str {
    match scope {
        DoseScope::Career => "carriere",
        DoseScope::EmploymentPeriods => "periodes_emploi",
        DoseScope::Nothing => "aucun",
    }
}

impl Registry {
    /// Records a dose result. Who may send which kind follows the matrix: a dosimetry body
    /// passive results, the PCR operational ones, the physician internal exposure and effective
    /// doses. The worker is named by id, NIR or card number. Returns the record's id only:
    /// a dosimetry body reads nothing, not even back.
    pub fn record_dose(
        &self,
        who: &Principal,
        establishment: i64,
        worker: &WorkerRef,
        input: &DoseInput,
    ) -> Result<i64> {
        self.run_on(
            Action::Write,
            who,
            establishment,
            input.kind.data_kind(),
            |ctx| {
                let dose = input.validate(ctx.today())?;
                let worker = worker_id(ctx, worker)?;
                if let Some(replaced) = dose.replaces {
                    if let Some(why) =
                        storage_doses::replaceable(ctx.tx, worker, dose.kind, replaced, &ctx.actor)?
                    {
                        let mut fields = FieldErrors::new();
                        fields.insert("replaces".into(), why.into());
                        return Err(RegistryError::Invalid(fields));
                    }
                }
                // The matrix lets only bodies, PCRs and physicians write results.
                let sender = Sender::of(ctx.grant.role).ok_or(RegistryError::Forbidden {
                    kind: input.kind.data_kind(),
                    action: Action::Write,
                })?;
                let id =
                    storage_doses::insert(ctx.tx, worker, &dose, sender, &ctx.actor, &ctx.stamp())?;
                let replaces = dose.replaces.map(|r| r.to_string()).unwrap_or_default();
                ctx.audit(
                    "registry.dose.record",
                    &worker_target(worker),
                    &[
                        ("dose", &id.to_string()),
                        ("dose_kind", dose.kind.as_str()),
                        ("replaces", &replaces),
                    ],
                )?;
                if dose.replaces.is_some() {
                    self.close_corrected(ctx, worker, id)?;
                }
                self.check_limits(ctx, worker, id, dose.period_end)?;
                Ok(id)
            },
        )
    }

    /// A worker's dose records, of the kinds the caller may read (PCR: operational; physician:
    /// all). Asking for a kind by name that the caller may not read is `Forbidden`.
    pub fn doses(
        &self,
        who: &Principal,
        establishment: i64,
        worker: i64,
        query: &DoseQuery,
    ) -> Result<Vec<DoseRecord>> {
        let asked: Vec<DoseKind> = match query.kind {
            Some(kind) => vec![kind],
            None => DoseKind::ALL.to_vec(),
        };
        let readable: Vec<DoseKind> = asked
            .iter()
            .copied()
            .filter(|k| authorize(who, establishment, &[k.data_kind()], Action::Read).is_ok())
            .collect();
        // The first readable kind opens the transaction; with none, the refusal is recorded.
        let first = readable.first().copied().unwrap_or(asked[0]);
        self.run_on(Action::Read, who, establishment, first.data_kind(), |ctx| {
            storage_workers::find(ctx.tx, ctx.establishment, &WorkerRef::Id(worker))?
                .ok_or(RegistryError::NotFound)?;
            let scope = dose_scope(ctx.grant.role);
            let records =
                storage_doses::list(ctx.tx, worker, scope, &readable, query.from, query.to)?;
            let kinds: Vec<&str> = readable.iter().map(|k| k.as_str()).collect();
            ctx.audit(
                "registry.dose.read",
                &worker_target(worker),
                &[
                    ("dose_kinds", &kinds.join(",")),
                    ("scope", scope_name(scope)),
                    ("count", &records.len().to_string()),
                ],
            )?;
            Ok(records)
        })
    }

    /// The chain of corrections result `dose` of worker `worker` belongs to, newest first: what
    /// [`Registry::doses`] would show of it, and what it replaced. Same rules as
    /// [`Registry::doses`]; a result the caller may not see is `NotFound`.
    pub fn dose_history(
        &self,
        who: &Principal,
        establishment: i64,
        worker: i64,
        dose: i64,
    ) -> Result<Vec<DoseRecord>> {
        let readable: Vec<DoseKind> = DoseKind::ALL
            .into_iter()
            .filter(|k| authorize(who, establishment, &[k.data_kind()], Action::Read).is_ok())
            .collect();
        let first = readable.first().copied().unwrap_or(DoseKind::Passive);
        self.run_on(Action::Read, who, establishment, first.data_kind(), |ctx| {
            storage_workers::find(ctx.tx, ctx.establishment, &WorkerRef::Id(worker))?
                .ok_or(RegistryError::NotFound)?;
            let scope = dose_scope(ctx.grant.role);
            let chain = storage_doses::history(ctx.tx, worker, scope, &readable, dose)?;
            if chain.is_empty() {
                return Err(RegistryError::NotFound);
            }
            let ids: Vec<String> = chain.iter().map(|r| r.id.to_string()).collect();
            ctx.audit(
                "registry.dose.history",
                &worker_target(worker),
                &[("doses", &ids.join(",")), ("scope", scope_name(scope))],
            )?;
            Ok(chain)
        })
    }

    /// The effective dose over the 12 consecutive months ending on `on` (today when `None`),
    /// flagged above 20 mSv (PCR, physician).
    pub fn effective_dose(
        &self,
        who: &Principal,
        establishment: i64,
        worker: i64,
        on: Option<Date>,
    ) -> Result<RollingDose> {
        self.run_on(
            Action::Read,
            who,
            establishment,
            DataKind::EffectiveDose,
            |ctx| {
                let worker = worker_id(ctx, &WorkerRef::Id(worker))?;
                let (rolling, _) = rolling(ctx, worker, on)?;
                ctx.audit("registry.dose.effective", &worker_target(worker), &[])?;
                Ok(rolling)
            },
        )
    }

    /// The medical follow-up card (physician): identity, the physician's follow-up, and the
    /// doses over the 12 months ending on `on` (today when `None`). The doses part is there only
    /// when the caller's role may read every kind of dose, so that a change of the matrix cannot
    /// leak a kind through the card.
    pub fn medical_card(
        &self,
        who: &Principal,
        establishment: i64,
        worker: i64,
        on: Option<Date>,
    ) -> Result<MedicalCard> {
        self.run_on(
            Action::Read,
            who,
            establishment,
            DataKind::MedicalCard,
            |ctx| {
                let record = storage_workers::get(ctx.tx, ctx.establishment, worker)?
                    .ok_or(RegistryError::NotFound)?;
                let follow_up = storage_doses::card(ctx.tx, worker)?;
                let all_doses = DoseKind::ALL
                    .iter()
                    .all(|k| allows(ctx.grant.role, k.data_kind(), Action::Read));
                let doses = if all_doses {
                    let (rolling, sums) = rolling(ctx, worker, on)?;
                    Some(DoseSummary {
                        rolling,
                        passive_hp10_msv: msv(sums.passive_hp10),
                        passive_hp007_msv: msv(sums.passive_hp007),
                        operational_hp10_msv: msv(sums.operational_hp10),
                        internal_e_msv: msv(sums.internal_e),
                        effective_e_msv: msv(sums.effective_e),
                        skin_msv: msv(sums.skin),
                        extremities_msv: msv(sums.extremities),
                        lens_msv: msv(sums.lens),
                    })
                } else {
                    None
                };
                let pregnancies = match storage_persons::person_of(ctx.tx, worker)? {
                    Some(person) => storage_alerts::pregnancies(ctx.tx, person)?
                        .into_iter()
                        .map(|(declared_on, ends_on)| DeclaredPregnancy {
                            declared_on,
                            ends_on,
                        })
                        .collect(),
                    None => Vec::new(),
                };
                ctx.audit("registry.card.read", &worker_target(worker), &[])?;
                Ok(MedicalCard {
                    worker: WorkerSummary::from(record),
                    follow_up,
                    doses,
                    pregnancies,
                })
            },
        )
    }

    /// Writes the physician's part of the card (last visit, fitness, next visit, notes),
    /// replacing what was there. Returns it as stored.
    pub fn update_medical_card(
        &self,
        who: &Principal,
        establishment: i64,
        worker: i64,
        input: &CardInput,
    ) -> Result<CardFollowUp> {
        self.run_on(
            Action::Write,
            who,
            establishment,
            DataKind::MedicalCard,
            |ctx| {
                let card = input.validate(ctx.today())?;
                let worker = worker_id(ctx, &WorkerRef::Id(worker))?;
                storage_doses::put_card(ctx.tx, worker, &card, &ctx.actor, &ctx.stamp())?;
                ctx.audit("registry.card.update", &worker_target(worker), &[])?;
                storage_doses::card(ctx.tx, worker)
            },
        )
    }
}
