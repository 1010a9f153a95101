//! *Fractionner la liste*: the fractions of an establishment's list, and who is in which.

use super::workers::IDENTITY_KINDS;
use super::{worker_target, Registry};
use crate::fraction::Fraction;
use crate::policy::Action;
use crate::principal::Principal;
use crate::storage::{conflict, Conflict};
use crate::worker::input::fraction_name;
use crate::worker::WorkerRef;
use crate::{storage_fractions, storage_workers, RegistryError, Result};

fn name(input: &str) -> Result<String> {
    fraction_name(input).map_err(|m| RegistryError::field("name", m))
}

fn taken(e: rusqlite::Error) -> RegistryError {
    match conflict(&e) {
        Some(Conflict::FractionName) => RegistryError::DuplicateFraction,
        _ => e.into(),
    }
}

impl Registry {
    /// The list's fractions with their number of workers; for whoever may see the list.
    pub fn fractions(&self, who: &Principal, establishment: i64) -> Result<Vec<Fraction>> {
        self.run(who, establishment, &IDENTITY_KINDS, Action::Read, |ctx| {
            storage_fractions::list(ctx.tx, ctx.establishment)
        })
    }

    /// Creates a fraction (CSE). Names are unique regardless of case and accents.
    pub fn create_fraction(
        &self,
        who: &Principal,
        establishment: i64,
        fraction: &str,
    ) -> Result<Fraction> {
        self.edit_list(who, establishment, |ctx| {
            let fraction = name(fraction)?;
            let id = storage_fractions::create(ctx.tx, ctx.establishment, &fraction, &ctx.stamp())
                .map_err(taken)?;
            ctx.audit("registry.fraction.create", &format!("fraction:{id}"), &[])?;
            Ok(Fraction {
                id,
                name: fraction,
                workers: 0,
            })
        })
    }

    /// Renames a fraction (CSE).
    pub fn rename_fraction(
        &self,
        who: &Principal,
        establishment: i64,
        id: i64,
        fraction: &str,
    ) -> Result<Fraction> {
        self.edit_list(who, establishment, |ctx| {
            let fraction = name(fraction)?;
            if !storage_fractions::rename(ctx.tx, ctx.establishment, id, &fraction)
                .map_err(taken)?
            {
                return Err(RegistryError::NotFound);
            }
            ctx.audit("registry.fraction.rename", &format!("fraction:{id}"), &[])?;
            storage_fractions::get(ctx.tx, ctx.establishment, id)?.ok_or(RegistryError::NotFound)
        })
    }

    /// Deletes a fraction (CSE); its workers stay on the list, in no fraction. Returns how many
    /// workers were in it.
    pub fn delete_fraction(&self, who: &Principal, establishment: i64, id: i64) -> Result<usize> {
        self.edit_list(who, establishment, |ctx| {
            let workers = storage_fractions::delete(ctx.tx, ctx.establishment, id, &ctx.stamp())?
                .ok_or(RegistryError::NotFound)?;
            let fraction = id.to_string();
            for worker in &workers {
                ctx.audit(
                    "registry.worker.fraction",
                    &worker_target(*worker),
                    &[("fraction", ""), ("deleted_fraction", &fraction)],
                )?;
            }
            ctx.audit(
                "registry.fraction.delete",
                &format!("fraction:{id}"),
                &[("workers", &workers.len().to_string())],
            )?;
            Ok(workers.len())
        })
    }

    /// Puts workers in a fraction, or in none with `None` (CSE). All or nothing: an unknown
    /// worker or fraction changes nothing (`NotFound`). Returns how many workers were updated.
    pub fn assign_fraction(
        &self,
        who: &Principal,
        establishment: i64,
        fraction: Option<i64>,
        workers: &[i64],
    ) -> Result<usize> {
        self.edit_list(who, establishment, |ctx| {
            if let Some(id) = fraction {
                storage_fractions::get(ctx.tx, ctx.establishment, id)?
                    .ok_or(RegistryError::NotFound)?;
            }
            let label = fraction.map(|f| f.to_string()).unwrap_or_default();
            let stamp = ctx.stamp();
            for &worker in workers {
                match storage_workers::find(ctx.tx, ctx.establishment, &WorkerRef::Id(worker))? {
                    Some((_, false)) => {}
                    _ => return Err(RegistryError::NotFound),
                }
                storage_fractions::assign(ctx.tx, ctx.establishment, fraction, worker, &stamp)?;
                ctx.audit(
                    "registry.worker.fraction",
                    &worker_target(worker),
                    &[("fraction", &label)],
                )?;
            }
            Ok(workers.len())
        })
    }
}
