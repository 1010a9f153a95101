//! The PASS JSON API against the real daemon (`siseri serve` on a temporary data directory),
//! with curl as the client: the seed's protocol created, documented, signed with the code read
//! from the SMS file outbox, its Annexe 1 read back by `pdftotext`; and the API's errors.

mod common;

use std::fs;
use std::process::{Command, Stdio};

use common::daemon::Daemon;
use common::fixtures::{PDF, PNG, PROTOCOL};
use common::*;
use serde_json::{json, Value};

const COMPANY: &str = "Cabinet dentaire du Dr DURAND Vincent";

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
    let d = Daemon::start(&[("SISERI_PASS_DOCUMENT_MAX_BYTES", "1000")]);
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
    assert_eq!(d.sms(1)["to"], "+33712123241", "{}", d.sms(1));
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
    let d = Daemon::start(&[]);
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
