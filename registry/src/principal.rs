//! Who is calling: filled by the listener from the client certificate (through `enroll`'s narrow
//! interface), then passed to every method of [`crate::Registry`].

use std::collections::BTreeSet;

use crate::policy::Role;

/// Whose certificate opened the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A person designated by a protocol, known by their N° habilitation SISERI.
    Accessor {
        /// The habilitation number, e.g. `42003`.
        habilitation: String,
    },
    /// A dosimetry body's machine certificate (profile `organisme`).
    DosimetryBody {
        /// The body's name, as in its certificate.
        name: String,
    },
}

/// The caller: who they are and, for each establishment they are attached to, their role there.
///
/// Plain data: the listener builds it, the registry checks it. An establishment that is not in
/// `attachments` does not exist for this caller (its ids answer "not found", never "forbidden").
/// A person may hold several roles in one establishment (the dentist who is their own CSE and
/// PCR), and different roles in different ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub identity: Identity,
    /// `(establishment id, role held there)`; the establishment id is the protocol id of `enroll`.
    pub attachments: Vec<(i64, Role)>,
}

impl Principal {
    /// A person with their habilitation number and attachments.
    pub fn accessor(
        habilitation: impl Into<String>,
        attachments: impl IntoIterator<Item = (i64, Role)>,
    ) -> Self {
        Self {
            identity: Identity::Accessor {
                habilitation: habilitation.into(),
            },
            attachments: attachments.into_iter().collect(),
        }
    }

    /// A dosimetry body serving `establishments`.
    pub fn dosimetry_body(
        name: impl Into<String>,
        establishments: impl IntoIterator<Item = i64>,
    ) -> Self {
        Self {
            identity: Identity::DosimetryBody { name: name.into() },
            attachments: establishments
                .into_iter()
                .map(|id| (id, Role::DosimetryBody))
                .collect(),
        }
    }

    /// The roles held in `establishment`; empty when not attached. A role that does not match the
    /// identity (a person listed as a dosimetry body, a body listed as a PCR) is never honoured:
    /// only a machine certificate of the `organisme` profile sends passive dosimetry.
    pub fn roles_in(&self, establishment: i64) -> BTreeSet<Role> {
        let body = matches!(self.identity, Identity::DosimetryBody { .. });
        self.attachments
            .iter()
            .filter(|(id, role)| *id == establishment && (*role == Role::DosimetryBody) == body)
            .map(|(_, role)| *role)
            .collect()
    }

    /// How the caller is written in the audit log and as the source of a dose record:
    /// `accessor:42003` or `organisme:NAME`.
    pub fn actor(&self) -> String {
        match &self.identity {
            Identity::Accessor { habilitation } => format!("accessor:{habilitation}"),
            Identity::DosimetryBody { name } => format!("organisme:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_that_counts_is_the_one_held_in_that_establishment() {
        let pcr = Principal::accessor("42003", [(1, Role::Cse), (2, Role::Pcr), (1, Role::Pcr)]);
        assert_eq!(pcr.roles_in(1), BTreeSet::from([Role::Cse, Role::Pcr]));
        assert_eq!(pcr.roles_in(2), BTreeSet::from([Role::Pcr]));
        assert!(pcr.roles_in(3).is_empty());
    }

    #[test]
    fn a_person_is_never_a_dosimetry_body_and_a_body_never_a_person() {
        let person = Principal::accessor("42003", [(1, Role::DosimetryBody), (1, Role::Mdt)]);
        assert_eq!(person.roles_in(1), BTreeSet::from([Role::Mdt]));
        let mut body = Principal::dosimetry_body("LANDAUER", [1]);
        body.attachments.push((1, Role::Cse));
        assert_eq!(body.roles_in(1), BTreeSet::from([Role::DosimetryBody]));
    }

    #[test]
    fn actors_name_the_habilitation_or_the_body() {
        assert_eq!(Principal::accessor("42003", []).actor(), "accessor:42003");
        assert_eq!(
            Principal::dosimetry_body("LANDAUER", []).actor(),
            "organisme:LANDAUER"
        );
    }
}
