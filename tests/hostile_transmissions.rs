//! Issue 16, hostile senders of transmissions, over mutual TLS with a real daemon and curl: an
//! endless line, a binary file, a CSV file without its BOM, cells that a spreadsheet would run
//! as formulas, control and bidirectional characters in names, a SIRET the body does not serve
//! told apart from one that does not exist. Each gets a clean French answer that does not echo
//! what was sent, and changes nothing it should not.

mod common;

use common::transmission::{csv, line, verified, World, SURGERY_SIRET};

const DIDIER: (&str, &str) = ("2760912346445", "12");
const PASSIVE: &str = "passive;01/01/2025;31/01/2025;mSv;0,25;;;;;;;;DOS-1;";

/// What a refused file must leave as it was.
fn state(w: &World) -> (i64, i64, i64) {
    (
        w.count("registry_transmissions"),
        w.count("registry_doses"),
        w.count("registry_transmission_pending"),
    )
}

#[test]
fn whole_files_that_are_not_transmissions_are_refused_in_french_and_record_nothing() {
    let w = World::new();
    let body = w.body();
    let before = state(&w);

    // An endless line: refused as soon as it passes the bound, nothing kept.
    let mut huge = csv(&[line(
        SURGERY_SIRET,
        DIDIER.0,
        DIDIER.1,
        "DIDIER",
        "Valérie",
        PASSIVE,
    )]);
    huge.extend(std::iter::repeat_n(b'A', 200 * 1024));
    let a = w.send(&body, "text/csv", &huge);
    let v = a.error(413, "line_too_long");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("Kio")),
        "{v}"
    );
    assert_eq!(state(&w), before, "the good line before it was rolled back");

    // Binary, as CSV and as JSON Lines.
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    let v = w
        .send(&body, "text/csv", &binary)
        .error(422, "transmission_refused");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("BOM")),
        "{v}"
    );
    let v = w
        .send(&body, "application/json", &binary)
        .error(422, "transmission_refused");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("JSON Lines")),
        "{v}"
    );

    // A spreadsheet's CSV without its BOM.
    let bomless = csv(&[line(
        SURGERY_SIRET,
        DIDIER.0,
        DIDIER.1,
        "DIDIER",
        "Valérie",
        PASSIVE,
    )]);
    let v = w
        .send(&body, "text/csv", &bomless[3..])
        .error(422, "transmission_refused");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("BOM")),
        "{v}"
    );

    // Another header, and another media type.
    let other = b"\xEF\xBB\xBFnom;prenom;=cmd|' /C calc'!A0\n".to_vec();
    let a = w.send(&body, "text/csv", &other);
    let v = a.error(422, "transmission_refused");
    assert!(!a.text().contains("calc"), "{v}");
    w.send(&body, "application/x-www-form-urlencoded", b"a=b")
        .error(415, "unsupported_media_type");
    assert_eq!(state(&w), before);
    // Each refusal is audited, with why, never with what was sent.
    let reasons: Vec<String> = {
        let db = w.sb.db();
        let mut stmt = db
            .prepare(
                "SELECT details FROM audit_log WHERE action = 'registry.transmission.refused'
                 ORDER BY seq",
            )
            .expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].contains("line_too_long"), "{reasons:?}");
    assert!(reasons.iter().all(|r| !r.contains("calc")), "{reasons:?}");
}

#[test]
fn formula_cells_and_control_characters_are_refused_line_by_line_without_echo() {
    let w = World::new();
    let body = w.body();
    let doses = w.count("registry_doses");
    let hostile = [
        ("=HYPERLINK(\"http://evil.example\")", "Valérie", "DOS-1"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "Valérie", "DOS-2"),
        ("DIDIER", "Val\u{1b}[2Jérie", "DOS-3"),
        ("DIDIER", "Val\u{202e}eirél", "DOS-4"),
        ("DIDIER", "Valérie", "=1+2"),
        ("DIDIER", "Val\u{7}érie", "DOS-5"),
    ];
    let lines: Vec<String> = hostile
        .iter()
        .map(|(last, first, reference)| {
            line(
                SURGERY_SIRET,
                DIDIER.0,
                DIDIER.1,
                last,
                first,
                &PASSIVE.replace("DOS-1", reference),
            )
        })
        .collect();
    let reply = w.send(&body, "text/csv", &csv(&lines)).ok(200);
    let doc = verified(&w.sb, &reply.body, "hostile");
    assert_eq!(doc["accepted"], 0, "{doc}");
    assert_eq!(doc["rejected"], hostile.len() as u64, "{doc}");
    let text = doc.to_string();
    for needle in [
        "HYPERLINK",
        "evil",
        "calc",
        "SUM",
        "\u{1b}",
        "\u{202e}",
        "1+2",
        "\u{7}",
    ] {
        assert!(!text.contains(needle), "{needle:?} echoed: {text}");
    }
    for r in doc["rejected_lines"].as_array().expect("lines") {
        let reason = r["reason"].as_str().expect("reason");
        assert!(reason.starts_with("Colonne "), "{reason}");
    }
    assert_eq!(w.count("registry_doses"), doses);
    assert_eq!(w.count("registry_transmission_pending"), 0);
}

