//! AC SISERI's key in a PKCS#11 token (SoftHSM2, installed by `scripts/install-test-deps.sh`):
//! `siseri serve` on an empty directory makes the key in the token during `init`, nothing is
//! written of it on disk, and the whole story runs with every signature the token's: approval,
//! withdrawals (one with a CSR), OCSP and a revocation, judged by OpenSSL; OpenSC's
//! `pkcs11-tool` confirms the key is sensitive and was never extractable. On P-256 and P-384.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::daemon::Daemon;
use common::enrolment::whole_run;
use common::{openssl_ok, require_tool};
use tempfile::TempDir;

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "246810";

/// A SoftHSM2 configuration of its own with one initialised token labelled `siseri`.
struct SoftHsm {
    dir: TempDir,
}

impl SoftHsm {
    fn new() -> Self {
        require_tool("softhsm2-util");
        assert!(
            std::path::Path::new(MODULE).exists(),
            "{MODULE} missing: scripts/install-test-deps.sh installs softhsm2"
        );
        let dir = TempDir::new().expect("tempdir");
        std::fs::create_dir(dir.path().join("tokens")).expect("tokens");
        std::fs::write(
            dir.path().join("softhsm2.conf"),
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                dir.path().join("tokens").display()
            ),
        )
        .expect("conf");
        let hsm = Self { dir };
        let out = hsm
            .tool("softhsm2-util")
            .args(["--init-token", "--free", "--label", "siseri"])
            .args(["--pin", PIN, "--so-pin", "13579111"])
            .output()
            .expect("softhsm2-util");
        assert!(out.status.success(), "{out:?}");
        hsm
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("softhsm2.conf")
    }

    fn tool(&self, name: &str) -> Command {
        let mut cmd = Command::new(name);
        cmd.env("SOFTHSM2_CONF", self.conf());
        cmd
    }
}

fn story_on(algorithm: &str, curve_name: &str) {
    require_tool("openssl");
    require_tool("pkcs11-tool");
    let hsm = SoftHsm::new();
    let conf = hsm.conf().display().to_string();
    let d = Daemon::start(&[
        ("SOFTHSM2_CONF", &conf),
        ("SISERI_CA_KEY_STORE", "pkcs11"),
        ("SISERI_CA_PKCS11_MODULE", MODULE),
        ("SISERI_CA_PKCS11_PIN", PIN),
        ("SISERI_CA_KEY_ALGORITHM", algorithm),
    ]);
    // Nothing of the key on disk, and the choice written down for later commands.
    assert!(!d.sandbox.data_file("ca/ac-siseri.key.pem").exists());
    assert!(!d.sandbox.data_file("ca/passphrase").exists());
    let config = std::fs::read_to_string(d.sandbox.data_file("config.toml")).expect("config");
    assert!(config.contains("key_store = \"pkcs11\""), "{config}");
    let ca = openssl_ok([
        "x509".as_ref(),
        "-noout".as_ref(),
        "-text".as_ref(),
        "-in".as_ref(),
        d.ca.as_os_str(),
    ]);
    assert!(ca.contains(curve_name), "{ca}");

    let durand = whole_run(&d);

    // The receipt key too is in the token (issue 16 §2): nothing of it on disk, its
    // certificate issued at the signer's start, a récépissé signed through the daemon's
    // signer, accepted by OpenSSL.
    assert!(d.sandbox.data_file("ca/recepisse.pem").exists());
    assert!(!d.sandbox.data_file("ca/recepisse.key.pem").exists());
    let p7m = d.sandbox.path("r.p7m");
    std::fs::write(&p7m, sign_receipt(&d)).expect("write");
    let verified = openssl_ok([
        "cms".as_ref(),
        "-verify".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        p7m.as_os_str(),
        "-CAfile".as_ref(),
        d.ca.as_os_str(),
    ]);
    assert!(
        verified.starts_with("{\"number\":\"RT-2026-000000001\""),
        "{verified}"
    );

    // The full CRL, signed by the token through the daemon's signer, lists the revocation.
    let crl = d.sandbox.path("full.crl");
    d.siseri(&["ca", "crl", "--out", crl.to_str().expect("path")]);
    let out = Command::new("openssl")
        .args(["crl", "-inform", "DER", "-noout", "-text", "-CAfile"])
        .arg(&d.ca)
        .arg("-in")
        .arg(&crl)
        .output()
        .expect("openssl crl");
    let text = String::from_utf8_lossy(&out.stdout);
    let verdict = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && verdict.contains("verify OK"),
        "{verdict}"
    );
    assert!(
        text.to_uppercase()
            .contains(&durand.replace(':', "").to_uppercase()),
        "{durand} not in:\n{text}"
    );

    // The key as the token describes it to an independent implementation (OpenSC).
    let out = hsm
        .tool("pkcs11-tool")
        .args(["--module", MODULE, "--token-label", "siseri", "--pin", PIN])
        .args(["--list-objects", "--type", "privkey"])
        .output()
        .expect("pkcs11-tool");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{listed}");
    assert!(listed.contains("label:      AC SISERI"), "{listed}");
    assert!(
        listed.contains("label:      AC SISERI-recepisse"),
        "{listed}"
    );
    assert!(
        listed.contains("sensitive") && listed.contains("never extractable"),
        "{listed}"
    );
    assert!(!listed.contains("decrypt"), "a signing key only:\n{listed}");
    d.audit_verifies();

    // A backup holds no key (there is none on disk) and restores.
    let archive = d.sandbox.path("backup.tar");
    d.siseri(&["backup", "--out", archive.to_str().expect("path")]);
    let restored = d.sandbox.path("restored");
    let out = common::siseri(&restored)
        .arg("restore")
        .arg(&archive)
        .output()
        .expect("restore");
    assert!(out.status.success(), "{out:?}");
    assert!(restored.join("config.toml").exists());
    assert!(!restored.join("ca/ac-siseri.key.pem").exists());
}

