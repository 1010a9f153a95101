//! Issue 12, part 1, as an attacker would try it against the real daemon and CLI: file a
//! protocol for one's own company naming people who already hold an access (by habilitation
//! number and name, or by name and birth alone), get it approved, and wait for their
//! withdrawal links and codes. None of it works: the registry keeps their addresses, tells them
//! at those addresses, the operator sees every known person and every difference, and a match
//! on name and birth alone waits for the operator's explicit confirmation.

mod common;

use common::daemon::Daemon;
use common::fixtures::PROTOCOL;
use common::mail::{mails_to, Mail};
use common::*;
use serde_json::{json, Value};

const MARTIN: &str = "c.martin@sst-alsace.example";
const DILLENSEGER: &str = "p.dillenseger@alara.example";
const ATTACKER: &str = "boss@officine-pirate.example";
const NOTICE: &str = "SISERI : un nouvel établissement est rattaché à votre accès";
const PIRATE_SIRET: &str = "55208131766522";

fn seed() -> Value {
    serde_json::from_str(PROTOCOL).expect("from_str failed")
}

/// The attacker's own company: its correspondent is the attacker; its physician is the seed's
/// MARTIN named by habilitation number and name, its PCR the seed's DILLENSEGER named by name
/// and birth alone, both with the attacker's address.
fn takeover() -> Value {
    let mut p = seed();
    p["employer"]["name"] = json!("Officine Pirate");
    p["employer"]["siret"] = json!(PIRATE_SIRET);
    p["legal_representative"]["last_name"] = json!("PIRATE");
    p["legal_representative"]["first_name"] = json!("Paul");
    p["correspondents"] = json!([{
        "last_name": "PIRATE", "first_name": "Paul", "email": ATTACKER,
        "civility": "M", "birth_date": "01/01/1990", "birth_departement": "75"
    }]);
    p["physicians"] = json!([{
        "last_name": "Martin", "first_name": "Claire", "habilitation": "42001",
        "email": ATTACKER
    }]);
    p["pcrs"][0]["email"] = json!(ATTACKER);
    p
}

/// The e-mails of the outbox once there are exactly `count` of them (waits for at least
/// `count`, then checks no more came).
fn mails(site: &Daemon, count: usize) -> Vec<Mail> {
    let all = site.mails(count);
    assert_eq!(all.len(), count, "{all:#?}");
    all
}

fn email_of(site: &Daemon, hab: u32) -> String {
    site.sandbox
        .db()
        .query_row(
            "SELECT email FROM enroll_accessors WHERE habilitation = ?1",
            [hab],
            |r| r.get(0),
        )
        .expect("query_row failed")
}

