//! What every response of both listeners shares (`src/serve/layers.rs`), judged by curl over
//! HTTPS, HTTP/1.1 and HTTP/2: the security headers and `no-store` on every page, JSON errors
//! everywhere under `/api/` and a French page elsewhere, one JSON 413 whatever the excess, and
//! request logs that never hold a withdrawal token.

mod common;

use std::io::{Read, Write};

use common::daemon::{Daemon, Reply};
use common::enrolment::enrolled;
use common::fixtures::PROTOCOL;
use common::tls_client;
use serde_json::Value;

const PROTOCOLS: [&str; 2] = ["--http1.1", "--http2"];

/// The daemon and, for the registry, a person's certificate arguments (not logged in).
fn daemon() -> (Daemon, Vec<String>) {
    let d = Daemon::start(&[("RUST_LOG", "siseri=debug")]);
    let holders = enrolled(&d.sandbox, &[PROTOCOL]);
    let h = &holders[0];
    let cert = vec![
        "--cert".to_owned(),
        format!("{}:{}", h.p12.display(), h.password),
        "--cert-type".to_owned(),
        "P12".to_owned(),
    ];
    (d, cert)
}

fn on_registry(d: &Daemon, cert: &[String], method: &str, path: &str, extra: &[&str]) -> Reply {
    let mut args = cert.to_vec();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let r = d.curl(method, &format!("{}{path}", d.registry), &args, None);
    assert_eq!(r.exit, 0, "{method} {path}: {}", r.stderr);
    r
}

fn on_public(d: &Daemon, method: &str, path: &str, extra: &[&str]) -> Reply {
    let args: Vec<String> = extra.iter().map(|s| (*s).to_owned()).collect();
    let r = d.curl(method, &format!("{}{path}", d.public), &args, None);
    assert_eq!(r.exit, 0, "{method} {path}: {}", r.stderr);
    r
}

fn assert_protected(r: &Reply, what: &str) {
    let h = |name: &str| {
        r.header(name)
            .unwrap_or_else(|| panic!("{what}: no {name} in\n{}", r.headers))
    };
    assert!(
        h("content-security-policy").contains("frame-ancestors 'none'"),
        "{what}"
    );
    assert_eq!(h("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(h("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(h("strict-transport-security"), "max-age=31536000", "{what}");
    assert_eq!(h("cache-control"), "no-store", "{what}");
}

fn assert_html_error(r: &Reply, status: u16, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.text());
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{what}: {}",
        r.headers
    );
    assert!(r.text().contains("lang=\"fr\""), "{what}: {}", r.text());
    assert_protected(r, what);
}

#[test]
fn every_page_of_both_listeners_carries_the_security_headers_and_is_never_cached() {
    let (d, cert) = daemon();
    for path in [
        "/",
        "/pass/",
        "/pass/preambule",
        "/retrait/jeton-inconnu",
        "/nulle-part",
    ] {
        let r = on_public(&d, "GET", path, &[]);
        assert_protected(&r, &format!("public {path} ({})", r.status));
    }
    for path in [
        "/",
        "/cartes",
        "/etablissements/1/travailleurs",
        "/api/v1/establishments",
        "/assets/siseri.css",
        "/nulle-part",
    ] {
        let r = on_registry(&d, &cert, "GET", path, &[]);
        assert_protected(&r, &format!("registry {path} ({})", r.status));
    }
}

#[test]
fn api_errors_are_json_on_both_listeners_over_both_protocols() {
    let (d, cert) = daemon();
    let big = vec![b'{'; 3 * 1024 * 1024];
    for proto in PROTOCOLS {
        let r = on_public(&d, "GET", "/api/v1/nulle-part", &[proto]);
        r.error(404, "not_found");
        let r = on_public(&d, "PATCH", "/api/v1/protocols", &[proto]);
        r.error(405, "method_not_allowed");
        let r = d.curl(
            "POST",
            &format!("{}/api/v1/protocols", d.public),
            &[proto.to_owned()],
            Some(("application/json", &big)),
        );
        r.error(413, "payload_too_large");

        let r = on_registry(&d, &cert, "GET", "/api/v1/nulle-part", &[proto]);
        r.error(404, "not_found");
        let r = on_registry(&d, &cert, "DELETE", "/api/v1/establishments", &[proto]);
        r.error(405, "method_not_allowed");
        let r = on_registry(&d, &cert, "GET", "/api/v1/establishments/abc", &[proto]);
        r.error(400, "bad_request");
        let mut args = cert.clone();
        args.push(proto.to_owned());
        let r = d.curl(
            "POST",
            &format!("{}/api/v1/session", d.registry),
            &args,
            Some(("application/json", &big)),
        );
        assert_eq!(r.exit, 0, "{}", r.stderr);
        r.error(413, "payload_too_large");
    }
}

