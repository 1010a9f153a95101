//! A dosimetry body reaches only its clients: the establishments that named it. Elsewhere every
//! request gets one refusal, given before any worker is looked up, and nothing is written.

#[path = "support.rs"]
mod support;

use registry::{DoseInput, DoseKind, DoseQuery, Nir, Principal, RegistryError, Role, WorkerRef};
use support::*;

/// Bodies holding a valid certificate, as the enrollment side would list them.
fn known() -> Vec<String> {
    vec!["AUTRELAB".into(), "DOSILAB".into()]
}

/// The correspondent of the other employer.
fn other_cse() -> Principal {
    Principal::accessor("42011", [(OTHER, Role::Cse)])
}

fn passive() -> DoseInput {
    DoseInput {
        kind: DoseKind::Passive,
        period_start: "01/05/2025".into(),
        period_end: "31/05/2025".into(),
        hp10_msv: Some(0.2),
        hp007_msv: None,
        e_msv: None,
        ..Default::default()
    }
}

fn nir(number: &str, key: &str) -> WorkerRef {
    WorkerRef::Nir(Nir::parse(number, key).expect("Nir::parse failed"))
}

/// The surgery's worker (the seed's), a NIR on no list, one on the other employer's list only.
fn three_nirs(env: &Env) -> [WorkerRef; 3] {
    seed_worker_id(env);
    env.registry
        .apply_worker(
            &other_cse(),
            OTHER,
            &worker("MARTIN", "Paul", "1700367482001", &key_of("1700367482001")),
        )
        .expect("apply_worker failed");
    [
        nir("2760912346445", "12"),
        nir("2550814168025", "38"),
        nir("1700367482001", &key_of("1700367482001")),
    ]
}

fn passive_records(env: &Env) -> usize {
    let q = registry::WorkerQuery::default();
    let id = env
        .registry
        .search_workers(&cse(), EST, &q)
        .expect("search failed")
        .items[0]
        .id();
    env.registry
        .doses(&mdt(), EST, id, &DoseQuery::default())
        .expect("doses failed")
        .len()
}

#[test]
fn a_body_not_named_gets_the_same_refusal_whatever_the_nir_and_nothing_is_written() {
    let env = env();
    let nirs = three_nirs(&env);
    let mut answers = Vec::new();
    for worker in &nirs {
        let e = env
            .registry
            .record_dose(&stranger_body(), EST, worker, &passive())
            .unwrap_err();
        answers.push((e.status(), e.code(), e.to_string()));
    }
    // Even a result that would be refused for its values: the door is closed first.
    let mut bad = passive();
    bad.hp10_msv = Some(-1.0);
    let e = env
        .registry
        .record_dose(&stranger_body(), EST, &nirs[0], &bad)
        .unwrap_err();
    answers.push((e.status(), e.code(), e.to_string()));
    assert_eq!(answers[0].0, 403);
    assert_eq!(answers[0].1, "not_client");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(passive_records(&env), 0);
    let denied: Vec<_> = audit_rows(&env)
        .into_iter()
        .filter(|(actor, action, _, _)| {
            actor == "organisme:AUTRELAB" && action == "registry.denied"
        })
        .collect();
    assert_eq!(denied.len(), 4);
    assert!(denied
        .iter()
        .all(|(_, _, _, d)| d.contains("\"reason\":\"not_client\"")));
}

#[test]
fn a_body_named_elsewhere_or_on_an_establishment_that_does_not_exist_is_refused_alike() {
    let env = env();
    let nirs = three_nirs(&env);
    // DOSILAB is the surgery's body, not the other employer's.
    let at_other = Principal::dosimetry_body("DOSILAB", [OTHER]);
    let e1 = env
        .registry
        .record_dose(&at_other, OTHER, &nirs[2], &passive())
        .unwrap_err();
    // An establishment that does not exist: the listener attaches the body to nothing.
    let nowhere = Principal::dosimetry_body("DOSILAB", []);
    let e2 = env
        .registry
        .record_dose(&nowhere, 999, &nirs[1], &passive())
        .unwrap_err();
    assert_eq!(e1.to_string(), e2.to_string());
    assert!(matches!(e1, RegistryError::NotClient));
    assert!(matches!(e2, RegistryError::NotClient));
}

