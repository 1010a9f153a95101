//! What can go wrong in PASS, with the HTTP status and stable code the API answers.

use crate::outbox::OutboxError;
use crate::protocol::FieldErrors;

/// What can go wrong, with the HTTP status and stable code the API answers.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PassError {
    /// No such draft or version.
    #[error("Protocole introuvable.")]
    NotFound,
    /// The bearer token or draft cookie does not open this draft.
    #[error("Accès refusé à ce brouillon : jeton absent ou invalide.")]
    BadToken,
    /// The version is signed (or abandoned) and cannot change.
    #[error("Ce protocole est signé ou abandonné : il ne peut plus être modifié.")]
    NotDraft,
    /// Fields are wrong or missing.
    #[error("Certaines informations sont à corriger.")]
    Invalid(FieldErrors),
    /// A supporting document is missing before signature.
    #[error("Chargez les pièces justificatives : {0}.")]
    MissingDocuments(String),
    /// The acceptance box was not ticked.
    #[error("Cochez la case d'acceptation du protocole avant de demander le code.")]
    ConsentRequired,
    /// The document is larger than allowed.
    #[error("Le fichier dépasse la taille maximale de {max_mib} Mo.")]
    DocumentTooLarge {
        /// The limit, in MiB.
        max_mib: usize,
    },
    /// The document is not a PDF, JPEG or PNG (by content).
    #[error("Le fichier doit être un PDF, une image JPEG ou PNG.")]
    DocumentType,
    /// Too many attempts in the window.
    #[error("Trop de tentatives : réessayez dans {retry_after_minutes} minutes.")]
    TooManyRequests {
        /// When to try again.
        retry_after_minutes: i64,
    },
    /// No code was asked for, or it was voided.
    #[error("Aucun code de signature en attente : demandez un code.")]
    NoPendingCode,
    /// The code has expired.
    #[error("Le code de signature a expiré : demandez un nouveau code.")]
    CodeExpired,
    /// The protocol changed after the code was sent.
    #[error("Le protocole a été modifié depuis l'envoi du code : demandez un nouveau code.")]
    CodeVoided,
    /// Wrong code.
    #[error("Code de signature incorrect ({attempts_left} essai(s) restant(s)).")]
    WrongCode {
        /// Tries left before the lock.
        attempts_left: u32,
    },
    /// Too many wrong codes: this code is locked.
    #[error("Trop de codes erronés : ce code est bloqué. Demandez un nouveau code.")]
    CodeLocked,
    /// Renewal: number or key name wrong (one message for both).
    #[error("Numéro de protocole ou nom clé incorrect.")]
    RenewalRefused,
    /// Renewal of a protocol with nothing in force.
    #[error("Ce protocole n'a pas de version en vigueur à renouveler.")]
    NothingInForce,

    /// The database failed.
    #[error("Erreur interne : réessayez plus tard.")]
    Storage(#[from] rusqlite::Error),
    /// The shared plumbing failed (pool, audit log, random generator).
    #[error("Erreur interne : réessayez plus tard.")]
    Store(#[from] store::Error),
    /// The certificate authority's helpers failed (random generator, audit log).
    #[error("Erreur interne : réessayez plus tard.")]
    Ca(#[from] ca::Error),
    /// The signature code could not be queued.
    #[error("Erreur interne : réessayez plus tard.")]
    Outbox(#[from] OutboxError),
    /// A stored protocol or its evidence cannot be written or read back as JSON.
    #[error("Erreur interne : réessayez plus tard.")]
    Json(#[source] serde_json::Error),
    /// A supporting document could not be stored.
    #[error("Erreur interne : réessayez plus tard.")]
    Document(#[source] std::io::Error),
    /// The signed text of a version no longer matches its fingerprint.
    #[error("Erreur interne : réessayez plus tard.")]
    SignedTextAltered {
        /// The version's public id.
        id: String,
    },
    /// The blocking task running the work panicked or was cancelled.
    #[error("Erreur interne : réessayez plus tard.")]
    Task(#[from] tokio::task::JoinError),
}

impl PassError {
    /// The HTTP status for the API and the stable machine code, in one table so that
    /// each variant is given both at once.
    fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Self::NotFound => (404, "not_found"),
            Self::BadToken => (401, "bad_token"),
            Self::NotDraft => (409, "not_a_draft"),
            Self::Invalid(_) => (422, "invalid"),
            Self::MissingDocuments(_) => (422, "missing_documents"),
            Self::ConsentRequired => (422, "consent_required"),
            Self::DocumentTooLarge { .. } => (413, "document_too_large"),
            Self::DocumentType => (415, "document_type"),
            Self::TooManyRequests { .. } => (429, "too_many_requests"),
            Self::NoPendingCode => (409, "no_pending_code"),
            Self::CodeExpired => (410, "code_expired"),
            Self::CodeVoided => (409, "code_voided"),
            Self::WrongCode { .. } => (403, "wrong_code"),
            Self::CodeLocked => (423, "code_locked"),
            Self::RenewalRefused => (404, "renewal_refused"),
            Self::NothingInForce => (409, "nothing_in_force"),
            Self::Storage(_)
            | Self::Store(_)
            | Self::Ca(_)
            | Self::Outbox(_)
            | Self::Json(_)
            | Self::Document(_)
            | Self::SignedTextAltered { .. }
            | Self::Task(_) => (500, "internal"),
        }
    }

    /// HTTP status for the API.
    pub fn status(&self) -> u16 {
        self.status_and_code().0
    }

    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    /// A failure of ours, not of the request: the client gets a generic 500 and the cause
    /// chain ([`std::error::Error::source`]) goes to the log.
    pub fn is_internal(&self) -> bool {
        self.status() == 500
    }

    /// Field errors, when there are.
    pub fn fields(&self) -> Option<&FieldErrors> {
        match self {
            Self::Invalid(f) => Some(f),
            _ => None,
        }
    }
}
