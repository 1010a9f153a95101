//! The set-up of the registry's tests: protocols signed, approved and every certificate
//! withdrawn, in-process on the data directory before the daemon starts (so that the e-mails
//! are still in the outbox), each person left with their `.p12`, its password and their access
//! code.

use std::path::PathBuf;
use std::sync::Arc;

use ca::Authority;
use siseri::datadir::DataDir;
use siseri::services::Services;

use super::{require_tool, run_ok, Sandbox, PASSPHRASE};

/// A person holding a withdrawn certificate.
#[derive(Debug, Clone)]
pub struct Holder {
    pub habilitation: u32,
    pub email: String,
    pub p12: PathBuf,
    pub password: String,
    pub access_code: String,
}

impl Holder {
    /// The certificate and the private key of the `.p12` as PEM files (by OpenSSL), for
    /// clients that take no PKCS#12.
    pub fn pem_files(&self, sb: &Sandbox) -> (PathBuf, PathBuf) {
        let cert = sb.path(&format!("{}.pem", self.habilitation));
        let key = sb.path(&format!("{}.key.pem", self.habilitation));
        let pass = format!("pass:{}", self.password);
        for (what, out) in [
            (["-clcerts", "-nokeys"], &cert),
            (["-nocerts", "-nodes"], &key),
        ] {
            run_ok(
                std::process::Command::new(require_tool("openssl"))
                    .args(["pkcs12", "-in"])
                    .arg(&self.p12)
                    .args(["-passin", &pass])
                    .args(what)
                    .arg("-out")
                    .arg(out),
            );
        }
        (cert, key)
    }
}

/// The text between `before` and the next `after` (or the end).
pub fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
    let start = text
        .find(before)
        .unwrap_or_else(|| panic!("{before:?} not in {text}"))
        + before.len();
    let rest = &text[start..];
    &rest[..rest.find(after).unwrap_or(rest.len())]
}

/// AC SISERI of the sandbox's data directory.
pub fn authority(sb: &Sandbox) -> Authority {
    let dir = DataDir::new(sb.data());
    let config = dir.load_config().expect("load_config failed");
    Authority::load(
        &std::fs::read_to_string(dir.ca_cert()).expect("read_to_string failed"),
        &std::fs::read_to_string(dir.ca_key()).expect("read_to_string failed"),
        PASSPHRASE,
        config.policy(),
    )
    .expect("Authority::load failed")
}

