//! The pre-flight of an approval: before anything is issued, every person named is checked
//! against everything issuance will need of them, so that an approval goes through for
//! everyone or stops before the first certificate, `.p12` or e-mail.
//!
//! What issuance (`issuance.rs`) needs of a person:
//! - a certificate subject: the common name `Prénom NOM 42003`, shortened as
//!   [`ca::person_common_name`] says when too long, without control or formatting characters
//!   ([`ca::check_common_name`]); the subject's other attributes (`C=FR`, `O=`) come from the
//!   configuration, not from the person;
//! - an e-mail address the certificate's `rfc822Name` can hold (ASCII) and the mail transport
//!   delivers to ([`lettre::Address`], what the outbox checks at enqueue), the name being the
//!   recipient's display name;
//! - a name the `.p12` can carry as its friendly name, a `BMPString` (nothing beyond U+FFFF).
//!
//! Designees have no phone number: the only SMS of the PASS goes to the legal representative
//! before the signature, and approval sends none.
//!
//! [`check_issuable`] is the one function that says this. [`Protocol::parse`] calls it for
//! every person entered through the wizard or the JSON API, so a signed protocol can always be
//! approved; approval calls it again on what was stored (older rules may have let a value
//! through) and on the registry's record of the people it names by N° habilitation.
//!
//! [`Protocol::parse`]: crate::protocol::Protocol::parse

use std::fmt;

use super::{storage, Access, AccessError};
use crate::protocol::{PersonInput, ProtocolInput, Role};
use crate::{DomainError, Email, HabilitationNumber, PersonName};

/// The longest N° habilitation the common name must leave room for.
const LONGEST_HABILITATION: u64 = u32::MAX as u64;

/// Problems shown in one message; a protocol may name many people.
const SHOWN_PROBLEMS: usize = 20;

/// A field of a designee that issuance needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DesigneeField {
    /// Last name, as the protocol gives it.
    LastName,
    /// First name, as the protocol gives it.
    FirstName,
    /// E-mail address, as the protocol gives it.
    Email,
    /// The name the registry holds for a person the protocol names by N° habilitation.
    RegisteredName,
    /// The e-mail address the registry holds for a person the protocol names by N°
    /// habilitation.
    RegisteredEmail,
}

impl DesigneeField {
    /// The field as people call it.
    pub fn label(self) -> &'static str {
        match self {
            Self::LastName => "nom",
            Self::FirstName => "prénom",
            Self::Email => "adresse e-mail",
            Self::RegisteredName => "nom enregistré dans le registre",
            Self::RegisteredEmail => "adresse e-mail enregistrée dans le registre",
        }
    }

    /// The field's key in a person of the protocol (`pcrs[0].email`).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::LastName | Self::RegisteredName => "last_name",
            Self::FirstName => "first_name",
            Self::Email | Self::RegisteredEmail => "email",
        }
    }

    fn registered(self) -> Self {
        match self {
            Self::LastName | Self::FirstName | Self::RegisteredName => Self::RegisteredName,
            Self::Email | Self::RegisteredEmail => Self::RegisteredEmail,
        }
    }
}

/// Why issuance would fail on one field: a French sentence that does not repeat the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unissuable {
    /// The field.
    pub field: DesigneeField,
    /// Why.
    pub reason: String,
}

impl Unissuable {
    fn new(field: DesigneeField, reason: impl fmt::Display) -> Self {
        Self {
            field,
            reason: reason.to_string(),
        }
    }
}

/// A person an approval could not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesigneeProblem {
    /// The role the protocol names them for.
    pub role: Role,
    /// "Prénom NOM" as the protocol gives it, control and formatting characters shown as
    /// `\u{…}`, at most 100 characters.
    pub name: String,
    /// Their N° habilitation SISERI, when the protocol gives a valid one.
    pub habilitation: Option<u32>,
    /// The field at fault.
    pub field: DesigneeField,
    /// Why, in French.
    pub reason: String,
}

impl fmt::Display for DesigneeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} « {} »", self.role.label(), self.name)?;
        if let Some(h) = self.habilitation {
            write!(f, " (N° habilitation {h})")?;
        }
        write!(f, ", {} : {}", self.field.label(), self.reason)
    }
}

