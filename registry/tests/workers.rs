//! The workers list through the service: the form's operations, NIR checks, searches.

#[path = "support.rs"]
mod support;

use registry::{
    CardNumber, Category, FractionFilter, Operation, RegistryError, WorkerInput, WorkerQuery,
    WorkerRef, WorkerView,
};
use support::*;

fn complete(view: WorkerView) -> registry::WorkerRecord {
    match view {
        WorkerView::Complete(record) => record,
        other => panic!("expected the complete view, got {other:?}"),
    }
}

#[test]
fn the_seeds_worker_is_added_with_a_new_card() {
    let env = env();
    let applied = apply(&env, &seed_worker());
    assert_eq!(applied.operation, Operation::Add);
    assert_eq!(
        applied.card_number.as_ref().map(CardNumber::as_str),
        Some("C00000001")
    );

    let record = complete(env.registry.worker(&cse(), EST, applied.worker_id).unwrap());
    let w = record.worker;
    assert_eq!(
        (w.last_name.as_str(), w.first_name.as_str()),
        ("DIDIER", "Valérie")
    );
    assert_eq!((w.nir.as_str(), w.nir.key()), ("2760912346445", "12"));
    assert_eq!(w.job.as_deref(), Some("Assistant dentaire"));
    assert_eq!(
        w.radiological_hazard.as_deref(),
        Some("1-Exposition externe")
    );
    assert_eq!(w.work_fraction.unwrap().to_string(), "1.0");
    assert_eq!(
        w.domain.as_deref(),
        Some("100000-Utilisations medicales et veterinaires")
    );
    assert_eq!(w.sector.as_deref(), Some("102000-Soins dentaires"));
    assert!(!record.removed);

    // The second new card follows in the sequence.
    let card = new_card(&env, worker("DURAND", "Vincent", "1700367482001", "86"));
    assert_eq!(card, "C00000002");
}

#[test]
fn the_complete_view_serializes_like_the_seeds_form() {
    let env = env();
    let id = seed_worker_id(&env);
    let view = env.registry.worker(&cse(), EST, id).unwrap();
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["view"], "complete");
    assert_eq!(json["nir"], "2760912346445");
    assert_eq!(json["nir_key"], "12");
    assert_eq!(json["card_number"], "C00000001");
    assert_eq!(json["contract_type"], "CDI");
    assert_eq!(json["work_fraction"], 1.0);
    assert_eq!(json["activity_character"], "1-Civile");
    assert_eq!(json["id"], id);
}

#[test]
fn documented_nirs_are_accepted_and_a_bad_key_refused() {
    let env = env();
    for (i, (number, key)) in [
        ("2550814168025", "38"),
        ("253072A073004", "43"),
        ("2760912346445", "12"),
    ]
    .into_iter()
    .enumerate()
    {
        let input = worker("NOM", &format!("Prénom{}", "e".repeat(i + 1)), number, key);
        apply(&env, &input);
    }
    let input = worker("NOM", "Prénom", "2951099126111", "99");
    let RegistryError::Invalid(fields) =
        env.registry.apply_worker(&cse(), EST, &input).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        fields["nir_key"],
        "La clé du NIR ne correspond pas au numéro : vérifiez le numéro et la clé."
    );
    // The seed's NIR with another key.
    let input = worker("NOM", "Prénom", "2760912346445", "13");
    let error = env.registry.apply_worker(&cse(), EST, &input).unwrap_err();
    assert_eq!((error.status(), error.code()), (422, "invalid"));
    let fields = error.fields().unwrap();
    assert!(fields.contains_key("nir_key"));
    for message in fields.values() {
        assert!(!message.contains("2760912346445"));
    }
}

