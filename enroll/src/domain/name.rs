//! Last and first names of the people named in a protocol; they end up in certificate subjects.

use super::{canonical_string, DomainError};
use store::text::{self, TextError};

#[cfg(test)]
const MAX_CHARS: usize = text::NAME_MAX;

/// A last or first name: letters (accented or not), single spaces, hyphens and apostrophes.
///
/// Runs of spaces are collapsed and the typographic apostrophe `’` is stored as `'`, so that the same
/// name typed twice compares equal and prints the same in a certificate subject. The rule is
/// [`store::text::name`], the one the registry applies to workers' names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

canonical_string!(
    /// The name as it will be printed.
    PersonName,
    PersonName::parse
);

impl PersonName {
    /// Parses a name as typed.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        text::name(input, false).map(Self).map_err(|e| match e {
            TextError::Empty => DomainError::NameEmpty,
            TextError::TooLong(_) => DomainError::NameTooLong,
            TextError::Characters => DomainError::NameInvalidCharacters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, assert_refused, deserialized, serialized};

    fn name(input: &str) -> String {
        PersonName::parse(input).unwrap().as_str().to_owned()
    }

    #[test]
    fn plain_and_accented_names_are_accepted() {
        for input in [
            "DILLENSEGER",
            "Pierre",
            "Hélène",
            "Çağrı",
            "Øyvind",
            "Zoë",
            "Ἀλέξανδρος",
        ] {
            assert_eq!(name(input), input);
        }
    }

    #[test]
    fn hyphens_apostrophes_and_spaces_are_accepted() {
        assert_eq!(name("Jean-Pierre"), "Jean-Pierre");
        assert_eq!(name("D'Artagnan"), "D'Artagnan");
        assert_eq!(name("de la Fontaine"), "de la Fontaine");
    }

    #[test]
    fn typographic_apostrophe_is_stored_as_a_plain_one() {
        assert_eq!(name("D’Artagnan"), "D'Artagnan");
    }

    #[test]
    fn name_is_trimmed_and_inner_spaces_collapsed() {
        assert_eq!(name("  de   la\u{a0}Fontaine  "), "de la Fontaine");
    }

    #[test]
    fn decomposed_accents_are_accepted() {
        assert_eq!(name("He\u{301}le\u{300}ne"), "He\u{301}le\u{300}ne");
        assert_eq!(name("Nguye\u{302}\u{303}n"), "Nguye\u{302}\u{303}n");
    }

    #[test]
    fn lone_combining_accent_is_refused() {
        let input = "\u{301}Anne";
        assert_refused(
            PersonName::parse(input),
            input,
            DomainError::NameInvalidCharacters,
        );
    }

    #[test]
    fn empty_or_blank_name_is_refused() {
        assert_all_refused(
            PersonName::parse,
            &["", "   ", "\u{a0}"],
            DomainError::NameEmpty,
        );
    }

    #[test]
    fn name_with_digits_is_refused() {
        assert_all_refused(
            PersonName::parse,
            &["Pierre2", "Louis XIV 14", "42003"],
            DomainError::NameInvalidCharacters,
        );
    }

    #[test]
    fn name_with_control_characters_is_refused() {
        assert_all_refused(
            PersonName::parse,
            &[
                "Pierre\tPaul",
                "Pierre\nPaul",
                "Pierre\u{0}",
                "Pierre\u{1b}[31m",
                "Pierre\r",
                "Pierre\u{2028}Paul",
                "Pierre\u{202e}luaP",
                "Pierre\u{2066}Paul\u{2069}",
                "Pierre\u{200b}",
            ],
            DomainError::NameInvalidCharacters,
        );
    }

    #[test]
    fn name_with_other_punctuation_or_symbols_is_refused() {
        assert_all_refused(
            PersonName::parse,
            &[
                "Pierre.",
                "Pierre,Paul",
                "<script>",
                "Pierre@",
                "Pierre_Paul",
                "O\"Neil",
            ],
            DomainError::NameInvalidCharacters,
        );
    }

    #[test]
    fn name_without_any_letter_is_refused() {
        assert_all_refused(
            PersonName::parse,
            &["-", "' -", "--"],
            DomainError::NameInvalidCharacters,
        );
    }

    #[test]
    fn name_of_100_characters_is_accepted_and_101_refused() {
        let longest = "é".repeat(MAX_CHARS);
        assert_eq!(name(&longest), longest);
        let too_long = "é".repeat(MAX_CHARS + 1);
        assert_refused(
            PersonName::parse(&too_long),
            &too_long,
            DomainError::NameTooLong,
        );
    }

    #[test]
    fn length_limit_applies_after_trimming() {
        let padded = format!("  {}  ", "a".repeat(MAX_CHARS));
        assert_eq!(name(&padded).len(), MAX_CHARS);
    }

    #[test]
    fn name_serializes_as_normalised_text() {
        let parsed = PersonName::parse(" D’Artagnan ").unwrap();
        assert_eq!(serialized(&parsed), "D'Artagnan");
        assert_eq!(parsed.to_string(), "D'Artagnan");
        assert_eq!(deserialized::<PersonName>("D'Artagnan").unwrap(), parsed);
        assert!(deserialized::<PersonName>("R2D2").is_err());
    }
}
