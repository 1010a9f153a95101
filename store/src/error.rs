/// What the shared plumbing can fail at.
///
/// Messages are French sentences meant for operators and never carry a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The audit log chain is broken at this entry.
    #[error("journal d'audit altéré à l'entrée n° {seq} : {why}")]
    AuditBroken {
        /// Sequence number of the first bad entry.
        seq: i64,
        /// What does not match.
        why: String,
    },
    /// A schema migration left rows whose foreign key points nowhere.
    #[error("migration {0} : clés étrangères rompues dans la table {1}")]
    MigrationForeignKeys(String, String),
    /// Audit entries could not be committed (see [`crate::audit_writer`]).
    #[error("journal d'audit : écriture impossible ({0})")]
    AuditUnwritten(String),
    /// The database failed.
    #[error("base de données : {0}")]
    Database(#[from] rusqlite::Error),
    /// The operating system's random generator failed.
    #[error("générateur aléatoire indisponible")]
    Random,
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
