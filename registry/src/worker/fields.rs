//! The coded fields of a workers list line, parsed at the edge so that a stored worker cannot
//! hold a bad value.

use std::fmt;

use serde::{Serialize, Serializer};

use store::text::fold;

/// A medical follow-up card number (*numéro de carte de suivi médical*): the letter `C` then
/// 8 digits, `C00000042`. The registry issues them from one sequence ("new card"); a number
/// typed or imported must have the same form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CardNumber(String);

impl CardNumber {
    /// Parses `C` + 8 digits; spaces around and a lower-case `c` are accepted.
    pub fn parse(input: &str) -> Option<Self> {
        let text = input.trim();
        let bytes = text.as_bytes();
        let ok = bytes.len() == 9
            && matches!(bytes[0], b'C' | b'c')
            && bytes[1..].iter().all(u8::is_ascii_digit);
        ok.then(|| Self(format!("C{}", &text[1..])))
    }

    /// The card numbered `n` in the registry's sequence; `None` past 99,999,999.
    pub(crate) fn from_sequence(n: i64) -> Option<Self> {
        (1..=99_999_999)
            .contains(&n)
            .then(|| Self(format!("C{n:08}")))
    }

    /// Its place in the sequence.
    pub(crate) fn sequence(&self) -> i64 {
        self.0[1..]
            .bytes()
            .fold(0, |n, b| n * 10 + i64::from(b - b'0'))
    }

    /// `C00000042`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CardNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Worker category for radiation protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Category A: likely to exceed 6 mSv a year.
    A,
    /// Category B.
    B,
    /// *Non classé*.
    Unclassified,
}

impl Category {
    /// Parses `A`, `B` or `non classé` (also `NC`, any case, with or without the accent).
    pub fn parse(input: &str) -> Option<Self> {
        match fold(input).as_str() {
            "A" => Some(Self::A),
            "B" => Some(Self::B),
            "NC" | "NON CLASSE" => Some(Self::Unclassified),
            _ => None,
        }
    }

    /// Stored form (`A`, `B`, `NC`), checked by the schema.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::Unclassified => "NC",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        match code {
            "A" => Some(Self::A),
            "B" => Some(Self::B),
            "NC" => Some(Self::Unclassified),
            _ => None,
        }
    }

    /// As shown and exported: `A`, `B`, `non classé`.
    pub fn label(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::Unclassified => "non classé",
        }
    }
}

/// Type of employment contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContractType {
    /// *Contrat à durée indéterminée*.
    Permanent,
    /// *Contrat à durée déterminée*.
    FixedTerm,
    /// *Intérim* (temporary agency work).
    Temporary,
    /// *Non salarié* (self-employed, the practice's own dentist).
    SelfEmployed,
    /// *Apprentissage*.
    Apprenticeship,
    /// *Stage* (internship).
    Internship,
    /// *Autre*.
    Other,
}

impl ContractType {
    /// Parses the form's labels: `CDI`, `CDI : contrat a duree indeterminee`, `CDD`, `intérim`
    /// (or `intérimaire`, `CTT`), `non salarié`, `apprentissage`, `stage`, `autre`; any case,
    /// accents optional.
    pub fn parse(input: &str) -> Option<Self> {
        let head = input.split(':').next().unwrap_or(input);
        match fold(head).as_str() {
            "CDI" => Some(Self::Permanent),
            "CDD" => Some(Self::FixedTerm),
            "INTERIM" | "INTERIMAIRE" | "CTT" => Some(Self::Temporary),
            "NON SALARIE" => Some(Self::SelfEmployed),
            "APPRENTISSAGE" | "APPRENTI" => Some(Self::Apprenticeship),
            "STAGE" | "STAGIAIRE" => Some(Self::Internship),
            "AUTRE" => Some(Self::Other),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Permanent => "CDI",
            Self::FixedTerm => "CDD",
            Self::Temporary => "INTERIM",
            Self::SelfEmployed => "NON_SALARIE",
            Self::Apprenticeship => "APPRENTISSAGE",
            Self::Internship => "STAGE",
            Self::Other => "AUTRE",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        [
            Self::Permanent,
            Self::FixedTerm,
            Self::Temporary,
            Self::SelfEmployed,
            Self::Apprenticeship,
            Self::Internship,
            Self::Other,
        ]
        .into_iter()
        .find(|c| c.code() == code)
    }

    /// As shown and exported.
    pub fn label(self) -> &'static str {
        match self {
            Self::Permanent => "CDI",
            Self::FixedTerm => "CDD",
            Self::Temporary => "Intérim",
            Self::SelfEmployed => "Non salarié",
            Self::Apprenticeship => "Apprentissage",
            Self::Internship => "Stage",
            Self::Other => "Autre",
        }
    }
}

