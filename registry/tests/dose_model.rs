//! The regulation's dose model (issue 15 §2): every kind of result with its quantities and its
//! sender, corrections that replace a result once and keep the history, and the limits of the
//! new quantities and of a declared pregnancy (§3).

#[path = "support.rs"]
mod support;

use std::sync::{Arc, Mutex};

use registry::{
    AlertMail, DirectoryError, DoseInput, DoseKind, DoseQuery, Limit, Organ, PregnancyInput,
    Principal, RegistryError, Role, Sender, WorkerRef,
};
use rusqlite::params;
use support::*;

#[derive(Debug, Default)]
struct Mails(Mutex<Vec<i64>>);

impl AlertMail for Mails {
    fn queue(
        &self,
        _tx: &rusqlite::Transaction<'_>,
        establishment: i64,
        _now: time::OffsetDateTime,
    ) -> Result<usize, DirectoryError> {
        self.0.lock().expect("test step").push(establishment);
        Ok(1)
    }
}

fn input(kind: DoseKind, start: &str, end: &str) -> DoseInput {
    DoseInput {
        kind,
        period_start: start.into(),
        period_end: end.into(),
        ..DoseInput::default()
    }
}

/// Records `i` for the seed's worker, named by NIR (as a body names them).
fn record(env: &Env, who: &Principal, i: &DoseInput) -> Result<i64, RegistryError> {
    let nir = registry::Nir::parse("2760912346445", "12").expect("the seed's NIR");
    env.registry.record_dose(who, EST, &WorkerRef::Nir(nir), i)
}

fn field_error(r: Result<i64, RegistryError>, field: &str) -> String {
    match r {
        Err(RegistryError::Invalid(f)) => f.get(field).cloned().unwrap_or_else(|| {
            panic!("no error on {field}: {f:?}");
        }),
        other => panic!("expected a field error on {field}, got {other:?}"),
    }
}

#[test]
fn every_kind_of_the_regulation_is_recorded_with_its_quantities_and_sender() {
    let env = env();
    let mut line = seed_worker();
    line.employed_from = Some("01/01/2024".into());
    let w = add(&env, &line);
    let mut passive = input(DoseKind::Passive, "01/04/2025", "30/06/2025");
    passive.hp10_msv = Some(0.2);
    passive.hp007_msv = Some(1.0);
    passive.extremity_msv = Some(30.0);
    passive.hp3_msv = Some(2.5);
    passive.siret = Some("73282932000074".into());
    record(&env, &body(), &passive).expect("passive");
    let mut radon = input(DoseKind::Radon, "01/01/2025", "31/03/2025");
    radon.radon_bqhm3 = Some(400_000.0);
    radon.e_msv = Some(1.2);
    record(&env, &body(), &radon).expect("radon");
    record(
        &env,
        &body(),
        &input(DoseKind::NoResult, "01/01/2025", "31/03/2025"),
    )
    .expect("no result");
    let mut aircrew = input(DoseKind::Aircrew, "01/05/2025", "31/05/2025");
    aircrew.e_msv = Some(0.4);
    record(&env, &pcr(), &aircrew).expect("aircrew");
    let mut lens = input(DoseKind::Equivalent, "01/05/2025", "31/05/2025");
    lens.organ = Some(Organ::Lens);
    lens.h_msv = Some(3.0);
    record(&env, &mdt(), &lens).expect("equivalent");

    let all = env
        .registry
        .doses(&mdt(), EST, w, &DoseQuery::default())
        .expect("doses");
    let kinds: Vec<DoseKind> = all.iter().map(|r| r.kind).collect();
    assert_eq!(all.len(), 5, "{kinds:?}");
    let find = |k| all.iter().find(|r| r.kind == k).expect("kind listed");
    let p = find(DoseKind::Passive);
    assert_eq!((p.hp3_msv, p.extremity_msv), (Some(2.5), Some(30.0)));
    assert_eq!(
        (p.sender, p.siret.as_deref(), p.unit),
        (Sender::Body, Some("73282932000074"), "mSv")
    );
    assert_eq!(find(DoseKind::Radon).radon_bqhm3, Some(400_000));
    assert_eq!(find(DoseKind::Aircrew).sender, Sender::Pcr);
    let e = find(DoseKind::Equivalent);
    assert_eq!(
        (e.organ, e.h_msv, e.sender),
        (Some(Organ::Lens), Some(3.0), Sender::Physician)
    );

    // The effective dose adds passive Hp(10), radon E and aircrew E; the lens its Hp(3) and H.
    let card = env
        .registry
        .medical_card(&mdt(), EST, w, None)
        .expect("card");
    let d = card.doses.expect("the physician reads every kind");
    assert_eq!(d.rolling.effective_msv, 1.8);
    assert_eq!(
        (d.lens_msv, d.extremities_msv, d.skin_msv),
        (5.5, 30.0, 1.0)
    );

    // The PCR reads the aircrew result (its row) and the equivalent dose (the effective
    // dose's row), not the body's.
    let seen: Vec<DoseKind> = env
        .registry
        .doses(&pcr(), EST, w, &DoseQuery::default())
        .expect("doses")
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(seen, [DoseKind::Aircrew, DoseKind::Equivalent]);
}

