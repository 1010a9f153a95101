//! The OCSP responder judged by other implementations: OpenSSL 3 builds the requests
//! (`openssl ocsp -reqout`) and checks the responses (signature, statuses, nonce), and Python
//! `cryptography` reads them. Installed by `scripts/test.sh`; a missing tool fails loudly.
//! Both ways of answering are checked: signed per request (`answer_ocsp`, the baseline) and
//! signed ahead (`OcspResponder`, what the daemon serves).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ::time::OffsetDateTime;
use ca::{
    CaKeyAlgorithm, GeneratedKey, IssueRequest, Issued, OcspOutcome, OcspResponder, Policy,
    RevocationReason, Subject, SubscriberKeyAlgorithm, OCSP_VALIDITY,
};

#[path = "support/mod.rs"]
mod support;
use support::{prepare_only, require, text, tool, Fixture};

impl Fixture {
    /// Issues an organisme certificate and writes it to `name`.
    fn issue(&mut self, name: &str) -> (Issued, PathBuf) {
        let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256)
            .expect("GeneratedKey::generate failed");
        let now = self.now();
        let issued = self
            .authority
            .issue(
                &mut self.conn,
                &IssueRequest {
                    subject: Subject::Organisme {
                        name: "Dosimétrie Exemple".into(),
                    },
                    key: key.public(),
                    requester: "test",
                },
                now,
            )
            .expect("issue failed");
        let path = self.path(name);
        std::fs::write(&path, issued.pem()).expect("write failed");
        (issued, path)
    }

    /// `openssl ocsp -reqout`: the request OpenSSL makes for `target` (`-cert FILE` or
    /// `-serial 0x…`, with any extra options such as `-sha256` or `-no_nonce`).
    fn request(&self, name: &str, target: &[&str]) -> PathBuf {
        let req = self.path(&format!("{name}.req.der"));
        let mut cmd = openssl();
        cmd.args(["ocsp", "-issuer"])
            .arg(self.path("ca.pem"))
            .args(target)
            .arg("-reqout")
            .arg(&req);
        ok(cmd);
        req
    }

    /// Our answer to the request file, written next to it.
    fn answer(&self, req: &Path) -> PathBuf {
        let reply = self.authority.answer_ocsp(
            &self.conn,
            &std::fs::read(req).expect("read failed"),
            OffsetDateTime::now_utc(),
        );
        assert_eq!(reply.outcome, OcspOutcome::Successful);
        let resp = req.with_extension("resp");
        std::fs::write(&resp, &reply.der).expect("write failed");
        resp
    }

    /// The answer signed ahead (served from storage) to the request file, written next to it.
    fn answer_ahead(&self, req: &Path) -> PathBuf {
        let responder = OcspResponder::new(self.authority.certificate_der()).expect("responder");
        let reply = responder.answer(
            &self.conn,
            &std::fs::read(req).expect("read failed"),
            OffsetDateTime::now_utc(),
            &self.authority,
        );
        assert_eq!(reply.outcome, OcspOutcome::Successful);
        let resp = req.with_extension("ahead.resp");
        std::fs::write(&resp, &reply.der).expect("write failed");
        resp
    }

    /// `openssl ocsp -reqin -respin`: checks the signature against `trust` (with `how`:
    /// `-CAfile` or `-VAfile`) and the nonce against the request, and prints the response.
    /// (Giving `-cert` here would make OpenSSL build a new request and ignore `-reqin`.)
    fn check(&self, req: &Path, resp: &Path, how: &str, trust: &Path) -> Output {
        let mut cmd = openssl();
        cmd.args(["ocsp", "-reqin"])
            .arg(req)
            .arg("-respin")
            .arg(resp)
            .arg("-resp_text")
            .arg(how)
            .arg(trust);
        cmd.output().expect("output failed")
    }
}

fn openssl() -> Command {
    tool("openssl")
}

fn ok(mut cmd: Command) -> String {
    let out = cmd.output().expect("output failed");
    assert!(out.status.success(), "{:?}: {}", cmd, text(&out));
    text(&out)
}

/// What OpenSSL printed, once it succeeded, verified our answer and read `status` for `serial`
/// in it; `context` names the case.
fn verified(out: &Output, context: &str, status: &str, serial: impl std::fmt::Display) -> String {
    let t = text(out);
    assert!(out.status.success(), "{context}: {t}");
    assert!(t.contains("Response verify OK"), "{context}: {t}");
    assert!(
        t.contains(&format!("Cert Status: {status}")),
        "{context}: {t}"
    );
    assert!(
        t.contains(&format!("Serial Number: {serial}")),
        "{context}: {t}"
    );
    t
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("to_str gave nothing")
}