/// Checks what issuance needs of a person's name and address (see the module doc); the
/// wizard, the JSON API and approval all ask here.
pub(crate) fn check_issuable(first: &str, last: &str, email: &str) -> Result<(), Unissuable> {
    for (field, name) in [
        (DesigneeField::FirstName, first),
        (DesigneeField::LastName, last),
    ] {
        if name.trim().is_empty() {
            return Err(Unissuable::new(field, DomainError::NameEmpty));
        }
        if name.chars().any(ca::is_forbidden) {
            return Err(Unissuable::new(
                field,
                "Le nom ou le prénom contient un caractère de contrôle ou de mise en forme, \
                 qu'un certificat ne peut pas porter.",
            ));
        }
        let beyond_bmp = |s: &str| s.chars().any(|c| u32::from(c) > 0xFFFF);
        if beyond_bmp(name) || beyond_bmp(&name.to_uppercase()) {
            return Err(Unissuable::new(
                field,
                "Le nom ou le prénom contient un caractère que le fichier du certificat (.p12) \
                 ne peut pas enregistrer ; écrivez-le avec des lettres usuelles.",
            ));
        }
    }
    if ca::check_common_name(&ca::person_common_name(first, last, LONGEST_HABILITATION)).is_err() {
        return Err(Unissuable::new(
            DesigneeField::LastName,
            "Le nom ne permet pas de former le nom du certificat.",
        ));
    }
    let parsed = Email::parse(email).map_err(|e| Unissuable::new(DesigneeField::Email, e))?;
    if !parsed.as_str().is_ascii() || parsed.as_str().parse::<lettre::Address>().is_err() {
        return Err(Unissuable::new(
            DesigneeField::Email,
            DomainError::EmailInvalid,
        ));
    }
    Ok(())
}

