//! SMTP delivery to a real SMTP server started by the test: Python's aiosmtpd, writing what it
//! receives to a maildir (`scripts/install-test-deps.sh` installs it). No server, no pass: these
//! tests fail loudly rather than skip.

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use enroll::outbox::{
    self, DeliveryStatus, MailConfig, MailTransportKind, Message, OutboxConfig, OutboxId, SmtpTls,
    Transports,
};
use rusqlite::Connection;
#[path = "outbox_common/mod.rs"]
mod outbox_common;

use outbox_common::{database, first_attempt_fails, queue, second_attempt_delivers, T0};

const SUBJECT: &str = "SISERI : retrait de votre certificat numérique personnel";

fn queue_withdrawal_mail(conn: &mut Connection) -> OutboxId {
    let message = Message::Mail {
        to: "v.durand@cabinet-durand.example".into(),
        to_name: Some("DURAND Vincent".into()),
        subject: SUBJECT.into(),
        body: "À l'attention de DURAND Vincent.\n\nmot de passe 30Z4-A64J\n".into(),
    };
    queue(conn, &message, T0)
}

fn smtp_config(port: u16, tls: SmtpTls, ca_file: Option<PathBuf>) -> OutboxConfig {
    OutboxConfig {
        mail: MailConfig {
            transport: MailTransportKind::Smtp,
            smtp_host: "127.0.0.1".into(),
            smtp_port: port,
            smtp_tls: tls,
            smtp_ca_file: ca_file,
            smtp_timeout_secs: 5,
            ..MailConfig::default()
        },
        ..OutboxConfig::default()
    }
}

/// A port nobody listens on right now. The server is started on it a moment later; a server
/// that cannot bind it makes [`SmtpServer::start`] fail loudly.
/// The transports the service would build from `smtp_config`, writing files under `dir`.
fn smtp_transports(dir: &Path, port: u16, tls: SmtpTls, ca_file: Option<PathBuf>) -> Transports {
    Transports::from_config(&smtp_config(port, tls, ca_file), &dir.join("outbox"))
        .expect("Transports::from_config failed")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("TcpListener::bind failed")
        .local_addr()
        .expect("local_addr failed")
        .port()
}

/// TLS material for the server, and the CA file the client is told to trust.
struct TlsFiles {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn tls_files(dir: &Path) -> TlsFiles {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("KeyPair::generate failed");
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).expect("CertificateParams::new failed");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "AC de test SMTP");
    let ca_cert = ca_params.self_signed(&ca_key).expect("self_signed failed");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("KeyPair::generate failed");
    let server_params = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("CertificateParams::new failed");
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .expect("signed_by failed");
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("smtp.pem"),
        key: dir.join("smtp.key"),
    };
    std::fs::write(&files.ca, ca_cert.pem()).expect("write failed");
    std::fs::write(&files.cert, server_cert.pem()).expect("write failed");
    std::fs::write(&files.key, server_key.serialize_pem()).expect("write failed");
    files
}

