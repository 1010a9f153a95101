//! Civility, asked of people who have no SISERI habilitation number yet.

use super::{serde_as_string, DomainError};
use std::fmt;

/// The civility of a person, as in the PASS form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Civility {
    /// « M. » (Monsieur).
    Mr,
    /// « Mme » (Madame).
    Ms,
}

impl Civility {
    /// Parses `M`, `M.`, `Mme` or `Mme.`, in any case, or the words `Monsieur` and `Madame`.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let text = input.trim();
        let text = text.strip_suffix('.').unwrap_or(text).to_lowercase();
        match text.as_str() {
            "m" | "monsieur" => Ok(Self::Mr),
            "mme" | "madame" => Ok(Self::Ms),
            _ => Err(DomainError::CivilityInvalid),
        }
    }

    /// The canonical abbreviation: `M` or `Mme`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mr => "M",
            Self::Ms => "Mme",
        }
    }
}

impl fmt::Display for Civility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

serde_as_string!(Civility, Civility::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, deserialized, serialized};

    #[test]
    fn m_with_or_without_dot_is_mr() {
        for input in ["M", "M.", " m. ", "Monsieur", "MONSIEUR"] {
            assert_eq!(Civility::parse(input).unwrap(), Civility::Mr, "{input:?}");
        }
    }

    #[test]
    fn mme_with_or_without_dot_is_ms() {
        for input in ["Mme", "Mme.", "MME", "mme.", "Madame"] {
            assert_eq!(Civility::parse(input).unwrap(), Civility::Ms, "{input:?}");
        }
    }

    #[test]
    fn other_civilities_are_refused() {
        assert_all_refused(
            Civility::parse,
            &[
                "",
                ".",
                "Mr",
                "Mrs",
                "Mlle",
                "Mademoiselle",
                "M..",
                "Mme..",
                "Dr",
                "M Mme",
            ],
            DomainError::CivilityInvalid,
        );
    }

    #[test]
    fn civility_prints_and_serializes_as_m_or_mme() {
        assert_eq!(Civility::Mr.to_string(), "M");
        assert_eq!(Civility::Ms.as_str(), "Mme");
        assert_eq!(serialized(&Civility::Ms), "Mme");
        assert_eq!(deserialized::<Civility>("M").unwrap(), Civility::Mr);
        assert!(deserialized::<Civility>("X").is_err());
    }
}
