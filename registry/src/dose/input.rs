//! A result as sent, and its checks against what its kind carries.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{DoseKind, Organ};
use crate::date;
use crate::error::{FieldErrors, RegistryError};

/// No single result above 100 Sv: beyond that the value is a typing mistake.
const MAX_USV: i64 = 100_000_000;
/// No radon exposure above 10¹² Bq·h·m⁻³ (a year at 10⁸ Bq·m⁻³).
const MAX_RADON: f64 = 1e12;

/// A dose result as sent. Dates `jj/mm/aaaa` or `aaaa-mm-jj`; values in mSv, kept to the µSv.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// Hp(0.07) skin, mSv.
    #[serde(default)]
    pub hp007_msv: Option<f64>,
    /// E, mSv.
    #[serde(default)]
    pub e_msv: Option<f64>,
    /// Hp(0.07) extremities, mSv (passive).
    #[serde(default)]
    pub extremity_msv: Option<f64>,
    /// Hp(3) lens, mSv (passive).
    #[serde(default)]
    pub hp3_msv: Option<f64>,
    /// The organ of an equivalent dose.
    #[serde(default)]
    pub organ: Option<Organ>,
    /// Equivalent dose H, mSv.
    #[serde(default)]
    pub h_msv: Option<f64>,
    /// Radon exposure, Bq·h·m⁻³ (a whole number).
    #[serde(default)]
    pub radon_bqhm3: Option<f64>,
    /// The SIRET of the establishment the result concerns (14 digits).
    #[serde(default)]
    pub siret: Option<String>,
    /// The id of the result this one corrects.
    #[serde(default)]
    pub replaces: Option<i64>,
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
    pub extremity_usv: Option<i64>,
    pub hp3_usv: Option<i64>,
    pub organ: Option<Organ>,
    pub h_usv: Option<i64>,
    pub radon_bqhm3: Option<i64>,
    pub siret: Option<String>,
    pub replaces: Option<i64>,
}

/// Which of the kind's quantities a field is, and whether the kind carries it.
fn carries(kind: DoseKind, field: &str) -> bool {
    use DoseKind::*;
    match field {
        "hp10_msv" | "hp007_msv" => matches!(kind, Passive | Operational),
        "extremity_msv" | "hp3_msv" => kind == Passive,
        "e_msv" => matches!(kind, Internal | Effective | Radon | Aircrew),
        "h_msv" | "organ" => kind == Equivalent,
        "radon_bqhm3" => kind == Radon,
        _ => false,
    }
}

/// A SIRET: 14 digits whose Luhn sum is a multiple of 10, or, for La Poste's establishments
/// (`356000000…` but the head office), whose digit sum is a multiple of 5.
pub(crate) fn siret_ok(s: &str) -> bool {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits = s.bytes().map(|b| u32::from(b - b'0'));
    if s.starts_with("356000000") && s != "35600000000048" {
        return digits.sum::<u32>() % 5 == 0;
    }
    let luhn: u32 = digits
        .rev()
        .enumerate()
        .map(|(i, d)| match (i % 2, d * 2) {
            (1, x) if x > 9 => x - 9,
            (1, x) => x,
            _ => d,
        })
        .sum();
    luhn % 10 == 0
}

