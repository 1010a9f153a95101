//! `config.toml`: typed, unknown keys refused, every field with a safe default. Any setting can
//! be overridden by an environment variable `SISERI_<SECTION>_<KEY>`.

use std::net::SocketAddr;
use std::path::Path;

use ca::{CaKeyAlgorithm, P12Profile, Policy, SubscriberKeyAlgorithm};
use serde::{Deserialize, Serialize};

use std::path::PathBuf;

use crate::error::AppError;

/// The whole configuration. Its secrets (`[mail] smtp_password`, `[sms] http_token`) are
/// `secrecy::SecretString`s: never in `Debug`, never serialised.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Listening addresses.
    pub listen: Listen,
    /// How the public listener is reached from outside.
    pub public: Public,
    /// The listeners' TLS certificate.
    pub tls: Tls,
    /// AC SISERI.
    pub ca: CaSection,
    /// What is issued to subscribers.
    pub issuance: Issuance,
    /// PASS limits and lifetimes.
    pub pass: enroll::pass::PassConfig,
    /// Accessors: numbers, withdrawals, access codes, notices.
    pub access: enroll::access::AccessConfig,
    /// E-mail transport.
    pub mail: enroll::outbox::MailConfig,
    /// SMS transport.
    pub sms: enroll::outbox::SmsConfig,
    /// What one connection, one client address and one listener may hold.
    pub limits: Limits,
    /// Logging.
    pub log: Log,
    /// The signer process that holds AC SISERI's key.
    pub signer: SignerSection,
    /// Transmissions of results (issue 16).
    pub transmissions: TransmissionsSection,
}

/// `[transmissions]`: what the operators are shown of the transmissions of results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransmissionsSection {
    /// Days after which a line still pending (its worker not declared) is listed by
    /// `siseri transmission pending` without `--older-than`.
    pub pending_days: u32,
}

impl Default for TransmissionsSection {
    fn default() -> Self {
        Self { pending_days: 30 }
    }
}

/// `[signer]`: where the process holding AC SISERI's key listens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignerSection {
    /// The Unix socket of a signer run apart (`siseri signer`, its own service and user). When
    /// unset, `siseri serve` starts its own on `DATA/run/signer.sock`.
    pub socket: Option<PathBuf>,
}

/// `[limits]`: timeouts and connection budgets of both listeners. Each listener has its own
/// budget, so that a flood of the public one cannot starve the registry's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Seconds for a client to complete the TLS handshake.
    pub tls_handshake_secs: u64,
    /// Seconds for a client to send a request's whole header (HTTP/1.1), counted from the
    /// moment the connection waits for it: a slow-header client is cut after this.
    pub header_read_secs: u64,
    /// Seconds a connection may stay without a byte in either direction.
    pub idle_secs: u64,
    /// Seconds for the application to answer a request, its body read included: a client
    /// that sends its body a byte at a time gets a 408 after this.
    pub request_secs: u64,
    /// Bytes a second at least of a request body, on average over `body_rate_window_secs` of
    /// waiting for it: a slower body gets a 408 and its connection is closed. 0: no minimum.
    pub min_body_bytes_per_sec: u64,
    /// Seconds of waiting for a request body over which its pace is judged.
    pub body_rate_window_secs: u64,
    /// Open connections on the public listener.
    pub public_connections: usize,
    /// Open connections on the registry listener.
    pub registry_connections: usize,
    /// Open connections on the plain-HTTP publication listener (CRLs, OCSP).
    pub http_connections: usize,
    /// Open connections from one client address, on each listener.
    pub connections_per_address: usize,
    /// HTTP/2: concurrent streams per connection.
    pub h2_max_concurrent_streams: u32,
    /// HTTP/2: bytes of a request's header list.
    pub h2_max_header_list_bytes: u32,
    /// HTTP/2: seconds between keep-alive pings (a peer that does not answer is dropped).
    pub h2_keep_alive_secs: u64,
    /// Seconds, after SIGTERM, for the requests in flight to finish.
    pub shutdown_grace_secs: u64,
    /// Threads for blocking work (database, signatures) of the public listener's handlers.
    pub public_blocking_threads: usize,
    /// Nice value (0 to 19) of the public listener's threads: when both listeners want the
    /// CPU (a flood of the public one), the registry's threads, at 0, get it first.
    pub public_nice: i32,
    /// CPUs the public listener's threads may run on (`taskset -c`'s list, e.g. `1-3`):
    /// `auto` (all the daemon's CPUs but the first, when it has two or more: the registry keeps
    /// one to itself under a flood), `all` (no confinement). The registry's threads run on all.
    #[serde(deserialize_with = "text_or_number")]
    pub public_cpus: String,
    /// The registry listener runs on its own runtime, so that a flood of the public one takes
    /// none of its threads: so many worker threads…
    pub registry_worker_threads: usize,
    /// … and so many threads for its handlers' blocking work (an import holds one while its
    /// upload arrives).
    pub registry_blocking_threads: usize,
    /// Registry reads run in read transactions and their audit entries are committed in
    /// groups (true, the default); false: each read takes the write lock to write its entry
    /// (the former behaviour, kept to measure the difference).
    pub registry_grouped_read_audit: bool,
    /// Registry reads that query the database at once, the others waiting their turn in
    /// order (0: twice the cores). Many at once on few cores only fight over SQLite's locks.
    pub registry_concurrent_reads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            tls_handshake_secs: 10,
            header_read_secs: 10,
            idle_secs: 60,
            request_secs: 300,
            min_body_bytes_per_sec: 500,
            body_rate_window_secs: 20,
            public_connections: 4096,
            registry_connections: 1024,
            http_connections: 1024,
            connections_per_address: 64,
            h2_max_concurrent_streams: 64,
            h2_max_header_list_bytes: 16 * 1024,
            h2_keep_alive_secs: 30,
            shutdown_grace_secs: 30,
            public_blocking_threads: 128,
            public_nice: 5,
            public_cpus: "auto".to_owned(),
            registry_worker_threads: 2,
            registry_blocking_threads: 64,
            registry_grouped_read_audit: true,
            registry_concurrent_reads: 0,
        }
    }
}

