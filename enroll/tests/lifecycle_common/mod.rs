//! The world of the in-process life-cycle tests: a temporary SQLite database migrated like the
//! binary does, AC SISERI made in-process, PASS and the access services over a pool, a fake
//! clock, and memory transports that keep every e-mail and SMS delivered (bodies included).
//!
//! Shared by `lifecycle_*.rs` and `pass_*.rs`; each test crate uses only part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use ca::{
    Authority, CaKeyAlgorithm, CertificateStatus, P12Options, P12Profile, Policy, RevocationReason,
    Serial, SubscriberKeyAlgorithm,
};
use enroll::access::{Access, AccessConfig, AccessError, ApprovalReport, IssueSettings};
use enroll::outbox::{deliver_due, MemoryTransport, Message, StoredMessage, Transports};
use enroll::pass::{Client, DocumentKind, Pass, PassConfig, Signed};
use enroll::protocol::{PersonInput, ProtocolInput};
use store::pool::Pool;
use store::secrets::ServerKey;
use store::FakeClock;
use tempfile::TempDir;
use time::OffsetDateTime;

#[path = "../../../ca/tests/support/mod.rs"]
mod ca_support;
pub use ca_support::require_tool;

#[path = "../data/fixtures.rs"]
mod fixtures;
pub use fixtures::{six_digits, PDF, PNG, PROTOCOL};

pub const PASSPHRASE: &str = "phrase secrète des tests du cycle de vie";
pub const BASE_URL: &str = "https://siseri.test";

/// The seed's protocol: DURAND (CSE), MARTIN (MDT), DILLENSEGER (PCR), in that order of
/// approval, so 42000, 42001, 42002.
pub fn seed() -> ProtocolInput {
    serde_json::from_str(PROTOCOL).expect("from_str failed")
}

pub const DURAND: &str = "v.durand@cabinet-durand.example";
pub const MARTIN: &str = "c.martin@sst-alsace.example";
pub const DILLENSEGER: &str = "p.dillenseger@alara.example";

/// A person named without a habilitation number.
pub fn person(last: &str, first: &str, email: &str, birth_date: &str) -> PersonInput {
    PersonInput {
        last_name: Some(last.into()),
        first_name: Some(first.into()),
        email: Some(email.into()),
        civility: Some("Mme".into()),
        birth_date: Some(birth_date.into()),
        birth_departement: Some("54".into()),
        ..PersonInput::default()
    }
}

/// A person named by their habilitation number only.
pub fn person_by_number(last: &str, first: &str, email: &str, hab: u32) -> PersonInput {
    PersonInput {
        last_name: Some(last.into()),
        first_name: Some(first.into()),
        email: Some(email.into()),
        habilitation: Some(hab.to_string()),
        ..PersonInput::default()
    }
}

/// What a withdrawal e-mail gives its reader.
#[derive(Debug, Clone)]
pub struct WithdrawalMail {
    pub token: String,
    pub code: String,
    pub password: String,
}

pub struct World {
    pub dir: TempDir,
    pub clock: Arc<FakeClock>,
    pub authority: Arc<Authority>,
    pub pool: Arc<Pool>,
    pub pass: Pass,
    pub access: Access,
    pub mail: MemoryTransport,
    pub sms: MemoryTransport,
    pass_config: PassConfig,
    access_config: AccessConfig,
    key_algorithm: SubscriberKeyAlgorithm,
}

impl World {
    pub fn new() -> Self {
        Self::with(PassConfig::default(), AccessConfig::default())
    }

    pub fn with(pass_config: PassConfig, access_config: AccessConfig) -> Self {
        Self::with_keys(
            pass_config,
            access_config,
            SubscriberKeyAlgorithm::EcdsaP256,
        )
    }

