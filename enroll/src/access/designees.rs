//! What a protocol says of the people the registry already knows, for the operator who
//! approves it: who is named, how they were found, and every field the protocol words
//! differently. `siseri protocol show` and `siseri protocol approve` print the same rows.

use store::text::same_spelling;

use super::approval::{designee_label, designee_match_key};
use super::{storage, stored_input, Access, AccessError};
use crate::protocol::{Designee, Protocol, Role};

/// How the protocol designates a person the registry knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    /// By their N° habilitation SISERI (the names are checked against it).
    Habilitation,
    /// By name, birth date and birth département alone: approval asks the operator to confirm.
    NameAndBirth,
}

/// A field of a person's identity the protocol and the registry may word differently. The
/// registry keeps no phone number for people, so there is none to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityField {
    /// E-mail address (the registry's is kept: a protocol never changes it).
    Email,
    /// Last name.
    LastName,
    /// First name.
    FirstName,
    /// Civility.
    Civility,
    /// Birth date.
    BirthDate,
    /// Birth département.
    BirthDepartement,
}

impl IdentityField {
    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Email => "adresse électronique",
            Self::LastName => "nom",
            Self::FirstName => "prénom",
            Self::Civility => "civilité",
            Self::BirthDate => "date de naissance",
            Self::BirthDepartement => "département de naissance",
        }
    }
}

/// One field worded differently; `None` where a side says nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDifference {
    /// Which field.
    pub field: IdentityField,
    /// What the registry knows.
    pub registry: Option<String>,
    /// What the protocol says.
    pub protocol: Option<String>,
}

/// A person the protocol names whom the registry already knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDesignee {
    /// `Prénom NOM (rôle)`, as the protocol names them.
    pub designee: String,
    /// The role.
    pub role: Role,
    /// Their N° habilitation SISERI.
    pub habilitation: u32,
    /// How the protocol designates them.
    pub found_by: FoundBy,
    /// Already attached to this establishment (a renewal naming its own people again).
    pub attached_here: bool,
    /// Every field the protocol words otherwise than the registry.
    pub differences: Vec<FieldDifference>,
}

impl Access {
    /// Every person the latest version of protocol `number` names who already exists, with
    /// every difference between what the protocol says and what the registry knows. People
    /// named by a habilitation number that does not exist are left out (approval refuses them).
    pub fn compare_designees(&self, number: &str) -> Result<Vec<KnownDesignee>, AccessError> {
        let conn = self.pool.get()?;
        let row = storage::versions_of(&conn, number)?
            .pop()
            .ok_or_else(|| AccessError::UnknownProtocol(number.to_owned()))?;
        let input = stored_input(&row.input)?;
        let protocol =
            Protocol::parse(&input).map_err(|e| AccessError::InvalidProtocol(e.to_string()))?;
        let mut known = Vec::new();
        for d in protocol.designees() {
            let found = match (d.habilitation, designee_match_key(d)) {
                (Some(h), _) => Some((h.get(), FoundBy::Habilitation)),
                (None, Some(key)) => {
                    storage::accessor_by_match(&conn, &key)?.map(|h| (h, FoundBy::NameAndBirth))
                }
                (None, None) => None,
            };
            let Some((hab, found_by)) = found else {
                continue;
            };
            let Some(person) = storage::accessor(&conn, hab)? else {
                continue;
            };
            let identity = storage::accessor_identity(&conn, hab)?.unwrap_or_default();
            known.push(KnownDesignee {
                designee: designee_label(d),
                role: d.role,
                habilitation: hab,
                found_by,
                attached_here: storage::attached_to_protocol(&conn, hab, row.protocol_id)?,
                differences: differences(d, &person, &identity),
            });
        }
        Ok(known)
    }
}

fn differences(
    d: &Designee,
    person: &storage::AccessorRow,
    identity: &storage::StoredIdentity,
) -> Vec<FieldDifference> {
    let mut out = Vec::new();
    let mut compare = |field, registry: Option<&str>, protocol: Option<&str>, same: bool| {
        if !same {
            out.push(FieldDifference {
                field,
                registry: registry.map(str::to_owned),
                protocol: protocol.map(str::to_owned),
            });
        }
    };
    compare(
        IdentityField::Email,
        Some(&person.email),
        Some(d.email.as_str()),
        person.email == d.email.as_str(),
    );
    for (field, registry, protocol) in [
        (
            IdentityField::LastName,
            &person.last_name,
            d.last_name.as_str(),
        ),
        (
            IdentityField::FirstName,
            &person.first_name,
            d.first_name.as_str(),
        ),
    ] {
        compare(
            field,
            Some(registry),
            Some(protocol),
            same_spelling(registry, protocol),
        );
    }
    // A protocol naming someone by number says nothing of their birth: nothing to compare.
    if let Some(given) = &d.identity {
        let birth_date = given.birth_date.to_string();
        for (field, registry, protocol) in [
            (
                IdentityField::Civility,
                identity.civility.as_deref(),
                given.civility.as_str(),
            ),
            (
                IdentityField::BirthDate,
                identity.birth_date.as_deref(),
                birth_date.as_str(),
            ),
            (
                IdentityField::BirthDepartement,
                identity.birth_departement.as_deref(),
                given.birth_departement.as_str(),
            ),
        ] {
            compare(field, registry, Some(protocol), registry == Some(protocol));
        }
    }
    out
}
