//! The registry's JSON API over mutual TLS, judged by curl with the people's own `.p12` files
//! and a dosimetry body's certificate: the seed's role matrix cell by cell, establishments
//! sealed from each other, the workers form, NIR checks, CSV import and export, fractions,
//! doses and the rolling effective dose.

mod common;

use std::collections::BTreeMap;

use common::daemon::curl;
use common::enrolment::{clinic_protocol, enrolled, Holder};
use common::fixtures::{PROTOCOL as SEED, WORKER, WORKERS_CSV};
use common::{require_tool, run_ok, Sandbox};
use serde_json::{json, Value};

fn holder<'a>(holders: &'a [Holder], email_start: &str) -> &'a Holder {
    holders
        .iter()
        .find(|h| h.email.starts_with(email_start))
        .unwrap_or_else(|| panic!("nobody with {email_start}"))
}

/// Someone calling the registry: curl's certificate arguments and, for a person, a cookie jar.
#[derive(Debug, Clone)]
struct Client {
    name: String,
    cert: Vec<String>,
    jar: Option<String>,
}

/// An answer: status and body (parsed when JSON).
#[derive(Debug)]
struct Answer {
    status: u16,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

struct Registry<'a> {
    sb: &'a Sandbox,
    addr: String,
    calls: std::cell::Cell<u32>,
}

impl Registry<'_> {
    /// `method path` with an optional body of a content type.
    fn call(&self, who: &Client, method: &str, path: &str, body: Option<(&str, &[u8])>) -> Answer {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        let mut extra = who.cert.clone();
        if let Some(jar) = &who.jar {
            extra.extend(["-b".into(), jar.clone(), "-c".into(), jar.clone()]);
        }
        let url = format!("https://{}{path}", self.addr);
        let ca = self.sb.data_file("ca/ac-siseri.pem");
        let reply = curl(self.sb, &ca, n, method, &url, &extra, body);
        assert_eq!(
            reply.exit, 0,
            "curl failed for {method} {path}: {}",
            reply.stderr
        );
        Answer {
            status: reply.status,
            text: reply.text(),
        }
    }

    fn get(&self, who: &Client, path: &str) -> Answer {
        self.call(who, "GET", path, None)
    }

    fn json(&self, who: &Client, method: &str, path: &str, body: &Value) -> Answer {
        self.call(
            who,
            method,
            path,
            Some(("application/json", body.to_string().as_bytes())),
        )
    }

    /// A person logged in with their access code.
    fn login(&self, h: &Holder, name: &str) -> Client {
        let client = Client {
            name: name.to_owned(),
            cert: vec![
                "--cert".into(),
                format!("{}:{}", h.p12.display(), h.password),
                "--cert-type".into(),
                "P12".into(),
            ],
            jar: Some(
                self.sb
                    .path(&format!("jar-{}", h.habilitation))
                    .display()
                    .to_string(),
            ),
        };
        let a = self.json(
            &client,
            "POST",
            "/api/v1/session",
            &json!({"access_code": h.access_code}),
        );
        assert_eq!(a.status, 200, "{name} login: {}", a.text);
        client
    }

    /// The person's establishment (their first).
    fn establishment(&self, who: &Client) -> i64 {
        let a = self.get(who, "/api/v1/establishments");
        assert_eq!(a.status, 200, "{}", a.text);
        a.json()[0]["id"].as_i64().expect("as_i64 gave nothing")
    }
}

/// A dosimetry body's client: its certificate from `siseri cert issue --profile organisme`.
fn dosimetry_body(sb: &Sandbox) -> Client {
    let (leaf, _) = sb.issue_organisme_from_csr("labo", "LABO DOSIMETRIE DE L'EST");
    Client {
        name: "organisme".into(),
        cert: vec![
            "--cert".into(),
            leaf.display().to_string(),
            "--key".into(),
            sb.path("labo.key.pem").display().to_string(),
        ],
        jar: None,
    }
}

