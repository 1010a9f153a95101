//! AC SISERI's signer over a real Unix socket: an `Authority` that holds no key issues,
//! revokes and publishes through it, OpenSSL judging the results; and what the signer refuses,
//! whoever asks (a web-facing process taken over, say): a serial it finds no unsigned record
//! of, bytes other than those recorded, a serial already signed, an OCSP `good` for a revoked
//! certificate, a structure outside the profiles, a message it cannot read.

use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;

use ca::signer::wire::{read_frame, write_frame, Answer, Request, VERSION};
use ca::signer::{SignerClient, SignerService};
use ca::{
    Authority, CaKeyAlgorithm, GeneratedKey, Policy, RevocationReason, Serial, Subject,
    SubscriberKeyAlgorithm,
};
use der::Encode;
use time::OffsetDateTime;

#[path = "support/mod.rs"]
mod support;
use support::{prepare_only, require_tool, text, tool, Fixture, PASSPHRASE};

/// The fixture's CA served by a signer thread on `signer.sock`, and an authority on it that
/// holds no key.
struct Remote {
    f: Fixture,
    socket: PathBuf,
    remote: Authority,
}

fn remote() -> Remote {
    let f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let cert_pem = std::fs::read_to_string(f.path("ca.pem")).expect("ca.pem");
    let key_pem = std::fs::read_to_string(f.path("ca.key.pem")).expect("ca.key.pem");
    let held = Authority::load(&cert_pem, &key_pem, PASSPHRASE, Policy::default())
        .expect("Authority::load failed");
    let (receipt_key, _) = ca::ReceiptKey::generate(PASSPHRASE).expect("receipt key");
    held.install_receipt_key(receipt_key)
        .expect("install_receipt_key failed");
    let service = Arc::new(
        SignerService::new(
            held,
            &f.path("siseri.db"),
            &f.path("signer-audit.db"),
            Arc::new(store::SystemClock),
        )
        .expect("SignerService::new failed"),
    );
    // What the signer process does at start: its receipt certificate, recorded then signed.
    let renewal = service
        .ensure_receipt_certificate(&mut support::open(&f.path("siseri.db")), None)
        .expect("ensure_receipt_certificate failed")
        .expect("a first receipt certificate");
    std::fs::write(f.path("recepisse.pem"), renewal.file_pem).expect("write");
    let socket = f.path("signer.sock");
    let listener = UnixListener::bind(&socket).expect("bind");
    std::thread::spawn(move || service.serve(listener));
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, f.authority.certificate_der());
    let client = SignerClient::connect(&socket, fingerprint.as_ref()).expect("connect");
    let remote = Authority::with_signer(&cert_pem, Policy::default(), client)
        .expect("Authority::with_signer failed");
    Remote { f, socket, remote }
}

fn organisme() -> Subject {
    Subject::Organisme {
        name: "Dosimétrie Exemple".into(),
    }
}

/// One raw request on a fresh connection, as any process that reaches the socket may send.
fn raw(socket: &PathBuf, payload: &[u8]) -> Answer {
    let mut stream = UnixStream::connect(socket).expect("connect");
    write_frame(&mut stream, payload).expect("write");
    let answer = read_frame(&mut stream).expect("read").expect("an answer");
    Answer::decode(&answer).expect("decode")
}

fn refused(answer: Answer, why: &str) {
    match answer {
        Answer::Refused(m) => assert!(m.contains(why), "refused for another reason: {m}"),
        other => panic!("expected a refusal ({why}), got {other:?}"),
    }
}

