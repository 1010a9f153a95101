//! One person per NIR across employers (issue 15 §1): employments, identity conflicts, the end
//! of an employment, and the migration of a data directory written before persons existed.

#[path = "support.rs"]
mod support;

use registry::{DoseInput, DoseKind, Operation, Principal, RegistryError, Role, WorkerRef};
use rusqlite::{params, Connection};
use support::*;

/// The correspondent of the second employer.
fn other_cse() -> Principal {
    Principal::accessor("42101", [(OTHER, Role::Cse)])
}

fn count(env: &Env, sql: &str) -> i64 {
    let conn = env.pool.get().expect("test step");
    conn.query_row(sql, [], |r| r.get(0)).expect("test step")
}

#[test]
fn the_same_nir_declared_by_two_employers_is_one_person_with_two_employments() {
    let env = env();
    let at_a = seed_worker_id(&env);
    let mut line = seed_worker();
    line.new_card = false;
    // Accents and case as the second correspondent types them: still the same person.
    line.first_name = Some("VALERIE".into());
    let at_b = env
        .registry
        .apply_worker(&other_cse(), OTHER, &line)
        .expect("test step")
        .worker_id;
    assert_ne!(at_a, at_b);
    assert_eq!(count(&env, "SELECT count(*) FROM registry_persons"), 1);
    let conn = env.pool.get().expect("test step");
    let employments: Vec<(i64, i64)> = conn
        .prepare(
            "SELECT w.establishment_id, w.person_id FROM registry_workers w
             ORDER BY w.establishment_id",
        )
        .expect("test step")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("test step")
        .collect::<Result<_, _>>()
        .expect("test step");
    assert_eq!(employments.len(), 2);
    assert_eq!((employments[0].0, employments[1].0), (EST, OTHER));
    assert_eq!(employments[0].1, employments[1].1);
}

#[test]
fn another_identity_for_a_nir_known_elsewhere_is_refused_recorded_and_listed() {
    let env = env();
    seed_worker_id(&env);
    let mut line = seed_worker();
    line.new_card = false;
    line.last_name = Some("MARTIN".into());
    let e = env
        .registry
        .apply_worker(&other_cse(), OTHER, &line)
        .unwrap_err();
    assert!(matches!(e, RegistryError::IdentityConflict), "{e:?}");
    assert_eq!((e.status(), e.code()), (409, "identity_conflict"));
    assert!(e.to_string().contains("autre identité"));
    assert!(!e.to_string().contains("2760912346445"));
    // Nothing applied: no employment at the second employer, the person's name unchanged.
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM registry_workers WHERE establishment_id = 2"
        ),
        0
    );
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM registry_persons WHERE last_name = 'DIDIER'"
        ),
        1
    );
    let listed = env
        .registry
        .operator_identity_conflicts("operator:test")
        .expect("test step");
    assert_eq!(listed.len(), 1);
    let c = &listed[0];
    assert_eq!(c.establishment, OTHER);
    assert_eq!(c.source, "form");
    assert!(c.known.starts_with("DIDIER Valérie"), "{}", c.known);
    assert!(c.declared.starts_with("MARTIN Valérie"), "{}", c.declared);
    assert_eq!(c.nir_masked, "2 ** ** ** *** *** 12");
    let actions: Vec<String> = audit_rows(&env).into_iter().map(|r| r.1).collect();
    assert!(actions.contains(&"registry.person.conflict".to_owned()));
    assert!(actions.contains(&"registry.person.conflicts.read".to_owned()));
}

#[test]
fn an_import_contradicting_a_person_known_elsewhere_is_refused_and_its_conflict_recorded() {
    let env = env();
    seed_worker_id(&env);
    let file = SEED_CSV.replacen("DIDIER;", "MARTIN;", 1);
    let e = env
        .registry
        .import_workers(&other_cse(), OTHER, file.as_bytes())
        .unwrap_err();
    let report = e.fields().expect("a report");
    assert!(
        report.values().any(|m| m.contains("autre identité")),
        "{report:?}"
    );
    // Nothing imported, not even the line that was right.
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM registry_workers WHERE establishment_id = 2"
        ),
        0
    );
    let listed = env
        .registry
        .operator_identity_conflicts("operator:test")
        .expect("test step");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].source, "import");
}

#[test]
fn a_correspondent_alone_to_employ_a_person_may_correct_their_identity() {
    let env = env();
    seed_worker_id(&env);
    let mut line = seed_worker();
    line.operation = Some(Operation::Modify);
    line.new_card = false;
    line.last_name = Some("DIDIER-MARTIN".into());
    apply(&env, &line);
    assert_eq!(
        count(
            &env,
            "SELECT count(*) FROM registry_persons WHERE last_name = 'DIDIER-MARTIN'"
        ),
        1
    );
    assert!(env
        .registry
        .operator_identity_conflicts("operator:test")
        .expect("test step")
        .is_empty());
}

