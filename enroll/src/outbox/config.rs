//! The `[mail]` and `[sms]` sections of `config.toml`. Every field has a default that works on a
//! fresh checkout: both channels write to the file outbox.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::OutboxError;

/// Both sections; the binary embeds them as `[mail]` and `[sms]`. Secrets are
/// [`SecretString`]s: `Debug` shows `[REDACTED]` and serialising leaves them out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// `[mail]`
    pub mail: MailConfig,
    /// `[sms]`
    pub sms: SmsConfig,
}

/// How e-mails leave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// `DATA/outbox/mail/<id>.eml`.
    #[default]
    File,
    /// An SMTP server.
    Smtp,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded by STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Implicit,
    /// No TLS at all: only towards a relay on a trusted network.
    None,
}

/// How SMS leave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransportKind {
    /// `DATA/outbox/sms/<id>.json`.
    #[default]
    File,
    /// An HTTP gateway (JSON POST with a bearer token).
    Http,
}

/// `[mail]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `file` or `smtp`.
    pub transport: MailTransportKind,
    /// Display name of the sender.
    pub from_name: String,
    /// Sender address; its domain is also that of every `Message-ID`.
    pub from_address: String,
    /// SMTP server.
    pub smtp_host: String,
    /// SMTP port.
    pub smtp_port: u16,
    /// `starttls`, `implicit` or `none`.
    pub smtp_tls: SmtpTls,
    /// Login, when the server asks for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_username: Option<String>,
    /// Password (better from `SISERI_MAIL_SMTP_PASSWORD` than written in the file).
    #[serde(skip_serializing)]
    pub smtp_password: Option<SecretString>,
    /// Extra CA certificates (PEM) to trust for the server, besides Mozilla's roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Limit of each network operation, in seconds.
    pub smtp_timeout_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransportKind::File,
            from_name: "AC SISERI".into(),
            from_address: "no-reply@siseri.invalid".into(),
            smtp_host: "localhost".into(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_ca_file: None,
            smtp_timeout_secs: 30,
        }
    }
}

impl MailConfig {
    /// The domain of the sender address: what follows `@` in every `Message-ID`.
    pub fn message_id_domain(&self) -> &str {
        self.from_address
            .rsplit_once('@')
            .map_or("siseri.invalid", |(_, domain)| domain)
    }

    /// Refuses settings that would make every delivery fail.
    pub fn check(&self) -> Result<(), OutboxError> {
        let problem = |p: &str| OutboxError::Config {
            section: "mail",
            problem: p.to_owned(),
        };
        if self.from_address.parse::<lettre::Address>().is_err() {
            return Err(problem("from_address n'est pas une adresse e-mail valide"));
        }
        if self.from_name.chars().any(char::is_control) {
            return Err(problem("from_name ne doit pas contenir de saut de ligne"));
        }
        if self.transport == MailTransportKind::Smtp {
            if self.smtp_host.trim().is_empty() {
                return Err(problem("smtp_host est vide"));
            }
            if self.smtp_port == 0 {
                return Err(problem("smtp_port doit être compris entre 1 et 65535"));
            }
            if self.smtp_password.is_some() && self.smtp_username.is_none() {
                return Err(problem("smtp_password sans smtp_username"));
            }
        }
        if self.smtp_timeout_secs == 0 {
            return Err(problem("smtp_timeout_secs doit être positif"));
        }
        Ok(())
    }
}

/// `[sms]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// `file` or `http`.
    pub transport: SmsTransportKind,
    /// Sender name shown on the phone.
    pub sender: String,
    /// The gateway's URL (`https://…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_url: Option<String>,
    /// The gateway's bearer token (better from `SISERI_SMS_HTTP_TOKEN`).
    #[serde(skip_serializing)]
    pub http_token: Option<SecretString>,
    /// Limit of one request, in seconds.
    pub http_timeout_secs: u64,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            transport: SmsTransportKind::File,
            sender: "SISERI".into(),
            http_url: None,
            http_token: None,
            http_timeout_secs: 10,
        }
    }
}

impl SmsConfig {
    /// Refuses settings that would make every delivery fail.
    pub fn check(&self) -> Result<(), OutboxError> {
        let problem = |p: &str| OutboxError::Config {
            section: "sms",
            problem: p.to_owned(),
        };
        if self.http_timeout_secs == 0 {
            return Err(problem("http_timeout_secs doit être positif"));
        }
        if self.transport == SmsTransportKind::Http {
            match self.http_url.as_deref() {
                Some(url) if url.starts_with("https://") || url.starts_with("http://") => {}
                Some(_) => return Err(problem("http_url doit commencer par https:// ou http://")),
                None => return Err(problem("transport = \"http\" demande http_url")),
            }
            match self.http_token.as_ref().map(ExposeSecret::expose_secret) {
                Some(token) if !token.is_empty() && !token.chars().any(char::is_control) => {}
                _ => return Err(problem("transport = \"http\" demande http_token")),
            }
        }
        Ok(())
    }
}

impl OutboxConfig {
    /// Checks both sections.
    pub fn check(&self) -> Result<(), OutboxError> {
        self.mail.check()?;
        self.sms.check()
    }
}