#[test]
fn an_authority_without_the_key_issues_revokes_and_publishes_through_the_signer() {
    require_tool("openssl");
    let mut r = remote();
    assert!(!r.remote.holds_key());
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).expect("key");
    let now = r.f.now();
    let issued = r
        .remote
        .issue(
            &mut r.f.conn,
            &ca::IssueRequest {
                subject: organisme(),
                key: key.public(),
                requester: "test",
            },
            now,
        )
        .expect("issue through the signer failed");
    let leaf = r.f.path("leaf.pem");
    std::fs::write(&leaf, issued.pem()).expect("write");
    let out = tool("openssl")
        .args(["verify", "-CAfile"])
        .arg(r.f.path("ca.pem"))
        .arg(&leaf)
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{}", text(&out));

    let crl = r
        .remote
        .revoke(
            &mut r.f.conn,
            &issued.serial,
            RevocationReason::KeyCompromise,
            "test",
            now,
        )
        .expect("revoke through the signer failed");
    let crl_path = r.f.path("crl.der");
    std::fs::write(&crl_path, &crl.der).expect("write");
    let out = tool("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-CAfile"])
        .arg(r.f.path("ca.pem"))
        .arg("-in")
        .arg(&crl_path)
        .output()
        .expect("openssl");
    let shown = text(&out);
    assert!(
        out.status.success() && shown.contains("verify OK"),
        "{shown}"
    );
    assert!(
        shown.contains(&issued.serial.to_hex().to_uppercase()),
        "{shown}"
    );

    // Every signature is in the signer's own log, whose chain verifies.
    let audit = rusqlite::Connection::open(r.f.path("signer-audit.db")).expect("audit db");
    let verified = store::audit::verify(&audit).expect("the signer's log does not verify");
    let actions: Vec<String> = audit
        .prepare("SELECT action FROM audit_log ORDER BY seq")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .map(Result::unwrap)
        .collect();
    assert_eq!(verified.entries as usize, actions.len());
    for action in ["signer.certificate", "signer.crl", "signer.ocsp"] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} not in {actions:?}"
        );
    }
}

#[test]
fn the_signer_signs_only_a_recorded_unsigned_serial_with_its_recorded_bytes() {
    let mut r = remote();
    let now = r.f.now();
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).expect("key");
    let a = prepare_only(&r.remote, &mut r.f.conn, organisme(), key.public(), now);
    let b = prepare_only(&r.remote, &mut r.f.conn, organisme(), key.public(), now);
    let tbs_of = |serial: &Serial| -> Vec<u8> {
        r.f.conn
            .query_row(
                "SELECT tbs FROM ca_certificates WHERE serial = ?1",
                [serial.as_bytes()],
                |row| row.get(0),
            )
            .expect("tbs")
    };
    let (tbs_a, tbs_b) = (tbs_of(a.serial()), tbs_of(b.serial()));
    let ask = |serial: &Serial, tbs: &[u8]| {
        raw(
            &r.socket,
            &Request::Certificate {
                serial: serial.as_bytes().to_vec(),
                tbs: tbs.to_vec(),
            }
            .encode(),
        )
    };

    // A serial the database has never seen, with a to-be-signed part that names it.
    let stranger = Serial::random().expect("serial");
    refused(ask(&stranger, &tbs_a), "non enregistré");
    // A recorded serial with another certificate's bytes.
    refused(ask(a.serial(), &tbs_b), "diffère");
    // The recorded pair is signed (the refusals above are not blind)...
    assert!(matches!(ask(a.serial(), &tbs_a), Answer::Signed(_)));
    // ...and once it is marked signed, never again.
    r.remote
        .sign(&mut r.f.conn, &a, now)
        .expect("sign through the signer failed");
    refused(ask(a.serial(), &tbs_a), "déjà signé");
}

#[test]
fn the_signer_never_says_good_of_a_revoked_certificate() {
    let mut r = remote();
    let now = r.f.now();
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).expect("key");
    let issued = r
        .remote
        .issue(
            &mut r.f.conn,
            &ca::IssueRequest {
                subject: organisme(),
                key: key.public(),
                requester: "test",
            },
            now,
        )
        .expect("issue");
    let good = good_response_data(&r.f.authority, &issued.serial, now);
    assert!(
        matches!(
            raw(&r.socket, &Request::Ocsp { tbs: good.clone() }.encode()),
            Answer::Signed(_)
        ),
        "a good answer for a valid certificate must be signed"
    );
    r.remote
        .revoke(
            &mut r.f.conn,
            &issued.serial,
            RevocationReason::KeyCompromise,
            "test",
            now,
        )
        .expect("revoke");
    refused(
        raw(&r.socket, &Request::Ocsp { tbs: good }.encode()),
        "good",
    );
}

