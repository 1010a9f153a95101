//! After the approval: access codes and their lock, renewal and re-sending of a certificate,
//! the sweeper of expired withdrawals, and the expiry notice.

mod lifecycle_common;

use ca::{CertificateStatus, RevocationReason};
use enroll::access::{AccessCodeState, AccessError, CertificateState, WithdrawalState, Withdrawn};
use lifecycle_common::*;
use time::Duration;

#[test]
fn five_wrong_access_codes_lock_the_access_across_a_restart_until_an_operator_resets_it() {
    let mut w = World::new();
    w.approved_seed();
    let code = w.access_code(DURAND);
    let wrong = other_code(&code);

    // Failures count until a success.
    for _ in 0..4 {
        w.access.check_access_code(42000, &wrong).unwrap_err();
    }
    w.access.check_access_code(42000, &code).unwrap();

    for left in [4, 3, 2, 1] {
        let err = w.access.check_access_code(42000, &wrong).unwrap_err();
        match err {
            AccessError::WrongAccessCode { attempts_left } => assert_eq!(attempts_left, left),
            ref other => panic!("expected a wrong code, got {other:?}"),
        }
        assert_eq!(err.status(), 401);
    }
    let err = w.access.check_access_code(42000, &wrong).unwrap_err();
    assert!(matches!(err, AccessError::AccessLocked), "{err:?}");
    assert_eq!(err.status(), 423);
    let err = w.access.check_access_code(42000, &code).unwrap_err();
    assert!(
        matches!(err, AccessError::AccessLocked),
        "right code: {err:?}"
    );

    w.restart();
    let err = w.access.check_access_code(42000, &code).unwrap_err();
    assert!(matches!(err, AccessError::AccessLocked), "restart: {err:?}");
    assert_eq!(
        w.access
            .accessor(42000)
            .unwrap()
            .access_code
            .unwrap()
            .status,
        AccessCodeState::Locked
    );
    // Someone else's code is unaffected.
    w.access
        .check_access_code(42001, &w.access_code(MARTIN))
        .unwrap();

    let mails_before = w.mails_to(DURAND).len();
    w.access.reset_code(42000, "operator:test").unwrap();
    let mails = w.mails_to(DURAND);
    assert_eq!(mails.len(), mails_before + 1);
    assert_eq!(
        mails.last().unwrap().0,
        "SISERI : votre mot de passe d'accès"
    );
    let fresh = w.access_code(DURAND);
    if fresh != code {
        let err = w.access.check_access_code(42000, &code).unwrap_err();
        assert!(
            matches!(err, AccessError::WrongAccessCode { .. }),
            "the old code: {err:?}"
        );
    }
    w.access.check_access_code(42000, &fresh).unwrap();
    assert_eq!(
        w.access
            .accessor(42000)
            .unwrap()
            .access_code
            .unwrap()
            .failed_attempts,
        0
    );
    w.audit_verifies();
}

#[test]
fn a_renewed_certificate_leaves_the_old_one_valid_until_the_new_one_is_withdrawn() {
    let w = World::new();
    w.approved_seed();
    let first = w.withdrawal_mail(DURAND);
    w.access
        .withdraw(&w.authority, &first.token, &first.code, None)
        .unwrap();
    let old = w.certificates(42000)[0].0.clone();
    let mails_before = w.mails_to(DURAND).len();

    let crl = w
        .access
        .reissue(&w.authority, 42000, None, "operator:test")
        .unwrap();
    assert!(crl.is_empty(), "nothing to revoke yet");
    let mails = w.mails_to(DURAND);
    assert_eq!(
        mails.len(),
        mails_before + 1,
        "a withdrawal e-mail, no new access code"
    );
    let second = w.withdrawal_mail(DURAND);
    assert_ne!(second.token, first.token);

    let (olds, news) = split(w.certificates(42000), &old);
    assert_eq!(olds, vec!["delivered".to_owned()]);
    assert_eq!(news.len(), 1);
    let (new, new_state) = &news[0];
    assert_eq!(new_state, "issued");
    assert_eq!(w.ca_status(&old), CertificateStatus::Issued);
    assert_eq!(
        w.access.caller(&old).unwrap().map(|c| c.habilitation),
        Some(42000),
        "the old certificate still opens the registry"
    );

    let Withdrawn::P12 { .. } = w
        .access
        .withdraw(&w.authority, &second.token, &second.code, None)
        .unwrap()
    else {
        panic!("a .p12 was expected")
    };
    assert_eq!(
        w.revocation_reason(&old),
        Some(RevocationReason::Superseded)
    );
    let (olds, news) = split(w.certificates(42000), &old);
    assert_eq!(olds, vec!["revoked".to_owned()]);
    assert_eq!(news, vec![(new.clone(), "delivered".to_owned())]);
    assert!(w.access.caller(&old).unwrap().is_none());
    assert!(w.access.caller(new).unwrap().is_some());
    let crl = w.latest_crl_text();
    assert!(
        crl.contains(&ca::Serial::from_der_bytes(&old).to_hex()),
        "{crl}"
    );
    w.audit_verifies();
}

