//! *Bilans* (issue 15 §4): reading one is reading the effective dose of the establishment's
//! workers (PCR, physician; the matrix's row), audited like every read.

use time::Date;

use super::{Ctx, Registry};
use crate::bilan::{Bilan, Counted};
use crate::date::twelve_months_before;
use crate::policy::{Action, DataKind};
use crate::principal::Principal;
use crate::worker::Category;
use crate::{storage_doses, Result};

impl Registry {
    /// The bilan of the establishment over the 12 months ending on `on` (today when `None`).
    pub fn bilan(&self, who: &Principal, establishment: i64, on: Option<Date>) -> Result<Bilan> {
        self.run_on(
            Action::Read,
            who,
            establishment,
            DataKind::EffectiveDose,
            |ctx: &Ctx<'_>| {
                let to = on.unwrap_or_else(|| ctx.today());
                let from = twelve_months_before(to);
                let rows: Vec<Counted> =
                    storage_doses::effective_by_employment(ctx.tx, ctx.establishment, from, to)?
                        .into_iter()
                        .map(|(category, job, effective_usv)| Counted {
                            category: category
                                .as_deref()
                                .and_then(Category::from_code)
                                .map(Category::label),
                            job,
                            effective_usv,
                        })
                        .collect();
                let bilan = Bilan::new(ctx.establishment, from, to, &rows);
                ctx.audit(
                    "registry.bilan.read",
                    &format!("establishment:{establishment}"),
                    &[
                        ("workers", &rows.len().to_string()),
                        ("to", &crate::date::iso(to)),
                    ],
                )?;
                Ok(bilan)
            },
        )
    }
}
