//! Supporting documents (K-bis, identity card): recognised by their content, never by their
//! name or declared type; stored content-addressed.

use std::path::{Path, PathBuf};

use ring::digest::{digest, SHA256};
use serde::Serialize;

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// *Extrait K-bis* or equivalent registration document.
    Kbis,
    /// The legal representative's identity card.
    Identity,
}

impl DocumentKind {
    /// URL and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kbis => "kbis",
            Self::Identity => "identity",
        }
    }

    /// From the URL segment.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "kbis" => Some(Self::Kbis),
            "identity" => Some(Self::Identity),
            _ => None,
        }
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Kbis => "Extrait K-bis (ou document équivalent)",
            Self::Identity => "Carte nationale d'identité du représentant légal",
        }
    }
}

/// The media types we accept, decided from the first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("image/png")
    } else {
        None
    }
}

/// SHA-256 hex of the content.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest(&SHA256, bytes))
}

/// `documents/ab/abcdef…`: two-level, so that no directory grows too large.
pub fn stored_path(root: &Path, sha256: &str) -> PathBuf {
    root.join(&sha256[..2]).join(sha256)
}

/// Writes the content once (same hash, same file), atomically and durably. Concurrent calls
/// for the same bytes each write their own temporary file (a unique name, mode 0600) and
/// rename it over the final name: the last rename wins, and since the name is the content's
/// hash, every winner holds the same bytes.
pub fn store(root: &Path, sha256: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    let path = stored_path(root, sha256);
    if path.exists() {
        return Ok(path);
    }
    let dir = path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{sha256}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

/// A stored file taken out of the way in a transaction that may still fail: [`Retired::bury`]
/// deletes it once the transaction committed, [`Retired::restore`] puts it back otherwise.
#[derive(Debug)]
pub(crate) struct Retired {
    path: PathBuf,
    aside: PathBuf,
}

/// Renames the file of `sha256` to a unique name beside it, if it is there. Called with the
/// database's write lock held, after checking that no version refers to it any more: an upload
/// of the same bytes checks the file under the same lock, so it either comes first (and the
/// file is still referred to) or finds the file gone and writes it again.
pub(crate) fn retire(root: &Path, sha256: &str) -> std::io::Result<Option<Retired>> {
    let path = stored_path(root, sha256);
    let dir = path.parent().unwrap_or(root);
    let aside = tempfile::Builder::new()
        .prefix(&format!(".{sha256}."))
        .suffix(".gone")
        .disable_cleanup(true)
        .make_in(dir, |aside| std::fs::rename(&path, aside));
    match aside {
        Ok(aside) => Ok(Some(Retired {
            aside: aside.path().to_owned(),
            path,
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl Retired {
    /// The transaction committed: the file goes for good.
    pub(crate) fn bury(self) {
        if let Err(e) = std::fs::remove_file(&self.aside) {
            tracing::warn!(error = %e, "pièce justificative remplacée non effacée");
        }
    }

    /// The transaction failed: the file is put back (over a copy an upload may have written
    /// meanwhile, which holds the same bytes).
    pub(crate) fn restore(self) {
        if let Err(e) = std::fs::rename(&self.aside, &self.path) {
            tracing::warn!(error = %e, "pièce justificative non remise en place");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_recognised_by_content_only() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some("image/png")
        );
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"<html>%PDF-"), None);
        assert_eq!(sniff(b""), None);
    }
}
