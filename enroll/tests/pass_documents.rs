//! Supporting documents are stored by content: identical uploads at the same moment share one
//! file without failing, and a replaced document leaves the disk once no version needs it.

mod lifecycle_common;

use std::path::{Path, PathBuf};
use std::sync::Barrier;

use enroll::pass::{DocumentKind, PassConfig};
use enroll::protocol::ProtocolInput;
use lifecycle_common::*;

/// Every file under `dir`, temporary ones included.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn fifty_identical_uploads_at_the_same_moment_all_succeed_and_share_one_file() {
    const UPLOADS: usize = 50;
    let w = World::with(
        PassConfig {
            document_max_bytes: 4 * 1024 * 1024,
            ..PassConfig::default()
        },
        Default::default(),
    );
    let drafts: Vec<String> = (0..UPLOADS)
        .map(|_| w.pass.create(&ProtocolInput::default()).expect("create").id)
        .collect();
    // Large enough that the writes overlap: each one takes a while to write and sync.
    let kbis = [PDF, &vec![b'x'; 2 * 1024 * 1024]].concat();
    let start = Barrier::new(UPLOADS);
    let outcomes: Vec<Result<_, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = drafts
            .iter()
            .map(|id| {
                let (w, start, kbis) = (&w, &start, &kbis);
                s.spawn(move || {
                    start.wait();
                    w.pass
                        .upload(id, DocumentKind::Kbis, kbis)
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("an upload panicked"))
            .collect()
    });
    let failed: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} of {UPLOADS} failed, the first: {:?}",
        failed.len(),
        failed.first()
    );
    let stored = files(&w.dir.path().join("documents"));
    assert_eq!(stored.len(), 1, "one file, no temporary left: {stored:?}");
    assert_eq!(std::fs::read(&stored[0]).expect("read"), kbis);
    for id in &drafts {
        assert_eq!(w.pass.documents(id).expect("documents").len(), 1);
    }
}

#[test]
fn a_replaced_document_leaves_the_disk_unless_another_draft_still_uses_it() {
    let w = World::new();
    let documents = w.dir.path().join("documents");
    let upload = |id: &str, bytes: &[u8]| {
        let record = w
            .pass
            .upload(id, DocumentKind::Identity, bytes)
            .expect("upload");
        w.pass.document_path(&record.sha256)
    };
    let own = [PNG, b" carte d'identite de A"].concat();
    let shared = [PNG, b" carte d'identite partagee"].concat();
    let newer = [PNG, b" nouvelle carte"].concat();

    let a = w.pass.create(&ProtocolInput::default()).expect("create").id;
    let b = w.pass.create(&ProtocolInput::default()).expect("create").id;
    let c = w.pass.create(&ProtocolInput::default()).expect("create").id;
    let own_file = upload(&a, &own);
    let shared_file = upload(&b, &shared);
    assert_eq!(upload(&c, &shared), shared_file);
    assert_eq!(files(&documents).len(), 2);

    // A's card was its own: replacing it deletes it.
    let newer_file = upload(&a, &newer);
    assert!(
        !own_file.exists(),
        "the replaced identity card is still on disk"
    );
    // B's card is C's too: it stays for C.
    assert_eq!(upload(&b, &newer), newer_file);
    assert!(shared_file.exists(), "C's identity card was deleted");
    assert_eq!(
        files(&documents),
        {
            let mut both = vec![shared_file.clone(), newer_file.clone()];
            both.sort();
            both
        },
        "no other file, no temporary left"
    );
    // Once C replaces it too, nobody needs it any more.
    upload(&c, &newer);
    assert!(!shared_file.exists());
    // The same bytes again: nothing to delete, the file stays.
    upload(&c, &newer);
    assert!(newer_file.exists());
    assert_eq!(files(&documents), vec![newer_file]);
}
