//! The backup archive shared by `siseri backup` and `siseri restore`: a tar file whose members
//! are data-directory paths, closed by `manifest.json` (format, versions, schema, and the size
//! and SHA-256 of every member).
//!
//! The manifest detects a damaged or altered archive; it is not signed, so it is no defence
//! against someone who rewrites the archive and its manifest together: the archive is kept
//! where only its owner can write.

use std::collections::BTreeMap;
use std::io::{self, Read};

use ring::digest::{Context, SHA256};
use serde::{Deserialize, Serialize};

/// The version of the archive layout this binary writes and reads.
pub(super) const FORMAT: u32 = 1;

/// The last member of every archive.
pub(super) const MANIFEST: &str = "manifest.json";

/// What a restore needs; the rest (CA certificate, CRL, TLS files) is there when the data
/// directory had it.
pub(super) const REQUIRED: [&str; 4] = [
    "config.toml",
    "siseri.db",
    "ca/ac-siseri.key.pem",
    "secrets/hmac.key",
];

/// The data directory's own files that go into an archive besides the database and the
/// documents. Not `ca/passphrase`: the passphrase is never in a backup.
pub(super) const FILES: [&str; 11] = [
    "config.toml",
    "ca/ac-siseri.pem",
    "ca/ac-siseri.key.pem",
    "ca/recepisse.pem",
    "ca/recepisse.key.pem",
    "ca/ac-siseri.csr",
    "ca/ac-siseri.crl",
    "ca/ac-siseri.crl.pem",
    "tls/server.pem",
    "tls/server.key.pem",
    "secrets/hmac.key",
];

/// The signer's own audit log, snapshotted like the database.
pub(super) const SIGNER_AUDIT: &str = "ca/signer-audit.db";

/// The archive's table of contents.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The version of siseri that wrote it.
    pub siseri_version: String,
    /// When the database snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The database's schema: component → last migration applied.
    pub schema: BTreeMap<String, u32>,
    /// Every other member, in archive order.
    pub members: Vec<Member>,
}

/// One member of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Member {
    /// Path inside the data directory.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

/// True for the paths an archive may hold (besides the manifest): the fixed files, the
/// database, and `documents/ab/abcd…` content-addressed documents. Anything else (another
/// name, `..`, an absolute path) is refused before a byte is written.
pub(super) fn allowed(path: &str) -> bool {
    if path == "siseri.db" || path == SIGNER_AUDIT || FILES.contains(&path) {
        return true;
    }
    let mut parts = path.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("documents"), Some(prefix), Some(name), None) => {
            is_sha256(name) && name.starts_with(prefix) && prefix.len() == 2
        }
        _ => false,
    }
}

/// 64 lower-case hexadecimal digits.
pub(super) fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The archive path of a document.
pub(super) fn document_path(sha256: &str) -> String {
    format!("documents/{}/{sha256}", &sha256[..2])
}

/// A reader that hashes and counts what passes through it.
pub(super) struct Hashing<R> {
    inner: R,
    digest: Context,
    count: u64,
}

impl<R> std::fmt::Debug for Hashing<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hashing")
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Hashing<R> {
    pub(super) fn new(inner: R) -> Self {
        Self {
            inner,
            digest: Context::new(&SHA256),
            count: 0,
        }
    }

    /// (bytes read, SHA-256 hex).
    pub(super) fn finish(self) -> (u64, String) {
        (self.count, hex::encode(self.digest.finish()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_data_directorys_own_names_are_allowed() {
        let sha = "ab".repeat(32);
        for ok in [
            "config.toml".to_owned(),
            "siseri.db".to_owned(),
            "ca/ac-siseri.key.pem".to_owned(),
            format!("documents/ab/{sha}"),
        ] {
            assert!(allowed(&ok), "{ok}");
        }
        for refused in [
            "ca/passphrase".to_owned(),
            "/etc/passwd".to_owned(),
            "../config.toml".to_owned(),
            "documents/../config.toml".to_owned(),
            format!("documents/cd/{sha}"),
            format!("documents/ab/{sha}/x"),
            format!("documents/ab/{}", "AB".repeat(32)),
            "outbox/mail/1.eml".to_owned(),
            "serve.lock".to_owned(),
        ] {
            assert!(!allowed(&refused), "{refused}");
        }
    }
}
