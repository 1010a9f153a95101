//! Issue 12, part 2: approval is all-or-nothing, and what approval would refuse, the wizard
//! refuses. Against the real daemon and CLI: long French names become the documented short
//! common name (judged by OpenSSL); a stored protocol or a registry record that issuance
//! could not serve stops the approval before anything is issued or sent, with a French
//! message naming the person and the field; the JSON API and the wizard refuse the addresses
//! the mail transport would refuse.

mod common;

use std::path::PathBuf;

use common::daemon::{Daemon, Reply};
use common::fixtures::{PDF, PNG, PROTOCOL};
use common::*;
use serde_json::{json, Value};

const PCR_FIRST: &str = "Marie-Christine-Françoise";
const PCR_LAST: &str = "DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL";

fn seed() -> Value {
    serde_json::from_str(PROTOCOL).expect("from_str failed")
}

/// First and last names of exactly 100 characters, the wizard's maximum.
fn hundred_character_names() -> (String, String) {
    let first = format!("{}Anne", "Marie-".repeat(16));
    let last: String = "DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL-"
        .repeat(3)
        .chars()
        .take(100)
        .collect();
    assert_eq!((first.chars().count(), last.chars().count()), (100, 100));
    (first, last)
}

/// The subject of every person certificate AC SISERI signed, as OpenSSL prints it, in no
/// particular order.
fn person_subjects(site: &Daemon) -> Vec<String> {
    let ders: Vec<Vec<u8>> = {
        let db = site.sandbox.db();
        let mut stmt = db
            .prepare("SELECT der FROM ca_certificates WHERE profile = 'person'")
            .expect("prepare failed");
        let rows = stmt.query_map([], |r| r.get(0)).expect("query_map failed");
        rows.map(|r| r.expect("row failed")).collect()
    };
    ders.iter()
        .enumerate()
        .map(|(i, der)| {
            let path = site.sandbox.path(&format!("person-{i}.der"));
            write(&path, der);
            let path = path.display().to_string();
            openssl_ok([
                "x509",
                "-inform",
                "DER",
                "-in",
                &path,
                "-noout",
                "-subject",
                "-nameopt",
                "utf8,sep_comma_plus_space,space_eq",
            ])
            .trim()
            .to_owned()
        })
        .collect()
}

fn count_where(site: &Daemon, sql: &str) -> i64 {
    site.sandbox
        .db()
        .query_row(sql, [], |r| r.get(0))
        .expect("query_row failed")
}

/// What an approval may have left behind: certificates, people, e-mails queued or written.
#[derive(Debug, PartialEq, Eq)]
struct Traces {
    certificates: i64,
    enroll_certificates: i64,
    accessors: i64,
    mails_queued: i64,
    mail_files: usize,
}

fn traces(site: &Daemon) -> Traces {
    Traces {
        certificates: count_where(
            site,
            "SELECT COUNT(*) FROM ca_certificates WHERE profile = 'person'",
        ),
        enroll_certificates: site.sandbox.count("enroll_certificates"),
        accessors: site.sandbox.count("enroll_accessors"),
        mails_queued: count_where(
            site,
            "SELECT COUNT(*) FROM enroll_outbox WHERE channel = 'mail'",
        ),
        mail_files: site.outbox("outbox/mail", "eml").len(),
    }
}

/// Rewrites the signed version of `number` the way an older database would hold it: signed
/// versions are immutable, so the guard is lifted for the edit and put back.
fn edit_signed_input(site: &Daemon, number: &str, path: &str, value: &str) {
    let db = site.sandbox.db();
    let trigger: String = db
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'enroll_versions_signed_are_immutable'",
            [],
            |r| r.get(0),
        )
        .expect("no immutability trigger");
    db.execute_batch("DROP TRIGGER enroll_versions_signed_are_immutable")
        .expect("drop failed");
    let changed = db
        .execute(
            "UPDATE enroll_versions SET input = json_set(input, ?1, ?2)
             WHERE status = 'signed'
               AND protocol_id = (SELECT id FROM enroll_protocols WHERE number = ?3)",
            rusqlite::params![path, value, number],
        )
        .expect("update failed");
    assert_eq!(changed, 1);
    db.execute_batch(&trigger).expect("trigger restore failed");
}

