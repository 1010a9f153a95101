//! Operator decisions in situations the happy path does not meet: two approvals of one protocol
//! running at once, a second version signed before the first was decided, a rejected protocol
//! corrected the way its rejection e-mail says.

mod lifecycle_common;

use std::sync::Barrier;

use ca::SubscriberKeyAlgorithm;
use enroll::access::{AccessError, CertificateState, WithdrawalState};
use enroll::pass::Client;
use lifecycle_common::*;

#[test]
fn two_approvals_of_one_protocol_running_at_once_give_each_person_one_certificate() {
    // RSA keys take a while to make: the window between an approval's check (does this person
    // hold a certificate?) and its record of the new one is wide enough to be hit every time.
    let w = World::with_keys(
        Default::default(),
        Default::default(),
        SubscriberKeyAlgorithm::Rsa2048,
    );
    let signed = w.signed(&seed());
    // Both approvals reach each person together (the progress callback runs before each one).
    let barrier = Barrier::new(2);
    let outcomes: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    w.access.approve(
                        &w.authority,
                        &signed.number,
                        "operator:test",
                        &[],
                        &mut |i, n, _| {
                            if i < n {
                                barrier.wait();
                            }
                        },
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // One of them approves; the other may find nothing left to decide, or be told to wait.
    assert!(outcomes.iter().any(Result::is_ok), "{outcomes:?}");

    for (hab, email) in [(42000, DURAND), (42001, MARTIN), (42002, DILLENSEGER)] {
        let d = w.access.accessor(hab).unwrap();
        let live: Vec<_> = d
            .certificates
            .iter()
            .filter(|c| {
                matches!(
                    c.state,
                    CertificateState::Issued | CertificateState::Delivered
                )
            })
            .collect();
        assert_eq!(live.len(), 1, "{hab}: one person, one certificate");
        let pending = d
            .withdrawals
            .iter()
            .filter(|wd| wd.status == WithdrawalState::Pending)
            .count();
        assert_eq!(pending, 1, "{hab}: one withdrawal");
        let withdrawal_mails = w
            .mails_to(email)
            .into_iter()
            .filter(|(s, _)| s.contains("retrait"))
            .count();
        assert_eq!(withdrawal_mails, 1, "{hab}: one withdrawal e-mail");
    }
    w.audit_verifies();
}

#[test]
fn approving_a_renewal_signed_before_the_first_version_was_decided_leaves_nothing_to_decide() {
    let w = World::new();
    let first = w.signed(&seed());
    // The employer corrects the protocol before the operator looked at it.
    let mut corrected = seed();
    corrected.pcrs.push(person(
        "ROUX",
        "Julien",
        "j.roux@radioprotection.example",
        "21/06/1988",
    ));
    // Refusing a renewal while a version awaits its decision would also be sound.
    let draft = match w
        .pass
        .start_renewal(&first.number, &first.key_name, &Client::default())
    {
        Ok(draft) => draft,
        Err(refused) => {
            assert!(
                (400..500).contains(&refused.status()),
                "refused, but not as a client error: {refused:?}"
            );
            return;
        }
    };
    w.pass.update(&draft.id, &corrected, None).unwrap();
    let second = w.sign_draft(&draft.id);
    assert_eq!(second.version, 2);

    let report = w.approve(&first.number);
    assert_eq!(
        report.version, 2,
        "the latest signed version is the one approved"
    );
    assert_eq!(w.access.accessors().unwrap().len(), 4);

    // The first version was overtaken: nothing is left awaiting a decision…
    let waiting: Vec<_> = w
        .access
        .versions(Some("signed"))
        .unwrap()
        .into_iter()
        .map(|v| (v.number, v.version))
        .collect();
    assert!(
        waiting.is_empty(),
        "still awaiting a decision after the approval of version 2: {waiting:?}"
    );
    // …and approving again cannot bring the old content back and cut ROUX off.
    let again = w.access.approve(
        &w.authority,
        &first.number,
        "operator:test",
        &[],
        &mut |_, _, _| {},
    );
    assert!(
        matches!(again, Err(AccessError::NothingToDecide(_))),
        "{:?}",
        again.map(|r| (r.version, r.detached, r.revoked))
    );
    let roux = w.access.accessor(42003).unwrap();
    assert!(roux.attachments.iter().all(|(a, _)| a.ended_at.is_none()));
    assert_eq!(w.revocation_reason(&roux.certificates[0].serial), None);
    w.audit_verifies();
}

#[test]
fn a_rejected_protocol_can_be_corrected_through_renewal_as_its_rejection_mail_says() {
    let w = World::new();
    let signed = w.signed(&seed());
    w.access
        .reject(
            &signed.number,
            "L'extrait K-bis est illisible.",
            "operator:test",
        )
        .unwrap();
    let (_, body) = w.mails_to(DURAND).pop().expect("a rejection e-mail");
    // The e-mail and the renewal must agree: if it sends the employer there, it must work.
    if !body.contains("Renouveler un protocole existant") {
        return;
    }
    let draft = w
        .pass
        .start_renewal(&signed.number, &signed.key_name, &Client::default())
        .unwrap_or_else(|e| panic!("the renewal the e-mail offers is refused: {e}"));
    let view = w.pass.view(&draft.id).unwrap();
    assert_eq!(
        view.protocol,
        seed(),
        "pre-filled with the rejected content"
    );
    let corrected = w.sign_draft(&draft.id);
    assert_eq!(
        (corrected.number.as_str(), corrected.version),
        (signed.number.as_str(), 2)
    );
    assert_eq!(w.approve(&signed.number).issued, vec![42000, 42001, 42002]);
    w.audit_verifies();
}