#[test]
fn a_nir_already_on_the_list_is_refused() {
    let env = env();
    apply(&env, &seed_worker());
    let again = worker("DIDIER", "Valérie", "2 76 09 12 346 445", "12");
    let error = env.registry.apply_worker(&cse(), EST, &again).unwrap_err();
    assert!(matches!(error, RegistryError::DuplicateNir));
    assert_eq!((error.status(), error.code()), (409, "duplicate_nir"));
    assert!(!error.to_string().contains("2760912346445"));
    // The same NIR in another establishment is another line.
    let cse_other = registry::Principal::accessor("42009", [(OTHER, registry::Role::Cse)]);
    env.registry
        .apply_worker(&cse_other, OTHER, &again)
        .unwrap();
}

#[test]
fn missing_required_fields_are_named_in_french() {
    let env = env();
    let input = WorkerInput {
        operation: Some(Operation::Add),
        ..WorkerInput::default()
    };
    let RegistryError::Invalid(fields) =
        env.registry.apply_worker(&cse(), EST, &input).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(fields["last_name"], "Le nom de famille est obligatoire.");
    assert_eq!(fields["first_name"], "Le prénom est obligatoire.");
    assert_eq!(fields["nir"], "Le numéro RNIPP (NIR) est obligatoire.");
    let error = env
        .registry
        .apply_worker(&cse(), EST, &WorkerInput::default())
        .unwrap_err();
    assert!(error.fields().unwrap().contains_key("operation"));
}

#[test]
fn modification_by_card_number_can_correct_the_nir() {
    let env = env();
    let applied = apply(&env, &seed_worker());
    let card = applied.card_number.unwrap();

    let mut change = seed_worker();
    change.operation = Some(Operation::Modify);
    change.new_card = false;
    change.card_number = Some(card.as_str().into());
    change.nir = Some("2550814168025".into());
    change.nir_key = Some("38".into());
    change.category = Some("B".into());
    let modified = apply(&env, &change);
    assert_eq!(modified.worker_id, applied.worker_id);

    let w = complete(env.registry.worker(&cse(), EST, applied.worker_id).unwrap()).worker;
    assert_eq!(w.nir.as_str(), "2550814168025");
    assert_eq!(w.category, Some(Category::B));
    assert_eq!(w.card_number, Some(card));
}

#[test]
fn modification_by_nir_keeps_the_card() {
    let env = env();
    let applied = apply(&env, &seed_worker());
    let mut change = seed_worker();
    change.operation = Some(Operation::Modify);
    change.new_card = false;
    change.other_name = Some("MARTIN".into());
    apply(&env, &change);
    let w = complete(env.registry.worker(&cse(), EST, applied.worker_id).unwrap()).worker;
    assert_eq!(w.other_name.as_deref(), Some("MARTIN"));
    assert_eq!(w.card_number, applied.card_number);

    // A NIR not on the list: nothing to modify.
    let mut unknown = change.clone();
    unknown.nir = Some("2550814168025".into());
    unknown.nir_key = Some("38".into());
    assert!(matches!(
        env.registry
            .apply_worker(&cse(), EST, &unknown)
            .unwrap_err(),
        RegistryError::NotFound
    ));
}