    /// A world whose subscribers' keys are made with `key_algorithm`.
    pub fn with_keys(
        pass_config: PassConfig,
        access_config: AccessConfig,
        key_algorithm: SubscriberKeyAlgorithm,
    ) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("siseri-lifecycle-")
            .tempdir()
            .expect("tempdir failed");
        let clock = Arc::new(FakeClock::at(
            OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .expect("replace_nanosecond failed"),
        ));
        let db = dir.path().join("siseri.db");
        let mut conn = store::pool::open(&db).expect("open failed");
        ca::migrations::apply(&mut conn).expect("apply failed");
        store::migrate::apply(&mut conn, "enroll", enroll::migrations::MIGRATIONS)
            .expect("apply failed");
        let now = store::Clock::now(clock.as_ref());
        let (authority, _) = ca_support::root(
            dir.path(),
            CaKeyAlgorithm::EcdsaP256,
            Policy::default(),
            PASSPHRASE,
            now,
        );
        authority
            .record_self(&mut conn, now)
            .expect("record_self failed");
        drop(conn);
        let (pool, pass, access) =
            services(&dir, &clock, &pass_config, &access_config, key_algorithm);
        Self {
            dir,
            clock,
            authority: Arc::new(authority),
            pool,
            pass,
            access,
            mail: MemoryTransport::new(),
            sms: MemoryTransport::new(),
            pass_config,
            access_config,
            key_algorithm,
        }
    }

    /// Drops PASS, the access service and their pool, and builds new ones on the same file,
    /// as a daemon restart would.
    pub fn restart(&mut self) {
        let (pool, pass, access) = services(
            &self.dir,
            &self.clock,
            &self.pass_config,
            &self.access_config,
            self.key_algorithm,
        );
        self.pass = pass;
        self.access = access;
        self.pool = pool;
    }

    pub fn now(&self) -> OffsetDateTime {
        store::Clock::now(self.clock.as_ref())
    }

    pub fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db_path(&self) -> PathBuf {
        self.path("siseri.db")
    }

    /// A connection of the test's own, outside the services' pool.
    pub fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.db_path()).expect("Connection::open failed");
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .expect("busy_timeout failed");
        conn
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .expect("query_row failed")
    }

    /// Delivers every due message to the memory transports.
    pub fn deliver(&self) {
        let transports = Transports::new(self.mail.clone(), self.sms.clone());
        let mut conn = store::pool::open(&self.db_path()).expect("open failed");
        loop {
            let report =
                deliver_due(&mut conn, &transports, self.now()).expect("deliver_due failed");
            assert_eq!(report.failed, 0);
            if report.delivered == 0 {
                break;
            }
        }
    }

    /// Every e-mail delivered so far, in order: (to, subject, body).
    pub fn mails(&self) -> Vec<(String, String, String)> {
        self.deliver();
        self.mail
            .sent()
            .into_iter()
            .filter_map(|m: StoredMessage| match m.message {
                Message::Mail {
                    to, subject, body, ..
                } => Some((to, subject, body)),
                Message::Sms { .. } => None,
            })
            .collect()
    }

    /// The e-mails delivered to `to`: (subject, body).
    pub fn mails_to(&self, to: &str) -> Vec<(String, String)> {
        self.mails()
            .into_iter()
            .filter(|(t, _, _)| t == to)
            .map(|(_, s, b)| (s, b))
            .collect()
    }

    /// The texts of the SMS delivered so far.
    pub fn sms_texts(&self) -> Vec<String> {
        self.deliver();
        self.sms
            .sent()
            .into_iter()
            .filter_map(|m| match m.message {
                Message::Sms { text, .. } => Some(text),
                Message::Mail { .. } => None,
            })
            .collect()
    }

    /// The code of the last SMS.
    pub fn last_sms_code(&self) -> String {
        let texts = self.sms_texts();
        let text = texts.last().expect("no SMS was sent");
        six_digits(text).unwrap_or_else(|| panic!("no 6-digit code in the SMS: {text}"))
    }

    /// The body of the last e-mail sent to `to` whose subject holds `subject`, a `kind` e-mail.
    fn last_mail_to(&self, to: &str, subject: &str, kind: &str) -> String {
        let mails = self.mails_to(to);
        mails
            .iter()
            .rev()
            .find(|(s, _)| s.contains(subject))
            .map(|(_, body)| body.clone())
            .unwrap_or_else(|| panic!("no {kind} e-mail to {to}: {mails:?}"))
    }

    /// The last withdrawal e-mail sent to `to`.
    pub fn withdrawal_mail(&self, to: &str) -> WithdrawalMail {
        parse_withdrawal_mail(&self.last_mail_to(to, "retrait", "withdrawal"))
    }

    /// The access code of the last access-code e-mail sent to `to`.
    pub fn access_code(&self, to: &str) -> String {
        let body = self.last_mail_to(to, "mot de passe d'accès", "access-code");
        word_after(&body, "Mot de passe SISERI : ")
    }

    /// A draft with `input` and both documents.
    pub fn draft(&self, input: &ProtocolInput) -> String {
        let draft = self.pass.create(input).expect("create failed");
        self.pass
            .upload(&draft.id, DocumentKind::Kbis, PDF)
            .expect("upload failed");
        self.pass
            .upload(&draft.id, DocumentKind::Identity, PNG)
            .expect("upload failed");
        draft.id
    }

    /// Asks for the code of draft `id`, reads it from the SMS and signs.
    pub fn sign_draft(&self, id: &str) -> Signed {
        self.pass
            .request_code(id, true)
            .expect("request_code failed");
        let code = self.last_sms_code();
        self.pass
            .sign(id, &code, &Client::default())
            .expect("sign failed")
    }

    /// A new protocol, signed.
    pub fn signed(&self, input: &ProtocolInput) -> Signed {
        let id = self.draft(input);
        self.sign_draft(&id)
    }

    pub fn approve(&self, number: &str) -> ApprovalReport {
        self.try_approve(number).expect("approve failed")
    }

    /// The operator's approval of protocol `number`, whatever its outcome.
    pub fn try_approve(&self, number: &str) -> Result<ApprovalReport, AccessError> {
        self.try_approve_confirming(number, &[])
    }

    /// The operator's approval of protocol `number`, confirming that the designees found by
    /// name and birth alone are the people `confirmed` names.
    pub fn try_approve_confirming(
        &self,
        number: &str,
        confirmed: &[u32],
    ) -> Result<ApprovalReport, AccessError> {
        self.access.approve(
            &self.authority,
            number,
            "operator:test",
            confirmed,
            &mut |_, _, _| {},
        )
    }

    /// The seed's protocol, signed and approved.
    pub fn approved_seed(&self) -> (Signed, ApprovalReport) {
        let signed = self.signed(&seed());
        let report = self.approve(&signed.number);
        (signed, report)
    }

    /// A renewal of `signed` with `input` instead of the version in force, signed.
    pub fn renew(&self, signed: &Signed, input: &ProtocolInput) -> Signed {
        let draft = self
            .pass
            .start_renewal(&signed.number, &signed.key_name, &Client::default())
            .expect("start_renewal failed");
        self.pass
            .update(&draft.id, input, None)
            .expect("update failed");
        self.sign_draft(&draft.id)
    }

    /// The CA's status of a certificate.
    pub fn ca_status(&self, serial: &[u8]) -> CertificateStatus {
        Authority::find(&self.db(), &Serial::from_der_bytes(serial))
            .expect("Authority::find failed")
            .expect("no CA record for this serial")
            .status
    }

    pub fn revocation_reason(&self, serial: &[u8]) -> Option<RevocationReason> {
        match self.ca_status(serial) {
            CertificateStatus::Revoked { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// The enroll certificates of a person: (serial, state).
    pub fn certificates(&self, hab: u32) -> Vec<(Vec<u8>, String)> {
        self.access
            .accessor(hab)
            .expect("accessor failed")
            .certificates
            .into_iter()
            .map(|c| (c.serial, c.state.as_str().to_owned()))
            .collect()
    }

    /// `openssl crl -text` of the CRL in force.
    pub fn latest_crl_text(&self) -> String {
        let crl = Authority::latest_crl(&self.db())
            .expect("Authority::latest_crl failed")
            .expect("no CRL was published");
        let path = self.path(&format!("crl-{}.der", crl.number));
        std::fs::write(&path, &crl.der).expect("write failed");
        let out = openssl(&[
            "crl",
            "-inform",
            "DER",
            "-in",
            path.to_str().expect("to_str gave nothing"),
            "-noout",
            "-text",
        ]);
        String::from_utf8(out.stdout).expect("String::from_utf8 failed")
    }

    /// Every row of the tables an approval may touch, as text, to prove nothing changed.
    pub fn dump(&self) -> Vec<String> {
        let conn = self.db();
        let mut out = Vec::new();
        for table in [
            "enroll_sequences",
            "enroll_accessors",
            "enroll_attachments",
            "enroll_certificates",
            "enroll_withdrawals",
            "enroll_access_codes",
            "enroll_outbox",
            "enroll_versions",
            "ca_certificates",
            "ca_crls",
            "audit_log",
        ] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
                .expect("prepare failed");
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let mut line = format!("{table}:");
                    for i in 0..n {
                        let v: rusqlite::types::Value = r.get(i)?;
                        line.push_str(&format!(" {v:?}"));
                    }
                    Ok(line)
                })
                .expect("query_map failed");
            out.extend(rows.map(Result::unwrap));
        }
        out
    }

    /// `store::audit::verify` over the whole log.
    pub fn audit_verifies(&self) {
        let v =
            store::audit::verify(&self.db()).unwrap_or_else(|e| panic!("audit log broken: {e}"));
        assert!(v.entries > 0);
    }

    /// The database file and its WAL after a full checkpoint, to look for erased bytes.
    pub fn database_bytes(&self) -> Vec<u8> {
        let conn = self.db();
        let (busy, _, _): (i64, i64, i64) = conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("query_row failed");
        assert_eq!(busy, 0, "the checkpoint could not complete");
        drop(conn);
        let mut bytes = std::fs::read(self.db_path()).expect("read failed");
        for extra in ["siseri.db-wal", "siseri.db-journal"] {
            if let Ok(more) = std::fs::read(self.path(extra)) {
                bytes.extend(more);
            }
        }
        bytes
    }
}