impl DoseInput {
    /// The input `dose` was validated from, as far as it matters: validated again (with the
    /// same day), it gives `dose` back. Periods are written `aaaa-mm-jj`, values in mSv; a µSv
    /// divided by 1,000 then multiplied back is the same whole number (far below 2⁵³).
    pub(crate) fn of(dose: &NewDose) -> Self {
        let msv = |usv: Option<i64>| usv.map(|u| u as f64 / 1000.0);
        Self {
            kind: dose.kind,
            period_start: date::iso(dose.period_start),
            period_end: date::iso(dose.period_end),
            hp10_msv: msv(dose.hp10_usv),
            hp007_msv: msv(dose.hp007_usv),
            e_msv: msv(dose.e_usv),
            extremity_msv: msv(dose.extremity_usv),
            hp3_msv: msv(dose.hp3_usv),
            organ: dose.organ,
            h_msv: msv(dose.h_usv),
            radon_bqhm3: dose.radon_bqhm3.map(|r| r as f64),
            siret: dose.siret.clone(),
            replaces: dose.replaces,
        }
    }

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
            } else if let Some(months) = self.kind.max_months() {
                if end > date::last_day_within_months(start, months) {
                    let why = if months == 1 {
                        "La période de ce type de résultat dure au plus un mois.".to_owned()
                    } else {
                        format!("La période de ce type de résultat dure au plus {months} mois.")
                    };
                    fields.insert("period_end".into(), why);
                }
            }
        }

        let kind = self.kind;
        let mut value = |name: &str, v: Option<f64>| -> Option<i64> {
            let v = v?;
            if !carries(kind, name) {
                fields.insert(
                    name.into(),
                    "Cette grandeur ne s'applique pas à ce type de résultat.".into(),
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
        let hp10 = value("hp10_msv", self.hp10_msv);
        let hp007 = value("hp007_msv", self.hp007_msv);
        let e = value("e_msv", self.e_msv);
        let extremity = value("extremity_msv", self.extremity_msv);
        let hp3 = value("hp3_msv", self.hp3_msv);
        let h = value("h_msv", self.h_msv);

        let radon = match self.radon_bqhm3 {
            None => None,
            Some(_) if !carries(kind, "radon_bqhm3") => {
                fields.insert(
                    "radon_bqhm3".into(),
                    "Cette grandeur ne s'applique pas à ce type de résultat.".into(),
                );
                None
            }
            Some(v) if v.is_finite() && (0.0..=MAX_RADON).contains(&v) => Some(v.round() as i64),
            Some(_) => {
                fields.insert(
                    "radon_bqhm3".into(),
                    "L'exposition au radon doit être un nombre de Bq·h·m⁻³ positif ou nul.".into(),
                );
                None
            }
        };
        if self.organ.is_some() && !carries(kind, "organ") {
            fields.insert(
                "organ".into(),
                "L'organe ne s'indique que pour une dose équivalente.".into(),
            );
        }

        use DoseKind::*;
        let mut missing = |name: &str, why: &str| {
            fields.entry(name.into()).or_insert_with(|| why.into());
        };
        match kind {
            Passive
                if [self.hp10_msv, self.hp007_msv, self.extremity_msv, self.hp3_msv]
                    .iter()
                    .all(Option::is_none) =>
            {
                missing(
                    "hp10_msv",
                    "Indiquez au moins une grandeur : Hp(10), Hp(0,07) peau, Hp(0,07) extrémités ou Hp(3).",
                )
            }
            Operational if self.hp10_msv.is_none() && self.hp007_msv.is_none() => {
                missing("hp10_msv", "Indiquez Hp(10), Hp(0,07) ou les deux.")
            }
            Internal | Effective | Radon | Aircrew if self.e_msv.is_none() => {
                missing("e_msv", "Indiquez la dose efficace E.")
            }
            _ => {}
        }
        if kind == Equivalent {
            if self.organ.is_none() {
                missing(
                    "organ",
                    "Indiquez l'organe : cristallin, peau ou extrémités.",
                );
            }
            if self.h_msv.is_none() {
                missing("h_msv", "Indiquez la dose équivalente H.");
            }
        }
        if kind == Radon && self.radon_bqhm3.is_none() {
            missing("radon_bqhm3", "Indiquez l'exposition au radon en Bq·h·m⁻³.");
        }

        let siret = match self.siret.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) if siret_ok(s) => Some(s.to_owned()),
            Some(_) => {
                fields.insert(
                    "siret".into(),
                    "Le numéro SIRET doit compter 14 chiffres et sa clé de contrôle être juste."
                        .into(),
                );
                None
            }
        };
        if self.replaces.is_some_and(|r| r <= 0) {
            fields.insert(
                "replaces".into(),
                "Le résultat corrigé est désigné par son numéro.".into(),
            );
        }

        let (Some(period_start), Some(period_end)) = (start, end) else {
            return Err(RegistryError::Invalid(fields));
        };
        if !fields.is_empty() {
            return Err(RegistryError::Invalid(fields));
        }
        Ok(NewDose {
            kind,
            period_start,
            period_end,
            hp10_usv: hp10,
            hp007_usv: hp007,
            e_usv: e,
            extremity_usv: extremity,
            hp3_usv: hp3,
            organ: self.organ,
            h_usv: h,
            radon_bqhm3: radon,
            siret,
            replaces: self.replaces,
        })
    }
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
            ..DoseInput::default()
        }
    }

    fn refused(i: &DoseInput) -> FieldErrors {
        match i.validate(TODAY) {
            Err(RegistryError::Invalid(f)) => f,
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn the_input_of_a_validated_result_validates_to_it_again() {
        let mut doses = Vec::new();
        for usv in (0..=100_000_000_i64)
            .step_by(99_991)
            .chain([1, 999, 1001, 100_000_000])
        {
            let mut p = input(DoseKind::Passive);
            p.hp10_msv = Some(usv as f64 / 1000.0);
            p.hp3_msv = Some(0.001);
            p.siret = Some("73282932000074".into());
            doses.push(p.validate(TODAY).unwrap());
        }
        let mut e = input(DoseKind::Equivalent);
        (e.organ, e.h_msv) = (Some(Organ::Lens), Some(12.345));
        doses.push(e.validate(TODAY).unwrap());
        let mut r = input(DoseKind::Radon);
        (r.radon_bqhm3, r.e_msv) = (Some(123_456_789.0), Some(0.7));
        doses.push(r.validate(TODAY).unwrap());
        let mut o = input(DoseKind::Operational);
        (o.hp10_msv, o.hp007_msv, o.replaces) = (Some(0.012), Some(3.0), Some(7));
        doses.push(o.validate(TODAY).unwrap());
        doses.push(input(DoseKind::NoResult).validate(TODAY).unwrap());
        for d in doses {
            assert_eq!(DoseInput::of(&d).validate(TODAY).unwrap(), d);
        }
    }

    #[test]
    fn a_passive_result_carries_hp_values_to_the_microsievert() {
        let mut i = input(DoseKind::Passive);
        i.hp10_msv = Some(0.25);
        i.hp007_msv = Some(1.2345);
        i.hp3_msv = Some(0.5);
        i.extremity_msv = Some(12.0);
        let d = i.validate(TODAY).unwrap();
        assert_eq!(
            (d.hp10_usv, d.hp007_usv, d.e_usv, d.hp3_usv, d.extremity_usv),
            (Some(250), Some(1235), None, Some(500), Some(12_000))
        );
        assert_eq!(d.period_end, date!(2025 - 05 - 31));
    }

    #[test]
    fn each_kind_takes_only_its_own_values() {
        let mut i = input(DoseKind::Operational);
        i.e_msv = Some(1.0);
        i.hp3_msv = Some(1.0);
        let f = refused(&i);
        assert!(f.contains_key("e_msv") && f.contains_key("hp10_msv") && f.contains_key("hp3_msv"));

        let mut i = input(DoseKind::Internal);
        i.hp10_msv = Some(1.0);
        let f = refused(&i);
        assert!(f.contains_key("hp10_msv") && f.contains_key("e_msv"));

        let mut i = input(DoseKind::NoResult);
        i.hp10_msv = Some(0.0);
        assert!(refused(&i).contains_key("hp10_msv"));
        assert!(input(DoseKind::NoResult).validate(TODAY).is_ok());
    }

    #[test]
    fn an_equivalent_dose_names_its_organ_and_radon_its_exposure_and_dose() {
        let mut i = input(DoseKind::Equivalent);
        i.h_msv = Some(3.0);
        assert!(refused(&i)["organ"].contains("cristallin"));
        i.organ = Some(Organ::Lens);
        let d = i.validate(TODAY).unwrap();
        assert_eq!((d.organ, d.h_usv), (Some(Organ::Lens), Some(3_000)));

        let mut i = input(DoseKind::Radon);
        i.e_msv = Some(1.5);
        assert!(refused(&i).contains_key("radon_bqhm3"));
        i.radon_bqhm3 = Some(-1.0);
        assert!(refused(&i).contains_key("radon_bqhm3"));
        i.radon_bqhm3 = Some(250_000.0);
        i.organ = Some(Organ::Skin);
        assert!(refused(&i).contains_key("organ"));
        i.organ = None;
        let d = i.validate(TODAY).unwrap();
        assert_eq!((d.radon_bqhm3, d.e_usv), (Some(250_000), Some(1_500)));
    }

    #[test]
    fn a_passive_period_lasts_at_most_three_months_and_an_aircrew_one_at_most_one() {
        let mut i = input(DoseKind::Passive);
        i.hp10_msv = Some(0.1);
        i.period_start = "01/01/2025".into();
        i.period_end = "31/03/2025".into();
        assert!(i.validate(TODAY).is_ok());
        i.period_end = "01/04/2025".into();
        assert!(refused(&i)["period_end"].contains("3 mois"));
        // Not a limit of the other kinds.
        let mut i = input(DoseKind::Internal);
        i.e_msv = Some(0.1);
        i.period_start = "01/01/2025".into();
        i.period_end = "30/06/2025".into();
        assert!(i.validate(TODAY).is_ok());
        let mut i = input(DoseKind::Aircrew);
        i.e_msv = Some(0.1);
        i.period_start = "01/04/2025".into();
        i.period_end = "01/05/2025".into();
        assert!(refused(&i)["period_end"].contains("un mois"));
    }

    #[test]
    fn negative_values_and_backward_or_future_periods_are_refused() {
        let mut i = input(DoseKind::Effective);
        i.e_msv = Some(-0.1);
        i.period_start = "01/06/2025".into();
        i.period_end = "2025-05-01".into();
        let f = refused(&i);
        assert!(f.contains_key("e_msv") && f.contains_key("period_end"));
        i.e_msv = Some(f64::NAN);
        i.period_end = "01/07/2025".into();
        let f = refused(&i);
        assert!(f["period_end"].contains("futur"));
        assert!(f.contains_key("e_msv"));
    }

    #[test]
    fn a_siret_is_checked_and_never_echoed() {
        assert!(siret_ok("73282932000074"));
        assert!(!siret_ok("73282932000079"));
        assert!(siret_ok("35600000000048"));
        assert!(!siret_ok("7328293200007"));
        let mut i = input(DoseKind::Internal);
        i.e_msv = Some(0.1);
        i.siret = Some("73282932000079<script>".into());
        let f = refused(&i);
        assert!(!f["siret"].contains("script") && !f["siret"].contains("7328"));
        i.siret = Some(" 73282932000074 ".into());
        assert_eq!(
            i.validate(TODAY).unwrap().siret.as_deref(),
            Some("73282932000074")
        );
    }
}
