//! Identity at approval, as a hostile applicant would try it: a protocol never changes an
//! existing person's address; the person hears of it at the address the registry knows; a
//! match on name and birth alone waits for the operator; names compare the same whatever
//! their Unicode form; an address changes by an operator's act, told to both addresses.

mod lifecycle_common;

use enroll::access::{AccessError, FieldDifference, FoundBy, IdentityField};
use enroll::protocol::ProtocolInput;
use enroll::Email;
use lifecycle_common::*;

const ATTACKER: &str = "boss@attacker.example";

/// The attacker's own company, whose correspondent is the attacker and whose physician is
/// the seed's MARTIN (42001), named by number and name with the attacker's address.
fn takeover() -> ProtocolInput {
    let mut input = seed();
    input.employer.name = Some("Officine Pirate".into());
    input.employer.siret = Some("55208131766522".into());
    input.correspondents = vec![person("PIRATE", "Paul", ATTACKER, "01/01/1990")];
    input.physicians = vec![person_by_number("MARTIN", "Claire", ATTACKER, 42001)];
    input.pcrs.clear();
    input
}

#[test]
fn a_protocol_never_changes_an_existing_persons_address_and_she_is_told_at_hers() {
    let w = World::new();
    w.approved_seed();
    let signed = w.signed(&takeover());
    let report = w.approve(&signed.number);
    assert_eq!(report.attached, vec![42001]);

    let martin = w.access.accessor(42001).unwrap();
    assert_eq!(
        martin.accessor.email, MARTIN,
        "the protocol's address is not kept"
    );
    let notice = w
        .mails_to(MARTIN)
        .into_iter()
        .find(|(s, _)| s.contains("nouvel établissement"))
        .map(|(_, body)| body)
        .expect("no notice at the known address");
    for line in [
        "« Officine Pirate »".to_owned(),
        "SIRET : 55208131766522".to_owned(),
        format!("protocole d'accès n° {}", signed.number),
        "elle n'a pas été retenue".to_owned(),
    ] {
        assert!(notice.contains(&line), "missing {line:?} in:\n{notice}");
    }
    // The attacker gets their own person's mails, nothing of MARTIN's.
    for (subject, body) in w.mails_to(ATTACKER) {
        assert!(!body.contains("MARTIN"), "{subject}: {body}");
    }

    // The routine acts afterwards write to the real address.
    let before = w.mails_to(ATTACKER).len();
    w.access
        .reissue(&w.authority, 42001, None, "operator:test")
        .unwrap();
    w.access.reset_code(42001, "operator:test").unwrap();
    assert_eq!(w.mails_to(ATTACKER).len(), before);
    w.withdrawal_mail(MARTIN);
    w.access_code(MARTIN);
    w.audit_verifies();
}

#[test]
fn an_existing_person_without_a_certificate_gets_it_at_her_known_address() {
    let w = World::new();
    w.approved_seed();
    w.access
        .revoke(
            &w.authority,
            42001,
            ca::RevocationReason::CessationOfOperation,
            "operator:test",
        )
        .unwrap();
    let signed = w.signed(&takeover());
    let report = w.approve(&signed.number);
    assert!(report.issued.contains(&42001), "{report:?}");
    let subjects: Vec<_> = w.mails_to(MARTIN).into_iter().map(|(s, _)| s).collect();
    assert_eq!(
        subjects[2..],
        [
            "SISERI : un nouvel établissement est rattaché à votre accès",
            "SISERI : retrait de votre certificat numérique personnel",
        ],
        "{subjects:?}"
    );
    for (_, body) in w.mails_to(ATTACKER) {
        assert!(!body.contains("MARTIN"), "{body}");
    }
}

#[test]
fn the_operator_sees_every_known_person_and_every_difference() {
    let w = World::new();
    w.approved_seed();
    let mut input = takeover();
    // DILLENSEGER by name and birth, with another civility (the key ignores it).
    let mut pcr = seed().pcrs.remove(0);
    pcr.email = Some(ATTACKER.into());
    pcr.civility = Some("Mme".into());
    input.pcrs = vec![pcr];
    let signed = w.signed(&input);
    let known = w.access.compare_designees(&signed.number).unwrap();
    assert_eq!(known.len(), 2, "{known:?}");
    let martin = &known[0];
    assert_eq!(
        (martin.habilitation, martin.found_by, martin.attached_here),
        (42001, FoundBy::Habilitation, false)
    );
    assert_eq!(martin.designee, "Claire MARTIN (MDT)");
    assert_eq!(
        martin.differences,
        vec![FieldDifference {
            field: IdentityField::Email,
            registry: Some(MARTIN.into()),
            protocol: Some(ATTACKER.into()),
        }]
    );
    let pierre = &known[1];
    assert_eq!(
        (pierre.habilitation, pierre.found_by),
        (42002, FoundBy::NameAndBirth)
    );
    let fields: Vec<_> = pierre.differences.iter().map(|d| d.field).collect();
    assert_eq!(fields, [IdentityField::Email, IdentityField::Civility]);
    assert_eq!(pierre.differences[1].registry.as_deref(), Some("M"));
    assert_eq!(pierre.differences[1].protocol.as_deref(), Some("Mme"));
}