#[test]
fn a_siret_the_body_does_not_serve_reads_the_same_as_one_that_does_not_exist() {
    let w = World::new();
    let body = w.body();
    let clinic = common::transmission::CLINIC_SIRET;
    // Luhn-valid, on no protocol.
    let nowhere = "40483304800022";
    let file = csv(&[
        line(clinic, DIDIER.0, DIDIER.1, "DIDIER", "Valérie", PASSIVE),
        line(nowhere, DIDIER.0, DIDIER.1, "DIDIER", "Valérie", PASSIVE),
    ]);
    let doc = verified(
        &w.sb,
        &w.send(&body, "text/csv", &file).ok(200).body,
        "siret",
    );
    let reasons: Vec<&str> = doc["rejected_lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|r| r["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons.len(), 2, "{doc}");
    assert_eq!(reasons[0], reasons[1]);
    assert_eq!(w.count("registry_transmission_pending"), 0);
}

#[test]
fn blank_lines_before_a_bad_one_still_give_a_signed_recepisse() {
    // Skipped without being counted, they made the bad line's number exceed the récépissé's
    // counts, which the signer refuses: the sender got a 503 and no récépissé.
    let w = World::new();
    let body = w.body();
    let mut file = csv(&[]);
    file.extend_from_slice(b"\r\n  \r\n\r\n");
    file.extend_from_slice(
        line(SURGERY_SIRET, DIDIER.0, "13", "DIDIER", "Valérie", PASSIVE).as_bytes(),
    );
    let doc = verified(
        &w.sb,
        &w.send(&body, "text/csv", &file).ok(200).body,
        "blank",
    );
    let lines: Vec<u64> = doc["rejected_lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|r| r["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, [2, 3, 4, 5], "{doc}");
}

#[test]
fn a_recepisse_is_fetched_by_its_sender_only_and_a_person_needs_a_session() {
    let w = World::new();
    let body = w.body();
    let file = csv(&[line(
        SURGERY_SIRET,
        DIDIER.0,
        DIDIER.1,
        "DIDIER",
        "Valérie",
        PASSIVE,
    )]);
    let number = w
        .send(&body, "text/csv", &file)
        .ok(200)
        .header("siseri-recepisse")
        .expect("number");
    // Another sender, a number that does not exist, one that is not a number: one same 404.
    let cse = w.login("v.durand");
    let mut answers = Vec::new();
    for (who, n) in [
        (&cse, number.as_str()),
        (&body, "RT-2020-000000001"),
        (&body, "RT-2026-%2E%2E%2F%2E%2E"),
        (&body, "%3Cscript%3E"),
    ] {
        let a = w.call(
            who,
            "GET",
            &format!("/api/v1/transmissions/{n}/recepisse"),
            None,
            &[],
        );
        a.error(404, "not_found");
        answers.push(a.text());
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    // A correspondent sends no result; a person without a session sends nothing.
    let doc = verified(&w.sb, &w.send(&cse, "text/csv", &file).ok(200).body, "cse");
    assert_eq!(
        (doc["accepted"].as_u64(), doc["rejected"].as_u64()),
        (Some(0), Some(1))
    );
    let mut pcr = w.login("p.dillenseger");
    pcr.jar = None;
    let a = w.send(&pcr, "text/csv", &file);
    assert_eq!(a.status, 401, "{}", a.text());
    assert_eq!(w.count("registry_transmissions"), 2);
}
