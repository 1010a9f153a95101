//! Récépissés de transmission (issue 16 §2) signed by a real `siseri signer` process: OpenSSL
//! (`openssl cms -verify`, an implementation other than ours) and `siseri recepisse verify`
//! accept the receipt as signed and print its JSON byte for byte; both refuse it once one byte
//! of its content or of its signature changed, or against another AC SISERI; the signer
//! refuses a récépissé that is malformed, miscounted or not in its canonical form, whoever
//! reaches its socket; and the receipt key, were it stolen, opens neither mutual-TLS listener
//! (its certificate's only extended key usage is emailProtection).

mod common;

use std::io::{BufRead, BufReader};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::time::{Duration, Instant};

use ca::signer::wire::{read_frame, write_frame, Answer, Request};
use ca::signer::SignerClient;
use ca::{Authority, Recepisse};
use common::daemon::{curl, Daemon};
use common::{openssl, openssl_ok, os, run_fail, run_ok, stdout, Sandbox, PASSPHRASE};
use siseri::datadir::DataDir;

/// `siseri signer` on a socket of the sandbox, tied to the test by its standard input.
struct SignerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    socket: PathBuf,
}

impl Drop for SignerProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

fn start_signer(sb: &Sandbox) -> SignerProcess {
    let socket = sb.path("s.sock");
    let mut child = common::siseri(&sb.data())
        .arg("signer")
        .arg("--socket")
        .arg(&socket)
        .arg("--tied")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("siseri signer");
    let stdin = child.stdin.take();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read_line");
    assert_eq!(line.trim(), "signataire prêt");
    // The receipt key is made, and its certificate issued, just after the signer listens.
    wait_for(&sb.data_file("ca/recepisse.pem"));
    SignerProcess {
        child,
        stdin,
        socket,
    }
}

fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// AC SISERI as a web-facing process sees it: no key, every signature asked of the signer.
fn asker(sb: &Sandbox, signer: &SignerProcess) -> Authority {
    let dir = DataDir::new(sb.data());
    let pem = std::fs::read_to_string(dir.ca_cert()).expect("ca cert");
    let der = pem::parse(&pem).expect("pem").into_contents();
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der);
    let client = SignerClient::connect(&signer.socket, fingerprint.as_ref()).expect("connect");
    let config = dir.load_config().expect("config");
    let authority = Authority::with_signer(&pem, config.policy(), client).expect("with_signer");
    assert!(!authority.holds_key());
    authority
}

fn recepisse() -> Recepisse {
    Recepisse {
        number: "RT-2026-000000042".into(),
        received_at: time::macros::datetime!(2026-12-06 09:30:00 UTC),
        file_sha256: "5e".repeat(32),
        sender: ca::ReceiptSender {
            subject: "C=FR, O=SISERI, CN=Laboratoire de dosimétrie".into(),
            serial: "4A0B7C".into(),
        },
        accepted: 3,
        pending: 1,
        rejected: 2,
        rejected_lines: vec![
            ca::RejectedLine {
                line: 3,
                reason: "clé du NIR invalide".into(),
            },
            ca::RejectedLine {
                line: 6,
                reason: "nom différent de celui du travailleur déclaré".into(),
            },
        ],
    }
}

fn cms_verify(sb: &Sandbox, p7m: &Path, ca: &Path) -> std::process::Output {
    let _ = sb;
    openssl([
        os("cms"),
        os("-verify"),
        os("-inform"),
        os("DER"),
        os("-in"),
        p7m.into(),
        os("-CAfile"),
        ca.into(),
    ])
}

/// `der` with the last byte of the first occurrence of `needle` changed.
fn flipped(der: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = der
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in the récépissé");
    let mut out = der.to_vec();
    out[at + needle.len() - 1] ^= 0x01;
    out
}