#[test]
fn a_match_on_name_and_birth_alone_waits_for_the_operator() {
    let w = World::new();
    w.approved_seed();
    let mut input = takeover();
    input.physicians = vec![{
        let mut martin = seed().physicians.remove(0);
        martin.email = Some(ATTACKER.into());
        martin
    }];
    let signed = w.signed(&input);
    w.deliver();
    let before = w.dump();
    let err = w.try_approve(&signed.number).unwrap_err();
    assert!(matches!(err, AccessError::MatchNotConfirmed(_)), "{err:?}");
    assert_eq!(err.code(), "match_not_confirmed");
    let message = err.to_string();
    for part in [
        "Claire MARTIN (MDT)",
        "42001",
        "rien n'a été émis ni envoyé",
        "--confirm-match 42001",
    ] {
        assert!(message.contains(part), "{part:?} not in {message}");
    }
    assert!(!message.contains(ATTACKER));
    w.deliver();
    assert_eq!(w.dump(), before, "a refused approval changed something");

    // Confirmed: attached, the address kept.
    let report = w.try_approve_confirming(&signed.number, &[42001]).unwrap();
    assert_eq!(report.attached, vec![42001]);
    assert_eq!(w.access.accessor(42001).unwrap().accessor.email, MARTIN);
    assert_eq!(
        w.access.accessors().unwrap().len(),
        4,
        "no duplicate person"
    );
}

const HELENE_NFC: (&str, &str) = ("MU\u{d1}OZ", "H\u{e9}l\u{e8}ne");
const HELENE_NFD: (&str, &str) = ("MUN\u{303}OZ", "He\u{301}le\u{300}ne");

#[test]
fn names_typed_composed_or_decomposed_or_with_ligatures_are_one_person() {
    let w = World::new();
    let mut input = seed();
    input.pcrs = vec![
        person(
            HELENE_NFC.0,
            HELENE_NFC.1,
            "h.munoz@example.org",
            "02/02/1982",
        ),
        person("CŒUR", "Anne", "a.coeur@example.org", "03/03/1983"),
    ];
    let signed = w.signed(&input);
    let report = w.approve(&signed.number);
    assert_eq!(report.issued, vec![42000, 42001, 42002, 42003]);

    // The same people again by name and birth, decomposed and without the ligature: found,
    // attached already, no confirmation asked, nobody new.
    input.pcrs = vec![
        person(
            HELENE_NFD.0,
            HELENE_NFD.1,
            "h.munoz@example.org",
            "02/02/1982",
        ),
        person("COEUR", "Anne", "a.coeur@example.org", "03/03/1983"),
    ];
    w.renew(&signed, &input);
    let report = w.approve(&signed.number);
    assert!(report.issued.is_empty(), "{report:?}");
    assert!(report.detached.is_empty(), "{report:?}");
    assert_eq!(w.access.accessors().unwrap().len(), 4);

    // By number, with the other spelling: no name mismatch.
    input.pcrs = vec![
        person_by_number(HELENE_NFD.0, HELENE_NFD.1, "h.munoz@example.org", 42002),
        person_by_number("Coeur", "anne", "a.coeur@example.org", 42003),
    ];
    w.renew(&signed, &input);
    let report = w.approve(&signed.number);
    assert!(
        report.issued.is_empty() && report.detached.is_empty(),
        "{report:?}"
    );
    assert_eq!(w.access.accessors().unwrap().len(), 4);
}

#[test]
fn an_address_changes_by_an_operators_act_told_to_both_addresses() {
    let w = World::new();
    w.approved_seed();
    let new = Email::parse("claire.martin@nouvelle.example").unwrap();
    w.access
        .set_email(42001, &new, "  demande écrite du 3 mars ", "operator:test")
        .unwrap();
    assert_eq!(
        w.access.accessor(42001).unwrap().accessor.email,
        new.as_str()
    );
    let old_mail = w
        .mails_to(MARTIN)
        .pop()
        .expect("nothing to the old address");
    assert!(old_mail.0.contains("a été changée"), "{old_mail:?}");
    assert!(old_mail.1.contains(new.as_str()));
    let new_mail = w.mails_to(new.as_str());
    assert_eq!(new_mail.len(), 1, "{new_mail:?}");
    assert!(new_mail[0].1.contains("désormais celle de votre accès"));

    let (actor, target, details): (String, String, String) = w
        .db()
        .query_row(
            "SELECT actor, target, details FROM audit_log WHERE action = 'accessor.set_email'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (actor.as_str(), target.as_str()),
        ("operator:test", "42001")
    );
    for part in [MARTIN, new.as_str(), "demande écrite du 3 mars"] {
        assert!(details.contains(part), "{part:?} not in {details}");
    }
    w.audit_verifies();

    // What follows goes to the new address.
    w.access.reset_code(42001, "operator:test").unwrap();
    w.access_code(new.as_str());

    let same = w.access.set_email(42001, &new, "encore", "operator:test");
    assert!(
        matches!(same, Err(AccessError::EmailUnchanged(42001))),
        "{same:?}"
    );
    let blank = w.access.set_email(42001, &new, " \n", "operator:test");
    assert!(
        matches!(blank, Err(AccessError::ReasonRequired)),
        "{blank:?}"
    );
    let unknown = w.access.set_email(99999, &new, "motif", "operator:test");
    assert!(matches!(
        unknown,
        Err(AccessError::UnknownHabilitation(99999))
    ));
}
