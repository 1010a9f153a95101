//! Errors of the outbox. Messages are French sentences that never contain a message body, a
//! code or a password: they end up in logs and in the `last_error` column.

use std::path::PathBuf;

use super::Channel;

/// Why queuing, reading or delivering messages failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// SQLite refused or failed.
    #[error("file d'envoi : erreur de la base de données : {0}")]
    Database(#[from] rusqlite::Error),
    /// The audit line of an operator's act could not be written.
    #[error("file d'envoi : journal d'audit : {0}")]
    Audit(#[from] store::Error),
    /// The e-mail recipient is not an address an SMTP server would accept.
    #[error("file d'envoi : adresse e-mail du destinataire invalide")]
    InvalidMailRecipient,
    /// The SMS recipient is not a number in E.164 form (`+33…`).
    #[error("file d'envoi : numéro du destinataire invalide (forme internationale +33… attendue)")]
    InvalidSmsRecipient,
    /// A header value (subject, recipient name) is empty where it must not be, or holds a line
    /// break or another control character.
    #[error("file d'envoi : {field} vide ou contenant un caractère de contrôle")]
    InvalidHeader {
        /// Which value: `objet`, `nom du destinataire`.
        field: &'static str,
    },
    /// The operating system's random generator failed.
    #[error("file d'envoi : générateur aléatoire du système indisponible")]
    Random,
    /// A row the schema should have made impossible (a pending message without its body…).
    #[error("file d'envoi : message {id} illisible ({problem})")]
    Corrupt {
        /// Its row.
        id: i64,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A setting of `[mail]` or `[sms]` is unusable.
    #[error("configuration [{section}] : {problem}")]
    Config {
        /// `mail` or `sms`.
        section: &'static str,
        /// What is wrong, in French.
        problem: String,
    },
    /// A file the configuration names (the SMTP server's CA certificates) cannot be read.
    #[error("configuration [{section}] : lecture de {path} impossible : {source}")]
    ConfigFile {
        /// `mail` or `sms`.
        section: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The worker thread could not be started.
    #[error("file d'envoi : démarrage du fil d'envoi impossible : {0}")]
    Spawn(std::io::Error),
}

/// Why one attempt to deliver one message failed; it will be retried.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The message was handed to a transport of the other channel.
    #[error("ce transport n'achemine pas les messages du canal {0}")]
    WrongChannel(Channel),
    /// The e-mail could not be put together (an address lettre refuses…).
    #[error("composition de l'e-mail impossible : {0}")]
    Compose(String),
    /// The file outbox could not be written.
    #[error("écriture de {path} impossible : {source}")]
    File {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The SMTP server could not be reached or refused the message.
    #[error("serveur SMTP : {0}")]
    Smtp(String),
    /// The SMS gateway answered with a status other than 2xx.
    #[error("passerelle SMS : réponse HTTP {status}")]
    GatewayStatus {
        /// The HTTP status.
        status: u16,
    },
    /// The SMS gateway could not be reached (connection, TLS, timeout).
    #[error("passerelle SMS injoignable : {0}")]
    Gateway(String),
    /// A transport made to fail on purpose (tests' [`MemoryTransport`](super::MemoryTransport)).
    #[error("échec simulé")]
    Simulated,
}
