//! SIRET: the 14-digit identifier of an establishment (SIREN of the company + 5-digit NIC).

use super::{canonical_string, DomainError};

/// La Poste has more establishments than a 5-digit NIC with a Luhn key can number, so INSEE gave
/// them a different check.
const LA_POSTE_SIREN_PREFIX: &str = "356000000";
/// La Poste's head office was numbered before that exception and keeps the ordinary Luhn key.
const LA_POSTE_HEAD_OFFICE: &str = "35600000000048";

/// A SIRET number whose check key is right.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Siret(String);

canonical_string!(
    /// The 14 digits, without spaces.
    Siret,
    Siret::parse
);

impl Siret {
    /// Parses a SIRET as typed: spaces (as in `732 829 320 00074`) are ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::SiretLength);
        }
        let valid = if digits.starts_with(LA_POSTE_SIREN_PREFIX) && digits != LA_POSTE_HEAD_OFFICE {
            digit_sum(&digits) % 5 == 0
        } else {
            luhn_valid(&digits)
        };
        valid
            .then_some(Self(digits))
            .ok_or(DomainError::SiretInvalid)
    }

    /// The SIREN: the company's 9-digit identifier, shared by all its establishments.
    pub fn siren(&self) -> &str {
        // The value is 14 ASCII digits, so byte 9 is a character boundary.
        &self.0[..9]
    }

    /// The NIC: the 5 digits numbering the establishment within the company.
    pub fn nic(&self) -> &str {
        &self.0[9..]
    }
}

fn digit_values(digits: &str) -> impl DoubleEndedIterator<Item = u32> + '_ {
    digits.bytes().map(|b| u32::from(b - b'0'))
}

fn digit_sum(digits: &str) -> u32 {
    digit_values(digits).sum()
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digit_values(digits)
        .rev()
        .enumerate()
        .map(|(i, d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    sum % 10 == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, assert_refused, deserialized, serialized};

    #[test]
    fn siret_with_good_luhn_key_is_accepted() {
        let siret = Siret::parse("73282932000074").unwrap();
        assert_eq!(siret.as_str(), "73282932000074");
        assert_eq!(siret.siren(), "732829320");
        assert_eq!(siret.nic(), "00074");
    }

    #[test]
    fn siret_with_bad_luhn_key_is_refused() {
        assert_refused(
            Siret::parse("73282932000079"),
            "73282932000079",
            DomainError::SiretInvalid,
        );
    }

    #[test]
    fn siret_typed_with_spaces_is_stored_without_them() {
        let siret = Siret::parse(" 732 829 320 00074 ").unwrap();
        assert_eq!(siret.as_str(), "73282932000074");
        assert_eq!(siret.to_string(), "73282932000074");
    }

    #[test]
    fn siret_of_wrong_length_is_refused() {
        assert_all_refused(
            Siret::parse,
            &["", "7328293200007", "732829320000740", "   "],
            DomainError::SiretLength,
        );
    }

    #[test]
    fn siret_with_letters_or_punctuation_is_refused_as_not_14_digits() {
        assert_all_refused(
            Siret::parse,
            &["7328293200007A", "732.829.320.00074", "73282932-000074"],
            DomainError::SiretLength,
        );
    }

    #[test]
    fn siret_with_non_ascii_digits_is_refused() {
        // Arabic-Indic digits are `char::is_numeric` but must not pass as a SIRET.
        let input = "٧٣٢٨٢٩٣٢٠٠٠٠٧٤";
        assert_refused(Siret::parse(input), input, DomainError::SiretLength);
    }

    #[test]
    fn la_poste_head_office_follows_luhn() {
        assert!(luhn_valid("35600000000048"));
        assert_eq!(Siret::parse("35600000000048").unwrap().siren(), "356000000");
    }

    #[test]
    fn la_poste_establishment_with_digit_sum_divisible_by_5_is_accepted_even_against_luhn() {
        // 3+5+6 + 0+0+0+4+7 = 25; Luhn would refuse it.
        let input = "35600000000047";
        assert_eq!(digit_sum(input) % 5, 0);
        assert!(!luhn_valid(input));
        assert_eq!(Siret::parse(input).unwrap().as_str(), input);
    }

    #[test]
    fn la_poste_establishment_that_only_satisfies_luhn_is_refused() {
        // Luhn-valid, but its digit sum is 29.
        let input = "35600000001095";
        assert!(luhn_valid(input));
        assert_ne!(digit_sum(input) % 5, 0);
        assert_refused(Siret::parse(input), input, DomainError::SiretInvalid);
    }

    #[test]
    fn siret_of_another_company_starting_like_la_poste_follows_luhn() {
        // Only the full 9-digit SIREN 356000000 gets the exception, not 35600000x.
        let input = "35600000100000";
        assert!(!luhn_valid(input));
        assert_eq!(digit_sum(input) % 5, 0);
        assert_refused(Siret::parse(input), input, DomainError::SiretInvalid);
    }

    #[test]
    fn luhn_matches_known_valid_numbers() {
        assert!(luhn_valid("73282932000074"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
    }

    #[test]
    fn siret_serializes_as_its_digits_and_deserializes_through_parse() {
        let siret = Siret::parse("732 829 320 00074").unwrap();
        assert_eq!(serialized(&siret), "73282932000074");
        assert_eq!(deserialized::<Siret>("73282932000074").unwrap(), siret);
        let error = deserialized::<Siret>("73282932000079").unwrap_err();
        assert_eq!(error, DomainError::SiretInvalid.to_string());
    }
}
