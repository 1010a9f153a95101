//! Whose results each role sees (issue 15 §2, R.4451-69): the PCR its own establishment's
//! results of the worker's time there, the physician the whole career, the correspondent none;
//! every read audited with its scope.

#[path = "support.rs"]
mod support;

use registry::{DoseInput, DoseKind, DoseQuery, Principal, RegistryError, Role, WorkerRef};
use support::*;

fn other_cse() -> Principal {
    Principal::accessor("42101", [(OTHER, Role::Cse)])
}
fn other_pcr() -> Principal {
    Principal::accessor("42103", [(OTHER, Role::Pcr)])
}

fn dose(kind: DoseKind, start: &str, end: &str) -> DoseInput {
    let measured = matches!(kind, DoseKind::Passive | DoseKind::Operational);
    DoseInput {
        kind,
        period_start: start.into(),
        period_end: end.into(),
        hp10_msv: measured.then_some(0.1),
        hp007_msv: None,
        e_msv: (!measured).then_some(0.1),
        ..Default::default()
    }
}

/// (establishment, kind, period end) of what `who` reads of employment `worker`.
fn seen(
    env: &Env,
    who: &Principal,
    establishment: i64,
    worker: i64,
) -> Vec<(i64, DoseKind, String)> {
    env.registry
        .doses(who, establishment, worker, &DoseQuery::default())
        .expect("doses")
        .into_iter()
        .map(|d| (d.establishment_id, d.kind, d.period_end.to_string()))
        .collect()
}

#[test]
fn the_pcr_of_a_sees_neither_bs_results_nor_those_outside_the_workers_time_at_a() {
    let env = env();
    // At A since 1 January 2025; at B since 2024, still there.
    let mut line = seed_worker();
    line.employed_from = Some("01/01/2025".into());
    let at_a = add(&env, &line);
    line.new_card = false;
    line.employed_from = Some("01/01/2024".into());
    let at_b = env
        .registry
        .apply_worker(&other_cse(), OTHER, &line)
        .expect("test step")
        .worker_id;
    let record = |who: &Principal, est, worker, d: DoseInput| {
        env.registry
            .record_dose(who, est, &WorkerRef::Id(worker), &d)
            .expect("test step");
    };
    // A's, during the time at A: the one result A's PCR sees.
    record(
        &pcr(),
        EST,
        at_a,
        dose(DoseKind::Operational, "01/02/2025", "28/02/2025"),
    );
    // A's, before the worker came to A.
    record(
        &mdt(),
        EST,
        at_a,
        dose(DoseKind::Effective, "01/10/2024", "31/10/2024"),
    );
    // B's, while the worker was at both.
    record(
        &other_pcr(),
        OTHER,
        at_b,
        dose(DoseKind::Operational, "01/03/2025", "31/03/2025"),
    );
    // A's, after the worker left A.
    apply(&env, &seed_removal());
    env.clock.advance(time::Duration::days(80));
    record(
        &mdt(),
        EST,
        at_a,
        dose(DoseKind::Effective, "01/08/2025", "31/08/2025"),
    );

    assert_eq!(
        seen(&env, &pcr(), EST, at_a),
        [(EST, DoseKind::Operational, "2025-02-28".into())]
    );
    // B's PCR: its own result only, none of A's.
    assert_eq!(
        seen(&env, &other_pcr(), OTHER, at_b),
        [(OTHER, DoseKind::Operational, "2025-03-31".into())]
    );
    // The physician: the whole career, every employer.
    assert_eq!(
        seen(&env, &mdt(), EST, at_a),
        [
            (EST, DoseKind::Effective, "2024-10-31".into()),
            (EST, DoseKind::Operational, "2025-02-28".into()),
            (OTHER, DoseKind::Operational, "2025-03-31".into()),
            (EST, DoseKind::Effective, "2025-08-31".into()),
        ]
    );
    // The correspondent: none.
    assert!(matches!(
        env.registry.doses(&cse(), EST, at_a, &DoseQuery::default()),
        Err(RegistryError::Forbidden { .. })
    ));
    // Every read is audited with the scope it had.
    let scopes: Vec<String> = audit_rows(&env)
        .into_iter()
        .filter(|r| r.1 == "registry.dose.read")
        .map(|r| r.3)
        .collect();
    assert_eq!(scopes.len(), 3);
    assert!(scopes[0].contains("periodes_emploi"), "{}", scopes[0]);
    assert!(scopes[2].contains("carriere"), "{}", scopes[2]);
}

#[test]
fn a_pcr_sees_the_results_of_an_earlier_period_at_the_establishment() {
    let env = env();
    let mut line = seed_worker();
    line.employed_from = Some("01/01/2025".into());
    let id = add(&env, &line);
    env.registry
        .record_dose(
            &pcr(),
            EST,
            &WorkerRef::Id(id),
            &dose(DoseKind::Operational, "01/02/2025", "28/02/2025"),
        )
        .expect("test step");
    // Left on 30 June, back on 1 September: the first period is kept, and its result shown.
    apply(&env, &seed_removal());
    env.clock.advance(time::Duration::days(63));
    let mut back = seed_worker();
    back.new_card = false;
    apply(&env, &back);
    env.registry
        .record_dose(
            &pcr(),
            EST,
            &WorkerRef::Id(id),
            &dose(DoseKind::Operational, "01/07/2025", "31/07/2025"),
        )
        .expect("test step");
    assert_eq!(
        seen(&env, &pcr(), EST, id),
        [(EST, DoseKind::Operational, "2025-02-28".into())]
    );
}