#[test]
fn each_sender_sends_only_its_kinds() {
    let env = env();
    seed_worker_id(&env);
    let mut radon = input(DoseKind::Radon, "01/01/2025", "31/03/2025");
    radon.radon_bqhm3 = Some(1.0);
    radon.e_msv = Some(0.1);
    assert!(matches!(
        record(&env, &pcr(), &radon),
        Err(RegistryError::Forbidden { .. })
    ));
    let mut lens = input(DoseKind::Equivalent, "01/05/2025", "31/05/2025");
    lens.organ = Some(Organ::Lens);
    lens.h_msv = Some(3.0);
    assert!(matches!(
        record(&env, &body(), &lens),
        Err(RegistryError::Forbidden { .. })
    ));
}

#[test]
fn a_passive_period_longer_than_three_months_is_refused_in_french() {
    let env = env();
    seed_worker_id(&env);
    let mut p = input(DoseKind::Passive, "01/01/2025", "01/04/2025");
    p.hp10_msv = Some(0.1);
    let why = field_error(record(&env, &body(), &p), "period_end");
    assert!(why.contains("au plus 3 mois"), "{why}");
}

#[test]
fn a_correction_replaces_its_result_once_everywhere_and_keeps_the_history() {
    let env = env();
    let w = seed_worker_id(&env);
    let mut first = input(DoseKind::Effective, "01/05/2025", "31/05/2025");
    first.e_msv = Some(12.0);
    let original = record(&env, &mdt(), &first).expect("original");
    let mut fix = first.clone();
    fix.e_msv = Some(1.5);
    fix.replaces = Some(original);
    let correction = record(&env, &mdt(), &fix).expect("correction");

    // Every view shows the corrected value; the sum no longer counts the replaced one.
    let list = env
        .registry
        .doses(&mdt(), EST, w, &DoseQuery::default())
        .expect("doses");
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].id, list[0].e_msv, list[0].replaces_id),
        (correction, Some(1.5), Some(original))
    );
    let rolling = env
        .registry
        .effective_dose(&pcr(), EST, w, None)
        .expect("rolling");
    assert_eq!((rolling.effective_msv, rolling.records), (1.5, 1));

    // The history lists the chain, newest first, from either end.
    for asked in [original, correction] {
        let chain = env
            .registry
            .dose_history(&mdt(), EST, w, asked)
            .expect("history");
        let ids: Vec<(i64, Option<i64>)> = chain.iter().map(|r| (r.id, r.replaced_by)).collect();
        assert_eq!(ids, [(correction, None), (original, Some(correction))]);
    }

    // Replaced once: the original cannot be corrected again, the correction can.
    let again = field_error(record(&env, &mdt(), &fix), "replaces");
    assert!(again.contains("déjà été corrigé"), "{again}");
    fix.replaces = Some(correction);
    fix.e_msv = Some(1.4);
    record(&env, &mdt(), &fix).expect("a correction of the correction");

    // Same kind only, and only a result of this worker.
    let mut other_kind = input(DoseKind::Internal, "01/05/2025", "31/05/2025");
    other_kind.e_msv = Some(1.0);
    other_kind.replaces = Some(correction + 1);
    let kind_mismatch = field_error(record(&env, &mdt(), &other_kind), "replaces");
    other_kind.replaces = Some(9_999);
    let why = field_error(record(&env, &mdt(), &other_kind), "replaces");
    assert!(why.contains("Aucun résultat"), "{why}");
    // Another kind's result is as unknown as a missing one: a sender learns nothing of kinds
    // it may not read.
    assert_eq!(kind_mismatch, why);
}

