//! Attacks on the operators' console: a client without certificate, a person's certificate
//! of AC SISERI, a revoked operator; forms posted without their CSRF token, with a forged one
//! or with another operator's. Nothing gets in, nothing changes.

mod common;

use common::console::console;
use common::enrolment::OperatorHolder;

#[test]
fn only_an_operator_certificate_in_force_opens_the_console() {
    let c = console();
    // An operator: the queue, with the protocol awaiting a decision.
    let page = c.get(&c.instructeur, "/").ok(200);
    assert!(page.text().contains(&c.awaiting), "{}", page.text());
    assert!(page.text().contains("jour(s)"));
    for (name, value) in [
        ("content-security-policy", "frame-ancestors 'none'"),
        ("x-content-type-options", "nosniff"),
        ("cache-control", "no-store"),
    ] {
        assert!(
            page.header(name).is_some_and(|v| v.contains(value)),
            "{name}: {}",
            page.headers
        );
    }
    // No certificate: the handshake fails.
    let none = c.d.curl("GET", &format!("{}/", c.d.console), &[], None);
    assert_ne!(none.exit, 0, "a client without certificate got in");
    // A person's certificate of AC SISERI: valid, but not an operator's.
    let (cert, key) = c.person.pem_files(&c.d.sandbox);
    let person = OperatorHolder {
        name: "person".into(),
        cert,
        key,
    };
    let refused = c.get(&person, "/");
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert!(refused.text().contains("réservée aux opérateurs"));
    assert!(!refused.text().contains(&c.awaiting));
    // An operator revoked: refused at once (the revocation set and enrollment's record).
    c.d.siseri(&["operator", "revoke", "2"]);
    let start = std::time::Instant::now();
    loop {
        let r = c.get(&c.instructeur, "/");
        if r.status != 200 {
            assert!(r.exit != 0 || r.status == 403, "{} {}", r.exit, r.status);
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    c.get(&c.admin, "/").ok(200);
}

#[test]
fn a_form_without_its_token_changes_nothing() {
    let c = console();
    let hab = c.person.habilitation;
    let other = c.csrf(&c.instructeur, &format!("/personnes/{hab}"));
    for token in [None, Some("00"), Some(other.as_str())] {
        let mut form = vec![("reason", "keyCompromise")];
        if let Some(t) = token {
            form.push(("csrf", t));
        }
        let r = c.post(&c.admin, &format!("/personnes/{hab}/revoquer"), &form);
        assert_eq!(r.status, 403, "{token:?}: {}", r.text());
        let r = c.post(
            &c.admin,
            &format!("/protocoles/{}/valider", c.awaiting),
            &form,
        );
        assert_eq!(r.status, 403, "{token:?}: {}", r.text());
        let r = c.post(
            &c.admin,
            "/operateurs",
            &[
                ("name", "Eve"),
                ("email", "eve@example.org"),
                ("role", "administrateur"),
                ("csrf", token.unwrap_or("")),
            ],
        );
        assert_eq!(r.status, 403, "{token:?}: {}", r.text());
    }
    let revoked: i64 =
        c.d.sandbox
            .db()
            .query_row(
                "SELECT COUNT(*) FROM ca_certificates WHERE status = 'revoked'",
                [],
                |r| r.get(0),
            )
            .expect("count");
    assert_eq!(revoked, 0);
    let signed: i64 =
        c.d.sandbox
            .db()
            .query_row(
                "SELECT COUNT(*) FROM enroll_versions WHERE status = 'signed'",
                [],
                |r| r.get(0),
            )
            .expect("count");
    assert_eq!(signed, 1, "still awaiting a decision");
    assert_eq!(c.d.sandbox.count("enroll_operators"), 2);
}

#[test]
fn a_dosimetry_body_certificate_and_an_operator_certificate_revoked_at_the_ca_are_refused() {
    let c = console();
    // A dosimetry body's certificate (clientAuth alone): valid at the registry, not here.
    let (leaf, _) =
        c.d.sandbox
            .issue_organisme_from_csr("organisme", "Dosimétrie Exemple");
    let body = OperatorHolder {
        name: "organisme".into(),
        cert: leaf,
        key: c.d.sandbox.path("organisme.key.pem"),
    };
    let r = c.get(&body, "/");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(!r.text().contains(&c.awaiting));

    // The administrateur's certificate revoked at the CA (not through `operator revoke`): the
    // revocation set refuses it, at the handshake or at the request.
    c.get(&c.admin, "/").ok(200);
    let serial = common::serial_of(&c.admin.cert);
    c.d.siseri(&["cert", "revoke", &serial, "--reason", "keyCompromise"]);
    let start = std::time::Instant::now();
    loop {
        let r = c.get(&c.admin, "/");
        if r.status != 200 {
            assert!(r.exit != 0 || r.status == 403, "{} {}", r.exit, r.status);
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "a revoked certificate still opens the console"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn a_token_is_worth_nothing_outside_the_browser_session_it_was_served_to() {
    let c = console();
    let hab = c.person.habilitation;
    let page = c.get(&c.admin, &format!("/personnes/{hab}")).ok(200);
    let cookie = page
        .header("set-cookie")
        .expect("the console sets its session cookie");
    for attribute in [
        "console_session=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    assert!(!cookie.contains("Max-Age"), "a session cookie: {cookie}");
    let token = common::enrolment::between(&page.text(), "name=\"csrf\" value=\"", "\"").to_owned();
    // The same certificate in another browser (another cookie jar): the token taken from the
    // first session is refused there, with no cookie at all and with that browser's own.
    let copy = |from: &std::path::Path, name: &str| {
        let to = c.d.sandbox.path(name);
        std::fs::copy(from, &to).expect("copy");
        to
    };
    let elsewhere = OperatorHolder {
        name: c.admin.name.clone(),
        cert: copy(&c.admin.cert, "admin-elsewhere.pem"),
        key: copy(&c.admin.key, "admin-elsewhere.key.pem"),
    };
    for _ in 0..2 {
        let r = c.post(
            &elsewhere,
            &format!("/personnes/{hab}/code"),
            &[("csrf", &token)],
        );
        assert_eq!(r.status, 403, "{}", r.text());
    }
    assert!(!c.audit_actions("%").iter().any(|a| a.contains("reset")));
    // In its own session, the same token does its work.
    c.post(
        &c.admin,
        &format!("/personnes/{hab}/code"),
        &[("csrf", &token)],
    )
    .ok(200);
}