/// The protocols (JSON, as `POST /api/v1/protocols` takes them) signed, approved and every
/// certificate withdrawn; the people in the order of `Access::accessors`.
pub fn enrolled(sb: &Sandbox, protocols: &[&str]) -> Vec<Holder> {
    let dir = DataDir::new(sb.data());
    let config = dir.load_config().expect("load_config failed");
    let s =
        Services::open(&dir, &config, Arc::new(store::SystemClock)).expect("Services::open failed");
    let authority = authority(sb);
    let db = sb.db();
    for text in protocols {
        let input: enroll::protocol::ProtocolInput =
            serde_json::from_str(text).expect("from_str failed");
        let draft = s.pass.create(&input).expect("create failed");
        s.pass
            .upload(
                &draft.id,
                enroll::pass::DocumentKind::Kbis,
                b"%PDF-1.4\nK-bis",
            )
            .expect("upload failed");
        s.pass
            .upload(
                &draft.id,
                enroll::pass::DocumentKind::Identity,
                b"\x89PNG\r\n\x1a\n identity",
            )
            .expect("upload failed");
        s.pass
            .request_code(&draft.id, true)
            .expect("request_code failed");
        let sms: String = db
            .query_row(
                "SELECT body FROM enroll_outbox WHERE channel = 'sms' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("query_row failed");
        let code = between(&sms, "protocole d'accès est ", ".");
        let signed = s
            .pass
            .sign(&draft.id, code, &enroll::pass::Client::default())
            .expect("sign failed");
        s.access
            .approve(&authority, &signed.number, "test", &[], &mut |_, _, _| {})
            .expect("approve failed");
    }
    let mut holders = Vec::new();
    for a in s.access.accessors().expect("accessors failed") {
        let bodies: Vec<String> = {
            let mut stmt = db
                .prepare("SELECT body FROM enroll_outbox WHERE channel = 'mail' AND recipient = ?1 ORDER BY id")
                .expect("prepare failed");
            stmt.query_map([&a.email], |r| r.get(0))
                .expect("query_map failed")
                .map(Result::unwrap)
                .collect()
        };
        let withdrawal = bodies
            .iter()
            .find(|b| b.contains("/retrait/"))
            .expect("find gave nothing");
        let access = bodies
            .iter()
            .find(|b| b.contains("Mot de passe SISERI"))
            .expect("find gave nothing");
        let token = between(withdrawal, "/retrait/", " ");
        let wcode = between(withdrawal, "code de retrait ", " ");
        let password = between(withdrawal, "mot de passe ", " ").to_owned();
        let access_code = between(access, "Mot de passe SISERI : ", "\n")
            .trim()
            .to_owned();
        let enroll::access::Withdrawn::P12 {
            habilitation,
            bytes,
        } = s
            .access
            .withdraw(&authority, token, wcode, None)
            .expect("withdraw failed")
        else {
            panic!("a .p12 was expected");
        };
        let p12 = sb.path(&format!("{habilitation}.p12"));
        std::fs::write(&p12, bytes.as_slice()).expect("write failed");
        holders.push(Holder {
            habilitation,
            email: a.email.clone(),
            p12,
            password,
            access_code,
        });
    }
    holders
}

/// A second employer with other people: a veterinary clinic in Épinal (the seed's protocol
/// with another name, town and people).
pub fn clinic_protocol() -> String {
    use serde_json::{json, Value};
    let mut p: Value = serde_json::from_str(super::fixtures::PROTOCOL).expect("from_str failed");
    p["employer"]["name"] = json!("Clinique vétérinaire des Vosges");
    p["employer"]["siret"] = Value::Null;
    p["employer"]["town"] = json!("ÉPINAL");
    p["employer"]["postal_code"] = json!("88000");
    for (slot, last, first, email) in [
        (
            "correspondents",
            "BERNARD",
            "Luc",
            "l.bernard@clinique-vosges.example",
        ),
        ("physicians", "PETIT", "Anne", "a.petit@sst-vosges.example"),
        ("pcrs", "ROUX", "Marc", "m.roux@radioprotection-est.example"),
    ] {
        let person = &mut p[slot][0];
        person["last_name"] = json!(last);
        person["first_name"] = json!(first);
        person["email"] = json!(email);
        person["birth_date"] = json!("03/04/1981");
        person["birth_departement"] = json!("88");
    }
    p.to_string()
}

/// A whole run through a running daemon, every signature by its signer: the seed's protocol
/// signed and approved (CLI), DURAND's `.p12` withdrawn, MARTIN's certificate withdrawn with a
/// CSR (signed by the daemon), OCSP over plain HTTP judged by `openssl ocsp`, and DURAND's
/// certificate revoked (CLI). Returns DURAND's serial.
pub fn whole_run(d: &super::daemon::Daemon) -> String {
    let protocol: serde_json::Value =
        serde_json::from_str(super::fixtures::PROTOCOL).expect("protocol");
    let signed = d.sign(&protocol);
    let (out, err) = d.siseri(&["protocol", "approve", &signed.number]);
    assert!(out.contains("3 certificat(s) émis"), "{out}{err}");
    let mails = d.mails(6);

    // DURAND takes the .p12 prepared at approval.
    let durand = super::mail::mails_to(&mails, "v.durand@cabinet-durand.example")[0].clone();
    let page = format!("/retrait/{}", durand.token.as_deref().expect("token"));
    d.json(
        "POST",
        &page,
        None,
        &serde_json::json!({ "code": durand.code.as_deref().expect("code") }),
    )
    .ok(200);

    // MARTIN brings a CSR: the daemon has the certificate signed.
    let key = d.sandbox.path("martin.key.pem");
    let csr = d.sandbox.path("martin.csr");
    super::openssl_ok([
        "req".as_ref(),
        "-new".as_ref(),
        "-newkey".as_ref(),
        "ec".as_ref(),
        "-pkeyopt".as_ref(),
        "ec_paramgen_curve:P-256".as_ref(),
        "-nodes".as_ref(),
        "-subj".as_ref(),
        "/CN=Claire MARTIN".as_ref(),
        "-keyout".as_ref(),
        key.as_os_str(),
        "-out".as_ref(),
        csr.as_os_str(),
    ]);
    let martin = super::mail::mails_to(&mails, "c.martin@sst-alsace.example")[0].clone();
    let r = d
        .json(
            "POST",
            &format!("/retrait/{}", martin.token.as_deref().expect("token")),
            None,
            &serde_json::json!({
                "code": martin.code.as_deref().expect("code"),
                "csr": std::fs::read_to_string(&csr).expect("csr"),
            }),
        )
        .ok(200);
    let chain = d.sandbox.path("martin.pem");
    std::fs::write(&chain, &r.body).expect("write");

    // OCSP over plain HTTP, as a relying party asks.
    let listening: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.sandbox.data_file("listening.json")).expect("listening.json"),
    )
    .expect("json");
    let http = super::listening_addr(&listening, "http");
    let ocsp = super::openssl_ok([
        "ocsp".as_ref(),
        "-issuer".as_ref(),
        d.ca.as_os_str(),
        "-cert".as_ref(),
        chain.as_os_str(),
        "-CAfile".as_ref(),
        d.ca.as_os_str(),
        "-url".as_ref(),
        format!("http://{http}/ocsp").as_ref(),
    ]);
    assert!(ocsp.contains(": good"), "{ocsp}");

    // Revocation by the operator, through the daemon's signer.
    let serial = d.serials(42000).pop().expect("DURAND's serial");
    let (out, err) = d.siseri(&["cert", "revoke", &serial, "--reason", "key-compromise"]);
    assert!(
        out.contains("révoqué") || err.contains("révoqué"),
        "{out}{err}"
    );
    serial
}

