//! The one-shot withdrawal: a hundred concurrent takers, the lock, the 60 days, the `.p12`
//! erased from the database file, and the CSR mode judged by OpenSSL.

mod lifecycle_common;

use std::sync::Barrier;

use ca::{CertificateStatus, RevocationReason};
use enroll::access::{AccessError, Withdrawn};
use lifecycle_common::*;
use time::Duration;

fn stored_p12(w: &World, hab: u32) -> Option<Vec<u8>> {
    w.db()
        .query_row(
            "SELECT p12 FROM enroll_withdrawals WHERE habilitation = ?1 ORDER BY id DESC LIMIT 1",
            [hab],
            |r| r.get(0),
        )
        .expect("query_row failed")
}

fn withdrawal_status(w: &World, hab: u32) -> String {
    w.db()
        .query_row(
            "SELECT status FROM enroll_withdrawals WHERE habilitation = ?1 ORDER BY id DESC LIMIT 1",
            [hab],
            |r| r.get(0),
        )
        .expect("query_row failed")
}

/// Asserts that neither `secret` nor any 48-byte run of it is left in the database file or its
/// WAL, except runs that the `.p12` files still legitimately stored share with it (ASN.1
/// headers and algorithm identifiers of the same layout).
fn assert_erased_from_the_file(w: &World, secret: &[u8], what: &str) {
    assert!(secret.len() > 200, "{what}: too short to be a .p12");
    let others: Vec<Vec<u8>> = {
        let conn = w.db();
        let mut stmt = conn
            .prepare("SELECT p12 FROM enroll_withdrawals WHERE p12 IS NOT NULL")
            .expect("prepare failed");
        let rows = stmt.query_map([], |r| r.get(0)).expect("query_map failed");
        rows.map(Result::unwrap).collect()
    };
    let file = w.database_bytes();
    assert!(
        !contains(&file, secret),
        "{what}: the whole .p12 is still in the file"
    );
    for (i, chunk) in secret.chunks_exact(48).enumerate() {
        if others.iter().any(|o| contains(o, chunk)) {
            continue;
        }
        assert!(
            !contains(&file, chunk),
            "{what}: bytes {}..{} of the .p12 are still in the file",
            i * 48,
            i * 48 + 48
        );
    }
}

/// Opens a `.p12` with OpenSSL 3 (no legacy provider) and the password of the e-mail.
fn openssl_opens(w: &World, p12: &[u8], password: &str) {
    let path = w.path("withdrawn.p12");
    std::fs::write(&path, p12).expect("write failed");
    let pass = format!("pass:{password}");
    openssl(&["pkcs12", "-in", path_str(&path), "-passin", &pass, "-noout"]);
}

