//! Limit alerts (issue 15 §3): checked at every new result over every employer of the person
//! ([`crate::limits`]), shown to the PCRs and physicians of the establishments concerned,
//! acknowledged by a physician. Who may do what, with the matrix's rows: reading alerts is
//! reading the effective dose (PCR, physician); acknowledging one is writing the medical
//! follow-up card (the physician).

use time::Date;

use super::{worker_target, Ctx, Registry};
use crate::limits::{self, Contribution, Crossing};
use crate::policy::{Action, DataKind};
use crate::pregnancy::PregnancyInput;
use crate::principal::Principal;
use crate::storage_alerts::{self, LimitAlert, NewAlert};
use crate::worker::WorkerRef;
use crate::{storage_persons, storage_workers, RegistryError, Result};

/// Whose limits a new result is checked against: the person, their birth date (minors' limits),
/// whether the employment is of category B, and whether a pregnancy may hold (when `false`, the
/// declared pregnancies are not looked up).
pub(super) struct LimitSubject {
    pub person: i64,
    pub birth: Option<Date>,
    pub category_b: bool,
    pub pregnancies: bool,
    /// The person's current results ending in the new result's span ([`limits::span_of`]),
    /// read before the transaction recorded anything of the person: then they and the new
    /// result are all the limits' check needs, and it asks the database nothing. `None`: it
    /// asks.
    pub earlier: Option<Vec<Contribution>>,
}

impl Registry {
    /// Checks the limits after result `dose` (period ending `period_end`) of employment `worker`
    /// was recorded, in the same transaction: a limit crossed that has no alert awaiting
    /// acknowledgement raises one, and its e-mails are queued.
    pub(super) fn check_limits(
        &self,
        ctx: &Ctx<'_>,
        worker: i64,
        dose: i64,
        period_end: Date,
    ) -> Result<()> {
        let Some(person) = storage_persons::person_of(ctx.tx, worker)? else {
            return Ok(());
        };
        let subject = LimitSubject {
            person,
            birth: storage_alerts::birth_date(ctx.tx, person)?,
            category_b: storage_alerts::category_b(ctx.tx, worker)?,
            pregnancies: true,
            earlier: None,
        };
        self.check_limits_of(ctx, &subject, None, worker, dose, period_end)
    }

    /// [`Self::check_limits`] for a caller that knows the person already (a transmission's
    /// line, whose NIR lookup returned them). `new` is the recorded result's part, given when
    /// the caller may use `subject.earlier` (the result corrects nothing).
    pub(super) fn check_limits_of(
        &self,
        ctx: &Ctx<'_>,
        subject: &LimitSubject,
        new: Option<Contribution>,
        worker: i64,
        dose: i64,
        period_end: Date,
    ) -> Result<()> {
        let person = subject.person;
        // Every result that shares a window with this one, in the order of their last days
        // (the windows' ties then go to the same one whichever way they were gathered).
        let mut records = match (&subject.earlier, new) {
            (Some(earlier), Some(new)) => {
                let mut records = Vec::with_capacity(earlier.len() + 1);
                records.extend_from_slice(earlier);
                records.push(new);
                records
            }
            _ => {
                let (from, to) = limits::span_of(period_end);
                storage_alerts::contributions(ctx.tx, person, from, to)?
            }
        };
        records.sort_by_key(|c| c.period_end);
        let mut crossed =
            limits::crossings(&records, period_end, subject.birth, subject.category_b);
        if subject.pregnancies {
            for (declared, ends) in storage_alerts::pregnancies_holding(ctx.tx, person, period_end)?
            {
                let span = storage_alerts::contributions(ctx.tx, person, declared, ends)?;
                crossed.extend(limits::pregnancy_crossing(&span, declared, ends));
            }
        }
        for crossing in crossed {
            self.raise(ctx, person, worker, dose, &crossing)?;
        }
        Ok(())
    }

    /// After correction `dose` of employment `worker`: closes each alert of the person awaiting
    /// acknowledgement whose window now adds up to its limit or less (the corrected results
    /// count, the replaced ones no longer do). Runs before [`Registry::check_limits`], which
    /// raises a new alert if the correction still crosses a limit in some window.
    pub(super) fn close_corrected(&self, ctx: &Ctx<'_>, worker: i64, dose: i64) -> Result<()> {
        let Some(person) = storage_persons::person_of(ctx.tx, worker)? else {
            return Ok(());
        };
        for alert in storage_alerts::open_of(ctx.tx, person)? {
            let records = storage_alerts::contributions(ctx.tx, person, alert.from, alert.to)?;
            let window =
                limits::sum_between(&records, alert.limit.quantity(), alert.from, alert.to);
            if window.sum_usv > alert.limit_usv {
                continue;
            }
            if storage_alerts::close(ctx.tx, alert.id, dose, &ctx.stamp())? {
                ctx.audit(
                    "registry.alert.close",
                    &worker_target(worker),
                    &[
                        ("alert", &alert.id.to_string()),
                        ("limit", alert.limit.as_str()),
                        ("correction", &dose.to_string()),
                    ],
                )?;
            }
        }
        Ok(())
    }

