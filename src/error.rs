use std::path::{Path, PathBuf};

/// What the binary reports: one clear French line on stderr, exit 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The CA refused or failed.
    #[error("{0}")]
    Ca(#[from] ca::Error),
    /// The shared plumbing failed (pool, migrations, audit log, random generator).
    #[error("{0}")]
    Store(#[from] store::Error),
    /// A file could not be read or written.
    #[error("{} : {}", path.display(), french_io(source))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration is wrong.
    #[error("configuration : {0}")]
    Config(String),
    /// The data directory is not in the expected state.
    #[error("{0}")]
    DataDir(String),
    /// The database failed.
    #[error("base de données : {0}")]
    Database(#[from] rusqlite::Error),
    /// TLS set-up failed.
    #[error("TLS : {0}")]
    Tls(String),
    /// The CLI could not write to its standard output (a closed pipe: see `cli::out`).
    #[error("sortie standard : {}", french_io(.0))]
    Stdout(std::io::Error),
}

impl AppError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// The operating system's messages are English; people here read French.
pub(crate) fn french_io(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => "fichier ou répertoire introuvable".into(),
        K::PermissionDenied => "permission refusée".into(),
        K::AlreadyExists => "existe déjà".into(),
        K::AddrInUse => "adresse déjà utilisée".into(),
        K::AddrNotAvailable => "adresse indisponible".into(),
        K::InvalidData => "contenu invalide".into(),
        K::StorageFull => "disque plein".into(),
        _ => format!("erreur d'entrée-sortie ({e})"),
    }
}
