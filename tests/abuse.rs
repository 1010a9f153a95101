//! The anonymous side under abuse, over HTTPS as an attacker would drive it: draft spam, SMS
//! bombing of one number through many drafts, withdrawal guessing across links; and the
//! Annexe 1 PDF, which is made once at signature and never rebuilt per download.

mod common;

use common::daemon::Daemon;
use common::fixtures::{PDF, PNG, PROTOCOL};
use serde_json::{json, Value};

fn protocol() -> Value {
    serde_json::from_str(PROTOCOL).expect("fixture")
}

fn retry_after(reply: &common::daemon::Reply) -> u64 {
    reply
        .header("retry-after")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After in {}", reply.headers))
}

#[test]
fn draft_creation_is_limited_per_client_address_and_the_refusal_stores_nothing() {
    let d = Daemon::start(&[("SISERI_PASS_DRAFTS_PER_HOUR", "3")]);
    for _ in 0..3 {
        d.json("POST", "/api/v1/protocols", None, &protocol())
            .ok(201);
    }
    let refused = d.json("POST", "/api/v1/protocols", None, &protocol());
    let body = refused.error(429, "too_many_requests");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Trop de tentatives")),
        "{body}"
    );
    assert_eq!(retry_after(&refused), 3600);
    // Once over the limit, the address is refused before its body is read: even a body that
    // does not parse gets the 429, not the 400 parsing it would cost; and it hears so only
    // after a pause of a second (a tarpit for scripts that post again at once). The bound is
    // a floor the server itself sets, not a speed.
    let asked = std::time::Instant::now();
    d.call(
        "POST",
        "/api/v1/protocols",
        None,
        Some(("application/json", b"{pas du json".as_slice())),
    )
    .error(429, "too_many_requests");
    assert!(
        asked.elapsed() >= std::time::Duration::from_millis(950),
        "an address over its limit was answered without the pause"
    );
    assert_eq!(d.sandbox.count("enroll_versions"), 3);
}

#[test]
fn signature_codes_to_one_number_are_limited_whatever_the_draft() {
    let d = Daemon::start(&[("SISERI_PASS_SMS_PER_NUMBER_PER_HOUR", "2")]);
    // Three drafts naming the same legal representative's mobile.
    let drafts: Vec<(String, String)> = (0..3).map(|_| d.draft(&protocol(), PDF, PNG)).collect();
    let ask = |(id, token): &(String, String)| {
        d.json(
            "POST",
            &format!("/api/v1/protocols/{id}/signature-code"),
            Some(token),
            &json!({"consent": true}),
        )
    };
    ask(&drafts[0]).ok(202);
    ask(&drafts[1]).ok(202);
    let refused = ask(&drafts[2]);
    refused.error(429, "too_many_requests");
    assert!(retry_after(&refused) >= 60);
    assert_eq!(d.outbox("outbox/sms", "json").len(), 2, "no third SMS");
}

#[test]
fn withdrawal_attempts_are_limited_per_client_address_across_links() {
    let d = Daemon::start(&[(
        "SISERI_ACCESS_WITHDRAWAL_ATTEMPTS_PER_ADDRESS_PER_HOUR",
        "3",
    )]);
    let attempt = |n: u32| {
        d.json(
            "POST",
            &format!("/retrait/lien-invente-{n}"),
            None,
            &json!({"code": "ABCDEFGHJ"}),
        )
    };
    for n in 0..3 {
        attempt(n).error(404, "not_found");
    }
    let refused = attempt(3);
    refused.error(429, "too_many_requests");
    assert_eq!(retry_after(&refused), 3600);
}

#[test]
fn the_annexe_pdf_is_made_at_signature_and_served_as_stored() {
    let d = Daemon::start(&[]);
    let signed = d.sign(&protocol());
    // Made before anyone asked for it.
    assert_eq!(d.sandbox.count("enroll_annexe_pdfs"), 1);
    let path = format!("/api/v1/protocols/{}/annexe1.pdf", signed.id);
    let first = d.call("GET", &path, Some(&signed.token), None).ok(200);
    let second = d.call("GET", &path, Some(&signed.token), None).ok(200);
    assert!(first.body.starts_with(b"%PDF"));
    assert_eq!(first.body, second.body);
    let stored: Vec<u8> = d
        .sandbox
        .db()
        .query_row(
            "SELECT pdf FROM enroll_annexe_pdfs WHERE version_id = ?1",
            [&signed.id],
            |r| r.get(0),
        )
        .expect("stored PDF");
    assert_eq!(stored, first.body);
}
