//! The medical follow-up card (*carte de suivi médical*): what the occupational physician keeps
//! on a worker, and only the physician sees.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date;
use crate::dose::RollingDose;
use crate::error::{FieldErrors, RegistryError};
use crate::worker::WorkerSummary;
use store::text::{self, TextError};

/// Longest note kept on a card.
const NOTES_MAX: usize = 4000;

/// The physician's conclusion at the last visit (*aptitude*).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fitness {
    /// *Apte*.
    Fit,
    /// *Apte avec restrictions*.
    FitWithRestrictions,
    /// *Inapte*.
    Unfit,
}

impl Fitness {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Fit => "fit",
            Self::FitWithRestrictions => "fit_with_restrictions",
            Self::Unfit => "unfit",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        [Self::Fit, Self::FitWithRestrictions, Self::Unfit]
            .into_iter()
            .find(|f| f.code() == code)
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Fit => "apte",
            Self::FitWithRestrictions => "apte avec restrictions",
            Self::Unfit => "inapte",
        }
    }
}

/// What the physician writes on the card; replaces what was there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    /// *Date de la dernière visite*, `jj/mm/aaaa`.
    #[serde(default)]
    pub last_visit: Option<String>,
    /// *Aptitude* concluded at that visit.
    #[serde(default)]
    pub fitness: Option<Fitness>,
    /// Date of the next visit planned, `jj/mm/aaaa`.
    #[serde(default)]
    pub next_visit: Option<String>,
    /// Free notes.
    #[serde(default)]
    pub notes: Option<String>,
}

/// The physician's part of the card, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CardFollowUp {
    /// Last visit.
    #[serde(with = "date::serde_french::option")]
    pub last_visit: Option<Date>,
    /// Fitness at that visit.
    pub fitness: Option<Fitness>,
    /// Next visit planned.
    #[serde(with = "date::serde_french::option")]
    pub next_visit: Option<Date>,
    /// Notes.
    pub notes: Option<String>,
    /// Who last wrote it (`accessor:<habilitation>`).
    pub updated_by: Option<String>,
    /// When (RFC 3339).
    pub updated_at: Option<String>,
}

impl CardInput {
    pub(crate) fn validate(&self, today: Date) -> Result<CardFollowUp, RegistryError> {
        let mut fields = FieldErrors::new();
        let mut day = |name: &str, text: Option<&str>| -> Option<Date> {
            date::field(&mut fields, name, text::present(text)?)
        };
        let last_visit = day("last_visit", self.last_visit.as_deref());
        let next_visit = day("next_visit", self.next_visit.as_deref());
        if last_visit.is_some_and(|d| d > today) {
            fields.insert(
                "last_visit".into(),
                "La dernière visite ne peut pas être dans le futur.".into(),
            );
        }
        if self.fitness.is_some() && last_visit.is_none() && !fields.contains_key("last_visit") {
            fields.insert(
                "last_visit".into(),
                "Indiquez la date de la visite qui a conclu à l'aptitude.".into(),
            );
        }
        let notes = match text::present(self.notes.as_deref()) {
            None => None,
            Some(notes) => match notes_text(notes) {
                Ok(n) => Some(n),
                Err(TextError::TooLong(max)) => {
                    fields.insert(
                        "notes".into(),
                        format!("Les notes ne peuvent dépasser {max} caractères."),
                    );
                    None
                }
                Err(_) => {
                    fields.insert(
                        "notes".into(),
                        "Les notes contiennent des caractères non admis.".into(),
                    );
                    None
                }
            },
        };
        if !fields.is_empty() {
            return Err(RegistryError::Invalid(fields));
        }
        Ok(CardFollowUp {
            last_visit,
            fitness: self.fitness,
            next_visit,
            notes,
            updated_by: None,
            updated_at: None,
        })
    }
}

/// Notes keep their line breaks; other control characters are refused.
fn notes_text(input: &str) -> Result<String, TextError> {
    let text = input.trim().replace("\r\n", "\n");
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(TextError::Characters);
    }
    if text.chars().count() > NOTES_MAX {
        return Err(TextError::TooLong(NOTES_MAX));
    }
    Ok(text)
}

/// The doses on the card: the rolling effective dose and, per kind, the sums over the same
/// 12 months.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoseSummary {
    /// Effective dose over the 12 months, with the 20 mSv flag.
    pub rolling: RollingDose,
    /// Passive dosimetry: Hp(10) and Hp(0.07) sums, mSv.
    pub passive_hp10_msv: f64,
    /// Passive Hp(0.07) sum, mSv.
    pub passive_hp007_msv: f64,
    /// Operational Hp(10) sum, mSv.
    pub operational_hp10_msv: f64,
    /// Internal exposure E sum, mSv.
    pub internal_e_msv: f64,
    /// Effective dose records' E sum, mSv.
    pub effective_e_msv: f64,
    /// Skin: passive Hp(0.07) and equivalent doses to the skin, mSv.
    pub skin_msv: f64,
    /// Extremities: passive extremity Hp(0.07) and equivalent doses to them, mSv.
    pub extremities_msv: f64,
    /// Lens of the eye: passive Hp(3) and equivalent doses to it, mSv.
    pub lens_msv: f64,
}

/// A pregnancy the physician declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclaredPregnancy {
    /// The day it was declared.
    #[serde(with = "crate::date::serde_french")]
    pub declared_on: time::Date,
    /// Its declared end.
    #[serde(with = "crate::date::serde_french")]
    pub ends_on: time::Date,
}

/// The medical follow-up card: the worker's identity, the physician's follow-up, the doses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MedicalCard {
    /// Identity, card number, category, job… (the dosimetric view's fields).
    pub worker: WorkerSummary,
    /// Visits and fitness.
    pub follow_up: CardFollowUp,
    /// Doses over the 12 months ending on the day asked for; `None` when the caller's role may
    /// not read every kind of dose.
    pub doses: Option<DoseSummary>,
    /// Declared pregnancies, latest first.
    pub pregnancies: Vec<DeclaredPregnancy>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_fitness_needs_the_date_of_its_visit() {
        let input = CardInput {
            fitness: Some(Fitness::Fit),
            ..CardInput::default()
        };
        let RegistryError::Invalid(f) = input.validate(date!(2025 - 06 - 30)).unwrap_err() else {
            panic!()
        };
        assert!(f.contains_key("last_visit"));
    }

    #[test]
    fn notes_keep_line_breaks() {
        let input = CardInput {
            last_visit: Some("02/06/2025".into()),
            fitness: Some(Fitness::FitWithRestrictions),
            notes: Some(" Pas de travail en zone contrôlée.\r\nRevoir en septembre. ".into()),
            ..CardInput::default()
        };
        let card = input.validate(date!(2025 - 06 - 30)).unwrap();
        assert_eq!(
            card.notes.as_deref(),
            Some("Pas de travail en zone contrôlée.\nRevoir en septembre.")
        );
        assert_eq!(card.last_visit, Some(date!(2025 - 06 - 02)));
    }
}