#[test]
fn a_correction_cannot_reach_another_employers_result() {
    let env = env();
    let mut line = seed_worker();
    let at_a = seed_worker_id(&env);
    line.new_card = false;
    let other_cse = Principal::accessor("42101", [(OTHER, Role::Cse)]);
    let other_mdt = Principal::accessor("42105", [(OTHER, Role::Mdt)]);
    let at_b = env
        .registry
        .apply_worker(&other_cse, OTHER, &line)
        .expect("employment at B")
        .worker_id;
    let mut at_b_dose = input(DoseKind::Effective, "01/05/2025", "31/05/2025");
    at_b_dose.e_msv = Some(5.0);
    let b_result = env
        .registry
        .record_dose(&other_mdt, OTHER, &WorkerRef::Id(at_b), &at_b_dose)
        .expect("B's result");
    // A's physician names B's result: unknown to this employment, nothing recorded.
    let mut fix = at_b_dose.clone();
    fix.e_msv = Some(0.0);
    fix.replaces = Some(b_result);
    let why = field_error(
        env.registry
            .record_dose(&mdt(), EST, &WorkerRef::Id(at_a), &fix),
        "replaces",
    );
    assert!(why.contains("Aucun résultat"), "{why}");
    // A's PCR cannot read B's result through the history either.
    assert!(matches!(
        env.registry.dose_history(&pcr(), EST, at_a, b_result),
        Err(RegistryError::NotFound)
    ));
}

#[test]
fn the_lens_limit_alerts_above_twenty_millisieverts() {
    let env = env();
    let mails = Arc::new(Mails::default());
    let registry = env.registry.clone().with_alert_mail(mails.clone());
    let w = seed_worker_id(&env);
    let mut p = input(DoseKind::Passive, "01/01/2025", "31/03/2025");
    p.hp3_msv = Some(15.0);
    registry
        .record_dose(&body(), EST, &WorkerRef::Id(w), &p)
        .expect("passive");
    assert!(registry.alerts(&mdt(), EST).expect("alerts").is_empty());
    let mut h = input(DoseKind::Equivalent, "01/05/2025", "31/05/2025");
    h.organ = Some(Organ::Lens);
    h.h_msv = Some(5.5);
    registry
        .record_dose(&mdt(), EST, &WorkerRef::Id(w), &h)
        .expect("equivalent");
    let alerts = registry.alerts(&pcr(), EST).expect("alerts");
    let limits: Vec<Limit> = alerts.iter().map(|a| a.limit).collect();
    assert_eq!(limits, [Limit::Lens]);
    assert_eq!((alerts[0].sum_msv, alerts[0].limit_msv), (20.5, 20.0));
    assert_eq!(*mails.0.lock().expect("test step"), [EST]);
}

#[test]
fn a_declared_pregnancy_alerts_above_one_millisievert_until_its_end() {
    let env = env();
    let registry = env.registry.clone();
    let w = seed_worker_id(&env);
    let mut before = input(DoseKind::Passive, "01/01/2025", "31/01/2025");
    before.hp10_msv = Some(3.0);
    registry
        .record_dose(&body(), EST, &WorkerRef::Id(w), &before)
        .expect("passive");
    let declaration = PregnancyInput {
        declared_on: "01/02/2025".into(),
        ends_on: "30/10/2025".into(),
    };
    // Only the physician declares.
    assert!(matches!(
        registry.declare_pregnancy(&pcr(), EST, w, &declaration),
        Err(RegistryError::Forbidden { .. })
    ));
    registry
        .declare_pregnancy(&mdt(), EST, w, &declaration)
        .expect("declared");
    // 3 mSv before the declaration do not count for the unborn child.
    assert!(registry.alerts(&mdt(), EST).expect("alerts").is_empty());
    let mut during = input(DoseKind::Passive, "01/02/2025", "28/02/2025");
    during.hp10_msv = Some(0.6);
    registry
        .record_dose(&body(), EST, &WorkerRef::Id(w), &during)
        .expect("passive");
    let mut internal = input(DoseKind::Internal, "01/03/2025", "31/03/2025");
    internal.e_msv = Some(0.5);
    registry
        .record_dose(&mdt(), EST, &WorkerRef::Id(w), &internal)
        .expect("internal");
    let alerts = registry.alerts(&mdt(), EST).expect("alerts");
    let limits: Vec<Limit> = alerts.iter().map(|a| a.limit).collect();
    assert_eq!(limits, [Limit::Pregnancy]);
    assert_eq!((alerts[0].sum_msv, alerts[0].limit_msv), (1.1, 1.0));
    let card = registry.medical_card(&mdt(), EST, w, None).expect("card");
    assert_eq!(card.pregnancies.len(), 1);
}