#[test]
fn removing_a_worker_ends_the_employment_and_keeps_the_results() {
    let env = env();
    let id = seed_worker_id(&env);
    env.registry
        .record_dose(
            &mdt(),
            EST,
            &WorkerRef::Id(id),
            &DoseInput {
                kind: DoseKind::Effective,
                period_start: "01/05/2025".into(),
                period_end: "31/05/2025".into(),
                hp10_msv: None,
                hp007_msv: None,
                e_msv: Some(1.0),
                ..Default::default()
            },
        )
        .expect("test step");
    apply(&env, &seed_removal());
    let conn = env.pool.get().expect("test step");
    let dates: (String, Option<String>) = conn
        .query_row(
            "SELECT employed_from, employed_to FROM registry_workers WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("test step");
    assert_eq!(dates, ("2025-06-30".into(), Some("2025-06-30".into())));
    assert_eq!(count(&env, "SELECT count(*) FROM registry_doses"), 1);
    // Back on the list later: the ended period is kept, a new one begins.
    env.clock.advance(time::Duration::days(40));
    let mut back = seed_worker();
    back.new_card = false;
    apply(&env, &back);
    let periods: Vec<(String, String)> = conn
        .prepare("SELECT started_on, ended_on FROM registry_employment_periods")
        .expect("test step")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("test step")
        .collect::<Result<_, _>>()
        .expect("test step");
    assert_eq!(periods, [("2025-06-30".into(), "2025-06-30".into())]);
    let dates: (String, Option<String>) = conn
        .query_row(
            "SELECT employed_from, employed_to FROM registry_workers WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("test step");
    assert_eq!(dates, ("2025-08-09".into(), None));
}

/// A database as today's `main` leaves it: the migrations up to 0004, and rows written the way
/// its code writes them (two establishments, fractions, doses, cards; one NIR on both lists,
/// once under another name).
fn old_schema_database() -> Connection {
    let mut conn = Connection::open_in_memory().expect("test step");
    store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).expect("test step");
    store::migrate::apply(
        &mut conn,
        "registry",
        &registry::migrations::MIGRATIONS[..4],
    )
    .expect("test step");
    conn.execute_batch(
        "INSERT INTO registry_fractions (id, establishment_id, name, name_key, created_at)
         VALUES (1, 1, 'Bloc A', 'BLOC A', '2024-01-01T08:00:00Z'),
                (2, 2, 'Radiologie', 'RADIOLOGIE', '2024-02-01T08:00:00Z');
         UPDATE registry_card_sequence SET next = 4;",
    )
    .expect("test step");
    let workers = [
        // id, establishment, nir, key, card, last, first, birth, fraction, created, updated, removed
        (
            1,
            1,
            "2760912346445",
            "12",
            Some("C00000001"),
            "DIDIER",
            "Valérie",
            None,
            Some(1),
            "2024-03-01T08:00:00Z",
            "2024-03-01T08:00:00Z",
            None,
        ),
        (
            2,
            1,
            "1700367482001",
            "86",
            Some("C00000002"),
            "DURAND",
            "Vincent",
            Some("1970-03-12"),
            None,
            "2024-03-02T08:00:00Z",
            "2024-05-02T08:00:00Z",
            Some("2024-05-02T08:00:00Z"),
        ),
        (
            3,
            2,
            "2760912346445",
            "12",
            None,
            "DIDIER",
            "Valerie",
            None,
            Some(2),
            "2024-04-01T08:00:00Z",
            "2024-04-01T08:00:00Z",
            None,
        ),
        (
            4,
            2,
            "1700367482001",
            "86",
            Some("C00000003"),
            "DUPONT",
            "Vincent",
            None,
            None,
            "2024-06-01T08:00:00Z",
            "2024-06-01T08:00:00Z",
            None,
        ),
    ];
    for (id, est, nir, key, card, last, first, birth, fraction, created, updated, removed) in
        workers
    {
        conn.execute(
            "INSERT INTO registry_workers (id, establishment_id, nir, nir_key, card_number,
                 last_name, first_name, birth_date, fraction_id, category, job,
                 search_name, created_at, updated_at, removed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'B', 'Manipulateur', ?10, ?11, ?12, ?13)",
            params![
                id,
                est,
                nir,
                key,
                card,
                last,
                first,
                birth,
                fraction,
                format!("{} {}", last, store::text::fold(first)),
                created,
                updated,
                removed
            ],
        )
        .expect("test step");
    }
    conn.execute_batch(
        "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, hp10_usv,
             hp007_usv, e_usv, source, recorded_at)
         VALUES (1, 'passive', '2024-01-01', '2024-01-31', 400, 900, NULL, 'organisme:DOSILAB',
                 '2024-03-05T08:00:00Z'),
                (1, 'effective', '2024-02-01', '2024-02-29', NULL, NULL, 1200, 'accessor:42005',
                 '2024-03-06T08:00:00Z'),
                (2, 'operational', '2024-03-01', '2024-03-31', 50, NULL, NULL, 'accessor:42003',
                 '2024-04-01T08:00:00Z'),
                (3, 'passive', '2024-04-01', '2024-04-30', 100, NULL, NULL, 'organisme:DOSILAB',
                 '2024-05-05T08:00:00Z');
         INSERT INTO registry_medical_cards (worker_id, last_visit, fitness, next_visit, notes,
             updated_by, updated_at)
         VALUES (1, '2024-03-10', 'fit', '2025-03-10', 'RAS', 'accessor:42005',
                 '2024-03-10T08:00:00Z'),
                (4, NULL, NULL, NULL, 'Première visite à prévoir', 'accessor:42005',
                 '2024-06-02T08:00:00Z');",
    )
    .expect("test step");
    conn
}

