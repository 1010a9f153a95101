use std::collections::BTreeMap;

use crate::csv_format::ImportReport;
use crate::policy::{Action, DataKind};

/// Field name → what is wrong with it, in French; never the value that was typed.
pub type FieldErrors = BTreeMap<String, String>;

/// Everything the registry can refuse or fail at, with the HTTP status and the stable code the API
/// answers. Messages are French sentences for the person at the screen; none repeats a NIR.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No such establishment for this caller, or no such worker, fraction or record in it. An
    /// establishment the caller is not attached to answers this too, so that its existence and
    /// its ids are not revealed.
    #[error("Introuvable.")]
    NotFound,
    /// The caller's role in this establishment does not allow this on this kind of data.
    #[error("Votre rôle dans cet établissement ne permet pas {} {}.", verb(*action), kind.label())]
    Forbidden {
        /// The data asked for.
        kind: DataKind,
        /// What was attempted.
        action: Action,
    },
    /// A dosimetry body on an establishment that has not named it: one answer for every
    /// request there, given before anything (a NIR, a card number, a worker) is looked up, so
    /// that it tells nothing of the establishment nor of its workers.
    #[error("Cet établissement n'a pas désigné votre organisme de dosimétrie : rien n'y est transmis ni consulté.")]
    NotClient,
    /// Fields are missing or wrong.
    #[error("Certaines informations sont à corriger.")]
    Invalid(FieldErrors),
    /// The NIR is already on the establishment's list.
    #[error("Ce NIR figure déjà dans la liste des travailleurs de l'établissement.")]
    DuplicateNir,
    /// The medical follow-up card number belongs to another worker of the establishment.
    #[error("Ce numéro de carte de suivi médical est déjà attribué à un autre travailleur de l'établissement.")]
    DuplicateCard,
    /// The NIR is known from another employer under another identity (names or birth date):
    /// the declaration was not applied, and the registry's operators were told.
    #[error("Ce NIR est déjà connu du registre sous une autre identité (nom, prénom ou date de naissance), déclarée par un autre employeur : votre déclaration n'a pas été appliquée. Vérifiez le NIR et l'identité du travailleur ; si elles sont justes, l'équipe SISERI examinera l'écart et vous recontactera.")]
    IdentityConflict,
    /// A fraction of that name already exists in the establishment.
    #[error("Une fraction de ce nom existe déjà dans la liste.")]
    DuplicateFraction,
    /// The CSV import was refused: nothing was imported; the report gives each line's errors.
    #[error("Import refusé, rien n'a été importé : {} ligne(s) en erreur.", .0.lines_in_error())]
    ImportRejected(ImportReport),
    /// The file to import could not be read to its end (the client stopped sending): nothing
    /// was imported.
    #[error("Lecture du fichier interrompue : rien n'a été importé.")]
    ImportRead(std::io::Error),
    /// A line of the file to import is longer than any workers list's: nothing was imported.
    #[error("Une ligne du fichier dépasse {} Kio : ce n'est pas une liste des travailleurs, rien n'a été importé.", crate::csv_format::LINE_MAX_BYTES / 1024)]
    ImportLineTooLong,
    /// A transmission that cannot be read as one (no BOM, wrong header, empty): nothing was
    /// recorded.
    #[error("Transmission refusée, rien n'a été enregistré : {0}")]
    TransmissionRefused(String),
    /// A line of a transmission is longer than any result's: nothing was recorded.
    #[error("Une ligne du fichier dépasse {} Kio : ce n'est pas un fichier de résultats, rien n'a été enregistré.", crate::csv_format::LINE_MAX_BYTES / 1024)]
    TransmissionLineTooLong,
    /// The récépissé could not be signed (details in the log only); the transmission is
    /// recorded and its récépissé can be asked for again.
    #[error("Transmission enregistrée, mais son récépissé n'a pas pu être signé : redemandez-le plus tard.")]
    Receipt(#[source] crate::directory::DirectoryError),
    /// The export could not be written to its destination (the client went away).
    #[error("Écriture de l'export impossible.")]
    Io(#[from] std::io::Error),
    /// The database failed (details in the log only).
    #[error("Erreur interne : réessayez plus tard.")]
    Database(#[from] rusqlite::Error),
    /// The alert e-mail could not be queued (details in the log only).
    #[error("Erreur interne : réessayez plus tard.")]
    Mail(#[source] crate::directory::DirectoryError),
    /// The connection pool or the audit log failed (details in the log only).
    #[error("Erreur interne : réessayez plus tard.")]
    Store(#[from] store::Error),
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::Read => "de consulter",
        Action::Write => "de modifier",
    }
}

impl RegistryError {
    /// HTTP status for the API.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::Forbidden { .. } | Self::NotClient => 403,
            Self::Invalid(_) | Self::ImportRejected(_) => 422,
            Self::ImportRead(_) => 400,
            Self::ImportLineTooLong | Self::TransmissionLineTooLong => 413,
            Self::TransmissionRefused(_) => 422,
            Self::Receipt(_) => 503,
            Self::DuplicateNir
            | Self::DuplicateCard
            | Self::DuplicateFraction
            | Self::IdentityConflict => 409,
            Self::Io(_) | Self::Database(_) | Self::Store(_) | Self::Mail(_) => 500,
        }
    }

    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Forbidden { .. } => "forbidden",
            Self::NotClient => "not_client",
            Self::Invalid(_) => "invalid",
            Self::DuplicateNir => "duplicate_nir",
            Self::DuplicateCard => "duplicate_card",
            Self::DuplicateFraction => "duplicate_fraction",
            Self::IdentityConflict => "identity_conflict",
            Self::ImportRejected(_) => "import_rejected",
            Self::ImportRead(_) => "import_interrupted",
            Self::ImportLineTooLong => "import_line_too_long",
            Self::TransmissionRefused(_) => "transmission_refused",
            Self::TransmissionLineTooLong => "line_too_long",
            Self::Receipt(_) => "recepisse_unavailable",
            Self::Io(_) | Self::Database(_) | Self::Store(_) | Self::Mail(_) => "internal",
        }
    }

    /// Field errors, when there are: by field name for a form; for a refused import, by line
    /// (`"ligne 3"` → that line's messages joined).
    pub fn fields(&self) -> Option<FieldErrors> {
        match self {
            Self::Invalid(fields) => Some(fields.clone()),
            Self::ImportRejected(report) => Some(report.by_line()),
            _ => None,
        }
    }

    /// The import report, for a refused import.
    pub fn report(&self) -> Option<&ImportReport> {
        match self {
            Self::ImportRejected(report) => Some(report),
            _ => None,
        }
    }

    /// One field's error.
    pub(crate) fn field(name: &str, message: impl Into<String>) -> Self {
        Self::Invalid(BTreeMap::from([(name.to_owned(), message.into())]))
    }
}

/// Shorthand used across the crate.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_the_data_in_french() {
        let e = RegistryError::Forbidden {
            kind: DataKind::PassiveDose,
            action: Action::Read,
        };
        assert_eq!(
            e.to_string(),
            "Votre rôle dans cet établissement ne permet pas de consulter la dosimétrie passive."
        );
        assert_eq!((e.status(), e.code()), (403, "forbidden"));
    }

    #[test]
    fn internal_errors_say_nothing_of_their_cause() {
        let e = RegistryError::Database(rusqlite::Error::InvalidQuery);
        assert_eq!(e.to_string(), "Erreur interne : réessayez plus tard.");
        assert_eq!(e.status(), 500);
    }
}