/// A person and their employment (worker 1, establishment 1), by SQL, in the schema of 0005 on.
const PERSON_AND_EMPLOYMENT: &str =
    "INSERT INTO registry_persons (id, nir, nir_key, last_name, first_name, search_name,
         created_at, updated_at)
     VALUES (1, '2760912346445', '12', 'DIDIER', 'Valérie', 'DIDIER VALERIE', 'x', 'x');
     INSERT INTO registry_workers (id, establishment_id, nir, nir_key, last_name, first_name,
         search_name, created_at, updated_at, person_id, employed_from)
     VALUES (1, 1, '2760912346445', '12', 'DIDIER', 'Valérie', 'DIDIER VALERIE', 'x', 'x', 1,
             '2024-01-01');";

#[test]
fn the_migration_keeps_every_old_result_and_alert_and_names_their_senders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("siseri.db");
    let mut conn = store::pool::open(&path).expect("open");
    store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).expect("store");
    store::migrate::apply(
        &mut conn,
        "registry",
        &registry::migrations::MIGRATIONS[..6],
    )
    .expect("registry up to 0006");
    conn.execute_batch(PERSON_AND_EMPLOYMENT).expect("a person");
    conn.execute_batch(
        "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, hp10_usv,
             hp007_usv, e_usv, source, recorded_at)
         VALUES (1, 'passive', '2024-01-01', '2024-01-31', 400, 900, NULL, 'organisme:DOSILAB', 't'),
                (1, 'operational', '2024-03-01', '2024-03-31', 50, NULL, NULL, 'accessor:42003', 't'),
                (1, 'effective', '2024-02-01', '2024-02-29', NULL, NULL, 21000, 'accessor:42005', 't');
         INSERT INTO registry_alerts (person_id, limit_code, window_from, window_to, sum_usv,
             limit_usv, dose_id, raised_at)
         VALUES (1, 'effective', '2023-03-01', '2024-02-29', 21400, 20000, 3, 't');
         INSERT INTO registry_alert_establishments VALUES (1, 1, 1);",
    )
    .expect("old rows");
    const OLD: &str = "SELECT id || '|' || worker_id || '|' || kind || '|' || period_end || '|'
        || coalesce(hp10_usv, '') || '|' || coalesce(hp007_usv, '') || '|' || coalesce(e_usv, '')
        || '|' || source FROM registry_doses ORDER BY id";
    let rows = |conn: &rusqlite::Connection, sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let before = rows(&conn, OLD);
    store::migrate::apply(&mut conn, "registry", registry::migrations::MIGRATIONS)
        .expect("migrated");
    assert_eq!(rows(&conn, OLD), before);
    assert_eq!(
        rows(&conn, "SELECT sender FROM registry_doses ORDER BY id"),
        ["body", "pcr", "physician"]
    );
    assert_eq!(
        rows(&conn, "SELECT limit_code || dose_id FROM registry_alerts"),
        ["effective3"]
    );
    // Still append-only, and a correction must name a result of the same employment and kind.
    assert!(conn
        .execute("UPDATE registry_doses SET e_usv = 0 WHERE id = 3", [])
        .is_err());
    assert!(conn
        .execute(
            "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, e_usv,
                 sender, replaces_id, source, recorded_at)
             VALUES (1, 'internal', '2024-02-01', '2024-02-29', 1, 'physician', ?1,
                     'accessor:42005', 't')",
            params![3],
        )
        .is_err());
}