#[test]
fn pages_answer_framework_errors_with_a_french_page() {
    let (d, cert) = daemon();
    for proto in PROTOCOLS {
        let r = on_public(&d, "GET", "/nulle-part", &[proto]);
        assert_html_error(&r, 404, "public 404");
        assert!(r.text().contains("Page introuvable"), "{}", r.text());
        let r = on_public(&d, "DELETE", "/pass/", &[proto]);
        assert_html_error(&r, 405, "public 405");
        assert!(r.header("allow").is_some(), "{}", r.headers);

        let r = on_registry(&d, &cert, "GET", "/nulle-part", &[proto]);
        assert_html_error(&r, 404, "registry 404");
        let r = on_registry(&d, &cert, "DELETE", "/cartes", &[proto]);
        assert_html_error(&r, 405, "registry 405");
    }
}

#[test]
fn a_document_a_little_or_far_over_the_limit_gets_the_same_json_413() {
    let d = Daemon::start(&[("SISERI_PASS_DOCUMENT_MAX_BYTES", "1048576")]);
    let protocol: Value = serde_json::from_str(PROTOCOL).expect("from_str failed");
    let created = d.json("POST", "/api/v1/protocols", None, &protocol).json();
    let id = created["id"].as_str().expect("no id");
    let token = created["draft_token"].as_str().expect("no token");
    let url = format!("{}/api/v1/protocols/{id}/documents/kbis", d.public);
    let mut bodies = Vec::new();
    // Whether curl asks `Expect: 100-continue` (and sends after 1 s without an answer) or sends
    // at once, the rest of a refused body is read before the answer goes: closing on unread data
    // would make curl's write fail (`Broken pipe`) before it reads the 413.
    // The paced sending (2 MB/s) keeps the client writing well after the server has refused,
    // which is the race a loaded machine produces by chance.
    let expects = [
        &["-H", "Expect:"][..],
        &[][..],
        &["-H", "Expect:", "--limit-rate", "2M"][..],
    ];
    for size in [1024 * 1024 + 10, 4 * 1024 * 1024] {
        for proto in PROTOCOLS {
            for expect in expects {
                let mut args = vec![
                    proto.to_owned(),
                    "-H".to_owned(),
                    format!("Authorization: Bearer {token}"),
                ];
                args.extend(expect.iter().map(|a| (*a).to_owned()));
                let r = d.curl(
                    "POST",
                    &url,
                    &args,
                    Some(("application/pdf", &vec![b'%'; size])),
                );
                assert_eq!(r.exit, 0, "{size} bytes, {proto} {expect:?}: {}", r.stderr);
                bodies.push(r.error(413, "document_too_large"));
            }
        }
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
}

/// A client that sends a long body without waiting (no `Expect`), pausing once the server has
/// seen enough to refuse it, must still be able to send the rest and read the 413: the server
/// reads and drops a refused body before it answers instead of closing under the client's feet.
#[test]
fn a_refused_body_still_being_sent_is_read_before_the_answer() {
    let d = Daemon::start(&[("SISERI_PASS_DOCUMENT_MAX_BYTES", "1048576")]);
    let protocol: Value = serde_json::from_str(PROTOCOL).expect("from_str failed");
    let created = d.json("POST", "/api/v1/protocols", None, &protocol).json();
    let id = created["id"].as_str().expect("no id");
    let token = created["draft_token"].as_str().expect("no token");
    let addr = d.public.trim_start_matches("https://");
    let mut tls = tls_client(&d.ca, addr);
    // More than the sockets' buffers hold on either side.
    let size = 16 * 1024 * 1024;
    let head = format!(
        "POST /api/v1/protocols/{id}/documents/kbis HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/pdf\r\n\
         Content-Length: {size}\r\n\r\n"
    );
    tls.write_all(head.as_bytes()).expect("headers");
    let first = 1024 * 1024 + 64 * 1024;
    tls.write_all(&vec![b'%'; first]).expect("first part");
    tls.flush().expect("flush");
    // Time for the server to refuse (and, before the fix, to close).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    tls.write_all(&vec![b'%'; size - first])
        .expect("the rest of the body could not be sent");
    tls.flush().expect("flush");
    tls.sock
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .expect("timeout");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf).expect("no answer");
        assert!(n > 0, "closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
}

#[test]
fn request_logs_never_hold_a_withdrawal_token() {
    let d = Daemon::start(&[("RUST_LOG", "siseri=debug")]);
    let token = "JetonDeRetraitSecret42";
    on_public(
        &d,
        "GET",
        &format!("/retrait/{token}"),
        &["-H", "Cookie: siseri_session=CookieSecret77"],
    );
    let log = d.log();
    assert!(log.contains("/retrait/…"), "no request line:\n{log}");
    assert!(!log.contains(token), "{log}");
    assert!(!log.contains("CookieSecret77"), "{log}");
}
