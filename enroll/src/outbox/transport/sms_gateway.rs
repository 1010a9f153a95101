//! SMS through an HTTP gateway: `POST` of `{"to", "text", "sender"}` with a bearer token; any
//! 2xx answer means delivered.

use std::fmt;
use std::time::Duration;

use super::{Transport, TransportKind};
use crate::outbox::{Channel, Message, OutboxError, SmsConfig, StoredMessage, TransportError};

/// The client of `[sms] http_*` (ureq, rustls on ring).
pub struct SmsGateway {
    agent: ureq::Agent,
    url: String,
    authorization: String,
    sender: String,
}

impl SmsGateway {
    /// A client for the configured gateway; nothing is connected before the first SMS.
    pub fn new(config: &SmsConfig) -> Result<Self, OutboxError> {
        let missing = |p: &str| OutboxError::Config {
            section: "sms",
            problem: p.to_owned(),
        };
        let url = config
            .http_url
            .clone()
            .ok_or_else(|| missing("http_url manquant"))?;
        let token = config
            .http_token
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret)
            .ok_or_else(|| missing("http_token manquant"))?;
        // No redirect: the bearer token goes to the configured address and nowhere else.
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(config.http_timeout_secs)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent();
        Ok(Self {
            agent,
            url,
            authorization: format!("Bearer {token}"),
            sender: config.sender.clone(),
        })
    }
}

impl fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsGateway")
            .field("url", &self.url)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl Transport for SmsGateway {
    fn send(&self, msg: &StoredMessage) -> Result<(), TransportError> {
        let Message::Sms { to, text } = &msg.message else {
            return Err(TransportError::WrongChannel(Channel::Mail));
        };
        let body = serde_json::to_vec(&serde_json::json!({
            "to": to,
            "text": text,
            "sender": self.sender,
        }))
        .map_err(|e| TransportError::Compose(e.to_string()))?;
        let response = self
            .agent
            .post(&self.url)
            .header("Authorization", &self.authorization)
            .header("Content-Type", "application/json")
            // Every attempt of one SMS carries the same key: a gateway that honours it sends once.
            .header("Idempotency-Key", msg.message_id.trim_matches(['<', '>']))
            .send(&body[..])
            .map_err(|e| TransportError::Gateway(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(TransportError::GatewayStatus {
                status: status.as_u16(),
            })
        }
    }

    fn kind(&self) -> TransportKind {
        TransportKind::Http
    }
}
