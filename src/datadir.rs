//! The data directory: its layout, its creation (`init`), and opening it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use ca::{Authority, GeneratedKey, IssueRequest, SubjectKey, SubscriberKeyAlgorithm};
use secrecy::{ExposeSecret, SecretString};
use time::OffsetDateTime;

use crate::config::{template, CaMode, Config};
use crate::db;
use crate::error::AppError;

/// Paths inside a data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data directory at `root` (not checked).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// Its root.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `config.toml`
    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    /// `siseri.db`
    pub fn database(&self) -> PathBuf {
        self.root.join("siseri.db")
    }
    /// `ca/ac-siseri.pem`
    pub fn ca_cert(&self) -> PathBuf {
        self.root.join("ca/ac-siseri.pem")
    }
    /// `ca/ac-siseri.key.pem`, encrypted.
    pub fn ca_key(&self) -> PathBuf {
        self.root.join("ca/ac-siseri.key.pem")
    }
    /// `ca/recepisse.key.pem`: the receipt key, encrypted like the CA key (issue 16 §2).
    pub fn receipt_key(&self) -> PathBuf {
        self.root.join("ca/recepisse.key.pem")
    }
    /// `ca/recepisse.pem`: the receipt key's certificates not yet expired, in force first.
    pub fn receipt_cert(&self) -> PathBuf {
        self.root.join("ca/recepisse.pem")
    }
    /// `ca/ac-siseri.csr`, for a subordinate CA.
    pub fn ca_csr(&self) -> PathBuf {
        self.root.join("ca/ac-siseri.csr")
    }
    /// `ca/passphrase`, when the passphrase was generated.
    pub fn ca_passphrase(&self) -> PathBuf {
        self.root.join("ca/passphrase")
    }
    /// `ca/ac-siseri.crl`, DER.
    pub fn crl_der(&self) -> PathBuf {
        self.root.join("ca/ac-siseri.crl")
    }
    /// `ca/ac-siseri.crl.pem`
    pub fn crl_pem(&self) -> PathBuf {
        self.root.join("ca/ac-siseri.crl.pem")
    }
    /// `tls/server.pem` (chain)
    pub fn tls_cert(&self) -> PathBuf {
        self.root.join("tls/server.pem")
    }
    /// `tls/server.key.pem`
    pub fn tls_key(&self) -> PathBuf {
        self.root.join("tls/server.key.pem")
    }
    /// `secrets/hmac.key`: the server key of keyed hashes of codes and tokens.
    pub fn hmac_key(&self) -> PathBuf {
        self.root.join("secrets/hmac.key")
    }
    /// `outbox/`: the file transports of e-mail and SMS.
    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }
    /// `documents/`: supporting documents, content-addressed.
    pub fn documents(&self) -> PathBuf {
        self.root.join("documents")
    }
    /// The server key of keyed hashes.
    pub fn server_key(&self) -> Result<store::secrets::ServerKey, AppError> {
        let text = read(&self.hmac_key())?;
        store::secrets::ServerKey::from_hex(&text)
            .ok_or_else(|| AppError::DataDir(format!("{} illisible", self.hmac_key().display())))
    }
    /// `run/`: the sockets of running processes (owner-only).
    pub fn run_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    /// `run/signer.sock`: the daemon's signer.
    pub fn signer_socket(&self) -> PathBuf {
        self.run_dir().join("signer.sock")
    }
    /// `ca/signer-audit.db`: the signer's own hash-chained log of every signature.
    pub fn signer_audit(&self) -> PathBuf {
        self.root.join("ca/signer-audit.db")
    }
    /// `listening.json`
    pub fn listening(&self) -> PathBuf {
        self.root.join("listening.json")
    }

    /// True when the directory does not exist or holds nothing.
    pub fn is_empty(&self) -> bool {
        match fs::read_dir(&self.root) {
            Ok(mut entries) => entries.next().is_none(),
            Err(_) => true,
        }
    }

    /// The configuration, with environment overrides.
    pub fn load_config(&self) -> Result<Config, AppError> {
        if !self.config().exists() {
            return Err(AppError::DataDir(format!(
                "{} n'est pas un répertoire de données siseri (lancez d'abord « siseri init »)",
                self.root.display()
            )));
        }
        let config = Config::load(&self.config())?;
        enroll::outbox::set_message_id_domain(config.mail.message_id_domain())
            .map_err(|e| AppError::Config(e.to_string()))?;
        Ok(config)
    }

    /// The CA passphrase: `SISERI_CA_PASSPHRASE`, `SISERI_CA_PASSPHRASE_FILE` or the
    /// `ca-passphrase` credential (see [`crate::secrets`]), else the generated file.
    pub fn passphrase(&self) -> Result<SecretString, AppError> {
        if let Some(p) = crate::secrets::CA_PASSPHRASE.from_process()? {
            return Ok(p);
        }
        let path = self.ca_passphrase();
        fs::read_to_string(&path)
            .map(|s| SecretString::from(s.trim_end()))
            .map_err(|_| {
                AppError::DataDir(
                    "phrase secrète de l'AC introuvable : définissez SISERI_CA_PASSPHRASE \
                     (ou SISERI_CA_PASSPHRASE_FILE, ou l'identifiant systemd ca-passphrase)"
                        .into(),
                )
            })
    }

    /// AC SISERI for a command that signs, through a signer process (see [`crate::signer`]):
    /// this process never reads the key nor its passphrase.
    pub fn load_authority(&self, config: &Config) -> Result<Authority, AppError> {
        crate::signer::authority(self, config)
    }

    /// AC SISERI's certificate (PEM); a subordinate CA still waiting for it is told what to do.
    pub fn read_ca_cert(&self) -> Result<String, AppError> {
        fs::read_to_string(self.ca_cert()).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound && self.ca_csr().exists() {
                AppError::DataDir(format!(
                    "AC subordonnée sans certificat : faites signer {} puis « siseri ca import »",
                    self.ca_csr().display()
                ))
            } else {
                AppError::io(&self.ca_cert(), e)
            }
        })
    }

    /// AC SISERI with its key decrypted in this process: only the signer and the key
    /// ceremony (`init`, `ca import`) hold it.
    pub fn hold_authority(&self, config: &Config) -> Result<Authority, AppError> {
        let cert = self.read_ca_cert()?;
        if let Some(token) = config.ca.token() {
            let key = ca::TokenKey::open(&token, token_pin()?.expose_secret())?;
            return Ok(Authority::load_token(&cert, key, config.policy())?);
        }
        let key = read(&self.ca_key())?;
        Ok(Authority::load(
            &cert,
            &key,
            self.passphrase()?.expose_secret(),
            config.policy(),
        )?)
    }

    /// Opens the database (WAL) and applies pending migrations.
    pub fn open_db(&self) -> Result<rusqlite::Connection, AppError> {
        db::open(&self.database())
    }

    /// Writes the full CRL just published to `ca/` (DER and PEM), for operators who hand one
    /// CRL file to a local server. A shard's CRL is not written: it lives in the database and
    /// is served at `/pki/crl/N.crl`.
    pub fn write_crl(&self, crl: &ca::PublishedCrl) -> Result<(), AppError> {
        if crl.shard.is_some() {
            return Ok(());
        }
        write_atomic(&self.crl_der(), &crl.der, 0o644)?;
        write_atomic(
            &self.crl_pem(),
            ca::to_pem("X509 CRL", &crl.der).as_bytes(),
            0o644,
        )
    }
}