fn services(
    dir: &TempDir,
    clock: &Arc<FakeClock>,
    pass_config: &PassConfig,
    access_config: &AccessConfig,
    key_algorithm: SubscriberKeyAlgorithm,
) -> (Arc<Pool>, Pass, Access) {
    let pool = Arc::new(Pool::new(dir.path().join("siseri.db"), 4));
    let key = ServerKey::new(&[7u8; 32]);
    let pass = Pass::new(
        pool.clone(),
        dir.path().join("documents"),
        key.clone(),
        clock.clone(),
        pass_config.clone(),
    );
    let access = Access::new(
        pool.clone(),
        key,
        clock.clone(),
        access_config.clone(),
        IssueSettings {
            base_url: BASE_URL.into(),
            key_algorithm,
            p12: P12Options {
                profile: P12Profile::Modern,
                iterations: 2048,
            },
        },
    );
    (pool, pass, access)
}

/// A person's certificates split into the states of `serial` and the other certificates (the
/// storage orders certificates made in the same second by serial, so not by age).
pub fn split(
    certificates: Vec<(Vec<u8>, String)>,
    serial: &[u8],
) -> (Vec<String>, Vec<(Vec<u8>, String)>) {
    let (this, others): (Vec<_>, Vec<_>) = certificates.into_iter().partition(|(s, _)| s == serial);
    (this.into_iter().map(|(_, state)| state).collect(), others)
}

