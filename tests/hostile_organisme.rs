//! Issue 12, item 5: a dosimetry body reaches only its clients. A real daemon, mutual TLS, the
//! body's own certificate (`siseri cert issue --profile organisme`), curl as the attacker: on an
//! establishment that has not named it, the body gets one and the same 403 whatever the NIR
//! (working there, unknown, working elsewhere, not even a NIR), and nothing is written; once
//! the correspondent (or an operator, from the CLI) names it, the same request is recorded.

mod common;

use common::daemon::curl;
use common::enrolment::{clinic_protocol, enrolled, Holder};
use common::fixtures::{PROTOCOL as SEED, WORKER};
use common::{run_fail, run_ok, stdout, Sandbox};
use serde_json::{json, Value};

const BODY_CN: &str = "LABO DOSIMETRIE DE L'EST";

/// Curl's certificate arguments and, for a person, a cookie jar.
struct Client {
    cert: Vec<String>,
    jar: Option<String>,
}

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
    fn call(&self, who: &Client, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        let mut extra = who.cert.clone();
        if let Some(jar) = &who.jar {
            extra.extend(["-b".into(), jar.clone(), "-c".into(), jar.clone()]);
        }
        let text = body.map(Value::to_string);
        let reply = curl(
            self.sb,
            &self.sb.data_file("ca/ac-siseri.pem"),
            n,
            method,
            &format!("https://{}{path}", self.addr),
            &extra,
            text.as_ref().map(|t| ("application/json", t.as_bytes())),
        );
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

    fn login(&self, h: &Holder) -> Client {
        let client = Client {
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
        let a = self.call(
            &client,
            "POST",
            "/api/v1/session",
            Some(&json!({"access_code": h.access_code})),
        );
        assert_eq!(a.status, 200, "login: {}", a.text);
        client
    }

    fn establishment(&self, who: &Client) -> i64 {
        let a = self.call(who, "GET", "/api/v1/establishments", None);
        assert_eq!(a.status, 200, "{}", a.text);
        a.json()[0]["id"].as_i64().expect("no establishment")
    }
}

fn holder<'a>(holders: &'a [Holder], email_start: &str) -> &'a Holder {
    holders
        .iter()
        .find(|h| h.email.starts_with(email_start))
        .unwrap_or_else(|| panic!("nobody with {email_start}"))
}

fn dosimetry_body(sb: &Sandbox) -> Client {
    let (leaf, _) = sb.issue_organisme_from_csr("labo", BODY_CN);
    Client {
        cert: vec![
            "--cert".into(),
            leaf.display().to_string(),
            "--key".into(),
            sb.path("labo.key.pem").display().to_string(),
        ],
        jar: None,
    }
}

fn passive(nir: &str) -> Value {
    let d = |days: i64| {
        let d = (time::OffsetDateTime::now_utc() - time::Duration::days(days)).date();
        format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
    };
    json!({"nir": nir, "period_start": d(40), "period_end": d(10), "hp10_msv": 0.3})
}

/// The seed's worker, on the surgery's list.
const SURGERY_NIR: &str = "276091234644512";
/// Julie MARCHAL, on the clinic's list.
const CLINIC_NIR: &str = "255081416802538";
/// On nobody's list.
const UNKNOWN_NIR: &str = "170036748200192";

/// Two employers with one worker each, a body's certificate, and the daemon.
struct World {
    sb: Sandbox,
    _server: common::Server,
    addr: String,
    holders: Vec<Holder>,
}

impl World {
    fn new() -> Self {
        let sb = Sandbox::initialised();
        let clinic = clinic_protocol();
        let holders = enrolled(&sb, &[SEED, &clinic]);
        let (server, addr) = sb.serve_registry("serve.log");
        Self {
            sb,
            _server: server,
            addr,
            holders,
        }
    }

    fn registry(&self) -> Registry<'_> {
        Registry {
            sb: &self.sb,
            addr: self.addr.clone(),
            calls: Default::default(),
        }
    }
}

