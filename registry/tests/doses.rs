//! Dose records, the effective dose over 12 consecutive months and the 20 mSv limit, and the
//! medical follow-up card.

#[path = "support.rs"]
mod support;

use registry::{
    CardInput, DoseInput, DoseKind, DoseQuery, Fitness, Principal, RegistryError, WorkerRef,
};
use support::*;
use time::macros::date;
use DoseKind::{Effective, Internal, Operational, Passive};

fn result(kind: DoseKind, start: &str, end: &str, msv: f64) -> DoseInput {
    let measured = matches!(kind, Passive | Operational);
    DoseInput {
        kind,
        period_start: start.into(),
        period_end: end.into(),
        hp10_msv: measured.then_some(msv),
        hp007_msv: None,
        e_msv: (!measured).then_some(msv),
        ..Default::default()
    }
}

fn seed_nir() -> WorkerRef {
    WorkerRef::Nir(registry::Nir::parse("2760912346445", "12").expect("Nir::parse failed"))
}

fn send(who: &Principal, env: &Env, kind: DoseKind, start: &str, end: &str, msv: f64) {
    env.registry
        .record_dose(who, EST, &seed_nir(), &result(kind, start, end, msv))
        .expect("record_dose failed");
}

#[test]
fn the_effective_dose_adds_up_twelve_consecutive_months() {
    let env = env();
    let id = seed_worker_id(&env);
    // Before the window: 30 June 2024 is 12 months and a day before 30 June 2025.
    send(&body(), &env, Passive, "01/06/2024", "30/06/2024", 5.0);
    // In the window.
    send(&body(), &env, Passive, "01/07/2024", "31/07/2024", 4.0);
    send(&body(), &env, Passive, "01/05/2025", "31/05/2025", 6.0);
    send(&mdt(), &env, Internal, "01/01/2025", "31/03/2025", 3.5);
    send(&mdt(), &env, Effective, "10/02/2025", "10/02/2025", 1.25);
    // Operational results measure the same exposure as passive ones: not added.
    send(&pcr(), &env, Operational, "01/05/2025", "31/05/2025", 7.0);

    let rolling = env.registry.effective_dose(&pcr(), EST, id, None).unwrap();
    assert_eq!(rolling.from, date!(2024 - 07 - 01));
    assert_eq!(rolling.to, date!(2025 - 06 - 30));
    assert_eq!(rolling.effective_msv, 14.75);
    assert_eq!(rolling.records, 4);
    assert!(!rolling.exceeds_limit);
    assert_eq!(rolling.limit_msv, 20.0);

    // A month later the July 2024 result leaves the window.
    let later = env
        .registry
        .effective_dose(&mdt(), EST, id, Some(date!(2025 - 07 - 31)))
        .unwrap();
    assert_eq!(later.effective_msv, 10.75);
}

#[test]
fn above_twenty_millisieverts_the_dose_is_flagged() {
    let env = env();
    let id = seed_worker_id(&env);
    send(&body(), &env, Passive, "01/01/2025", "31/01/2025", 12.0);
    send(&mdt(), &env, Internal, "01/02/2025", "28/02/2025", 8.0);
    let at_limit = env.registry.effective_dose(&pcr(), EST, id, None).unwrap();
    assert_eq!(at_limit.effective_msv, 20.0);
    assert!(
        !at_limit.exceeds_limit,
        "20 mSv is the limit, not beyond it"
    );
    send(&body(), &env, Passive, "01/03/2025", "31/03/2025", 0.01);
    let beyond = env.registry.effective_dose(&pcr(), EST, id, None).unwrap();
    assert_eq!(beyond.effective_msv, 20.01);
    assert!(beyond.exceeds_limit);
    let json = serde_json::to_value(&beyond).unwrap();
    assert_eq!(json["exceeds_limit"], true);
    assert_eq!(json["from"], "01/07/2024");
}

#[test]
fn extremity_results_do_not_count_as_effective_dose() {
    let env = env();
    let id = seed_worker_id(&env);
    let ring = DoseInput {
        kind: Passive,
        period_start: "01/05/2025".into(),
        period_end: "31/05/2025".into(),
        hp10_msv: None,
        hp007_msv: Some(150.0),
        e_msv: None,
        ..Default::default()
    };
    env.registry
        .record_dose(&body(), EST, &seed_nir(), &ring)
        .unwrap();
    let rolling = env.registry.effective_dose(&mdt(), EST, id, None).unwrap();
    assert_eq!((rolling.effective_msv, rolling.records), (0.0, 0));
}

