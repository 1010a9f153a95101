//! Dose records and the rolling 12-month effective dose.
//!
//! Values are kept in whole microsieverts so that sums are exact and the limit is compared
//! without rounding surprises; the API speaks millisieverts.
//!
//! What each kind carries:
//! - passive and operational dosimetry: Hp(10) and/or Hp(0.07), at least one; no E;
//! - internal exposure (committed effective dose computed by the physician) and effective dose
//!   (an effective dose the physician determined otherwise: reconstruction after an incident, a
//!   lost dosimeter…): E, and neither Hp.
//!
//! The effective dose over 12 consecutive months adds up the passive Hp(10) (the regulatory
//! estimate of the external effective dose), the internal E and the effective E, of the records
//! whose period ends within the months. Operational results are left out: they measure the same
//! external exposure as the passive ones, for optimisation, and would count it twice.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date;
use crate::error::{FieldErrors, RegistryError};
use crate::policy::DataKind;

/// The effective dose limit over 12 consecutive months, in mSv.
pub const EFFECTIVE_LIMIT_MSV: f64 = 20.0;
pub(crate) const EFFECTIVE_LIMIT_USV: i64 = 20_000;
/// No single result above 100 Sv: beyond that the value is a typing mistake.
const MAX_USV: i64 = 100_000_000;

/// Type of dose record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseKind {
    /// Passive dosimetry, from a dosimetry body.
    Passive,
    /// Operational dosimetry, from the PCR.
    Operational,
    /// Internal exposure, from the physician.
    Internal,
    /// Effective dose, from the physician.
    Effective,
}

impl DoseKind {
    /// Every kind.
    pub const ALL: [DoseKind; 4] = [
        DoseKind::Passive,
        DoseKind::Operational,
        DoseKind::Internal,
        DoseKind::Effective,
    ];

    /// Stored form, checked by the schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passive => "passive",
            Self::Operational => "operational",
            Self::Internal => "internal",
            Self::Effective => "effective",
        }
    }

    pub(crate) fn from_str(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The row of the role matrix this kind of record falls under.
    pub fn data_kind(self) -> DataKind {
        match self {
            Self::Passive => DataKind::PassiveDose,
            Self::Operational => DataKind::OperationalDose,
            Self::Internal => DataKind::InternalExposure,
            Self::Effective => DataKind::EffectiveDose,
        }
    }

    /// Measured as Hp(10)/Hp(0.07) (dosimeters), rather than as E (computed).
    fn measured(self) -> bool {
        matches!(self, Self::Passive | Self::Operational)
    }
}

/// A dose result as sent. Dates `jj/mm/aaaa` or `aaaa-mm-jj`; values in mSv, kept to the µSv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseInput {
    /// Type of record.
    pub kind: DoseKind,
    /// First day of the period the result covers.
    pub period_start: String,
    /// Last day of the period.
    pub period_end: String,
    /// Hp(10), mSv.
    #[serde(default)]
    pub hp10_msv: Option<f64>,
    /// Hp(0.07), mSv.
    #[serde(default)]
    pub hp007_msv: Option<f64>,
    /// E, mSv.
    #[serde(default)]
    pub e_msv: Option<f64>,
}

/// A validated result, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewDose {
    pub kind: DoseKind,
    pub period_start: Date,
    pub period_end: Date,
    pub hp10_usv: Option<i64>,
    pub hp007_usv: Option<i64>,
    pub e_usv: Option<i64>,
}

impl DoseInput {
    /// Checks dates and values against what the kind carries.
    pub(crate) fn validate(&self, today: Date) -> Result<NewDose, RegistryError> {
        let mut fields = FieldErrors::new();
        let mut day = |name: &str, text: &str| {
            let d = date::field(&mut fields, name, text)?;
            if d > today {
                fields.insert(
                    name.into(),
                    "La période ne peut pas finir ni commencer dans le futur.".into(),
                );
                return None;
            }
            Some(d)
        };
        let start = day("period_start", &self.period_start);
        let end = day("period_end", &self.period_end);
        if let (Some(start), Some(end)) = (start, end) {
            if start > end {
                fields.insert(
                    "period_end".into(),
                    "La fin de la période précède son début.".into(),
                );
            }
        }

        let mut value = |name: &str, v: Option<f64>, allowed: bool| -> Option<i64> {
            let v = v?;
            if !allowed {
                fields.insert(
                    name.into(),
                    "Cette grandeur ne s'applique pas à ce type de dose.".into(),
                );
                return None;
            }
            let usv = (v * 1000.0).round();
            if !v.is_finite() || usv < 0.0 || usv > MAX_USV as f64 {
                fields.insert(
                    name.into(),
                    "La dose doit être un nombre de millisieverts positif ou nul.".into(),
                );
                return None;
            }
            // Finite and within 0..=MAX_USV by the check above.
            Some(usv as i64)
        };
        let measured = self.kind.measured();
        let hp10 = value("hp10_msv", self.hp10_msv, measured);
        let hp007 = value("hp007_msv", self.hp007_msv, measured);
        let e = value("e_msv", self.e_msv, !measured);
        if measured && self.hp10_msv.is_none() && self.hp007_msv.is_none() {
            fields.insert(
                "hp10_msv".into(),
                "Indiquez Hp(10), Hp(0,07) ou les deux.".into(),
            );
        }
        if !measured && self.e_msv.is_none() {
            fields.insert("e_msv".into(), "Indiquez la dose efficace E.".into());
        }
        match (start, end) {
            (Some(period_start), Some(period_end)) if fields.is_empty() => Ok(NewDose {
                kind: self.kind,
                period_start,
                period_end,
                hp10_usv: hp10,
                hp007_usv: hp007,
                e_usv: e,
            }),
            _ => Err(RegistryError::Invalid(fields)),
        }
    }
}