#[test]
fn suppression_takes_the_worker_off_the_list_and_an_ajout_puts_them_back() {
    let env = env();
    let applied = apply(&env, &seed_worker());
    let removal = seed_removal();
    apply(&env, &removal);
    let page = env
        .registry
        .search_workers(&cse(), EST, &WorkerQuery::default())
        .unwrap();
    assert!(page.items.is_empty());
    // Kept for the doses: still readable by id, marked removed.
    let record = complete(env.registry.worker(&cse(), EST, applied.worker_id).unwrap());
    assert!(record.removed);
    // Removing again finds nobody on the list.
    assert!(matches!(
        env.registry
            .apply_worker(&cse(), EST, &removal)
            .unwrap_err(),
        RegistryError::NotFound
    ));

    let mut back = seed_worker();
    back.new_card = true;
    let again = apply(&env, &back);
    assert_eq!(again.worker_id, applied.worker_id);
    assert_eq!(again.card_number, applied.card_number, "the card is kept");
    let page = env
        .registry
        .search_workers(&cse(), EST, &WorkerQuery::default())
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

#[test]
fn suppression_by_card_number() {
    let env = env();
    let applied = apply(&env, &seed_worker());
    let removal = WorkerInput {
        operation: Some(Operation::Remove),
        card_number: Some(applied.card_number.unwrap().as_str().to_lowercase()),
        ..WorkerInput::default()
    };
    apply(&env, &removal);
    let empty = WorkerInput {
        operation: Some(Operation::Remove),
        ..WorkerInput::default()
    };
    let error = env.registry.apply_worker(&cse(), EST, &empty).unwrap_err();
    assert!(error.fields().unwrap()["nir"].contains("à supprimer"));
}

#[test]
fn a_card_number_of_another_worker_is_refused() {
    let env = env();
    let first = apply(&env, &seed_worker());
    let mut second = worker("DURAND", "Vincent", "1700367482001", "86");
    second.card_number = Some(first.card_number.unwrap().as_str().into());
    let error = env.registry.apply_worker(&cse(), EST, &second).unwrap_err();
    assert!(matches!(error, RegistryError::DuplicateCard));
    // A card number typed by hand is never issued again.
    second.card_number = Some("C00000007".into());
    apply(&env, &second);
    let card = new_card(&env, worker("MARTIN", "Paul", "2550814168025", "38"));
    assert_eq!(card, "C00000008");
}

#[test]
fn search_by_name_ignores_accents_and_case() {
    let env = env();
    apply(&env, &seed_worker());
    let mut other = worker("DURAND", "Vincent", "1700367482001", "86");
    other.other_name = Some("Éloïse-Dupré".into());
    apply(&env, &other);

    let names = |query: &str| -> Vec<String> {
        let q = WorkerQuery {
            name: Some(query.into()),
            ..WorkerQuery::default()
        };
        last_names(&env, &q)
    };
    assert_eq!(names("did"), ["DIDIER"]);
    assert_eq!(names("Didier VAL"), ["DIDIER"]);
    assert_eq!(names("didier valé"), ["DIDIER"]);
    assert_eq!(names("didier vincent"), Vec::<String>::new());
    assert_eq!(names("d"), ["DIDIER", "DURAND"]);
    // By the other known name, accents dropped.
    assert_eq!(names("eloise dupre"), ["DURAND"]);
    assert_eq!(names("x"), Vec::<String>::new());
}

#[test]
fn search_by_nir_is_exact() {
    let env = env();
    let id = seed_worker_id(&env);
    apply(&env, &worker("DURAND", "Vincent", "1700367482001", "86"));
    for nir in ["2760912346445", "2 76 09 12 346 445 12", "276091234644512"] {
        let q = WorkerQuery {
            nir: Some(nir.into()),
            ..WorkerQuery::default()
        };
        let page = env.registry.search_workers(&cse(), EST, &q).unwrap();
        assert_eq!(
            page.items.iter().map(WorkerView::id).collect::<Vec<_>>(),
            [id]
        );
    }
    let q = WorkerQuery {
        nir: Some("276091234644".into()),
        ..WorkerQuery::default()
    };
    let error = env.registry.search_workers(&cse(), EST, &q).unwrap_err();
    assert!(error.fields().unwrap().contains_key("nir"));
    let q = WorkerQuery {
        nir: Some("276091234644513".into()),
        ..WorkerQuery::default()
    };
    assert!(env.registry.search_workers(&cse(), EST, &q).is_err());
}

#[test]
fn pages_follow_each_other_in_name_order() {
    let env = env();
    for i in 0..25 {
        let number = nir_number(i);
        let input = worker(
            &format!("NOM{}", (b'A' + (24 - i) as u8) as char),
            "Jean",
            &number,
            &key_of(&number),
        );
        apply(&env, &input);
    }
    let mut seen = Vec::new();
    let mut query = WorkerQuery {
        limit: 10,
        ..WorkerQuery::default()
    };
    loop {
        let page = env.registry.search_workers(&cse(), EST, &query).unwrap();
        assert!(page.items.len() <= 10);
        seen.extend(page.items.iter().map(|v| v.last_name().to_owned()));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted);
    assert_eq!(seen[0], "NOMA");
}

#[test]
fn another_establishments_worker_is_not_found() {
    let env = env();
    let id = seed_worker_id(&env);
    let stranger = registry::Principal::accessor("42009", [(OTHER, registry::Role::Cse)]);
    // By the id of a worker of EST, through OTHER (theirs) or EST (not theirs): not found.
    let error = stranger_reads(&env, &stranger, OTHER, id);
    assert!(matches!(error, RegistryError::NotFound));
    let error = stranger_reads(&env, &stranger, EST, id);
    assert!(matches!(error, RegistryError::NotFound));
    assert_eq!((error.status(), error.code()), (404, "not_found"));
    // Nor can they write there.
    assert!(matches!(
        env.registry
            .apply_worker(&stranger, EST, &seed_worker())
            .unwrap_err(),
        RegistryError::NotFound
    ));
    // The PCR of forty clients reaches the worker only in the establishment they serve.
    assert!(env.registry.worker(&pcr(), EST, id).is_ok());
    assert!(matches!(
        env.registry.worker(&pcr(), 1001, id).unwrap_err(),
        RegistryError::NotFound
    ));
    // Nor by NIR for a dosimetry body of another establishment.
    let other_body = registry::Principal::dosimetry_body("AUTRELAB", [OTHER]);
    let nir = registry::Nir::parse("2760912346445", "12").unwrap();
    let dose = registry::DoseInput {
        kind: registry::DoseKind::Passive,
        period_start: "01/05/2025".into(),
        period_end: "31/05/2025".into(),
        hp10_msv: Some(0.1),
        hp007_msv: None,
        e_msv: None,
        ..Default::default()
    };
    assert!(matches!(
        env.registry
            .record_dose(&other_body, OTHER, &WorkerRef::Nir(nir), &dose)
            .unwrap_err(),
        RegistryError::NotClient
    ));
}

fn stranger_reads(
    env: &Env,
    who: &registry::Principal,
    establishment: i64,
    id: i64,
) -> RegistryError {
    env.registry
        .worker(who, establishment, id)
        .expect_err("the worker was shown")
}

#[test]
fn the_pcr_sees_the_dosimetric_view_without_contract_or_work_fraction() {
    let env = env();
    let id = seed_worker_id(&env);
    let WorkerView::Dosimetry(summary) = env.registry.worker(&pcr(), EST, id).unwrap() else {
        panic!("the PCR must get the dosimetric view");
    };
    assert_eq!(summary.nir.as_str(), "2760912346445");
    assert_eq!(summary.job.as_deref(), Some("Assistant dentaire"));
    let json = serde_json::to_value(WorkerView::Dosimetry(summary)).unwrap();
    assert_eq!(json["view"], "dosimetry");
    assert!(json.get("contract_type").is_none());
    assert!(json.get("work_fraction").is_none());
    assert_eq!(json["nir_key"], "12");
}

#[test]
fn search_filters_by_fraction() {
    let env = env();
    let bloc = create_fraction(&env, "Bloc opératoire");
    let mut input = seed_worker();
    input.fraction = Some("bloc OPERATOIRE".into());
    apply(&env, &input);
    apply(&env, &worker("DURAND", "Vincent", "1700367482001", "86"));
    let in_bloc = WorkerQuery {
        fraction: FractionFilter::In(bloc.id),
        ..WorkerQuery::default()
    };
    let page = env.registry.search_workers(&cse(), EST, &in_bloc).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(
        complete(page.items[0].clone()).worker.fraction.as_deref(),
        Some("Bloc opératoire"),
        "the fraction's own spelling is kept"
    );
    let none = WorkerQuery {
        fraction: FractionFilter::None,
        ..WorkerQuery::default()
    };
    let page = env.registry.search_workers(&cse(), EST, &none).unwrap();
    assert_eq!(page.items[0].last_name(), "DURAND");

    let mut unknown = worker("MARTIN", "Paul", "2550814168025", "38");
    unknown.fraction = Some("Radiologie".into());
    let error = env
        .registry
        .apply_worker(&cse(), EST, &unknown)
        .unwrap_err();
    assert!(error.fields().unwrap().contains_key("fraction"));
}

/// 1,200 workers whose name order is not their id order: three share each name (ties are
/// broken by id), one in five has another name, a third are in each fraction or in none, and
/// one in thirteen is removed. Returns the two fractions' ids.
fn a_long_list(env: &Env) -> (i64, i64) {
    let bloc = env
        .registry
        .create_fraction(&cse(), EST, "Bloc")
        .expect("create_fraction failed");
    let radio = env
        .registry
        .create_fraction(&cse(), EST, "Radiologie")
        .expect("create_fraction failed");
    let mut removed = Vec::new();
    for i in 0..1200_u32 {
        let number = nir_number(i);
        let family = if i % 2 == 0 { "DUPONT" } else { "MARTIN" };
        let mut input = worker(
            &format!("{family}{}", letters((i * 7919) % 400)),
            "Jean",
            &number,
            &key_of(&number),
        );
        if i % 5 == 0 {
            input.other_name = Some(format!("Durand{}", letters(i % 97)));
        }
        input.fraction = match i % 3 {
            1 => Some("Bloc".into()),
            2 => Some("Radiologie".into()),
            _ => None,
        };
        env.registry
            .apply_worker(&cse(), EST, &input)
            .expect("apply_worker failed");
        if i % 13 == 0 {
            removed.push(input);
        }
    }
    for mut input in removed {
        input.operation = Some(Operation::Remove);
        env.registry
            .apply_worker(&cse(), EST, &input)
            .expect("apply_worker failed");
    }
    (bloc.id, radio.id)
}

/// `n` (below 26³) in three letters, in the order of the numbers.
fn letters(n: u32) -> String {
    [n / 676, n / 26 % 26, n % 26]
        .iter()
        .map(|d| char::from(b'A' + u8::try_from(*d).expect("try_from failed")))
        .collect()
}

fn ids(page: &registry::Page<WorkerView>) -> Vec<i64> {
    page.items.iter().map(WorkerView::id).collect()
}

/// Every id of `base`'s results, page after page by key.
fn by_key(env: &Env, base: &WorkerQuery) -> Vec<i64> {
    let mut query = base.clone();
    let mut seen = Vec::new();
    loop {
        let page = env
            .registry
            .search_workers(&cse(), EST, &query)
            .expect("search_workers failed");
        seen.extend(ids(&page));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return seen,
        }
    }
}

