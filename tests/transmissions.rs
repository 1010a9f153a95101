//! Issue 16 over mutual TLS, a real daemon, curl as every sender: a dosimetry body's mixed
//! file gives exactly the expected récépissé, which `openssl cms -verify` and `siseri
//! recepisse verify` accept; the same file again gives the same récépissé, byte for byte, and
//! no second result; the undeclared NIR's line becomes a result once the employer declares the
//! worker; a PCR sends only where the protocol ticks "Envoi des informations dosimétriques",
//! and the physician sends internal and equivalent doses. The operators' CLI lists it all.

mod common;

use common::transmission::{csv, line, verified, Client, World, CLINIC_SIRET, SURGERY_SIRET};
use common::{run_ok, stdout};
use serde_json::{json, Value};

/// DIDIER Valérie, the seed's worker on the surgery's list.
const DIDIER: (&str, &str) = ("2760912346445", "12");
/// MARCHAL Julie, on nobody's list (yet).
const JULIE: (&str, &str) = ("2550814168025", "38");

fn didier(siret: &str, rest: &str) -> String {
    line(siret, DIDIER.0, DIDIER.1, "DIDIER", "Valérie", rest)
}

fn rejected(doc: &Value) -> Vec<(u64, String)> {
    doc["rejected_lines"]
        .as_array()
        .expect("rejected_lines")
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["reason"].as_str().expect("reason").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_bodys_mixed_file_gives_exactly_the_expected_signed_recepisse_and_the_same_one_again() {
    let w = World::new();
    let body = w.body();
    let passive = "passive;01/01/2025;31/01/2025;mSv;0,25;;;;;;;;DOS-1;";
    let file = csv(&[
        // 2: accepted.
        didier(SURGERY_SIRET, passive),
        // 3: the NIR's key is wrong.
        line(SURGERY_SIRET, DIDIER.0, "13", "DIDIER", "Valérie", passive),
        // 4: the NIR is DIDIER's, the name is not.
        line(
            SURGERY_SIRET,
            DIDIER.0,
            DIDIER.1,
            "DUPONT",
            "Marie",
            passive,
        ),
        // 5: a NIR the surgery has not declared: pending.
        line(
            SURGERY_SIRET,
            JULIE.0,
            JULIE.1,
            "MARCHAL",
            "Julie",
            "passive;01/01/2025;31/01/2025;mSv;0.4;;;;;;;;DOS-2;",
        ),
        // 6: the clinic has not named this body.
        didier(
            CLINIC_SIRET,
            "passive;01/01/2025;31/01/2025;mSv;0,1;;;;;;;;DOS-3;",
        ),
        // 7: line 2 again.
        didier(SURGERY_SIRET, passive),
        // 8: absence de résultat (§3), accepted.
        didier(
            SURGERY_SIRET,
            "no_result;01/02/2025;28/02/2025;;;;;;;;;;ABS-1;",
        ),
        // 9: operational results are the PCR's, not the body's.
        didier(
            SURGERY_SIRET,
            "operational;01/01/2025;31/01/2025;mSv;0,1;;;;;;;;OP-1;",
        ),
    ]);
    let doses = w.count("registry_doses");
    let reply = w.send(&body, "text/csv", &file).ok(200);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/pkcs7-mime")),
        "{}",
        reply.headers
    );
    let number = reply.header("siseri-recepisse").expect("number header");
    let doc = verified(&w.sb, &reply.body, "first");
    assert_eq!(doc["number"], number.as_str());
    assert_eq!(
        (&doc["accepted"], &doc["pending"], &doc["rejected"]),
        (&json!(2), &json!(1), &json!(5)),
        "{doc}"
    );
    let reasons = rejected(&doc);
    let lines: Vec<u64> = reasons.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [3, 4, 6, 7, 9], "{doc}");
    assert!(reasons[0].1.contains("clé"), "{}", reasons[0].1);
    assert!(reasons[1].1.contains("nom"), "{}", reasons[1].1);
    assert!(reasons[2].1.contains("SIRET"), "{}", reasons[2].1);
    assert!(reasons[3].1.contains("Doublon"), "{}", reasons[3].1);
    assert!(
        reasons[4].1.contains("type de résultat"),
        "{}",
        reasons[4].1
    );
    let sha = {
        use sha2_like::hex_sha256;
        hex_sha256(&file)
    };
    assert_eq!(doc["file_sha256"], sha.as_str());
    assert!(
        doc["sender"]["subject"]
            .as_str()
            .is_some_and(|s| s.contains(common::transmission::BODY_CN)),
        "{doc}"
    );
    assert_eq!(w.count("registry_doses"), doses + 2);
    // Nothing of the lines' personal data in the récépissé.
    let text = doc.to_string();
    assert!(
        !text.contains("DUPONT") && !text.contains(JULIE.0),
        "{text}"
    );

    // `siseri recepisse verify` agrees.
    let shown = stdout(&run_ok(&mut w.sb.siseri([
        "recepisse".as_ref(),
        "verify".as_ref(),
        w.sb.path("first.der").as_os_str(),
    ])));
    assert!(shown.contains(&number), "{shown}");

    // The same file again: the same récépissé, byte for byte, and no new result.
    let again = w.send(&body, "text/csv", &file).ok(200);
    assert_eq!(again.body, reply.body);
    assert_eq!(w.count("registry_doses"), doses + 2);
    assert_eq!(w.count("registry_transmissions"), 1);
    // Fetched again by its number, by its sender; as JSON on request.
    let fetched = w
        .call(
            &body,
            "GET",
            &format!("/api/v1/transmissions/{number}/recepisse"),
            None,
            &[],
        )
        .ok(200);
    assert_eq!(fetched.body, reply.body);
    let as_json = w
        .call(
            &body,
            "GET",
            &format!("/api/v1/transmissions/{number}/recepisse"),
            None,
            &["Accept: application/json"],
        )
        .ok(200)
        .json();
    assert_eq!(as_json["numero"], number.as_str());
    // Nobody else fetches it.
    let pcr = w.login("p.dillenseger");
    w.call(
        &pcr,
        "GET",
        &format!("/api/v1/transmissions/{number}/recepisse"),
        None,
        &[],
    )
    .error(404, "not_found");

    // The operators see it, its pending line, and the audit log names it.
    let listed = stdout(&run_ok(&mut w.sb.siseri(["transmission", "list"])));
    assert!(
        listed.contains(&number) && listed.contains("1 en attente"),
        "{listed}"
    );
    // Not yet listed by default ([transmissions] pending_days, 30 days), listed at 0.
    let default = stdout(&run_ok(&mut w.sb.siseri(["transmission", "pending"])));
    assert!(default.contains("aucune ligne en attente"), "{default}");
    let pending = stdout(&run_ok(&mut w.sb.siseri([
        "transmission",
        "pending",
        "--older-than",
        "0",
    ])));
    assert!(
        pending.contains(&number) && pending.contains("ligne 5"),
        "{pending}"
    );
    assert!(!pending.contains(JULIE.0), "the NIR is masked: {pending}");
    let older = stdout(&run_ok(&mut w.sb.siseri([
        "transmission",
        "pending",
        "--older-than",
        "3",
    ])));
    assert!(older.contains("aucune ligne en attente"), "{older}");
    let audited: i64 =
        w.sb.db()
            .query_row(
                "SELECT count(*) FROM audit_log WHERE action = 'registry.transmission.receive'",
                [],
                |r| r.get(0),
            )
            .expect("audit");
    assert_eq!(audited, 1);

    // The surgery declares Julie: her pending line becomes her result.
    let durand = w.login("v.durand");
    let mut julie: Value = serde_json::from_str(common::fixtures::WORKER).expect("worker");
    julie["last_name"] = json!("MARCHAL");
    julie["first_name"] = json!("Julie");
    julie["nir"] = json!(JULIE.0);
    julie["nir_key"] = json!(JULIE.1);
    w.call(
        &durand,
        "POST",
        &format!("/api/v1/establishments/{}/workers", w.surgery),
        Some(("application/json", julie.to_string().as_bytes())),
        &[],
    )
    .ok(201);
    assert_eq!(w.count("registry_doses"), doses + 3);
    let shown = stdout(&run_ok(&mut w.sb.siseri(["transmission", "show", &number])));
    assert!(
        shown.contains("rattachée") && shown.contains("ligne 9 refusée"),
        "{shown}"
    );
    let pending = stdout(&run_ok(&mut w.sb.siseri([
        "transmission",
        "pending",
        "--older-than",
        "0",
    ])));
    assert!(pending.contains("aucune ligne en attente"), "{pending}");

    // A correction names the result it replaces by the sender's reference.
    let fix = csv(&[didier(
        SURGERY_SIRET,
        "passive;01/01/2025;31/01/2025;mSv;0,3;;;;;;;;DOS-1b;DOS-1",
    )]);
    let doc = verified(&w.sb, &w.send(&body, "text/csv", &fix).ok(200).body, "fix");
    assert_eq!(
        (&doc["accepted"], &doc["rejected"]),
        (&json!(1), &json!(0)),
        "{doc}"
    );
    let replaced: i64 = w
        .sb
        .db()
        .query_row(
            "SELECT count(*) FROM registry_doses d JOIN registry_doses r ON r.id = d.replaces_id
             WHERE d.reference = 'DOS-1b' AND r.reference = 'DOS-1'",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(replaced, 1);
}