#[test]
fn unreadable_foreign_or_out_of_profile_requests_are_refused() {
    let mut r = remote();
    refused(raw(&r.socket, b"\x01"), "illisible");
    refused(raw(&r.socket, &[VERSION + 1, 0]), "version");
    refused(raw(&r.socket, &[VERSION, 42]), "opération");
    // A certificate (not an OCSP ResponseData) through the OCSP door.
    let now = r.f.now();
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).expect("key");
    let p = prepare_only(&r.remote, &mut r.f.conn, organisme(), key.public(), now);
    let tbs: Vec<u8> =
        r.f.conn
            .query_row(
                "SELECT tbs FROM ca_certificates WHERE serial = ?1",
                [p.serial().as_bytes()],
                |row| row.get(0),
            )
            .expect("tbs");
    refused(
        raw(&r.socket, &Request::Ocsp { tbs: tbs.clone() }.encode()),
        "OCSP",
    );
    // The same bytes as a CRL.
    refused(
        raw(
            &r.socket,
            &Request::Crl {
                entries: 0,
                idp: None,
                tbs,
            }
            .encode(),
        ),
        "LCR",
    );
}

#[test]
fn a_certificate_outside_the_profiles_is_refused_by_the_key_holder() {
    let f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let now = f.now();
    let serial = Serial::random().expect("serial");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let profile = |ca: bool, days: i64| {
        let mut params = rcgen::CertificateParams::default();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(serial.as_bytes()));
        params.is_ca = if ca {
            rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained)
        } else {
            rcgen::IsCa::ExplicitNoCa
        };
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now;
        params.not_after = now + time::Duration::days(days);
        to_be_signed(&f, &params, &key)
    };
    // Inside the profile (an organisme's, 3 years): signed, so the checks are not blind.
    assert!(f
        .authority
        .sign_certificate(&profile(false, 365), &serial, now)
        .is_ok());
    for (what, tbs) in [
        ("a CA", profile(true, 365)),
        ("twenty years", profile(false, 20 * 365)),
    ] {
        match f.authority.sign_certificate(&tbs, &serial, now) {
            Err(ca::Error::SignerRefused(_)) => {}
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }
}

#[test]
fn an_operator_certificate_is_issued_through_the_signer_and_carries_the_operator_usage() {
    let mut r = remote();
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).expect("key");
    let now = r.f.now();
    let issued = r
        .remote
        .issue(
            &mut r.f.conn,
            &ca::IssueRequest {
                subject: Subject::Operator {
                    name: "Alice Opératrice".into(),
                    email: "alice@example.org".into(),
                },
                key: key.public(),
                requester: "test",
            },
            now,
        )
        .expect("operator issuance through the signer failed");
    assert_eq!(issued.profile, ca::ProfileKind::Operator);
    let (_, cert) = x509_parser::parse_x509_certificate(&issued.der).expect("parse");
    let eku = cert
        .extended_key_usage()
        .expect("eku")
        .expect("an extended key usage")
        .value;
    assert!(eku.client_auth && !eku.email_protection && !eku.server_auth);
    assert_eq!(eku.other.len(), 1);
    assert_eq!(eku.other[0].as_bytes(), ca::OPERATOR_EKU_DER);
    let days =
        (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp()) / 86_400;
    assert!(days <= i64::from(Policy::default().operator_validity_days) + 1);
}