/// `[listen]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listen {
    /// The public listener (PASS, withdrawal, PKI publication). Port 0 picks a free port.
    pub public: SocketAddr,
    /// The registry listener (mutual TLS).
    pub registry: SocketAddr,
    /// The operators' listener: `/metrics` and `/healthz` in plain HTTP, for Prometheus. On
    /// loopback unless the network in between is trusted.
    pub admin: SocketAddr,
    /// The publication listener in plain HTTP: `/pki/…` (AC SISERI, CRLs) and `/ocsp` only,
    /// as relying parties fetch them (RFC 5280 §4.2.1.13, RFC 5019); anything else is
    /// redirected to `[public] base_url`.
    pub http: SocketAddr,
    /// The operators' console (mutual TLS, operator certificates only). On loopback or an
    /// internal network only.
    pub console: SocketAddr,
}

impl Default for Listen {
    fn default() -> Self {
        Self {
            public: SocketAddr::from(([127, 0, 0, 1], 8443)),
            registry: SocketAddr::from(([127, 0, 0, 1], 9443)),
            admin: SocketAddr::from(([127, 0, 0, 1], 9100)),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            console: SocketAddr::from(([127, 0, 0, 1], 9444)),
        }
    }
}

/// `[public]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Public {
    /// Base URL of the public listener as people reach it (withdrawal links, the wizard);
    /// the plain-HTTP listener redirects there.
    pub base_url: String,
    /// Base URL of the plain-HTTP publication listener as relying parties reach it: the CRL
    /// distribution point (`/pki/crl/N.crl`) and the AIA (`/pki/ac-siseri.cer`, `/ocsp`) of
    /// every new certificate point under it. Must not change once certificates are issued.
    pub http_base_url: String,
}

impl Default for Public {
    fn default() -> Self {
        Self {
            base_url: "https://localhost:8443".into(),
            http_base_url: "http://localhost:8080".into(),
        }
    }
}

/// `[tls]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tls {
    /// Names (DNS or IP) of the server certificate made by AC SISERI.
    pub names: Vec<String>,
    /// An external certificate chain (PEM) instead of one issued by AC SISERI.
    pub cert_file: Option<String>,
    /// Its private key (PEM).
    pub key_file: Option<String>,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            names: vec!["localhost".into(), "127.0.0.1".into()],
            cert_file: None,
            key_file: None,
        }
    }
}

/// How AC SISERI is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaMode {
    /// A self-signed root.
    #[default]
    Root,
    /// A subordinate of an external root: `init` writes a CSR, `ca import` installs the
    /// certificate.
    Subordinate,
}