fn approve_fails(site: &Daemon, number: &str) -> (i32, String) {
    run_fail(&mut site.sandbox.siseri(["protocol", "approve", number]))
}

#[test]
fn long_compound_names_are_approved_with_the_documented_short_common_name() {
    let site = Daemon::start(&[]);
    let mut protocol = seed();
    protocol["pcrs"][0]["first_name"] = json!(PCR_FIRST);
    protocol["pcrs"][0]["last_name"] = json!(PCR_LAST);
    let (first, last) = hundred_character_names();
    protocol["physicians"][0]["first_name"] = json!(first);
    protocol["physicians"][0]["last_name"] = json!(last);
    let signed = site.sign(&protocol);

    let (out, _) = site.siseri(&["protocol", "approve", &signed.number]);
    assert!(out.contains("3 certificat(s) émis"), "{out}");

    // Correspondent 42000, physician 42001, PCR 42002; OpenSSL reads every certificate.
    let mut subjects = person_subjects(&site);
    subjects.sort_by_key(|s| s.rsplit(' ').next().map(str::to_owned));
    assert_eq!(
        subjects,
        [
            "subject=C = FR, O = SISERI, CN = Vincent DURAND 42000",
            "subject=C = FR, O = SISERI, CN = M. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL-DE LA ROCHEFOUCA. 42001",
            "subject=C = FR, O = SISERI, CN = M.-C.-F. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL 42002",
        ]
    );
    for s in &subjects {
        let cn = s.rsplit("CN = ").next().expect("no CN");
        assert!(cn.chars().count() <= 64, "{cn}");
    }

    // The full names stay in the registry and in the e-mails.
    let (people, _) = site.siseri(&["accessor", "list"]);
    assert!(
        people.contains(PCR_FIRST) && people.contains(PCR_LAST),
        "{people}"
    );
    assert!(
        people.contains(&first) && people.contains(&last),
        "{people}"
    );
    let names: Vec<String> = {
        let db = site.sandbox.db();
        let mut stmt = db
            .prepare("SELECT recipient_name FROM enroll_outbox WHERE recipient = ?1")
            .expect("prepare failed");
        let rows = stmt
            .query_map(["p.dillenseger@alara.example"], |r| r.get(0))
            .expect("query_map failed");
        rows.map(|r| r.expect("row failed")).collect()
    };
    assert_eq!(names.len(), 2, "{names:?}");
    for name in names {
        assert_eq!(name, format!("{PCR_LAST} {PCR_FIRST}"));
    }
}

#[test]
fn a_stored_protocol_with_an_undeliverable_address_is_refused_whole_naming_the_person() {
    let mut site = Daemon::start(&[]);
    let signed = site.sign(&seed());
    // The PCR comes last: on the old code the two others got their certificates and e-mails.
    edit_signed_input(
        &site,
        &signed.number,
        "$.pcrs[0].email",
        "jean,dupont@exemple.fr",
    );
    site.stop();
    let before = traces(&site);

    let (code, stderr) = approve_fails(&site, &signed.number);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("Validation impossible : aucun certificat n'a été émis"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "Personne compétente en radioprotection « Pierre DILLENSEGER », adresse e-mail : \
             L'adresse e-mail est invalide"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("Erreur interne"), "{stderr}");
    assert!(!stderr.contains("jean,dupont"), "{stderr}");

    assert_eq!(traces(&site), before, "nothing issued, nothing queued");
    assert_eq!(before.certificates, 0);
    assert_eq!(before.accessors, 0);
    let (pending, _) = site.siseri(&["protocol", "list", "--status", "signed"]);
    assert!(pending.contains(&signed.number), "{pending}");

    // Retried, the same refusal: still nothing.
    let (_, again) = approve_fails(&site, &signed.number);
    assert!(again.contains("Pierre DILLENSEGER"), "{again}");
    assert_eq!(traces(&site), before);
}