/// An operator of the console holding their withdrawn certificate, as PEM files for curl.
#[derive(Debug, Clone)]
pub struct OperatorHolder {
    pub name: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl OperatorHolder {
    /// curl's arguments presenting this operator's certificate, with a cookie jar beside it
    /// (the console's session cookie, as a browser keeps it).
    pub fn curl_args(&self) -> Vec<String> {
        let jar = self.cert.with_extension("cookies").display().to_string();
        vec![
            "--cert".into(),
            self.cert.display().to_string(),
            "--key".into(),
            self.key.display().to_string(),
            "-b".into(),
            jar.clone(),
            "-c".into(),
            jar,
        ]
    }
}

/// `siseri operator add` from the CLI, then the withdrawal e-mail read from the file outbox
/// and the `.p12` withdrawn in-process; `tag` names the files.
pub fn operator(sb: &Sandbox, tag: &str, name: &str, email: &str, role: &str) -> OperatorHolder {
    let before = super::mail::outbox_files(&sb.data_file("outbox/mail"), "eml").len();
    run_ok(&mut sb.siseri([
        "operator", "add", "--name", name, "--email", email, "--role", role,
    ]));
    // The CLI delivers whatever the outbox held, the new operator's e-mail among them.
    let files = super::mail::outbox_files(&sb.data_file("outbox/mail"), "eml");
    let mut mails = super::mail::read_mails(&files[before..]);
    mails.retain(|m| m.to == email);
    assert_eq!(mails.len(), 1, "one e-mail for the new operator");
    let mail = mails.remove(0);
    let (token, code, password) = (
        mail.token.expect("a withdrawal link"),
        mail.code.expect("a withdrawal code"),
        mail.password.expect("a .p12 password"),
    );
    let dir = DataDir::new(sb.data());
    let config = dir.load_config().expect("load_config failed");
    let s =
        Services::open(&dir, &config, Arc::new(store::SystemClock)).expect("Services::open failed");
    let enroll::access::Withdrawn::OperatorP12 { bytes } = s
        .access
        .withdraw(&authority(sb), &token, &code, None)
        .expect("withdraw failed")
    else {
        panic!("an operator's .p12 was expected");
    };
    let p12 = sb.path(&format!("{tag}.p12"));
    std::fs::write(&p12, bytes.as_slice()).expect("write failed");
    let cert = sb.path(&format!("{tag}.pem"));
    let key = sb.path(&format!("{tag}.key.pem"));
    let pass = format!("pass:{password}");
    for (what, out) in [
        (["-clcerts", "-nokeys"], &cert),
        (["-nocerts", "-nodes"], &key),
    ] {
        run_ok(
            std::process::Command::new(require_tool("openssl"))
                .args(["pkcs12", "-in"])
                .arg(&p12)
                .args(["-passin", &pass])
                .args(what)
                .arg("-out")
                .arg(out),
        );
    }
    OperatorHolder {
        name: name.to_owned(),
        cert,
        key,
    }
}
