//! Phone numbers, stored in E.164 (`+33612345678`) so the SMS gateway never has to guess a country.

use super::{serde_as_string, DomainError};
use std::fmt;

const FRANCE: &str = "+33";

/// A phone number in E.164 form: French, or any country when the form's "foreign" box was ticked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses a number as typed. Spaces, dots and dashes are ignored.
    ///
    /// French numbers are always accepted, as `06 12 34 56 78` or `+33 6 12 34 56 78`; `foreign`
    /// (the form's checkbox) additionally allows any international number written with `+`.
    /// A `+33` number is checked as French even when `foreign` is set.
    pub fn parse(input: &str, foreign: bool) -> Result<Self, DomainError> {
        let compact: String = input
            .chars()
            .filter(|&c| !(c.is_whitespace() || c == '.' || c == '-'))
            .collect();
        let (plus, digits) = match compact.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, compact.as_str()),
        };
        let not_recognised = if foreign {
            DomainError::ForeignPhoneInvalid
        } else {
            DomainError::PhoneInvalid
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_recognised);
        }

        if plus {
            if let Some(national) = digits.strip_prefix("33") {
                return french_significant(national)
                    .map(|n| Self(format!("{FRANCE}{n}")))
                    .ok_or(DomainError::PhoneInvalid);
            }
            if !foreign {
                return Err(DomainError::PhoneForeignNotDeclared);
            }
            // E.164 caps a number at 15 digits; under 8 nothing real is left after a country code.
            return if (8..=15).contains(&digits.len()) && !digits.starts_with('0') {
                Ok(Self(compact))
            } else {
                Err(DomainError::ForeignPhoneInvalid)
            };
        }

        match digits.strip_prefix('0') {
            Some(significant) if digits.len() == 10 => french_significant(significant)
                .map(|n| Self(format!("{FRANCE}{n}")))
                .ok_or(not_recognised),
            _ => Err(not_recognised),
        }
    }

    /// The number in E.164 form, as handed to the SMS gateway.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// Whether this is a French number.
    pub fn is_french(&self) -> bool {
        self.0.starts_with(FRANCE)
    }

    /// Whether this is a French mobile (06, 07). Always false for a foreign number, whose numbering
    /// plan is not known here.
    pub fn is_mobile(&self) -> bool {
        self.0.starts_with("+336") || self.0.starts_with("+337")
    }

    /// The number with all but its first and last two digits hidden, for pages and logs that only
    /// need to say where an SMS went: `+33 7 ** ** ** 41`.
    pub fn masked(&self) -> String {
        // Both forms are ASCII: `+` then at least 8 digits, so these byte slices are in bounds.
        let last_two = &self.0[self.0.len() - 2..];
        if self.is_french() {
            format!("+33 {} ** ** ** {last_two}", &self.0[3..4])
        } else {
            let hidden = "*".repeat(self.0.len() - 5);
            format!("{} {hidden} {last_two}", &self.0[..3])
        }
    }
}