#[test]
fn openssl_verifies_a_good_answer_signed_by_the_ca_with_the_nonce_echoed() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let (issued, good) = f.issue("good.pem");
    let target = ["-cert", path_str(&good)];
    let req = f.request("good", &target);
    let resp = f.answer(&req);
    for how in ["-CAfile", "-VAfile"] {
        let out = f.check(&req, &resp, how, &f.path("ca.pem"));
        let t = verified(&out, how, "good", &issued.serial);
        // OpenSSL compares the nonce with the request's and only warns when it is missing.
        assert!(t.contains("OCSP Nonce"), "{t}");
        assert!(!t.contains("WARNING"), "{t}");
        assert!(!t.contains("Nonce Verify Error"), "{t}");
        assert!(t.contains("Responder Id: "), "{t}");
        assert!(t.contains("Next Update: "), "{t}");
    }
}

#[test]
fn openssl_refuses_the_answer_against_another_ca() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let other = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let (_, good) = f.issue("good.pem");
    let target = ["-cert", path_str(&good)];
    let req = f.request("good", &target);
    let resp = f.answer(&req);
    let out = f.check(&req, &resp, "-VAfile", &other.path("ca.pem"));
    let t = text(&out);
    assert!(!t.contains("Response verify OK"), "{t}");
    assert!(t.contains("Response Verify Failure"), "{t}");
}

#[test]
fn a_revoked_certificate_is_answered_with_its_time_and_reason_with_p384_and_sha256() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP384, Policy::default());
    let (revoked, path) = f.issue("revoked.pem");
    let revoked_at = f.now();
    f.revoke(&revoked.serial, RevocationReason::AffiliationChanged)
        .unwrap();
    for digest in ["-sha1", "-sha256"] {
        let target = [digest, "-cert", path_str(&path)];
        let req = f.request(&format!("revoked{digest}"), &target);
        let resp = f.answer(&req);
        let out = f.check(&req, &resp, "-CAfile", &f.path("ca.pem"));
        let t = verified(&out, digest, "revoked", &revoked.serial);
        assert!(
            t.contains("Revocation Reason: affiliationChanged (0x3)"),
            "{t}"
        );
        let when = format!(
            "Revocation Time: {}",
            revoked_at
                .format(::time::macros::format_description!(
                    "[month repr:short] [day padding:space] [hour]:[minute]:[second] [year] GMT"
                ))
                .unwrap()
        );
        assert!(t.contains(&when), "{when} missing from {t}");
        let hash = if digest == "-sha1" { "sha1" } else { "sha256" };
        assert!(t.contains(&format!("Hash Algorithm: {hash}")), "{t}");
        assert!(t.contains("ecdsa-with-SHA384"), "{t}");
    }
}

#[test]
fn a_serial_never_issued_or_never_signed_is_unknown() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let never = "0x0123456789ABCDEF0123456789ABCDEF";
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
    let subject = Subject::Organisme {
        name: "Interrompu".into(),
    };
    let now = f.now();
    let unsigned = prepare_only(&f.authority, &mut f.conn, subject, key.public(), now);
    let unsigned = format!("0x{}", unsigned.serial().to_hex());
    for serial in [never, unsigned.as_str()] {
        let target = ["-serial", serial];
        let req = f.request("unknown", &target);
        let resp = f.answer(&req);
        let out = f.check(&req, &resp, "-CAfile", &f.path("ca.pem"));
        let t = text(&out);
        assert!(t.contains("Response verify OK"), "{t}");
        assert!(t.contains("Cert Status: unknown"), "{t}");
        assert!(
            t.contains(&format!("Serial Number: {}", &serial[2..])),
            "{t}"
        );
    }
}

#[test]
fn without_a_nonce_in_the_request_none_comes_back() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let (_, good) = f.issue("good.pem");
    let target = ["-no_nonce", "-cert", path_str(&good)];
    let req = f.request("good", &target);
    let resp = f.answer(&req);
    let out = f.check(&req, &resp, "-CAfile", &f.path("ca.pem"));
    let t = text(&out);
    assert!(t.contains("Response verify OK"), "{t}");
    assert!(!t.contains("OCSP Nonce"), "{t}");
}

#[test]
fn a_malformed_request_gets_a_malformed_request_status_openssl_reads() {
    let f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let reply = f
        .authority
        .answer_ocsp(&f.conn, b"\x30\x03\x02\x01\x00", f.now());
    assert_eq!(reply.outcome, OcspOutcome::MalformedRequest);
    let resp = f.path("malformed.resp");
    std::fs::write(&resp, &reply.der).unwrap();
    let mut cmd = openssl();
    cmd.args(["ocsp", "-respin"]).arg(&resp).arg("-resp_text");
    let t = text(&cmd.output().unwrap());
    assert!(t.contains("Responder Error: malformedrequest"), "{t}");
}

