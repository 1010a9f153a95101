//! Where messages go: the file outbox, an SMTP server, an SMS gateway, or memory (tests).

mod email;
mod file;
mod memory;
mod sms_gateway;
mod smtp;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use file::FileTransport;
pub use memory::MemoryTransport;
pub use sms_gateway::SmsGateway;
pub use smtp::SmtpTransport;

use super::config::{MailTransportKind, SmsTransportKind};
use super::{Channel, OutboxConfig, OutboxError, StoredMessage, TransportError};

/// Delivers one message, synchronously; the worker calls it from its own thread.
pub trait Transport: Send + Sync {
    /// Hands `msg` over. `Ok` means it has left for good: the body is then erased.
    fn send(&self, msg: &StoredMessage) -> Result<(), TransportError>;

    /// What kind of transport this is, recorded with each delivery.
    fn kind(&self) -> TransportKind;

    /// Where this transport writes `msg`, when it writes files; `show` reports it.
    fn file_path(&self, _msg: &StoredMessage) -> Option<PathBuf> {
        None
    }
}

/// The transports, as recorded in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum TransportKind {
    /// `outbox/mail/*.eml`, `outbox/sms/*.json`.
    File,
    /// SMTP (lettre).
    Smtp,
    /// SMS through an HTTP gateway.
    Http,
    /// Kept in memory, for tests.
    Memory,
}

impl TransportKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Smtp => "smtp",
            Self::Http => "http",
            Self::Memory => "memory",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "file" => Some(Self::File),
            "smtp" => Some(Self::Smtp),
            "http" => Some(Self::Http),
            "memory" => Some(Self::Memory),
            _ => None,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One transport per channel.
pub struct Transports {
    /// Carries e-mails.
    pub mail: Box<dyn Transport>,
    /// Carries SMS.
    pub sms: Box<dyn Transport>,
}

impl Transports {
    /// Any two transports.
    pub fn new(mail: impl Transport + 'static, sms: impl Transport + 'static) -> Self {
        Self {
            mail: Box::new(mail),
            sms: Box::new(sms),
        }
    }

    /// The transports `config` asks for; the file transport writes under `outbox_dir`
    /// (`DATA/outbox`).
    pub fn from_config(config: &OutboxConfig, outbox_dir: &Path) -> Result<Self, OutboxError> {
        config.check()?;
        let file = || FileTransport::new(outbox_dir, &config.mail);
        let mail: Box<dyn Transport> = match config.mail.transport {
            MailTransportKind::File => Box::new(file()?),
            MailTransportKind::Smtp => Box::new(SmtpTransport::new(&config.mail)?),
        };
        let sms: Box<dyn Transport> = match config.sms.transport {
            SmsTransportKind::File => Box::new(file()?),
            SmsTransportKind::Http => Box::new(SmsGateway::new(&config.sms)?),
        };
        Ok(Self { mail, sms })
    }

    /// The transport of `channel`.
    pub fn for_channel(&self, channel: Channel) -> &dyn Transport {
        match channel {
            Channel::Mail => self.mail.as_ref(),
            Channel::Sms => self.sms.as_ref(),
        }
    }
}

impl fmt::Debug for Transports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transports")
            .field("mail", &self.mail.kind())
            .field("sms", &self.sms.kind())
            .finish()
    }
}