/// The 9 digits after `0` or `+33`; `00` is the international prefix, not a number.
fn french_significant(significant: &str) -> Option<&str> {
    (significant.len() == 9 && !significant.starts_with('0')).then_some(significant)
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// Stored values are E.164, possibly foreign: reading them back must not depend on a form checkbox.
serde_as_string!(PhoneNumber, |text| PhoneNumber::parse(text, true));

/// A number that can receive the SMS signature code: a French mobile, or a foreign number (whose
/// numbering plan is not checked here).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(PhoneNumber);

impl MobileNumber {
    /// Parses like [`PhoneNumber::parse`], then refuses French landlines and special numbers.
    pub fn parse(input: &str, foreign: bool) -> Result<Self, DomainError> {
        Self::try_from(PhoneNumber::parse(input, foreign)?)
    }

    /// The number in E.164 form, as handed to the SMS gateway.
    pub fn e164(&self) -> &str {
        self.0.e164()
    }

    /// See [`PhoneNumber::masked`].
    pub fn masked(&self) -> String {
        self.0.masked()
    }

    /// The number as a plain phone number.
    pub fn as_phone(&self) -> &PhoneNumber {
        &self.0
    }
}

impl TryFrom<PhoneNumber> for MobileNumber {
    type Error = DomainError;

    fn try_from(phone: PhoneNumber) -> Result<Self, DomainError> {
        if phone.is_french() && !phone.is_mobile() {
            Err(DomainError::PhoneNotMobile)
        } else {
            Ok(Self(phone))
        }
    }
}

impl From<MobileNumber> for PhoneNumber {
    fn from(mobile: MobileNumber) -> Self {
        mobile.0
    }
}

impl fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

serde_as_string!(MobileNumber, |text| MobileNumber::parse(text, true));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, assert_refused, deserialized, serialized};

    fn french(input: &str) -> PhoneNumber {
        PhoneNumber::parse(input, false).unwrap()
    }

    #[test]
    fn french_number_is_stored_in_e164() {
        assert_eq!(french("0612345678").e164(), "+33612345678");
        assert_eq!(french("0142345678").e164(), "+33142345678");
        assert_eq!(french("0912345678").e164(), "+33912345678");
    }

    #[test]
    fn french_number_may_be_typed_with_spaces_dots_or_dashes() {
        for input in [
            "06 12 34 56 78",
            "06.12.34.56.78",
            "06-12-34-56-78",
            " 06 12.34-56 78 ",
            "06\u{a0}12\u{a0}34\u{a0}56\u{a0}78",
        ] {
            assert_eq!(french(input).e164(), "+33612345678", "{input:?}");
        }
    }

    #[test]
    fn french_number_may_be_typed_with_plus_33() {
        assert_eq!(french("+33 6 12 34 56 78").e164(), "+33612345678");
        assert_eq!(french("+33612345678").e164(), "+33612345678");
    }

    #[test]
    fn french_number_without_leading_zero_or_of_wrong_length_is_refused() {
        assert_all_refused(
            |input| PhoneNumber::parse(input, false),
            &[
                "",
                "612345678",
                "061234567",
                "06123456789",
                "1612345678",
                "0012345678",
                "+33 06 12 34 56 78",
                "+33 6 12 34 56 7",
                "+33 0 12 34 56 78",
            ],
            DomainError::PhoneInvalid,
        );
    }

    #[test]
    fn phone_number_with_letters_or_other_punctuation_is_refused() {
        assert_all_refused(
            |input| PhoneNumber::parse(input, false),
            &[
                "06 12 34 56 7A",
                "(06) 12 34 56 78",
                "06/12/34/56/78",
                "+",
                "++33612345678",
            ],
            DomainError::PhoneInvalid,
        );
    }

    #[test]
    fn international_number_without_foreign_flag_is_refused_with_a_hint() {
        let input = "+49 30 1234567";
        assert_refused(
            PhoneNumber::parse(input, false),
            input,
            DomainError::PhoneForeignNotDeclared,
        );
    }

    #[test]
    fn foreign_number_is_accepted_in_e164_when_flagged() {
        let phone = PhoneNumber::parse("+49 30 1234567", true).unwrap();
        assert_eq!(phone.e164(), "+49301234567");
        assert!(!phone.is_french());
        assert!(!phone.is_mobile());
    }

    #[test]
    fn foreign_number_length_is_bounded_by_e164() {
        assert!(PhoneNumber::parse("+32 123 456", true).is_ok()); // 8 digits
        assert!(PhoneNumber::parse("+123 456 789 012 345", true).is_ok()); // 15 digits
        assert_all_refused(
            |input| PhoneNumber::parse(input, true),
            &["+32 123 45", "+123 456 789 012 3456", "+0 123 456 789"],
            DomainError::ForeignPhoneInvalid,
        );
    }

    #[test]
    fn foreign_flag_still_requires_the_plus_sign() {
        let input = "0049 30 1234567";
        assert_refused(
            PhoneNumber::parse(input, true),
            input,
            DomainError::ForeignPhoneInvalid,
        );
    }

    #[test]
    fn foreign_flag_still_accepts_a_french_number_and_checks_plus_33_as_french() {
        assert_eq!(
            PhoneNumber::parse("06 12 34 56 78", true).unwrap().e164(),
            "+33612345678"
        );
        let input = "+33 6 12 34 56";
        assert_refused(
            PhoneNumber::parse(input, true),
            input,
            DomainError::PhoneInvalid,
        );
    }

    #[test]
    fn only_06_and_07_are_mobiles() {
        assert!(french("06 12 34 56 78").is_mobile());
        assert!(french("07 12 34 56 41").is_mobile());
        for input in [
            "01 42 34 56 78",
            "05 12 34 56 78",
            "08 00 12 34 56",
            "09 12 34 56 78",
        ] {
            let phone = french(input);
            assert!(phone.is_french());
            assert!(!phone.is_mobile(), "{input}");
        }
    }

    #[test]
    fn masked_french_number_shows_only_first_and_last_two_digits() {
        assert_eq!(french("07 12 34 56 41").masked(), "+33 7 ** ** ** 41");
    }

    #[test]
    fn masked_foreign_number_shows_only_the_start_and_last_two_digits() {
        let phone = PhoneNumber::parse("+49 30 1234567", true).unwrap();
        assert_eq!(phone.masked(), "+49 ******* 67");
        assert!(!phone.masked().contains("1234"));
    }

    #[test]
    fn mobile_number_accepts_a_french_mobile() {
        let mobile = MobileNumber::parse("07 12 34 56 41", false).unwrap();
        assert_eq!(mobile.e164(), "+33712345641");
        assert_eq!(mobile.masked(), "+33 7 ** ** ** 41");
        assert!(mobile.as_phone().is_mobile());
    }

    #[test]
    fn mobile_number_refuses_a_french_landline() {
        for (input, foreign) in [("01 42 34 56 78", false), ("+33 1 42 34 56 78", true)] {
            assert_refused(
                MobileNumber::parse(input, foreign),
                input,
                DomainError::PhoneNotMobile,
            );
        }
    }

    #[test]
    fn mobile_number_accepts_any_foreign_number() {
        let mobile = MobileNumber::parse("+44 20 7946 0958", true).unwrap();
        assert_eq!(PhoneNumber::from(mobile).e164(), "+442079460958");
    }

    #[test]
    fn mobile_number_passes_phone_errors_through() {
        let input = "+44 20 7946 0958";
        assert_refused(
            MobileNumber::parse(input, false),
            input,
            DomainError::PhoneForeignNotDeclared,
        );
    }

    #[test]
    fn phone_numbers_serialize_in_e164_and_deserialize_whatever_the_country() {
        let phone = french("06 12 34 56 78");
        assert_eq!(serialized(&phone), "+33612345678");
        assert_eq!(phone.to_string(), "+33612345678");
        assert_eq!(deserialized::<PhoneNumber>("+33612345678").unwrap(), phone);
        assert_eq!(
            deserialized::<PhoneNumber>("+442079460958").unwrap().e164(),
            "+442079460958"
        );
        assert!(deserialized::<PhoneNumber>("12").is_err());

        let mobile = MobileNumber::parse("+442079460958", true).unwrap();
        assert_eq!(serialized(&mobile), "+442079460958");
        assert_eq!(
            deserialized::<MobileNumber>("+442079460958").unwrap(),
            mobile
        );
        assert_eq!(
            deserialized::<MobileNumber>("+33142345678").unwrap_err(),
            DomainError::PhoneNotMobile.to_string()
        );
    }
}
