//! E-mail addresses of the people named in a protocol: withdrawal links and access codes go there.

use super::{canonical_string, DomainError};

/// The longest address SMTP can carry (RFC 5321 path limit minus the angle brackets).
const MAX_LEN: usize = 254;

/// An e-mail address the mail transport will deliver to and a certificate can carry.
///
/// The rules are the mail transport's own: the address must parse as a [`lettre::Address`]
/// (what `outbox` hands to SMTP), so an address accepted here is never refused at approval.
/// On top of them, what issuance and the project need:
/// - ASCII only: the address goes into the certificate's `rfc822Name`, an `IA5String`, and
///   SMTP without the SMTPUTF8 extension carries nothing else;
/// - a local part written as a dot-atom (`jean.dupont+pcr`), never a quoted string
///   (`"jean,dupont"@…`), which some mail clients and spreadsheets mangle;
/// - a domain name with at least one dot and no empty label, not an IP literal;
/// - at most 254 characters.
///
/// The domain is lower-cased (domains are case-insensitive); the local part is kept as typed,
/// since a server may in theory distinguish its case. The only real proof is the withdrawal
/// e-mail arriving.
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
        // Spaces, control characters and anything outside ASCII (accents, look-alike letters,
        // bidirectional marks) are refused before anything else looks at the address.
        if !address.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(DomainError::EmailInvalid);
        }
        let (local, domain) = match address.split_once('@') {
            Some((local, domain)) if !domain.contains('@') => (local, domain),
            _ => return Err(DomainError::EmailInvalid),
        };
        // Empty labels (`a@.fr`, `a@fr.`, `a@x..fr`) cannot be delivered to.
        let labels_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if local.is_empty() || local.starts_with('"') || !labels_ok {
            return Err(DomainError::EmailInvalid);
        }
        let address = format!("{local}@{}", domain.to_ascii_lowercase());
        if address.len() > MAX_LEN {
            return Err(DomainError::EmailTooLong);
        }
        // The transport's rules: dot-atom local part (no `,`, no `..`, no leading or trailing
        // dot), local part of at most 64 octets, labels starting and ending with a letter or a
        // digit, of at most 63 octets.
        if address.parse::<lettre::Address>().is_err() {
            return Err(DomainError::EmailInvalid);
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
    fn what_the_mail_transport_refuses_is_refused() {
        let refused = [
            "jean,dupont@exemple.fr",
            "jean..dupont@exemple.fr",
            ".jean@exemple.fr",
            "jean.@exemple.fr",
            "jean;dupont@exemple.fr",
            "jean(dupont)@exemple.fr",
            "<jean@exemple.fr>",
            "jean@-exemple.fr",
            "jean@exemple-.fr",
            "jean@exemple.fr,paul@exemple.fr",
        ];
        for address in refused {
            assert!(
                address.parse::<lettre::Address>().is_err(),
                "{address} is one the transport takes: the test is wrong"
            );
        }
        assert_all_refused(Email::parse, &refused, DomainError::EmailInvalid);
    }

    #[test]
    fn quoted_local_parts_ip_literals_and_underscores_in_domains_are_refused_too() {
        // The transport would take these; people do not have such addresses, and they are
        // what tricks a reader or a spreadsheet.
        assert_all_refused(
            Email::parse,
            &[
                "\"jean\"@exemple.fr",
                "\"jean,dupont\"@exemple.fr",
                "jean@[127.0.0.1]",
                "jean@exemple_1.fr",
            ],
            DomainError::EmailInvalid,
        );
    }

    #[test]
    fn a_local_part_longer_than_64_octets_is_refused() {
        let address = format!("{}@exemple.fr", "a".repeat(65));
        assert_refused(Email::parse(&address), &address, DomainError::EmailInvalid);
        assert!(Email::parse(&format!("{}@exemple.fr", "a".repeat(64))).is_ok());
    }

    #[test]
    fn non_ascii_addresses_are_refused() {
        // The certificate's rfc822Name is an IA5String; SMTP needs SMTPUTF8 for anything else.
        assert_all_refused(
            Email::parse,
            &[
                "élodie@exemple.fr",
                "jean@exemple-é.fr",
                "jean@ехемple.fr",
                "jean\u{202e}@exemple.fr",
            ],
            DomainError::EmailInvalid,
        );
    }

    #[test]
    fn every_address_accepted_is_one_the_transport_accepts() {
        for address in [
            "pierre.dupont@exemple.fr",
            "Pierre.Dupont+pcr@Exemple.FR",
            "o'brien@exemple.fr",
            "a_b-c~d=e#f@sous-domaine.exemple.fr",
            "x@x.fr",
        ] {
            let email = Email::parse(address).unwrap();
            assert!(email.as_str().parse::<lettre::Address>().is_ok(), "{email}");
        }
    }

    #[test]
    fn empty_address_is_refused() {
        assert_refused(Email::parse("   "), "   ", DomainError::EmailInvalid);
    }

    #[test]
    fn address_of_254_characters_is_accepted_and_255_refused() {
        // The transport caps the local part at 64 octets and a label at 63.
        let longest = format!(
            "{}@{}.{}.{}.fr",
            "a".repeat(64),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(58)
        );
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