/// `[ca]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaSection {
    /// Root or subordinate.
    pub mode: CaMode,
    /// Key algorithm of AC SISERI (used at `init` only).
    pub key_algorithm: CaKeyAlgorithm,
    /// `O=` of every subject.
    pub organization: String,
    /// Lifetime of a person's certificate, in days.
    pub person_validity_days: u32,
    /// Lifetime of a dosimetry body's certificate, in days.
    pub organisme_validity_days: u32,
    /// Lifetime of an operator's certificate (the console), in days.
    pub operator_validity_days: u32,
    /// Lifetime of the listeners' certificate, in days.
    pub tls_server_validity_days: u32,
    /// Lifetime of AC SISERI when self-signed, in days.
    pub ca_validity_days: u32,
    /// nextUpdate − thisUpdate of each CRL, in days.
    pub crl_validity_days: u32,
    /// How many CRL shards new certificates are spread over. A certificate keeps the shard it
    /// was given at issuance: changing this moves none.
    pub crl_shards: u32,
    /// nextUpdate − thisUpdate of the OCSP responses signed ahead, in hours (renewed half-way).
    pub ocsp_validity_hours: u32,
    /// OCSP answered from responses signed ahead (true), or signed at each request (false:
    /// the former behaviour, kept as the benchmark's baseline).
    pub ocsp_presigned: bool,
    /// Where the CA key lives: an encrypted file, or a PKCS#11 token.
    pub key_store: KeyStore,
    /// The PKCS#11 module (the token vendor's library).
    pub pkcs11_module: PathBuf,
    /// The token's label.
    pub pkcs11_token: String,
    /// The key pair's label in the token.
    pub pkcs11_key_label: String,
    /// `init` makes the key in the token (true), or uses the one already there (false).
    pub pkcs11_generate: bool,
}

/// `[ca] key_store`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyStore {
    /// `ca/ac-siseri.key.pem`, encrypted under the passphrase.
    #[default]
    File,
    /// A PKCS#11 token; its PIN from `SISERI_CA_PKCS11_PIN` (or `_FILE`, or the credential
    /// `pkcs11-pin`).
    Pkcs11,
}

impl Default for CaSection {
    fn default() -> Self {
        let p = Policy::default();
        Self {
            mode: CaMode::Root,
            key_algorithm: CaKeyAlgorithm::default(),
            organization: p.organization,
            person_validity_days: p.person_validity_days,
            organisme_validity_days: p.organisme_validity_days,
            operator_validity_days: p.operator_validity_days,
            tls_server_validity_days: p.tls_server_validity_days,
            ca_validity_days: p.ca_validity_days,
            crl_validity_days: p.crl_validity_days,
            crl_shards: p.crl_shards,
            ocsp_validity_hours: p.ocsp_validity_hours,
            ocsp_presigned: true,
            key_store: KeyStore::File,
            pkcs11_module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            pkcs11_token: "siseri".into(),
            pkcs11_key_label: "AC SISERI".into(),
            pkcs11_generate: true,
        }
    }
}

impl CaSection {
    /// The token holding the key, under `key_store = "pkcs11"`.
    pub fn token(&self) -> Option<ca::TokenConfig> {
        (self.key_store == KeyStore::Pkcs11).then(|| ca::TokenConfig {
            module: self.pkcs11_module.clone(),
            token_label: self.pkcs11_token.clone(),
            key_label: self.pkcs11_key_label.clone(),
        })
    }
}

/// `[issuance]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Issuance {
    /// Algorithm of keys generated here for people and machines.
    pub key_algorithm: SubscriberKeyAlgorithm,
    /// Protection of the `.p12` files.
    pub p12_profile: P12Profile,
    /// PBKDF2 iterations of the `.p12` files.
    pub p12_iterations: u32,
}

