//! Values typed in PASS forms, parsed once at the edge.
//!
//! Each type can only hold a valid value, so code past the form handlers never checks again.
//! All of them serialize as their canonical string and deserialize through `parse`, so a stored or
//! imported value gets the same checks as a typed one.

mod civility;
mod date;
mod departement;
mod email;
mod error;
mod habilitation;
mod name;
mod phone;
mod postal_code;
mod siret;

pub use civility::Civility;
pub use date::FrenchDate;
pub use departement::Departement;
pub use email::Email;
pub use error::DomainError;
pub use habilitation::HabilitationNumber;
pub use name::PersonName;
pub use phone::{MobileNumber, PhoneNumber};
pub use postal_code::PostalCode;
pub use siret::Siret;

/// Serde through the canonical string: `Display` out, the given parser in.
macro_rules! serde_as_string {
    ($ty:ty, $parse:expr) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                let parse: fn(&str) -> Result<$ty, $crate::domain::DomainError> = $parse;
                parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
use serde_as_string;

/// A value held as its canonical string: `as_str` (with the given doc), `Display` and serde
/// through that string, the given parser in.
macro_rules! canonical_string {
    ($(#[$doc:meta])* $ty:ident, $parse:expr) => {
        impl $ty {
            $(#[$doc])*
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        $crate::domain::serde_as_string!($ty, $parse);
    };
}
use canonical_string;

/// Helpers shared by the tests of every domain type.
#[cfg(test)]
pub(crate) mod testing {
    use super::DomainError;
    use serde::de::value::{Error as ValueError, StrDeserializer};
    use serde::de::IntoDeserializer;
    use std::fmt;

    /// Asserts the refusal reason and that its message does not repeat what was typed.
    pub(crate) fn assert_refused<T: fmt::Debug>(
        result: Result<T, DomainError>,
        input: &str,
        expected: DomainError,
    ) {
        let error = result.unwrap_err();
        assert_eq!(error, expected, "input {input:?}");
        assert_hides_input(&error.to_string(), input);
    }

    /// [`assert_refused`] for each of `inputs`, all refused for the same reason.
    pub(crate) fn assert_all_refused<T: fmt::Debug>(
        parse: impl Fn(&str) -> Result<T, DomainError>,
        inputs: &[&str],
        expected: DomainError,
    ) {
        for input in inputs {
            assert_refused(parse(input), input, expected);
        }
    }

    /// Inputs shorter than 3 characters are skipped: `"2"` is legitimately in "2A" or "2100".
    pub(crate) fn assert_hides_input(message: &str, input: &str) {
        let trimmed = input.trim();
        let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        for needle in [trimmed, compact.as_str()] {
            if needle.chars().count() >= 3 {
                assert!(
                    !message.contains(needle),
                    "message {message:?} repeats the input"
                );
            }
        }
    }

    /// What `T` serializes to, through serde's `Formatter` serializer (no JSON crate needed).
    pub(crate) fn serialized<T: serde::Serialize>(value: &T) -> String {
        struct ViaSerde<'a, T>(&'a T);
        impl<T: serde::Serialize> fmt::Display for ViaSerde<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.serialize(f)
            }
        }
        ViaSerde(value).to_string()
    }

    /// Deserializes `T` from a plain string, as a JSON or form string field would.
    pub(crate) fn deserialized<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
        let deserializer: StrDeserializer<'_, ValueError> = text.into_deserializer();
        T::deserialize(deserializer).map_err(|e| e.to_string())
    }
}