#[test]
fn a_dosimetry_body_corrects_only_its_own_results() {
    let env = env();
    seed_worker_id(&env);
    // The surgery has named a second body.
    env.pool
        .get()
        .expect("connection")
        .execute(
            "INSERT INTO registry_dosimetry_bodies (establishment_id, name, declared_by, declared_at)
             VALUES (?1, 'RADONLAB', 'operator:test', '2025-06-01T08:00:00Z')",
            [EST],
        )
        .expect("second body");
    let radonlab = Principal::dosimetry_body("RADONLAB", [EST]);
    let mut p = input(DoseKind::Passive, "01/04/2025", "30/04/2025");
    p.hp10_msv = Some(2.0);
    let dosilab_result = record(&env, &body(), &p).expect("DOSILAB's result");
    p.hp10_msv = Some(0.0);
    p.replaces = Some(dosilab_result);
    let why = field_error(record(&env, &radonlab, &p), "replaces");
    assert!(why.contains("Aucun résultat"), "{why}");
    record(&env, &body(), &p).expect("DOSILAB corrects its own result");
}

mod sums_through_the_store {
    //! The rolling sums as the registry computes them in SQL, against the definition day by
    //! day: results of two employers, periods that straddle the window's start, corrections
    //! (the replaced value leaves the sum, the correction's enters), effective dose and lens.

    use super::*;
    use proptest::prelude::*;
    use time::{Date, Duration};

    /// (employer, first day after 1 January 2023, length in days, lens rather than
    /// effective, µSv, corrected to).
    type Generated = (bool, i64, i64, bool, i64, Option<i64>);

    fn window_start(on: Date) -> Date {
        let year_before = on
            .replace_year(on.year() - 1)
            .or_else(|_| (on - Duration::days(1)).replace_year(on.year() - 1))
            .expect("a day a year before");
        year_before + Duration::days(1)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        #[test]
        fn the_registry_sums_current_results_of_every_employer_ending_in_the_window(
            results in proptest::collection::vec(
                (any::<bool>(), 0_i64..700, 0_i64..80, any::<bool>(), 0_i64..4_000,
                 proptest::option::of(0_i64..4_000)),
                1..12,
            ),
            on_offset in 200_i64..900,
        ) {
            let results: Vec<Generated> = results;
            let env = env();
            let mut line = seed_worker();
            line.employed_from = Some("01/01/2023".into());
            let at_a = add(&env, &line);
            line.new_card = false;
            let other_cse = Principal::accessor("42101", [(OTHER, Role::Cse)]);
            let other_mdt = Principal::accessor("42105", [(OTHER, Role::Mdt)]);
            let at_b = env
                .registry
                .apply_worker(&other_cse, OTHER, &line)
                .expect("employment at B")
                .worker_id;
            let base = time::macros::date!(2023 - 01 - 01);
            let day = |d: Date| format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year());
            for &(at_other, start, len, lens, usv, corrected) in &results {
                let (who, establishment, worker) = if at_other {
                    (other_mdt.clone(), OTHER, at_b)
                } else {
                    (mdt(), EST, at_a)
                };
                let begin = base + Duration::days(start);
                let mut i = if lens {
                    let mut i = input(DoseKind::Equivalent, &day(begin), &day(begin + Duration::days(len)));
                    i.organ = Some(Organ::Lens);
                    i.h_msv = Some(usv as f64 / 1000.0);
                    i
                } else {
                    let mut i = input(DoseKind::Effective, &day(begin), &day(begin + Duration::days(len)));
                    i.e_msv = Some(usv as f64 / 1000.0);
                    i
                };
                let id = env
                    .registry
                    .record_dose(&who, establishment, &WorkerRef::Id(worker), &i)
                    .expect("recorded");
                if let Some(c) = corrected {
                    i.replaces = Some(id);
                    if lens { i.h_msv = Some(c as f64 / 1000.0) } else { i.e_msv = Some(c as f64 / 1000.0) }
                    env.registry
                        .record_dose(&who, establishment, &WorkerRef::Id(worker), &i)
                        .expect("corrected");
                }
            }
            let on = base + Duration::days(on_offset);
            let from = window_start(on);
            let (mut effective, mut lens_sum) = (0, 0);
            for &(_, start, len, lens, usv, corrected) in &results {
                let end = base + Duration::days(start + len);
                if from <= end && end <= on {
                    let value = corrected.unwrap_or(usv);
                    if lens { lens_sum += value } else { effective += value }
                }
            }
            for (who, establishment, worker) in [(mdt(), EST, at_a), (other_mdt, OTHER, at_b)] {
                let card = env
                    .registry
                    .medical_card(&who, establishment, worker, Some(on))
                    .expect("card");
                let d = card.doses.expect("the physician reads every kind");
                prop_assert_eq!((d.rolling.effective_msv * 1000.0).round() as i64, effective);
                prop_assert_eq!((d.lens_msv * 1000.0).round() as i64, lens_sum);
                prop_assert_eq!(d.rolling.from, from);
            }
        }
    }
}