#[test]
fn of_a_hundred_concurrent_withdrawals_with_the_right_code_exactly_one_gets_the_p12() {
    let w = World::new();
    w.approved_seed();
    let link = w.withdrawal_mail(DURAND);
    let barrier = Barrier::new(100);
    let outcomes: Vec<Result<Withdrawn, AccessError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..100)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    w.access
                        .withdraw(&w.authority, &link.token, &link.code, None)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    let mut files = Vec::new();
    let mut gone = 0;
    for outcome in outcomes {
        match outcome {
            Ok(Withdrawn::P12 {
                habilitation,
                bytes,
            }) => {
                assert_eq!(habilitation, 42000);
                files.push(bytes.to_vec());
            }
            Ok(Withdrawn::Chain { .. } | Withdrawn::OperatorP12 { .. }) => {
                panic!("no CSR was given, and this is a person's withdrawal")
            }
            Err(AccessError::WithdrawalGone) => gone += 1,
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!((files.len(), gone), (1, 99));
    openssl_opens(&w, &files[0], &link.password);
    assert_eq!(withdrawal_status(&w, 42000), "used");
    assert_eq!(stored_p12(&w, 42000), None);
    assert_eq!(w.certificates(42000)[0].1, "delivered");
    let err = w.access.withdrawal_info(&link.token).unwrap_err();
    assert_eq!(err.status(), 410);
    w.audit_verifies();
}

#[test]
fn five_wrong_withdrawal_codes_lock_it_with_423_and_it_stays_locked() {
    let mut w = World::new();
    w.approved_seed();
    let link = w.withdrawal_mail(MARTIN);
    let wrong = other_code(&link.code);

    for left in [4, 3, 2, 1] {
        let err = w
            .access
            .withdraw(&w.authority, &link.token, &wrong, None)
            .unwrap_err();
        match err {
            AccessError::WrongWithdrawalCode { attempts_left } => assert_eq!(attempts_left, left),
            ref other => panic!("expected a wrong code, got {other:?}"),
        }
        assert_eq!(err.status(), 403);
        assert_eq!(
            w.access.withdrawal_info(&link.token).unwrap().attempts_left,
            left
        );
    }
    let err = w
        .access
        .withdraw(&w.authority, &link.token, &wrong, None)
        .unwrap_err();
    assert!(matches!(err, AccessError::WithdrawalLocked), "{err:?}");
    assert_eq!(err.status(), 423);

    let err = w
        .access
        .withdraw(&w.authority, &link.token, &link.code, None)
        .unwrap_err();
    assert!(
        matches!(err, AccessError::WithdrawalLocked),
        "the right code after the lock: {err:?}"
    );
    w.restart();
    let err = w
        .access
        .withdraw(&w.authority, &link.token, &link.code, None)
        .unwrap_err();
    assert!(
        matches!(err, AccessError::WithdrawalLocked),
        "after a restart: {err:?}"
    );
    assert_eq!(
        w.access.withdrawal_info(&link.token).unwrap_err().status(),
        423
    );
    assert_eq!(withdrawal_status(&w, 42001), "locked");
    assert_eq!(w.certificates(42001)[0].1, "issued", "never handed out");

    // The other people's withdrawals are not affected.
    let other = w.withdrawal_mail(DURAND);
    assert!(w
        .access
        .withdraw(&w.authority, &other.token, &other.code, None)
        .is_ok());

    // Until an operator re-sends: a new link and code that work, the locked one still refused.
    let locked_serial = w.certificates(42001)[0].0.clone();
    w.access
        .reissue(&w.authority, 42001, None, "operator:test")
        .unwrap();
    assert_eq!(
        w.revocation_reason(&locked_serial),
        Some(RevocationReason::Superseded),
        "the certificate of the locked withdrawal was never handed out"
    );
    let fresh = w.withdrawal_mail(MARTIN);
    assert_ne!(fresh.token, link.token);
    let Withdrawn::P12 { bytes, .. } = w
        .access
        .withdraw(&w.authority, &fresh.token, &fresh.code, None)
        .unwrap()
    else {
        panic!("a .p12 was expected")
    };
    openssl_opens(&w, &bytes, &fresh.password);
    assert!(w
        .access
        .withdraw(&w.authority, &link.token, &link.code, None)
        .is_err());
    w.audit_verifies();
}

#[test]
fn a_withdrawal_is_gone_with_410_after_sixty_days() {
    let w = World::new();
    w.approved_seed();
    let link = w.withdrawal_mail(DILLENSEGER);

    w.advance(Duration::days(59));
    assert_eq!(
        w.access.withdrawal_info(&link.token).unwrap().habilitation,
        Some(42002)
    );
    w.advance(Duration::days(1) + Duration::minutes(1));
    let err = w
        .access
        .withdraw(&w.authority, &link.token, &link.code, None)
        .unwrap_err();
    assert!(matches!(err, AccessError::WithdrawalGone), "{err:?}");
    assert_eq!(err.status(), 410);
    assert!(err.to_string().contains("expiré"), "{err}");
    assert_eq!(
        w.access.withdrawal_info(&link.token).unwrap_err().status(),
        410
    );
    assert_eq!(stored_p12(&w, 42002), None);
    w.audit_verifies();
}

#[test]
fn the_p12_bytes_are_gone_from_the_database_file_after_use() {
    let w = World::new();
    w.approved_seed();
    let link = w.withdrawal_mail(DURAND);
    let stored = stored_p12(&w, 42000).expect("the .p12 waits for its holder");
    let Withdrawn::P12 { bytes, .. } = w
        .access
        .withdraw(&w.authority, &link.token, &link.code, None)
        .unwrap()
    else {
        panic!("a .p12 was expected")
    };
    assert_eq!(bytes.as_slice(), stored.as_slice());
    assert_eq!(stored_p12(&w, 42000), None);
    assert_erased_from_the_file(&w, &bytes, "after use");
    w.audit_verifies();
}

#[test]
fn the_p12_bytes_are_gone_from_the_database_file_after_expiry() {
    let w = World::new();
    w.approved_seed();
    let stored: Vec<Vec<u8>> = [42000, 42001, 42002]
        .map(|h| stored_p12(&w, h).unwrap())
        .to_vec();
    w.advance(Duration::days(61));
    assert_eq!(w.access.sweep_withdrawals(&w.authority).unwrap(), 3);
    for (hab, p12) in [42000, 42001, 42002].into_iter().zip(&stored) {
        assert_eq!(withdrawal_status(&w, hab), "expired");
        assert_eq!(stored_p12(&w, hab), None);
        assert_erased_from_the_file(&w, p12, &format!("{hab} after expiry"));
    }
    w.audit_verifies();
}

#[test]
fn csr_mode_returns_a_chain_for_the_requesters_key_and_erases_the_prepared_p12() {
    let w = World::new();
    w.approved_seed();
    let link = w.withdrawal_mail(DILLENSEGER);
    let prepared = w.certificates(42002)[0].0.clone();
    let stored = stored_p12(&w, 42002).unwrap();

    let key = w.path("own.key.pem");
    let csr = w.path("own.csr");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        path_str(&key),
        "-subj",
        "/CN=whatever",
        "-out",
        path_str(&csr),
    ]);
    let csr_pem = std::fs::read_to_string(&csr).unwrap();
    let Withdrawn::Chain { habilitation, pem } = w
        .access
        .withdraw(&w.authority, &link.token, &link.code, Some(&csr_pem))
        .unwrap()
    else {
        panic!("a chain was expected")
    };
    assert_eq!(habilitation, 42002);
    assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 2);

    let chain = w.path("chain.pem");
    std::fs::write(&chain, &pem).unwrap();
    let leaf = w.path("leaf.pem");
    openssl(&["x509", "-in", path_str(&chain), "-out", path_str(&leaf)]);
    let verified = openssl(&[
        "verify",
        "-CAfile",
        path_str(&w.path("ca.pem")),
        path_str(&leaf),
    ]);
    assert!(String::from_utf8_lossy(&verified.stdout).contains(": OK"));
    let cert_key = openssl(&["x509", "-in", path_str(&leaf), "-noout", "-pubkey"]).stdout;
    let own_key = openssl(&["pkey", "-in", path_str(&key), "-pubout"]).stdout;
    assert_eq!(
        cert_key, own_key,
        "the certificate is for the requester's key"
    );
    let subject = openssl(&["x509", "-in", path_str(&leaf), "-noout", "-subject"]).stdout;
    let subject = String::from_utf8(subject).unwrap();
    assert!(subject.contains("Pierre DILLENSEGER 42002"), "{subject}");
    assert!(
        !subject.contains("whatever"),
        "the subject is ours: {subject}"
    );

    // The prepared certificate is revoked, its .p12 erased; the new one is in hand.
    assert_eq!(
        w.revocation_reason(&prepared),
        Some(RevocationReason::Superseded)
    );
    let (olds, news) = split(w.certificates(42002), &prepared);
    assert_eq!(olds, vec!["revoked".to_owned()]);
    assert_eq!(news.len(), 1);
    let (new, state) = &news[0];
    assert_eq!(state, "delivered");
    assert_eq!(w.ca_status(new), CertificateStatus::Issued);
    assert!(w.access.caller(new).unwrap().is_some());
    assert_eq!(withdrawal_status(&w, 42002), "used");
    assert_eq!(stored_p12(&w, 42002), None);
    assert_erased_from_the_file(&w, &stored, "after a CSR withdrawal");

    let err = w
        .access
        .withdraw(&w.authority, &link.token, &link.code, Some(&csr_pem))
        .unwrap_err();
    assert_eq!(err.status(), 410);
    w.audit_verifies();
}

#[test]
fn a_bad_csr_does_not_consume_the_withdrawal() {
    let w = World::new();
    w.approved_seed();
    let link = w.withdrawal_mail(DURAND);
    let garbage =
        "-----BEGIN CERTIFICATE REQUEST-----\nbm9uIG1lcmNp\n-----END CERTIFICATE REQUEST-----\n";
    for bad in [garbage, "pas une demande de certificat", ""] {
        let err = w
            .access
            .withdraw(&w.authority, &link.token, &link.code, Some(bad))
            .unwrap_err();
        assert!(matches!(err, AccessError::BadCsr(_)), "{err:?}");
        assert_eq!(err.status(), 422);
    }
    assert_eq!(withdrawal_status(&w, 42000), "pending");
    assert!(stored_p12(&w, 42000).is_some());
    assert_eq!(
        w.access.withdrawal_info(&link.token).unwrap().attempts_left,
        5
    );
    assert_eq!(w.certificates(42000).len(), 1);

    let Withdrawn::P12 { bytes, .. } = w
        .access
        .withdraw(&w.authority, &link.token, &link.code, None)
        .unwrap()
    else {
        panic!("a .p12 was expected")
    };
    openssl_opens(&w, &bytes, &link.password);
    w.audit_verifies();
}
