//! The one error type of the domain values.
//!
//! Messages are shown to the people filling in PASS forms, so they are French sentences; they never
//! contain the value typed, because error messages end up in logs and the values are personal data.

/// Why a value typed in a form or read from a file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The SIRET, once spaces are removed, is not made of exactly 14 digits.
    #[error("Le numéro SIRET doit comporter 14 chiffres.")]
    SiretLength,
    /// The SIRET has 14 digits but its check (Luhn, or digit sum for La Poste) fails.
    #[error("Le numéro SIRET est invalide (clé de contrôle incorrecte).")]
    SiretInvalid,
    /// Not a French number (10 digits from 0, or `+33` and 9 digits).
    #[error(
        "Le numéro de téléphone doit comporter 10 chiffres et commencer par 0 \
         (ou commencer par +33 suivi de 9 chiffres)."
    )]
    PhoneInvalid,
    /// Marked as foreign but not an international (E.164) number.
    #[error(
        "Le numéro de téléphone étranger doit commencer par + suivi de l'indicatif du pays, \
         soit 8 à 15 chiffres au total."
    )]
    ForeignPhoneInvalid,
    /// An international number typed without ticking the "foreign" box.
    #[error(
        "Ce numéro de téléphone n'est pas un numéro français : pour un numéro étranger, \
         cochez la case correspondante."
    )]
    PhoneForeignNotDeclared,
    /// A French number that is not a mobile where a mobile is required (the SMS signature code).
    #[error("Le numéro doit être celui d'un téléphone mobile (commençant par 06 ou 07).")]
    PhoneNotMobile,
    /// The postal code is not made of exactly 5 digits.
    #[error("Le code postal doit comporter 5 chiffres.")]
    PostalCodeInvalid,
    /// Not a birth département code.
    #[error(
        "Le département de naissance doit être compris entre 01 et 95, ou valoir 2A, 2B, \
         971 à 976, ou 99 pour une naissance à l'étranger."
    )]
    DepartementInvalid,
    /// The e-mail address is longer than 254 characters.
    #[error("L'adresse e-mail ne doit pas dépasser 254 caractères.")]
    EmailTooLong,
    /// The e-mail address is not one the mail transport can deliver to (see [`crate::Email`]).
    #[error(
        "L'adresse e-mail est invalide : elle doit être de la forme nom@domaine.fr, sans espace, \
         accent ni virgule, sans point au début, à la fin ou doublé."
    )]
    EmailInvalid,
    /// The name is empty once trimmed.
    #[error("Le nom ou le prénom doit être renseigné.")]
    NameEmpty,
    /// The name is longer than 100 characters.
    #[error("Le nom ou le prénom ne doit pas dépasser 100 caractères.")]
    NameTooLong,
    /// The name holds a digit, a control character or punctuation other than `-` and `'`.
    #[error(
        "Le nom ou le prénom ne peut contenir que des lettres, des espaces, des traits d'union \
         et des apostrophes."
    )]
    NameInvalidCharacters,
    /// The date is not written `jj/mm/aaaa`.
    #[error("La date doit être écrite au format jj/mm/aaaa.")]
    DateFormat,
    /// The date is well written but does not exist (31/02, month 13…).
    #[error("Cette date n'existe pas dans le calendrier.")]
    DateInvalid,
    /// The year is outside 1900..=2100.
    #[error("L'année doit être comprise entre 1900 et 2100.")]
    DateOutOfRange,
    /// Not 1 to 9 digits without a leading zero.
    #[error(
        "Le numéro d'habilitation SISERI doit comporter de 1 à 9 chiffres, sans zéro initial."
    )]
    HabilitationNumberInvalid,
    /// Neither `M.` nor `Mme`.
    #[error("La civilité doit être « M. » ou « Mme ».")]
    CivilityInvalid,
}

impl DomainError {
    /// A stable identifier for programs (API clients, form field highlighting, metrics); unlike the
    /// message, it will not change when the wording is improved.
    pub fn code(&self) -> &'static str {
        match self {
            Self::SiretLength => "siret_length",
            Self::SiretInvalid => "siret_invalid",
            Self::PhoneInvalid => "phone_invalid",
            Self::ForeignPhoneInvalid => "foreign_phone_invalid",
            Self::PhoneForeignNotDeclared => "phone_foreign_not_declared",
            Self::PhoneNotMobile => "phone_not_mobile",
            Self::PostalCodeInvalid => "postal_code_invalid",
            Self::DepartementInvalid => "departement_invalid",
            Self::EmailTooLong => "email_too_long",
            Self::EmailInvalid => "email_invalid",
            Self::NameEmpty => "name_empty",
            Self::NameTooLong => "name_too_long",
            Self::NameInvalidCharacters => "name_invalid_characters",
            Self::DateFormat => "date_format",
            Self::DateInvalid => "date_invalid",
            Self::DateOutOfRange => "date_out_of_range",
            Self::HabilitationNumberInvalid => "habilitation_number_invalid",
            Self::CivilityInvalid => "civility_invalid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DomainError::{self, *};
    use std::collections::HashSet;

    // Kept in sync by hand: a new variant must be added here, which forces a look at its message.
    const ALL: [DomainError; 18] = [
        SiretLength,
        SiretInvalid,
        PhoneInvalid,
        ForeignPhoneInvalid,
        PhoneForeignNotDeclared,
        PhoneNotMobile,
        PostalCodeInvalid,
        DepartementInvalid,
        EmailTooLong,
        EmailInvalid,
        NameEmpty,
        NameTooLong,
        NameInvalidCharacters,
        DateFormat,
        DateInvalid,
        DateOutOfRange,
        HabilitationNumberInvalid,
        CivilityInvalid,
    ];

    #[test]
    fn every_code_is_distinct_and_snake_case() {
        let codes: HashSet<&str> = ALL.iter().map(DomainError::code).collect();
        assert_eq!(codes.len(), ALL.len());
        for code in codes {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
    }

    #[test]
    fn every_message_is_a_french_sentence() {
        for error in ALL {
            let message = error.to_string();
            assert!(message.starts_with(|c: char| c.is_uppercase()), "{message}");
            assert!(message.ends_with('.'), "{message}");
            assert!(!message.contains("  "), "{message}");
            // A cheap guard against English creeping in: every message uses a French verb or article.
            assert!(
                ["doit", "est", "n'existe", "ne peut"]
                    .iter()
                    .any(|word| message.contains(word)),
                "{message}"
            );
        }
    }

    #[test]
    fn siret_messages_read_as_specified() {
        assert_eq!(
            SiretLength.to_string(),
            "Le numéro SIRET doit comporter 14 chiffres."
        );
        assert_eq!(
            SiretInvalid.to_string(),
            "Le numéro SIRET est invalide (clé de contrôle incorrecte)."
        );
        assert_eq!(SiretInvalid.code(), "siret_invalid");
    }
}