/// The two sections at their defaults, explained in French, for the `config.toml` that `init`
/// writes.
pub const CONFIG_TEMPLATE: &str = r#"[mail]
# Acheminement des e-mails : "file" les écrit dans <données>/outbox/mail/<n°>.eml
# (messages RFC 5322, à lire avec `siseri outbox list|show`), "smtp" les remet au
# serveur SMTP ci-dessous. Un e-mail non remis est réessayé, jamais perdu.
transport = "file"
# Expéditeur des e-mails ; le domaine de l'adresse sert aussi aux Message-ID.
from_name = "AC SISERI"
from_address = "no-reply@siseri.invalid"
# Serveur SMTP (transport = "smtp").
smtp_host = "localhost"
# 587 pour "starttls", 465 pour "implicit", 25 pour un relais local sans TLS.
smtp_port = 587
# "starttls" (TLS exigé après STARTTLS), "implicit" (TLS dès la connexion) ou
# "none" (en clair : seulement vers un relais sur un réseau de confiance).
smtp_tls = "starttls"
# Identifiants, si le serveur en demande. Préférez donner le mot de passe par la
# variable d'environnement SISERI_MAIL_SMTP_PASSWORD, un fichier (SISERI_MAIL_SMTP_PASSWORD_FILE)
# ou l'identifiant systemd smtp-password plutôt que de l'écrire ici.
# smtp_username = "siseri"
# smtp_password = "…"
# Certificats d'AC (PEM) à accepter pour le serveur en plus des AC publiques.
# smtp_ca_file = "/etc/siseri/ac-smtp.pem"
# Délai maximal de chaque opération réseau, en secondes.
smtp_timeout_secs = 30

[sms]
# Acheminement des SMS : "file" les écrit dans <données>/outbox/sms/<n°>.json,
# "http" les poste à la passerelle ci-dessous.
transport = "file"
# Nom de l'expéditeur affiché sur le téléphone.
sender = "SISERI"
# Passerelle SMS (transport = "http") : POST JSON {"to": "+33…", "text": "…",
# "sender": "SISERI"} avec l'en-tête Authorization: Bearer <jeton> ; toute
# réponse 2xx vaut remise. Préférez donner le jeton par SISERI_SMS_HTTP_TOKEN, un fichier
# (SISERI_SMS_HTTP_TOKEN_FILE) ou l'identifiant systemd sms-token.
# http_url = "https://passerelle-sms.example.fr/api/sms"
# http_token = "…"
# Délai maximal d'une requête, en secondes.
http_timeout_secs = 10
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal field by field: `Debug` shows every field but the secrets, compared apart.
    fn assert_same(a: &OutboxConfig, b: &OutboxConfig) {
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let secrets = |c: &OutboxConfig| {
            [&c.mail.smtp_password, &c.sms.http_token]
                .map(|s| s.as_ref().map(|s| s.expose_secret().to_owned()))
        };
        assert_eq!(secrets(a), secrets(b));
    }

    #[test]
    fn the_template_reads_as_the_defaults() {
        let parsed: OutboxConfig = toml::from_str(CONFIG_TEMPLATE).unwrap();
        assert_same(&parsed, &OutboxConfig::default());
        parsed.check().unwrap();
    }

    #[test]
    fn an_empty_text_gives_the_defaults() {
        let parsed: OutboxConfig = toml::from_str("").unwrap();
        assert_same(&parsed, &OutboxConfig::default());
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(toml::from_str::<OutboxConfig>("[mail]\nsmtp_hots = \"x\"\n").is_err());
        assert!(toml::from_str::<OutboxConfig>("[sms]\nurl = \"x\"\n").is_err());
        assert!(toml::from_str::<OutboxConfig>("[mail]\nsmtp_tls = \"ssl\"\n").is_err());
    }

    #[test]
    fn an_smtp_section_reads_with_its_credentials_hidden_in_debug() {
        let parsed: OutboxConfig = toml::from_str(
            "[mail]\ntransport = \"smtp\"\nsmtp_host = \"smtp.example.fr\"\nsmtp_port = 465\n\
             smtp_tls = \"implicit\"\nsmtp_username = \"siseri\"\nsmtp_password = \"s3cret!\"\n\
             [sms]\ntransport = \"http\"\nhttp_url = \"https://sms.example.fr/send\"\n\
             http_token = \"t0ken\"\n",
        )
        .unwrap();
        parsed.check().unwrap();
        assert_eq!(parsed.mail.smtp_tls, SmtpTls::Implicit);
        assert_eq!(
            parsed
                .mail
                .smtp_password
                .as_ref()
                .map(ExposeSecret::expose_secret),
            Some("s3cret!")
        );
        let shown = format!("{parsed:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!shown.contains("t0ken"), "{shown}");
        assert!(!serde_json::to_string(&parsed).unwrap().contains("s3cret"));
    }

    #[test]
    fn a_gateway_without_url_or_token_is_refused() {
        let mut sms = SmsConfig {
            transport: SmsTransportKind::Http,
            ..SmsConfig::default()
        };
        assert!(sms.check().is_err());
        sms.http_url = Some("https://sms.example.fr".into());
        assert!(sms.check().is_err());
        sms.http_token = Some("t".into());
        sms.check().unwrap();
    }

    #[test]
    fn the_message_id_domain_is_the_senders() {
        let mail = MailConfig {
            from_address: "ne-pas-repondre@siseri.example.fr".into(),
            ..MailConfig::default()
        };
        assert_eq!(mail.message_id_domain(), "siseri.example.fr");
        assert_eq!(MailConfig::default().message_id_domain(), "siseri.invalid");
    }
}
