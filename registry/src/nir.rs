//! The NIR (*numéro d'inscription au répertoire*, the RNIPP or social security number) that
//! identifies a worker in the workers list.
//!
//! A NIR is sensitive personal data (it encodes sex, birth month and place), so this type never
//! prints it by accident: no `Display`, a `Debug` that hides it, and error messages that do not
//! repeat it.

use std::fmt;

/// Why a NIR or its key was refused.
///
/// Messages are French sentences for the person typing the workers list; none repeats the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NirError {
    /// The number, spaces removed, is not 13 characters long.
    #[error("Le NIR doit comporter 13 caractères, sans la clé.")]
    Length,
    /// The number with its key, spaces removed, is not 15 characters long.
    #[error("Le NIR complet doit comporter 15 caractères : 13 pour le numéro et 2 pour la clé.")]
    FullLength,
    /// A character other than a digit, except `2A`/`2B` in the département.
    #[error(
        "Le NIR ne peut contenir que des chiffres, sauf 2A ou 2B pour une naissance en Corse."
    )]
    Characters,
    /// The first digit is neither 1 nor 2.
    #[error("Le premier chiffre du NIR doit être 1 (homme) ou 2 (femme).")]
    Sex,
    /// The month (positions 4–5) is not 01–12, 20–42 or 50–99.
    #[error("Le mois de naissance inscrit dans le NIR est invalide.")]
    Month,
    /// The département (positions 6–7) is not one that exists.
    #[error("Le département de naissance inscrit dans le NIR est invalide.")]
    Departement,
    /// The order number (last 3 digits) is 000.
    #[error("Le numéro d'ordre du NIR (ses 3 derniers chiffres) ne peut pas être 000.")]
    Order,
    /// The key is not 2 digits.
    #[error("La clé du NIR doit comporter 2 chiffres.")]
    KeyFormat,
    /// The key does not match the number: most often a typing mistake in one of them.
    #[error("La clé du NIR ne correspond pas au numéro : vérifiez le numéro et la clé.")]
    KeyMismatch,
}

impl NirError {
    /// A stable identifier for programs; unlike the message, it will not change with the wording.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Length => "nir_length",
            Self::FullLength => "nir_full_length",
            Self::Characters => "nir_characters",
            Self::Sex => "nir_sex",
            Self::Month => "nir_month",
            Self::Departement => "nir_departement",
            Self::Order => "nir_order",
            Self::KeyFormat => "nir_key_format",
            Self::KeyMismatch => "nir_key_mismatch",
        }
    }
}

/// A NIR whose structure and key are right.
///
/// Serde writes it as the 15 characters of number and key (`276091234644512`), so a serialized
/// record holds the NIR in clear: keep such records out of logs. Reading goes through
/// [`Nir::parse_full`].
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Nir {
    /// The 13 characters then the 2-digit key; always ASCII (digits, `A` or `B`). Inline: a
    /// transmission reads a NIR per line, a million lines.
    full: [u8; 15],
}

impl Nir {
    /// Parses a number of 13 characters and its 2-digit key, as typed in separate fields.
    /// Spaces are ignored, and `2a`/`2b` are accepted in lower case.
    pub fn parse(number: &str, key: &str) -> Result<Self, NirError> {
        let mut full = [0_u8; 15];
        let mut count = 0;
        for c in number.chars().filter(|c| !c.is_whitespace()) {
            if count < 13 {
                // A character beyond ASCII is refused by the structure's check below (it is no
                // digit, nor A or B): any byte that is neither stands for it.
                full[count] = if c.is_ascii() {
                    c.to_ascii_uppercase() as u8
                } else {
                    0xff
                };
            }
            count += 1;
        }
        if count != 13 {
            return Err(NirError::Length);
        }
        check_structure(&full[..13])?;

        let mut digits = key.chars().filter(|c| !c.is_whitespace());
        let (Some(tens), Some(units), None) = (digits.next(), digits.next(), digits.next()) else {
            return Err(NirError::KeyFormat);
        };
        let (Some(tens), Some(units)) = (tens.to_digit(10), units.to_digit(10)) else {
            return Err(NirError::KeyFormat);
        };
        if u64::from(tens * 10 + units) != expected_key(&full[..13]) {
            return Err(NirError::KeyMismatch);
        }
        full[13] = b'0' + tens as u8;
        full[14] = b'0' + units as u8;
        Ok(Self { full })
    }

    /// Parses the 15 characters of number and key together (`2 76 09 12 346 445 12`).
    pub fn parse_full(input: &str) -> Result<Self, NirError> {
        let chars: Vec<char> = input.chars().filter(|c| !c.is_whitespace()).collect();
        if chars.len() != 15 {
            return Err(NirError::FullLength);
        }
        let (number, key) = chars.split_at(13);
        Self::parse(
            &number.iter().collect::<String>(),
            &key.iter().collect::<String>(),
        )
    }

