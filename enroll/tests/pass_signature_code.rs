//! The SMS signature code of PASS: its lifetime, its lock, the limit on requests, and its binding
//! to the exact content shown, over a real SQLite file and a fake clock.

mod lifecycle_common;

use enroll::pass::{Client, DocumentKind, PassError, Status};
use lifecycle_common::*;
use time::Duration;

#[test]
fn a_signature_code_still_works_at_nine_minutes_and_is_expired_at_eleven() {
    let w = World::new();

    let early = w.draft(&seed());
    let sent = w.pass.request_code(&early, true).unwrap();
    assert_eq!(sent.expires_at, w.now() + Duration::minutes(10));
    let code = w.last_sms_code();
    w.advance(Duration::minutes(9));
    let signed = w.pass.sign(&early, &code, &Client::default()).unwrap();
    assert_eq!(w.pass.view(&early).unwrap().status, Status::Signed);
    assert_eq!(signed.version, 1);

    let late = w.draft(&seed());
    w.pass.request_code(&late, true).unwrap();
    let code = w.last_sms_code();
    w.advance(Duration::minutes(11));
    let err = w.pass.sign(&late, &code, &Client::default()).unwrap_err();
    assert!(matches!(err, PassError::CodeExpired), "{err:?}");
    assert_eq!(err.status(), 410);
    assert!(err.to_string().contains("expiré"), "{err}");
    assert_eq!(w.pass.view(&late).unwrap().status, Status::Draft);

    // A new code can be asked and works.
    w.pass.request_code(&late, true).unwrap();
    let code = w.last_sms_code();
    w.pass.sign(&late, &code, &Client::default()).unwrap();
    w.audit_verifies();
}

#[test]
fn five_wrong_codes_lock_the_code_even_across_a_restart_and_a_new_code_then_works() {
    let mut w = World::new();
    let id = w.draft(&seed());
    w.pass.request_code(&id, true).unwrap();
    let code = w.last_sms_code();
    let wrong = other_code(&code);

    for left in [4, 3, 2, 1] {
        let err = w.pass.sign(&id, &wrong, &Client::default()).unwrap_err();
        match err {
            PassError::WrongCode { attempts_left } => assert_eq!(attempts_left, left),
            other => panic!("expected a wrong code, got {other:?}"),
        }
        assert_eq!(err.status(), 403);
    }
    let err = w.pass.sign(&id, &wrong, &Client::default()).unwrap_err();
    assert!(matches!(err, PassError::CodeLocked), "{err:?}");
    assert_eq!(err.status(), 423);
    let err = w.pass.sign(&id, &code, &Client::default()).unwrap_err();
    assert!(
        matches!(err, PassError::CodeLocked),
        "the right code after the lock: {err:?}"
    );

    // Drop PASS and its pool; a new one on the same file still sees the lock.
    w.restart();
    let err = w.pass.sign(&id, &code, &Client::default()).unwrap_err();
    assert!(
        matches!(err, PassError::CodeLocked),
        "after a restart: {err:?}"
    );
    assert_eq!(w.pass.view(&id).unwrap().status, Status::Draft);

    w.pass.request_code(&id, true).unwrap();
    let fresh = w.last_sms_code();
    let signed = w.pass.sign(&id, &fresh, &Client::default()).unwrap();
    assert_eq!(w.pass.view(&id).unwrap().status, Status::Signed);
    assert!(!signed.number.is_empty() && !signed.key_name.is_empty());
    w.audit_verifies();
}

#[test]
fn at_most_three_codes_can_be_asked_in_an_hour() {
    let w = World::new();
    let id = w.draft(&seed());
    for _ in 0..3 {
        w.pass.request_code(&id, true).unwrap();
    }
    assert_eq!(w.sms_texts().len(), 3);
    let err = w.pass.request_code(&id, true).unwrap_err();
    assert!(matches!(err, PassError::TooManyRequests { .. }), "{err:?}");
    assert_eq!(err.status(), 429);
    assert_eq!(w.sms_texts().len(), 3, "a refused request sends nothing");

    w.advance(Duration::minutes(30));
    let err = w.pass.request_code(&id, true).unwrap_err();
    assert!(
        matches!(err, PassError::TooManyRequests { .. }),
        "still within the hour: {err:?}"
    );

    w.advance(Duration::minutes(31));
    w.pass.request_code(&id, true).unwrap();
    let code = w.last_sms_code();
    assert_eq!(w.sms_texts().len(), 4);
    w.pass.sign(&id, &code, &Client::default()).unwrap();
    w.audit_verifies();
}

#[test]
fn a_change_of_the_draft_after_the_code_was_sent_voids_the_code() {
    let w = World::new();
    let id = w.draft(&seed());

    // Replacing the content.
    w.pass.request_code(&id, true).unwrap();
    let code = w.last_sms_code();
    let mut changed = seed();
    changed.physicians[0].email = Some("autre@sst-alsace.example".into());
    w.pass.update(&id, &changed, None).unwrap();
    let err = w.pass.sign(&id, &code, &Client::default()).unwrap_err();
    assert!(
        matches!(err, PassError::NoPendingCode | PassError::CodeVoided),
        "{err:?}"
    );
    assert_eq!(err.status(), 409);
    assert_eq!(w.pass.view(&id).unwrap().status, Status::Draft);

    // Uploading a document again.
    w.pass.request_code(&id, true).unwrap();
    let code = w.last_sms_code();
    let other_pdf = [PDF, b"% une autre version\n".as_slice()].concat();
    w.pass.upload(&id, DocumentKind::Kbis, &other_pdf).unwrap();
    let err = w.pass.sign(&id, &code, &Client::default()).unwrap_err();
    assert!(
        matches!(err, PassError::NoPendingCode | PassError::CodeVoided),
        "{err:?}"
    );
    assert_eq!(w.pass.view(&id).unwrap().status, Status::Draft);

    // A code asked for the content as it now stands signs that content.
    w.pass.request_code(&id, true).unwrap();
    let code = w.last_sms_code();
    let signed = w.pass.sign(&id, &code, &Client::default()).unwrap();
    let view = w.pass.view(&id).unwrap();
    assert_eq!(view.protocol, changed);
    assert_eq!(
        view.document_sha256.as_deref(),
        Some(signed.document_sha256.as_str())
    );
    assert_eq!(w.pass.annexe(&id).unwrap().sha256(), signed.document_sha256);
    w.audit_verifies();
}