/// The word that follows `marker` in `text`, punctuation excluded.
pub fn word_after(text: &str, marker: &str) -> String {
    let start = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"))
        + marker.len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The token of `/retrait/<token>`, the 9-character code and the `.p12` password of the seed's
/// first e-mail.
pub fn parse_withdrawal_mail(body: &str) -> WithdrawalMail {
    let token = word_after(body, "/retrait/");
    let code = word_after(body, "code de retrait ");
    let password = word_after(body, "protégé par le mot de passe ");
    assert_eq!(token.len(), 43, "a 256-bit token: {body}");
    assert_eq!(code.len(), 9, "a 9-character code: {body}");
    assert!(!password.is_empty(), "{body}");
    assert!(
        body.contains(&format!("{BASE_URL}/retrait/{token}")),
        "{body}"
    );
    WithdrawalMail {
        token,
        code,
        password,
    }
}

/// A code that is not `code` (same length, same alphabet).
pub fn other_code(code: &str) -> String {
    code.chars()
        .map(|c| match c {
            '0'..='8' => char::from(c as u8 + 1),
            '9' => '0',
            'A'..='Y' => char::from(c as u8 + 1),
            'Z' => 'A',
            other => other,
        })
        .collect()
}

/// `openssl ARGS…`, which must succeed.
pub fn openssl(args: &[&str]) -> Output {
    require_tool("openssl");
    let out = Command::new("openssl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("output failed");
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("to_str gave nothing")
}