#[test]
fn a_foreign_private_usage_or_an_operator_usage_beside_e_mail_is_refused_by_the_key_holder() {
    let f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let now = f.now();
    let serial = Serial::random().expect("serial");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let with_ekus = |ekus: Vec<&[u8]>, days: i64| {
        let mut params = rcgen::CertificateParams::default();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(serial.as_bytes()));
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(
            "x@example.org".try_into().expect("ia5"),
        )];
        let mut content = Vec::new();
        for oid in ekus {
            content.push(0x06);
            content.push(u8::try_from(oid.len()).expect("short"));
            content.extend_from_slice(oid);
        }
        let mut der = vec![0x30, u8::try_from(content.len()).expect("short")];
        der.extend(content);
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[2, 5, 29, 37],
                der,
            ));
        params.use_authority_key_identifier_extension = true;
        params.not_before = now;
        params.not_after = now + time::Duration::days(days);
        to_be_signed(&f, &params, &key)
    };
    const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
    const EMAIL: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x04];
    // Another UUID under 2.25 than the operator's.
    let mut foreign = ca::OPERATOR_EKU_DER.to_vec();
    let last = foreign.len() - 1;
    foreign[last] ^= 1;
    // The operator's own: signed, so the checks are not blind.
    assert!(f
        .authority
        .sign_certificate(
            &with_ekus(vec![CLIENT_AUTH, ca::OPERATOR_EKU_DER], 300),
            &serial,
            now
        )
        .is_ok());
    for (what, tbs) in [
        (
            "a foreign private usage",
            with_ekus(vec![CLIENT_AUTH, &foreign], 300),
        ),
        (
            "operator and e-mail",
            with_ekus(vec![CLIENT_AUTH, EMAIL, ca::OPERATOR_EKU_DER], 300),
        ),
        (
            "operator without clientAuth",
            with_ekus(vec![ca::OPERATOR_EKU_DER], 300),
        ),
        (
            "an operator for three years",
            with_ekus(vec![CLIENT_AUTH, ca::OPERATOR_EKU_DER], 3 * 365),
        ),
    ] {
        match f.authority.sign_certificate(&tbs, &serial, now) {
            Err(ca::Error::SignerRefused(_)) => {}
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }
}

/// A récépissé as an ingest would make it.
fn recepisse() -> ca::Recepisse {
    ca::Recepisse {
        number: "RT-2026-000000007".into(),
        received_at: time::macros::datetime!(2026-12-06 10:00:00 UTC),
        file_sha256: "0f".repeat(32),
        sender: ca::ReceiptSender {
            subject: "C=FR, O=SISERI, CN=Dosimétrie Exemple".into(),
            serial: "01AB".into(),
        },
        accepted: 3,
        pending: 1,
        rejected: 1,
        rejected_lines: vec![ca::RejectedLine {
            line: 3,
            reason: "clé du NIR invalide".into(),
        }],
    }
}

#[test]
fn a_recepisse_is_signed_through_the_signer_audited_and_accepted_by_openssl() {
    let r = remote();
    let der = r
        .remote
        .sign_receipt(&recepisse(), r.f.now())
        .expect("sign_receipt through the signer failed");
    assert_eq!(
        ca::verify_receipt(&der, r.f.authority.certificate_der()).expect("verify"),
        recepisse()
    );
    let p7m = r.f.path("r.p7m");
    std::fs::write(&p7m, &der).expect("write");
    let out = tool("openssl")
        .args(["cms", "-verify", "-inform", "DER", "-in"])
        .arg(&p7m)
        .arg("-CAfile")
        .arg(r.f.path("ca.pem"))
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(out.stdout, recepisse().to_signed_bytes().expect("bytes"));

    let audit = rusqlite::Connection::open(r.f.path("signer-audit.db")).expect("audit db");
    store::audit::verify(&audit).expect("the signer's log does not verify");
    let targets: Vec<(String, String)> = audit
        .prepare("SELECT action, target FROM audit_log ORDER BY seq")
        .expect("prepare")
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("query")
        .map(Result::unwrap)
        .collect();
    assert!(
        targets.contains(&("signer.receipt".into(), "RT-2026-000000007".into())),
        "{targets:?}"
    );
    // The receipt certificate itself was signed by the signer, recorded first, and audited.
    assert!(
        targets.iter().any(|(a, _)| a == "signer.certificate"),
        "{targets:?}"
    );
    let profile: String = r
        .f
        .conn
        .query_row(
            "SELECT profile FROM ca_certificates WHERE profile = 'receipt' AND status = 'issued'",
            [],
            |row| row.get(0),
        )
        .expect("a receipt certificate recorded");
    assert_eq!(profile, "receipt");
}