/// Adds `worker` to the list of `e` as its correspondent.
fn add_worker(reg: &Registry<'_>, cse: &Client, e: i64, worker: &Value) {
    let a = reg.call(
        cse,
        "POST",
        &format!("/api/v1/establishments/{e}/workers"),
        Some(worker),
    );
    assert_eq!(a.status, 201, "{}", a.text);
}

fn doses(sb: &Sandbox) -> i64 {
    sb.count("registry_doses")
}

#[test]
fn a_body_not_named_gets_one_identical_403_whatever_the_nir_and_nothing_is_written() {
    let w = World::new();
    let body = dosimetry_body(&w.sb);
    let reg = w.registry();
    let durand = reg.login(holder(&w.holders, "v.durand"));
    let bernard = reg.login(holder(&w.holders, "l.bernard"));
    let surgery = reg.establishment(&durand);
    let clinic = reg.establishment(&bernard);
    let seed: Value = serde_json::from_str(WORKER).expect("from_str failed");
    add_worker(&reg, &durand, surgery, &seed);
    let mut julie = seed.clone();
    julie["last_name"] = json!("MARCHAL");
    julie["first_name"] = json!("Julie");
    julie["nir"] = json!("2550814168025");
    julie["nir_key"] = json!("38");
    add_worker(&reg, &bernard, clinic, &julie);

    // The clinic has not named the body: (a) its own worker, (b) a NIR on no list, (c) the
    // surgery's worker, and even (d) no valid NIR at all and (e) an unknown card number.
    let path = format!("/api/v1/establishments/{clinic}/doses/passive");
    let mut answers = Vec::new();
    for result in [
        passive(CLINIC_NIR),
        passive(UNKNOWN_NIR),
        passive(SURGERY_NIR),
        passive("not a NIR"),
        json!({"card_number": "C99999999"}),
    ] {
        answers.push(reg.call(&body, "POST", &path, Some(&result)));
    }
    // By the worker's id, and reading: the same door.
    answers.push(reg.call(
        &body,
        "POST",
        &format!("/api/v1/establishments/{clinic}/workers/1/doses"),
        Some(&json!({"kind": "passive"})),
    ));
    answers.push(reg.call(
        &body,
        "GET",
        &format!("/api/v1/establishments/{clinic}/workers"),
        None,
    ));
    for a in &answers {
        assert_eq!(a.status, 403, "{}", a.text);
        assert_eq!(a.text, answers[0].text, "the answers differ");
    }
    let refusal = answers[0].json();
    assert_eq!(refusal["error"], "not_client", "{refusal}");
    assert!(
        !answers[0].text.contains("255081416802"),
        "{}",
        answers[0].text
    );
    assert_eq!(doses(&w.sb), 0, "nothing was written");

    // The clinic's correspondent names the body: the same result is recorded.
    let named = reg.call(
        &bernard,
        "POST",
        &format!("/api/v1/establishments/{clinic}/organismes"),
        Some(&json!({"name": "labo dosimétrie de l'est"})),
    );
    assert_eq!(named.status, 201, "{}", named.text);
    assert_eq!(named.json()["name"], BODY_CN);
    let a = reg.call(&body, "POST", &path, Some(&passive(CLINIC_NIR)));
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(doses(&w.sb), 1);
    // Named by the clinic, the body is still a stranger to the surgery.
    let a = reg.call(
        &body,
        "POST",
        &format!("/api/v1/establishments/{surgery}/doses/passive"),
        Some(&passive(SURGERY_NIR)),
    );
    assert_eq!((a.status, a.text.as_str()), (403, answers[0].text.as_str()));
    assert_eq!(doses(&w.sb), 1);

    // Another employer's correspondent cannot name a body for the clinic; the clinic's removes it.
    let a = reg.call(
        &durand,
        "POST",
        &format!("/api/v1/establishments/{clinic}/organismes"),
        Some(&json!({"name": BODY_CN})),
    );
    assert_eq!(a.status, 404, "{}", a.text);
    let id = named.json()["id"].as_i64().expect("no id");
    let a = reg.call(
        &bernard,
        "DELETE",
        &format!("/api/v1/establishments/{clinic}/organismes/{id}"),
        None,
    );
    assert_eq!(a.status, 200, "{}", a.text);
    let a = reg.call(&body, "POST", &path, Some(&passive(CLINIC_NIR)));
    assert_eq!((a.status, a.text.as_str()), (403, answers[0].text.as_str()));
    assert_eq!(doses(&w.sb), 1);
}