#[test]
fn a_person_named_by_number_whose_registered_address_is_undeliverable_stops_everyone() {
    let mut site = Daemon::start(&[]);
    let first = site.sign(&seed());
    site.siseri(&["protocol", "approve", &first.number]);
    site.mails(6);
    // The PCR (42002) loses their certificate; the registry holds for them an address an
    // older version let through; another establishment names them by number.
    site.siseri(&["accessor", "revoke", "42002", "--reason", "superseded"]);
    site.sandbox
        .db()
        .execute(
            "UPDATE enroll_accessors SET email = 'pierre..dillenseger@alara.example'
             WHERE habilitation = 42002",
            [],
        )
        .expect("update failed");

    let mut other = seed();
    other["employer"]["name"] = json!("Clinique vétérinaire des Vosges");
    other["employer"]["siret"] = Value::Null;
    other["correspondents"][0]["last_name"] = json!("BERNARD");
    other["correspondents"][0]["first_name"] = json!("Luc");
    other["correspondents"][0]["email"] = json!("l.bernard@clinique-vosges.example");
    other["correspondents"][0]["birth_departement"] = json!("88");
    other["physicians"] = json!([]);
    other["pcrs"][0]["habilitation"] = json!("42002");
    let second = site.sign(&other);
    site.stop();
    let before = traces(&site);

    let (code, stderr) = approve_fails(&site, &second.number);
    assert_ne!(code, 0);
    assert!(
        stderr.contains(
            "Personne compétente en radioprotection « Pierre DILLENSEGER » (N° habilitation \
             42002), adresse e-mail enregistrée dans le registre : L'adresse e-mail est invalide"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("Erreur interne"), "{stderr}");
    assert_eq!(traces(&site), before, "BERNARD got nothing either");
}

#[test]
fn the_api_refuses_addresses_the_mail_transport_would_refuse_in_french() {
    let site = Daemon::start(&[]);
    for address in ["jean,dupont@exemple.fr", "jean..dupont@exemple.fr"] {
        let mut protocol = seed();
        protocol["pcrs"][0]["email"] = json!(address);
        let reply = site.json("POST", "/api/v1/protocols", None, &protocol);
        let body = reply.error(422, "invalid");
        let message = body["fields"]["pcrs[0].email"]
            .as_str()
            .unwrap_or_else(|| panic!("no field error in {body}"));
        assert!(
            message.starts_with("L'adresse e-mail est invalide"),
            "{message}"
        );
        assert!(!message.contains(address));
    }
}

/// A browser without JavaScript: a cookie jar and the CSRF token of each form.
struct Browser<'a> {
    site: &'a Daemon,
    jar: String,
}

impl Browser<'_> {
    fn request(&self, method: &str, path: &str, args: &[String]) -> Reply {
        let mut extra = vec![
            "-b".to_owned(),
            self.jar.clone(),
            "-c".to_owned(),
            self.jar.clone(),
        ];
        extra.extend_from_slice(args);
        let url = format!("{}{path}", self.site.public);
        let reply = self.site.curl(method, &url, &extra, None);
        assert_eq!(reply.exit, 0, "curl {path}: {}", reply.stderr);
        reply
    }

    fn csrf(&self, path: &str) -> String {
        let page = self.request("GET", path, &[]).text();
        let prefix = r#"name="csrf" value=""#;
        let start = page
            .find(prefix)
            .unwrap_or_else(|| panic!("no CSRF field in {path}:\n{page}"))
            + prefix.len();
        let end = start + page[start..].find('"').expect("unterminated value");
        page[start..end].to_owned()
    }

    fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut args = vec![
            "--data-urlencode".to_owned(),
            format!("csrf={}", self.csrf(path)),
        ];
        for (k, v) in fields {
            args.push("--data-urlencode".to_owned());
            args.push(format!("{k}={v}"));
        }
        self.request("POST", path, &args)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.site.sandbox.path(name);
        write(&path, bytes);
        path
    }
}

