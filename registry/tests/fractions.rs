//! *Fractionner la liste*: fractions of an establishment's list.

#[path = "support.rs"]
mod support;

use registry::{FractionFilter, RegistryError, WorkerQuery};
use support::*;

fn in_fraction(env: &Env, filter: FractionFilter) -> Vec<String> {
    let q = WorkerQuery {
        fraction: filter,
        ..WorkerQuery::default()
    };
    last_names(env, &q)
}

#[test]
fn fractions_are_created_renamed_and_deleted() {
    let env = env();
    let nord = create_fraction(&env, "  Bloc   Nord ");
    assert_eq!(nord.name, "Bloc Nord");
    let sud = create_fraction(&env, "Bloc Sud");
    let renamed = env
        .registry
        .rename_fraction(&cse(), EST, sud.id, "Bloc Sud-Est")
        .unwrap();
    assert_eq!(renamed.name, "Bloc Sud-Est");
    let names: Vec<String> = env
        .registry
        .fractions(&cse(), EST)
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["Bloc Nord", "Bloc Sud-Est"]);
    assert_eq!(
        env.registry.delete_fraction(&cse(), EST, nord.id).unwrap(),
        0
    );
    assert_eq!(env.registry.fractions(&cse(), EST).unwrap().len(), 1);
    assert!(matches!(
        env.registry.delete_fraction(&cse(), EST, nord.id),
        Err(RegistryError::NotFound)
    ));
}

#[test]
fn two_fractions_may_not_differ_only_by_case_or_accents() {
    let env = env();
    create_fraction(&env, "Radiologie");
    let error = env
        .registry
        .create_fraction(&cse(), EST, "RADIOLOGIÉ")
        .unwrap_err();
    assert!(matches!(error, RegistryError::DuplicateFraction));
    assert_eq!(error.status(), 409);
    let other = create_fraction(&env, "Dentaire");
    assert!(matches!(
        env.registry
            .rename_fraction(&cse(), EST, other.id, "radiologie"),
        Err(RegistryError::DuplicateFraction)
    ));
    let error = env
        .registry
        .create_fraction(&cse(), EST, "   ")
        .unwrap_err();
    assert!(error.fields().unwrap().contains_key("name"));
}

#[test]
fn workers_are_assigned_unassigned_and_filtered_by_fraction() {
    let env = env();
    let didier = seed_worker_id(&env);
    let durand = env
        .registry
        .apply_worker(
            &cse(),
            EST,
            &worker("DURAND", "Vincent", "1700367482001", "86"),
        )
        .unwrap()
        .worker_id;
    let cabinet = create_fraction(&env, "Cabinet");
    assert_eq!(
        env.registry
            .assign_fraction(&cse(), EST, Some(cabinet.id), &[didier, durand])
            .unwrap(),
        2
    );
    assert_eq!(
        in_fraction(&env, FractionFilter::In(cabinet.id)),
        ["DIDIER", "DURAND"]
    );
    assert_eq!(env.registry.fractions(&cse(), EST).unwrap()[0].workers, 2);

    env.registry
        .assign_fraction(&cse(), EST, None, &[durand])
        .unwrap();
    assert_eq!(
        in_fraction(&env, FractionFilter::In(cabinet.id)),
        ["DIDIER"]
    );
    assert_eq!(in_fraction(&env, FractionFilter::None), ["DURAND"]);

    // Deleting the fraction leaves its workers on the list, in none.
    assert_eq!(
        env.registry
            .delete_fraction(&cse(), EST, cabinet.id)
            .unwrap(),
        1
    );
    assert_eq!(
        in_fraction(&env, FractionFilter::None),
        ["DIDIER", "DURAND"]
    );
}

#[test]
fn an_unknown_worker_or_fraction_changes_nothing() {
    let env = env();
    let didier = seed_worker_id(&env);
    let cabinet = create_fraction(&env, "Cabinet");
    assert!(matches!(
        env.registry
            .assign_fraction(&cse(), EST, Some(cabinet.id), &[didier, 9999]),
        Err(RegistryError::NotFound)
    ));
    assert_eq!(in_fraction(&env, FractionFilter::None), ["DIDIER"]);
    assert!(matches!(
        env.registry
            .assign_fraction(&cse(), EST, Some(cabinet.id + 100), &[didier]),
        Err(RegistryError::NotFound)
    ));
}

#[test]
fn another_establishments_fraction_cannot_be_used() {
    let env = env();
    let didier = seed_worker_id(&env);
    let other = registry::Principal::accessor("42009", [(OTHER, registry::Role::Cse)]);
    let theirs = env
        .registry
        .create_fraction(&other, OTHER, "Leur fraction")
        .unwrap();
    assert!(matches!(
        env.registry
            .assign_fraction(&cse(), EST, Some(theirs.id), &[didier]),
        Err(RegistryError::NotFound)
    ));
    assert!(matches!(
        env.registry
            .rename_fraction(&cse(), EST, theirs.id, "Piratée"),
        Err(RegistryError::NotFound)
    ));
    assert!(matches!(
        env.registry.delete_fraction(&cse(), EST, theirs.id),
        Err(RegistryError::NotFound)
    ));
    assert_eq!(
        env.registry.fractions(&other, OTHER).unwrap()[0].name,
        "Leur fraction"
    );
}

#[test]
fn only_the_cse_splits_the_list_but_the_pcr_sees_the_fractions() {
    let env = env();
    let f = create_fraction(&env, "Cabinet");
    for who in [pcr(), mdt(), body()] {
        assert!(matches!(
            env.registry.create_fraction(&who, EST, "X"),
            Err(RegistryError::Forbidden { .. })
        ));
        assert!(matches!(
            env.registry.rename_fraction(&who, EST, f.id, "X"),
            Err(RegistryError::Forbidden { .. })
        ));
        assert!(matches!(
            env.registry.delete_fraction(&who, EST, f.id),
            Err(RegistryError::Forbidden { .. })
        ));
    }
    assert_eq!(env.registry.fractions(&pcr(), EST).unwrap().len(), 1);
}
