//! What the outbox carries: e-mails and SMS, before and after they are queued.

use std::fmt;
use std::sync::RwLock;

use serde::Serialize;
use time::OffsetDateTime;

use super::OutboxError;
use crate::PhoneNumber;

/// Domain of the `Message-ID`s made when nothing was configured.
const DEFAULT_MESSAGE_ID_DOMAIN: &str = "siseri.invalid";

/// The domain of new `Message-ID`s, set once at start-up from `[mail] from_address`; callers of
/// [`enqueue`](super::enqueue) deep inside a state change should not have to carry it.
static MESSAGE_ID_DOMAIN: RwLock<Option<String>> = RwLock::new(None);

/// The row number of a queued message; also the name of its file in the file outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct OutboxId(pub i64);

impl fmt::Display for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// E-mail.
    Mail,
    /// Text message to a mobile phone.
    Sms,
}

impl Channel {
    /// The name stored in the database and shown by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mail => "mail",
            Self::Sms => "sms",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "mail" => Some(Self::Mail),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A notification to send. Bodies may hold secrets (codes, passwords): `Debug` leaves them out,
/// and nothing in the outbox ever logs them.
#[derive(Clone, PartialEq, Eq)]
pub enum Message {
    /// An e-mail, in plain UTF-8 text.
    Mail {
        /// The recipient's address.
        to: String,
        /// The recipient's name, for the `To` header (`DURAND Vincent`).
        to_name: Option<String>,
        /// The subject; never holds a secret.
        subject: String,
        /// The text, `text/plain; charset=utf-8`.
        body: String,
    },
    /// An SMS.
    Sms {
        /// The recipient's mobile number, in E.164 form (`+33712123241`).
        to: String,
        /// The text.
        text: String,
    },
}

impl Message {
    /// E-mail or SMS.
    pub fn channel(&self) -> Channel {
        match self {
            Self::Mail { .. } => Channel::Mail,
            Self::Sms { .. } => Channel::Sms,
        }
    }

    /// The address or number the message goes to.
    pub fn recipient(&self) -> &str {
        match self {
            Self::Mail { to, .. } | Self::Sms { to, .. } => to,
        }
    }

    /// The recipient with most of it hidden, for logs and listings.
    pub fn masked_recipient(&self) -> String {
        mask_recipient(self.channel(), self.recipient())
    }

    /// The subject of an e-mail; `None` for an SMS.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Self::Mail { subject, .. } => Some(subject),
            Self::Sms { .. } => None,
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Mail { subject, .. } => f
                .debug_struct("Mail")
                .field("to", &self.masked_recipient())
                .field("subject", subject)
                .field("body", &format_args!("[elided]"))
                .finish(),
            Self::Sms { .. } => f
                .debug_struct("Sms")
                .field("to", &self.masked_recipient())
                .field("text", &format_args!("[elided]"))
                .finish(),
        }
    }
}

/// A queued message as a transport receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// Its row.
    pub id: OutboxId,
    /// The RFC 5322 `Message-ID`, angle brackets included, fixed at enqueue: every attempt
    /// carries the same one, so a receiver can drop a duplicate.
    pub message_id: String,
    /// What to send.
    pub message: Message,
    /// When it was queued; the e-mail's `Date`.
    pub created_at: OffsetDateTime,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

impl Message {
    /// Refuses, at enqueue, what no transport could ever deliver: such a message would be
    /// retried forever.
    pub(crate) fn check(&self) -> Result<(), OutboxError> {
        match self {
            Self::Mail {
                to,
                to_name,
                subject,
                ..
            } => {
                if to.parse::<lettre::Address>().is_err() {
                    return Err(OutboxError::InvalidMailRecipient);
                }
                if subject.trim().is_empty() || subject.chars().any(char::is_control) {
                    return Err(OutboxError::InvalidHeader { field: "objet" });
                }
                if to_name
                    .as_deref()
                    .is_some_and(|name| name.chars().any(char::is_control))
                {
                    return Err(OutboxError::InvalidHeader {
                        field: "nom du destinataire",
                    });
                }
                Ok(())
            }
            Self::Sms { to, .. } => match PhoneNumber::parse(to, true) {
                Ok(number) if number.e164() == to => Ok(()),
                _ => Err(OutboxError::InvalidSmsRecipient),
            },
        }
    }
}