#[test]
fn a_recepisse_from_the_signer_process_verifies_with_openssl_and_siseri_and_a_tampered_one_does_not(
) {
    let sb = Sandbox::initialised();
    let signer = start_signer(&sb);
    let der = asker(&sb, &signer)
        .sign_receipt(&recepisse(), time::OffsetDateTime::now_utc())
        .expect("sign_receipt through the signer process failed");
    let ca = sb.data_file("ca/ac-siseri.pem");
    let p7m = sb.path("r.p7m");
    std::fs::write(&p7m, &der).expect("write");

    // OpenSSL: no `-purpose any`, the receipt profile passes its S/MIME signing purpose.
    let out = cms_verify(&sb, &p7m, &ca);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, recepisse().to_signed_bytes().expect("bytes"));

    let shown = stdout(&run_ok(&mut sb.siseri([
        os("recepisse"),
        os("verify"),
        p7m.clone().into(),
    ])));
    for expected in [
        "récépissé valide : RT-2026-000000042",
        "reçu le 06/12/2026 à 09:30:00 UTC",
        "lignes acceptées : 3",
        "lignes en attente : 1",
        "lignes refusées : 2",
        "ligne 6 : nom différent de celui du travailleur déclaré",
        "Laboratoire de dosimétrie (certificat n° 4A0B7C)",
    ] {
        assert!(shown.contains(expected), "{expected:?} not in:\n{shown}");
    }

    // The PEM form OpenSSL writes (`-----BEGIN CMS-----`) is read too.
    let pem_form = sb.path("r.pem");
    common::openssl_ok([
        os("cms"),
        os("-cmsout"),
        os("-inform"),
        os("DER"),
        os("-in"),
        p7m.clone().into(),
        os("-outform"),
        os("PEM"),
        os("-out"),
        pem_form.clone().into(),
    ]);
    let shown = stdout(&run_ok(&mut sb.siseri([
        os("recepisse"),
        os("verify"),
        pem_form.into(),
    ])));
    assert!(
        shown.contains("récépissé valide : RT-2026-000000042"),
        "{shown}"
    );

    // Tampered: one byte of the content ("accepted":3 becomes 2), one of the signature (the
    // last byte of the DER), and the genuine one against another AC SISERI.
    let other = Sandbox::initialised();
    let other_ca = other.data_file("ca/ac-siseri.pem");
    let mut signature = der.clone();
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    for (what, bytes, ca) in [
        ("content", flipped(&der, b"\"accepted\":3"), &ca),
        ("signature", signature, &ca),
        ("another CA", der.clone(), &other_ca),
    ] {
        let path = sb.path(&format!("tampered-{}.p7m", what.replace(' ', "-")));
        std::fs::write(&path, &bytes).expect("write");
        let out = cms_verify(&sb, &path, ca);
        assert!(!out.status.success(), "OpenSSL accepted the {what}");
        let (code, stderr) = run_fail(&mut sb.siseri([
            os("recepisse"),
            os("verify"),
            path.clone().into(),
            os("--ca"),
            ca.into(),
        ]));
        assert_eq!(code, 1, "{what}: {stderr}");
        assert!(
            stderr.contains("n'est pas un récépissé valide"),
            "{what}: {stderr}"
        );
    }
    // Garbage is refused in French too, without a panic.
    let junk = sb.path("junk.p7m");
    std::fs::write(&junk, b"<html>\x1b[31m").expect("write");
    let (code, stderr) = run_fail(&mut sb.siseri([os("recepisse"), os("verify"), junk.into()]));
    assert_eq!(code, 1);
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

/// One raw request to the signer, as any process reaching its socket may send it.
fn raw(socket: &Path, document: Vec<u8>) -> Answer {
    let mut stream = UnixStream::connect(socket).expect("connect");
    write_frame(&mut stream, &Request::Receipt { document }.encode()).expect("write");
    let answer = read_frame(&mut stream).expect("read").expect("an answer");
    Answer::decode(&answer).expect("decode")
}

