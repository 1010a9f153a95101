//! Dose records, the regulation's kinds of result (issue 15 §2), and the rolling 12-month
//! effective dose.
//!
//! Values are kept in whole microsieverts so that sums are exact and the limit is compared
//! without rounding surprises; the API speaks millisieverts.
//!
//! What each kind carries ([`DoseKind`]; the schema checks it again, migration 0007):
//!
//! | kind          | sent by (matrix row)            | quantities                                        | period   |
//! |---------------|---------------------------------|---------------------------------------------------|----------|
//! | `passive`     | dosimetry body (`PassiveDose`)  | Hp(10), Hp(0.07) skin, Hp(0.07) extremities, Hp(3) lens: at least one | ≤ 3 months |
//! | `operational` | PCR (`OperationalDose`)         | Hp(10), Hp(0.07): at least one                    |          |
//! | `internal`    | physician (`InternalExposure`)  | E, the committed effective dose                   |          |
//! | `effective`   | physician (`EffectiveDose`)     | E, determined otherwise (reconstruction, lost dosimeter…) | |
//! | `equivalent`  | physician (`EffectiveDose`)     | H for one organ: lens, skin or extremities        |          |
//! | `radon`       | dosimetry body (`PassiveDose`)  | the exposure in Bq·h·m⁻³ and E, the resulting dose |         |
//! | `aircrew`     | PCR (`OperationalDose`)         | E, calculated                                     | ≤ 1 month |
//! | `no_result`   | dosimetry body (`PassiveDose`)  | none: *absence de résultat* for the period        | ≤ 3 months |
//!
//! Every result also has its sender by role ([`Sender`]), the SIRET of the establishment it
//! concerns (the sender's, else the protocol's employer's, filled in by the web layer, which
//! asks the directory), and, for a correction, the result it replaces.
//!
//! Sums ([`crate::limits`]): the effective dose adds the passive Hp(10) (the regulatory estimate
//! of the external effective dose), the internal, effective, radon and aircrew E; the skin, the
//! extremities and the lens add the passive Hp(0.07), extremity Hp(0.07) and Hp(3) with the
//! physician's equivalent dose for that organ. Operational results are left out: they measure
//! the exposure the passive dosimeter measures, for optimisation, and would count it twice. A
//! replaced result counts no more: its correction counts instead.

mod input;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::date;
use crate::policy::{DataKind, Role};

pub use input::DoseInput;
pub(crate) use input::{siret_ok, NewDose};

/// The effective dose limit over 12 consecutive months, in mSv.
pub const EFFECTIVE_LIMIT_MSV: f64 = 20.0;
pub(crate) const EFFECTIVE_LIMIT_USV: i64 = 20_000;

/// Type of dose record.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DoseKind {
    /// Passive external dosimetry, from a dosimetry body.
    #[default]
    Passive,
    /// Operational dosimetry, from the PCR.
    Operational,
    /// Internal exposure (committed effective dose), from the physician.
    Internal,
    /// Effective dose determined by the physician.
    Effective,
    /// Equivalent dose to one organ, entered by the physician.
    Equivalent,
    /// Radon: the exposure and the resulting dose, from a dosimetry body.
    Radon,
    /// Aircrew: the calculated effective dose, from the PCR.
    Aircrew,
    /// No result for the period (*absence de résultat*), from a dosimetry body.
    NoResult,
}

impl DoseKind {
    /// Every kind.
    pub const ALL: [DoseKind; 8] = [
        DoseKind::Passive,
        DoseKind::Operational,
        DoseKind::Internal,
        DoseKind::Effective,
        DoseKind::Equivalent,
        DoseKind::Radon,
        DoseKind::Aircrew,
        DoseKind::NoResult,
    ];

    /// Stored form, checked by the schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passive => "passive",
            Self::Operational => "operational",
            Self::Internal => "internal",
            Self::Effective => "effective",
            Self::Equivalent => "equivalent",
            Self::Radon => "radon",
            Self::Aircrew => "aircrew",
            Self::NoResult => "no_result",
        }
    }

    pub(crate) fn from_str(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// French label, for the pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Passive => "Dosimétrie passive",
            Self::Operational => "Dosimétrie opérationnelle",
            Self::Internal => "Exposition interne",
            Self::Effective => "Dose efficace",
            Self::Equivalent => "Dose équivalente",
            Self::Radon => "Radon",
            Self::Aircrew => "Personnel navigant",
            Self::NoResult => "Absence de résultat",
        }
    }

    /// The row of the role matrix this kind of record falls under (see the module's table).
    pub fn data_kind(self) -> DataKind {
        match self {
            Self::Passive | Self::Radon | Self::NoResult => DataKind::PassiveDose,
            Self::Operational | Self::Aircrew => DataKind::OperationalDose,
            Self::Internal => DataKind::InternalExposure,
            Self::Effective | Self::Equivalent => DataKind::EffectiveDose,
        }
    }

    /// The longest period a result of this kind may cover, in months.
    pub(crate) fn max_months(self) -> Option<u8> {
        match self {
            Self::Passive | Self::NoResult => Some(3),
            Self::Aircrew => Some(1),
            _ => None,
        }
    }
}