impl Access {
    /// Checks every person a stored protocol names, and the registry's record of those it
    /// names by N° habilitation, against what issuance needs; every problem is reported at
    /// once. Reads only: nothing is written, issued or sent.
    pub(super) fn preflight(&self, input: &ProtocolInput) -> Result<(), AccessError> {
        let conn = self.pool.get()?;
        let mut problems = Vec::new();
        for (role, people) in [
            (Role::Cse, &input.correspondents),
            (Role::Mdt, &input.physicians),
            (Role::Pcr, &input.pcrs),
        ] {
            for person in people {
                let name = shown_name(person);
                let habilitation = person
                    .habilitation
                    .as_deref()
                    .and_then(|h| HabilitationNumber::parse(h).ok())
                    .map(|h| h.get());
                let problem = |u: Unissuable| DesigneeProblem {
                    role,
                    name: name.clone(),
                    habilitation,
                    field: u.field,
                    reason: u.reason,
                };
                if let Err(u) = check_entered(person) {
                    problems.push(problem(u));
                }
                let Some(h) = habilitation else { continue };
                if let Some(known) = storage::accessor(&conn, h)? {
                    if let Err(mut u) =
                        check_issuable(&known.first_name, &known.last_name, &known.email)
                    {
                        u.field = u.field.registered();
                        problems.push(problem(u));
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(AccessError::Unissuable { problems })
        }
    }
}

/// The rules of the wizard, then what issuance needs, on a person as stored.
fn check_entered(p: &PersonInput) -> Result<(), Unissuable> {
    let text = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_owned();
    let last = PersonName::parse(&text(&p.last_name))
        .map_err(|e| Unissuable::new(DesigneeField::LastName, e))?;
    let first = PersonName::parse(&text(&p.first_name))
        .map_err(|e| Unissuable::new(DesigneeField::FirstName, e))?;
    let email =
        Email::parse(&text(&p.email)).map_err(|e| Unissuable::new(DesigneeField::Email, e))?;
    check_issuable(first.as_str(), last.as_str(), email.as_str())
}

/// "Prénom NOM" for the operator's message: what cannot be shown safely is escaped, and a
/// hostile length is cut.
fn shown_name(p: &PersonInput) -> String {
    let first = p.first_name.as_deref().unwrap_or("").trim();
    let last = p.last_name.as_deref().unwrap_or("").trim().to_uppercase();
    let mut shown = String::new();
    for c in format!("{first} {last}").trim().chars().take(100) {
        if ca::is_forbidden(c) {
            shown.push_str(&c.escape_unicode().to_string());
        } else {
            shown.push(c);
        }
    }
    if shown.is_empty() {
        shown.push_str("(sans nom)");
    }
    shown
}

/// The operator's message for [`AccessError::Unissuable`].
pub(super) fn describe(problems: &[DesigneeProblem]) -> String {
    let mut out = String::from(
        "Validation impossible : aucun certificat n'a été émis et aucun message envoyé, pour \
         aucune des personnes nommées.",
    );
    for p in problems.iter().take(SHOWN_PROBLEMS) {
        out.push_str("\n- ");
        out.push_str(&p.to_string());
    }
    if problems.len() > SHOWN_PROBLEMS {
        out.push_str(&format!(
            "\n- et {} autre(s) problème(s).",
            problems.len() - SHOWN_PROBLEMS
        ));
    }
    out.push_str(
        "\nRefusez cette version avec un motif (siseri protocol reject) pour que l'employeur \
         signe un protocole corrigé ; ce qui est enregistré dans le registre se corrige sur la \
         fiche de la personne avant de valider à nouveau.",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ordinary_person_can_be_issued() {
        assert_eq!(
            check_issuable("Pierre", "DILLENSEGER", "p.dillenseger@alara.example"),
            Ok(())
        );
    }

    #[test]
    fn long_french_names_can_be_issued() {
        assert_eq!(
            check_issuable(
                "Marie-Christine-Françoise",
                "DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL",
                "mcf@exemple.fr"
            ),
            Ok(())
        );
        let hundred = "Éloïse-Anne".repeat(9) + "A";
        assert_eq!(hundred.chars().count(), 100);
        assert_eq!(check_issuable(&hundred, &hundred, "x@exemple.fr"), Ok(()));
    }

    #[test]
    fn what_issuance_would_refuse_is_named_by_field() {
        let field = |first: &str, last: &str, email: &str| {
            check_issuable(first, last, email).unwrap_err().field
        };
        assert_eq!(
            field("Jean", "DUPONT", "jean,dupont@exemple.fr"),
            DesigneeField::Email
        );
        assert_eq!(
            field("Jean", "DUPONT", "jean..dupont@exemple.fr"),
            DesigneeField::Email
        );
        assert_eq!(
            field("Jean", "DUPONT", "élodie@exemple.fr"),
            DesigneeField::Email
        );
        assert_eq!(
            field("Jean\u{202e}", "DUPONT", "j@exemple.fr"),
            DesigneeField::FirstName
        );
        assert_eq!(
            field("Jean", "DUP\u{1b}[2JONT", "j@exemple.fr"),
            DesigneeField::LastName
        );
        // A letter beyond the BMP: UTF8String takes it, the .p12's BMPString does not.
        assert_eq!(
            field("Jean", "\u{1d400}BC", "j@exemple.fr"),
            DesigneeField::LastName
        );
        assert_eq!(
            field(" ", "DUPONT", "j@exemple.fr"),
            DesigneeField::FirstName
        );
    }

    #[test]
    fn the_protocol_refuses_at_entry_what_approval_would_refuse() {
        use crate::protocol::Protocol;
        let seed: ProtocolInput =
            serde_json::from_str(include_str!("../../tests/data/protocol.json")).unwrap();
        for (field, value, key) in [
            ("email", "jean,dupont@exemple.fr", "pcrs[0].email"),
            ("email", "jean..dupont@exemple.fr", "pcrs[0].email"),
            ("last_name", "\u{1d400}BC", "pcrs[0].last_name"),
        ] {
            let mut input = seed.clone();
            let pcr = &mut input.pcrs[0];
            match field {
                "email" => pcr.email = Some(value.into()),
                _ => pcr.last_name = Some(value.into()),
            }
            let errors = Protocol::parse(&input).unwrap_err();
            let message = errors.get(key).unwrap_or_else(|| panic!("{errors}"));
            assert!(message.starts_with("L"), "{message}");
            assert!(!message.contains(value), "{message}");
        }
    }

    #[test]
    fn the_operators_message_names_the_person_and_the_field_and_escapes_controls() {
        let input = PersonInput {
            last_name: Some("Dupont\u{1b}[31m".into()),
            first_name: Some("Jean".into()),
            email: Some("jean,dupont@exemple.fr".into()),
            ..PersonInput::default()
        };
        let problem = DesigneeProblem {
            role: Role::Pcr,
            name: shown_name(&input),
            habilitation: Some(42003),
            field: DesigneeField::Email,
            reason: DomainError::EmailInvalid.to_string(),
        };
        let text = describe(&[problem]);
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            text.contains(
                "Personne compétente en radioprotection « Jean DUPONT\\u{1b}[31M » \
                 (N° habilitation 42003), adresse e-mail : L'adresse e-mail est invalide"
            ),
            "{text}"
        );
        assert!(!text.contains("jean,dupont"), "{text}");
        assert!(text.starts_with("Validation impossible"), "{text}");
    }
}