/// The establishment `e` names the dosimetry body through its correspondent: the only way a
/// body's certificate may send anything there.
fn name_body(reg: &Registry<'_>, cse: &Client, e: i64) {
    let a = reg.json(
        cse,
        "POST",
        &format!("/api/v1/establishments/{e}/organismes"),
        &json!({"name": "LABO DOSIMETRIE DE L'EST"}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
}

/// `jj/mm/aaaa`, `days` ago.
fn days_ago(days: i64) -> String {
    let d = (time::OffsetDateTime::now_utc() - time::Duration::days(days)).date();
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

fn seed_worker() -> Value {
    serde_json::from_str(WORKER).expect("from_str failed")
}

/// The data kinds of the seed's table, rows in order.
const KINDS: [&str; 7] = [
    "administrative, complete",
    "administrative, for dosimetric follow-up",
    "medical follow-up card",
    "passive dosimetry",
    "internal exposure",
    "effective dose",
    "operational dosimetry",
];

/// Reading, from the seed's table: [CSE, PCR, MDT, dosimetry body].
const READ: [[bool; 4]; 7] = [
    [true, false, false, false],
    [true, true, false, false],
    [false, false, true, false],
    [false, false, true, false],
    [false, false, true, false],
    [false, true, true, false],
    [false, true, true, false],
];

/// Writing: the CSE the list, the physician the card, internal and effective doses, the PCR
/// operational dosimetry, a dosimetry body passive results.
const WRITE: [[bool; 4]; 7] = [
    [true, false, false, false],
    [true, false, false, false],
    [false, false, true, false],
    [false, false, false, true],
    [false, false, true, false],
    [false, false, true, false],
    [false, true, false, false],
];

fn dose(kind: &str) -> Value {
    let measured = matches!(kind, "passive" | "operational");
    let mut d = json!({"kind": kind, "period_start": days_ago(40), "period_end": days_ago(10)});
    if measured {
        d["hp10_msv"] = json!(0.12);
    } else {
        d["e_msv"] = json!(0.3);
    }
    d
}

/// The last audit entry of `action` by `actor`: its details.
fn last_audit(sb: &Sandbox, actor: &str, action: &str) -> String {
    sb.db()
        .query_row(
            "SELECT details FROM audit_log WHERE actor = ?1 AND action = ?2 ORDER BY seq DESC LIMIT 1",
            [actor, action],
            |r| r.get(0),
        )
        .expect("query_row failed")
}

/// Reads `kind` (a row of the table) of worker `w` as `who`: allowed or refused (403).
fn read(reg: &Registry<'_>, who: &Client, actor: &str, e: i64, w: i64, row: usize) -> bool {
    let base = format!("/api/v1/establishments/{e}");
    let answers = match row {
        // The export and the complete view of a worker.
        0 => {
            let a = reg.get(who, &format!("{base}/workers.csv"));
            let b = reg.get(who, &format!("{base}/workers/{w}"));
            if b.status == 200 && b.json()["view"] != "complete" {
                // A lesser view of the worker, and no export.
                assert_eq!(a.status, 403, "{}: {}", who.name, a.text);
                assert!(!b.text.contains("contract_type"), "{}", b.text);
                return false;
            }
            vec![a, b]
        }
        // The list. The physician reaches a worker's identity through the card only: the
        // audit log names the card as what was read, not the administrative data.
        1 => {
            let a = reg.get(who, &format!("{base}/workers"));
            if a.status == 200 {
                let details = last_audit(reg.sb, actor, "registry.workers.search");
                if details.contains("\"kind\":\"medical_card\"") {
                    assert!(!a.text.contains("contract_type"), "{}", a.text);
                    return false;
                }
            }
            vec![a]
        }
        2 => vec![reg.get(who, &format!("{base}/workers/{w}/card"))],
        3 => vec![reg.get(who, &format!("{base}/workers/{w}/doses?kind=passive"))],
        4 => vec![reg.get(who, &format!("{base}/workers/{w}/doses?kind=internal"))],
        5 => vec![
            reg.get(who, &format!("{base}/workers/{w}/doses?kind=effective")),
            reg.get(who, &format!("{base}/workers/{w}/doses/effective")),
        ],
        6 => vec![reg.get(who, &format!("{base}/workers/{w}/doses?kind=operational"))],
        _ => unreachable!(),
    };
    verdict(&who.name, "read", row, &answers)
}

/// Writes `kind` (a row of the table) of worker `w` as `who`.
fn write(reg: &Registry<'_>, who: &Client, e: i64, w: i64, row: usize) -> bool {
    let base = format!("/api/v1/establishments/{e}");
    let answers = match row {
        0 => {
            let mut change = seed_worker();
            change["operation"] = json!("modification");
            change["new_card"] = json!(false);
            vec![reg.json(who, "POST", &format!("{base}/workers"), &change)]
        }
        1 => {
            let name = format!("Fraction de {}", who.name);
            let a = reg.json(who, "POST", &format!("{base}/fractions"), &json!({"name": name}));
            if a.status == 201 {
                let id = a.json()["id"].as_i64().expect("as_i64 gave nothing");
                let d = reg.call(who, "DELETE", &format!("{base}/fractions/{id}"), None);
                assert_eq!(d.status, 200, "{}", d.text);
            }
            let csv = reg.call(
                who,
                "POST",
                &format!("{base}/workers/import"),
                Some(("text/csv", WORKERS_CSV.as_bytes())),
            );
            vec![a, csv]
        }
        2 => vec![reg.json(
            who,
            "PUT",
            &format!("{base}/workers/{w}/card"),
            &json!({"last_visit": days_ago(30), "fitness": "fit", "next_visit": null, "notes": "RAS"}),
        )],
        3 => {
            let mut by_nir = dose("passive");
            by_nir.as_object_mut().expect("as_object_mut gave nothing").remove("kind");
            by_nir["nir"] = json!("2760912346445");
            by_nir["nir_key"] = json!("12");
            vec![
                reg.json(who, "POST", &format!("{base}/doses/passive"), &by_nir),
                reg.json(who, "POST", &format!("{base}/workers/{w}/doses"), &dose("passive")),
            ]
        }
        4 => vec![reg.json(who, "POST", &format!("{base}/workers/{w}/doses"), &dose("internal"))],
        5 => vec![reg.json(who, "POST", &format!("{base}/workers/{w}/doses"), &dose("effective"))],
        6 => vec![reg.json(who, "POST", &format!("{base}/workers/{w}/doses"), &dose("operational"))],
        _ => unreachable!(),
    };
    verdict(&who.name, "write", row, &answers)
}

/// Every answer 2xx (allowed) or every one 403 with a French message (refused).
fn verdict(name: &str, action: &str, row: usize, answers: &[Answer]) -> bool {
    let ok = answers.iter().all(|a| (200..300).contains(&a.status));
    let refused = answers.iter().all(|a| a.status == 403);
    assert!(
        ok || refused,
        "{name} {action} {}: mixed or unexpected answers {:?}",
        KINDS[row],
        answers
    );
    if refused {
        let body = answers[0].json();
        assert_eq!(body["error"], "forbidden", "{body}");
        assert!(
            body["message"]
                .as_str()
                .expect("as_str gave nothing")
                .contains("ne permet pas"),
            "{body}"
        );
    }
    ok
}

#[test]
fn the_seeds_role_matrix_holds_cell_by_cell_over_http_for_cse_pcr_mdt_and_a_dosimetry_body() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let body = dosimetry_body(&sb);
    let (_server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let cse_h = holder(&holders, "v.durand");
    let pcr_h = holder(&holders, "p.dillenseger");
    let mdt_h = holder(&holders, "c.martin");
    let cse = reg.login(cse_h, "CSE");
    let pcr = reg.login(pcr_h, "PCR");
    let mdt = reg.login(mdt_h, "MDT");
    let e = reg.establishment(&cse);
    let added = reg.json(
        &cse,
        "POST",
        &format!("/api/v1/establishments/{e}/workers"),
        &seed_worker(),
    );
    assert_eq!(added.status, 201, "{}", added.text);
    let w = added.json()["worker_id"].as_i64().unwrap();
    name_body(&reg, &cse, e);

    let who = [
        (&cse, format!("accessor:{}", cse_h.habilitation)),
        (&pcr, format!("accessor:{}", pcr_h.habilitation)),
        (&mdt, format!("accessor:{}", mdt_h.habilitation)),
        (&body, "organisme:LABO DOSIMETRIE DE L'EST".to_owned()),
    ];
    let mut seen = BTreeMap::new();
    for (row, expected) in READ.iter().enumerate() {
        for ((client, actor), allowed) in who.iter().zip(expected) {
            let got = read(&reg, client, actor, e, w, row);
            assert_eq!(got, *allowed, "{} read {}", client.name, KINDS[row]);
            seen.insert((row, client.name.clone(), "read"), got);
        }
    }
    for (row, expected) in WRITE.iter().enumerate() {
        for ((client, _), allowed) in who.iter().zip(expected) {
            let got = write(&reg, client, e, w, row);
            assert_eq!(got, *allowed, "{} write {}", client.name, KINDS[row]);
            seen.insert((row, client.name.clone(), "write"), got);
        }
    }
    assert_eq!(seen.len(), 7 * 4 * 2);

    // A dosimetry body has no access code and no session, and sees no list of establishments.
    let a = reg.json(
        &body,
        "POST",
        "/api/v1/session",
        &json!({"access_code": "1234"}),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(reg.get(&body, "/api/v1/establishments").status, 403);
    // An establishment that does not exist is one that has not named the body: the same 403.
    let mut result = dose("passive");
    result.as_object_mut().unwrap().remove("kind");
    result["nir"] = json!("276091234644512");
    let a = reg.json(
        &body,
        "POST",
        "/api/v1/establishments/999/doses/passive",
        &result,
    );
    assert_eq!(a.status, 403, "{}", a.text);
    assert_eq!(a.json()["error"], "not_client", "{}", a.text);
    // Without the access code, a person's certificate alone opens nothing.
    let bare = Client {
        jar: None,
        ..cse.clone()
    };
    let a = reg.get(&bare, &format!("/api/v1/establishments/{e}/workers"));
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.json()["error"], "login_required");
}

#[test]
fn another_establishments_worker_is_unreachable_by_id() {
    let sb = Sandbox::initialised();
    let other = clinic_protocol();
    let holders = enrolled(&sb, &[SEED, &other]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let durand = reg.login(holder(&holders, "v.durand"), "CSE Durand");
    let bernard = reg.login(holder(&holders, "l.bernard"), "CSE Bernard");
    let dillenseger = reg.login(holder(&holders, "p.dillenseger"), "PCR Durand");
    let a = reg.establishment(&durand);
    let b = reg.establishment(&bernard);
    assert_ne!(a, b);

    let mut theirs = seed_worker();
    theirs["last_name"] = json!("MARCHAL");
    theirs["first_name"] = json!("Julie");
    theirs["nir"] = json!("2550814168025");
    theirs["nir_key"] = json!("38");
    let added = reg.json(
        &bernard,
        "POST",
        &format!("/api/v1/establishments/{b}/workers"),
        &theirs,
    );
    assert_eq!(added.status, 201, "{}", added.text);
    let wb = added.json()["worker_id"].as_i64().unwrap();
    let ours = reg.json(
        &durand,
        "POST",
        &format!("/api/v1/establishments/{a}/workers"),
        &seed_worker(),
    );
    assert_eq!(ours.status, 201, "{}", ours.text);
    let wa = ours.json()["worker_id"].as_i64().unwrap();

    // Their establishment, their worker, by any road: not found, never forbidden.
    for path in [
        format!("/api/v1/establishments/{b}"),
        format!("/api/v1/establishments/{b}/workers"),
        format!("/api/v1/establishments/{b}/workers/{wb}"),
        format!("/api/v1/establishments/{b}/workers.csv"),
        format!("/api/v1/establishments/{b}/fractions"),
        format!("/api/v1/establishments/{b}/workers/{wb}/doses"),
        // Their worker's id under our own establishment.
        format!("/api/v1/establishments/{a}/workers/{wb}"),
    ] {
        let r = reg.get(&durand, &path);
        assert_eq!(r.status, 404, "{path}: {}", r.text);
        assert_eq!(r.json()["error"], "not_found", "{path}");
        assert!(!r.text.contains("MARCHAL"));
    }
    let r = reg.get(
        &dillenseger,
        &format!("/api/v1/establishments/{a}/workers/{wb}/doses"),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    let r = reg.json(
        &durand,
        "POST",
        &format!("/api/v1/establishments/{b}/workers"),
        &seed_worker(),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    let r = reg.json(
        &durand,
        "POST",
        &format!("/api/v1/establishments/{a}/fractions/assign"),
        &json!({"fraction": null, "workers": [wb]}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    // The list of each shows its own worker only.
    let list = reg
        .get(&durand, &format!("/api/v1/establishments/{a}/workers"))
        .json();
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [wa]);
    // Ids that are not numbers are simply not found.
    assert_eq!(
        reg.get(&durand, "/api/v1/establishments/x/workers").status,
        404
    );
}

#[test]
fn the_cse_adds_the_seeds_worker_from_worker_json_and_reads_it_back_whole() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let cse = reg.login(holder(&holders, "v.durand"), "CSE");
    let pcr = reg.login(holder(&holders, "p.dillenseger"), "PCR");
    let e = reg.establishment(&cse);
    let base = format!("/api/v1/establishments/{e}/workers");
    let added = reg.json(&cse, "POST", &base, &seed_worker());
    assert_eq!(added.status, 201, "{}", added.text);
    let applied = added.json();
    assert_eq!(applied["operation"], "ajout");
    let card = applied["card_number"].as_str().unwrap().to_owned();
    assert!(
        card.starts_with('C') && card.len() == 9,
        "new card number: {card}"
    );
    let w = applied["worker_id"].as_i64().unwrap();

    let worker = reg.get(&cse, &format!("{base}/{w}")).json();
    for (field, value) in [
        ("view", "complete"),
        ("last_name", "DIDIER"),
        ("first_name", "Valérie"),
        ("nir", "2760912346445"),
        ("nir_key", "12"),
        ("job", "Assistant dentaire"),
        ("radiological_hazard", "1-Exposition externe"),
        ("contract_type", "CDI"),
        ("activity_character", "1-Civile"),
        ("domain", "100000-Utilisations medicales et veterinaires"),
        ("sector", "102000-Soins dentaires"),
    ] {
        assert_eq!(worker[field], value, "{field}: {worker}");
    }
    assert_eq!(worker["work_fraction"], 1.0);
    assert_eq!(worker["card_number"], card.as_str());

    // The PCR sees the dosimetric view: no terms of employment.
    let seen = reg.get(&pcr, &format!("{base}/{w}")).json();
    assert_eq!(seen["view"], "dosimetry");
    assert!(
        seen.get("contract_type").is_none() && seen.get("work_fraction").is_none(),
        "{seen}"
    );
    assert_eq!(seen["nir"], "2760912346445");

    // The same NIR again: a conflict, in French.
    let again = reg.json(&cse, "POST", &base, &seed_worker());
    assert_eq!(again.status, 409, "{}", again.text);
    assert_eq!(again.json()["error"], "duplicate_nir");

    // Search by name, by NIR (with or without key, spaces allowed), by fraction, a page at a time.
    for q in [
        "did",
        "DIDIER%20val",
        "2760912346445",
        "2%2076%2009%2012%20346%20445%2012",
    ] {
        let found = reg.get(&cse, &format!("{base}?q={q}")).json();
        assert_eq!(
            found["items"].as_array().unwrap().len(),
            1,
            "q={q}: {found}"
        );
    }
    let none = reg.get(&cse, &format!("{base}?q=durand")).json();
    assert!(none["items"].as_array().unwrap().is_empty());

    // Modification by card number, then suppression: gone from the list, kept for the record.
    let mut change = seed_worker();
    change["operation"] = json!("modification");
    change["new_card"] = json!(false);
    change["card_number"] = json!(card);
    change["job"] = json!("Chirurgien-dentiste");
    let m = reg.json(&cse, "POST", &base, &change);
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(
        reg.get(&cse, &format!("{base}/{w}")).json()["job"],
        "Chirurgien-dentiste"
    );
    let gone = reg.json(
        &cse,
        "POST",
        &base,
        &json!({"operation": "suppression", "card_number": card}),
    );
    assert_eq!(gone.status, 200, "{}", gone.text);
    assert!(reg.get(&cse, &base).json()["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let kept = reg.get(&cse, &format!("{base}?removed=true")).json();
    assert_eq!(kept["items"][0]["removed"], true);

    // Bodies that are not the operation: 415, 400, 422 with a French message.
    let a = reg.call(&cse, "POST", &base, Some(("text/plain", b"{}")));
    assert_eq!(a.status, 415, "{}", a.text);
    let a = reg.call(
        &cse,
        "POST",
        &base,
        Some(("application/json", b"{\"operation\":")),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    // Too large: refused before it is sent (HTTP/1.1 with `Expect: 100-continue`, as curl does).
    std::fs::write(sb.path("big.json"), vec![b' '; 3 << 20]).unwrap();
    let out = std::process::Command::new(require_tool("curl"))
        .args(["-sS", "--http1.1", "-w", "\n%{http_code}", "--cacert"])
        .arg(sb.data_file("ca/ac-siseri.pem"))
        .args(&cse.cert)
        .args(["-b", cse.jar.as_deref().unwrap()])
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{}", sb.path("big.json").display()))
        .arg(format!("https://{}{base}", reg.addr))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap();
    let a = Answer {
        status: status.parse().unwrap(),
        text: body.to_owned(),
    };
    assert_eq!(
        (a.status, a.json()["error"].as_str()),
        (413, Some("too_large")),
        "{}",
        a.text
    );
    let a = reg.json(
        &cse,
        "POST",
        &base,
        &json!({"operation": "ajout", "nirr": "1"}),
    );
    assert_eq!(a.status, 422, "{}", a.text);
    let a = reg.json(&cse, "POST", &base, &json!({"operation": "ajout"}));
    assert_eq!(a.status, 422, "{}", a.text);
    let fields = a.json()["fields"].clone();
    for f in ["last_name", "first_name", "nir"] {
        assert!(fields[f].is_string(), "{f}: {fields}");
    }
}

#[test]
fn nirs_are_checked_with_their_key_and_a_refused_one_is_never_echoed() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let cse = reg.login(holder(&holders, "v.durand"), "CSE");
    let e = reg.establishment(&cse);
    let base = format!("/api/v1/establishments/{e}/workers");
    let add = |last: &str, nir: &str, key: &str| {
        let mut w = seed_worker();
        w["last_name"] = json!(last);
        w["nir"] = json!(nir);
        w["nir_key"] = json!(key);
        reg.json(&cse, "POST", &base, &w)
    };
    // Born in the Bas-Rhin; in Corsica (2A); the seed's.
    for (last, nir, key) in [
        ("LUTZ", "2550814168025", "38"),
        ("SANTONI", "253072A073004", "43"),
        ("DIDIER", "2760912346445", "12"),
    ] {
        let a = add(last, nir, key);
        assert_eq!(a.status, 201, "{nir} {key}: {}", a.text);
        let w = a.json()["worker_id"].as_i64().unwrap();
        let back = reg.get(&cse, &format!("{base}/{w}")).json();
        assert_eq!(
            (back["nir"].as_str(), back["nir_key"].as_str()),
            (Some(nir), Some(key))
        );
    }
    // Bad key: refused, with a French message that does not repeat the number.
    let a = add("FAUX", "2951099126111", "99");
    assert_eq!(a.status, 422, "{}", a.text);
    let body = a.json();
    assert_eq!(body["error"], "invalid");
    let message = body["fields"]["nir_key"].as_str().unwrap();
    assert!(message.contains("clé"), "{message}");
    assert!(
        !a.text.contains("2951099126111") && !a.text.contains("295109912611199"),
        "{}",
        a.text
    );
    // The same number typed whole in a search.
    let s = reg.get(&cse, &format!("{base}?q=295109912611199"));
    assert_eq!(s.status, 422, "{}", s.text);
    assert!(!s.text.contains("2951099126111"), "{}", s.text);
    // Nor does any NIR reach the daemon's log.
    drop(server);
    let log = std::fs::read_to_string(sb.path("serve.log")).unwrap();
    for nir in [
        "2951099126111",
        "2550814168025",
        "253072A073004",
        "2760912346445",
    ] {
        assert!(!log.contains(nir), "NIR in the log:\n{log}");
    }
}

#[test]
fn a_csv_import_is_all_or_nothing_with_a_per_line_report_and_the_export_imports_back() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let cse = reg.login(holder(&holders, "v.durand"), "CSE");
    let e = reg.establishment(&cse);
    let base = format!("/api/v1/establishments/{e}");
    let import = |csv: &str| {
        reg.call(
            &cse,
            "POST",
            &format!("{base}/workers/import"),
            Some(("text/csv", csv.as_bytes())),
        )
    };

    // Line 3 has a bad key, line 4 no first name: nothing is imported.
    let mut bad = WORKERS_CSV.trim_end().to_owned();
    bad = bad.replacen("1700367482001;86", "1700367482001;87", 1);
    bad.push_str(&format!("\nMULLER;;;;2550814168025;38{}\n", ";".repeat(11)));
    let a = import(&bad);
    assert_eq!(a.status, 422, "{}", a.text);
    let body = a.json();
    assert_eq!(body["error"], "import_rejected");
    assert_eq!(body["report"]["lines_in_error"], 2, "{body}");
    assert!(
        body["fields"]["ligne 3"].as_str().unwrap().contains("clé"),
        "{body}"
    );
    assert!(
        body["fields"]["ligne 4"]
            .as_str()
            .unwrap()
            .contains("prénom"),
        "{body}"
    );
    assert!(body["fields"].get("ligne 2").is_none());
    assert!(
        !a.text.contains("1700367482001"),
        "the report repeats a NIR: {}",
        a.text
    );
    let list = reg.get(&cse, &format!("{base}/workers")).json();
    assert!(
        list["items"].as_array().unwrap().is_empty(),
        "something was imported: {list}"
    );

    // The file as given: both lines.
    let a = import(WORKERS_CSV);
    assert_eq!(a.status, 200, "{}", a.text);
    let summary = a.json();
    assert_eq!(
        (summary["lines"].as_u64(), summary["created"].as_u64()),
        (Some(2), Some(2)),
        "{summary}"
    );
    let fraction = reg.json(
        &cse,
        "POST",
        &format!("{base}/fractions"),
        &json!({"name": "Cabinet"}),
    );
    assert_eq!(fraction.status, 201, "{}", fraction.text);
    let fid = fraction.json()["id"].as_i64().unwrap();
    let all = reg.get(&cse, &format!("{base}/workers")).json();
    let durand = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["last_name"] == "DURAND")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let a = reg.json(
        &cse,
        "POST",
        &format!("{base}/fractions/assign"),
        &json!({"fraction": fid, "workers": [durand]}),
    );
    assert_eq!(a.status, 200, "{}", a.text);

    // Export: a download, in the same format.
    let out = std::process::Command::new(require_tool("curl"))
        .args(["-sS", "-D", "-", "-o"])
        .arg(sb.path("export.csv"))
        .arg("--cacert")
        .arg(sb.data_file("ca/ac-siseri.pem"))
        .args(&cse.cert)
        .args(["-b", cse.jar.as_deref().unwrap()])
        .arg(format!("https://{}{base}/workers.csv", reg.addr))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        head.contains("content-type: text/csv; charset=utf-8"),
        "{head}"
    );
    assert!(head.contains("content-disposition: attachment"), "{head}");
    let exported = std::fs::read_to_string(sb.path("export.csv")).unwrap();
    assert!(exported.starts_with('\u{feff}'), "no BOM");
    let mut lines = exported.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next(),
        WORKERS_CSV.trim_start_matches('\u{feff}').lines().next()
    );
    assert_eq!(lines.count(), 2);
    assert!(
        exported.contains("DURAND;;Vincent;;1700367482001;86;12/03/1970;Cabinet;B;"),
        "{exported}"
    );

    // Round trip: imported back, nothing new, the same export.
    let a = import(&exported);
    assert_eq!(a.status, 200, "{}", a.text);
    let again = a.json();
    assert_eq!(
        (again["created"].as_u64(), again["updated"].as_u64()),
        (Some(0), Some(2)),
        "{again}"
    );
    let second = reg.get(&cse, &format!("{base}/workers.csv"));
    assert_eq!(second.status, 200);
    assert_eq!(second.text, exported);

    // The list filtered by fraction, and paged.
    let f = reg
        .get(&cse, &format!("{base}/workers?fraction={fid}"))
        .json();
    assert_eq!(f["items"].as_array().unwrap().len(), 1);
    assert_eq!(f["items"][0]["last_name"], "DURAND");
    let f = reg
        .get(&cse, &format!("{base}/workers?fraction=aucune"))
        .json();
    assert_eq!(f["items"][0]["last_name"], "DIDIER");
    let p1 = reg
        .get(&cse, &format!("{base}/workers?page=1&per_page=1"))
        .json();
    let p2 = reg
        .get(&cse, &format!("{base}/workers?page=2&per_page=1"))
        .json();
    assert_eq!(p1["items"][0]["last_name"], "DIDIER");
    assert_eq!(p1["next_page"], 2);
    assert_eq!(p2["items"][0]["last_name"], "DURAND");
    assert!(p2["next_page"].is_null());
    // A page found by position still gives its key, to go on with `after`; not both at once.
    let key = p1["next"].as_i64().unwrap();
    assert_eq!(p1["items"][0]["id"], key);
    assert!(p2["next"].is_null());
    let both = reg.get(
        &cse,
        &format!("{base}/workers?page=2&per_page=1&after={key}"),
    );
    assert_eq!(both.status, 400, "{}", both.text);
    let o = reg
        .get(&cse, &format!("{base}/workers?limit=1&offset=1"))
        .json();
    assert_eq!(o["items"][0]["last_name"], "DURAND");
    let c = reg.get(&cse, &format!("{base}/workers?limit=1")).json();
    let next = c["next"].as_i64().unwrap();
    let c2 = reg
        .get(&cse, &format!("{base}/workers?limit=1&after={next}"))
        .json();
    assert_eq!(c2["items"][0]["last_name"], "DURAND");

    // Renamed, then deleted: its workers stay, in no fraction.
    let a = reg.json(
        &cse,
        "PUT",
        &format!("{base}/fractions/{fid}"),
        &json!({"name": "Cabinet de Strasbourg"}),
    );
    assert_eq!(
        (a.status, a.json()["name"].as_str()),
        (200, Some("Cabinet de Strasbourg"))
    );
    let a = reg.call(&cse, "DELETE", &format!("{base}/fractions/{fid}"), None);
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["workers_unassigned"], 1);
    assert_eq!(
        reg.get(&cse, &format!("{base}/workers")).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Not CSV: 415.
    let a = reg.call(
        &cse,
        "POST",
        &format!("{base}/workers/import"),
        Some(("application/json", b"{}")),
    );
    assert_eq!(a.status, 415, "{}", a.text);
}

#[test]
fn the_rolling_effective_dose_adds_up_twelve_months_and_is_flagged_above_20_msv() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let body = dosimetry_body(&sb);
    let (_server, addr) = sb.serve_registry("serve.log");
    let reg = Registry {
        sb: &sb,
        addr,
        calls: Default::default(),
    };
    let cse = reg.login(holder(&holders, "v.durand"), "CSE");
    let mdt = reg.login(holder(&holders, "c.martin"), "MDT");
    let pcr = reg.login(holder(&holders, "p.dillenseger"), "PCR");
    let e = reg.establishment(&cse);
    // Employed there since before the results' periods: the PCR reads the establishment's
    // results of the worker's time there (issue 15 §2).
    let mut line = seed_worker();
    line["employed_from"] = json!(days_ago(90));
    let added = reg.json(
        &cse,
        "POST",
        &format!("/api/v1/establishments/{e}/workers"),
        &line,
    );
    let card = added.json()["card_number"].as_str().unwrap().to_owned();
    let w = added.json()["worker_id"].as_i64().unwrap();
    let base = format!("/api/v1/establishments/{e}");
    name_body(&reg, &cse, e);

    // The dosimetry body by card number: 12 mSv; the physician: 8.5 mSv internal.
    let r = reg.json(
        &body,
        "POST",
        &format!("{base}/doses/passive"),
        &json!({"card_number": card, "period_start": days_ago(60), "period_end": days_ago(31), "hp10_msv": 12.0, "hp007_msv": 12.5}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let r = reg.json(&mdt, "POST", &format!("{base}/workers/{w}/doses"), &json!({"kind": "internal", "period_start": days_ago(30), "period_end": days_ago(1), "e_msv": 8.0}));
    assert_eq!(r.status, 201, "{}", r.text);
    let rolling = reg
        .get(&pcr, &format!("{base}/workers/{w}/doses/effective"))
        .json();
    assert_eq!(rolling["effective_msv"], 20.0, "{rolling}");
    assert_eq!(
        rolling["exceeds_limit"], false,
        "exactly 20 mSv is the limit, not above"
    );
    let r = reg.json(&mdt, "POST", &format!("{base}/workers/{w}/doses"), &json!({"kind": "effective", "period_start": days_ago(5), "period_end": days_ago(2), "e_msv": 0.5}));
    assert_eq!(r.status, 201, "{}", r.text);
    let rolling = reg
        .get(&mdt, &format!("{base}/workers/{w}/doses/effective"))
        .json();
    assert_eq!(
        (
            rolling["effective_msv"].as_f64(),
            rolling["exceeds_limit"].as_bool()
        ),
        (Some(20.5), Some(true)),
        "{rolling}"
    );
    assert_eq!(rolling["limit_msv"], 20.0);
    // The PCR reads operational and effective results only; the physician reads all of them.
    let pcr_sees = reg.get(&pcr, &format!("{base}/workers/{w}/doses")).json();
    let kinds: Vec<&str> = pcr_sees["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["effective"], "{pcr_sees}");
    let mdt_sees = reg.get(&mdt, &format!("{base}/workers/{w}/doses")).json();
    assert_eq!(
        mdt_sees["records"].as_array().unwrap().len(),
        3,
        "{mdt_sees}"
    );
    assert!(
        mdt_sees
            .to_string()
            .contains("organisme:LABO DOSIMETRIE DE L'EST"),
        "the source is recorded"
    );
    // The card sums it up for the physician.
    let card = reg.get(&mdt, &format!("{base}/workers/{w}/card")).json();
    assert_eq!(card["doses"]["rolling"]["exceeds_limit"], true, "{card}");
    assert_eq!(card["doses"]["passive_hp10_msv"], 12.0);
    // A bad NIR from a body is refused in French, without the number.
    let r = reg.json(&body, "POST", &format!("{base}/doses/passive"), &json!({"nir": "295109912611199", "period_start": days_ago(9), "period_end": days_ago(2), "hp10_msv": 0.1}));
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(!r.text.contains("2951099126111"));
    // A NIR not on the list: not found.
    let r = reg.json(&body, "POST", &format!("{base}/doses/passive"), &json!({"nir": "2550814168025", "nir_key": "38", "period_start": days_ago(9), "period_end": days_ago(2), "hp10_msv": 0.1}));
    assert_eq!(r.status, 404, "{}", r.text);
    // Bad values: 422 with the field.
    let r = reg.json(&mdt, "POST", &format!("{base}/workers/{w}/doses"), &json!({"kind": "internal", "period_start": "31/02/2025", "period_end": days_ago(2), "e_msv": -1}));
    assert_eq!(r.status, 422, "{}", r.text);
    let f = r.json()["fields"].clone();
    assert!(
        f["period_start"].is_string() && f["e_msv"].is_string(),
        "{f}"
    );
    run_ok(&mut sb.siseri(["audit", "verify"]));
}