/// A récépissé signed by the daemon's signer, asked as the web-facing process would.
fn sign_receipt(d: &Daemon) -> Vec<u8> {
    let pem = std::fs::read_to_string(&d.ca).expect("ca");
    let der = pem::parse(&pem).expect("pem").into_contents();
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der);
    let client = ca::signer::SignerClient::connect(
        &d.sandbox.data_file("run/signer.sock"),
        fingerprint.as_ref(),
    )
    .expect("connect");
    let policy = siseri::datadir::DataDir::new(d.sandbox.data())
        .load_config()
        .expect("config")
        .policy();
    let authority = ca::Authority::with_signer(&pem, policy, client).expect("with_signer");
    let recepisse = ca::Recepisse {
        number: "RT-2026-000000001".into(),
        received_at: time::macros::datetime!(2026-12-06 08:00:00 UTC),
        file_sha256: "ab".repeat(32),
        sender: ca::ReceiptSender {
            subject: "C=FR, O=SISERI, CN=Laboratoire".into(),
            serial: "01".into(),
        },
        accepted: 1,
        pending: 0,
        rejected: 0,
        rejected_lines: Vec::new(),
    };
    authority
        .sign_receipt(&recepisse, time::OffsetDateTime::now_utc())
        .expect("sign_receipt through the signer")
}

#[test]
fn the_whole_story_with_the_ca_key_in_a_token_on_p256() {
    story_on("ecdsa-p256", "P-256");
}

#[test]
fn the_whole_story_with_the_ca_key_in_a_token_on_p384() {
    story_on("ecdsa-p384", "P-384");
}

#[test]
fn a_wrong_pin_is_one_clear_french_error() {
    let hsm = SoftHsm::new();
    let sb = common::Sandbox::new();
    let out = sb
        .siseri(["init"])
        .env("SOFTHSM2_CONF", hsm.conf())
        .env("SISERI_CA_KEY_STORE", "pkcs11")
        .env("SISERI_CA_PKCS11_MODULE", MODULE)
        .env("SISERI_CA_PKCS11_PIN", "000000")
        .output()
        .expect("siseri init");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("code PIN du jeton PKCS#11 refusé"),
        "{stderr}"
    );
    assert!(!stderr.contains("000000"), "{stderr}");
    assert!(!sb.data().exists(), "nothing is left of a failed init");
}
