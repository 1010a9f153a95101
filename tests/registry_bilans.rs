//! Issue 15 §2 and §4 through the real daemon: the new kinds of result and a correction, shown
//! corrected with a link to its history; the bilan for the PCR and the physician (JSON, the page
//! with its SVG chart and its tables, the CSV with formula-safe cells), refused to the
//! correspondent, every read audited.

mod common;

use common::enrolment::enrolled;
use common::fixtures::{PROTOCOL as SEED, WORKER};
use common::registry_client::{holder, Registry};
use common::Sandbox;
use serde_json::{json, Value};

fn audited(sb: &Sandbox, event: &str) -> i64 {
    sb.db()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = ?1",
            [event],
            |r| r.get(0),
        )
        .expect("audit count")
}

#[test]
fn corrections_show_corrected_with_their_history_and_the_bilan_is_for_pcr_and_physician_only() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let cse = reg.login(holder(&holders, "v.durand"));
    let mdt = reg.login(holder(&holders, "c.martin"));
    let pcr = reg.login(holder(&holders, "p.dillenseger"));
    let (_, list) = reg.call(&cse, "GET", "/api/v1/establishments", None);
    let a = list[0]["id"].as_i64().expect("an establishment");

    // The worker, employed since 2024, with a métier a spreadsheet would run as a formula.
    let mut line: Value = serde_json::from_str(WORKER).expect("fixture");
    line["employed_from"] = json!("01/01/2024");
    line["category"] = json!("B");
    line["job"] = json!("=1+1 Assistant");
    let (status, added) = reg.call(
        &cse,
        "POST",
        &format!("/api/v1/establishments/{a}/workers"),
        Some(&line),
    );
    assert_eq!(status, 201, "{added}");
    let w = added["worker_id"].as_i64().expect("worker id");
    let doses = format!("/api/v1/establishments/{a}/workers/{w}/doses");

    // §2: an aircrew result from the PCR, an equivalent dose from the physician, a passive
    // period of four months refused in French.
    let (status, body) = reg.call(
        &pcr,
        "POST",
        &doses,
        Some(&json!({"kind": "aircrew", "period_start": "01/04/2025",
                     "period_end": "30/04/2025", "e_msv": 0.5})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = reg.call(
        &mdt,
        "POST",
        &doses,
        Some(&json!({"kind": "equivalent", "period_start": "01/04/2025",
                     "period_end": "30/04/2025", "organ": "lens", "h_msv": 2.0})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = reg.call(
        &mdt,
        "POST",
        &doses,
        Some(&json!({"kind": "effective", "period_start": "01/05/2025",
                     "period_end": "31/05/2025", "e_msv": 9.0})),
    );
    assert_eq!(status, 201, "{body}");
    let original = body["id"].as_i64().expect("id");
    let (status, body) = reg.call(
        &mdt,
        "POST",
        &doses,
        Some(&json!({"kind": "effective", "period_start": "01/05/2025",
                     "period_end": "31/05/2025", "e_msv": 7.0, "replaces": original})),
    );
    assert_eq!(status, 201, "{body}");
    let correction = body["id"].as_i64().expect("id");
    let (status, body) = reg.call(
        &mdt,
        "POST",
        &doses,
        Some(&json!({"kind": "effective", "period_start": "01/05/2025",
                     "period_end": "31/05/2025", "e_msv": 1.0, "replaces": original})),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid")),
        "{body}"
    );
    assert!(body["fields"]["replaces"]
        .as_str()
        .is_some_and(|m| m.contains("déjà été corrigé")));

    // Every view shows the corrected value, with the way to its history.
    let (_, listed) = reg.call(&mdt, "GET", &doses, None);
    let effective: Vec<&Value> = listed["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter(|r| r["kind"] == "effective")
        .collect();
    assert_eq!(effective.len(), 1, "{listed}");
    // Sent without a SIRET: the establishment's, from its protocol, on the day it was recorded.
    assert!(
        listed["records"]
            .as_array()
            .expect("records")
            .iter()
            .all(|r| r["siret"] == "73282932000074" && r["unit"] == "mSv"),
        "{listed}"
    );
    assert_eq!(
        (&effective[0]["e_msv"], &effective[0]["replaces_id"]),
        (&json!(7.0), &json!(original))
    );
    let (status, history) = reg.call(&mdt, "GET", &format!("{doses}/{original}/history"), None);
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["history"][0]["id"], correction);
    assert_eq!(history["history"][1]["replaced_by"], correction);
    let page_base = format!("/etablissements/{a}/travailleurs/{w}/doses");
    let (status, page) = reg.page(&mdt, &page_base);
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!("{page_base}/{correction}/historique")),
        "{page}"
    );
    assert!(page.contains("7,000") && !page.contains("9,000"), "{page}");
    let (status, page) = reg.page(&mdt, &format!("{page_base}/{correction}/historique"));
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("<caption>") && page.contains(&format!("Remplacé par le n° {correction}"))
    );

    // §4: the bilan for the PCR (JSON): one worker of category B between 6 and 20 mSv.
    let (status, bilan) = reg.call(
        &pcr,
        "GET",
        &format!("/api/v1/establishments/{a}/bilans?on=30/06/2025"),
        None,
    );
    assert_eq!(status, 200, "{bilan}");
    assert_eq!(bilan["all"]["counts"], json!([0, 0, 0, 1, 0]), "{bilan}");
    assert_eq!(bilan["by_category"][0]["group"], "B");

    // The page: an SVG chart with its text alternative, beside a table; no script.
    let (status, page) = reg.page(&mdt, &format!("/etablissements/{a}/bilans?au=30/06/2025"));
    assert_eq!(status, 200, "{page}");
    for needle in [
        "<svg",
        "role=\"img\"",
        "aria-labelledby=\"ensemble-title ensemble-desc\"",
        "<title id=\"ensemble-title\">",
        "<desc id=\"ensemble-desc\">",
        "<caption>",
        "scope=\"row\"",
        "de 6 à 20 mSv",
        "href=\"/bilans\"",
    ] {
        assert!(page.contains(needle), "{needle} missing from {page}");
    }
    assert!(!page.contains("<script"), "{page}");

    // The CSV: BOM, `;`, the métier marked as text.
    let csv = reg.raw(
        &pcr,
        "GET",
        &format!("/etablissements/{a}/bilans.csv?au=30/06/2025"),
        None,
    );
    assert_eq!(csv.status, 200);
    assert!(
        csv.headers.to_lowercase().contains("text/csv"),
        "{}",
        csv.headers
    );
    let text = csv.text();
    assert!(text.starts_with("\u{feff}Regroupement;Groupe;"), "{text}");
    assert!(
        text.contains("Métier;'=1+1 Assistant;0;0;0;1;0;1"),
        "{text}"
    );

    // The correspondent: nothing, whatever the way in, and no menu entry.
    let (status, refused) = reg.call(
        &cse,
        "GET",
        &format!("/api/v1/establishments/{a}/bilans"),
        None,
    );
    assert_eq!(
        (status, refused["error"].as_str()),
        (403, Some("forbidden"))
    );
    assert_eq!(
        reg.page(&cse, &format!("/etablissements/{a}/bilans")).0,
        403
    );
    assert_eq!(
        reg.page(&cse, &format!("/etablissements/{a}/bilans.csv")).0,
        403
    );
    let (_, menu) = reg.page(&cse, "/cartes");
    assert!(!menu.contains("href=\"/bilans\""), "{menu}");
    // Every read of a bilan audited, the refusals too.
    assert_eq!(audited(&sb, "registry.bilan.read"), 3);
    assert_eq!(audited(&sb, "registry.denied"), 3);

    // A pregnancy is the physician's to declare.
    let (status, _) = reg.call(
        &pcr,
        "POST",
        &format!("/api/v1/establishments/{a}/workers/{w}/pregnancies"),
        Some(&json!({"declared_on": "01/03/2025", "ends_on": "30/11/2025"})),
    );
    assert_eq!(status, 403);
    let (status, body) = reg.call(
        &mdt,
        "POST",
        &format!("/api/v1/establishments/{a}/workers/{w}/pregnancies"),
        Some(&json!({"declared_on": "01/03/2025", "ends_on": "30/11/2025"})),
    );
    assert_eq!(status, 201, "{body}");
}
