//! The SISERI habilitation number: printed in the certificate subject (`Pierre DILLENSEGER 42003`).

use super::{serde_as_string, DomainError};
use std::fmt;

const MAX: u32 = 999_999_999;

/// An N° habilitation SISERI: 1 to 9 digits, no leading zero, so never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HabilitationNumber(u32);

impl HabilitationNumber {
    /// Parses a number as typed; surrounding spaces are ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let text = input.trim();
        let well_formed = (1..=9).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_digit())
            && !text.starts_with('0');
        if !well_formed {
            return Err(DomainError::HabilitationNumberInvalid);
        }
        text.parse()
            .map(Self)
            .map_err(|_| DomainError::HabilitationNumberInvalid)
    }

    /// Wraps a number read from storage, with the same rule as [`parse`](Self::parse).
    pub fn new(number: u32) -> Result<Self, DomainError> {
        (1..=MAX)
            .contains(&number)
            .then_some(Self(number))
            .ok_or(DomainError::HabilitationNumberInvalid)
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for HabilitationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

serde_as_string!(HabilitationNumber, HabilitationNumber::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, deserialized, serialized};

    #[test]
    fn one_to_nine_digits_are_accepted() {
        assert_eq!(HabilitationNumber::parse("42003").unwrap().get(), 42003);
        assert_eq!(HabilitationNumber::parse("1").unwrap().get(), 1);
        assert_eq!(HabilitationNumber::parse(" 999999999 ").unwrap().get(), MAX);
    }

    #[test]
    fn leading_zero_and_zero_are_refused() {
        assert_all_refused(
            HabilitationNumber::parse,
            &["0", "042003", "000000001"],
            DomainError::HabilitationNumberInvalid,
        );
    }

    #[test]
    fn more_than_nine_digits_or_non_digits_are_refused() {
        assert_all_refused(
            HabilitationNumber::parse,
            &[
                "",
                "1000000000",
                "42 003",
                "+42003",
                "-42003",
                "42003A",
                "4٢003",
                "4.2",
            ],
            DomainError::HabilitationNumberInvalid,
        );
    }

    #[test]
    fn new_applies_the_same_range() {
        assert_eq!(HabilitationNumber::new(42003).unwrap().get(), 42003);
        assert_eq!(
            HabilitationNumber::new(0),
            Err(DomainError::HabilitationNumberInvalid)
        );
        assert_eq!(
            HabilitationNumber::new(1_000_000_000),
            Err(DomainError::HabilitationNumberInvalid)
        );
    }

    #[test]
    fn habilitation_number_displays_and_serializes_as_its_digits() {
        let number = HabilitationNumber::parse("42003").unwrap();
        assert_eq!(number.to_string(), "42003");
        assert_eq!(serialized(&number), "42003");
        assert_eq!(deserialized::<HabilitationNumber>("42003").unwrap(), number);
        assert!(deserialized::<HabilitationNumber>("042003").is_err());
    }
}
