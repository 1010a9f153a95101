//! Approval of signed protocols: persons, attachments, certificates, withdrawals and e-mails,
//! exactly; a person shared by two establishments; renewals that add, remove and keep people;
//! a habilitation number given with another name.

mod lifecycle_common;

use ca::{CertificateStatus, RevocationReason, Serial};
use enroll::access::{AccessError, CertificateState, MatchToConfirm, WithdrawalState};
use enroll::protocol::{ProtocolInput, Role};
use lifecycle_common::*;

#[test]
fn approval_creates_exactly_the_expected_persons_certificates_withdrawals_and_emails() {
    let w = World::new();
    let signed = w.signed(&seed());
    assert_eq!(w.mails().len(), 0, "nothing is sent before the approval");
    let report = w.approve(&signed.number);

    assert_eq!(report.number, signed.number);
    assert_eq!(report.version, 1);
    assert_eq!(report.issued, vec![42000, 42001, 42002]);
    assert!(report.attached.is_empty() && report.detached.is_empty() && report.revoked.is_empty());

    let people: Vec<_> = w
        .access
        .accessors()
        .unwrap()
        .into_iter()
        .map(|a| (a.habilitation, a.last_name, a.first_name, a.email))
        .collect();
    assert_eq!(
        people,
        vec![
            (42000, "DURAND".into(), "Vincent".into(), DURAND.into()),
            (42001, "MARTIN".into(), "Claire".into(), MARTIN.into()),
            (
                42002,
                "DILLENSEGER".into(),
                "Pierre".into(),
                DILLENSEGER.into()
            ),
        ]
    );

    for (hab, role, email, cn) in [
        (42000, Role::Cse, DURAND, "Vincent DURAND 42000"),
        (42001, Role::Mdt, MARTIN, "Claire MARTIN 42001"),
        (42002, Role::Pcr, DILLENSEGER, "Pierre DILLENSEGER 42002"),
    ] {
        let d = w.access.accessor(hab).unwrap();
        assert_eq!(d.attachments.len(), 1, "{hab}");
        let (att, number) = &d.attachments[0];
        assert_eq!((att.role, number.as_str()), (role, signed.number.as_str()));
        assert!(att.ended_at.is_none());
        assert_eq!(att.sends_dosimetry, role == Role::Pcr);

        assert_eq!(d.certificates.len(), 1, "{hab}");
        let cert = &d.certificates[0];
        assert_eq!(cert.state, CertificateState::Issued);
        let record = ca::Authority::find(&w.db(), &Serial::from_der_bytes(&cert.serial))
            .unwrap()
            .unwrap();
        assert_eq!(record.status, CertificateStatus::Issued);
        assert!(record.subject.contains(cn), "{} vs {cn}", record.subject);
        assert_eq!(record.profile, ca::ProfileKind::Person);

        assert_eq!(d.withdrawals.len(), 1, "{hab}");
        let wd = &d.withdrawals[0];
        assert_eq!(
            (wd.status.as_str(), wd.has_p12, &wd.serial),
            ("pending", true, &cert.serial)
        );
        assert_eq!(
            d.access_code.as_ref().map(|c| c.status.as_str()),
            Some("active")
        );

        let mails = w.mails_to(email);
        let subjects: Vec<_> = mails.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            subjects,
            vec![
                "SISERI : retrait de votre certificat numérique personnel",
                "SISERI : votre mot de passe d'accès"
            ],
            "{hab}"
        );
        let link = w.withdrawal_mail(email);
        let info = w.access.withdrawal_info(&link.token).unwrap();
        assert_eq!(info.habilitation, Some(hab));
        assert_eq!(info.attempts_left, 5);
        let code = w.access_code(email);
        assert_eq!(code.len(), 4);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
        // The access code and the withdrawal secrets travel in separate e-mails.
        assert!(!mails[1].1.contains(&link.code) && !mails[0].1.contains(&code));
    }
    assert_eq!(w.mails().len(), 6);
    assert_eq!(w.sms_texts().len(), 1, "only the signature code");
    assert_eq!(
        w.count("SELECT COUNT(*) FROM ca_certificates WHERE profile = 'person'"),
        3
    );
    assert_eq!(w.count("SELECT COUNT(*) FROM enroll_withdrawals"), 3);

    // Approving again has nothing to decide and changes nothing.
    let before = w.dump();
    let err = w.try_approve(&signed.number).unwrap_err();
    assert!(matches!(err, AccessError::NothingToDecide(_)), "{err:?}");
    assert_eq!(w.dump(), before);
    w.audit_verifies();
}

