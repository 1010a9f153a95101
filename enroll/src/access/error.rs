//! What can go wrong in the access life cycle, with the HTTP status and stable code the
//! public routes answer.

use super::DesigneeProblem;
use crate::outbox::OutboxError;
use crate::DomainError;

/// A designee found by name and birth alone, whom the operator must confirm is the person the
/// registry knows under `habilitation`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchToConfirm {
    /// `Prénom NOM (rôle)`, as the protocol names them.
    pub designee: String,
    /// The existing person they match.
    pub habilitation: u32,
}

fn to_confirm(matches: &[MatchToConfirm]) -> String {
    let people: Vec<String> = matches
        .iter()
        .map(|m| {
            format!(
                "{} porte le même nom et est né(e) le même jour dans le même département que la \
                 personne enregistrée sous le N° habilitation SISERI {}",
                m.designee, m.habilitation
            )
        })
        .collect();
    let options: Vec<String> = matches
        .iter()
        .map(|m| format!("--confirm-match {}", m.habilitation))
        .collect();
    format!(
        "Validation arrêtée, rien n'a été émis ni envoyé : {}. Vérifiez qu'il s'agit bien de la \
         même personne, puis validez de nouveau en le confirmant ({}).",
        people.join(" ; "),
        options.join(" ")
    )
}

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccessError {
    /// No such protocol (number).
    #[error("Aucun protocole n° {0}.")]
    UnknownProtocol(String),
    /// Nothing signed awaits a decision.
    #[error("Le protocole n° {0} n'a aucune version signée en attente de décision.")]
    NothingToDecide(String),
    /// A habilitation number that does not exist.
    #[error("N° habilitation SISERI {0} inconnu.")]
    UnknownHabilitation(u32),
    /// A protocol names a person by number with another name.
    #[error("N° habilitation SISERI {habilitation} : le nom indiqué ({given}) ne correspond pas à la personne enregistrée ; validation arrêtée, rien n'a été modifié pour cette personne.")]
    NameMismatch {
        /// The number.
        habilitation: u32,
        /// The name the protocol gives.
        given: String,
    },
    /// People named cannot be given what approval issues them (certificate subject, e-mail):
    /// the pre-flight stopped the approval before anything was issued or sent.
    #[error("{}", super::preflight::describe(.problems))]
    Unissuable {
        /// Each person and field at fault.
        problems: Vec<DesigneeProblem>,
    },
    /// Designees found by name and birth alone, not confirmed by the operator: nothing was done.
    #[error("{}", to_confirm(.0))]
    MatchNotConfirmed(Vec<MatchToConfirm>),
    /// The new address is the person's address already.
    #[error("N° habilitation SISERI {0} : cette adresse électronique est déjà la sienne.")]
    EmailUnchanged(u32),
    /// An operator act without its reason (or with one that is not a single line).
    #[error("Le motif est obligatoire : une seule ligne, 200 caractères au plus.")]
    ReasonRequired,
    /// The signed content cannot be read back as a valid protocol.
    #[error("Le contenu signé du protocole est invalide : {0}")]
    InvalidProtocol(String),
    /// Withdrawal link unknown.
    #[error("Lien de retrait inconnu.")]
    WithdrawalNotFound,
    /// Withdrawal used, expired or superseded.
    #[error("Ce lien de retrait n'est plus valide (déjà utilisé, expiré ou remplacé).")]
    WithdrawalGone,
    /// Withdrawal being prepared.
    #[error("Votre certificat est en cours de préparation : réessayez dans quelques minutes.")]
    WithdrawalNotReady,
    /// Too many wrong withdrawal codes.
    #[error("Trop de codes de retrait erronés : ce retrait est bloqué. Contactez SISERI pour un nouvel envoi.")]
    WithdrawalLocked,
    /// Too many withdrawal attempts from one client address, whatever the links.
    #[error("Trop de tentatives de retrait depuis votre adresse : réessayez dans {retry_after_minutes} minutes.")]
    TooManyAttempts {
        /// When to try again.
        retry_after_minutes: i64,
    },
    /// Wrong withdrawal code.
    #[error("Code de retrait incorrect ({attempts_left} essai(s) restant(s)).")]
    WrongWithdrawalCode {
        /// Tries left.
        attempts_left: u32,
    },
    /// The CSR given at withdrawal is refused.
    #[error("Demande de certificat refusée : {0}")]
    BadCsr(String),
    /// Access code wrong.
    #[error("Code d'accès incorrect ({attempts_left} essai(s) restant(s)).")]
    WrongAccessCode {
        /// Tries left.
        attempts_left: u32,
    },
    /// Access locked.
    #[error(
        "Accès bloqué après trop de codes erronés : contactez SISERI pour obtenir un nouveau code."
    )]
    AccessLocked,
    /// The person holds no certificate to act on.
    #[error("La personne {0} n'a pas de certificat en cours.")]
    NoCertificate(u32),
    /// Four eyes: the operator who asked first asks again.
    #[error("Vous avez déjà demandé cette action : un second opérateur, différent de vous, doit la confirmer.")]
    SameOperatorTwice,
    /// No such operator.
    #[error("Aucun opérateur n° {0}.")]
    UnknownOperator(i64),
    /// The operator was revoked already.
    #[error("L'opérateur n° {0} est déjà révoqué.")]
    OperatorRevoked(i64),
    /// Revoking this operator would leave the console without any administrator in office.
    #[error(
        "L'opérateur n° {0} est le dernier administrateur en fonction : ajoutez d'abord un autre administrateur (certificat retiré), puis révoquez celui-ci."
    )]
    LastAdministrator(i64),
    /// An operator's name that is not a name.
    #[error(
        "Nom d'opérateur invalide : des lettres, espaces, traits d'union et apostrophes seulement."
    )]
    BadOperatorName,
    /// An operator's e-mail address that is not one.
    #[error("Adresse électronique de l'opérateur invalide : {0}")]
    BadOperatorEmail(#[source] DomainError),
    /// The database failed.
    #[error("Erreur interne : réessayez plus tard.")]
    Storage(#[from] rusqlite::Error),
    /// The shared plumbing failed (pool, audit log, random generator).
    #[error("Erreur interne : réessayez plus tard.")]
    Store(#[from] store::Error),
    /// The certificate authority failed (signing, revocation, CRL, key or `.p12` making).
    #[error("Erreur interne : réessayez plus tard.")]
    Ca(#[from] ca::Error),
    /// The notification could not be queued.
    #[error("Erreur interne : réessayez plus tard.")]
    Outbox(#[from] OutboxError),
    /// A stored protocol version cannot be read back.
    #[error("Erreur interne : réessayez plus tard.")]
    StoredProtocol(#[source] serde_json::Error),
    /// A stored e-mail address is no longer one.
    #[error("Erreur interne : réessayez plus tard.")]
    StoredEmail(#[source] DomainError),
    /// Every N° habilitation has been allocated.
    #[error("Erreur interne : réessayez plus tard.")]
    HabilitationsExhausted,
    /// The blocking task running the work panicked or was cancelled.
    #[error("Erreur interne : réessayez plus tard.")]
    Task(#[from] tokio::task::JoinError),
}

impl AccessError {
    /// The HTTP status for the public routes and the stable machine code, in one table so that
    /// each variant is given both at once.
    fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Self::UnknownProtocol(_) => (404, "unknown_protocol"),
            Self::NothingToDecide(_) => (409, "nothing_to_decide"),
            Self::UnknownHabilitation(_) => (404, "unknown_habilitation"),
            Self::NameMismatch { .. } => (422, "name_mismatch"),
            Self::MatchNotConfirmed(_) => (409, "match_not_confirmed"),
            Self::EmailUnchanged(_) => (409, "email_unchanged"),
            Self::ReasonRequired => (422, "reason_required"),
            Self::InvalidProtocol(_) => (422, "invalid_protocol"),
            Self::Unissuable { .. } => (422, "designee_unissuable"),
            Self::WithdrawalNotFound => (404, "not_found"),
            Self::WithdrawalGone => (410, "gone"),
            Self::WithdrawalNotReady => (409, "not_ready"),
            Self::WithdrawalLocked => (423, "locked"),
            Self::WrongWithdrawalCode { .. } => (403, "wrong_code"),
            Self::BadCsr(_) => (422, "bad_csr"),
            Self::WrongAccessCode { .. } => (401, "wrong_access_code"),
            Self::AccessLocked => (423, "access_locked"),
            Self::NoCertificate(_) => (409, "no_certificate"),
            Self::TooManyAttempts { .. } => (429, "too_many_requests"),
            Self::SameOperatorTwice => (409, "same_operator_twice"),
            Self::UnknownOperator(_) => (404, "unknown_operator"),
            Self::OperatorRevoked(_) => (409, "operator_revoked"),
            Self::LastAdministrator(_) => (409, "last_administrator"),
            Self::BadOperatorName => (422, "bad_operator_name"),
            Self::BadOperatorEmail(_) => (422, "bad_operator_email"),
            Self::Storage(_)
            | Self::Store(_)
            | Self::Ca(_)
            | Self::Outbox(_)
            | Self::StoredProtocol(_)
            | Self::StoredEmail(_)
            | Self::HabilitationsExhausted
            | Self::Task(_) => (500, "internal"),
        }
    }

    /// HTTP status for the public routes.
    pub fn status(&self) -> u16 {
        self.status_and_code().0
    }

    /// A failure of ours, not of the request: the client gets a generic 500 and the cause
    /// chain ([`std::error::Error::source`]) goes to the log.
    pub fn is_internal(&self) -> bool {
        self.status() == 500
    }

    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storage_failure_keeps_its_cause_out_of_the_message() {
        let e = AccessError::from(rusqlite::Error::QueryReturnedNoRows);
        assert!(e.is_internal());
        assert_eq!((e.status(), e.code()), (500, "internal"));
        assert_eq!(e.to_string(), "Erreur interne : réessayez plus tard.");
        assert!(std::error::Error::source(&e).is_some());
        assert!(!AccessError::AccessLocked.is_internal());
    }
}