#[test]
fn pages_by_offset_give_the_same_sequence_as_pages_by_key() {
    let env = env();
    let (bloc, _) = a_long_list(&env);
    let whole = WorkerQuery {
        limit: 50,
        ..WorkerQuery::default()
    };
    let queries = [
        whole.clone(),
        WorkerQuery {
            name: Some("du".into()),
            ..whole.clone()
        },
        WorkerQuery {
            fraction: FractionFilter::In(bloc),
            ..whole.clone()
        },
        WorkerQuery {
            fraction: FractionFilter::None,
            include_removed: true,
            ..whole.clone()
        },
        WorkerQuery {
            name: Some("dupontaa".into()),
            fraction: FractionFilter::In(bloc),
            include_removed: true,
            ..whole.clone()
        },
        WorkerQuery {
            nir: Some(nir_number(601)),
            ..whole.clone()
        },
    ];
    let mut lengths = Vec::new();
    for base in &queries {
        let expected = by_key(&env, base);
        lengths.push(expected.len());
        let mut seen = Vec::new();
        for offset in (0..).step_by(50) {
            let query = WorkerQuery {
                offset,
                ..base.clone()
            };
            let page = env.registry.search_workers(&cse(), EST, &query).unwrap();
            let at = usize::try_from(offset).unwrap();
            let end = (at + 50).min(expected.len());
            assert_eq!(
                ids(&page),
                expected[at.min(end)..end],
                "{base:?} at {offset}"
            );
            seen.extend(ids(&page));
            // `next` goes on by key from where the offset led.
            let Some(next) = page.next else { break };
            assert_eq!(Some(next), page.items.last().map(WorkerView::id));
            let following = WorkerQuery {
                after: Some(next),
                ..base.clone()
            };
            let following = env
                .registry
                .search_workers(&cse(), EST, &following)
                .unwrap();
            assert_eq!(
                ids(&following),
                expected[end..(end + 50).min(expected.len())]
            );
        }
        assert_eq!(seen, expected, "{base:?}");
    }
    // Every query meant something: the list less the removed, the two name ranges merged, a
    // fraction, the removed counted in, a name in a fraction, one NIR.
    let removed = (0..1200).filter(|i| i % 13 == 0).count();
    assert_eq!(lengths[0], 1200 - removed);
    let dupont = (0..1200).filter(|i| i % 2 == 0 && i % 13 != 0).count();
    assert!(lengths[1] > dupont, "{lengths:?}");
    assert_eq!(
        lengths[2],
        (0..1200).filter(|i| i % 3 == 1 && i % 13 != 0).count()
    );
    assert_eq!(lengths[3], 400);
    assert!((1..50).contains(&lengths[4]), "{lengths:?}");
    assert_eq!(lengths[5], 1);

    // Random access: a window anywhere, of any size, beyond the end empty.
    let expected = by_key(&env, &whole);
    let window = WorkerQuery {
        offset: 777,
        limit: 7,
        ..whole.clone()
    };
    let page = env.registry.search_workers(&cse(), EST, &window).unwrap();
    assert_eq!(ids(&page), expected[777..784]);
    assert_eq!(page.next, Some(expected[783]));
    let beyond = WorkerQuery {
        offset: 5_000,
        ..whole.clone()
    };
    let page = env.registry.search_workers(&cse(), EST, &beyond).unwrap();
    assert!(page.items.is_empty() && page.next.is_none());
}

