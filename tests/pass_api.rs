//! The PASS JSON API against the real daemon (`siseri serve` on a temporary data directory),
//! with curl as the client: the seed's protocol created, documented, signed with the code read
//! from the SMS file outbox, its Annexe 1 read back by `pdftotext`; and the API's errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};

const PROTOCOL: &str = include_str!("../enroll/tests/data/protocol.json");
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
];
const COMPANY: &str = "Cabinet dentaire du Dr DURAND Vincent";

/// A daemon of our own and a curl pointed at it.
struct Daemon {
    sandbox: Sandbox,
    server: Server,
    base: String,
    ca: PathBuf,
    n: Cell<u32>,
}

struct Reply {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}:\n{}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with(&prefix)
                .then(|| l[prefix.len()..].trim().to_owned())
        })
    }

    /// Asserts the status and the shape of an API error; returns the body.
    fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{}",
            self.headers
        );
        let v = self.json();
        assert_eq!(v["error"], code, "{v}");
        let message = v["message"].as_str().unwrap_or_else(|| panic!("{v}"));
        assert!(!message.trim().is_empty(), "{v}");
        assert!(v["fields"].is_object(), "{v}");
        v
    }
}

fn daemon(env: &[(&str, &str)]) -> Daemon {
    require_tool("curl");
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.siseri(["serve"]);
    cmd.env("SISERI_LISTEN_PUBLIC", "127.0.0.1:0")
        .env("SISERI_LISTEN_REGISTRY", "127.0.0.1:0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut server = Server::start(cmd, sandbox.data(), sandbox.path("serve.log"));
    let listening = server.wait_listening(Duration::from_secs(60));
    let base = format!("https://{}", listening["public"].as_str().unwrap());
    Daemon {
        ca: sandbox.data_file("ca/ac-siseri.pem"),
        sandbox,
        server,
        base,
        n: Cell::new(0),
    }
}

impl Daemon {
    /// `curl -X METHOD` with an optional bearer token and body; never fails on a status.
    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> Reply {
        let n = self.n.get() + 1;
        self.n.set(n);
        let out_body = self.sandbox.path(&format!("reply-{n}.body"));
        let out_headers = self.sandbox.path(&format!("reply-{n}.headers"));
        let mut cmd = Command::new(require_tool("curl"));
        cmd.args(["-sS", "--max-time", "60", "--cacert"])
            .arg(&self.ca)
            .args(["-X", method, "-o"])
            .arg(&out_body)
            .arg("-D")
            .arg(&out_headers)
            .args(["-w", "%{http_code}"]);
        if let Some(t) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
        }
        if let Some((content_type, bytes)) = body {
            let file = self.sandbox.path(&format!("request-{n}.body"));
            fs::write(&file, bytes).unwrap();
            cmd.args(["-H", &format!("Content-Type: {content_type}")])
                .arg("--data-binary")
                .arg(format!("@{}", file.display()));
        }
        let out = cmd
            .arg(format!("{}{path}", self.base))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "curl {method} {path}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.server.log()
        );
        Reply {
            status: String::from_utf8_lossy(&out.stdout).trim().parse().unwrap(),
            headers: fs::read_to_string(&out_headers).unwrap_or_default(),
            body: fs::read(&out_body).unwrap_or_default(),
        }
    }

    fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.call(
            method,
            path,
            token,
            Some(("application/json", body.to_string().as_bytes())),
        )
    }

    /// The SMS files written by the worker, oldest first.
    fn sms_files(&self) -> Vec<PathBuf> {
        let dir = self.sandbox.data_file("outbox/sms");
        let mut files: Vec<(u64, PathBuf)> = fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_else(|_| Vec::new())
            .into_iter()
            .filter(|p: &PathBuf| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| Some((p.file_stem()?.to_str()?.parse().ok()?, p)))
            .collect();
        files.sort();
        files.into_iter().map(|(_, p)| p).collect()
    }

    /// Waits for SMS number `n` (1-based) and returns its 6-digit code.
    fn sms_code(&self, n: usize) -> String {
        let start = Instant::now();
        loop {
            if let Some(file) = self.sms_files().get(n - 1) {
                let sms: Value = serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
                assert_eq!(sms["to"], "+33712123241", "{sms}");
                let text = sms["text"].as_str().unwrap();
                return text
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .unwrap_or_else(|| panic!("no 6-digit code in {text}"))
                    .to_owned();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "SMS n° {n} never reached {}:\n{}",
                self.sandbox.data_file("outbox/sms").display(),
                self.server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `v` without its null members: the API writes absent optional fields as `null`.
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn pdf_of_size(size: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    while pdf.len() + 6 < size {
        pdf.extend_from_slice(b"% ....................................................\n");
    }
    pdf.truncate(size - 6);
    pdf.extend_from_slice(b"%%EOF\n");
    pdf
}

#[test]
fn the_pass_journey_through_the_json_api_signs_the_seeds_protocol_and_serves_its_annexe() {
    require_tool("pdftotext");
    let d = daemon(&[("SISERI_PASS_DOCUMENT_MAX_BYTES", "1000")]);
    let protocol: Value = serde_json::from_str(PROTOCOL).unwrap();

    let created = d.json("POST", "/api/v1/protocols", None, &protocol);
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["draft_token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());

    let shown = d.call("GET", &format!("/api/v1/protocols/{id}"), t, None);
    assert_eq!(shown.status, 200, "{}", shown.text());
    assert_eq!(
        without_nulls(&shown.json()["protocol"]),
        without_nulls(&protocol)
    );
    assert_eq!(shown.json()["status"], "draft");

    // Documents: recognised by content, size-limited.
    let docs = format!("/api/v1/protocols/{id}/documents");
    for (kind, media_type, bytes) in [
        ("kbis", "application/pdf", PDF),
        ("identity", "image/png", PNG),
    ] {
        let r = d.call(
            "POST",
            &format!("{docs}/{kind}"),
            t,
            Some((media_type, bytes)),
        );
        assert_eq!(r.status, 201, "{kind}: {}", r.text());
        let v = r.json();
        assert_eq!(
            (v["kind"].as_str(), v["media_type"].as_str()),
            (Some(kind), Some(media_type))
        );
        assert_eq!(v["size"], bytes.len());
    }
    let renamed_txt = b"Ceci est un simple fichier texte, renomme en .pdf.\n";
    let r = d.call(
        "POST",
        &format!("{docs}/kbis"),
        t,
        Some(("application/pdf", renamed_txt)),
    );
    let v = r.error(415, "document_type");
    assert!(v["message"].as_str().unwrap().contains("PDF"), "{v}");
    let big = pdf_of_size(2048);
    let r = d.call(
        "POST",
        &format!("{docs}/kbis"),
        t,
        Some(("application/pdf", &big)),
    );
    let v = r.error(413, "document_too_large");
    assert!(v["message"].as_str().unwrap().contains("taille"), "{v}");
    let kept = d
        .call("GET", &format!("/api/v1/protocols/{id}"), t, None)
        .json();
    assert_eq!(kept["documents"][0]["size"], PNG.len(), "{kept}");
    assert_eq!(
        kept["documents"][1]["size"],
        PDF.len(),
        "the refused files replaced nothing"
    );

    // Signature.
    let r = d.json(
        "POST",
        &format!("/api/v1/protocols/{id}/signature-code"),
        t,
        &json!({"consent": true}),
    );
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["phone"], "+33 7 ** ** ** 41");
    let code = d.sms_code(1);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let sign = format!("/api/v1/protocols/{id}/signature");
    let v = d
        .json("POST", &sign, t, &json!({"code": wrong}))
        .error(403, "wrong_code");
    assert_eq!(v["attempts_left"], 4, "{v}");
    assert!(v["message"].as_str().unwrap().contains("incorrect"), "{v}");
    let r = d.json("POST", &sign, t, &json!({"code": code}));
    assert_eq!(r.status, 200, "{}", r.text());
    let signed = r.json();
    let number = signed["number"].as_str().unwrap().to_owned();
    let key_name = signed["key_name"].as_str().unwrap();
    let sha = signed["document_sha256"].as_str().unwrap();
    assert!(!number.is_empty() && !key_name.is_empty(), "{signed}");
    assert_eq!(sha.len(), 64, "{signed}");
    assert!(sha.bytes().all(|b| b.is_ascii_hexdigit()), "{signed}");

    // The signed Annexe 1, as a PDF whose text says who and what.
    let r = d.call(
        "GET",
        &format!("/api/v1/protocols/{id}/annexe1.pdf"),
        t,
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type").as_deref(), Some("application/pdf"));
    assert!(r.body.starts_with(b"%PDF-"));
    let pdf = d.sandbox.path("annexe1.pdf");
    fs::write(&pdf, &r.body).unwrap();
    let out = Command::new(require_tool("pdftotext"))
        .arg(&pdf)
        .arg("-")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(COMPANY), "{text}");
    assert!(text.contains(&number), "{text}");
    assert!(text.contains("DILLENSEGER"), "{text}");

    // Signed means immutable.
    let mut changed = protocol.clone();
    changed["employer"]["town"] = json!("COLMAR");
    d.json("PUT", &format!("/api/v1/protocols/{id}"), t, &changed)
        .error(409, "not_a_draft");
    d.call(
        "POST",
        &format!("{docs}/kbis"),
        t,
        Some(("application/pdf", PDF)),
    )
    .error(409, "not_a_draft");
    let after = d
        .call("GET", &format!("/api/v1/protocols/{id}"), t, None)
        .json();
    assert_eq!(after["status"], "signed");
    assert_eq!(without_nulls(&after["protocol"]), without_nulls(&protocol));
    assert_eq!(after["document_sha256"], sha);

    run_ok(&mut d.sandbox.siseri(["audit", "verify"]));
}

#[test]
fn api_errors_are_json_in_french_with_the_status_that_fits() {
    let d = daemon(&[]);
    let protocol: Value = serde_json::from_str(PROTOCOL).unwrap();
    let created = d.json("POST", "/api/v1/protocols", None, &protocol).json();
    let id = created["id"].as_str().unwrap().to_owned();
    let token = created["draft_token"].as_str().unwrap().to_owned();
    let other = d.json("POST", "/api/v1/protocols", None, &protocol).json();
    let other_token = other["draft_token"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/protocols/{id}");

    // Unauthenticated: no token, a wrong one, another draft's.
    for t in [None, Some("pas-un-jeton"), Some(other_token.as_str())] {
        let v = d.call("GET", &path, t, None).error(401, "bad_token");
        assert!(v["message"].as_str().unwrap().contains("jeton"), "{v}");
        d.json("PUT", &path, t, &protocol).error(401, "bad_token");
        d.call(
            "POST",
            &format!("{path}/documents/kbis"),
            t,
            Some(("application/pdf", PDF)),
        )
        .error(401, "bad_token");
        d.json(
            "POST",
            &format!("{path}/signature-code"),
            t,
            &json!({"consent": true}),
        )
        .error(401, "bad_token");
        d.json(
            "POST",
            &format!("{path}/signature"),
            t,
            &json!({"code": "123456"}),
        )
        .error(401, "bad_token");
        d.call("GET", &format!("{path}/annexe1.pdf"), t, None)
            .error(401, "bad_token");
    }

    // Unknown draft.
    let v = d
        .call(
            "GET",
            "/api/v1/protocols/0123456789abcdef0123456789abcdef",
            Some(&token),
            None,
        )
        .error(404, "not_found");
    assert!(
        v["message"].as_str().unwrap().contains("introuvable"),
        "{v}"
    );

    // Invalid content: every field named, nothing echoed.
    let mut bad = protocol.clone();
    bad["employer"]["siret"] = json!("73282932000079");
    bad["correspondents"][0]["email"] = json!("pas-une-adresse");
    for r in [
        d.json("POST", "/api/v1/protocols", None, &bad),
        d.json("PUT", &path, Some(&token), &bad),
    ] {
        let v = r.error(422, "invalid");
        let fields = v["fields"].as_object().unwrap();
        for f in ["employer.siret", "correspondents[0].email"] {
            let m = fields
                .get(f)
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{f} not in {v}"));
            assert!(
                !m.contains("73282932000079") && !m.contains("pas-une-adresse"),
                "{m}"
            );
        }
        assert!(v["message"].as_str().unwrap().contains("corriger"), "{v}");
    }
    let unchanged = d.call("GET", &path, Some(&token), None).json();
    assert_eq!(
        without_nulls(&unchanged["protocol"]),
        without_nulls(&protocol),
        "a refused PUT changes nothing"
    );

    // Not JSON, unknown document kind, signing before asking for a code, a code without consent.
    d.call(
        "POST",
        "/api/v1/protocols",
        None,
        Some(("application/json", b"{pas du json")),
    )
    .error(400, "bad_request");
    d.call(
        "POST",
        &format!("{path}/documents/passeport"),
        Some(&token),
        Some(("application/pdf", PDF)),
    )
    .error(404, "not_found");
    d.json(
        "POST",
        &format!("{path}/signature"),
        Some(&token),
        &json!({"code": "123456"}),
    )
    .error(409, "no_pending_code");
    d.json(
        "POST",
        &format!("{path}/signature-code"),
        Some(&token),
        &json!({"consent": false}),
    )
    .error(422, "consent_required");
    let v = d
        .json(
            "POST",
            &format!("{path}/signature-code"),
            Some(&token),
            &json!({"consent": true}),
        )
        .error(422, "missing_documents");
    assert!(v["message"].as_str().unwrap().contains("K-bis"), "{v}");

    // A renewal with a wrong key name.
    d.json(
        "POST",
        "/api/v1/protocols/renewal",
        None,
        &json!({"number": "2026-000001", "key_name": "FAUX"}),
    )
    .error(404, "renewal_refused");
}
