//! The registry listener, judged by curl (OpenSSL) and by a rustls client: only AC SISERI
//! certificates that are neither revoked nor expired get in, at the handshake and at every
//! request; the access code locks after five failures, across restarts; a session belongs to
//! the certificate it was opened with.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ca::{GeneratedKey, IssueRequest, SubscriberKeyAlgorithm};
use common::enrolment::{authority, enrolled, Holder};
use common::fixtures::PROTOCOL as SEED;
use common::mail::{outbox_files, read_mails};
use common::{os, require_tool, run_ok, Sandbox};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use store::Clock;

/// curl to the registry; returns (exit code, HTTP status or 0, body).
fn curl(sb: &Sandbox, registry: &str, path: &str, extra: &[&str]) -> (i32, u16, String) {
    let out = std::process::Command::new(require_tool("curl"))
        .args([
            "-sS",
            "--max-time",
            "20",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(sb.data_file("ca/ac-siseri.pem"))
        .args(extra)
        .arg(format!("https://{registry}{path}"))
        .output()
        .expect("output failed");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (
        out.status.code().unwrap_or(-1),
        status.trim().parse().unwrap_or(0),
        body.to_owned(),
    )
}

fn with_p12(h: &Holder) -> Vec<String> {
    vec![
        "--cert".into(),
        format!("{}:{}", h.p12.display(), h.password),
        "--cert-type".into(),
        "P12".into(),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn the_handshake_is_refused_without_a_certificate_with_another_cas_and_with_an_expired_one() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);

    // A certificate of AC SISERI, but expired: issued four years ago for three years.
    let authority = authority(&sb);
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
    let mut conn = store::pool::open(&sb.data_file("siseri.db")).unwrap();
    let past = store::SystemClock.now() - time::Duration::days(4 * 365);
    let expired = authority
        .issue(
            &mut conn,
            &IssueRequest {
                subject: ca::Subject::Person {
                    first_name: "Vincent".into(),
                    last_name: "DURAND".into(),
                    habilitation: u64::from(holders[0].habilitation),
                    email: "v.durand@cabinet-durand.example".into(),
                },
                key: key.public(),
                requester: "test",
            },
            past,
        )
        .unwrap();
    let expired_pem = sb.path("expired.pem");
    let expired_key = sb.path("expired.key.pem");
    std::fs::write(&expired_pem, expired.pem()).unwrap();
    std::fs::write(&expired_key, ca::to_pem("PRIVATE KEY", key.pkcs8_der())).unwrap();

    // A certificate of another CA, with the same names and clientAuth.
    let other_ca = sb.path("other-ca.pem");
    let other_key = sb.path("other-ca.key");
    let openssl = require_tool("openssl");
    run_ok(
        std::process::Command::new(&openssl)
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args([
                "-subj",
                "/C=FR/O=SISERI/CN=AC SISERI",
                "-days",
                "30",
                "-keyout",
            ])
            .arg(&other_key)
            .arg("-out")
            .arg(&other_ca)
            .args([
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]),
    );
    let leaf_key = sb.path("other-leaf.key");
    let leaf_csr = sb.path("other-leaf.csr");
    let leaf = sb.path("other-leaf.pem");
    run_ok(
        std::process::Command::new(&openssl)
            .args([
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
            ])
            .args(["-subj", "/CN=Vincent DURAND 42000", "-keyout"])
            .arg(&leaf_key)
            .arg("-out")
            .arg(&leaf_csr),
    );
    let ext = sb.path("ext.cnf");
    std::fs::write(
        &ext,
        "[v3]\nextendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    run_ok(
        std::process::Command::new(&openssl)
            .args(["x509", "-req", "-days", "30", "-in"])
            .arg(&leaf_csr)
            .arg("-CA")
            .arg(&other_ca)
            .arg("-CAkey")
            .arg(&other_key)
            .args(["-CAcreateserial", "-extensions", "v3", "-extfile"])
            .arg(&ext)
            .arg("-out")
            .arg(&leaf),
    );

    let (_server, registry) = sb.serve_registry("serve.log");
    let (code, _, _) = curl(&sb, &registry, "/healthz", &[]);
    assert_ne!(code, 0, "no certificate must be refused at the handshake");
    let (code, _, _) = curl(
        &sb,
        &registry,
        "/healthz",
        &[
            "--cert",
            leaf.to_str().unwrap(),
            "--key",
            leaf_key.to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0, "another CA's certificate must be refused");
    let (code, _, _) = curl(
        &sb,
        &registry,
        "/healthz",
        &[
            "--cert",
            expired_pem.to_str().unwrap(),
            "--key",
            expired_key.to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0, "an expired certificate must be refused");
    let (code, status, body) = curl(&sb, &registry, "/healthz", &args(&with_p12(&holders[0])));
    assert_eq!((code, status), (0, 200), "{body}");
}

#[test]
fn a_certificate_revoked_by_the_cli_is_refused_at_the_next_handshakes() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, registry) = sb.serve_registry("serve.log");
    let pcr = &holders[2];
    let (code, status, _) = curl(&sb, &registry, "/healthz", &args(&with_p12(pcr)));
    assert_eq!((code, status), (0, 200));
    run_ok(&mut sb.siseri([
        os("accessor"),
        os("revoke"),
        os(&pcr.habilitation.to_string()),
        os("--reason"),
        os("keyCompromise"),
    ]));
    // The listener follows the database every 200 ms; the bound here is only a liveness limit.
    let start = Instant::now();
    loop {
        let (code, _, _) = curl(&sb, &registry, "/healthz", &args(&with_p12(pcr)));
        if code != 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "still accepted after revocation"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Others still get in.
    let (code, status, _) = curl(&sb, &registry, "/healthz", &args(&with_p12(&holders[0])));
    assert_eq!((code, status), (0, 200));
}

/// A rustls client that keeps its TLS 1.3 session tickets, to resume.
fn tls13_client(sb: &Sandbox, h: &Holder) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(sb.data_file("ca/ac-siseri.pem")).expect("CA PEM") {
        roots.add(c.expect("CA certificate")).expect("root");
    }
    let (cert_pem, key_pem) = h.pem_files(sb);
    let chain: Vec<_> = CertificateDer::pem_file_iter(&cert_pem)
        .expect("certificate PEM")
        .map(|c| c.expect("certificate"))
        .collect();
    let key = PrivateKeyDer::from_pem_file(&key_pem).expect("key PEM");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .expect("TLS 1.3")
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .expect("client certificate");
    Arc::new(config)
}

/// One connection, one `GET path`: (handshake resumed?, HTTP status).
fn get(config: &Arc<rustls::ClientConfig>, addr: &str, path: &str) -> std::io::Result<(bool, u16)> {
    let tcp = std::net::TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
    let name =
        rustls::pki_types::ServerName::try_from("127.0.0.1").expect("ServerName::try_from failed");
    let conn =
        rustls::ClientConnection::new(config.clone(), name).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )?;
    let mut response = Vec::new();
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        // Servers may close without close_notify; what was read is enough.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => return Err(e),
    }
    let resumed = tls.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((resumed, status))
}