    /// The 13 characters and the key.
    fn text(&self) -> &str {
        // Checked ASCII (digits, `A` or `B`) by `parse`: always UTF-8.
        std::str::from_utf8(&self.full).unwrap_or_default()
    }

    /// The 13 characters, without the key and without spaces.
    pub fn as_str(&self) -> &str {
        // `full` is 15 ASCII characters, so any byte index is a character boundary.
        &self.text()[..13]
    }

    /// The 2-digit key, with its leading zero (`07`).
    pub fn key(&self) -> &str {
        &self.text()[13..]
    }

    /// Whether the first digit says a man (odd: 1, and 3 or 7 on the temporary numbers some
    /// registries issue) or a woman (even: 2, 4, 8). [`Nir::parse`] admits 1 and 2 only, as
    /// the registry's NIRs are RNIPP numbers (DOMAIN.md).
    pub fn is_male(&self) -> bool {
        (self.full[0] - b'0') % 2 == 1
    }

    /// The département of birth the NIR holds: 2 characters (`75`, `2A`, `20` for Corsica
    /// before 1976, `99` abroad), 3 overseas (`971`…).
    pub fn birth_departement(&self) -> &str {
        let text = self.text();
        match &text[5..7] {
            "97" | "98" => &text[5..8],
            _ => &text[5..7],
        }
    }

    /// Only the sex digit and the key, enough to tell two workers apart on a screen that
    /// must not show the NIR: `2 ** ** ** *** *** 12`.
    pub fn masked(&self) -> String {
        format!("{} ** ** ** *** *** {}", &self.text()[..1], self.key())
    }
}

impl fmt::Debug for Nir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Nir(***)")
    }
}

impl serde::Serialize for Nir {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.text())
    }
}

impl<'de> serde::Deserialize<'de> for Nir {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_full(&text).map_err(serde::de::Error::custom)
    }
}

/// Checks the fields of the 13 characters (already upper-cased), key apart.
fn check_structure(number: &[u8]) -> Result<(), NirError> {
    let corsica = matches!(&number[5..7], b"2A" | b"2B");
    let all_digits = number
        .iter()
        .enumerate()
        .all(|(i, b)| b.is_ascii_digit() || (corsica && (5..7).contains(&i)));
    if !all_digits {
        return Err(NirError::Characters);
    }

    if !matches!(number[0], b'1' | b'2') {
        return Err(NirError::Sex);
    }

    // 20–42 and 50–99 stand in for an unknown month in incomplete civil records.
    let month = two_digits(&number[3..5]);
    if !matches!(month, 1..=12 | 20..=42 | 50..=99) {
        return Err(NirError::Month);
    }

    // 20 stays valid: people born in Corsica before 1976 kept it. 97x/98x (overseas) use a third
    // digit taken from the commune; any digit is accepted there, as the list of territories moves.
    if !corsica {
        let departement = two_digits(&number[5..7]);
        if !matches!(departement, 1..=95 | 97..=99) {
            return Err(NirError::Departement);
        }
    }

    if &number[10..13] == b"000" {
        return Err(NirError::Order);
    }
    Ok(())
}

fn two_digits(pair: &[u8]) -> u8 {
    pair.iter().fold(0, |n, b| n * 10 + (b - b'0'))
}