/// *Caractère de l'activité*.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityCharacter {
    /// `1-Civile`.
    Civil,
    /// `2-Militaire`.
    Military,
}

impl ActivityCharacter {
    /// Parses `1-Civile`, `civile`, `1`, `2-Militaire`, `militaire`, `2`.
    pub fn parse(input: &str) -> Option<Self> {
        match fold(input).as_str() {
            "1 CIVILE" | "CIVILE" | "CIVIL" | "1" => Some(Self::Civil),
            "2 MILITAIRE" | "MILITAIRE" | "2" => Some(Self::Military),
            _ => None,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Civil => "CIVILE",
            Self::Military => "MILITAIRE",
        }
    }

    pub(crate) fn from_code(code: &str) -> Option<Self> {
        match code {
            "CIVILE" => Some(Self::Civil),
            "MILITAIRE" => Some(Self::Military),
            _ => None,
        }
    }

    /// As shown and exported.
    pub fn label(self) -> &'static str {
        match self {
            Self::Civil => "1-Civile",
            Self::Military => "2-Militaire",
        }
    }
}

/// Working-time fraction (*quotité de travail*), 0 < q ≤ 1, kept in thousandths so that what is
/// exported reads back the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkFraction(u16);

impl WorkFraction {
    /// From thousandths, 1..=1000.
    pub fn from_per_mille(per_mille: u16) -> Option<Self> {
        (1..=1000).contains(&per_mille).then_some(Self(per_mille))
    }

    /// Parses `1.0`, `0,5` (French decimal comma), `1`, `.75`; at most 3 decimals.
    pub fn parse(input: &str) -> Option<Self> {
        let text = input.trim();
        let (int, frac) = text.split_once(['.', ',']).unwrap_or((text, ""));
        if (int.is_empty() && frac.is_empty())
            || int.len() > 4
            || frac.len() > 3
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let int: u32 = if int.is_empty() { 0 } else { int.parse().ok()? };
        let mut per_mille = int.checked_mul(1000)?;
        for (i, b) in frac.bytes().enumerate() {
            per_mille += u32::from(b - b'0') * [100, 10, 1][i];
        }
        Self::from_per_mille(u16::try_from(per_mille).ok()?)
    }

    /// From a JSON number; more than 3 decimals is refused rather than rounded.
    pub fn from_f64(value: f64) -> Option<Self> {
        let scaled = value * 1000.0;
        let rounded = scaled.round();
        if !value.is_finite()
            || (scaled - rounded).abs() > 1e-6
            || !(1.0..=1000.0).contains(&rounded)
        {
            return None;
        }
        // In 1..=1000 by the check above.
        Self::from_per_mille(rounded as u16)
    }

    /// Thousandths, 1..=1000.
    pub fn per_mille(self) -> u16 {
        self.0
    }

    /// As a number, `0.5`.
    pub fn value(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

/// `1.0`, `0.5`, `0.75`, `0.333`: at least one decimal, as in the seed's form.
impl fmt::Display for WorkFraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, frac) = (self.0 / 1000, self.0 % 1000);
        let digits = format!("{frac:03}");
        let digits = digits.trim_end_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        write!(f, "{int}.{digits}")
    }
}

