//! Birth départements, as asked of a person who has no SISERI habilitation number yet.

use super::{canonical_string, DomainError};

/// A département of birth: `01`–`95` (without `20`, split into `2A` and `2B` in 1976), `971`–`976`
/// overseas, or `99` for a birth abroad.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Departement(String);

canonical_string!(
    /// The code: `01`, `2A`, `974`, `99`…
    Departement,
    Departement::parse
);

impl Departement {
    /// Parses a code; surrounding spaces are ignored and `2a`/`2b` are accepted in lower case.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let code = input.trim().to_ascii_uppercase();
        is_known(&code)
            .then_some(Self(code))
            .ok_or(DomainError::DepartementInvalid)
    }

    /// Whether the person was born outside France (`99`).
    pub fn is_abroad(&self) -> bool {
        self.0 == "99"
    }
}

fn is_known(code: &str) -> bool {
    match code {
        "2A" | "2B" | "99" => true,
        _ if !code.bytes().all(|b| b.is_ascii_digit()) => false,
        _ => match (code.len(), code.parse::<u16>()) {
            (2, Ok(n)) => (1..=95).contains(&n) && n != 20,
            (3, Ok(n)) => (971..=976).contains(&n),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, assert_refused, deserialized, serialized};

    fn code(input: &str) -> String {
        Departement::parse(input).unwrap().as_str().to_owned()
    }

    #[test]
    fn metropolitan_departements_01_to_95_are_accepted() {
        for n in (1..=95).filter(|&n| n != 20) {
            let input = format!("{n:02}");
            assert_eq!(code(&input), input);
        }
    }

    #[test]
    fn corsica_is_2a_or_2b_in_either_case_but_never_20() {
        assert_eq!(code("2A"), "2A");
        assert_eq!(code("2b"), "2B");
        assert_eq!(code(" 2a "), "2A");
        assert_refused(
            Departement::parse("20"),
            "20",
            DomainError::DepartementInvalid,
        );
        assert_refused(
            Departement::parse("2C"),
            "2C",
            DomainError::DepartementInvalid,
        );
    }

    #[test]
    fn overseas_departements_971_to_976_are_accepted() {
        for input in ["971", "972", "973", "974", "975", "976"] {
            assert_eq!(code(input), input);
        }
    }

    #[test]
    fn born_abroad_is_99() {
        assert!(Departement::parse("99").unwrap().is_abroad());
        assert!(!Departement::parse("75").unwrap().is_abroad());
    }

    #[test]
    fn other_codes_are_refused() {
        assert_all_refused(
            Departement::parse,
            &[
                "", "0", "00", "1", "96", "97", "98", "970", "977", "988", "099", "+1", "1 2",
                "7 5", "075", "١٢",
            ],
            DomainError::DepartementInvalid,
        );
    }

    #[test]
    fn departement_serializes_as_its_upper_case_code() {
        let corsica = Departement::parse("2a").unwrap();
        assert_eq!(serialized(&corsica), "2A");
        assert_eq!(corsica.to_string(), "2A");
        assert_eq!(deserialized::<Departement>("2a").unwrap(), corsica);
        assert!(deserialized::<Departement>("20").is_err());
    }
}