#[test]
fn a_pcr_sends_only_where_the_protocol_ticks_envoi_and_the_physician_sends_internal_doses() {
    let w = World::new();
    let operational = "operational;01/03/2025;07/03/2025;mSv;0,05;;;;;;;;OP-1;";
    let internal = "internal;01/01/2025;31/03/2025;mSv;;;;;0,2;;;;INT-1;";
    let equivalent = "equivalent;01/01/2025;31/03/2025;mSv;;;;;;lens;1,5;;EQ-1;";

    // The surgery's PCR: the box is ticked.
    let pcr = w.login("p.dillenseger");
    let file = csv(&[
        didier(SURGERY_SIRET, operational),
        didier(SURGERY_SIRET, internal),
    ]);
    let doc = verified(&w.sb, &w.send(&pcr, "text/csv", &file).ok(200).body, "pcr");
    assert_eq!(
        (&doc["accepted"], &doc["rejected"]),
        (&json!(1), &json!(1)),
        "{doc}"
    );
    assert_eq!(rejected(&doc)[0].0, 3);

    // The clinic's PCR: the box is not ticked.
    let roux = w.login("m.roux");
    let file = csv(&[didier(CLINIC_SIRET, operational)]);
    let doc = verified(
        &w.sb,
        &w.send(&roux, "text/csv", &file).ok(200).body,
        "roux",
    );
    assert_eq!(
        (&doc["accepted"], &doc["rejected"]),
        (&json!(0), &json!(1)),
        "{doc}"
    );
    assert!(rejected(&doc)[0].1.contains("envoi"), "{doc}");

    // The physician, in JSON Lines.
    let martin = w.login("c.martin");
    let mut jsonl = String::new();
    for (kind, rest) in [("internal", internal), ("equivalent", equivalent)] {
        let cells: Vec<&str> = rest.split(';').collect();
        let mut o = serde_json::Map::new();
        for (k, v) in [
            ("siret", SURGERY_SIRET),
            ("nir", DIDIER.0),
            ("cle", DIDIER.1),
            ("nom", "DIDIER"),
            ("prenom", "Valérie"),
            ("date_naissance", "12/09/1976"),
            ("type", kind),
            ("debut", cells[1]),
            ("fin", cells[2]),
            ("unite", "mSv"),
            ("reference", cells[12]),
        ] {
            o.insert(k.into(), json!(v));
        }
        if kind == "internal" {
            o.insert("e".into(), json!(0.2));
        } else {
            o.insert("organe".into(), json!("lens"));
            o.insert("h".into(), json!(1.5));
        }
        jsonl.push_str(&Value::Object(o).to_string());
        jsonl.push('\n');
    }
    let reply = w
        .call(
            &martin,
            "POST",
            "/api/v1/transmissions",
            Some(("application/json", jsonl.as_bytes())),
            &["Accept: application/json"],
        )
        .ok(200);
    let answer = reply.json();
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(answer["recepisse"].as_str().expect("base64"))
        .expect("base64");
    let doc = verified(&w.sb, &der, "martin");
    assert_eq!(
        (&doc["accepted"], &doc["rejected"]),
        (&json!(2), &json!(0)),
        "{doc}"
    );
    assert_eq!(doc["number"], answer["numero"]);
}