#[test]
fn the_database_holds_a_correction_to_a_result_of_its_employment_and_kind_without_a_trigger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut conn = store::pool::open(&dir.path().join("siseri.db")).expect("open");
    store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).expect("store");
    store::migrate::apply(&mut conn, "registry", registry::migrations::MIGRATIONS)
        .expect("registry");
    conn.execute_batch(PERSON_AND_EMPLOYMENT).expect("a person");
    conn.execute_batch(
        "INSERT INTO registry_workers (id, establishment_id, nir, nir_key, last_name, first_name,
             search_name, created_at, updated_at, person_id, employed_from)
         VALUES (2, 2, '2760912346445', '12', 'DIDIER', 'Valérie', 'DIDIER VALERIE', 'x', 'x', 1,
                 '2024-01-01');
         INSERT INTO registry_doses (id, worker_id, kind, period_start, period_end, e_usv, sender,
             source, recorded_at)
         VALUES (1, 1, 'effective', '2024-02-01', '2024-02-29', 21000, 'physician',
                 'accessor:42005', 't');",
    )
    .expect("a result");
    let correct = |worker: i64, kind: &str| {
        conn.execute(
            "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, e_usv,
                 sender, replaces_id, source, recorded_at)
             VALUES (?1, ?2, '2024-02-01', '2024-02-29', 1, 'physician', 1, 'accessor:42005',
                     't')",
            params![worker, kind],
        )
    };
    let refused = |r: rusqlite::Result<usize>| match r {
        Err(rusqlite::Error::SqliteFailure(e, _)) => {
            e.code == rusqlite::ErrorCode::ConstraintViolation
        }
        _ => false,
    };
    assert!(
        refused(correct(2, "effective")),
        "another employment's result"
    );
    assert!(refused(correct(1, "internal")), "a result of another kind");
    correct(1, "effective").expect("the same employment and kind");
    assert!(
        refused(correct(1, "effective")),
        "a result is replaced once at most"
    );
    let with_siret = |siret: &str| {
        conn.execute(
            "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, e_usv,
                 sender, siret, source, recorded_at)
             VALUES (1, 'effective', '2024-03-01', '2024-03-31', 1, 'physician', ?1,
                     'accessor:42005', 't')",
            [siret],
        )
    };
    for bad in [
        "7328293200007a",
        "7328293200007",
        "732829320000745",
        "73282932 00074",
    ] {
        assert!(refused(with_siret(bad)), "{bad}");
    }
    with_siret("73282932000074").expect("fourteen digits");
    // The key is a foreign key, not an INSERT trigger: a trigger would make every insert open
    // a statement journal (a transmission inserts a million).
    let insert_triggers: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'
             AND tbl_name = 'registry_doses' AND sql LIKE '%INSERT%'",
            [],
            |r| r.get(0),
        )
        .expect("triggers");
    assert_eq!(insert_triggers, 0);
}

