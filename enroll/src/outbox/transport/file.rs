//! The default transport: `outbox/mail/<id>.eml` and `outbox/sms/<id>.json`, each written to a
//! temporary file then renamed, so a reader never sees half a message.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use time::format_description::well_known::Rfc3339;

use super::email::{compose, sender};
use super::{Transport, TransportKind};
use crate::outbox::{MailConfig, Message, OutboxError, StoredMessage, TransportError};

/// Writes messages as files under the outbox directory. Files are readable by their owner only:
/// they hold codes and passwords.
#[derive(Debug, Clone)]
pub struct FileTransport {
    dir: PathBuf,
    from: Mailbox,
}

impl FileTransport {
    /// Writes under `outbox_dir` (`DATA/outbox`), e-mails sent from `[mail] from_*`.
    pub fn new(outbox_dir: &Path, mail: &MailConfig) -> Result<Self, OutboxError> {
        Ok(Self {
            dir: outbox_dir.to_path_buf(),
            from: sender(mail)?,
        })
    }

    fn path(&self, msg: &StoredMessage) -> PathBuf {
        match msg.message {
            Message::Mail { .. } => self.dir.join("mail").join(format!("{}.eml", msg.id)),
            Message::Sms { .. } => self.dir.join("sms").join(format!("{}.json", msg.id)),
        }
    }
}

impl Transport for FileTransport {
    fn send(&self, msg: &StoredMessage) -> Result<(), TransportError> {
        let bytes = match &msg.message {
            Message::Mail { .. } => compose(msg, &self.from)?.formatted(),
            Message::Sms { to, text } => {
                let at = msg
                    .created_at
                    .format(&Rfc3339)
                    .map_err(|e| TransportError::Compose(e.to_string()))?;
                let mut json = serde_json::to_vec_pretty(&serde_json::json!({
                    "to": to,
                    "text": text,
                    "at": at,
                }))
                .map_err(|e| TransportError::Compose(e.to_string()))?;
                json.push(b'\n');
                json
            }
        };
        write_atomically(&self.path(msg), &bytes)
    }

    fn kind(&self) -> TransportKind {
        TransportKind::File
    }

    fn file_path(&self, msg: &StoredMessage) -> Option<PathBuf> {
        Some(self.path(msg))
    }
}

/// Temporary file in the same folder, synced, renamed over the final name (a retry after a
/// crash rewrites the same content), then the folder synced so the rename survives a power cut.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), TransportError> {
    let file_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TransportError::File { path, source }
    };
    let dir = path
        .parent()
        .ok_or_else(|| file_error(path)(std::io::ErrorKind::InvalidInput.into()))?;
    create_private_dir(dir).map_err(file_error(dir))?;
    let random = store::random::random_bytes::<8>()
        .map_err(|_| file_error(dir)(std::io::Error::other("aléa indisponible")))?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = dir.join(format!(".{name}.{}.tmp", hex::encode(random)));
    let written = (|| {
        let mut file = private_file(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written.and_then(|()| fs::rename(&temporary, path)) {
        let _ = fs::remove_file(&temporary);
        return Err(file_error(path)(e));
    }
    #[cfg(unix)]
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(file_error(dir))?;
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}
