//! French postal codes.

use super::{canonical_string, DomainError};

/// A French postal code: 5 digits, leading zero kept (`01000`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PostalCode(String);

canonical_string!(
    /// The 5 digits.
    PostalCode,
    PostalCode::parse
);

impl PostalCode {
    /// Parses a postal code; surrounding spaces are ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let code = input.trim();
        let well_formed = code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit());
        well_formed
            .then(|| Self(code.to_owned()))
            .ok_or(DomainError::PostalCodeInvalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, deserialized, serialized};

    #[test]
    fn five_digit_postal_code_is_accepted_with_its_leading_zero() {
        assert_eq!(PostalCode::parse("01000").unwrap().as_str(), "01000");
        assert_eq!(PostalCode::parse(" 75015 ").unwrap().as_str(), "75015");
        assert_eq!(PostalCode::parse("97400").unwrap().to_string(), "97400");
    }

    #[test]
    fn postal_code_that_is_not_five_digits_is_refused() {
        assert_all_refused(
            PostalCode::parse,
            &[
                "",
                "7501",
                "750015",
                "75 015",
                "2A000",
                "75O15",
                "７５０１５",
            ],
            DomainError::PostalCodeInvalid,
        );
    }

    #[test]
    fn postal_code_serializes_as_its_digits() {
        let code = PostalCode::parse("01000").unwrap();
        assert_eq!(serialized(&code), "01000");
        assert_eq!(deserialized::<PostalCode>("01000").unwrap(), code);
        assert!(deserialized::<PostalCode>("1000").is_err());
    }
}