#[test]
fn a_tls13_session_resumed_after_a_revocation_gets_nothing() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, registry) = sb.serve_registry("serve.log");
    let mdt = &holders[1];
    let client = tls13_client(&sb, mdt);
    let (resumed, status) = get(&client, &registry, "/healthz").unwrap();
    assert!(!resumed);
    assert_eq!(status, 200);
    run_ok(&mut sb.siseri([
        os("accessor"),
        os("revoke"),
        os(&mdt.habilitation.to_string()),
        os("--reason"),
        os("affiliationChanged"),
    ]));
    // Wait until a fresh handshake is refused: the revocation is known to the listener.
    let fresh = tls13_client(&sb, mdt);
    let start = Instant::now();
    while matches!(get(&fresh, &registry, "/healthz"), Ok((_, 200))) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "revocation never seen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The resumed session skips the handshake's verifier: the request-level check refuses it.
    let (resumed, status) = get(&client, &registry, "/healthz").unwrap();
    assert!(
        resumed,
        "the client should have resumed its TLS 1.3 session"
    );
    assert_eq!(status, 403);
}

fn login(sb: &Sandbox, registry: &str, h: &Holder, code: &str, jar: &str) -> (u16, String) {
    let body = format!("{{\"access_code\":\"{code}\"}}");
    let mut a = with_p12(h);
    a.extend(
        [
            "-H",
            "Content-Type: application/json",
            "-d",
            &body,
            "-c",
            jar,
            "-b",
            jar,
        ]
        .map(String::from),
    );
    let (c, status, text) = curl(sb, registry, "/api/v1/session", &args(&a));
    assert_eq!(c, 0, "{text}");
    (status, text)
}

