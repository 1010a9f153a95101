use std::path::{Path, PathBuf};

/// What the binary reports: one clear French line on stderr, exit 1.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The CA refused or failed.
    #[error("{0}")]
    Ca(#[from] ca::Error),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
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
