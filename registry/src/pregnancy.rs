//! A declared pregnancy, as the physician enters it (issue 15 §3; the limit is in
//! [`crate::limits`]).

use serde::Deserialize;
use time::{Date, Duration};

use crate::date;
use crate::error::{FieldErrors, RegistryError};

/// A pregnancy lasts at most ten months from its declaration.
const LONGEST_DAYS: i64 = 310;

/// A declaration of pregnancy: the day it was declared and its declared end (`jj/mm/aaaa`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PregnancyInput {
    /// *Date de déclaration*.
    #[serde(default)]
    pub declared_on: String,
    /// *Fin déclarée* (the expected birth).
    #[serde(default)]
    pub ends_on: String,
}

impl PregnancyInput {
    /// The two days, checked: declared no later than today, the end after the declaration and
    /// within ten months of it.
    pub(crate) fn validate(&self, today: Date) -> Result<(Date, Date), RegistryError> {
        let mut fields = FieldErrors::new();
        let declared = date::field(&mut fields, "declared_on", &self.declared_on);
        let ends = date::field(&mut fields, "ends_on", &self.ends_on);
        if declared.is_some_and(|d| d > today) {
            fields.insert(
                "declared_on".into(),
                "La déclaration ne peut pas être datée du futur.".into(),
            );
        }
        if let (Some(d), Some(e)) = (declared, ends) {
            if e < d {
                fields.insert(
                    "ends_on".into(),
                    "La fin déclarée précède la déclaration.".into(),
                );
            } else if e > d + Duration::days(LONGEST_DAYS) {
                fields.insert(
                    "ends_on".into(),
                    "La fin déclarée est à plus de dix mois de la déclaration.".into(),
                );
            }
        }
        match (declared, ends) {
            (Some(d), Some(e)) if fields.is_empty() => Ok((d, e)),
            _ => Err(RegistryError::Invalid(fields)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_declaration_ends_after_it_and_within_ten_months() {
        let today = date!(2025 - 06 - 30);
        let input = |d: &str, e: &str| PregnancyInput {
            declared_on: d.into(),
            ends_on: e.into(),
        };
        assert_eq!(
            input("01/03/2025", "15/11/2025").validate(today).unwrap(),
            (date!(2025 - 03 - 01), date!(2025 - 11 - 15))
        );
        let fields = |i: PregnancyInput| match i.validate(today) {
            Err(RegistryError::Invalid(f)) => f,
            other => panic!("{other:?}"),
        };
        assert!(fields(input("01/03/2025", "01/02/2025"))["ends_on"].contains("précède"));
        assert!(fields(input("01/03/2025", "01/03/2026"))["ends_on"].contains("dix mois"));
        assert!(fields(input("01/07/2025", "01/09/2025"))["declared_on"].contains("futur"));
        assert!(fields(input("", "01/09/2025")).contains_key("declared_on"));
    }
}