#[test]
fn a_page_by_offset_audits_only_the_workers_it_shows() {
    let env = env();
    a_long_list(&env);
    let query = WorkerQuery {
        offset: 600,
        limit: 5,
        ..WorkerQuery::default()
    };
    let page = env.registry.search_workers(&pcr(), EST, &query).unwrap();
    assert_eq!(page.items.len(), 5);
    let rows = audit_rows(&env);
    let (_, _, _, details) = rows
        .iter()
        .rev()
        .find(|(_, action, _, _)| action == "registry.workers.search")
        .unwrap();
    let shown: Vec<String> = ids(&page).iter().map(i64::to_string).collect();
    let details: serde_json::Value = serde_json::from_str(details).unwrap();
    assert_eq!(details["workers"], shown.join(","), "{details}");
    assert_eq!(details["count"], "5", "{details}");
}

#[test]
fn a_page_is_asked_by_offset_or_after_not_both() {
    let env = env();
    let id = seed_worker_id(&env);
    let query = WorkerQuery {
        after: Some(id),
        offset: 1,
        ..WorkerQuery::default()
    };
    let error = env
        .registry
        .search_workers(&cse(), EST, &query)
        .unwrap_err();
    assert!(error.fields().unwrap().contains_key("offset"), "{error:?}");
    // An offset of 0 is the start, which `after` may follow.
    let query = WorkerQuery {
        after: Some(id),
        ..WorkerQuery::default()
    };
    assert!(env.registry.search_workers(&cse(), EST, &query).is_ok());
}