fn follows(reply: &Reply, path: &str) {
    assert_eq!(
        (reply.status, reply.redirect.ends_with(path)),
        (303, true),
        "{} → {}\n{}",
        reply.status,
        reply.redirect,
        reply.text()
    );
}

#[test]
fn the_wizard_refuses_addresses_the_mail_transport_would_refuse_in_french() {
    let site = Daemon::start(&[]);
    let b = Browser {
        site: &site,
        jar: site.sandbox.path("cookies.txt").display().to_string(),
    };
    follows(
        &b.submit("/pass/", &[("choice", "create")]),
        "/pass/preambule",
    );
    follows(
        &b.submit("/pass/preambule", &[("accept", "on"), ("action", "next")]),
        "/pass/employeur",
    );
    let employer = [
        ("employer.name", "Cabinet dentaire du Dr DURAND Vincent"),
        ("employer.siret", "73282932000074"),
        ("employer.address", "8, Avenue de la gloire"),
        ("employer.postal_code", "67000"),
        ("employer.town", "STRASBOURG"),
        ("employer.country", "FRANCE"),
    ];
    let representative = [
        ("legal_representative.last_name", "DURAND"),
        ("legal_representative.first_name", "Vincent"),
        ("legal_representative.birth_date", "12/03/1970"),
        ("legal_representative.mobile", "07 12 12 32 41"),
    ];
    let next = [("action", "next")];
    let with = |parts: &[&[(&'static str, &'static str)]]| -> Vec<(&str, &str)> {
        parts.iter().flat_map(|p| p.iter().copied()).collect()
    };
    follows(
        &b.submit("/pass/employeur", &with(&[&employer, &next])),
        "/pass/representant",
    );
    follows(
        &b.submit("/pass/representant", &with(&[&representative, &next])),
        "/pass/verification",
    );
    follows(
        &b.submit(
            "/pass/verification",
            &with(&[&employer, &representative, &next]),
        ),
        "/pass/pieces",
    );
    let pdf = b.file("kbis.pdf", PDF);
    let png = b.file("cni.png", PNG);
    let token = b.csrf("/pass/pieces");
    let upload = b.request(
        "POST",
        "/pass/pieces",
        &[
            "--form-string".to_owned(),
            format!("csrf={token}"),
            "--form-string".to_owned(),
            "action=next".to_owned(),
            "-F".to_owned(),
            format!("kbis=@{};type=application/pdf", pdf.display()),
            "-F".to_owned(),
            format!("identity=@{};type=image/png", png.display()),
        ],
    );
    follows(&upload, "/pass/correspondants");

    for address in ["jean,dupont@exemple.fr", "jean..dupont@exemple.fr"] {
        let page = b.submit(
            "/pass/correspondants",
            &[
                ("person.last_name", "DUPONT"),
                ("person.first_name", "Jean"),
                ("person.email", address),
                ("person.civility", "M"),
                ("person.birth_date", "12/03/1970"),
                ("person.birth_departement", "67"),
                ("action", "add"),
            ],
        );
        assert_eq!(page.status, 422, "{address}: {}", page.text());
        let text = page.text().replace("&#39;", "'");
        assert!(
            text.contains("L'adresse e-mail est invalide"),
            "{address}: {text}"
        );
        // The step cannot be left with that person in the list.
        let next = b.submit("/pass/correspondants", &[("action", "next")]);
        assert_eq!(next.status, 422, "{address}");
    }
}