impl Serialize for WorkFraction {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_c_and_eight_digits() {
        assert_eq!(
            CardNumber::parse(" c00000042 ").unwrap().as_str(),
            "C00000042"
        );
        assert_eq!(CardNumber::parse("C00000042").unwrap().sequence(), 42);
        assert_eq!(CardNumber::from_sequence(42).unwrap().as_str(), "C00000042");
        for bad in [
            "",
            "C0000004",
            "C000000420",
            "D00000042",
            "C0000004A",
            "C-0000042",
        ] {
            assert!(CardNumber::parse(bad).is_none(), "{bad}");
        }
        assert!(CardNumber::from_sequence(100_000_000).is_none());
    }

    #[test]
    fn categories_read_the_forms_labels() {
        assert_eq!(Category::parse("a"), Some(Category::A));
        assert_eq!(Category::parse("B"), Some(Category::B));
        for text in ["non classé", "Non classe", "NC", "non-classé"] {
            assert_eq!(
                Category::parse(text),
                Some(Category::Unclassified),
                "{text}"
            );
        }
        assert_eq!(Category::parse("C"), None);
        for c in [Category::A, Category::B, Category::Unclassified] {
            assert_eq!(Category::parse(c.label()), Some(c));
            assert_eq!(Category::from_code(c.code()), Some(c));
        }
    }

    #[test]
    fn contract_types_read_the_forms_labels() {
        for (text, parsed) in [
            (
                "CDI : contrat a duree indeterminee",
                Some(ContractType::Permanent),
            ),
            ("Non salarié", Some(ContractType::SelfEmployed)),
            ("intérim", Some(ContractType::Temporary)),
            ("CDX", None),
        ] {
            assert_eq!(ContractType::parse(text), parsed, "{text}");
        }
        for c in [
            ContractType::Permanent,
            ContractType::FixedTerm,
            ContractType::Temporary,
            ContractType::SelfEmployed,
            ContractType::Apprenticeship,
            ContractType::Internship,
            ContractType::Other,
        ] {
            assert_eq!(ContractType::parse(c.label()), Some(c));
            assert_eq!(ContractType::from_code(c.code()), Some(c));
        }
    }

    #[test]
    fn activity_character_reads_code_and_label() {
        for (text, parsed) in [
            ("1-Civile", Some(ActivityCharacter::Civil)),
            ("militaire", Some(ActivityCharacter::Military)),
            ("3-Autre", None),
        ] {
            assert_eq!(ActivityCharacter::parse(text), parsed, "{text}");
        }
    }

    #[test]
    fn work_fraction_is_above_zero_and_at_most_one() {
        assert_eq!(WorkFraction::parse("1.0").unwrap().per_mille(), 1000);
        assert_eq!(WorkFraction::parse("0,5").unwrap().per_mille(), 500);
        assert_eq!(WorkFraction::parse("1").unwrap().per_mille(), 1000);
        assert_eq!(WorkFraction::parse(".75").unwrap().per_mille(), 750);
        assert_eq!(WorkFraction::parse("0.333").unwrap().per_mille(), 333);
        for bad in [
            "0", "0.0", "1.001", "1.5", "-0.5", "0.3333", "", ".", "1e0", "abc",
        ] {
            assert!(WorkFraction::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(WorkFraction::from_f64(1.0).unwrap().per_mille(), 1000);
        assert_eq!(WorkFraction::from_f64(0.1).unwrap().per_mille(), 100);
        assert!(WorkFraction::from_f64(0.0).is_none());
        assert!(WorkFraction::from_f64(0.12345).is_none());
        assert!(WorkFraction::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn work_fraction_prints_as_the_form_shows_it() {
        for (text, shown) in [
            ("1", "1.0"),
            ("0.5", "0.5"),
            ("0.75", "0.75"),
            ("0.05", "0.05"),
        ] {
            let q = WorkFraction::parse(text).unwrap();
            assert_eq!(q.to_string(), shown);
            assert_eq!(WorkFraction::parse(&q.to_string()), Some(q));
        }
    }
}