enum ServerTls<'a> {
    None,
    Starttls(&'a TlsFiles),
    Implicit(&'a TlsFiles),
}

/// aiosmtpd on 127.0.0.1:`port`, storing into a maildir; killed when dropped.
struct SmtpServer {
    child: Child,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(dir: &Path, port: u16, tls: ServerTls<'_>) -> Self {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            available,
            "python3 with aiosmtpd is required by this test: run scripts/install-test-deps.sh"
        );
        let maildir = dir.join("maildir");
        let log_path = dir.join(format!("aiosmtpd-{port}.log"));
        let mut command = Command::new("python3");
        command.args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")]);
        match tls {
            ServerTls::None => {}
            ServerTls::Starttls(files) => {
                command.arg("--tlscert").arg(&files.cert);
                command.arg("--tlskey").arg(&files.key);
            }
            ServerTls::Implicit(files) => {
                command.arg("--smtpscert").arg(&files.cert);
                command.arg("--smtpskey").arg(&files.key);
            }
        }
        command
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                File::create(&log_path).expect("File::create failed"),
            ))
            .stderr(Stdio::from(
                File::create(&log_path).expect("File::create failed"),
            ));
        let mut server = Self {
            child: command.spawn().expect("spawn failed"),
            maildir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = server.child.try_wait().expect("try_wait failed");
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "aiosmtpd did not start on port {port}: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// The messages received so far, raw.
    fn received(&self) -> Vec<Vec<u8>> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        entries
            .map(|e| {
                std::fs::read(e.expect("a directory entry failed").path()).expect("read failed")
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server on a free port speaking TLS as `mode` says, with a certificate from files made in
/// `dir`; returns them too.
fn tls_server(dir: &Path, mode: SmtpTls) -> (SmtpServer, u16, TlsFiles) {
    let tls = tls_files(dir);
    let port = free_port();
    let server_tls = match mode {
        SmtpTls::Starttls => ServerTls::Starttls(&tls),
        SmtpTls::Implicit => ServerTls::Implicit(&tls),
        SmtpTls::None => ServerTls::None,
    };
    let server = SmtpServer::start(dir, port, server_tls);
    (server, port, tls)
}

fn body_is_stored(conn: &Connection, id: OutboxId) -> bool {
    conn.query_row(
        "SELECT body IS NOT NULL FROM enroll_outbox WHERE id = ?1",
        [id.0],
        |r| r.get(0),
    )
    .expect("query_row failed")
}

#[test]
fn a_mail_queued_while_the_smtp_server_is_down_is_delivered_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let port = free_port();
    let transports = smtp_transports(dir.path(), port, SmtpTls::None, None);
    let id = queue_withdrawal_mail(&mut conn);
    let message_id = outbox::show(&conn, id).unwrap().unwrap().message_id;

    // The server is down: the attempt fails, a retry is scheduled, the body is kept.
    let error = first_attempt_fails(&mut conn, &transports, id);
    assert!(error.starts_with("serveur SMTP"), "{error}");
    assert!(!error.contains("30Z4-A64J"));
    assert!(body_is_stored(&conn, id));

    // Before the backoff has passed nothing is tried, server or not.
    let server = SmtpServer::start(dir.path(), port, ServerTls::None);
    let early = outbox::deliver_due(&mut conn, &transports, T0 + time::Duration::seconds(29));
    assert_eq!(early.unwrap().attempted(), 0);
    assert!(server.received().is_empty());

    // Past the backoff it goes, with the Message-ID drawn at enqueue.
    let later = T0 + time::Duration::seconds(31);
    let detail = second_attempt_delivers(&mut conn, &transports, id, later);
    assert_eq!(detail.summary.delivered_at, Some(later));
    assert_eq!(detail.message_id, message_id);
    assert_eq!(detail.transport, Some(outbox::TransportKind::Smtp));
    assert_eq!(detail.file, None);
    assert!(!body_is_stored(&conn, id));

    // Exactly once, even when the worker runs again.
    let again = outbox::deliver_due(&mut conn, &transports, later + time::Duration::hours(2));
    assert_eq!(again.unwrap().attempted(), 0);
    let received = server.received();
    assert_eq!(received.len(), 1);
    let parsed = mail_parser::MessageParser::default()
        .parse(&received[0])
        .unwrap();
    assert_eq!(format!("<{}>", parsed.message_id().unwrap()), message_id);
    assert_eq!(parsed.subject(), Some(SUBJECT));
    assert_eq!(
        parsed.to().unwrap().first().unwrap().address(),
        Some("v.durand@cabinet-durand.example")
    );
    assert!(parsed
        .body_text(0)
        .unwrap()
        .contains("À l'attention de DURAND Vincent."));
}

#[test]
fn smtp_over_starttls_delivers_to_a_server_whose_certificate_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    // aiosmtpd refuses MAIL FROM before STARTTLS: a delivery proves TLS was negotiated.
    let (server, port, tls) = tls_server(dir.path(), SmtpTls::Starttls);
    let mut conn = database(dir.path());
    let id = queue_withdrawal_mail(&mut conn);

    // Without the server's CA the certificate is refused, and the mail waits.
    let untrusting = smtp_transports(dir.path(), port, SmtpTls::Starttls, None);
    let report = outbox::deliver_due(&mut conn, &untrusting, T0).unwrap();
    assert_eq!(report.failed, 1);
    assert!(server.received().is_empty());
    let error = outbox::show(&conn, id).unwrap().unwrap().summary.last_error;
    assert!(error.unwrap().contains("UnknownIssuer"));

    let trusting = smtp_transports(dir.path(), port, SmtpTls::Starttls, Some(tls.ca.clone()));
    let later = T0 + time::Duration::minutes(1);
    let report = outbox::deliver_due(&mut conn, &trusting, later).unwrap();
    assert_eq!((report.delivered, report.failed), (1, 0));
    assert_eq!(server.received().len(), 1);
    let detail = outbox::show(&conn, id).unwrap().unwrap();
    assert_eq!(detail.summary.status, DeliveryStatus::Delivered);
}

#[test]
fn smtp_over_implicit_tls_delivers() {
    let dir = tempfile::tempdir().unwrap();
    let (server, port, tls) = tls_server(dir.path(), SmtpTls::Implicit);
    let mut conn = database(dir.path());
    queue_withdrawal_mail(&mut conn);
    let transports = smtp_transports(dir.path(), port, SmtpTls::Implicit, Some(tls.ca.clone()));

    let report = outbox::deliver_due(&mut conn, &transports, T0).unwrap();
    assert_eq!((report.delivered, report.failed), (1, 0));
    let received = server.received();
    assert_eq!(received.len(), 1);
    let parsed = mail_parser::MessageParser::default()
        .parse(&received[0])
        .unwrap();
    assert_eq!(parsed.subject(), Some(SUBJECT));
}