/// The organ of an equivalent dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Organ {
    /// Lens of the eye.
    Lens,
    /// Skin (averaged over 1 cm²).
    Skin,
    /// Extremities (hands, forearms, feet, ankles).
    Extremities,
}

impl Organ {
    /// Every organ.
    pub const ALL: [Organ; 3] = [Organ::Lens, Organ::Skin, Organ::Extremities];

    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lens => "lens",
            Self::Skin => "skin",
            Self::Extremities => "extremities",
        }
    }

    pub(crate) fn from_str(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// The organ a form's value names; `None` for an empty or unknown value.
    pub fn from_form(s: &str) -> Option<Self> {
        Self::from_str(s.trim())
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Lens => "cristallin",
            Self::Skin => "peau",
            Self::Extremities => "extrémités",
        }
    }
}

/// Who sent a result, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// A dosimetry body.
    Body,
    /// The PCR.
    Pcr,
    /// The occupational physician.
    Physician,
}

impl Sender {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Pcr => "pcr",
            Self::Physician => "physician",
        }
    }

    pub(crate) fn from_str(s: &str) -> Option<Self> {
        [Self::Body, Self::Pcr, Self::Physician]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The sender a role writes as; the correspondent sends no result.
    pub(crate) fn of(role: Role) -> Option<Self> {
        match role {
            Role::DosimetryBody => Some(Self::Body),
            Role::Pcr => Some(Self::Pcr),
            Role::Mdt => Some(Self::Physician),
            Role::Cse => None,
        }
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Body => "Organisme de dosimétrie",
            Self::Pcr => "PCR",
            Self::Physician => "Médecin du travail",
        }
    }
}

/// A stored dose result. Doses in mSv; fields a kind does not carry are absent from the JSON.
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
    /// Hp(0.07) skin, mSv.
    pub hp007_msv: Option<f64>,
    /// E, mSv.
    pub e_msv: Option<f64>,
    /// Hp(0.07) extremities, mSv.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extremity_msv: Option<f64>,
    /// Hp(3) lens, mSv.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hp3_msv: Option<f64>,
    /// The organ of an equivalent dose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organ: Option<Organ>,
    /// Equivalent dose H, mSv.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h_msv: Option<f64>,
    /// Radon exposure, Bq·h·m⁻³.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radon_bqhm3: Option<i64>,
    /// The unit of the doses: always `mSv` (the radon exposure is in Bq·h·m⁻³).
    pub unit: &'static str,
    /// Who sent it, by role.
    pub sender: Sender,
    /// The SIRET of the establishment it concerns (given by the sender, or the protocol's).
    pub siret: Option<String>,
    /// The result this one corrects.
    pub replaces_id: Option<i64>,
    /// The result that corrects this one (only in a history: lists show current results).
    pub replaced_by: Option<i64>,
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

    #[test]
    fn the_limit_flag_is_strictly_above_twenty_millisieverts() {
        let day = date!(2025 - 06 - 30);
        let at = |usv| RollingDose::new(1, day, day, usv, 1).exceeds_limit;
        assert!(!at(20_000));
        assert!(at(20_001));
    }

    /// The module's table, cell by cell: who sends each kind and who reads it, through the
    /// role matrix's rows.
    #[test]
    fn each_kind_is_sent_and_read_by_the_roles_of_its_row() {
        use crate::policy::{allows, Action};
        use Role::*;
        let expected: [(DoseKind, &[Role], &[Role]); 8] = [
            (DoseKind::Passive, &[DosimetryBody], &[Mdt]),
            (DoseKind::Operational, &[Pcr], &[Pcr, Mdt]),
            (DoseKind::Internal, &[Mdt], &[Mdt]),
            (DoseKind::Effective, &[Mdt], &[Pcr, Mdt]),
            (DoseKind::Equivalent, &[Mdt], &[Pcr, Mdt]),
            (DoseKind::Radon, &[DosimetryBody], &[Mdt]),
            (DoseKind::Aircrew, &[Pcr], &[Pcr, Mdt]),
            (DoseKind::NoResult, &[DosimetryBody], &[Mdt]),
        ];
        for (kind, writers, readers) in expected {
            for role in Role::ALL {
                assert_eq!(
                    allows(role, kind.data_kind(), Action::Write),
                    writers.contains(&role),
                    "{kind:?} written by {role:?}"
                );
                assert_eq!(
                    allows(role, kind.data_kind(), Action::Read),
                    readers.contains(&role),
                    "{kind:?} read by {role:?}"
                );
            }
        }
    }

    #[test]
    fn every_kind_reads_back_from_its_stored_form() {
        for k in DoseKind::ALL {
            assert_eq!(DoseKind::from_str(k.as_str()), Some(k));
        }
        for o in Organ::ALL {
            assert_eq!(Organ::from_str(o.as_str()), Some(o));
        }
    }
}
