//! Issue 15 §1 and §3 through the real daemon: one worker declared by two employers is one
//! person; another identity for their NIR is refused with `identity_conflict` and listed by
//! `siseri registry conflicts`; a dose from each employer adds up, and the crossing of the
//! 20 mSv limit alerts the physicians and PCRs of both employers — the e-mails, through the
//! durable outbox, say only that an alert awaits (no dose, no name).

mod common;

use std::path::PathBuf;

use common::enrolment::{clinic_protocol, enrolled};
use common::fixtures::{PROTOCOL as SEED, WORKER};
use common::mail::{outbox_files, outbox_files_when, read_mails};
use common::registry_client::{holder, Registry};
use common::{run_ok, stdout, Sandbox};
use serde_json::{json, Value};

fn mail_dir(sb: &Sandbox) -> PathBuf {
    sb.data_file("outbox/mail")
}

#[test]
fn two_employers_one_person_conflicts_listed_and_a_crossing_alerts_both_by_a_bare_email() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED, &clinic_protocol()]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let cse_a = reg.login(holder(&holders, "v.durand"));
    let mdt_a = reg.login(holder(&holders, "c.martin"));
    let pcr_a = reg.login(holder(&holders, "p.dillenseger"));
    let cse_b = reg.login(holder(&holders, "l.bernard"));
    let mdt_b = reg.login(holder(&holders, "a.petit"));
    let pcr_b = reg.login(holder(&holders, "m.roux"));
    let (a, b) = (reg.establishment(&cse_a), reg.establishment(&cse_b));

    // §1: the same NIR declared by both employers is one person with two employments.
    let line: Value = serde_json::from_str(WORKER).unwrap();
    let (status, added) = reg.call(
        &cse_a,
        "POST",
        &format!("/api/v1/establishments/{a}/workers"),
        Some(&line),
    );
    assert_eq!(status, 201, "{added}");
    let wa = added["worker_id"].as_i64().unwrap();
    let (status, added) = reg.call(
        &cse_b,
        "POST",
        &format!("/api/v1/establishments/{b}/workers"),
        Some(&line),
    );
    assert_eq!(status, 201, "{added}");
    let wb = added["worker_id"].as_i64().unwrap();
    let persons: i64 = sb
        .db()
        .query_row(
            "SELECT count(DISTINCT person_id) FROM registry_workers",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(persons, 1);

    // Another identity for that NIR: refused, the NIR not echoed, listed for the operators.
    let mut other = line.clone();
    other["last_name"] = json!("MARTIN");
    other["operation"] = json!("modification");
    other["new_card"] = json!(false);
    let (status, refused) = reg.call(
        &cse_b,
        "POST",
        &format!("/api/v1/establishments/{b}/workers"),
        Some(&other),
    );
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "identity_conflict");
    assert!(!refused.to_string().contains("2760912346445"));
    let listing = stdout(&run_ok(&mut sb.siseri(["registry", "conflicts"])));
    assert!(listing.contains("MARTIN Valérie"), "{listing}");
    assert!(listing.contains(&format!("établissement {b}")), "{listing}");
    assert!(!listing.contains("2760912346445"), "{listing}");

    // §3: 12 mSv from A's physician, 9 mSv from B's: 21 mSv over 12 months.
    let before = outbox_files(&mail_dir(&sb), "eml").len();
    for (who, e, w, start, end, e_msv) in [
        (&mdt_a, a, wa, "01/01/2025", "31/01/2025", 12.0),
        (&mdt_b, b, wb, "01/03/2025", "31/03/2025", 9.0),
    ] {
        let dose =
            json!({"kind": "effective", "period_start": start, "period_end": end, "e_msv": e_msv});
        let (status, body) = reg.call(
            who,
            "POST",
            &format!("/api/v1/establishments/{e}/workers/{w}/doses"),
            Some(&dose),
        );
        assert_eq!(status, 201, "{body}");
    }
    let (_, rolling) = reg.call(
        &pcr_a,
        "GET",
        &format!("/api/v1/establishments/{a}/workers/{wa}/doses/effective?on=31/03/2025"),
        None,
    );
    assert_eq!(rolling["effective_msv"], 21.0, "{rolling}");

    for (who, e, w) in [
        (&mdt_a, a, wa),
        (&pcr_a, a, wa),
        (&mdt_b, b, wb),
        (&pcr_b, b, wb),
    ] {
        let (status, alerts) = reg.call(
            who,
            "GET",
            &format!("/api/v1/establishments/{e}/alerts"),
            None,
        );
        assert_eq!(status, 200, "{alerts}");
        assert_eq!(alerts.as_array().map(Vec::len), Some(1), "{alerts}");
        assert_eq!(alerts[0]["limit"], "effective");
        assert_eq!(alerts[0]["worker_id"], w);
    }
    let (status, refused) = reg.call(
        &cse_a,
        "GET",
        &format!("/api/v1/establishments/{a}/alerts"),
        None,
    );
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("forbidden"))
    );

    // One e-mail to each physician and PCR of both employers, and nobody else.
    let files = outbox_files_when(
        &mail_dir(&sb),
        "eml",
        before + 4,
        std::time::Duration::from_secs(60),
        String::new,
    );
    let mails = read_mails(&files[before..]);
    let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "a.petit@sst-vosges.example",
            "c.martin@sst-alsace.example",
            "m.roux@radioprotection-est.example",
            "p.dillenseger@alara.example",
        ]
    );
    for m in &mails {
        assert!(m.subject.contains("alerte"), "{}", m.subject);
        for secret in ["DIDIER", "Valérie", "21", "mSv", "2760912346445"] {
            assert!(!m.body.contains(secret), "{secret} in {}", m.body);
        }
    }

    // The page: the physician is offered to acknowledge, the PCR sees it waiting, the
    // correspondent is refused.
    let page = |who: &[String]| reg.call(who, "GET", &format!("/etablissements/{a}/alertes"), None);
    let (status, html) = page(&mdt_a);
    let html = html.as_str().unwrap_or_default().to_owned();
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<caption>Alertes concernant les travailleurs"),
        "{html}"
    );
    assert!(html.contains("Acquitter"), "{html}");
    assert!(html.contains("21,000"), "{html}");
    let (status, html) = page(&pcr_a);
    assert_eq!(status, 200);
    let html = html.as_str().unwrap_or_default().to_owned();
    assert!(
        html.contains("En attente") && !html.contains("Acquitter</button>"),
        "{html}"
    );
    assert_eq!(page(&cse_a).0, 403);

    // The physician acknowledges; the PCR may not.
    let (_, alerts) = reg.call(
        &mdt_a,
        "GET",
        &format!("/api/v1/establishments/{a}/alerts"),
        None,
    );
    let id = alerts[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/establishments/{a}/alerts/{id}/acknowledge");
    let (status, _) = reg.call(&pcr_a, "POST", &path, None);
    assert_eq!(status, 403);
    let (status, done) = reg.call(&mdt_a, "POST", &path, None);
    assert_eq!((status, done["acknowledged"].as_bool()), (200, Some(true)));
    let (_, alerts) = reg.call(
        &pcr_b,
        "GET",
        &format!("/api/v1/establishments/{b}/alerts"),
        None,
    );
    assert!(alerts[0]["acknowledged_at"].is_string(), "{alerts}");
}
