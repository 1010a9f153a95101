//! Traceability: every read and write of a worker's data goes to the hash-chained audit log,
//! which stays intact and never holds a NIR.

#[path = "support.rs"]
mod support;

use registry::{
    CardInput, DoseInput, DoseKind, DoseQuery, Fitness, Operation, WorkerQuery, WorkerRef,
};
use support::*;

const NIRS: [&str; 3] = ["2760912346445", "1700367482001", "2550814168025"];

/// Everything the four roles do on the surgery's list, then the log.
fn a_day_at_the_surgery(env: &Env) -> i64 {
    let r = &env.registry;
    let id = r
        .apply_worker(&cse(), EST, &seed_worker())
        .expect("apply_worker failed")
        .worker_id;
    r.import_workers(&cse(), EST, SEED_CSV.as_bytes())
        .expect("import_workers failed");
    let mut change = seed_worker();
    change.operation = Some(Operation::Modify);
    change.new_card = false;
    change.nir = Some(NIRS[2].into());
    change.nir_key = Some("38".into());
    change.card_number = Some("C00000001".into());
    r.apply_worker(&cse(), EST, &change)
        .expect("apply_worker failed");
    r.worker(&pcr(), EST, id).expect("worker failed");
    let q = WorkerQuery {
        nir: Some(format!("{}38", NIRS[2])),
        ..WorkerQuery::default()
    };
    r.search_workers(&pcr(), EST, &q)
        .expect("search_workers failed");
    r.export_workers(&cse(), EST, Vec::new())
        .expect("export_workers failed");
    let nir = WorkerRef::Nir(registry::Nir::parse(NIRS[2], "38").expect("Nir::parse failed"));
    let passive = DoseInput {
        kind: DoseKind::Passive,
        period_start: "01/05/2025".into(),
        period_end: "31/05/2025".into(),
        hp10_msv: Some(0.2),
        hp007_msv: None,
        e_msv: None,
        ..Default::default()
    };
    r.record_dose(&body(), EST, &nir, &passive)
        .expect("record_dose failed");
    r.doses(&mdt(), EST, id, &DoseQuery::default())
        .expect("doses failed");
    r.effective_dose(&pcr(), EST, id, None)
        .expect("effective_dose failed");
    let card = CardInput {
        last_visit: Some("02/06/2025".into()),
        fitness: Some(Fitness::Fit),
        ..CardInput::default()
    };
    r.update_medical_card(&mdt(), EST, id, &card)
        .expect("update_medical_card failed");
    r.medical_card(&mdt(), EST, id, None)
        .expect("medical_card failed");
    // Refusals: a PCR writing the list, a stranger reading.
    r.apply_worker(&pcr(), EST, &seed_worker())
        .expect_err("the worker was written");
    r.worker(&registry::Principal::accessor("42009", []), EST, id)
        .expect_err("the worker was shown");
    id
}

#[test]
fn every_read_and_write_of_a_worker_is_recorded_with_who_and_which_worker() {
    let env = env();
    let id = a_day_at_the_surgery(&env);
    let rows = audit_rows(&env);
    let target = format!("worker:{id}");
    let find = |action: &str, actor: &str| {
        rows.iter()
            .find(|(a, act, _, _)| act == action && a == actor)
            .unwrap_or_else(|| panic!("no {action} by {actor} in {rows:#?}"))
    };
    for (action, actor) in [
        ("registry.worker.add", "accessor:42001"),
        ("registry.worker.modify", "accessor:42001"),
        ("registry.worker.read", "accessor:42003"),
        ("registry.dose.record", "organisme:DOSILAB"),
        ("registry.dose.read", "accessor:42005"),
        ("registry.dose.effective", "accessor:42003"),
        ("registry.card.update", "accessor:42005"),
        ("registry.card.read", "accessor:42005"),
    ] {
        let (_, _, t, details) = find(action, actor);
        assert_eq!(t, &target, "{action}");
        assert!(
            details.contains(&format!("\"establishment\":\"{EST}\"")),
            "{details}"
        );
        assert!(details.contains("\"kind\":"), "{details}");
    }
    let (_, _, t, details) = find("registry.workers.search", "accessor:42003");
    assert_eq!(t, &format!("establishment:{EST}"));
    assert!(
        details.contains(&format!("\"workers\":\"{id}\"")),
        "{details}"
    );
    assert!(
        details.contains("\"kind\":\"admin_dosimetry\""),
        "{details}"
    );
    let (_, _, _, details) = find("registry.workers.import", "accessor:42001");
    assert!(details.contains("\"lines\":\"2\""), "{details}");
    find("registry.workers.export", "accessor:42001");
    let (_, _, _, details) = find("registry.dose.record", "organisme:DOSILAB");
    assert!(details.contains("\"kind\":\"passive_dose\""), "{details}");

    let denied: Vec<_> = rows.iter().filter(|r| r.1 == "registry.denied").collect();
    assert_eq!(denied.len(), 2);
    assert!(denied[0].3.contains("\"reason\":\"forbidden\""));
    assert!(denied[1].3.contains("\"reason\":\"not_attached\""));
}

#[test]
fn the_chain_verifies_and_no_row_holds_a_nir() {
    let env = env();
    a_day_at_the_surgery(&env);
    assert_eq!(verify_audit(&env), 13);
    for (actor, action, target, details) in audit_rows(&env) {
        let row = format!("{actor}|{action}|{target}|{details}");
        for nir in NIRS {
            // Neither the number nor a long run of its digits.
            assert!(!row.contains(&nir[..9]), "{row}");
            assert!(!row.contains(&nir[4..]), "{row}");
        }
    }
}

#[test]
fn a_refused_write_leaves_no_trace_but_its_refusal() {
    let env = env();
    let bad = worker("DUPONT", "Marc", "2951099126111", "99");
    env.registry.apply_worker(&cse(), EST, &bad).unwrap_err();
    let rows = audit_rows(&env);
    assert!(
        rows.is_empty(),
        "a validation failure writes nothing: {rows:?}"
    );
    env.registry
        .import_workers(&cse(), EST, "nom\n".as_bytes())
        .unwrap_err();
    assert!(audit_rows(&env).is_empty());
}
