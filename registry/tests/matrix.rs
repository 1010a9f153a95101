//! The seed's role matrix, cell by cell, through the service API: for CSE, PCR, MDT and a
//! dosimetry body, each kind of data read and written the way a handler would.

#[path = "support.rs"]
mod support;

use registry::{
    CardInput, DataKind, DoseInput, DoseKind, DoseQuery, Fitness, Operation, Principal,
    RegistryError, Result, WorkerRef, WorkerView,
};
use support::*;

/// The roles, in the table's column order.
fn roles() -> [(&'static str, Principal); 4] {
    [
        ("CSE", cse()),
        ("PCR", pcr()),
        ("MDT", mdt()),
        ("organisme", body()),
    ]
}

/// Who may read, then who may write, each kind of data: [CSE, PCR, MDT, body]. Reading follows
/// the seed's table; writing: the CSE the list, the PCR operational, the physician card, internal
/// and effective, a dosimetry body passive.
#[rustfmt::skip]
const TABLE: [(DataKind, [bool; 4], [bool; 4]); 7] = [
    (DataKind::AdminComplete, [true, false, false, false], [true, false, false, false]),
    (DataKind::AdminForDosimetry, [true, true, false, false], [true, false, false, false]),
    (DataKind::MedicalCard, [false, false, true, false], [false, false, true, false]),
    (DataKind::PassiveDose, [false, false, true, false], [false, false, false, true]),
    (DataKind::InternalExposure, [false, false, true, false], [false, false, true, false]),
    (DataKind::EffectiveDose, [false, true, true, false], [false, false, true, false]),
    (DataKind::OperationalDose, [false, true, true, false], [false, true, false, false]),
];

fn dose_kind(kind: DataKind) -> Option<DoseKind> {
    match kind {
        DataKind::PassiveDose => Some(DoseKind::Passive),
        DataKind::InternalExposure => Some(DoseKind::Internal),
        DataKind::EffectiveDose => Some(DoseKind::Effective),
        DataKind::OperationalDose => Some(DoseKind::Operational),
        _ => None,
    }
}

fn dose(kind: DoseKind) -> DoseInput {
    let measured = matches!(kind, DoseKind::Passive | DoseKind::Operational);
    DoseInput {
        kind,
        period_start: "01/05/2025".into(),
        period_end: "31/05/2025".into(),
        hp10_msv: measured.then_some(0.12),
        hp007_msv: None,
        e_msv: (!measured).then_some(0.3),
        ..Default::default()
    }
}

/// Reads `kind` of worker `id` as `who` would through the API.
fn read(env: &Env, who: &Principal, kind: DataKind, id: i64) -> Result<()> {
    let r = &env.registry;
    match kind {
        DataKind::AdminComplete => {
            r.export_workers(who, EST, Vec::new())?;
            // The complete view of one worker comes with the same right.
            match r.worker(who, EST, id)? {
                WorkerView::Complete(_) => Ok(()),
                WorkerView::Dosimetry(_) => Err(RegistryError::Forbidden {
                    kind,
                    action: registry::Action::Read,
                }),
            }
        }
        DataKind::AdminForDosimetry => {
            // The list and its fractions; the physician reaches identities only through the
            // card (checked in `the_physician_sees_identities_only_through_the_card`).
            r.fractions(who, EST)?;
            r.search_workers(who, EST, &Default::default())?;
            match audit_rows(env).last() {
                Some((_, _, _, details)) if details.contains("\"kind\":\"medical_card\"") => {
                    Err(RegistryError::Forbidden {
                        kind,
                        action: registry::Action::Read,
                    })
                }
                _ => Ok(()),
            }
        }
        DataKind::MedicalCard => r.medical_card(who, EST, id, None).map(drop),
        _ => {
            let dose_kind = dose_kind(kind).expect("dose_kind gave nothing");
            let query = DoseQuery {
                kind: Some(dose_kind),
                ..DoseQuery::default()
            };
            r.doses(who, EST, id, &query)?;
            if kind == DataKind::EffectiveDose {
                r.effective_dose(who, EST, id, None)?;
            }
            Ok(())
        }
    }
}

fn write(env: &Env, who: &Principal, kind: DataKind, id: i64) -> Result<()> {
    let r = &env.registry;
    match kind {
        DataKind::AdminComplete | DataKind::AdminForDosimetry => {
            let mut change = seed_worker();
            change.operation = Some(Operation::Modify);
            change.new_card = false;
            r.apply_worker(who, EST, &change)?;
            let fraction = r.create_fraction(who, EST, &format!("F{}", who.actor()))?;
            r.delete_fraction(who, EST, fraction.id)?;
            r.import_workers(who, EST, SEED_CSV.as_bytes())?;
            Ok(())
        }
        DataKind::MedicalCard => {
            let card = CardInput {
                last_visit: Some("02/06/2025".into()),
                fitness: Some(Fitness::Fit),
                ..CardInput::default()
            };
            r.update_medical_card(who, EST, id, &card).map(drop)
        }
        _ => {
            let kind = dose_kind(kind).expect("dose_kind gave nothing");
            let nir = registry::Nir::parse("2760912346445", "12").expect("Nir::parse failed");
            r.record_dose(who, EST, &WorkerRef::Nir(nir), &dose(kind))?;
            r.record_dose(who, EST, &WorkerRef::Id(id), &dose(kind))
                .map(drop)
        }
    }
}

fn check(action: registry::Action) {
    let env = env();
    let id = env
        .registry
        .apply_worker(&cse(), EST, &seed_worker())
        .expect("apply_worker failed")
        .worker_id;
    for (kind, read_row, write_row) in &TABLE {
        let row = match action {
            registry::Action::Read => read_row,
            registry::Action::Write => write_row,
        };
        for ((name, who), allowed) in roles().iter().zip(row) {
            let outcome = match action {
                registry::Action::Read => read(&env, who, *kind, id),
                registry::Action::Write => write(&env, who, *kind, id),
            };
            match (allowed, outcome) {
                (true, Ok(())) => {}
                (false, Err(e @ RegistryError::Forbidden { .. })) => {
                    assert_eq!(e.status(), 403);
                }
                (allowed, outcome) => {
                    panic!(
                        "{name} {action:?} {kind:?}: expected allowed={allowed}, got {outcome:?}"
                    )
                }
            }
        }
    }
    assert!(verify_audit(&env) > 0);
}

#[test]
fn reading_follows_the_seeds_table_for_every_role() {
    check(registry::Action::Read);
}

#[test]
fn writing_follows_who_sends_what_for_every_role() {
    check(registry::Action::Write);
}

#[test]
fn the_physician_sees_identities_only_through_the_card() {
    let env = env();
    let id = seed_worker_id(&env);
    let view = env.registry.worker(&mdt(), EST, id).unwrap();
    assert!(matches!(view, WorkerView::Dosimetry(_)));
    let (_, action, _, details) = audit_rows(&env).pop().unwrap();
    assert_eq!(action, "registry.worker.read");
    assert!(details.contains("\"kind\":\"medical_card\""), "{details}");
}

#[test]
fn a_dosimetry_body_reads_nothing_not_even_the_list() {
    let env = env();
    let id = seed_worker_id(&env);
    let b = body();
    assert!(matches!(
        env.registry.worker(&b, EST, id),
        Err(RegistryError::Forbidden { .. })
    ));
    assert!(matches!(
        env.registry.search_workers(&b, EST, &Default::default()),
        Err(RegistryError::Forbidden { .. })
    ));
    assert!(matches!(
        env.registry.fractions(&b, EST),
        Err(RegistryError::Forbidden { .. })
    ));
    assert!(matches!(
        env.registry.doses(&b, EST, id, &DoseQuery::default()),
        Err(RegistryError::Forbidden { .. })
    ));
}

#[test]
fn an_unrestricted_dose_query_returns_only_the_kinds_the_role_reads() {
    let env = env();
    // Employed since before the results' period: the PCR sees its establishment's results of
    // the worker's time there only (issue 15 §2).
    let mut line = seed_worker();
    line.employed_from = Some("01/01/2025".into());
    let id = add(&env, &line);
    let nir = WorkerRef::Nir(registry::Nir::parse("2760912346445", "12").unwrap());
    for (who, kind) in [
        (body(), DoseKind::Passive),
        (pcr(), DoseKind::Operational),
        (mdt(), DoseKind::Internal),
        (mdt(), DoseKind::Effective),
    ] {
        env.registry
            .record_dose(&who, EST, &nir, &dose(kind))
            .unwrap();
    }
    let kinds = |who: &Principal| -> Vec<DoseKind> {
        env.registry
            .doses(who, EST, id, &DoseQuery::default())
            .unwrap()
            .iter()
            .map(|d| d.kind)
            .collect()
    };
    assert_eq!(kinds(&pcr()), [DoseKind::Operational, DoseKind::Effective]);
    assert_eq!(kinds(&mdt()).len(), 4);
    assert!(matches!(
        env.registry.doses(&cse(), EST, id, &DoseQuery::default()),
        Err(RegistryError::Forbidden { .. })
    ));
    let records = env
        .registry
        .doses(&mdt(), EST, id, &DoseQuery::default())
        .unwrap();
    let passive = records
        .iter()
        .find(|d| d.kind == DoseKind::Passive)
        .unwrap();
    assert_eq!(passive.source, "organisme:DOSILAB");
    assert_eq!(passive.hp10_msv, Some(0.12));
}

#[test]
fn a_person_acts_with_the_role_held_in_each_establishment() {
    let env = env();
    let id = seed_worker_id(&env);
    // The external PCR is CSE of establishment 1000: there they keep the list.
    env.registry
        .apply_worker(&pcr(), 1000, &seed_worker())
        .unwrap();
    // Here they are only PCR.
    assert!(matches!(
        env.registry.apply_worker(&pcr(), EST, &seed_worker()),
        Err(RegistryError::Forbidden { .. })
    ));
    // Someone both CSE and PCR of the surgery gets both rights, and the complete view.
    let both = Principal::accessor(
        "42100",
        [(EST, registry::Role::Cse), (EST, registry::Role::Pcr)],
    );
    assert!(matches!(
        env.registry.worker(&both, EST, id).unwrap(),
        WorkerView::Complete(_)
    ));
    env.registry.effective_dose(&both, EST, id, None).unwrap();
}