#[test]
fn the_signer_refuses_a_malformed_or_non_canonical_recepisse() {
    let r = remote();
    let good = recepisse().to_signed_bytes().expect("bytes");
    let text_of = String::from_utf8(good.clone()).expect("utf-8");
    let request = |document: Vec<u8>| Request::Receipt { document }.encode();
    // Counts that do not match the listed lines.
    let miscounted = text_of.replace("\"rejected\":1", "\"rejected\":2");
    refused(raw(&r.socket, &request(miscounted.into_bytes())), "diffère");
    // A field nobody defined, or the same récépissé with spaces: not what the signer signs.
    let extra = text_of.replacen('{', "{\"signature\":\"ok\",", 1);
    refused(raw(&r.socket, &request(extra.into_bytes())), "illisible");
    let spaced = text_of.replace(",\"", ", \"");
    refused(raw(&r.socket, &request(spaced.into_bytes())), "canonique");
    let short_hash = text_of.replace(&"0f".repeat(32), "0f");
    refused(raw(&r.socket, &request(short_hash.into_bytes())), "SHA-256");
    // The canonical one is signed: the refusals are not blind.
    match raw(&r.socket, &request(good)) {
        Answer::Signed(der) => {
            ca::verify_receipt(&der, r.f.authority.certificate_der()).expect("verify");
        }
        other => panic!("expected a signature, got {other:?}"),
    }
}

#[test]
fn the_signer_stops_signing_recepisses_as_soon_as_their_certificate_is_revoked() {
    let mut r = remote();
    let now = r.f.now();
    assert!(r.remote.sign_receipt(&recepisse(), now).is_ok());
    let serial: String =
        r.f.conn
            .query_row(
                "SELECT serial_hex FROM ca_certificates WHERE profile = 'receipt'",
                [],
                |row| row.get(0),
            )
            .expect("a receipt certificate");
    r.f.revoke(
        &serial.parse().expect("serial"),
        RevocationReason::KeyCompromise,
    )
    .expect("revoke");
    // No periodic check ran: the signer reads the revocation before it signs.
    match r.remote.sign_receipt(&recepisse(), now) {
        Err(ca::Error::SignerRefused(why)) => assert!(why.contains("révoqué"), "{why}"),
        other => panic!("expected a refusal, got {:?}", other.map(|der| der.len())),
    }
}

#[test]
fn the_receipt_profile_is_signed_and_its_variants_are_refused_by_the_key_holder() {
    let f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let now = f.now();
    let serial = Serial::random().expect("serial");
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    use rcgen::{ExtendedKeyUsagePurpose as Eku, KeyUsagePurpose as Ku};
    let receipt = |kus: Vec<Ku>, ekus: Vec<Eku>, cn: &str, san: bool, days: i64| {
        let mut params = rcgen::CertificateParams::default();
        params.serial_number = Some(rcgen::SerialNumber::from_slice(serial.as_bytes()));
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params.key_usages = kus;
        params.extended_key_usages = ekus;
        if san {
            params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(
                "x@example.org".try_into().expect("ia5"),
            )];
        }
        params.use_authority_key_identifier_extension = true;
        params.not_before = now;
        params.not_after = now + time::Duration::days(days);
        to_be_signed(&f, &params, &key)
    };
    let ds_nr = || vec![Ku::DigitalSignature, Ku::ContentCommitment];
    let email = || vec![Eku::EmailProtection];
    let name = ca::RECEIPT_COMMON_NAME;
    // The profile itself: signed, so the checks are not blind.
    assert!(f
        .authority
        .sign_certificate(&receipt(ds_nr(), email(), name, false, 365), &serial, now)
        .is_ok());
    for (what, tbs) in [
        (
            "without nonRepudiation",
            receipt(vec![Ku::DigitalSignature], email(), name, false, 365),
        ),
        (
            "with clientAuth",
            receipt(
                ds_nr(),
                vec![Eku::EmailProtection, Eku::ClientAuth],
                name,
                false,
                365,
            ),
        ),
        (
            "without any EKU",
            receipt(ds_nr(), vec![], name, false, 365),
        ),
        (
            "another name",
            receipt(ds_nr(), email(), "AC SISERI", false, 365),
        ),
        (
            "with an e-mail SAN",
            receipt(ds_nr(), email(), name, true, 365),
        ),
        (
            "for three years",
            receipt(ds_nr(), email(), name, false, 3 * 365),
        ),
        (
            "an organisme with nonRepudiation",
            receipt(ds_nr(), vec![Eku::ClientAuth], name, false, 365),
        ),
        (
            "with keyEncipherment",
            receipt(
                vec![
                    Ku::DigitalSignature,
                    Ku::ContentCommitment,
                    Ku::KeyEncipherment,
                ],
                email(),
                name,
                false,
                365,
            ),
        ),
    ] {
        match f.authority.sign_certificate(&tbs, &serial, now) {
            Err(ca::Error::SignerRefused(_)) => {}
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
    }
}

