//! Attacks on the dose model, corrections and bilans (issue 15 §2, §4) through the real daemon:
//! another employer's result cannot be corrected nor read through a history, hostile values
//! are refused without being echoed and without a 500, another establishment's bilan is not
//! found, and nothing is recorded by a refused request.

mod common;

use common::enrolment::{clinic_protocol, enrolled};
use common::fixtures::{PROTOCOL as SEED, WORKER};
use common::registry_client::{holder, Registry};
use common::Sandbox;
use serde_json::{json, Value};

fn results(sb: &Sandbox) -> i64 {
    sb.db()
        .query_row("SELECT count(*) FROM registry_doses", [], |r| r.get(0))
        .expect("count")
}

#[test]
fn another_employers_results_stay_out_of_reach_and_hostile_values_are_refused_cleanly() {
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
    let (a, b) = (reg.establishment(&cse_a), reg.establishment(&cse_b));

    // The same person, employed by A and by B since 2024.
    let mut line: Value = serde_json::from_str(WORKER).expect("fixture");
    line["employed_from"] = json!("01/01/2024");
    let mut ids = Vec::new();
    for (cse, e) in [(&cse_a, a), (&cse_b, b)] {
        let (status, added) = reg.call(
            cse,
            "POST",
            &format!("/api/v1/establishments/{e}/workers"),
            Some(&line),
        );
        assert_eq!(status, 201, "{added}");
        ids.push(added["worker_id"].as_i64().expect("worker id"));
    }
    let (wa, wb) = (ids[0], ids[1]);
    let (status, body) = reg.call(
        &mdt_b,
        "POST",
        &format!("/api/v1/establishments/{b}/workers/{wb}/doses"),
        Some(&json!({"kind": "effective", "period_start": "01/05/2025",
                     "period_end": "31/05/2025", "e_msv": 4.0})),
    );
    assert_eq!(status, 201, "{body}");
    let at_b = body["id"].as_i64().expect("id");
    let before = results(&sb);

    // A's physician "corrects" B's result to zero: unknown to A's employment, nothing recorded.
    let doses_a = format!("/api/v1/establishments/{a}/workers/{wa}/doses");
    let (status, refused) = reg.call(
        &mdt_a,
        "POST",
        &doses_a,
        Some(&json!({"kind": "effective", "period_start": "01/05/2025",
                     "period_end": "31/05/2025", "e_msv": 0.0, "replaces": at_b})),
    );
    assert_eq!(
        (status, refused["error"].as_str()),
        (422, Some("invalid")),
        "{refused}"
    );
    assert_eq!(results(&sb), before);

    // A's PCR reads B's result neither by A's worker nor by B's: not found, like a missing one.
    for path in [
        format!("{doses_a}/{at_b}/history"),
        format!("/api/v1/establishments/{b}/workers/{wb}/doses/{at_b}/history"),
        format!("/etablissements/{a}/travailleurs/{wa}/doses/{at_b}/historique"),
    ] {
        let (status, body) = reg.send(&pcr_a, "GET", &path, None);
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            !body.contains("4.0") && !body.contains("4,000"),
            "{path}: {body}"
        );
    }
    // Nor B's bilan.
    let (status, _) = reg.call(
        &pcr_a,
        "GET",
        &format!("/api/v1/establishments/{b}/bilans"),
        None,
    );
    assert_eq!(status, 404);
    let (status, _) = reg.send(
        &pcr_a,
        "GET",
        &format!("/etablissements/{b}/bilans.csv"),
        None,
    );
    assert_eq!(status, 404);

    // Hostile values: refused with a French field message that does not repeat them, no 500.
    let hostile = "<script>alert(1)</script>";
    for (body, field) in [
        (
            json!({"kind": "internal", "period_start": "01/05/2025", "period_end": "31/05/2025",
                   "e_msv": 0.1, "siret": hostile}),
            Some("siret"),
        ),
        (
            json!({"kind": "equivalent", "period_start": "01/05/2025", "period_end": "31/05/2025",
                   "h_msv": 1.0, "organ": hostile}),
            None,
        ),
        (
            json!({"kind": "effective", "period_start": "01/05/2025", "period_end": "31/05/2025",
                   "e_msv": 1.0, "replaces": -7}),
            Some("replaces"),
        ),
        (
            json!({"kind": "effective", "period_start": "01/05/2025", "period_end": "31/05/2025",
                   "e_msv": 1.0, "replaces": 1e300}),
            None,
        ),
        (
            json!({"kind": "effective", "period_start": "01/05/2025", "period_end": "31/05/2025",
                   "e_msv": 1e300, "radon_bqhm3": 1.0}),
            Some("e_msv"),
        ),
        (
            json!({"kind": "effective", "period_start": "01/05/2025", "period_end": "31/05/2025",
                   "e_msv": 1.0, "replaces": i64::MAX}),
            Some("replaces"),
        ),
    ] {
        let (status, refused) = reg.call(&mdt_a, "POST", &doses_a, Some(&body));
        assert!(
            matches!(status, 400 | 422),
            "{status} for {body}: {refused}"
        );
        let text = refused.to_string();
        assert!(
            !text.contains("<script>") && !text.contains("alert(1)"),
            "{text}"
        );
        if let Some(field) = field {
            assert!(refused["fields"][field].is_string(), "{body}: {refused}");
        }
    }
    // A kind the PCR does not send, dressed as its own: refused by the matrix.
    let (status, refused) = reg.call(
        &pcr_a,
        "POST",
        &doses_a,
        Some(&json!({"kind": "no_result", "period_start": "01/05/2025",
                     "period_end": "31/05/2025"})),
    );
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("forbidden")),
        "{refused}"
    );
    assert_eq!(results(&sb), before, "no refused request recorded anything");
}
