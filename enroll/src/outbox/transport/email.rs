//! The RFC 5322 form of a queued e-mail, the same for the file outbox and for SMTP.

use std::time::SystemTime;

use lettre::message::header::{ContentType, MIME_VERSION_1_0};
use lettre::message::Mailbox;

use crate::outbox::{Channel, MailConfig, Message, OutboxError, StoredMessage, TransportError};

/// `AC SISERI <no-reply@siseri.invalid>` from `[mail]`.
pub(super) fn sender(config: &MailConfig) -> Result<Mailbox, OutboxError> {
    let address = config
        .from_address
        .parse::<lettre::Address>()
        .map_err(|_| OutboxError::Config {
            section: "mail",
            problem: "from_address n'est pas une adresse e-mail valide".into(),
        })?;
    let name = Some(config.from_name.trim().to_owned()).filter(|n| !n.is_empty());
    Ok(Mailbox::new(name, address))
}

/// From, To, Subject (RFC 2047 when not ASCII), Date (when queued), the stored Message-ID,
/// MIME-Version and a `text/plain; charset=utf-8` body.
pub(super) fn compose(
    msg: &StoredMessage,
    from: &Mailbox,
) -> Result<lettre::Message, TransportError> {
    let Message::Mail {
        to,
        to_name,
        subject,
        body,
    } = &msg.message
    else {
        return Err(TransportError::WrongChannel(Channel::Sms));
    };
    let address = to
        .parse::<lettre::Address>()
        .map_err(|e| TransportError::Compose(e.to_string()))?;
    lettre::Message::builder()
        .from(from.clone())
        .to(Mailbox::new(to_name.clone(), address))
        .subject(subject.clone())
        .date(SystemTime::from(msg.created_at))
        .message_id(Some(msg.message_id.clone()))
        .header(MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(body.clone())
        .map_err(|e| TransportError::Compose(e.to_string()))
}