impl Default for Issuance {
    fn default() -> Self {
        Self {
            key_algorithm: SubscriberKeyAlgorithm::default(),
            p12_profile: P12Profile::default(),
            p12_iterations: 100_000,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// `error`, `warn`, `info`, `debug` or a tracing filter; `RUST_LOG` wins when set.
    pub level: String,
    /// `text` for people, `json` for collectors; `--log-format` wins when given.
    pub format: LogFormat,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// How log lines are written (`[log] format`, `--log-format`, `SISERI_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One line of text per event, coloured only on a terminal.
    #[default]
    #[value(help = "une ligne lisible par évènement")]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `fields` (`message` and the
    /// event's own fields), `span`/`spans` inside a span. See `logging`.
    #[value(help = "un objet JSON par ligne, pour un collecteur")]
    Json,
}

/// Environment variables that look like overrides but are not settings.
const NOT_SETTINGS: &[&str] = &[
    "SISERI_DATA",
    "SISERI_CA_PASSPHRASE",
    "SISERI_CA_PASSPHRASE_FILE",
    "SISERI_CA_PKCS11_PIN",
    "SISERI_CA_PKCS11_PIN_FILE",
    "SISERI_MAIL_SMTP_PASSWORD_FILE",
    "SISERI_SMS_HTTP_TOKEN_FILE",
];
const SECTIONS: &[&str] = &[
    "listen", "public", "tls", "ca", "issuance", "pass", "access", "mail", "sms", "limits", "log",
];

impl Config {
    /// Reads `path` and applies the environment's overrides.
    pub fn load(path: &Path) -> Result<Self, AppError> {
        let text = std::fs::read_to_string(path).map_err(|e| AppError::io(path, e))?;
        Self::parse(&text, std::env::vars())
    }

    /// Parses `text`, then applies `env` overrides, then checks.
    pub fn parse(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, AppError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut table: toml::Table =
            toml::from_str(text).map_err(|e| AppError::Config(e.message().to_owned()))?;
        for (name, value) in env.iter().cloned() {
            let Some(rest) = name.strip_prefix("SISERI_") else {
                continue;
            };
            if NOT_SETTINGS.contains(&name.as_str()) {
                continue;
            }
            let lower = rest.to_ascii_lowercase();
            let Some(section) = SECTIONS
                .iter()
                .find(|s| lower.starts_with(&format!("{s}_")))
            else {
                return Err(AppError::Config(format!(
                    "variable d'environnement {name} : section inconnue"
                )));
            };
            let key = &lower[section.len() + 1..];
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(section_table) = entry else {
                return Err(AppError::Config(format!(
                    "[{section}] doit être une section"
                )));
            };
            // Secrets are strings even when they look like numbers.
            let value = if key.contains("password") || key.contains("token") {
                toml::Value::String(value)
            } else {
                env_value(&value)
            };
            section_table.insert(key.to_owned(), value);
        }
        let mut config: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| AppError::Config(e.message().to_owned()))?;
        // A secret's own variable went through the table above; its file or systemd
        // credential comes next, before what config.toml says (see `crate::secrets`).
        let lookup = |name: &str| {
            env.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| std::ffi::OsString::from(v))
        };
        for (secret, slot) in [
            (
                crate::secrets::SMTP_PASSWORD,
                &mut config.mail.smtp_password,
            ),
            (crate::secrets::SMS_TOKEN, &mut config.sms.http_token),
        ] {
            if lookup(secret.var).is_none_or(|v| v.is_empty()) {
                if let Some(value) = secret.from_files(&lookup)? {
                    *slot = Some(value);
                }
            }
        }
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), AppError> {
        if !self.public.base_url.starts_with("https://")
            && !self.public.base_url.starts_with("http://")
        {
            return Err(AppError::Config(
                "[public] base_url doit commencer par https:// ou http://".into(),
            ));
        }
        if !self.public.http_base_url.starts_with("http://") {
            return Err(AppError::Config(
                "[public] http_base_url doit commencer par http:// (les LCR et OCSP se lisent en HTTP simple, RFC 5280 §4.2.1.13)".into(),
            ));
        }
        if !(1..=65_536).contains(&self.ca.crl_shards) {
            return Err(AppError::Config(
                "[ca] crl_shards doit valoir de 1 à 65536".into(),
            ));
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err(AppError::Config(
                "[tls] cert_file et key_file vont ensemble".into(),
            ));
        }
        if self.tls.names.is_empty() && self.tls.cert_file.is_none() {
            return Err(AppError::Config("[tls] names ne peut pas être vide".into()));
        }
        if self.issuance.p12_iterations < 2048 {
            return Err(AppError::Config(
                "[issuance] p12_iterations doit valoir au moins 2048".into(),
            ));
        }
        self.mail
            .check()
            .map_err(|e| AppError::Config(e.to_string()))?;
        self.sms
            .check()
            .map_err(|e| AppError::Config(e.to_string()))?;
        let l = &self.limits;
        if [
            l.tls_handshake_secs,
            l.header_read_secs,
            l.idle_secs,
            l.request_secs,
            l.body_rate_window_secs,
            l.h2_keep_alive_secs,
        ]
        .contains(&0)
            || [
                l.public_connections,
                l.registry_connections,
                l.http_connections,
                l.connections_per_address,
                l.public_blocking_threads,
                l.registry_worker_threads,
                l.registry_blocking_threads,
            ]
            .contains(&0)
            || !(0..=19).contains(&l.public_nice)
            || l.h2_max_concurrent_streams == 0
            || l.h2_max_header_list_bytes < 1024
        {
            return Err(AppError::Config(
                "[limits] les durées et les nombres de connexions doivent être positifs, public_nice entre 0 et 19".into(),
            ));
        }
        crate::serve::PublicCpus::parse(&l.public_cpus).map_err(AppError::Config)?;
        if self.ca.person_validity_days == 0
            || self.ca.operator_validity_days == 0
            || self.ca.crl_validity_days == 0
            || !(1..=240).contains(&self.ca.ocsp_validity_hours)
        {
            return Err(AppError::Config(
                "[ca] les durées doivent être positives (ocsp_validity_hours entre 1 et 240)"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The outbox transports' configuration.
    pub fn outbox(&self) -> enroll::outbox::OutboxConfig {
        enroll::outbox::OutboxConfig {
            mail: self.mail.clone(),
            sms: self.sms.clone(),
        }
    }

    /// The CA's issuance policy, with the publication URLs under the plain-HTTP base URL.
    pub fn policy(&self) -> Policy {
        let base = self.public.http_base_url.trim_end_matches('/');
        Policy {
            organization: self.ca.organization.clone(),
            person_validity_days: self.ca.person_validity_days,
            organisme_validity_days: self.ca.organisme_validity_days,
            operator_validity_days: self.ca.operator_validity_days,
            tls_server_validity_days: self.ca.tls_server_validity_days,
            ca_validity_days: self.ca.ca_validity_days,
            crl_validity_days: self.ca.crl_validity_days,
            ocsp_validity_hours: self.ca.ocsp_validity_hours,
            crl_url: Some(format!("{base}/pki/ac-siseri.crl")),
            crl_shard_url: Some(format!("{base}/pki/crl/{{shard}}.crl")),
            crl_shards: self.ca.crl_shards,
            ca_issuers_url: Some(format!("{base}/pki/ac-siseri.cer")),
            ocsp_url: Some(format!("{base}/ocsp")),
        }
    }
}

/// A setting written as text that may look like a number (`public_cpus = 1`, or
/// `SISERI_LIMITS_PUBLIC_CPUS=1`, which [`env_value`] reads as an integer).
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(u64),
    }
    Ok(match Either::deserialize(d)? {
        Either::Text(t) => t,
        Either::Number(n) => n.to_string(),
    })
}

/// A scalar as TOML would read it (`8443`, `true`, `["a", "b"]`), else the raw string.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

/// The `config.toml` written by `init`: every setting at its default, explained.
pub fn template() -> String {
    format!(
        "{TEMPLATE_HEAD}\n{}\n{TEMPLATE_TAIL}",
        enroll::outbox::CONFIG_TEMPLATE.trim()
    )
}

const TEMPLATE_TAIL: &str = r#"[limits]
# Délais (secondes) : poignée de main TLS, en-têtes d'une requête, connexion muette,
# réponse complète de l'application (corps de la requête compris).
tls_handshake_secs = 10
header_read_secs = 10
idle_secs = 60
request_secs = 300
# Débit minimal du corps d'une requête (octets par seconde, en moyenne sur une fenêtre d'attente
# de body_rate_window_secs secondes) : plus lent, la requête reçoit 408 et la connexion est
# fermée. 0 : pas de minimum.
min_body_bytes_per_sec = 500
body_rate_window_secs = 20
# Connexions ouvertes au plus : par écoute (chacune son budget) et par adresse cliente.
public_connections = 4096
registry_connections = 1024
http_connections = 1024
connections_per_address = 64
# HTTP/2 : flux simultanés, taille des en-têtes (octets), intervalle des pings (secondes).
h2_max_concurrent_streams = 64
h2_max_header_list_bytes = 16384
h2_keep_alive_secs = 30
# Après SIGTERM : délai laissé aux requêtes en cours (secondes).
shutdown_grace_secs = 30
# Fils d'exécution : le registre a les siens (fils de travail et fils pour la base de données),
# que l'inondation de l'écoute publique ne peut pas prendre.
public_blocking_threads = 128
registry_worker_threads = 2
# Priorité (nice, 0 à 19) des fils de l'écoute publique : quand les deux écoutes se disputent le
# processeur (inondation de l'écoute publique), les fils du registre, à 0, passent d'abord.
public_nice = 5
# Processeurs des fils de l'écoute publique (liste comme pour « taskset -c » : « 1 », « 1-3 »,
# « 0,2 ») : « auto » leur laisse tous ceux du démon sauf le premier, quand il en a au moins deux
# (le registre en garde un pour lui seul sous une inondation) ; « all » : aucune restriction.
# Les fils du registre tournent sur tous.
public_cpus = "auto"
registry_blocking_threads = 64
# Lectures du registre dans des transactions de lecture, leurs entrées d'audit écrites par
# groupes (true) ; false : chaque lecture prend le verrou d'écriture (mesure comparative).
registry_grouped_read_audit = true
# Lectures du registre interrogeant la base en même temps, les autres attendant leur tour
# dans l'ordre d'arrivée (0 : deux fois le nombre de cœurs).
registry_concurrent_reads = 0

[log]
level = "info"
# "text" (une ligne lisible par évènement) ou "json" (un objet JSON par ligne, pour un
# collecteur de journaux) ; l'option --log-format l'emporte.
format = "text"

[signer]
# Socket d'un signataire lancé à part (« siseri signer », service et utilisateur dédiés) ;
# sans cette ligne, « siseri serve » lance le sien sur DATA/run/signer.sock.
# socket = "/run/siseri-signer/signer.sock"

[transmissions]
# Lignes de résultats en attente (travailleur non déclaré) listées par
# « siseri transmission pending » au-delà de ce nombre de jours (--older-than l'emporte).
pending_days = 30
"#;

const TEMPLATE_HEAD: &str = r#"# Configuration de siseri. Toute valeur peut être remplacée par une variable
# d'environnement SISERI_<SECTION>_<CLÉ>, par exemple SISERI_LISTEN_PUBLIC=127.0.0.1:0.

[listen]
# Écoute publique (PASS, retrait des certificats, publication de l'AC et de la LCR).
public = "127.0.0.1:8443"
# Écoute du registre (TLS mutuel : certificat AC SISERI exigé).
registry = "127.0.0.1:9443"
# Écoute d'administration : /metrics (Prometheus) et /healthz, en HTTP simple, sans
# authentification : laissez-la sur la boucle locale (ou derrière un pare-feu).
admin = "127.0.0.1:9100"
# Publication en HTTP simple : /pki/ (certificat de l'AC, LCR) et /ocsp seulement, comme les
# lisent les parties de confiance ; toute autre adresse est redirigée vers base_url.
http = "127.0.0.1:8080"
# Console des opérateurs (TLS mutuel : certificat d'opérateur AC SISERI exigé) ; à garder
# sur la boucle locale ou un réseau interne.
console = "127.0.0.1:9444"

[public]
# Adresse par laquelle on joint l'écoute publique (liens de retrait, assistant PASS).
base_url = "https://localhost:8443"
# Adresse de l'écoute de publication en HTTP simple : les certificats émis y pointent
# (LCR de leur partition <http_base_url>/pki/crl/N.crl, certificat de l'AC, OCSP).
# Ne la changez plus une fois des certificats émis.
http_base_url = "http://localhost:8080"

[tls]
# Noms (DNS ou IP) du certificat serveur émis par l'AC SISERI.
names = ["localhost", "127.0.0.1"]
# Pour utiliser un certificat serveur externe plutôt qu'un certificat de l'AC SISERI :
# cert_file = "/chemin/fullchain.pem"
# key_file = "/chemin/privkey.pem"

[ca]
# "root" (AC auto-signée) ou "subordinate" (siseri ca csr, puis siseri ca import).
mode = "root"
# "ecdsa-p256" ou "ecdsa-p384" ; utilisé à l'initialisation seulement.
key_algorithm = "ecdsa-p256"
organization = "SISERI"
person_validity_days = 1095
organisme_validity_days = 1095
# Certificats des opérateurs de la console (instructeurs, administrateurs).
operator_validity_days = 365
tls_server_validity_days = 397
ca_validity_days = 7300
crl_validity_days = 7
# Nombre de partitions de la LCR : chaque nouveau certificat est rangé dans l'une (numéro de
# série modulo ce nombre) et garde la sienne si ce nombre change. 128 : environ 370 Ko par
# partition à 1 000 000 de certificats révoqués.
crl_shards = 128
# Réponses OCSP signées d'avance, valables ce nombre d'heures (1 à 240), renouvelées à mi-vie ;
# false : signées à chaque requête (ancien comportement, pour comparer).
ocsp_validity_hours = 24
ocsp_presigned = true
# Où vit la clé de l'AC : "file" (ca/ac-siseri.key.pem, chiffrée par la phrase secrète) ou
# "pkcs11" (un jeton PKCS#11, HSM ; code PIN dans SISERI_CA_PKCS11_PIN, SISERI_CA_PKCS11_PIN_FILE
# ou l'identifiant systemd pkcs11-pin). Choisi à l'initialisation.
key_store = "file"
pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"
pkcs11_token = "siseri"
pkcs11_key_label = "AC SISERI"
# true : « siseri init » crée la clé dans le jeton ; false : il prend celle qui porte ce libellé.
pkcs11_generate = true

[issuance]
# Clés générées pour les accédants : "ecdsa-p256", "rsa2048" ou "rsa3072".
key_algorithm = "ecdsa-p256"
# "modern" (AES-256, SHA-256) ou "compat" (3DES, SHA-1) pour les systèmes anciens.
p12_profile = "modern"
p12_iterations = 100000

[pass]
# Taille maximale d'une pièce justificative (octets).
document_max_bytes = 10485760
# Durée de validité du code de signature envoyé par SMS (minutes).
code_ttl_minutes = 10
# Codes erronés avant blocage du code.
code_max_attempts = 5
# Codes qu'un brouillon peut demander par heure.
code_requests_per_hour = 3
# Tentatives de renouvellement (numéro + nom clé) par heure, par client et par numéro.
renewal_attempts_per_hour = 10
# Par adresse cliente et par heure : brouillons créés, pièces envoyées.
drafts_per_hour = 10
uploads_per_hour = 40
# Codes de signature envoyés à un même numéro de portable, quel que soit le brouillon.
sms_per_number_per_hour = 3
sms_per_number_per_day = 10
# Un brouillon jamais signé est effacé, avec ses pièces, après ce nombre de jours.
draft_retention_days = 30

[access]
# Premier N° habilitation SISERI attribué (jamais réutilisé ensuite).
habilitation_start = 42000
# Durée de validité d'un lien de retrait (jours) ; un seul téléchargement.
withdrawal_days = 60
# Codes de retrait erronés avant blocage du retrait.
withdrawal_max_attempts = 5
# Nombre de chiffres du code d'accès au registre.
access_code_length = 4
# Codes d'accès erronés avant blocage de l'accès.
access_code_max_attempts = 5
# Préavis d'expiration envoyé par e-mail (jours avant la fin du certificat).
expiry_notice_days = 40
# Tentatives de retrait par adresse cliente et par heure, tous liens confondus.
withdrawal_attempts_per_address_per_hour = 20
# Quatre yeux : la validation d'un protocole et la révocation d'un opérateur demandent deux
# opérateurs différents (la ligne de commande compte pour un).
four_eyes = false
"#;

#[cfg(test)]
mod tests {
    use super::*;

    use secrecy::ExposeSecret;

    fn no_env() -> Vec<(String, String)> {
        Vec::new()
    }

    /// Equal field by field: `Debug` shows every field but the secrets, compared apart.
    fn assert_same(a: &Config, b: &Config) {
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        let secrets = |c: &Config| {
            [&c.mail.smtp_password, &c.sms.http_token]
                .map(|s| s.as_ref().map(|s| s.expose_secret().to_owned()))
        };
        assert_eq!(secrets(a), secrets(b));
    }

    #[test]
    fn the_template_reads_as_the_defaults() {
        assert_same(
            &Config::parse(&template(), no_env()).unwrap(),
            &Config::default(),
        );
    }

    #[test]
    fn an_empty_file_gives_the_defaults() {
        assert_same(&Config::parse("", no_env()).unwrap(), &Config::default());
    }

    #[test]
    fn secrets_from_the_environment_are_kept_but_never_shown() {
        let env = vec![
            ("SISERI_MAIL_TRANSPORT".to_owned(), "smtp".to_owned()),
            ("SISERI_MAIL_SMTP_USERNAME".to_owned(), "siseri".to_owned()),
            ("SISERI_MAIL_SMTP_PASSWORD".to_owned(), "1234567".to_owned()),
            ("SISERI_SMS_TRANSPORT".to_owned(), "http".to_owned()),
            (
                "SISERI_SMS_HTTP_URL".to_owned(),
                "https://sms.example.fr".to_owned(),
            ),
            (
                "SISERI_SMS_HTTP_TOKEN".to_owned(),
                "t0k3n-s3cr3t".to_owned(),
            ),
        ];
        let c = Config::parse("", env).unwrap();
        let password = c.mail.smtp_password.as_ref().unwrap();
        assert_eq!(password.expose_secret(), "1234567");
        let token = c.sms.http_token.as_ref().unwrap();
        assert_eq!(token.expose_secret(), "t0k3n-s3cr3t");
        for shown in [format!("{c:?}"), serde_json::to_string(&c).unwrap()] {
            assert!(!shown.contains("1234567"), "{shown}");
            assert!(!shown.contains("t0k3n"), "{shown}");
        }
    }

    #[test]
    fn secrets_come_from_files_and_credentials_after_their_variables() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("smtp");
        std::fs::write(&password, "mot-de-passe-fichier\n").unwrap();
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds).unwrap();
        std::fs::write(creds.join("smtp-password"), "mot-de-passe-systemd").unwrap();
        std::fs::write(creds.join("sms-token"), "jeton-systemd\n").unwrap();
        let base = || {
            vec![
                ("SISERI_MAIL_TRANSPORT".to_owned(), "smtp".to_owned()),
                ("SISERI_MAIL_SMTP_USERNAME".to_owned(), "siseri".to_owned()),
                ("SISERI_SMS_TRANSPORT".to_owned(), "http".to_owned()),
                (
                    "SISERI_SMS_HTTP_URL".to_owned(),
                    "https://sms.example.fr".to_owned(),
                ),
                (
                    "CREDENTIALS_DIRECTORY".to_owned(),
                    creds.display().to_string(),
                ),
            ]
        };
        let secrets = |c: &Config| {
            (
                c.mail
                    .smtp_password
                    .as_ref()
                    .unwrap()
                    .expose_secret()
                    .to_owned(),
                c.sms
                    .http_token
                    .as_ref()
                    .unwrap()
                    .expose_secret()
                    .to_owned(),
            )
        };
        // Written in config.toml, overridden by the credentials.
        let file = "[mail]\nsmtp_password = \"du-fichier-de-config\"\n";
        let c = Config::parse(file, base()).unwrap();
        assert_eq!(
            secrets(&c),
            ("mot-de-passe-systemd".into(), "jeton-systemd".into())
        );
        let mut env = base();
        env.push((
            "SISERI_MAIL_SMTP_PASSWORD_FILE".to_owned(),
            password.display().to_string(),
        ));
        let c = Config::parse(file, env.clone()).unwrap();
        assert_eq!(secrets(&c).0, "mot-de-passe-fichier");
        env.push((
            "SISERI_MAIL_SMTP_PASSWORD".to_owned(),
            "de-la-variable".to_owned(),
        ));
        env.push((
            "SISERI_SMS_HTTP_TOKEN".to_owned(),
            "jeton-variable".to_owned(),
        ));
        let c = Config::parse(file, env).unwrap();
        assert_eq!(
            secrets(&c),
            ("de-la-variable".into(), "jeton-variable".into())
        );
        assert!(!format!("{c:?}").contains("de-la-variable"));

        let missing = dir.path().join("absent");
        let mut env = base();
        env.push((
            "SISERI_SMS_HTTP_TOKEN_FILE".to_owned(),
            missing.display().to_string(),
        ));
        let e = Config::parse("", env).unwrap_err().to_string();
        assert!(e.contains(&missing.display().to_string()), "{e}");
        assert!(e.contains("SISERI_SMS_HTTP_TOKEN_FILE"), "{e}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Config::parse("[listen]\npublik = \"127.0.0.1:1\"\n", no_env()).unwrap_err();
        assert!(err.to_string().contains("publik"), "{err}");
        assert!(Config::parse("[nope]\n", no_env()).is_err());
    }