/// SHA-256 through OpenSSL's command line, an implementation other than the daemon's.
mod sha2_like {
    pub fn hex_sha256(data: &[u8]) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, data).expect("write");
        let out = super::common::openssl_ok([
            "dgst".as_ref(),
            "-sha256".as_ref(),
            "-r".as_ref(),
            file.as_os_str(),
        ]);
        out.split_whitespace().next().unwrap_or_default().to_owned()
    }
}

#[test]
fn the_published_example_files_are_accepted_and_their_json_twin_is_all_duplicates() {
    let w = World::new();
    let body = w.body();
    let root = env!("CARGO_MANIFEST_DIR");
    let csv_file = std::fs::read(format!("{root}/docs/exemples/transmission.csv")).expect("csv");
    let doc = verified(
        &w.sb,
        &w.send(&body, "text/csv", &csv_file).ok(200).body,
        "ex-csv",
    );
    assert_eq!(
        (&doc["accepted"], &doc["rejected"]),
        (&json!(4), &json!(0)),
        "{doc}"
    );
    let json_file = std::fs::read(format!("{root}/docs/exemples/transmission.json")).expect("json");
    let doc = verified(
        &w.sb,
        &w.send(&body, "application/json", &json_file).ok(200).body,
        "ex-json",
    );
    assert_eq!(
        (&doc["accepted"], &doc["rejected"]),
        (&json!(0), &json!(4)),
        "{doc}"
    );
    assert!(
        rejected(&doc)
            .iter()
            .all(|(_, why)| why.contains("Doublon")),
        "{doc}"
    );
    assert_eq!(w.count("registry_transmissions"), 2);
}

