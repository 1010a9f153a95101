//! E-mail addresses of the people named in a protocol: withdrawal links and access codes go there.

use super::{canonical_string, DomainError};

/// The longest address SMTP can carry (RFC 5321 path limit minus the angle brackets).
const MAX_LEN: usize = 254;

/// An e-mail address, checked pragmatically: the only real proof is the withdrawal e-mail arriving.
///
/// The domain is lower-cased (domains are case-insensitive); the local part is kept as typed,
/// since a server may in theory distinguish its case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

canonical_string!(
    /// The address, domain in lower case.
    Email,
    Email::parse
);

impl Email {
    /// Parses an address; surrounding spaces are ignored.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let address = input.trim();
        if address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::EmailInvalid);
        }
        let (local, domain) = match address.split_once('@') {
            Some((local, domain)) if !domain.contains('@') => (local, domain),
            _ => return Err(DomainError::EmailInvalid),
        };
        // Empty labels (`a@.fr`, `a@fr.`, `a@x..fr`) cannot be delivered to.
        let labels_ok = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !labels_ok {
            return Err(DomainError::EmailInvalid);
        }
        // Measured after lower-casing, which can lengthen a few non-ASCII characters.
        let address = format!("{local}@{}", domain.to_lowercase());
        if address.len() > MAX_LEN {
            return Err(DomainError::EmailTooLong);
        }
        Ok(Self(address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, assert_refused, deserialized, serialized};

    #[test]
    fn ordinary_address_is_accepted() {
        let email = Email::parse("pierre.dupont@exemple.fr").unwrap();
        assert_eq!(email.as_str(), "pierre.dupont@exemple.fr");
        assert_eq!(email.to_string(), "pierre.dupont@exemple.fr");
    }

    #[test]
    fn domain_is_lower_cased_and_local_part_kept() {
        let email = Email::parse("  Pierre.Dupont+pcr@Exemple.FR ").unwrap();
        assert_eq!(email.as_str(), "Pierre.Dupont+pcr@exemple.fr");
    }

    #[test]
    fn address_without_exactly_one_at_sign_is_refused() {
        assert_all_refused(
            Email::parse,
            &[
                "pierre.exemple.fr",
                "pierre@@exemple.fr",
                "pi@erre@exemple.fr",
            ],
            DomainError::EmailInvalid,
        );
    }

    #[test]
    fn address_with_empty_local_part_is_refused() {
        assert_refused(
            Email::parse("@exemple.fr"),
            "@exemple.fr",
            DomainError::EmailInvalid,
        );
    }

    #[test]
    fn address_whose_domain_has_no_dot_or_an_empty_label_is_refused() {
        assert_all_refused(
            Email::parse,
            &[
                "pierre@exemple",
                "pierre@",
                "pierre@.fr",
                "pierre@exemple.",
                "pierre@exemple..fr",
            ],
            DomainError::EmailInvalid,
        );
    }

    #[test]
    fn address_with_inner_spaces_or_control_characters_is_refused() {
        assert_all_refused(
            Email::parse,
            &[
                "pierre dupont@exemple.fr",
                "pierre@exemple .fr",
                "pierre\t@exemple.fr",
                "pierre@exemple.fr\u{0}x",
                "pierre\u{a0}dupont@exemple.fr",
            ],
            DomainError::EmailInvalid,
        );
    }

    #[test]
    fn empty_address_is_refused() {
        assert_refused(Email::parse("   "), "   ", DomainError::EmailInvalid);
    }

    #[test]
    fn address_of_254_characters_is_accepted_and_255_refused() {
        let domain = "@exemple.fr";
        let longest = format!("{}{domain}", "a".repeat(MAX_LEN - domain.len()));
        assert_eq!(longest.len(), 254);
        assert!(Email::parse(&longest).is_ok());
        let too_long = format!("a{longest}");
        assert_refused(
            Email::parse(&too_long),
            &too_long,
            DomainError::EmailTooLong,
        );
    }

    #[test]
    fn email_serializes_in_canonical_form() {
        let email = Email::parse("Pierre@Exemple.FR").unwrap();
        assert_eq!(serialized(&email), "Pierre@exemple.fr");
        assert_eq!(deserialized::<Email>("Pierre@EXEMPLE.fr").unwrap(), email);
        assert!(deserialized::<Email>("pierre").is_err());
    }
}