    /// Raises the alert of `crossing` unless one of its limit awaits acknowledgement.
    fn raise(
        &self,
        ctx: &Ctx<'_>,
        person: i64,
        worker: i64,
        dose: i64,
        crossing: &Crossing,
    ) -> Result<()> {
        if storage_alerts::is_open(ctx.tx, person, crossing.limit)? {
            return Ok(());
        }
        // The category is this employer's: its check concerns it alone.
        let mut concerned = if crossing.limit.is_category_check() {
            Vec::new()
        } else {
            storage_alerts::employers_in(ctx.tx, person, crossing.window.from, crossing.window.to)?
        };
        if !concerned.iter().any(|(e, _)| *e == ctx.establishment) {
            concerned.push((ctx.establishment, worker));
        }
        let id = storage_alerts::insert(
            ctx.tx,
            &NewAlert {
                person,
                limit: crossing.limit,
                from: crossing.window.from,
                to: crossing.window.to,
                sum_usv: crossing.window.sum_usv,
                limit_usv: crossing.threshold_usv,
                dose,
                establishments: &concerned,
            },
            &ctx.stamp(),
        )?;
        let establishments: Vec<String> = concerned.iter().map(|(e, _)| e.to_string()).collect();
        ctx.audit(
            "registry.alert.raise",
            &worker_target(worker),
            &[
                ("alert", &id.to_string()),
                ("limit", crossing.limit.as_str()),
                ("establishments", &establishments.join(",")),
            ],
        )?;
        if let Some(mail) = &self.alert_mail {
            for (establishment, _) in &concerned {
                mail.queue(ctx.tx, *establishment, ctx.now)
                    .map_err(RegistryError::Mail)?;
            }
        }
        Ok(())
    }

    /// Records a declared pregnancy of worker `worker` (physician): from `input.declared_on` to
    /// `input.ends_on` the unborn child's dose is checked against 1 mSv at every new result,
    /// and at once against the results already recorded in the span.
    pub fn declare_pregnancy(
        &self,
        who: &Principal,
        establishment: i64,
        worker: i64,
        input: &PregnancyInput,
    ) -> Result<i64> {
        self.run_on(
            Action::Write,
            who,
            establishment,
            DataKind::MedicalCard,
            |ctx| {
                let (declared, ends) = input.validate(ctx.today())?;
                let worker =
                    storage_workers::find(ctx.tx, ctx.establishment, &WorkerRef::Id(worker))?
                        .map(|(id, _)| id)
                        .ok_or(RegistryError::NotFound)?;
                let person =
                    storage_persons::person_of(ctx.tx, worker)?.ok_or(RegistryError::NotFound)?;
                let id = storage_alerts::insert_pregnancy(
                    ctx.tx,
                    person,
                    declared,
                    ends,
                    &ctx.actor,
                    &ctx.stamp(),
                )?;
                ctx.audit(
                    "registry.pregnancy.declare",
                    &worker_target(worker),
                    &[("pregnancy", &id.to_string())],
                )?;
                let span = storage_alerts::contributions(ctx.tx, person, declared, ends)?;
                if let Some(crossing) = limits::pregnancy_crossing(&span, declared, ends) {
                    if let Some(dose) =
                        storage_alerts::last_dose_in(ctx.tx, person, declared, ends)?
                    {
                        self.raise(ctx, person, worker, dose, &crossing)?;
                    }
                }
                Ok(id)
            },
        )
    }

    /// The limit alerts that concern the establishment (PCR, physician), those awaiting
    /// acknowledgement first.
    pub fn alerts(&self, who: &Principal, establishment: i64) -> Result<Vec<LimitAlert>> {
        self.run_on(
            Action::Read,
            who,
            establishment,
            DataKind::EffectiveDose,
            |ctx| {
                let alerts = storage_alerts::list(ctx.tx, ctx.establishment)?;
                let ids: Vec<String> = alerts.iter().map(|a| a.id.to_string()).collect();
                ctx.audit(
                    "registry.alerts.read",
                    &format!("establishment:{establishment}"),
                    &[
                        ("count", &alerts.len().to_string()),
                        ("alerts", &ids.join(",")),
                    ],
                )?;
                Ok(alerts)
            },
        )
    }

    /// Acknowledges alert `id`, which concerns the establishment (physician). Returns whether
    /// this call acknowledged it (`false`: it was already). Audited either way.
    pub fn acknowledge_alert(&self, who: &Principal, establishment: i64, id: i64) -> Result<bool> {
        self.run_on(
            Action::Write,
            who,
            establishment,
            DataKind::MedicalCard,
            |ctx| {
                let done = storage_alerts::acknowledge(
                    ctx.tx,
                    ctx.establishment,
                    id,
                    &ctx.actor,
                    &ctx.stamp(),
                )?
                .ok_or(RegistryError::NotFound)?;
                ctx.audit(
                    "registry.alert.acknowledge",
                    &format!("alert:{id}"),
                    &[("already", if done { "non" } else { "oui" })],
                )?;
                Ok(done)
            },
        )
    }
}
