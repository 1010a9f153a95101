//! Renewal of a protocol (seed section 3): number + key name, one error for both, a rate limit,
//! and a renewal that changes the physician, approved.

mod lifecycle_common;

use ca::{CertificateStatus, RevocationReason, Serial};
use enroll::access::{CertificateState, WithdrawalState};
use enroll::pass::{Client, PassError, Status};
use lifecycle_common::*;
use time::Duration;

fn client(ip: &str) -> Client {
    Client {
        ip: ip.into(),
        user_agent: "test".into(),
    }
}

#[test]
fn a_renewal_with_a_wrong_key_name_or_an_unknown_number_gets_the_same_refusal() {
    let w = World::new();
    let signed = w.signed(&seed());
    let before = w.count("SELECT COUNT(*) FROM enroll_versions");

    let wrong_key = w
        .pass
        .start_renewal(&signed.number, "PAS-LE-BON-NOM", &client("198.51.100.1"))
        .unwrap_err();
    let mut unknown_number = "1999-999999".to_owned();
    if unknown_number == signed.number {
        unknown_number = "1998-999999".into();
    }
    let unknown = w
        .pass
        .start_renewal(&unknown_number, &signed.key_name, &client("198.51.100.2"))
        .unwrap_err();
    for err in [&wrong_key, &unknown] {
        assert!(matches!(err, PassError::RenewalRefused), "{err:?}");
    }
    assert_eq!(wrong_key.to_string(), unknown.to_string());
    assert_eq!(wrong_key.status(), unknown.status());
    assert_eq!(wrong_key.code(), unknown.code());
    assert_eq!(
        w.count("SELECT COUNT(*) FROM enroll_versions"),
        before,
        "a refused renewal makes no draft"
    );

    let draft = w
        .pass
        .start_renewal(&signed.number, &signed.key_name, &client("198.51.100.3"))
        .unwrap();
    let view = w.pass.view(&draft.id).unwrap();
    assert_eq!(view.status, Status::Draft);
    assert_eq!(
        view.protocol,
        seed(),
        "pre-filled from the version in force"
    );
    assert_eq!(view.number.as_deref(), Some(signed.number.as_str()));
    assert_eq!(view.documents.len(), 2, "the documents are kept");
    w.audit_verifies();
}

#[test]
fn renewal_look_ups_are_limited_per_client_and_per_number() {
    let w = World::new();
    let signed = w.signed(&seed());
    let limit = w.pass.config().renewal_attempts_per_hour;
    let attacker = client("203.0.113.66");

    for _ in 0..limit {
        let err = w
            .pass
            .start_renewal(&signed.number, "DEVINETTE-1234", &attacker)
            .unwrap_err();
        assert!(matches!(err, PassError::RenewalRefused), "{err:?}");
    }
    // Past the limit even the right key name is refused…
    let err = w
        .pass
        .start_renewal(&signed.number, &signed.key_name, &attacker)
        .unwrap_err();
    assert!(matches!(err, PassError::TooManyRequests { .. }), "{err:?}");
    assert_eq!(err.status(), 429);
    // …from that client for any number…
    let err = w
        .pass
        .start_renewal("2000-000001", "X", &attacker)
        .unwrap_err();
    assert!(matches!(err, PassError::TooManyRequests { .. }), "{err:?}");
    // …and for that number from any client.
    let err = w
        .pass
        .start_renewal(&signed.number, &signed.key_name, &client("192.0.2.10"))
        .unwrap_err();
    assert!(matches!(err, PassError::TooManyRequests { .. }), "{err:?}");

    w.advance(Duration::minutes(61));
    w.pass
        .start_renewal(&signed.number, &signed.key_name, &attacker)
        .unwrap();
    w.audit_verifies();
}

#[test]
fn a_renewal_that_changes_the_physician_detaches_and_revokes_the_old_one_and_issues_the_new_one() {
    let w = World::new();
    let (signed, first) = w.approved_seed();
    assert_eq!(first.issued, vec![42000, 42001, 42002]);
    let martin_serial = w.certificates(42001)[0].0.clone();
    let kept = [42000, 42002].map(|h| w.certificates(h));
    let mails_before = w.mails().len();

    let mut input = seed();
    input.physicians[0] = person(
        "LEFEBVRE",
        "Anne",
        "a.lefebvre@sst-lorraine.example",
        "14/07/1979",
    );
    let renewal = w.renew(&signed, &input);
    assert_eq!(renewal.number, signed.number);
    assert_eq!(renewal.key_name, signed.key_name);
    assert_eq!(renewal.version, 2);
    let report = w.approve(&signed.number);

    assert_eq!(report.issued, vec![42003], "the new physician");
    assert_eq!(report.detached, vec![42001]);
    assert_eq!(report.revoked, vec![42001]);
    assert!(report.attached.is_empty());

    // The old physician: attachment ended, certificate revoked (affiliationChanged), in the CRL.
    let martin = w.access.accessor(42001).unwrap();
    assert!(martin.attachments.iter().all(|(a, _)| a.ended_at.is_some()));
    assert_eq!(martin.certificates.len(), 1);
    assert_eq!(martin.certificates[0].state, CertificateState::Revoked);
    assert_eq!(
        w.revocation_reason(&martin_serial),
        Some(RevocationReason::AffiliationChanged)
    );
    assert!(martin
        .withdrawals
        .iter()
        .all(|wd| wd.status != WithdrawalState::Pending && !wd.has_p12));
    let crl = w.latest_crl_text();
    let hex = Serial::from_der_bytes(&martin_serial).to_hex();
    let at = crl
        .find(&format!("Serial Number: {hex}"))
        .unwrap_or_else(|| panic!("{hex} not in the CRL:\n{crl}"));
    let entry = &crl[at..];
    let entry = &entry[..entry[1..]
        .find("Serial Number")
        .map_or(entry.len(), |e| e + 1)];
    assert!(entry.contains("Affiliation Changed"), "{entry}");
    assert!(w.access.caller(&martin_serial).unwrap().is_none());

    // The new physician: a person, a certificate, a withdrawal, two e-mails.
    let anne = w.access.accessor(42003).unwrap();
    assert_eq!(
        (
            anne.accessor.last_name.as_str(),
            anne.accessor.first_name.as_str()
        ),
        ("LEFEBVRE", "Anne")
    );
    assert_eq!(anne.certificates.len(), 1);
    assert_eq!(anne.certificates[0].state, CertificateState::Issued);
    assert_eq!(
        w.ca_status(&anne.certificates[0].serial),
        CertificateStatus::Issued
    );
    assert_eq!(anne.withdrawals.len(), 1);
    assert!(anne.withdrawals[0].has_p12);
    let to_anne = w.mails_to("a.lefebvre@sst-lorraine.example");
    assert_eq!(to_anne.len(), 2, "{to_anne:?}");

    // The others keep what they had, and hear nothing.
    assert_eq!([42000, 42002].map(|h| w.certificates(h)), kept);
    assert_eq!(w.mails().len(), mails_before + 2);
    let versions = w.access.versions(None).unwrap();
    let statuses: Vec<_> = versions
        .iter()
        .map(|v| (v.version, v.status.as_str()))
        .collect();
    assert_eq!(statuses, vec![(1, "superseded"), (2, "approved")]);
    w.audit_verifies();
}