#[test]
fn the_migration_brings_every_row_of_an_old_data_directory_to_persons_and_employments() {
    let mut conn = old_schema_database();
    let snapshot = |conn: &Connection, sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).expect("test step");
        let columns = stmt.column_count();
        stmt.query_map([], |r| {
            (0..columns)
                .map(|i| Ok(format!("{:?}", r.get::<_, rusqlite::types::Value>(i)?)))
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.join("|"))
        })
        .expect("test step")
        .collect::<Result<_, _>>()
        .expect("test step")
    };
    const WORKERS: &str = "SELECT id, establishment_id, nir, nir_key, card_number, last_name,
        first_name, birth_date, fraction_id, category, job, search_name, created_at, updated_at,
        removed_at FROM registry_workers ORDER BY id";
    const DOSES: &str = "SELECT id, worker_id, kind, period_start, period_end, hp10_usv,
        hp007_usv, e_usv, source, recorded_at FROM registry_doses ORDER BY id";
    const CARDS: &str = "SELECT * FROM registry_medical_cards ORDER BY worker_id";
    const FRACTIONS: &str = "SELECT * FROM registry_fractions ORDER BY id";
    let before = [WORKERS, DOSES, CARDS, FRACTIONS].map(|q| snapshot(&conn, q));

    store::migrate::apply(&mut conn, "registry", registry::migrations::MIGRATIONS)
        .expect("test step");

    let after = [WORKERS, DOSES, CARDS, FRACTIONS].map(|q| snapshot(&conn, q));
    assert_eq!(before, after, "every row arrives unchanged");
    assert_eq!(before[0].len(), 4);
    assert_eq!(before[1].len(), 4);
    assert_eq!(before[2].len(), 2);

    // One person per NIR, every employment linked to its NIR's person.
    let persons: Vec<(String, String)> = conn
        .prepare("SELECT nir, last_name FROM registry_persons ORDER BY nir")
        .expect("test step")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("test step")
        .collect::<Result<_, _>>()
        .expect("test step");
    // The most recently updated line gives the identity.
    assert_eq!(
        persons,
        [
            ("1700367482001".into(), "DUPONT".into()),
            ("2760912346445".into(), "DIDIER".into())
        ]
    );
    let unlinked: i64 = conn
        .query_row(
            "SELECT count(*) FROM registry_workers w LEFT JOIN registry_persons p
                 ON p.id = w.person_id AND p.nir = w.nir
             WHERE p.id IS NULL",
            [],
            |r| r.get(0),
        )
        .expect("test step");
    assert_eq!(unlinked, 0);
    // Employments: from the first result's period when earlier than the line; ended when removed.
    let periods = snapshot(
        &conn,
        "SELECT id, employed_from, employed_to FROM registry_workers ORDER BY id",
    );
    assert_eq!(
        periods,
        [
            "Integer(1)|Text(\"2024-01-01\")|Null",
            "Integer(2)|Text(\"2024-03-01\")|Text(\"2024-05-02\")",
            "Integer(3)|Text(\"2024-04-01\")|Null",
            "Integer(4)|Text(\"2024-06-01\")|Null",
        ]
    );
    // DURAND and DUPONT under one NIR: left for the operators, nothing lost.
    let conflicts = snapshot(
        &conn,
        "SELECT establishment_id, last_name, source FROM registry_identity_conflicts",
    );
    assert_eq!(
        conflicts,
        ["Integer(1)|Text(\"DURAND\")|Text(\"migration\")"]
    );
    // Accents alone (Valérie, Valerie) are not another identity.
    assert_eq!(conflicts.len(), 1);
}