    #[test]
    fn environment_overrides_any_setting() {
        let env = vec![
            ("SISERI_LISTEN_PUBLIC".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "SISERI_ISSUANCE_P12_ITERATIONS".to_owned(),
                "2048".to_owned(),
            ),
            (
                "SISERI_CA_KEY_ALGORITHM".to_owned(),
                "ecdsa-p384".to_owned(),
            ),
            (
                "SISERI_CA_PASSPHRASE".to_owned(),
                "not a setting".to_owned(),
            ),
        ];
        let c = Config::parse(&template(), env).unwrap();
        assert_eq!(c.listen.public.port(), 0);
        assert_eq!(c.issuance.p12_iterations, 2048);
        assert_eq!(c.ca.key_algorithm, CaKeyAlgorithm::EcdsaP384);
    }

    #[test]
    fn the_public_cpus_are_read_as_text_even_when_they_look_like_a_number() {
        for (value, expected) in [("1", "1"), ("1-3", "1-3"), ("0,2", "0,2"), ("all", "all")] {
            let env = vec![("SISERI_LIMITS_PUBLIC_CPUS".to_owned(), value.to_owned())];
            let c = Config::parse("", env).unwrap();
            assert_eq!(c.limits.public_cpus, expected);
        }
        let c = Config::parse("[limits]\npublic_cpus = 2\n", no_env()).unwrap();
        assert_eq!(c.limits.public_cpus, "2");
        let err = Config::parse("[limits]\npublic_cpus = \"2-1\"\n", no_env()).unwrap_err();
        assert!(err.to_string().contains("public_cpus"), "{err}");
    }

