//! Who may do what in the console: the two operator roles and their acts, in one table.
//!
//! | act                                   | instructeur | administrateur |
//! |---------------------------------------|:-----------:|:--------------:|
//! | review protocols, documents, people   | yes         | yes            |
//! | approve, reject                       | yes         | yes            |
//! | re-send, reset an access code         | yes         | yes            |
//! | change a person's e-mail              | yes         | yes            |
//! | revoke a person's certificates        | no          | yes            |
//! | renew a person's certificate          | no          | yes            |
//! | add, list, revoke operators           | no          | yes            |
//! | outbox, audit log, AC SISERI          | no          | yes            |

use serde::{Deserialize, Serialize};

/// An operator's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperatorRole {
    /// Reviews and decides protocols, helps people (re-send, codes, e-mail).
    Instructeur,
    /// Everything an instructeur does, and revocation, renewal, operators, the CA.
    Administrateur,
}

/// What an operator does in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorAct {
    /// Read protocols, their documents, people.
    Review,
    /// Approve or reject a signed protocol.
    Decide,
    /// Re-send a withdrawal (new link, same profile or another `.p12` profile).
    Resend,
    /// Send a new access code.
    ResetCode,
    /// Change a person's e-mail address.
    SetEmail,
    /// Revoke a person's certificates.
    Revoke,
    /// Renew a person's certificate.
    Renew,
    /// Add, list and revoke operators.
    ManageOperators,
    /// The outbox, the audit log, AC SISERI's page.
    Supervise,
}

impl OperatorRole {
    /// Stored and typed form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instructeur => "instructeur",
            Self::Administrateur => "administrateur",
        }
    }

    /// From the stored or typed form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "instructeur" => Some(Self::Instructeur),
            "administrateur" => Some(Self::Administrateur),
            _ => None,
        }
    }

    /// The table of this module's doc.
    pub fn may(self, act: OperatorAct) -> bool {
        use OperatorAct::*;
        match self {
            Self::Administrateur => true,
            Self::Instructeur => matches!(act, Review | Decide | Resend | ResetCode | SetEmail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OperatorAct::*;
    use super::OperatorRole::*;

    #[test]
    fn an_instructeur_reviews_decides_and_helps_people() {
        for act in [Review, Decide, Resend, ResetCode, SetEmail] {
            assert!(Instructeur.may(act), "{act:?}");
        }
    }

    #[test]
    fn an_instructeur_neither_revokes_renews_manages_operators_nor_supervises() {
        for act in [Revoke, Renew, ManageOperators, Supervise] {
            assert!(!Instructeur.may(act), "{act:?}");
        }
    }

    #[test]
    fn an_administrateur_may_do_everything() {
        for act in [
            Review,
            Decide,
            Resend,
            ResetCode,
            SetEmail,
            Revoke,
            Renew,
            ManageOperators,
            Supervise,
        ] {
            assert!(Administrateur.may(act), "{act:?}");
        }
    }

    #[test]
    fn roles_read_back_as_written() {
        for role in [Instructeur, Administrateur] {
            assert_eq!(super::OperatorRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(super::OperatorRole::parse("Administrateur"), None);
    }
}