#[test]
fn five_wrong_access_codes_lock_the_access_across_a_restart_until_an_operator_resets_it() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let cse = &holders[0];
    let jar = sb.path("jar").display().to_string();
    let wrong = if cse.access_code == "0000" {
        "1111"
    } else {
        "0000"
    };
    {
        let (_server, registry) = sb.serve_registry("serve1.log");
        for left in (1..=4).rev() {
            let (status, body) = login(&sb, &registry, cse, wrong, &jar);
            assert_eq!(status, 401, "{body}");
            assert!(
                body.contains(&format!("\"attempts_left\":{left}")),
                "{body}"
            );
        }
        let (status, body) = login(&sb, &registry, cse, wrong, &jar);
        assert_eq!(status, 423, "{body}");
    }
    let (_server, registry) = sb.serve_registry("serve2.log");
    let (status, body) = login(&sb, &registry, cse, &cse.access_code, &jar);
    assert_eq!(
        status, 423,
        "still locked after a restart, even with the right code: {body}"
    );
    run_ok(&mut sb.siseri([
        os("accessor"),
        os("reset-code"),
        os(&cse.habilitation.to_string()),
    ]));
    // The CLI delivered the new code to the file outbox: the latest e-mail to this person.
    let mails = outbox_files(&sb.data_file("outbox/mail"), "eml");
    let newest = mails.last().expect("no e-mail in the outbox");
    let mail = read_mails(std::slice::from_ref(newest)).remove(0);
    let code = mail
        .access_code
        .clone()
        .unwrap_or_else(|| panic!("{mail:#?}"));
    let (status, body) = login(&sb, &registry, cse, &code, &jar);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&cse.habilitation.to_string()));
}

#[test]
fn a_session_is_refused_over_another_certificate_and_ends_at_logout() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, registry) = sb.serve_registry("serve.log");
    let jar = sb.path("jar").display().to_string();
    let (status, body) = login(&sb, &registry, &holders[0], &holders[0].access_code, &jar);
    assert_eq!(status, 200, "{body}");
    let mut own = with_p12(&holders[0]);
    own.extend(["-b", &jar].map(String::from));
    let (_, status, body) = curl(&sb, &registry, "/api/v1/establishments", &args(&own));
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Cabinet dentaire du Dr DURAND Vincent"),
        "{body}"
    );
    assert!(body.contains("\"role\":\"CSE\""), "{body}");

    let mut other = with_p12(&holders[1]);
    other.extend(["-b", &jar].map(String::from));
    let (_, status, body) = curl(&sb, &registry, "/api/v1/establishments", &args(&other));
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("session_certificate_mismatch"), "{body}");

    // Someone else's establishment id answers like a missing one.
    let (_, status, _) = curl(&sb, &registry, "/api/v1/establishments/999", &args(&own));
    assert_eq!(status, 404);

    let mut out = with_p12(&holders[0]);
    out.extend(["-X", "DELETE", "-b", &jar, "-c", &jar].map(String::from));
    let (_, status, _) = curl(&sb, &registry, "/api/v1/session", &args(&out));
    assert_eq!(status, 204);
    let (_, status, _) = curl(&sb, &registry, "/api/v1/establishments", &args(&own));
    assert_eq!(status, 401);
}