/// `text` (the configuration template) with `key = …` of `section` set to `value`.
fn set_template_value(text: &str, section: &str, key: &str, value: &toml::Value) -> String {
    let mut in_section = false;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with('[') {
            in_section = line.trim() == section;
        }
        if in_section && line.split('=').next().map(str::trim) == Some(key) {
            out.push_str(&format!("{key} = {value}"));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The PIN of the token holding the CA key (`[ca] key_store = "pkcs11"`).
pub fn token_pin() -> Result<SecretString, AppError> {
    crate::secrets::CA_PKCS11_PIN
        .from_process()?
        .ok_or_else(|| {
            AppError::DataDir(
                "code PIN du jeton PKCS#11 introuvable : définissez SISERI_CA_PKCS11_PIN (ou \
             SISERI_CA_PKCS11_PIN_FILE, ou l'identifiant systemd pkcs11-pin)"
                    .into(),
            )
        })
}

/// What `init` reports back to the operator.
#[derive(Debug)]
pub struct InitReport {
    /// The passphrase file, when one was generated.
    pub generated_passphrase: Option<PathBuf>,
    /// The CSR to have signed, for a subordinate CA.
    pub csr: Option<PathBuf>,
}

/// Creates a data directory: built beside `dir` and renamed into place at the end, so that
/// an interrupted `init` leaves nothing half-made under the final name.
pub fn init(dir: &DataDir, now: OffsetDateTime) -> Result<InitReport, AppError> {
    if !dir.is_empty() {
        return Err(AppError::DataDir(format!(
            "{} existe déjà et n'est pas vide : rien n'a été modifié",
            dir.root().display()
        )));
    }
    let parent = dir
        .root()
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| AppError::io(parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".siseri-init-")
        .tempdir_in(parent)
        .map_err(|e| AppError::io(parent, e))?;
    let stage = DataDir::new(staging.path());
    let report = populate(&stage, now)?;
    if dir.root().exists() {
        fs::remove_dir(dir.root()).map_err(|e| AppError::io(dir.root(), e))?;
    }
    let staged = staging.keep();
    fs::rename(&staged, dir.root()).map_err(|e| AppError::io(dir.root(), e))?;
    Ok(InitReport {
        generated_passphrase: report.generated_passphrase.map(|_| dir.ca_passphrase()),
        csr: report.csr.map(|_| dir.ca_csr()),
    })
}

fn populate(stage: &DataDir, now: OffsetDateTime) -> Result<InitReport, AppError> {
    set_mode(stage.root(), 0o700)?;
    for sub in [
        "ca",
        "tls",
        "secrets",
        "outbox/mail",
        "outbox/sms",
        "documents",
    ] {
        let p = stage.root().join(sub);
        fs::create_dir_all(&p).map_err(|e| AppError::io(&p, e))?;
    }
    write_atomic(&stage.config(), template().as_bytes(), 0o600)?;
    let config = Config::load(&stage.config())?;
    let hmac_key = store::random::random_bytes::<32>()?;
    write_atomic(&stage.hmac_key(), hex::encode(hmac_key).as_bytes(), 0o600)?;
    if let Some(token) = config.ca.token() {
        // Chosen at init, maybe through the environment: written down for every later command.
        let mut text = template().to_owned();
        for (key, value) in [
            ("key_store", toml::Value::from("pkcs11")),
            (
                "pkcs11_module",
                toml::Value::from(token.module.display().to_string()),
            ),
            ("pkcs11_token", toml::Value::from(token.token_label.clone())),
            (
                "pkcs11_key_label",
                toml::Value::from(token.key_label.clone()),
            ),
            (
                "key_algorithm",
                toml::Value::from(match config.ca.key_algorithm {
                    ca::CaKeyAlgorithm::EcdsaP256 => "ecdsa-p256",
                    ca::CaKeyAlgorithm::EcdsaP384 => "ecdsa-p384",
                }),
            ),
        ] {
            text = set_template_value(&text, "[ca]", key, &value);
        }
        write_atomic(&stage.config(), text.as_bytes(), 0o600)?;
        return populate_in_token(stage, &config, &token, now);
    }

    let mut generated_passphrase = None;
    let passphrase: SecretString = match crate::secrets::CA_PASSPHRASE.from_process()? {
        Some(p) => p,
        None => {
            let p = store::random::unambiguous_string(32)?.to_string();
            write_atomic(&stage.ca_passphrase(), format!("{p}\n").as_bytes(), 0o600)?;
            generated_passphrase = Some(stage.ca_passphrase());
            p.into()
        }
    };
    let passphrase = passphrase.expose_secret();

    let policy = config.policy();
    let ceremony = match config.ca.mode {
        CaMode::Root => Authority::create_root(config.ca.key_algorithm, &policy, passphrase, now)?,
        CaMode::Subordinate => {
            Authority::create_subordinate(config.ca.key_algorithm, &policy, passphrase, now)?
        }
    };
    write_atomic(
        &stage.ca_key(),
        ceremony.encrypted_key_pem.as_bytes(),
        0o600,
    )?;
    let mut conn = stage.open_db()?;
    let mut csr = None;
    if let Some(pem) = &ceremony.csr_pem {
        write_atomic(&stage.ca_csr(), pem.as_bytes(), 0o644)?;
        csr = Some(stage.ca_csr());
    }
    if let Some(pem) = &ceremony.certificate_pem {
        write_atomic(&stage.ca_cert(), pem.as_bytes(), 0o644)?;
        // The key ceremony: the key is in this process already.
        let authority = stage.hold_authority(&config)?;
        install(stage, &config, &authority, &mut conn, now)?;
    }
    Ok(InitReport {
        generated_passphrase,
        csr,
    })
}

/// The key ceremony with the key in a PKCS#11 token: made there (or the one labelled so, with
/// `pkcs11_generate = false`), never written anywhere; its certificate or its CSR.
fn populate_in_token(
    stage: &DataDir,
    config: &Config,
    token: &ca::TokenConfig,
    now: OffsetDateTime,
) -> Result<InitReport, AppError> {
    let pin = token_pin()?;
    let key = if config.ca.pkcs11_generate {
        ca::TokenKey::generate(token, pin.expose_secret(), config.ca.key_algorithm)?
    } else {
        ca::TokenKey::open(token, pin.expose_secret())?
    };
    let policy = config.policy();
    let mut conn = stage.open_db()?;
    match config.ca.mode {
        CaMode::Subordinate => {
            let csr = Authority::create_subordinate_in_token(&key, &policy, now)?;
            write_atomic(&stage.ca_csr(), csr.as_bytes(), 0o644)?;
            Ok(InitReport {
                generated_passphrase: None,
                csr: Some(stage.ca_csr()),
            })
        }
        CaMode::Root => {
            let pem = Authority::create_root_in_token(&key, &policy, now)?;
            write_atomic(&stage.ca_cert(), pem.as_bytes(), 0o644)?;
            let authority = Authority::load_token(&pem, key, policy)?;
            install(stage, config, &authority, &mut conn, now)?;
            Ok(InitReport {
                generated_passphrase: None,
                csr: None,
            })
        }
    }
}

/// What follows once AC SISERI has its certificate: its record, the first CRL and the
/// listeners' certificate.
pub fn install(
    dir: &DataDir,
    config: &Config,
    authority: &Authority,
    conn: &mut rusqlite::Connection,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    authority.record_self(conn, now)?;
    let crl = authority.publish_crl(conn, "ceremony", now)?;
    dir.write_crl(&crl)?;
    if config.tls.cert_file.is_none() {
        issue_tls_certificate(dir, authority, conn, &config.tls.names, now)?;
    }
    Ok(())
}

/// Issues the listeners' certificate for the `configured` names (by default `localhost`
/// and `127.0.0.1`), each once.
pub fn issue_tls_certificate(
    dir: &DataDir,
    authority: &Authority,
    conn: &mut rusqlite::Connection,
    configured: &[String],
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let mut names: Vec<String> = Vec::new();
    for n in configured {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256)?;
    let public: &SubjectKey = key.public();
    let issued = authority.issue(
        conn,
        &IssueRequest {
            subject: ca::Subject::TlsServer { names },
            key: public,
            requester: "ceremony",
        },
        now,
    )?;
    let chain = format!("{}{}", issued.pem(), authority.certificate_pem());
    write_atomic(&dir.tls_cert(), chain.as_bytes(), 0o644)?;
    let key_pem = zeroize::Zeroizing::new(ca::to_pem("PRIVATE KEY", key.pkcs8_der()));
    write_atomic(&dir.tls_key(), key_pem.as_bytes(), 0o600)?;
    Ok(())
}

/// Reads a text file, naming it in the error.
pub fn read(path: &Path) -> Result<String, AppError> {
    fs::read_to_string(path).map_err(|e| AppError::io(path, e))
}

/// Writes through a temporary file renamed into place, with `mode` set before any byte is
/// written (a key file is never readable by others, not even for an instant).
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AppError> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(|e| AppError::io(path, e))?;
    f.write_all(bytes).map_err(|e| AppError::io(path, e))?;
    f.sync_all().map_err(|e| AppError::io(path, e))?;
    set_mode(&tmp, mode)?;
    fs::rename(&tmp, path).map_err(|e| AppError::io(path, e))
}

/// Fails early, before anything is issued, when `path` cannot be written (or exists, unless
/// `overwrite`).
pub fn check_writable(path: &Path, overwrite: bool) -> Result<(), AppError> {
    if path.exists() && !overwrite {
        return Err(AppError::DataDir(format!(
            "{} existe déjà : rien n'a été fait",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let probe = tempfile::NamedTempFile::new_in(dir).map_err(|e| AppError::io(path, e))?;
    drop(probe);
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), AppError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|e| AppError::io(path, e))
}
