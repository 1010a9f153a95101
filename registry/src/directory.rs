//! What the registry asks the enrollment side, and nothing more: who holds a certificate, is
//! this access code right, what is this establishment. The registry defines the question; the
//! binary plugs in the answer (`enroll` implements [`Directory`]), so the registry neither reads
//! another component's tables nor depends on the crates that issue certificates.
//!
//! ```text
//!   listener (mutual TLS) ──ClientCert──▶ registry::web ──Directory──▶ enroll::access
//!                                              │
//!                                              └──Principal──▶ registry::Registry ──▶ policy
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::policy::Role;

/// The enrollment side, as the registry sees it. Every method may block (SQLite): the web layer
/// calls them off the reactor.
pub trait Directory: Send + Sync + fmt::Debug {
    /// Who holds the certificate of serial `serial` (DER INTEGER content octets) and common
    /// name `common_name`, already checked by TLS against AC SISERI: a person with a delivered
    /// certificate, a dosimetry body, or nobody (`None`: the certificate opens nothing).
    fn holder(&self, serial: &[u8], common_name: &str) -> Result<Option<Holder>, DirectoryError>;

    /// Whether `serial` is revoked: asked at every request, so it must answer from memory.
    fn is_revoked(&self, serial: &[u8]) -> bool;

    /// Checks `habilitation`'s access code; every failure counts, and too many lock the access.
    fn check_access_code(&self, habilitation: u32, code: &str) -> Result<(), DirectoryError>;

    /// Where `habilitation`'s access code stands, for the login page (never the code).
    fn access_code_state(&self, habilitation: u32) -> Result<AccessCodeState, DirectoryError>;

    /// The establishment `id` (the protocol's id), when it has a protocol in force.
    fn establishment(&self, id: i64) -> Result<Option<Establishment>, DirectoryError>;

    /// The names of the dosimetry bodies that hold a valid certificate (profile `organisme`,
    /// issued, neither revoked nor expired), sorted: those an establishment may name.
    fn dosimetry_bodies(&self) -> Result<Vec<String>, DirectoryError>;
}

/// The holder of a certificate.
#[derive(Debug, Clone)]
pub enum Holder {
    /// A designated person.
    Person(Person),
    /// A dosimetry body's machine client (profile `organisme`): no access code, no session.
    DosimetryBody {
        /// The organisation, as in its certificate.
        name: String,
    },
}

/// A designated person and where they are attached.
#[derive(Debug, Clone)]
pub struct Person {
    /// N° habilitation SISERI.
    pub habilitation: u32,
    /// `Pierre DILLENSEGER`.
    pub display_name: String,
    /// Active attachments.
    pub attachments: Vec<Attachment>,
}

/// One establishment a person is attached to, and the role held there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment {
    /// The establishment (protocol) id.
    pub establishment: i64,
    /// The role there (never [`Role::DosimetryBody`]).
    pub role: Role,
    /// A PCR who sends dosimetry results (the protocol's *envoi* box).
    pub sends_dosimetry: bool,
}

/// Where an access code stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessCodeState {
    /// No failure since the last success or reset.
    Fresh,
    /// Some wrong codes were typed; this many tries are left.
    AttemptsLeft(u32),
    /// Locked (or no code at all): an operator must reset it.
    Locked,
}

/// *Établissement de rattachement*.
#[derive(Debug, Clone, Serialize)]
pub struct Establishment {
    /// Id (the protocol's).
    pub id: i64,
    /// Protocol number.
    pub number: String,
    /// Key name.
    pub key_name: String,
    /// Name and address, from the protocol in force.
    pub employer: Employer,
    /// Accessors (display name) and their roles.
    pub accessors: Vec<(String, Role)>,
}

impl Establishment {
    /// The establishment's name, or its protocol number when it has none.
    pub fn name(&self) -> String {
        self.employer
            .name
            .clone()
            .unwrap_or_else(|| format!("Protocole n° {}", self.number))
    }
}

/// The employer of an establishment, as its protocol in force says (the PASS wizard's step e;
/// the field names are the protocol's JSON ones).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Employer {
    /// *Raison sociale ou nom*.
    pub name: Option<String>,
    /// *Numéro SIRET*.
    pub siret: Option<String>,
    /// *Adresse postale*.
    pub address: Option<String>,
    /// *Code postal*.
    pub postal_code: Option<String>,
    /// *Ville*.
    pub town: Option<String>,
    /// *Cedex*.
    pub cedex: Option<String>,
    /// *Pays*.
    pub country: Option<String>,
    /// *Téléphone*.
    pub phone: Option<String>,
    /// *Étranger* box of the phone.
    pub phone_foreign: bool,
    /// *Télécopie*.
    pub fax: Option<String>,
}

/// Why the enrollment side did not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
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
    /// The enrollment side failed (details in the log only).
    #[error("Erreur interne : réessayez plus tard.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl DirectoryError {
    /// HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            Self::WrongAccessCode { .. } => 401,
            Self::AccessLocked => 423,
            Self::Internal(_) => 500,
        }
    }

    /// Stable code for API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WrongAccessCode { .. } => "wrong_access_code",
            Self::AccessLocked => "access_locked",
            Self::Internal(_) => "internal",
        }
    }
}