/// Sets the domain of the `Message-ID`s made from now on (the daemon passes
/// [`MailConfig::message_id_domain`](super::MailConfig::message_id_domain) at start-up).
pub fn set_message_id_domain(domain: &str) -> Result<(), OutboxError> {
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid {
        return Err(OutboxError::Config {
            section: "mail",
            problem: "le domaine de from_address ne convient pas aux Message-ID (ASCII attendu)"
                .into(),
        });
    }
    let mut current = MESSAGE_ID_DOMAIN
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *current = Some(domain.to_ascii_lowercase());
    Ok(())
}

/// `<32 hex digits@domain>`: 128 random bits, unique without coordination between processes.
pub(crate) fn new_message_id() -> Result<String, OutboxError> {
    let random = store::random::random_bytes::<16>().map_err(|_| OutboxError::Random)?;
    let domain = MESSAGE_ID_DOMAIN
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
        .unwrap_or_else(|| DEFAULT_MESSAGE_ID_DOMAIN.to_owned());
    Ok(format!("<{}@{domain}>", hex::encode(random)))
}

/// `v.d***@cabinet-durand.example` or `+33 7 ** ** ** 41`.
pub(crate) fn mask_recipient(channel: Channel, to: &str) -> String {
    match channel {
        Channel::Mail => mask_email(to),
        Channel::Sms => match PhoneNumber::parse(to, true) {
            Ok(number) => number.masked(),
            Err(_) => "***".to_owned(),
        },
    }
}

/// Keeps at most three characters of the local part, and never more than half of it; the
/// domain stays, since it says which organisation the mail went to.
fn mask_email(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => {
            let length = local.chars().count();
            let kept: String = local.chars().take((length / 2).min(3)).collect();
            format!("{kept}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_are_masked_down_to_their_first_letters() {
        assert_eq!(
            mask_email("v.durand@cabinet-durand.example"),
            "v.d***@cabinet-durand.example"
        );
        assert_eq!(mask_email("ab@x.fr"), "a***@x.fr");
        assert_eq!(mask_email("a@x.fr"), "***@x.fr");
        assert_eq!(mask_email("élodie@x.fr"), "élo***@x.fr");
        assert_eq!(mask_email("nonsense"), "***");
    }

    #[test]
    fn mobile_numbers_are_masked_like_the_domain_type_does() {
        assert_eq!(
            mask_recipient(Channel::Sms, "+33712123241"),
            "+33 7 ** ** ** 41"
        );
        assert_eq!(mask_recipient(Channel::Sms, "garbage"), "***");
    }

    #[test]
    fn message_ids_are_random_and_well_formed() {
        let a = new_message_id().unwrap();
        let b = new_message_id().unwrap();
        assert_ne!(a, b);
        assert!(
            a.starts_with('<') && a.ends_with('>') && a.contains('@'),
            "{a}"
        );
        assert_eq!(a.split('@').next().unwrap().len(), 33);
    }

    #[test]
    fn a_domain_that_cannot_go_in_a_message_id_is_refused() {
        assert!(set_message_id_domain("exa mple.fr").is_err());
        assert!(set_message_id_domain("").is_err());
        assert!(set_message_id_domain("a..fr").is_err());
    }

    #[test]
    fn messages_that_could_never_be_delivered_are_refused() {
        let mail = |to: &str, subject: &str| Message::Mail {
            to: to.into(),
            to_name: None,
            subject: subject.into(),
            body: String::new(),
        };
        assert!(mail("v.durand@cabinet-durand.example", "Objet")
            .check()
            .is_ok());
        assert!(mail("pas une adresse", "Objet").check().is_err());
        assert!(
            mail("v.durand@cabinet-durand.example", "Objet\r\nBcc: x@y.fr")
                .check()
                .is_err()
        );
        assert!(mail("v.durand@cabinet-durand.example", " ")
            .check()
            .is_err());
        let sms = |to: &str| Message::Sms {
            to: to.into(),
            text: "x".into(),
        };
        assert!(sms("+33712123241").check().is_ok());
        assert!(sms("0712123241").check().is_err());
        assert!(sms("+33 7 12 12 32 41").check().is_err());
    }

    #[test]
    fn debug_never_shows_a_body() {
        let mail = Message::Mail {
            to: "v.durand@cabinet-durand.example".into(),
            to_name: Some("DURAND Vincent".into()),
            subject: "Objet".into(),
            body: "mot de passe 30Z4-A64J".into(),
        };
        let sms = Message::Sms {
            to: "+33712123241".into(),
            text: "code 123456".into(),
        };
        let shown = format!("{mail:?} {sms:?} {mail:#?}");
        assert!(!shown.contains("30Z4"), "{shown}");
        assert!(!shown.contains("123456"), "{shown}");
        assert!(!shown.contains("v.durand@"), "{shown}");
        assert!(shown.contains("[elided]"));
    }
}