    #[test]
    fn an_unknown_environment_setting_is_refused() {
        let env = vec![("SISERI_LISTEN_PUBLIK".to_owned(), "x".to_owned())];
        assert!(Config::parse("", env).is_err());
    }

    #[test]
    fn certificates_point_to_their_shards_crl_and_the_aia_under_the_plain_http_base_url() {
        let c = Config::parse(
            "[public]\nhttp_base_url = \"http://pki.siseri.example.fr/\"\n[ca]\ncrl_shards = 16\n",
            no_env(),
        )
        .unwrap();
        let p = c.policy();
        assert_eq!(p.crl_shards, 16);
        assert_eq!(
            p.shard_url(7).as_deref(),
            Some("http://pki.siseri.example.fr/pki/crl/7.crl")
        );
        assert_eq!(
            p.ocsp_url.as_deref(),
            Some("http://pki.siseri.example.fr/ocsp")
        );
        assert_eq!(
            p.ca_issuers_url.as_deref(),
            Some("http://pki.siseri.example.fr/pki/ac-siseri.cer")
        );
    }

    #[test]
    fn a_publication_url_over_https_or_a_shard_count_of_zero_is_refused() {
        let https = "[public]\nhttp_base_url = \"https://pki.siseri.example.fr\"\n";
        assert!(Config::parse(https, no_env()).is_err());
        assert!(Config::parse("[ca]\ncrl_shards = 0\n", no_env()).is_err());
        let env = vec![("SISERI_LISTEN_HTTP".to_owned(), "127.0.0.1:0".to_owned())];
        assert_eq!(Config::parse("", env).unwrap().listen.http.port(), 0);
    }

    #[test]
    fn too_few_p12_iterations_are_refused() {
        assert!(Config::parse("[issuance]\np12_iterations = 1000\n", no_env()).is_err());
    }
}