#[test]
fn results_keep_coming_for_a_worker_removed_from_the_list() {
    let env = env();
    let id = seed_worker_id(&env);
    let removal = seed_removal();
    apply(&env, &removal);
    send(&body(), &env, Passive, "01/05/2025", "31/05/2025", 0.2);
    let records = env
        .registry
        .doses(&mdt(), EST, id, &DoseQuery::default())
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].worker_id, id);
}

#[test]
fn a_bad_result_is_refused_with_its_fields_and_nothing_recorded() {
    let env = env();
    let id = seed_worker_id(&env);
    let mut bad = result(Passive, "31/05/2025", "01/05/2025", -1.0);
    bad.e_msv = Some(1.0);
    let error = env
        .registry
        .record_dose(&body(), EST, &seed_nir(), &bad)
        .unwrap_err();
    let fields = error.fields().unwrap();
    for key in ["period_end", "hp10_msv", "e_msv"] {
        assert!(fields.contains_key(key), "{key}: {fields:?}");
    }
    assert!(env
        .registry
        .doses(&mdt(), EST, id, &DoseQuery::default())
        .unwrap()
        .is_empty());
    // An unknown worker.
    let stranger = WorkerRef::Nir(registry::Nir::parse("2550814168025", "38").unwrap());
    let ok = result(Passive, "01/05/2025", "31/05/2025", 0.1);
    assert!(matches!(
        env.registry.record_dose(&body(), EST, &stranger, &ok),
        Err(RegistryError::NotFound)
    ));
}

#[test]
fn the_physician_keeps_the_medical_follow_up_card() {
    let env = env();
    let id = seed_worker_id(&env);
    send(&body(), &env, Passive, "01/05/2025", "31/05/2025", 0.4);
    send(&pcr(), &env, Operational, "01/05/2025", "31/05/2025", 0.35);
    let follow_up = env
        .registry
        .update_medical_card(
            &mdt(),
            EST,
            id,
            &CardInput {
                last_visit: Some("02/06/2025".into()),
                fitness: Some(Fitness::Fit),
                next_visit: Some("02/06/2026".into()),
                notes: Some("RAS.".into()),
            },
        )
        .unwrap();
    assert_eq!(follow_up.updated_by.as_deref(), Some("accessor:42005"));

    let card = env.registry.medical_card(&mdt(), EST, id, None).unwrap();
    assert_eq!(card.worker.last_name, "DIDIER");
    assert_eq!(
        card.worker.card_number.as_ref().unwrap().as_str(),
        "C00000001"
    );
    assert_eq!(card.follow_up.fitness, Some(Fitness::Fit));
    assert_eq!(card.follow_up.last_visit, Some(date!(2025 - 06 - 02)));
    assert_eq!(card.follow_up.notes.as_deref(), Some("RAS."));
    let doses = card.doses.as_ref().unwrap();
    assert_eq!(doses.rolling.effective_msv, 0.4);
    assert_eq!(doses.passive_hp10_msv, 0.4);
    assert_eq!(doses.operational_hp10_msv, 0.35);

    let json = serde_json::to_value(&card).unwrap();
    assert_eq!(json["follow_up"]["last_visit"], "02/06/2025");
    assert_eq!(json["follow_up"]["fitness"], "fit");

    // Nobody else reads or writes it.
    for who in [cse(), pcr(), body()] {
        assert!(matches!(
            env.registry.medical_card(&who, EST, id, None),
            Err(RegistryError::Forbidden { .. })
        ));
        assert!(matches!(
            env.registry
                .update_medical_card(&who, EST, id, &CardInput::default()),
            Err(RegistryError::Forbidden { .. })
        ));
    }
}

#[test]
fn a_card_of_another_establishments_worker_is_not_found() {
    let env = env();
    let other_cse = Principal::accessor("42009", [(OTHER, registry::Role::Cse)]);
    let theirs = env
        .registry
        .apply_worker(&other_cse, OTHER, &seed_worker())
        .unwrap()
        .worker_id;
    assert!(matches!(
        env.registry.medical_card(&mdt(), EST, theirs, None),
        Err(RegistryError::NotFound)
    ));
    assert!(matches!(
        env.registry.medical_card(&mdt(), OTHER, theirs, None),
        Err(RegistryError::NotFound)
    ));
    assert!(matches!(
        env.registry.effective_dose(&pcr(), EST, theirs, None),
        Err(RegistryError::NotFound)
    ));
    assert!(matches!(
        env.registry.record_dose(
            &mdt(),
            EST,
            &WorkerRef::Id(theirs),
            &result(Internal, "01/05/2025", "31/05/2025", 1.0)
        ),
        Err(RegistryError::NotFound)
    ));
}