/// rcgen signs as it serialises: the TBSCertificate is what its signer is given.
fn to_be_signed(f: &Fixture, params: &rcgen::CertificateParams, key: &rcgen::KeyPair) -> Vec<u8> {
    struct Capture {
        public: Vec<u8>,
        tbs: std::sync::Mutex<Vec<u8>>,
    }
    impl rcgen::PublicKeyData for Capture {
        fn der_bytes(&self) -> &[u8] {
            &self.public
        }
        fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
            &rcgen::PKCS_ECDSA_P256_SHA256
        }
    }
    impl rcgen::SigningKey for Capture {
        fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
            *self.tbs.lock().expect("lock") = msg.to_vec();
            Ok(Vec::new())
        }
    }
    let (_, ca) = x509_parser::parse_x509_certificate(f.authority.certificate_der()).expect("ca");
    let capture = Capture {
        public: ca.public_key().subject_public_key.data.to_vec(),
        tbs: Default::default(),
    };
    let issuer =
        rcgen::Issuer::from_ca_cert_der(&f.authority.certificate_der().to_vec().into(), &capture)
            .expect("issuer");
    params.signed_by(key, &issuer).expect("signed_by");
    let tbs = capture.tbs.lock().expect("lock").clone();
    tbs
}

/// An OCSP ResponseData saying `good` of `serial`, with AC SISERI as responder (by key).
fn good_response_data(ca: &Authority, serial: &Serial, now: OffsetDateTime) -> Vec<u8> {
    use der::asn1::{GeneralizedTime, Null, OctetString};
    use x509_ocsp::{
        CertId, CertStatus, OcspGeneralizedTime, ResponderId, ResponseData, SingleResponse,
    };
    let (_, cert) = x509_parser::parse_x509_certificate(ca.certificate_der()).expect("ca");
    let key = cert.public_key().subject_public_key.data.to_vec();
    let sha1 = |b: &[u8]| {
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, b)
            .as_ref()
            .to_vec()
    };
    let when = OcspGeneralizedTime::from(
        GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(
            now.unix_timestamp() as u64
        ))
        .expect("time"),
    );
    let data = ResponseData {
        version: Default::default(),
        responder_id: ResponderId::ByKey(OctetString::new(sha1(&key)).expect("octets")),
        produced_at: when,
        responses: vec![SingleResponse {
            cert_id: CertId {
                hash_algorithm: x509_cert::spki::AlgorithmIdentifierOwned {
                    oid: der::oid::db::rfc5912::ID_SHA_1,
                    parameters: Some(Null.into()),
                },
                issuer_name_hash: OctetString::new(sha1(cert.subject().as_raw())).expect("o"),
                issuer_key_hash: OctetString::new(sha1(&key)).expect("o"),
                serial_number: x509_cert::serial_number::SerialNumber::new(serial.as_bytes())
                    .expect("serial"),
            },
            cert_status: CertStatus::good(),
            this_update: when,
            next_update: None,
            single_extensions: None,
        }],
        response_extensions: None,
    };
    data.to_der().expect("to_der")
}