/// Another employer whose correspondent is new, whose PCR is the seed's DILLENSEGER named
/// again without number (same name, birth date, département) and whose physician is the seed's
/// MARTIN named by her habilitation number.
fn clinic() -> ProtocolInput {
    let mut input = seed();
    input.employer.name = Some("Clinique vétérinaire des Vosges".into());
    input.correspondents = vec![person(
        "GARNIER",
        "Sophie",
        "s.garnier@clinique-vosges.example",
        "03/09/1985",
    )];
    input.physicians = vec![person_by_number("Martin", "Claire", MARTIN, 42001)];
    input
}

#[test]
fn a_person_named_in_two_protocols_has_one_certificate_two_attachments_and_an_attachment_notice() {
    let w = World::new();
    let (seed_signed, _) = w.approved_seed();
    let before: Vec<_> = [42001, 42002].map(|h| w.certificates(h)).to_vec();
    let mails_before = w.mails().len();

    let clinic_signed = w.signed(&clinic());
    assert_ne!(clinic_signed.number, seed_signed.number);
    // DILLENSEGER is named by name and birth alone: the operator must confirm it is him.
    w.deliver();
    let unchanged = w.dump();
    match w.try_approve(&clinic_signed.number) {
        Err(AccessError::MatchNotConfirmed(m)) => assert_eq!(
            m,
            vec![MatchToConfirm {
                designee: "Pierre DILLENSEGER (PCR)".into(),
                habilitation: 42002
            }]
        ),
        other => panic!("expected a match to confirm, got {other:?}"),
    }
    w.deliver();
    assert_eq!(w.dump(), unchanged, "nothing issued, attached or sent");
    let report = w
        .try_approve_confirming(&clinic_signed.number, &[42002])
        .expect("approve failed");
    assert_eq!(report.issued, vec![42003], "only the new correspondent");
    let mut attached = report.attached.clone();
    attached.sort_unstable();
    assert_eq!(attached, vec![42001, 42002]);
    assert_eq!(w.access.accessors().unwrap().len(), 4);

    for (hab, email, role) in [(42001, MARTIN, Role::Mdt), (42002, DILLENSEGER, Role::Pcr)] {
        let d = w.access.accessor(hab).unwrap();
        let mut numbers: Vec<_> = d
            .attachments
            .iter()
            .filter(|(a, _)| a.ended_at.is_none())
            .map(|(a, n)| {
                assert_eq!(a.role, role);
                n.clone()
            })
            .collect();
        numbers.sort();
        let mut expected = vec![seed_signed.number.clone(), clinic_signed.number.clone()];
        expected.sort();
        assert_eq!(numbers, expected, "{hab}");
        assert_eq!(d.withdrawals.len(), 1, "{hab}: no second withdrawal");

        let mails = w.mails_to(email);
        assert_eq!(mails.len(), 3, "{hab}: {mails:?}");
        let (subject, body) = &mails[2];
        assert_eq!(
            subject,
            "SISERI : un nouvel établissement est rattaché à votre accès"
        );
        assert!(body.contains("Clinique vétérinaire des Vosges"), "{body}");
        assert!(body.contains("SIRET : 73282932000074"), "{body}");
        assert!(
            body.contains(&format!("protocole d'accès n° {}", clinic_signed.number)),
            "{body}"
        );
        assert!(body.contains("n'avez rien à installer"), "{body}");
    }
    assert_eq!(
        [42001, 42002].map(|h| w.certificates(h)).to_vec(),
        before,
        "one certificate each, untouched"
    );
    assert_eq!(w.mails().len(), mails_before + 2 + 2);

    // Dropped from the seed's protocol, the PCR keeps the certificate: the clinic still names him.
    let mut without_pcr = seed();
    without_pcr.pcrs.clear();
    w.renew(&seed_signed, &without_pcr);
    let report = w.approve(&seed_signed.number);
    assert_eq!(report.detached, vec![42002]);
    assert!(report.revoked.is_empty(), "{:?}", report.revoked);
    let serial = &w.certificates(42002)[0].0;
    assert_eq!(w.ca_status(serial), CertificateStatus::Issued);
    let d = w.access.accessor(42002).unwrap();
    let active: Vec<_> = d
        .attachments
        .iter()
        .filter(|(a, _)| a.ended_at.is_none())
        .map(|(_, n)| n.clone())
        .collect();
    assert_eq!(active, vec![clinic_signed.number.clone()]);
    w.audit_verifies();
}