#[test]
fn python_cryptography_reads_the_statuses_the_times_and_the_signature() {
    require(
        "python3 -c 'import cryptography'",
        "python3 with cryptography",
    );
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let (_, good) = f.issue("good.pem");
    let (revoked, revoked_path) = f.issue("revoked.pem");
    f.revoke(&revoked.serial, RevocationReason::KeyCompromise)
        .unwrap();
    let script = r#"
import sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives.asymmetric import ec
ca = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
for path, want in ((sys.argv[2], ocsp.OCSPCertStatus.GOOD), (sys.argv[4], ocsp.OCSPCertStatus.REVOKED)):
    resp = ocsp.load_der_ocsp_response(open(path, "rb").read())
    assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert resp.certificate_status == want, resp.certificate_status
    assert resp.responder_key_hash is not None and resp.responder_name is None
    ca.public_key().verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm))
    delta = (resp.next_update_utc - resp.this_update_utc).total_seconds()
    serial = x509.load_pem_x509_certificate(open(sys.argv[3 if want == ocsp.OCSPCertStatus.GOOD else 5], "rb").read()).serial_number
    assert resp.serial_number == serial
    if want == ocsp.OCSPCertStatus.REVOKED:
        assert resp.revocation_reason == x509.ReasonFlags.key_compromise, resp.revocation_reason
        assert resp.revocation_time_utc is not None
    print(int(delta))
"#;
    let mut args = vec![f.path("ca.pem")];
    for (name, cert) in [("good", &good), ("revoked", &revoked_path)] {
        let target = ["-cert", path_str(cert)];
        let req = f.request(name, &target);
        args.push(f.answer(&req));
        args.push(cert.clone());
    }
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).args(&args);
    let out = ok(cmd);
    let validity = OCSP_VALIDITY.whole_seconds().to_string();
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [&validity, &validity],
        "{out}"
    );
}

#[test]
fn openssl_verifies_responses_signed_ahead_good_and_revoked_with_sha1_and_sha256() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP384, Policy::default());
    let (good, good_path) = f.issue("good.pem");
    let (revoked, revoked_path) = f.issue("revoked.pem");
    f.revoke(&revoked.serial, RevocationReason::PrivilegeWithdrawn)
        .unwrap();
    for digest in ["-sha1", "-sha256"] {
        for (issued, path, status) in [
            (&good, &good_path, "good"),
            (&revoked, &revoked_path, "revoked"),
        ] {
            let target = ["-no_nonce", digest, "-cert", path_str(path)];
            let req = f.request(&format!("{status}{digest}"), &target);
            let resp = f.answer_ahead(&req);
            for how in ["-CAfile", "-VAfile"] {
                let out = f.check(&req, &resp, how, &f.path("ca.pem"));
                let t = verified(&out, how, status, &issued.serial);
                let hash = &digest[1..];
                assert!(t.contains(&format!("Hash Algorithm: {hash}")), "{t}");
                assert!(!t.contains("OCSP Nonce"), "{t}");
                if status == "revoked" {
                    // OpenSSL 3.0 has no name for reason 9 (privilegeWithdrawn).
                    assert!(t.contains("Revocation Reason: (UNKNOWN) (0x9)"), "{t}");
                }
            }
        }
    }
}

#[test]
fn python_cryptography_reads_a_response_signed_ahead_valid_for_the_configured_hours() {
    require(
        "python3 -c 'import cryptography'",
        "python3 with cryptography",
    );
    let policy = Policy {
        ocsp_validity_hours: 48,
        ..Policy::default()
    };
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, policy);
    let (_, good) = f.issue("good.pem");
    let target = ["-no_nonce", "-cert", path_str(&good)];
    let req = f.request("good", &target);
    let resp = f.answer_ahead(&req);
    let script = r#"
import sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives.asymmetric import ec
ca = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
resp = ocsp.load_der_ocsp_response(open(sys.argv[2], "rb").read())
assert resp.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
assert resp.certificate_status == ocsp.OCSPCertStatus.GOOD
ca.public_key().verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm))
print(int((resp.next_update_utc - resp.this_update_utc).total_seconds()))
"#;
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(script).arg(f.path("ca.pem")).arg(&resp);
    assert_eq!(ok(cmd).trim(), (48 * 3600).to_string());
}