/// Each kind's quantities and the sender's source, as the database holds them: the same cases
/// accepted and refused by the schema before migration 0013 (which said the rules again, so
/// that fewer of them are evaluated at each insert) and after it.
#[test]
fn the_database_holds_each_kinds_quantities_and_the_source_as_before_0013() {
    // kind, hp10, hp3, extremity, e, organ, h, radon, source; accepted?
    type Case = (
        &'static str,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<&'static str>,
        Option<i64>,
        Option<i64>,
        &'static str,
        bool,
    );
    const B: &str = "organisme:LABO";
    #[rustfmt::skip]
    let cases: [Case; 33] = [
        ("passive", Some(1), None, None, None, None, None, None, B, true),
        ("passive", None, Some(1), None, None, None, None, None, B, true),
        ("passive", None, None, Some(1), None, None, None, None, B, true),
        ("passive", None, None, None, None, None, None, None, B, false),
        ("passive", Some(1), None, None, Some(1), None, None, None, B, false),
        ("passive", Some(1), None, None, None, Some("lens"), None, None, B, false),
        ("passive", Some(1), None, None, None, None, None, Some(1), B, false),
        ("operational", Some(1), None, None, None, None, None, None, B, true),
        ("operational", Some(1), Some(1), None, None, None, None, None, B, false),
        ("operational", Some(1), None, Some(1), None, None, None, None, B, false),
        ("operational", None, None, None, None, None, None, None, B, false),
        ("internal", None, None, None, Some(1), None, None, None, B, true),
        ("internal", None, None, None, None, None, None, None, B, false),
        ("internal", Some(1), None, None, Some(1), None, None, None, B, false),
        ("effective", None, None, None, Some(1), None, None, None, B, true),
        ("effective", None, None, None, Some(1), None, None, Some(1), B, false),
        ("effective", None, None, None, Some(1), None, Some(1), None, B, false),
        ("aircrew", None, None, None, Some(1), None, None, None, B, true),
        ("radon", None, None, None, Some(1), None, None, Some(1), B, true),
        ("radon", None, None, None, Some(1), None, None, None, B, false),
        ("radon", None, None, None, None, None, None, Some(1), B, false),
        ("equivalent", None, None, None, None, Some("lens"), Some(1), None, B, true),
        ("equivalent", None, None, None, None, None, Some(1), None, B, false),
        ("equivalent", None, None, None, None, Some("foot"), Some(1), None, B, false),
        ("equivalent", None, None, None, None, Some("skin"), None, None, B, false),
        ("no_result", None, None, None, None, None, None, None, B, true),
        ("no_result", None, None, None, Some(1), None, None, None, B, false),
        ("gamma", None, None, None, Some(1), None, None, None, B, false),
        ("effective", None, None, None, Some(1), None, None, None, "accessor:42005", true),
        ("effective", None, None, None, Some(1), None, None, None, "organisme:", false),
        ("effective", None, None, None, Some(1), None, None, None, "accessor:", false),
        ("effective", None, None, None, Some(1), None, None, None, "organismes:X", false),
        ("effective", None, None, None, Some(1), None, None, None, "Organisme:X", false),
    ];
    // Up to 0012 (the slice's last), then every migration.
    let before = registry::migrations::MIGRATIONS
        .iter()
        .position(|m| m.version == 13)
        .expect("0013");
    for migrations in [
        &registry::migrations::MIGRATIONS[..before],
        registry::migrations::MIGRATIONS,
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = store::pool::open(&dir.path().join("siseri.db")).expect("open");
        store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).expect("store");
        store::migrate::apply(&mut conn, "registry", migrations).expect("registry");
        conn.execute_batch(PERSON_AND_EMPLOYMENT).expect("a person");
        for (i, (kind, hp10, hp3, extremity, e, organ, h, radon, source, accepted)) in
            cases.iter().enumerate()
        {
            let r = conn.execute(
                "INSERT INTO registry_doses (worker_id, kind, period_start, period_end,
                     hp10_usv, hp3_usv, extremity_usv, e_usv, organ, h_usv, radon_bqhm3,
                     sender, source, recorded_at)
                 VALUES (1, ?1, '2024-04-01', '2024-04-30', ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                         'body', ?9, 't')",
                params![kind, hp10, hp3, extremity, e, organ, h, radon, source],
            );
            let refused = matches!(&r, Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::ConstraintViolation);
            assert_eq!(
                (r.is_ok(), refused),
                (*accepted, !*accepted),
                "case {i} ({kind}, {source}) with {} migrations: {r:?}",
                migrations.len()
            );
        }
    }
}