#[test]
fn an_operator_names_and_removes_a_body_from_the_cli_and_both_acts_are_audited() {
    let w = World::new();
    let body = dosimetry_body(&w.sb);
    let reg = w.registry();
    let durand = reg.login(holder(&w.holders, "v.durand"));
    let surgery = reg.establishment(&durand);
    let seed: Value = serde_json::from_str(WORKER).expect("from_str failed");
    add_worker(&reg, &durand, surgery, &seed);
    let e = surgery.to_string();
    let path = format!("/api/v1/establishments/{surgery}/doses/passive");
    assert_eq!(
        reg.call(&body, "POST", &path, Some(&passive(SURGERY_NIR)))
            .status,
        403
    );

    // A body without a certificate, an establishment without a protocol: refused in French.
    let (code, err) =
        run_fail(
            &mut w
                .sb
                .siseri(["registry", "organisme", "add", &e, "LABO FANTÔME"]),
        );
    assert_eq!(code, 1);
    assert!(
        err.contains("Aucun organisme de dosimétrie de ce nom"),
        "{err}"
    );
    let (code, err) = run_fail(
        &mut w
            .sb
            .siseri(["registry", "organisme", "add", "999", BODY_CN]),
    );
    assert_eq!(code, 1);
    assert!(err.contains("aucun établissement n° 999"), "{err}");

    let out = stdout(&run_ok(&mut w.sb.siseri([
        "registry",
        "organisme",
        "add",
        &e,
        "Labo Dosimetrie de l'Est",
    ])));
    assert!(
        out.contains("organisme désigné") && out.contains(BODY_CN),
        "{out}"
    );
    let listed = stdout(&run_ok(&mut w.sb.siseri([
        "registry",
        "organisme",
        "list",
        &e,
    ])));
    assert!(
        listed.contains(BODY_CN) && listed.contains("operator:cli"),
        "{listed}"
    );
    let clients = stdout(&run_ok(&mut w.sb.siseri([
        "registry",
        "organisme",
        "clients",
        BODY_CN,
    ])));
    assert!(
        clients.contains(&format!("établissement {surgery}")),
        "{clients}"
    );
    assert_eq!(
        reg.call(&body, "POST", &path, Some(&passive(SURGERY_NIR)))
            .status,
        201
    );
    // The correspondent sees who named it.
    let seen = reg.call(
        &durand,
        "GET",
        &format!("/api/v1/establishments/{surgery}/organismes"),
        None,
    );
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert_eq!(seen.json()[0]["declared_by"], "operator:cli");

    run_ok(
        &mut w
            .sb
            .siseri(["registry", "organisme", "remove", &e, BODY_CN]),
    );
    assert_eq!(
        reg.call(&body, "POST", &path, Some(&passive(SURGERY_NIR)))
            .status,
        403
    );
    assert_eq!(doses(&w.sb), 1);

    let acts: Vec<String> = {
        let db = w.sb.db();
        let mut stmt = db
            .prepare("SELECT action FROM audit_log WHERE actor = 'operator:cli' AND action LIKE 'registry.organisme.%' ORDER BY seq")
            .expect("prepare failed");
        stmt.query_map([], |r| r.get(0))
            .expect("query_map failed")
            .collect::<Result<_, _>>()
            .expect("a row failed")
    };
    assert_eq!(
        acts,
        ["registry.organisme.name", "registry.organisme.remove"]
    );
    let help = stdout(&run_ok(&mut w.sb.siseri([
        "registry",
        "organisme",
        "--help",
    ])));
    assert!(help.contains("Désigne un organisme"), "{help}");
}