/// 97 − (number mod 97), with Corsica's `2A` and `2B` read as 19 and 18 (the numbers they were
/// carved out of `20` with).
fn expected_key(number: &[u8]) -> u64 {
    let value = number.iter().enumerate().fold(0_u64, |n, (i, &b)| {
        let digit = match (i, b) {
            (5, b'2') if matches!(number[6], b'A' | b'B') => 1,
            (6, b'A') => 9,
            (6, b'B') => 8,
            _ => u64::from(b - b'0'),
        };
        n * 10 + digit
    });
    97 - value % 97
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as ValueError, StrDeserializer};
    use serde::de::IntoDeserializer;
    use serde::{Deserialize, Serialize};
    use std::collections::HashSet;

    const ALL_ERRORS: [NirError; 9] = [
        NirError::Length,
        NirError::FullLength,
        NirError::Characters,
        NirError::Sex,
        NirError::Month,
        NirError::Departement,
        NirError::Order,
        NirError::KeyFormat,
        NirError::KeyMismatch,
    ];

    /// Builds a NIR from its fields with the right key, so a test can vary one field at a time.
    fn with_key(number: &str) -> Result<Nir, NirError> {
        let upper = number.to_ascii_uppercase();
        if upper.len() != 13 || check_structure(upper.as_bytes()).is_err() {
            return Nir::parse(number, "00");
        }
        Nir::parse(number, &format!("{:02}", expected_key(upper.as_bytes())))
    }

    fn assert_refused(result: Result<Nir, NirError>, inputs: &[&str], expected: NirError) {
        let error = result.unwrap_err();
        assert_eq!(error, expected, "inputs {inputs:?}");
        let message = error.to_string();
        for input in inputs {
            let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.len() >= 3 {
                assert!(!message.contains(&compact), "{message:?} repeats the input");
            }
        }
    }

    #[test]
    fn documented_nirs_with_their_keys_are_accepted() {
        for (number, key) in [
            ("2550814168025", "38"),
            ("2760912346445", "12"),
            ("253072A073004", "43"),
        ] {
            let nir = Nir::parse(number, key).unwrap();
            assert_eq!(nir.as_str(), number);
            assert_eq!(nir.key(), key);
        }
    }

    #[test]
    fn full_nirs_are_accepted_with_or_without_spaces() {
        let nir = Nir::parse_full("255081416802538").unwrap();
        assert_eq!((nir.as_str(), nir.key()), ("2550814168025", "38"));
        let nir = Nir::parse_full("2 53 07 2A 073 004 43").unwrap();
        assert_eq!((nir.as_str(), nir.key()), ("253072A073004", "43"));
        let nir = Nir::parse_full(" 2 76 09 12 346 445 12 ").unwrap();
        assert_eq!((nir.as_str(), nir.key()), ("2760912346445", "12"));
    }

    #[test]
    fn seeds_nir_typed_in_two_fields_with_spaces_is_accepted() {
        let nir = Nir::parse("2 76 09 12 346 445", " 12 ").unwrap();
        assert_eq!(nir, Nir::parse_full("276091234644512").unwrap());
    }

    #[test]
    fn nir_with_bad_key_is_refused() {
        assert_refused(
            Nir::parse_full("295109912611199"),
            &["295109912611199"],
            NirError::KeyMismatch,
        );
        assert_refused(
            Nir::parse("2760912346445", "13"),
            &["2760912346445"],
            NirError::KeyMismatch,
        );
    }

    #[test]
    fn key_below_ten_keeps_its_leading_zero() {
        let number = (1..=999)
            .map(|order| format!("1850597400{order:03}"))
            .find(|n| expected_key(n.as_bytes()) < 10)
            .unwrap();
        let key = format!("0{}", expected_key(number.as_bytes()));
        let nir = Nir::parse(&number, &key).unwrap();
        assert_eq!(nir.key(), key);
        assert_refused(
            Nir::parse(&number, &key[1..]),
            &[number.as_str()],
            NirError::KeyFormat,
        );
    }

    #[test]
    fn corsican_departements_are_read_as_19_and_18_for_the_key() {
        assert_eq!(expected_key(b"253072A073004"), 43);
        // Same number with 2A replaced by 19, computed independently.
        assert_eq!(97 - 2_530_719_073_004_u64 % 97, 43);
        assert_eq!(
            expected_key(b"185022B012345"),
            97 - 1_850_218_012_345_u64 % 97
        );
        assert!(with_key("185022B012345").is_ok());
    }

    #[test]
    fn corsica_may_be_typed_in_lower_case() {
        let nir = Nir::parse("2 53 07 2a 073 004", "43").unwrap();
        assert_eq!(nir.as_str(), "253072A073004");
    }

    #[test]
    fn letters_outside_the_corsican_departement_are_refused() {
        for number in [
            "2A3072A073004",
            "25307A2073004",
            "253072C073004",
            "2530720A73004",
        ] {
            assert_refused(with_key(number), &[number], NirError::Characters);
        }
        let number = "255081416802X";
        assert_refused(Nir::parse(number, "38"), &[number], NirError::Characters);
    }

    #[test]
    fn non_ascii_digits_are_refused() {
        let number = "٢550814168025";
        assert_refused(Nir::parse(number, "38"), &[number], NirError::Characters);
    }

    #[test]
    fn number_of_wrong_length_is_refused() {
        for number in ["", "255081416802", "25508141680253", "2550814168025 38"] {
            assert_refused(Nir::parse(number, "38"), &[number], NirError::Length);
        }
    }

    #[test]
    fn full_nir_of_wrong_length_is_refused() {
        for input in ["2550814168025", "25508141680253", "2550814168025380"] {
            assert_refused(Nir::parse_full(input), &[input], NirError::FullLength);
        }
    }

    #[test]
    fn key_that_is_not_two_digits_is_refused() {
        for key in ["", "3", "380", "3A", "+8"] {
            assert_refused(
                Nir::parse("2550814168025", key),
                &["2550814168025"],
                NirError::KeyFormat,
            );
        }
    }

    #[test]
    fn sex_digit_must_be_1_or_2() {
        assert!(with_key("1550814168025").is_ok());
        for number in [
            "0550814168025",
            "3550814168025",
            "4550814168025",
            "7550814168025",
            "8550814168025",
        ] {
            assert_refused(with_key(number), &[number], NirError::Sex);
        }
    }

    #[test]
    fn months_of_incomplete_civil_records_are_accepted() {
        for month in ["01", "12", "20", "42", "50", "99"] {
            let number = format!("255{month}14168025");
            assert!(with_key(&number).is_ok(), "month {month}");
        }
    }

    #[test]
    fn months_outside_the_known_ranges_are_refused() {
        for month in ["00", "13", "19", "43", "49"] {
            let number = format!("255{month}14168025");
            assert_refused(with_key(&number), &[number.as_str()], NirError::Month);
        }
    }

    #[test]
    fn metropolitan_overseas_and_abroad_departements_are_accepted() {
        for departement in ["01", "20", "75", "95", "97", "98", "99"] {
            let number = format!("25508{departement}168025");
            assert!(with_key(&number).is_ok(), "département {departement}");
        }
        // Overseas: 974 (La Réunion), commune 05.
        assert!(with_key("1850597405012").is_ok());
    }

    #[test]
    fn departements_00_and_96_are_refused() {
        for departement in ["00", "96"] {
            let number = format!("25508{departement}168025");
            assert_refused(with_key(&number), &[number.as_str()], NirError::Departement);
        }
    }

    #[test]
    fn order_number_000_is_refused() {
        let number = "2550814168000";
        assert_refused(with_key(number), &[number], NirError::Order);
        assert!(with_key("2550814168001").is_ok());
        assert!(with_key("2550814168999").is_ok());
    }

    #[test]
    fn the_sex_and_the_departement_of_birth_are_read_from_the_nir() {
        let corsica = with_key("253072A073004").unwrap();
        assert!(!corsica.is_male());
        assert_eq!(corsica.birth_departement(), "2A");
        let overseas = with_key("1850597105123").unwrap();
        assert!(overseas.is_male());
        assert_eq!(overseas.birth_departement(), "971");
        assert_eq!(with_key("2760912346445").unwrap().birth_departement(), "12");
    }

    #[test]
    fn debug_does_not_show_the_nir() {
        let nir = Nir::parse_full("276091234644512").unwrap();
        let debug = format!("{nir:?}");
        assert_eq!(debug, "Nir(***)");
        assert!(!debug.chars().any(|c| c.is_ascii_digit()));
        let nested = format!("{:?}", Some(vec![nir]));
        assert!(!nested.contains("2760912346445"));
    }

    #[test]
    fn masked_nir_shows_only_the_sex_digit_and_the_key() {
        let nir = Nir::parse_full("276091234644512").unwrap();
        assert_eq!(nir.masked(), "2 ** ** ** *** *** 12");
    }

    #[test]
    fn nir_serializes_with_its_key_and_deserializes_through_parse_full() {
        struct ViaSerde<'a>(&'a Nir);
        impl fmt::Display for ViaSerde<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.serialize(f)
            }
        }
        let nir = Nir::parse_full("253072A07300443").unwrap();
        assert_eq!(ViaSerde(&nir).to_string(), "253072A07300443");

        let read = |text: &'static str| {
            let deserializer: StrDeserializer<'_, ValueError> = text.into_deserializer();
            Nir::deserialize(deserializer).map_err(|e| e.to_string())
        };
        assert_eq!(read("253072A07300443").unwrap(), nir);
        assert_eq!(
            read("295109912611199").unwrap_err(),
            NirError::KeyMismatch.to_string()
        );
    }

    #[test]
    fn every_error_has_a_distinct_code_and_a_french_message() {
        let codes: HashSet<&str> = ALL_ERRORS.iter().map(NirError::code).collect();
        assert_eq!(codes.len(), ALL_ERRORS.len());
        for error in ALL_ERRORS {
            assert!(error.code().starts_with("nir_"));
            let message = error.to_string();
            assert!(message.starts_with(|c: char| c.is_uppercase()), "{message}");
            assert!(message.ends_with('.'), "{message}");
            assert!(message.contains("NIR"), "{message}");
            assert!(
                ["doit", "est", "ne peut", "ne correspond"]
                    .iter()
                    .any(|word| message.contains(word)),
                "{message}"
            );
        }
        assert_eq!(
            NirError::KeyMismatch.to_string(),
            "La clé du NIR ne correspond pas au numéro : vérifiez le numéro et la clé."
        );
    }
}