/// First and last day of the calendar month `back` months before this one, `jj/mm/aaaa`.
fn month_back(back: i32) -> (String, String) {
    let today = time::OffsetDateTime::now_utc().date();
    let index = today.year() * 12 + i32::from(u8::from(today.month())) - 1 - back;
    let (year, month) = (index.div_euclid(12), (index.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(month).expect("month");
    let last = month.length(year);
    (
        format!("01/{:02}/{year}", u8::from(month)),
        format!("{last:02}/{:02}/{year}", u8::from(month)),
    )
}

#[test]
fn a_month_with_neither_result_nor_absence_is_listed_for_the_operator_and_the_physician() {
    let w = World::new();
    let body = w.body();
    // A category A worker employed since four months ago.
    let durand = w.login("v.durand");
    let mut julie: Value = serde_json::from_str(common::fixtures::WORKER).expect("worker");
    julie["last_name"] = json!("MARCHAL");
    julie["first_name"] = json!("Julie");
    julie["nir"] = json!(JULIE.0);
    julie["nir_key"] = json!(JULIE.1);
    julie["category"] = json!("A");
    julie["employed_from"] = json!(month_back(4).0);
    w.call(
        &durand,
        "POST",
        &format!("/api/v1/establishments/{}/workers", w.surgery),
        Some(("application/json", julie.to_string().as_bytes())),
        &[],
    )
    .ok(201);
    let (m4, m3, m2) = (month_back(4), month_back(3), month_back(2));
    let julie_line =
        |rest: String| line(SURGERY_SIRET, JULIE.0, JULIE.1, "MARCHAL", "Julie", &rest);
    let file = csv(&[
        julie_line(format!("passive;{};{};mSv;0,1;;;;;;;;P-4;", m4.0, m4.1)),
        julie_line(format!("no_result;{};{};;;;;;;;;;A-3;", m3.0, m3.1)),
    ]);
    let doc = verified(&w.sb, &w.send(&body, "text/csv", &file).ok(200).body, "m");
    assert_eq!(doc["accepted"], 2, "{doc}");

    let missing = stdout(&run_ok(&mut w.sb.siseri(["transmission", "missing"])));
    assert!(
        missing.contains(&format!("du {} au {}", m2.0, m2.1)),
        "{missing}"
    );
    assert!(
        !missing.contains(&m4.0) && !missing.contains(&m3.0),
        "{missing}"
    );

    let martin = w.login("c.martin");
    let path = format!("/api/v1/establishments/{}/transmissions/missing", w.surgery);
    let listed = w.call(&martin, "GET", &path, None, &[]).ok(200).json();
    let periods: Vec<&str> = listed["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .map(|m| m["period_start"].as_str().expect("start"))
        .collect();
    assert!(periods.contains(&m2.0.as_str()), "{listed}");
    assert!(
        !periods.contains(&m4.0.as_str()) && !periods.contains(&m3.0.as_str()),
        "{listed}"
    );
    // Reading them is reading passive dosimetry: not the PCR's.
    let pcr = w.login("p.dillenseger");
    w.call(&pcr, "GET", &path, None, &[])
        .error(403, "forbidden");
    // The physician's alerts page shows them too.
    let page = w.call(
        &martin,
        "GET",
        &format!("/etablissements/{}/alertes", w.surgery),
        None,
        &[],
    );
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains(&m2.0) && page.text().contains("MARCHAL Julie"),
        "{}",
        page.text()
    );
    assert!(
        !missing.contains("MARCHAL"),
        "the operators' listing names no one: {missing}"
    );
}

#[test]
fn pending_lines_are_attached_by_an_import_and_refused_there_when_the_identity_differs() {
    let w = World::new();
    let body = w.body();
    let durand = |birth: &str, reference: &str| {
        format!(
            "{SURGERY_SIRET};1700367482001;86;DURAND;Vincent;{birth};passive;01/01/2025;31/01/2025;mSv;0,1;;;;;;;;{reference};"
        )
    };
    let file = csv(&[durand("12/03/1970", "P-1"), durand("01/01/1980", "P-2")]);
    let reply = w.send(&body, "text/csv", &file).ok(200);
    let number = reply.header("siseri-recepisse").expect("number");
    let doc = verified(&w.sb, &reply.body, "pending");
    assert_eq!(doc["pending"], 2, "{doc}");
    let doses = w.count("registry_doses");

    // The correspondent imports the seed's list, DURAND Vincent (born 12/03/1970) on it.
    let cse = w.login("v.durand");
    w.call(
        &cse,
        "POST",
        &format!("/api/v1/establishments/{}/workers/import", w.surgery),
        Some(("text/csv", common::fixtures::WORKERS_CSV.as_bytes())),
        &[],
    )
    .ok(200);
    assert_eq!(w.count("registry_doses"), doses + 1);
    let shown = stdout(&run_ok(&mut w.sb.siseri(["transmission", "show", &number])));
    assert!(
        shown.contains("ligne 2") && shown.contains("rattachée"),
        "{shown}"
    );
    assert!(
        shown.contains("ligne 3")
            && shown.contains("refusée : Le nom, le prénom ou la date de naissance"),
        "{shown}"
    );
}

/// Issue 17: the operators' console lists the transmissions and the lines still pending, shows
/// one with its counts, and gives its signed récépissé, byte for byte the sender's.
#[test]
fn the_console_lists_transmissions_and_pending_lines_and_gives_the_recepisse() {
    let w = World::with_operator();
    let body = w.body();
    let passive = "passive;01/01/2025;31/01/2025;mSv;0,25;;;;;;;;DOS-C1;";
    let file = csv(&[
        didier(SURGERY_SIRET, passive),
        line(SURGERY_SIRET, JULIE.0, JULIE.1, "MARCHAL", "Julie", passive),
    ]);
    let sent = w.send(&body, "text/csv", &file).ok(200);
    let doc = verified(&w.sb, &sent.body, "console");
    let number = doc["number"].as_str().expect("number").to_owned();
    assert_eq!(
        (&doc["accepted"], &doc["pending"]),
        (&json!(1), &json!(1)),
        "{doc}"
    );

    let list = w.console_get("/transmissions?jours=0").ok(200).text();
    assert!(list.contains(&number), "{list}");
    assert!(list.contains(common::transmission::BODY_CN), "{list}");
    // The pending line, its NIR masked (never the whole number).
    assert!(list.contains("Lignes en attente"), "{list}");
    assert!(!list.contains(JULIE.0), "a NIR in the page: {list}");
    assert!(list.contains(&format!("/transmissions/{number}")), "{list}");
    // Lines pending for less than 30 days are not listed by default.
    let default = w.console_get("/transmissions").ok(200).text();
    assert!(default.contains("Aucune ligne en attente"), "{default}");

    let one = w
        .console_get(&format!("/transmissions/{number}"))
        .ok(200)
        .text();
    assert!(one.contains("1 acceptée(s)"), "{one}");
    assert!(one.contains("recepisse.p7m"), "{one}");
    let receipt = w
        .console_get(&format!("/transmissions/{number}/recepisse.p7m"))
        .ok(200);
    assert!(
        receipt
            .headers
            .to_ascii_lowercase()
            .contains("application/pkcs7-mime"),
        "{}",
        receipt.headers
    );
    assert_eq!(
        receipt.body, sent.body,
        "the récépissé differs from the sender's"
    );

    // Unknown or malformed numbers: the same 404.
    for path in [
        "/transmissions/RT-2026-999999999",
        "/transmissions/x%27%3B--",
    ] {
        assert_eq!(w.console_get(path).status, 404, "{path}");
    }
    let audited: i64 =
        w.sb.db()
            .query_row(
                "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'registry.transmission.%'
             AND actor LIKE 'console:%'",
                [],
                |r| r.get(0),
            )
            .expect("audit");
    assert!(
        audited >= 4,
        "the console's reads are not audited ({audited})"
    );
}

/// Adds a worker to the surgery's list (as its correspondent `durand`); returns their id.
fn add_worker(
    w: &World,
    durand: &Client,
    (last, first): (&str, &str),
    nir: (&str, &str),
    birth: &str,
    category: &str,
) -> i64 {
    let mut v: Value = serde_json::from_str(common::fixtures::WORKER).expect("worker");
    v["last_name"] = json!(last);
    v["first_name"] = json!(first);
    v["nir"] = json!(nir.0);
    v["nir_key"] = json!(nir.1);
    v["birth_date"] = json!(birth);
    v["category"] = json!(category);
    w.call(
        durand,
        "POST",
        &format!("/api/v1/establishments/{}/workers", w.surgery),
        Some(("application/json", v.to_string().as_bytes())),
        &[],
    )
    .ok(201)
    .json()["worker_id"]
        .as_i64()
        .expect("worker_id")
}

/// The alerts the surgery's physician `martin` sees: (worker, limit, threshold in mSv, closed),
/// sorted.
fn alerts(w: &World, martin: &Client) -> Vec<(i64, String, f64, bool)> {
    let listed = w
        .call(
            martin,
            "GET",
            &format!("/api/v1/establishments/{}/alerts", w.surgery),
            None,
            &[],
        )
        .ok(200)
        .json();
    let mut seen: Vec<(i64, String, f64, bool)> = listed
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| {
            (
                a["worker_id"].as_i64().expect("worker_id"),
                a["limit"].as_str().expect("limit").to_owned(),
                a["limit_msv"].as_f64().expect("limit_msv"),
                !a["closed_at"].is_null(),
            )
        })
        .collect();
    seen.sort_by(|a, b| a.partial_cmp(b).expect("ordered"));
    seen
}

/// A transmission's results are checked against the limits as a result entered by hand is, with
/// what each line's NIR lookup found: the employer's category B (6 mSv over 12 months), a
/// declared pregnancy (1 mSv for the unborn child) and a minor's limit (6 mSv) each raise their
/// alert; the same dose for an adult of category A raises none. A correction sent in a later
/// transmission closes the alert its sums no longer justify.
#[test]
fn a_transmissions_results_raise_the_category_b_pregnancy_and_minor_alerts() {
    let w = World::new();
    let body = w.body();
    let durand = w.login("v.durand");
    let martin = w.login("c.martin");
    // MARCHAL Julie, classified B at the surgery, her pregnancy declared by the physician.
    let julie = add_worker(&w, &durand, ("MARCHAL", "Julie"), JULIE, "14/08/1955", "B");
    w.call(
        &martin,
        "POST",
        &format!(
            "/api/v1/establishments/{}/workers/{julie}/pregnancies",
            w.surgery
        ),
        Some((
            "application/json",
            br#"{"declared_on": "01/03/2025", "ends_on": "30/11/2025"}"#,
        )),
        &[],
    )
    .ok(201);
    // PETIT Léa, an apprentice born in September 2008: 16 in 2025, category A.
    const LEA: (&str, &str) = ("2080975123045", "03");
    let lea = add_worker(&w, &durand, ("PETIT", "Léa"), LEA, "14/09/2008", "A");

    // A line for someone born on `birth` (the common `line` gives the seed's birth date).
    let of = |(nir, key): (&str, &str), names: &str, birth: &str, rest: &str| {
        format!("{SURGERY_SIRET};{nir};{key};{names};{birth};{rest}")
    };

    let passive = "passive;01/04/2025;30/04/2025;mSv;6,5;;;;;;;";
    let file = csv(&[
        of(
            JULIE,
            "MARCHAL;Julie",
            "14/08/1955",
            &format!("{passive};P-J;"),
        ),
        of(LEA, "PETIT;Léa", "14/09/2008", &format!("{passive};P-L;")),
        didier(SURGERY_SIRET, &format!("{passive};P-D;")),
    ]);
    let doc = verified(
        &w.sb,
        &w.send(&body, "text/csv", &file).ok(200).body,
        "limits",
    );
    assert_eq!(doc["accepted"], 3, "{doc}");
    let raised = |lea_closed: bool| {
        vec![
            (julie, "category_b".to_owned(), 6.0, false),
            (julie, "pregnancy".to_owned(), 1.0, false),
            (lea, "effective".to_owned(), 6.0, lea_closed),
        ]
    };
    assert_eq!(alerts(&w, &martin), raised(false));

    // The body corrects Léa's result (column `remplace`): 0.5 mSv. As a correction entered by
    // hand, it closes the alert the first result had raised; Julie's stay open.
    let correction = "passive;01/04/2025;30/04/2025;mSv;0,5;;;;;;;;P-L2;P-L";
    let file = csv(&[of(LEA, "PETIT;Léa", "14/09/2008", correction)]);
    let doc = verified(
        &w.sb,
        &w.send(&body, "text/csv", &file).ok(200).body,
        "correction",
    );
    assert_eq!(doc["accepted"], 1, "{doc}");
    assert_eq!(alerts(&w, &martin), raised(true));
}

/// A transmission's result is checked against the limits with everything that shares its
/// windows: the results of an earlier transmission (DIDIER Valérie: 15 mSv in January, then
/// 6 mSv in February, 21 > 20) and an earlier line of the same file (ROUX Paul: 12 then 9 mSv
/// in one file). The reading thread hands the recording thread what was committed for a
/// person's first line; the second line of a person must see the first one's result.
#[test]
fn a_transmissions_results_add_up_with_earlier_results_and_with_each_other() {
    let w = World::new();
    let body = w.body();
    let durand = w.login("v.durand");
    let martin = w.login("c.martin");
    const PAUL: (&str, &str) = ("1850575123046", "95");
    let paul = add_worker(&w, &durand, ("ROUX", "Paul"), PAUL, "02/05/1985", "A");
    let effective_alerts = || {
        alerts(&w, &martin)
            .into_iter()
            .filter(|(_, limit, _, _)| limit == "effective")
            .map(|(worker, ..)| worker)
            .collect::<Vec<i64>>()
    };
    let send = |lines: &[String], name: &str| {
        let doc = verified(
            &w.sb,
            &w.send(&body, "text/csv", &csv(lines)).ok(200).body,
            name,
        );
        assert_eq!(doc["accepted"], lines.len(), "{doc}");
    };
    let paul_line = |month: &str, last: &str, msv: &str, reference: &str| {
        format!(
            "{SURGERY_SIRET};{};{};ROUX;Paul;02/05/1985;passive;01/{month}/2025;{last}/{month}/2025;mSv;{msv};;;;;;;;{reference};",
            PAUL.0, PAUL.1
        )
    };

    send(
        &[didier(
            SURGERY_SIRET,
            "passive;01/01/2025;31/01/2025;mSv;15;;;;;;;;V-JAN;",
        )],
        "january",
    );
    assert_eq!(effective_alerts(), Vec::<i64>::new());
    // February's 6 mSv alone is under the limit: the alert needs January's 15.
    send(
        &[didier(
            SURGERY_SIRET,
            "passive;01/02/2025;28/02/2025;mSv;6;;;;;;;;V-FEB;",
        )],
        "february",
    );
    let didier_id = effective_alerts();
    assert_eq!(didier_id.len(), 1, "DIDIER's alert");

    // Paul's two lines of one file: 9 mSv alone is under the limit, 12 + 9 is not.
    send(
        &[
            paul_line("01", "31", "12", "R-JAN"),
            paul_line("02", "28", "9", "R-FEB"),
        ],
        "one file",
    );
    let mut expected = vec![didier_id[0], paul];
    expected.sort_unstable();
    assert_eq!(effective_alerts(), expected);
}

/// A person employed by two establishments: a line goes to the employment of the SIRET it
/// names, never to the other one, whether it waits for the declaration or not.
#[test]
fn a_line_for_a_person_employed_twice_goes_to_the_employment_of_its_siret() {
    let w = World::new();
    let body = w.body();
    // The clinic names the body too.
    run_ok(&mut w.sb.siseri([
        "registry",
        "organisme",
        "add",
        &w.clinic.to_string(),
        common::transmission::BODY_CN,
    ]));
    let workers_of = |reference: &str| -> Vec<i64> {
        let conn = w.sb.db();
        let mut stmt = conn
            .prepare("SELECT worker_id FROM registry_doses WHERE reference = ?1")
            .expect("prepare");
        stmt.query_map([reference], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let send = |reference: &str, month: &str| {
        let rest = format!("passive;01/{month}/2025;28/{month}/2025;mSv;0,2;;;;;;;;{reference};");
        let reply = w.send(&body, "text/csv", &csv(&[didier(CLINIC_SIRET, &rest)]));
        verified(&w.sb, &reply.ok(200).body, reference)
    };

    // DIDIER is known (on the surgery's list), not yet declared by the clinic: pending.
    let doc = send("CLI-1", "01");
    assert_eq!(
        (doc["accepted"].clone(), doc["pending"].clone()),
        (json!(0), json!(1)),
        "{doc}"
    );
    assert!(workers_of("CLI-1").is_empty());

    // The clinic declares her: the pending line is attached to the clinic's employment.
    let bernard = w.login("l.bernard");
    let seed: Value = serde_json::from_str(common::fixtures::WORKER).expect("worker");
    let clinics = w
        .call(
            &bernard,
            "POST",
            &format!("/api/v1/establishments/{}/workers", w.clinic),
            Some(("application/json", seed.to_string().as_bytes())),
            &[],
        )
        .ok(201)
        .json()["worker_id"]
        .as_i64()
        .expect("worker_id");
    assert_eq!(workers_of("CLI-1"), [clinics]);

    // A line sent now goes to the clinic's employment, not to the surgery's (the first one).
    let doc = send("CLI-2", "02");
    assert_eq!(doc["accepted"], 1, "{doc}");
    assert_eq!(workers_of("CLI-2"), [clinics]);
    let surgerys: i64 =
        w.sb.db()
            .query_row(
                "SELECT id FROM registry_workers WHERE establishment_id = ?1",
                [w.surgery],
                |r| r.get(0),
            )
            .expect("the surgery's employment");
    assert_ne!(surgerys, clinics);
}
