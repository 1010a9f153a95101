//! Drafts do not pile up: never signed, they go after their retention with their documents; an
//! address over its hourly limit is refused, from memory, until the hour is over.

mod lifecycle_common;

use enroll::pass::{DocumentKind, PassConfig};
use enroll::protocol::ProtocolInput;
use lifecycle_common::*;
use time::Duration;

#[test]
fn a_draft_never_signed_is_purged_after_its_retention_with_its_documents() {
    let w = World::with(
        PassConfig {
            draft_retention_days: 30,
            ..PassConfig::default()
        },
        Default::default(),
    );
    let stale = w.pass.create(&ProtocolInput::default()).expect("draft");
    // Its own K-bis (documents are stored by content: the same bytes would be shared).
    let own_kbis = [PDF, b"% brouillon abandonne\n"].concat();
    w.pass
        .upload(&stale.id, DocumentKind::Kbis, &own_kbis)
        .expect("upload");
    let documents = w.dir.path().join("documents");
    let files = |dir: &std::path::Path| walk(dir).into_iter().filter(|p| p.is_file()).count();
    assert_eq!(files(&documents), 1);
    w.advance(Duration::days(20));
    // A signed protocol and a recent draft stay.
    let signed = w.draft(&seed());
    w.sign_draft(&signed);
    let recent = w.pass.create(&ProtocolInput::default()).expect("draft");
    assert_eq!(w.pass.purge_drafts().expect("purge"), 0);
    w.advance(Duration::days(11));
    assert_eq!(w.pass.purge_drafts().expect("purge"), 1);
    assert!(w.pass.view(&stale.id).is_err(), "the stale draft is gone");
    assert!(w.pass.view(&recent.id).is_ok());
    assert!(w.pass.view(&signed).is_ok());
    // Its K-bis was its own: the file went too (the signed protocol's documents stay).
    assert_eq!(
        files(&documents),
        2,
        "the signed protocol's two documents only"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}

#[test]
fn an_address_over_its_draft_limit_is_refused_without_a_write_until_the_hour_is_over() {
    use enroll::pass::{Anonymous, Client, PassError};
    let w = World::with(
        PassConfig {
            drafts_per_hour: 2,
            ..PassConfig::default()
        },
        Default::default(),
    );
    let spammer = Client {
        ip: "198.51.100.7".into(),
        user_agent: "curl".into(),
    };
    let events = || -> i64 {
        w.db()
            .query_row(
                "SELECT COUNT(*) FROM enroll_rate_events WHERE bucket LIKE '%198.51.100.7'",
                [],
                |r| r.get(0),
            )
            .expect("count")
    };
    w.pass.admit(Anonymous::NewDraft, &spammer).expect("first");
    w.pass.admit(Anonymous::NewDraft, &spammer).expect("second");
    assert!(matches!(
        w.pass.admit(Anonymous::NewDraft, &spammer),
        Err(PassError::TooManyRequests { .. })
    ));
    let stored = events();
    // A spam of refused attempts: each refused from memory, none written.
    for _ in 0..50 {
        assert!(matches!(
            w.pass.admit(Anonymous::NewDraft, &spammer),
            Err(PassError::TooManyRequests { .. })
        ));
    }
    assert_eq!(
        events(),
        stored,
        "refused attempts were written to the store"
    );
    // Another address is not affected.
    let other = Client {
        ip: "198.51.100.8".into(),
        user_agent: "curl".into(),
    };
    w.pass
        .admit(Anonymous::NewDraft, &other)
        .expect("other address");
    // An hour later the address may start drafts again.
    w.advance(Duration::minutes(61));
    w.pass
        .admit(Anonymous::NewDraft, &spammer)
        .expect("after the hour");
}