#[test]
fn resending_supersedes_the_pending_withdrawal_and_revokes_its_never_delivered_certificate() {
    let w = World::new();
    w.approved_seed();
    let first = w.withdrawal_mail(MARTIN);
    let never_delivered = w.certificates(42001)[0].0.clone();

    let crl = w
        .access
        .reissue(
            &w.authority,
            42001,
            Some(ca::P12Profile::Compat),
            "operator:test",
        )
        .unwrap();
    assert!(!crl.is_empty());
    assert_eq!(
        w.revocation_reason(&never_delivered),
        Some(RevocationReason::Superseded)
    );
    let err = w
        .access
        .withdraw(&w.authority, &first.token, &first.code, None)
        .unwrap_err();
    assert_eq!(err.status(), 410, "{err:?}");

    let second = w.withdrawal_mail(MARTIN);
    let Withdrawn::P12 { bytes, .. } = w
        .access
        .withdraw(&w.authority, &second.token, &second.code, None)
        .unwrap()
    else {
        panic!("a .p12 was expected")
    };
    let path = w.path("compat.p12");
    std::fs::write(&path, bytes.as_slice()).unwrap();
    let pass = format!("pass:{}", second.password);
    let info = openssl(&[
        "pkcs12",
        "-in",
        path_str(&path),
        "-passin",
        &pass,
        "-noout",
        "-info",
    ]);
    let said =
        String::from_utf8_lossy(&info.stderr).into_owned() + &String::from_utf8_lossy(&info.stdout);
    assert!(said.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{said}");
    assert!(!said.contains("AES"), "the compat profile: {said}");
    w.audit_verifies();
}

#[test]
fn sweeping_an_expired_unused_withdrawal_revokes_its_never_delivered_certificate() {
    let w = World::new();
    w.approved_seed();
    let taken = w.withdrawal_mail(DURAND);
    w.access
        .withdraw(&w.authority, &taken.token, &taken.code, None)
        .unwrap();

    w.advance(Duration::days(59));
    assert_eq!(w.access.sweep_withdrawals(&w.authority).unwrap(), 0);
    w.advance(Duration::days(2));
    assert_eq!(w.access.sweep_withdrawals(&w.authority).unwrap(), 2);
    assert_eq!(
        w.access.sweep_withdrawals(&w.authority).unwrap(),
        0,
        "idempotent"
    );

    let crl = w.latest_crl_text();
    for hab in [42001, 42002] {
        let d = w.access.accessor(hab).unwrap();
        assert_eq!(d.withdrawals[0].status, WithdrawalState::Expired);
        assert!(!d.withdrawals[0].has_p12);
        let serial = &d.certificates[0].serial;
        assert_eq!(d.certificates[0].state, CertificateState::Revoked);
        assert!(
            w.revocation_reason(serial).is_some(),
            "{hab}'s never-delivered certificate must be revoked"
        );
        assert!(crl.contains(&ca::Serial::from_der_bytes(serial).to_hex()));
    }
    // The certificate that was withdrawn in time stays valid.
    let durand = &w.certificates(42000)[0];
    assert_eq!(durand.1, "delivered");
    assert_eq!(w.ca_status(&durand.0), CertificateStatus::Issued);
    w.audit_verifies();
}

#[test]
fn the_expiry_notice_goes_out_once_forty_days_before_the_end() {
    let w = World::new();
    w.approved_seed();
    let link = w.withdrawal_mail(DILLENSEGER);
    w.access
        .withdraw(&w.authority, &link.token, &link.code, None)
        .unwrap();
    let not_after = w.access.accessor(42002).unwrap().certificates[0]
        .not_after
        .unwrap();
    let not_after = time::OffsetDateTime::from_unix_timestamp(not_after).unwrap();
    let notices = |w: &World| {
        w.mails_to(DILLENSEGER)
            .into_iter()
            .filter(|(s, _)| s.contains("expire"))
            .collect::<Vec<_>>()
    };

    w.advance(not_after - Duration::days(41) - w.now());
    assert_eq!(w.access.expiry_notices().unwrap(), 0);
    w.advance(Duration::days(1));
    assert_eq!(not_after - w.now(), Duration::days(40));
    assert_eq!(w.access.expiry_notices().unwrap(), 1);
    assert_eq!(w.access.expiry_notices().unwrap(), 0, "not twice");
    w.advance(Duration::days(1));
    assert_eq!(
        w.access.expiry_notices().unwrap(),
        0,
        "not the next day either"
    );

    let sent = notices(&w);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, "SISERI : votre certificat expire dans 40 jours");
    let date = not_after.date();
    let french = format!(
        "{:02}/{:02}/{}",
        date.day(),
        u8::from(date.month()),
        date.year()
    );
    assert!(sent[0].1.contains(&french), "{}", sent[0].1);
    // The others never withdrew theirs: no notice for a certificate nobody holds.
    assert!(w
        .mails_to(DURAND)
        .iter()
        .all(|(s, _)| !s.contains("expire")));
    w.audit_verifies();
}