#[test]
fn the_signer_process_refuses_a_malformed_miscounted_or_non_canonical_recepisse() {
    let sb = Sandbox::initialised();
    let signer = start_signer(&sb);
    let good = String::from_utf8(recepisse().to_signed_bytes().expect("bytes")).expect("utf-8");
    for (what, document) in [
        (
            "miscounted",
            good.replace("\"rejected\":2", "\"rejected\":1"),
        ),
        ("padded", good.replace(",\"", ", \"")),
        (
            "an unknown field",
            good.replacen('{', "{\"valid\":true,", 1),
        ),
        ("a bad number", good.replace("RT-2026-", "RT-26-")),
        ("not JSON", "<récépissé/>".to_owned()),
    ] {
        match raw(&signer.socket, document.into_bytes()) {
            Answer::Refused(why) => assert!(!why.is_empty(), "{what}"),
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }
    // The same channel signs the canonical one: the refusals are not blind.
    match raw(&signer.socket, good.into_bytes()) {
        Answer::Signed(der) => {
            let ca = std::fs::read(sb.data_file("ca/ac-siseri.pem")).expect("ca");
            let ca = pem::parse(ca).expect("pem").into_contents();
            assert_eq!(ca::verify_receipt(&der, &ca).expect("verify"), recepisse());
        }
        other => panic!("expected a signature, got {other:?}"),
    }
}

#[test]
fn a_stolen_receipt_key_opens_neither_the_registry_nor_the_console() {
    let d = Daemon::start(&[]);
    let sb = &d.sandbox;
    wait_for(&sb.data_file("ca/recepisse.pem"));
    // The thief's copy: the key decrypted, the certificate in force (the file's first).
    let key = sb.path("stolen.key.pem");
    openssl_ok([
        os("pkey"),
        os("-in"),
        sb.data_file("ca/recepisse.key.pem").into(),
        os("-passin"),
        os(&format!("pass:{PASSPHRASE}")),
        os("-out"),
        key.clone().into(),
    ]);
    let cert = sb.path("stolen.pem");
    openssl_ok([
        os("x509"),
        os("-in"),
        sb.data_file("ca/recepisse.pem").into(),
        os("-out"),
        cert.clone().into(),
    ]);
    let as_thief = vec![
        "--cert".to_owned(),
        cert.display().to_string(),
        "--key".to_owned(),
        key.display().to_string(),
    ];
    for (n, base) in [(1, &d.registry), (2, &d.console)] {
        let reply = curl(sb, &d.ca, n, "GET", &format!("{base}/"), &as_thief, None);
        assert!(
            reply.exit != 0 && reply.status == 0,
            "{base} answered the receipt certificate: exit {}, HTTP {}",
            reply.exit,
            reply.status
        );
    }
    // A dosimetry body's certificate from the same AC gets an HTTP answer from the registry:
    // the refusal above is the handshake's, not a dead listener's.
    let (leaf, _) = sb.issue_organisme_from_csr("labo", "Laboratoire");
    let body = vec![
        "--cert".to_owned(),
        leaf.display().to_string(),
        "--key".to_owned(),
        sb.path("labo.key.pem").display().to_string(),
    ];
    let reply = curl(
        sb,
        &d.ca,
        3,
        "GET",
        &format!("{}/", d.registry),
        &body,
        None,
    );
    assert!(reply.status != 0, "exit {}", reply.exit);
}

/// The serial (upper-case hexadecimal) of the receipt certificate in force.
fn receipt_serial(sb: &Sandbox) -> String {
    common::serial_of(&sb.data_file("ca/recepisse.pem"))
}

#[test]
fn a_revoked_receipt_certificate_stops_the_signer_at_once_and_its_key_is_replaced() {
    let sb = Sandbox::initialised();
    let first = start_signer(&sb);
    let before = asker(&sb, &first)
        .sign_receipt(&recepisse(), time::OffsetDateTime::now_utc())
        .expect("sign_receipt");
    let revoked = receipt_serial(&sb);
    run_ok(&mut sb.siseri(["cert", "revoke", &revoked, "--reason", "keyCompromise"]));
    // The running signer reads the revocation before its next récépissé.
    match asker(&sb, &first).sign_receipt(&recepisse(), time::OffsetDateTime::now_utc()) {
        Err(ca::Error::SignerRefused(why)) => assert!(why.contains("révoqué"), "{why}"),
        other => panic!("expected a refusal, got {:?}", other.map(|d| d.len())),
    }
    drop(first);
    // At its next start, a new key (the old one kept aside) and a certificate for it.
    let old_key = std::fs::read(sb.data_file("ca/recepisse.key.pem")).expect("key");
    let second = start_signer(&sb);
    assert_eq!(
        std::fs::read(sb.data_file("ca/recepisse.key.pem.revoquee")).expect("kept aside"),
        old_key
    );
    assert_ne!(receipt_serial(&sb), revoked);
    let after = asker(&sb, &second)
        .sign_receipt(&recepisse(), time::OffsetDateTime::now_utc())
        .expect("sign_receipt with the new key");
    let ca = pem::parse(std::fs::read(sb.data_file("ca/ac-siseri.pem")).expect("ca"))
        .expect("pem")
        .into_contents();
    let serial = ca::verify_receipt_signed(&after, &ca)
        .expect("verify")
        .certificate_serial;
    assert_ne!(serial.to_hex(), revoked);
    // The récépissé signed before the revocation still says what it said (signature time
    // inside the certificate's validity); revocation is for relying parties' CRL checks.
    assert!(ca::verify_receipt(&before, &ca).is_ok());
}