#[test]
fn once_named_the_body_sends_and_once_removed_it_is_refused_again() {
    let env = env();
    let nirs = three_nirs(&env);
    let (named, added) = env
        .registry
        .name_dosimetry_body(&cse(), EST, " autrelab ", &known())
        .unwrap();
    assert!(added);
    assert_eq!(
        named.name, "AUTRELAB",
        "the certificate's exact name is kept"
    );
    env.registry
        .record_dose(&stranger_body(), EST, &nirs[0], &passive())
        .expect("a named body sends");
    // Still a stranger to the worker of another employer.
    assert!(matches!(
        env.registry
            .record_dose(&stranger_body(), EST, &nirs[2], &passive()),
        Err(RegistryError::NotFound)
    ));
    let (_, again) = env
        .registry
        .name_dosimetry_body(&cse(), EST, "AUTRELAB", &known())
        .unwrap();
    assert!(!again, "naming twice changes nothing");
    env.registry
        .remove_dosimetry_body(&cse(), EST, named.id)
        .unwrap();
    assert!(matches!(
        env.registry
            .record_dose(&stranger_body(), EST, &nirs[0], &passive()),
        Err(RegistryError::NotClient)
    ));
    assert_eq!(passive_records(&env), 1);
}

#[test]
fn the_correspondent_keeps_the_list_the_pcr_and_physician_read_it() {
    let env = env();
    for who in [pcr(), mdt(), body()] {
        assert!(matches!(
            env.registry
                .name_dosimetry_body(&who, EST, "AUTRELAB", &known()),
            Err(RegistryError::Forbidden { .. })
        ));
    }
    let id = env.registry.dosimetry_bodies(&cse(), EST).unwrap()[0].id;
    assert!(matches!(
        env.registry.remove_dosimetry_body(&pcr(), EST, id),
        Err(RegistryError::Forbidden { .. })
    ));
    for who in [cse(), pcr(), mdt()] {
        let names: Vec<String> = env
            .registry
            .dosimetry_bodies(&who, EST)
            .unwrap()
            .into_iter()
            .map(|b| b.name)
            .collect();
        assert_eq!(names, ["DOSILAB"]);
    }
    assert!(matches!(
        env.registry.dosimetry_bodies(&body(), EST),
        Err(RegistryError::Forbidden { .. })
    ));
    assert!(matches!(
        env.registry.dosimetry_bodies(&stranger_body(), EST),
        Err(RegistryError::NotClient)
    ));
    // Another employer's correspondent neither sees nor changes the surgery's bodies.
    assert!(matches!(
        env.registry.dosimetry_bodies(&other_cse(), EST),
        Err(RegistryError::NotFound)
    ));
    assert!(matches!(
        env.registry
            .name_dosimetry_body(&other_cse(), EST, "AUTRELAB", &known()),
        Err(RegistryError::NotFound)
    ));
}

#[test]
fn only_a_body_holding_a_valid_certificate_can_be_named() {
    let env = env();
    for typed in ["LABO FANTOME", "", "AUTRE\u{1b}LAB"] {
        let e = env
            .registry
            .name_dosimetry_body(&cse(), EST, typed, &known())
            .unwrap_err();
        assert!(e.fields().unwrap().contains_key("name"), "{typed:?}");
    }
    assert_eq!(env.registry.dosimetry_bodies(&cse(), EST).unwrap().len(), 1);
}

#[test]
fn naming_and_removing_are_audited_by_correspondent_and_operator() {
    let env = env();
    let (b, _) = env
        .registry
        .name_dosimetry_body(&cse(), EST, "AUTRELAB", &known())
        .unwrap();
    env.registry
        .remove_dosimetry_body(&cse(), EST, b.id)
        .unwrap();
    env.registry
        .operator_name_dosimetry_body("operator:cli", OTHER, "dosilab", &known())
        .unwrap();
    assert_eq!(env.registry.operator_clients("DOSILAB").unwrap().len(), 2);
    env.registry
        .operator_remove_dosimetry_body("operator:cli", OTHER, "Dosilab")
        .unwrap();
    assert!(matches!(
        env.registry
            .operator_remove_dosimetry_body("operator:cli", OTHER, "DOSILAB"),
        Err(RegistryError::NotFound)
    ));
    let acts: Vec<(String, String)> = audit_rows(&env)
        .into_iter()
        .filter(|(_, action, _, _)| action.starts_with("registry.organisme."))
        .map(|(actor, action, _, _)| (actor, action))
        .collect();
    let expected = [
        ("accessor:42001", "registry.organisme.name"),
        ("accessor:42001", "registry.organisme.remove"),
        ("operator:cli", "registry.organisme.name"),
        ("operator:cli", "registry.organisme.remove"),
    ];
    assert_eq!(acts, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));
    assert!(verify_audit(&env) > 0);
}

#[test]
fn the_listeners_early_check_lets_people_and_named_bodies_through_only() {
    let env = env();
    env.registry.admit(&cse(), EST).unwrap();
    env.registry.admit(&body(), EST).unwrap();
    assert!(matches!(
        env.registry.admit(&stranger_body(), EST),
        Err(RegistryError::NotClient)
    ));
    let (_, action, _, details) = audit_rows(&env).pop().unwrap();
    assert_eq!(action, "registry.denied");
    assert!(details.contains("not_client"), "{details}");
}
