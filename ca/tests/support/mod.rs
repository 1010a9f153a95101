//! Shared by the CA's integration tests and by enroll's life-cycle tests (`#[path]`): AC SISERI
//! made in a test directory, a certificate recorded and never signed, and the outside tools the
//! tests call, which must be installed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ca::{
    Authority, CaKeyAlgorithm, IssueRequest, Policy, Prepared, PublishedCrl, RevocationReason,
    Serial, Subject, SubjectKey,
};
use rusqlite::Connection;
use store::{Clock, FakeClock};
use tempfile::TempDir;
use time::OffsetDateTime;

/// The passphrase of the CA tests' AC SISERI.
pub const PASSPHRASE: &str = "phrase secrète de test";

/// AC SISERI in a temporary directory (`ca.pem`, `ca.key.pem`, `siseri.db`), recorded in its
/// database, with a clock stopped when it was made.
pub struct Fixture {
    pub dir: TempDir,
    pub authority: Authority,
    pub conn: Connection,
    pub clock: FakeClock,
}

impl Fixture {
    pub fn new(algorithm: CaKeyAlgorithm, policy: Policy) -> Self {
        let dir = TempDir::new().expect("TempDir::new failed");
        let clock = FakeClock::at(OffsetDateTime::now_utc());
        let (authority, key_pem) = root(dir.path(), algorithm, policy, PASSPHRASE, clock.now());
        std::fs::write(dir.path().join("ca.key.pem"), key_pem).expect("write failed");
        let mut conn = open(&dir.path().join("siseri.db"));
        authority
            .record_self(&mut conn, clock.now())
            .expect("record_self failed");
        Self {
            dir,
            authority,
            conn,
            clock,
        }
    }

    /// The fixture's clock's time.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// Revokes `serial` for `reason` at the clock's time, as the tests' operator.
    pub fn revoke(
        &mut self,
        serial: &Serial,
        reason: RevocationReason,
    ) -> ca::Result<PublishedCrl> {
        let now = self.now();
        self.authority
            .revoke(&mut self.conn, serial, reason, "test", now)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The CA's database at `path`, migrated, in WAL mode and waiting on locks.
pub fn open(path: &Path) -> Connection {
    let mut conn = Connection::open(path).expect("Connection::open failed");
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .expect("busy_timeout failed");
    conn.execute_batch("PRAGMA journal_mode = WAL;")
        .expect("execute_batch failed");
    ca::migrations::apply(&mut conn).expect("apply failed");
    conn
}

/// A self-signed AC SISERI under `policy`, made at `now` and loaded with `passphrase`; its
/// certificate is written to `dir/ca.pem`. Returns it with its encrypted key (PEM).
pub fn root(
    dir: &Path,
    algorithm: CaKeyAlgorithm,
    policy: Policy,
    passphrase: &str,
    now: OffsetDateTime,
) -> (Authority, String) {
    let ceremony = Authority::create_root(algorithm, &policy, passphrase, now)
        .expect("Authority::create_root failed");
    let cert_pem = ceremony
        .certificate_pem
        .expect("certificate_pem gave nothing");
    std::fs::write(dir.join("ca.pem"), &cert_pem).expect("write failed");
    let authority = Authority::load(&cert_pem, &ceremony.encrypted_key_pem, passphrase, policy)
        .expect("Authority::load failed");
    (authority, ceremony.encrypted_key_pem)
}

/// Records `subject`'s certificate for `key` and commits without signing it: what a crash
/// between the two steps leaves.
pub fn prepare_only(
    authority: &Authority,
    conn: &mut Connection,
    subject: Subject,
    key: &SubjectKey,
    now: OffsetDateTime,
) -> Prepared {
    let tx = ca::immediate(conn).expect("immediate failed");
    let request = IssueRequest {
        subject,
        key,
        requester: "test",
    };
    let prepared = authority
        .prepare(&tx, &request, now)
        .expect("prepare failed");
    tx.commit().expect("commit failed");
    prepared
}

/// Fails loudly when the shell command `probe` fails, `what` being what it looks for: a missing
/// tool never skips a check.
pub fn require(probe: &str, what: &str) {
    let found = Command::new("sh")
        .args(["-c", probe])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "required external tool `{what}` is missing: install it (scripts/test.sh does); \
         these tests never skip a check silently"
    );
}

/// Fails loudly when `name` is not on PATH.
pub fn require_tool(name: &str) {
    require(&format!("command -v {name}"), name);
}

/// `name` as a command, once it is known to be installed.
pub fn tool(name: &str) -> Command {
    require_tool(name);
    Command::new(name)
}

/// What a tool printed, standard output then standard error.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