/// A stored dose result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DoseRecord {
    /// Internal id.
    pub id: i64,
    /// The internal id of the employment it was sent for (the worker in that establishment).
    pub worker_id: i64,
    /// The establishment it was sent for: another employer's, in a physician's career view.
    pub establishment_id: i64,
    /// Type of record.
    pub kind: DoseKind,
    /// First day of the period.
    #[serde(with = "date::serde_french")]
    pub period_start: Date,
    /// Last day of the period.
    #[serde(with = "date::serde_french")]
    pub period_end: Date,
    /// Hp(10), mSv.
    pub hp10_msv: Option<f64>,
    /// Hp(0.07), mSv.
    pub hp007_msv: Option<f64>,
    /// E, mSv.
    pub e_msv: Option<f64>,
    /// Who sent it: `accessor:<habilitation>` or `organisme:<name>`.
    pub source: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
}

/// Which records to read. Kinds the caller may not read are left out of an unrestricted query;
/// asking for one of them by name is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoseQuery {
    /// Only this kind.
    pub kind: Option<DoseKind>,
    /// Only the periods ending on or after this day.
    pub from: Option<Date>,
    /// Only the periods ending on or before this day.
    pub to: Option<Date>,
}

/// The effective dose over the 12 consecutive months ending on a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollingDose {
    /// The worker's internal id.
    pub worker_id: i64,
    /// First day of the 12 months.
    #[serde(with = "date::serde_french")]
    pub from: Date,
    /// Last day (the day asked for).
    #[serde(with = "date::serde_french")]
    pub to: Date,
    /// The sum, mSv.
    pub effective_msv: f64,
    /// The limit, 20 mSv.
    pub limit_msv: f64,
    /// True when the sum is above the limit.
    pub exceeds_limit: bool,
    /// How many records were added up.
    pub records: u64,
}

impl RollingDose {
    pub(crate) fn new(worker_id: i64, from: Date, to: Date, total_usv: i64, records: u64) -> Self {
        Self {
            worker_id,
            from,
            to,
            effective_msv: msv(total_usv),
            limit_msv: EFFECTIVE_LIMIT_MSV,
            exceeds_limit: total_usv > EFFECTIVE_LIMIT_USV,
            records,
        }
    }
}

/// µSv → mSv.
pub(crate) fn msv(usv: i64) -> f64 {
    usv as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2025 - 06 - 30);

    fn input(kind: DoseKind) -> DoseInput {
        DoseInput {
            kind,
            period_start: "01/05/2025".into(),
            period_end: "31/05/2025".into(),
            hp10_msv: None,
            hp007_msv: None,
            e_msv: None,
        }
    }

    #[test]
    fn a_passive_result_carries_hp_values_to_the_microsievert() {
        let mut i = input(DoseKind::Passive);
        i.hp10_msv = Some(0.25);
        i.hp007_msv = Some(1.2345);
        let d = i.validate(TODAY).unwrap();
        assert_eq!(
            (d.hp10_usv, d.hp007_usv, d.e_usv),
            (Some(250), Some(1235), None)
        );
        assert_eq!(d.period_end, date!(2025 - 05 - 31));
    }

    #[test]
    fn each_kind_takes_only_its_own_values() {
        let mut i = input(DoseKind::Operational);
        i.e_msv = Some(1.0);
        let RegistryError::Invalid(f) = i.validate(TODAY).unwrap_err() else {
            panic!()
        };
        assert!(f.contains_key("e_msv") && f.contains_key("hp10_msv"));

        let mut i = input(DoseKind::Internal);
        i.hp10_msv = Some(1.0);
        let RegistryError::Invalid(f) = i.validate(TODAY).unwrap_err() else {
            panic!()
        };
        assert!(f.contains_key("hp10_msv") && f.contains_key("e_msv"));
    }

    #[test]
    fn negative_values_and_backward_or_future_periods_are_refused() {
        let mut i = input(DoseKind::Effective);
        i.e_msv = Some(-0.1);
        i.period_start = "01/06/2025".into();
        i.period_end = "2025-05-01".into();
        let RegistryError::Invalid(f) = i.validate(TODAY).unwrap_err() else {
            panic!()
        };
        assert!(f.contains_key("e_msv") && f.contains_key("period_end"));
        i.e_msv = Some(f64::NAN);
        i.period_end = "01/07/2025".into();
        let RegistryError::Invalid(f) = i.validate(TODAY).unwrap_err() else {
            panic!()
        };
        assert!(f["period_end"].contains("futur"));
        assert!(f.contains_key("e_msv"));
    }

    #[test]
    fn the_limit_flag_is_strictly_above_twenty_millisieverts() {
        let at = |usv| RollingDose::new(1, TODAY, TODAY, usv, 1).exceeds_limit;
        assert!(!at(20_000));
        assert!(at(20_001));
    }
}
