//! Operators of the console, in-process on a fake clock: issued by one-shot withdrawal, known
//! to the console only while their certificate is in force, locked after wrong codes, their
//! untaken certificate revoked when the link expires.

mod lifecycle_common;

use ca::{CertificateStatus, RevocationReason, Serial};
use enroll::access::{AccessError, OperatorRole, Withdrawn};
use lifecycle_common::*;
use time::Duration;

fn operator_serial(w: &World) -> Vec<u8> {
    w.db()
        .query_row(
            "SELECT serial FROM enroll_operator_certificates ORDER BY rowid DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("an operator certificate")
}

fn ca_status(w: &World, serial: &[u8]) -> CertificateStatus {
    ca::Authority::find(&w.db(), &Serial::from_der_bytes(serial))
        .expect("find")
        .expect("recorded")
        .status
}

#[test]
fn an_operator_is_known_to_the_console_once_withdrawn_and_forgotten_once_revoked() {
    let w = World::new();
    let op = w
        .access
        .add_operator(
            &w.authority,
            "Alice Martin",
            "alice@example.org",
            OperatorRole::Administrateur,
            "operator:cli",
        )
        .expect("add_operator");
    assert_eq!(op.role, OperatorRole::Administrateur);
    let serial = operator_serial(&w);
    let mail = w.withdrawal_mail("alice@example.org");
    assert_eq!(
        w.access.console_operator(&serial).expect("lookup"),
        None,
        "not before it is withdrawn"
    );
    let info = w.access.withdrawal_info(&mail.token).expect("info");
    assert_eq!(info.habilitation, None);
    assert_eq!(info.display_name, "Alice Martin");
    // A CSR is refused before anything is consumed.
    assert!(matches!(
        w.access
            .withdraw(&w.authority, &mail.token, &mail.code, Some("-----BEGIN")),
        Err(AccessError::BadCsr(_))
    ));
    let Withdrawn::OperatorP12 { bytes } = w
        .access
        .withdraw(&w.authority, &mail.token, &mail.code, None)
        .expect("withdraw")
    else {
        panic!("an operator's .p12 was expected");
    };
    assert!(!bytes.is_empty());
    assert!(matches!(
        w.access
            .withdraw(&w.authority, &mail.token, &mail.code, None),
        Err(AccessError::WithdrawalGone)
    ));
    let at_console = w
        .access
        .console_operator(&serial)
        .expect("console_operator")
        .expect("known");
    assert_eq!(at_console.name, "Alice Martin");
    assert!(at_console.actor().starts_with("console:"));
    assert!(at_console.actor().ends_with(" Alice Martin"));

    // The last administrator is not revoked (see
    // `the_last_administrator_who_can_open_the_console_is_not_revoked`): a second one first.
    let second = add_withdrawn_operator(&w, "Bruno Petit", "bruno@example.org");
    w.access
        .revoke_operator(&w.authority, op.id, "operator:cli")
        .expect("revoke");
    assert_eq!(w.access.console_operator(&serial).expect("lookup"), None);
    assert!(matches!(
        ca_status(&w, &serial),
        CertificateStatus::Revoked {
            reason: RevocationReason::PrivilegeWithdrawn,
            ..
        }
    ));
    assert!(w.access.has_administrator().expect("has_administrator"));
    assert!(matches!(
        w.access.revoke_operator(&w.authority, second, "operator:cli"),
        Err(AccessError::LastAdministrator(id)) if id == second
    ));
}

/// An administrateur added and their certificate withdrawn; their number.
fn add_withdrawn_operator(w: &World, name: &str, email: &str) -> i64 {
    let op = w
        .access
        .add_operator(
            &w.authority,
            name,
            email,
            OperatorRole::Administrateur,
            "operator:cli",
        )
        .expect("add_operator");
    let mail = w.withdrawal_mail(email);
    w.access
        .withdraw(&w.authority, &mail.token, &mail.code, None)
        .expect("withdraw");
    op.id
}

#[test]
fn the_last_administrator_who_can_open_the_console_is_not_revoked() {
    let w = World::new();
    let alice = add_withdrawn_operator(&w, "Alice Martin", "alice@example.org");
    // An instructeur does not count, nor an administrateur whose certificate is not withdrawn.
    w.access
        .add_operator(
            &w.authority,
            "Claire Roux",
            "claire@example.org",
            OperatorRole::Instructeur,
            "operator:cli",
        )
        .expect("add_operator");
    let not_withdrawn = w
        .access
        .add_operator(
            &w.authority,
            "Denis Noir",
            "denis@example.org",
            OperatorRole::Administrateur,
            "operator:cli",
        )
        .expect("add_operator")
        .id;
    let refused = w
        .access
        .revoke_operator(&w.authority, alice, "operator:cli")
        .expect_err("the last administrator");
    assert!(matches!(refused, AccessError::LastAdministrator(id) if id == alice));
    assert!(
        refused.to_string().contains("dernier administrateur"),
        "{refused}"
    );
    assert!(matches!(
        w.access.check_operator_revocable(alice),
        Err(AccessError::LastAdministrator(_))
    ));
    assert!(w.access.has_administrator().expect("has_administrator"));
    // The administrateur who cannot open the console may go; then, a second one in office,
    // Alice may too.
    w.access
        .revoke_operator(&w.authority, not_withdrawn, "operator:cli")
        .expect("revoke");
    add_withdrawn_operator(&w, "Bruno Petit", "bruno@example.org");
    w.access.check_operator_revocable(alice).expect("revocable");
    w.access
        .revoke_operator(&w.authority, alice, "operator:cli")
        .expect("revoke");
}

#[test]
fn a_person_certificate_is_never_an_operator() {
    let w = World::new();
    w.approved_seed();
    let serial: Vec<u8> = w
        .db()
        .query_row("SELECT serial FROM enroll_certificates LIMIT 1", [], |r| {
            r.get(0)
        })
        .expect("a person's certificate");
    assert_eq!(w.access.console_operator(&serial).expect("lookup"), None);
}

#[test]
fn wrong_codes_lock_an_operator_withdrawal_and_an_expired_link_revokes_its_untaken_certificate() {
    let w = World::new();
    w.access
        .add_operator(
            &w.authority,
            "Bruno Petit",
            "bruno@example.org",
            OperatorRole::Instructeur,
            "operator:cli",
        )
        .expect("add_operator");
    let serial = operator_serial(&w);
    let mail = w.withdrawal_mail("bruno@example.org");
    for _ in 0..4 {
        assert!(matches!(
            w.access
                .withdraw(&w.authority, &mail.token, "WRONGCODE", None),
            Err(AccessError::WrongWithdrawalCode { .. })
        ));
    }
    assert!(matches!(
        w.access
            .withdraw(&w.authority, &mail.token, "WRONGCODE", None),
        Err(AccessError::WithdrawalLocked)
    ));
    assert!(matches!(
        w.access
            .withdraw(&w.authority, &mail.token, &mail.code, None),
        Err(AccessError::WithdrawalLocked)
    ));
    // Never withdrawn: it opens nothing, and the sweep revokes it once the link is past.
    assert_eq!(w.access.console_operator(&serial).expect("lookup"), None);
    w.advance(Duration::days(61));
    assert_eq!(w.access.sweep_withdrawals(&w.authority).expect("sweep"), 1);
    assert!(matches!(
        ca_status(&w, &serial),
        CertificateStatus::Revoked { .. }
    ));
    assert_eq!(w.access.console_operator(&serial).expect("lookup"), None);
    let p12: Option<Vec<u8>> = w
        .db()
        .query_row("SELECT p12 FROM enroll_operator_withdrawals", [], |r| {
            r.get(0)
        })
        .expect("withdrawal");
    assert_eq!(p12, None, "the .p12 is erased");
}
