//! E-mail through an SMTP server, with lettre's blocking client (rustls on ring).

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};

use super::email::{compose, sender};
use super::{Transport, TransportKind};
use crate::outbox::{
    Channel, MailConfig, Message, OutboxError, SmtpTls, StoredMessage, TransportError,
};

/// Hands e-mails to the configured server: one connection per message, since the worker sends
/// few and a kept connection would only time out between them.
pub struct SmtpTransport {
    inner: lettre::SmtpTransport,
    from: Mailbox,
    server: String,
}

impl SmtpTransport {
    /// A client for `[mail] smtp_*`; nothing is connected before the first message.
    pub fn new(config: &MailConfig) -> Result<Self, OutboxError> {
        let problem = |p: String| OutboxError::Config {
            section: "mail",
            problem: p,
        };
        let host = config.smtp_host.trim().to_owned();
        let tls_parameters = || -> Result<TlsParameters, OutboxError> {
            let mut builder = TlsParameters::builder(host.clone());
            if let Some(path) = &config.smtp_ca_file {
                let pem = std::fs::read(path).map_err(|source| OutboxError::ConfigFile {
                    section: "mail",
                    path: path.clone(),
                    source,
                })?;
                let certificate = Certificate::from_pem(&pem).map_err(|_| {
                    problem(format!("{} : certificats PEM illisibles", path.display()))
                })?;
                builder = builder.add_root_certificate(certificate);
            }
            builder
                .build_rustls()
                .map_err(|e| problem(format!("paramètres TLS : {e}")))
        };
        let tls = match config.smtp_tls {
            SmtpTls::Starttls => Tls::Required(tls_parameters()?),
            SmtpTls::Implicit => Tls::Wrapper(tls_parameters()?),
            SmtpTls::None => Tls::None,
        };
        let mut builder = lettre::SmtpTransport::builder_dangerous(host.clone())
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.smtp_timeout_secs)));
        if let Some(username) = &config.smtp_username {
            builder = builder.credentials(Credentials::new(
                username.clone(),
                config
                    .smtp_password
                    .as_ref()
                    .map(|p| secrecy::ExposeSecret::expose_secret(p).to_owned())
                    .unwrap_or_default(),
            ));
        }
        Ok(Self {
            inner: builder.build(),
            from: sender(config)?,
            server: format!("{host}:{}", config.smtp_port),
        })
    }
}

impl fmt::Debug for SmtpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpTransport")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Transport for SmtpTransport {
    fn send(&self, msg: &StoredMessage) -> Result<(), TransportError> {
        if let Message::Sms { .. } = msg.message {
            return Err(TransportError::WrongChannel(Channel::Sms));
        }
        let email = compose(msg, &self.from)?;
        lettre::Transport::send(&self.inner, &email)
            .map(|_| ())
            .map_err(|e| TransportError::Smtp(format!("{} : {e}", self.server)))
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Smtp
    }
}