#[test]
fn a_protocol_naming_other_peoples_accesses_gets_none_of_their_secrets() {
    require_tool("python3");
    let site = Daemon::start(&[]);
    let seed_signed = site.sign(&seed());
    site.siseri(&["protocol", "approve", &seed_signed.number]);
    let seed_mails = mails(&site, 6);
    assert_eq!(mails_to(&seed_mails, MARTIN).len(), 2);

    let pirate = site.sign(&takeover());

    // The operator's view before deciding: every known person, every difference.
    let (shown, _) = site.siseri(&["protocol", "show", &pirate.number]);
    let known = shown
        .split("PERSONNES DÉJÀ CONNUES DU REGISTRE NOMMÉES PAR CE PROTOCOLE")
        .nth(1)
        .and_then(|rest| rest.split("PIÈCES JUSTIFICATIVES").next())
        .unwrap_or_else(|| panic!("no known-person section in:\n{shown}"));
    for line in [
        "- Claire MARTIN (MDT) : N° habilitation SISERI 42001, désigné(e) par ce numéro".to_owned(),
        format!("adresse électronique : registre « {MARTIN} », protocole « {ATTACKER} »"),
        "- Pierre DILLENSEGER (PCR) : N° habilitation SISERI 42002, reconnu(e) à son nom et à sa naissance"
            .to_owned(),
        format!("adresse électronique : registre « {DILLENSEGER} », protocole « {ATTACKER} »"),
    ] {
        assert!(known.contains(&line), "{line:?} not in:\n{known}");
    }
    assert!(
        !known.contains("PIRATE"),
        "a new person is not a known one:\n{known}"
    );

    // Name and birth alone: refused until the operator confirms, and nothing issued or sent.
    let certificates = site.sandbox.count("ca_certificates");
    let outbox = site.sandbox.count("enroll_outbox");
    let (code, err) = run_fail(&mut site.sandbox.siseri(["protocol", "approve", &pirate.number]));
    assert_ne!(code, 0);
    for part in [
        "Pierre DILLENSEGER (PCR)",
        "42002",
        "rien n'a été émis ni envoyé",
        "--confirm-match 42002",
    ] {
        assert!(err.contains(part), "{part:?} not in:\n{err}");
    }
    assert_eq!(site.sandbox.count("ca_certificates"), certificates);
    assert_eq!(site.sandbox.count("enroll_outbox"), outbox);
    assert_eq!(site.sandbox.count("enroll_accessors"), 3);
    assert_eq!(site.outbox("outbox/mail", "eml").len(), 6);
    let (pending, _) = site.siseri(&["protocol", "list", "--status", "signed"]);
    assert!(pending.contains(&pirate.number), "{pending}");

    // Confirmed: the approval summary shows the same rows, then the people are attached.
    let (out, _) = site.siseri(&[
        "protocol",
        "approve",
        &pirate.number,
        "--confirm-match",
        "42002",
    ]);
    assert!(out.contains("PERSONNES DÉJÀ CONNUES"), "{out}");
    assert!(out.contains(&format!("protocole « {ATTACKER} »")), "{out}");
    assert!(
        out.contains("1 certificat(s) émis, 2 rattachement(s) ajouté(s)"),
        "{out}"
    );

    // Their addresses are theirs still; they were told there, with who named them.
    assert_eq!(email_of(&site, 42001), MARTIN);
    assert_eq!(email_of(&site, 42002), DILLENSEGER);
    // The attacker's own person: withdrawal and access code; the two notices.
    let all = mails(&site, 6 + 2 + 2);
    for to in [MARTIN, DILLENSEGER] {
        let theirs = mails_to(&all, to);
        let notice = theirs
            .iter()
            .find(|m| m.subject == NOTICE)
            .unwrap_or_else(|| panic!("no notice to {to}: {theirs:#?}"));
        for part in [
            "« Officine Pirate »".to_owned(),
            format!("SIRET : {PIRATE_SIRET}"),
            format!("protocole d'accès n° {}", pirate.number),
            "elle n'a pas été retenue".to_owned(),
        ] {
            assert!(
                notice.body.contains(&part),
                "{part:?} not in:\n{}",
                notice.body
            );
        }
    }
    let to_attacker = mails_to(&all, ATTACKER);
    assert_eq!(to_attacker.len(), 2, "{to_attacker:#?}");
    for m in &to_attacker {
        assert!(
            !m.body.contains("MARTIN") && !m.body.contains("DILLENSEGER"),
            "{}",
            m.body
        );
    }

    // The routine acts that follow write to the real addresses.
    site.siseri(&["accessor", "renew", "42001"]);
    site.siseri(&["accessor", "reset-code", "42002"]);
    let all = mails(&site, 10 + 2);
    let renewal = all[10..]
        .iter()
        .find(|m| m.token.is_some())
        .unwrap_or_else(|| panic!("no withdrawal mail: {all:#?}"));
    assert_eq!(renewal.to, MARTIN);
    let code = all[10..]
        .iter()
        .find(|m| m.access_code.is_some())
        .unwrap_or_else(|| panic!("no access code mail: {all:#?}"));
    assert_eq!(code.to, DILLENSEGER);
    assert_eq!(mails_to(&all, ATTACKER).len(), 2);
    site.audit_verifies();
}

#[test]
fn an_address_changes_only_by_the_operators_act_told_to_both_addresses() {
    require_tool("python3");
    let site = Daemon::start(&[]);
    let signed = site.sign(&seed());
    site.siseri(&["protocol", "approve", &signed.number]);
    mails(&site, 6);

    let new = "claire.martin@nouvelle-adresse.example";
    // The address is parsed by the project's rules; the reason is required.
    let (_, err) = run_fail(&mut site.sandbox.siseri([
        "accessor",
        "set-email",
        "42001",
        "claire.martin-sans-domaine",
        "--reason",
        "x",
    ]));
    assert!(err.contains("adresse électronique"), "{err}");
    let (_, err) = run_fail(&mut site.sandbox.siseri(["accessor", "set-email", "42001", new]));
    assert!(err.contains("--reason"), "{err}");
    assert_eq!(email_of(&site, 42001), MARTIN);

    let (out, _) = site.siseri(&[
        "accessor",
        "set-email",
        "42001",
        new,
        "--reason",
        "courrier de l'intéressée du 3 mars",
    ]);
    assert!(out.contains(new), "{out}");
    assert_eq!(email_of(&site, 42001), new);

    let all = mails(&site, 8);
    let old = mails_to(&all, MARTIN);
    assert_eq!(old.len(), 3, "{old:#?}");
    assert!(old[2].body.contains(new), "{}", old[2].body);
    assert!(old[2].body.contains("42001"), "{}", old[2].body);
    let told = mails_to(&all, new);
    assert_eq!(told.len(), 1, "{told:#?}");
    assert!(told[0]
        .body
        .contains("désormais celle de votre accès SISERI"));

    let details: String = site
        .sandbox
        .db()
        .query_row(
            "SELECT details FROM audit_log WHERE action = 'accessor.set_email' AND target = '42001'",
            [],
            |r| r.get(0),
        )
        .expect("no audit line for the change");
    for part in [MARTIN, new, "courrier de l'intéressée du 3 mars"] {
        assert!(details.contains(part), "{part:?} not in {details}");
    }
    site.audit_verifies();

    // From now on, SISERI writes to the new address.
    site.siseri(&["accessor", "reset-code", "42001"]);
    let all = mails(&site, 9);
    assert_eq!(all[8].to, new);
    assert!(all[8].access_code.is_some());

    let help = stdout(&run_ok(&mut site.sandbox.siseri([
        "accessor",
        "set-email",
        "--help",
    ])));
    assert!(help.contains("Remplace l'adresse électronique"), "{help}");
}