#[test]
fn a_renewal_that_adds_one_person_removes_another_and_keeps_a_third_does_exactly_that() {
    let w = World::new();
    let (signed, _) = w.approved_seed();
    let attachments_before: Vec<_> = [42000, 42002]
        .map(|h| w.access.accessor(h).unwrap().attachments[0].0.id)
        .to_vec();
    let kept_before = [42000, 42002].map(|h| w.certificates(h));
    let martin_serial = w.certificates(42001)[0].0.clone();
    let mails_before = w.mails().len();

    // Adds a second PCR, removes the physician, keeps the correspondent and the first PCR.
    let mut input = seed();
    input.physicians.clear();
    let mut roux = person(
        "ROUX",
        "Julien",
        "j.roux@radioprotection.example",
        "21/06/1988",
    );
    roux.civility = Some("M".into());
    roux.sends_dosimetry = Some(false);
    input.pcrs.push(roux);
    let renewal = w.renew(&signed, &input);
    assert_eq!(renewal.version, 2);
    let report = w.approve(&signed.number);

    assert_eq!(report.issued, vec![42003]);
    assert_eq!(report.detached, vec![42001]);
    assert_eq!(report.revoked, vec![42001]);
    assert!(report.attached.is_empty());

    // Added.
    let roux = w.access.accessor(42003).unwrap();
    assert_eq!(roux.accessor.last_name, "ROUX");
    assert_eq!(roux.attachments.len(), 1);
    assert_eq!(roux.attachments[0].0.role, Role::Pcr);
    assert_eq!(roux.certificates.len(), 1);
    assert_eq!(roux.withdrawals.len(), 1);
    assert_eq!(w.mails_to("j.roux@radioprotection.example").len(), 2);

    // Removed.
    let martin = w.access.accessor(42001).unwrap();
    assert!(martin.attachments[0].0.ended_at.is_some());
    assert_eq!(
        w.revocation_reason(&martin_serial),
        Some(RevocationReason::AffiliationChanged)
    );
    assert_eq!(martin.withdrawals[0].status, WithdrawalState::Superseded);
    assert!(!martin.withdrawals[0].has_p12, "the unused .p12 is erased");
    let crl = w.latest_crl_text();
    let hex = Serial::from_der_bytes(&martin_serial).to_hex();
    assert!(crl.contains(&hex), "{hex} not in:\n{crl}");
    assert_eq!(w.mails_to(MARTIN).len(), 2, "nothing new for the removed");

    // Kept: same attachment row, same certificate, no e-mail.
    assert_eq!(
        [42000, 42002]
            .map(|h| w.access.accessor(h).unwrap().attachments[0].0.id)
            .to_vec(),
        attachments_before
    );
    assert_eq!([42000, 42002].map(|h| w.certificates(h)), kept_before);
    for hab in [42000, 42002] {
        let d = w.access.accessor(hab).unwrap();
        assert_eq!(d.attachments.len(), 1);
        assert!(d.attachments[0].0.ended_at.is_none());
    }
    assert_eq!(w.mails().len(), mails_before + 2);
    assert_eq!(w.access.accessors().unwrap().len(), 4);
    w.audit_verifies();
}

#[test]
fn a_name_mismatch_on_a_habilitation_number_stops_the_approval_with_nothing_changed() {
    let w = World::new();
    w.approved_seed();
    let mut input = clinic();
    input.physicians.clear();
    // 42002 is Pierre DILLENSEGER.
    input.pcrs = vec![person_by_number(
        "DUPONT",
        "Jean",
        "j.dupont@example.org",
        42002,
    )];
    let signed = w.signed(&input);
    w.deliver();
    let before = w.dump();

    let err = w.try_approve(&signed.number).unwrap_err();
    match &err {
        AccessError::NameMismatch { habilitation, .. } => assert_eq!(*habilitation, 42002),
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    let message = err.to_string();
    assert!(
        message.contains("42002") && message.contains("ne correspond pas"),
        "{message}"
    );
    w.deliver();
    assert_eq!(
        w.dump(),
        before,
        "the refused approval changed the database"
    );
    let pending = w.access.versions(Some("signed")).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].number, signed.number);
    w.audit_verifies();
}
