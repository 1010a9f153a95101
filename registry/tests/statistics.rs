//! National statistics (issue 17): known workers and results → known counts per year, per
//! dose band, per sector and per métier; the CSV as the workers list's.

#[path = "support.rs"]
mod support;

use registry::statistics::{annual_report, followed_per_year, to_csv, DoseBand};
use registry::{DoseInput, DoseKind, WorkerInput, WorkerRef};
use support::*;

fn employed(env: &Env, establishment: i64, i: u32, sector: &str, job: &str) -> i64 {
    let number = nir_number(i);
    let mut line: WorkerInput = worker(
        &format!("NOM{}", letters(i)),
        "Jean",
        &number,
        &key_of(&number),
    );
    line.sector = Some(sector.into());
    line.job = Some(job.into());
    let principal = if establishment == EST {
        cse()
    } else {
        registry::Principal::accessor("42101", [(OTHER, registry::Role::Cse)])
    };
    env.registry
        .apply_worker(&principal, establishment, &line)
        .expect("apply_worker")
        .worker_id
}

fn dose(env: &Env, establishment: i64, worker: i64, kind: DoseKind, end: &str, msv: f64) {
    let (hp10, e) = match kind {
        DoseKind::Passive | DoseKind::Operational => (Some(msv), None),
        _ => (None, Some(msv)),
    };
    // Who writes each kind (`policy.rs`): the body passive results, the PCR operational
    // ones, the physician the others.
    let who = match kind {
        DoseKind::Passive => registry::Principal::dosimetry_body("DOSILAB", [establishment]),
        DoseKind::Operational => {
            registry::Principal::accessor("42103", [(establishment, registry::Role::Pcr)])
        }
        _ => registry::Principal::accessor("42105", [(establishment, registry::Role::Mdt)]),
    };
    env.registry
        .record_dose(
            &who,
            establishment,
            &WorkerRef::Id(worker),
            &DoseInput {
                kind,
                period_start: format!("{}-01", &end[..7]),
                period_end: end.into(),
                hp10_msv: hp10,
                hp007_msv: None,
                e_msv: e,
                ..DoseInput::default()
            },
        )
        .expect("record_dose");
}

/// `establishment` names DOSILAB as its dosimetry body, as `support::env` does for `EST`.
fn names_the_body(env: &Env, establishment: i64) {
    env.pool
        .get()
        .expect("pool")
        .execute(
            "INSERT INTO registry_dosimetry_bodies (establishment_id, name, declared_by, declared_at)
             VALUES (?1, 'DOSILAB', 'operator:test', '2025-06-01T08:00:00Z')",
            [establishment],
        )
        .expect("execute failed");
}

#[test]
fn known_results_give_known_counts_per_year_band_sector_and_job() {
    let env = env();
    names_the_body(&env, OTHER);
    let dental = "102000-Soins dentaires";
    let nuclear = "301000-Centrales nucléaires";
    // 2024: one worker, 0.5 mSv.
    let a = employed(&env, EST, 1, dental, "Assistant dentaire");
    dose(&env, EST, a, DoseKind::Passive, "2024-11-30", 0.5);
    // 2025:
    // a: 0.4 + 0.7 passive = 1.1 mSv → 1 à 6; an operational result that does not count.
    dose(&env, EST, a, DoseKind::Passive, "2025-01-31", 0.4);
    dose(&env, EST, a, DoseKind::Passive, "2025-02-28", 0.7);
    dose(&env, EST, a, DoseKind::Operational, "2025-02-28", 9.0);
    // b: a nil result → 0.
    let b = employed(&env, EST, 2, dental, "Chirurgien-dentiste");
    dose(&env, EST, b, DoseKind::Passive, "2025-03-31", 0.0);
    // c: 0.3 mSv → < 1.
    let c = employed(&env, EST, 3, dental, "Assistant dentaire");
    dose(&env, EST, c, DoseKind::Internal, "2025-04-30", 0.3);
    // d, the same person in two establishments and sectors: 4 + 3 = 7 mSv nationally (6 à
    // 20), but 4 (dental) and 3 (nuclear) in each sector, both 1 à 6.
    let d_dental = employed(&env, EST, 4, dental, "Assistant dentaire");
    let d_nuclear = employed(&env, OTHER, 4, nuclear, "Robinetier");
    dose(&env, EST, d_dental, DoseKind::Effective, "2025-05-31", 4.0);
    dose(&env, OTHER, d_nuclear, DoseKind::Passive, "2025-06-15", 3.0);
    // e: 20 mSv exactly → 6 à 20; f: 20.5 → > 20.
    let e = employed(&env, OTHER, 5, nuclear, "Robinetier");
    dose(&env, OTHER, e, DoseKind::Effective, "2025-06-01", 20.0);
    let f = employed(&env, OTHER, 6, nuclear, "Soudeur");
    dose(&env, OTHER, f, DoseKind::Passive, "2025-06-02", 20.5);
    // g: only an operational result: not followed.
    let g = employed(&env, OTHER, 7, nuclear, "Soudeur");
    dose(&env, OTHER, g, DoseKind::Operational, "2025-06-03", 1.0);

    let conn = env.pool.get().expect("pool");
    let years = followed_per_year(&conn).expect("followed_per_year");
    assert_eq!(
        years
            .iter()
            .map(|y| (y.year, y.followed))
            .collect::<Vec<_>>(),
        vec![(2024, 1), (2025, 6)]
    );
    assert_eq!(years[0].bands.get(DoseBand::BelowOne), 1);

    let r = annual_report(&conn, 2025).expect("annual_report");
    let n = &r.national;
    assert_eq!(n.followed, 6);
    assert_eq!(n.bands.0, [1, 1, 1, 2, 1], "0, <1, 1–6, 6–20, >20");
    assert_eq!(n.bands.total(), n.followed);
    // 1.1 + 0 + 0.3 + 7 + 20 + 20.5 mSv.
    assert_eq!(n.collective_usv, 48_900);

    let sector = |name: &str| {
        r.by_sector
            .iter()
            .find(|g| g.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {:?}", r.by_sector))
    };
    assert_eq!(sector(dental).followed, 4);
    assert_eq!(sector(dental).bands.0, [1, 1, 2, 0, 0]);
    assert_eq!(sector(nuclear).followed, 3);
    assert_eq!(sector(nuclear).bands.0, [0, 0, 1, 1, 1]);
    assert_eq!(
        r.by_sector[0].name.as_deref(),
        Some(dental),
        "most workers first"
    );

    let job = |name: &str| {
        r.by_job
            .iter()
            .find(|g| g.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name}: {:?}", r.by_job))
    };
    assert_eq!(job("Assistant dentaire").followed, 3);
    assert_eq!(job("Robinetier").followed, 2);
    assert_eq!(job("Soudeur").followed, 1);
    assert_eq!(job("Chirurgien-dentiste").bands.get(DoseBand::Zero), 1);

    // A year without results: zero everywhere.
    let empty = annual_report(&conn, 2019).expect("annual_report");
    assert_eq!(empty.national.followed, 0);
    assert!(empty.by_sector.is_empty());

    let csv = String::from_utf8(to_csv(&r, &years)).expect("utf-8");
    assert!(csv.starts_with('\u{feff}'), "BOM");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "tableau;annee;groupe;travailleurs_suivis;0 mSv;< 1 mSv;1 à 6 mSv;6 à 20 mSv;> 20 mSv;dose_collective_msv"
    );
    assert!(
        lines.contains(&"par année;2025;France entière;6;1;1;1;2;1;48,900"),
        "{csv}"
    );
    assert!(
        lines.contains(&"par secteur;2025;301000-Centrales nucléaires;3;0;0;1;1;1;43,500"),
        "{csv}"
    );
    assert!(
        lines.contains(&"par métier;2025;Soudeur;1;0;0;0;0;1;20,500"),
        "{csv}"
    );
}

#[test]
fn a_corrected_result_counts_through_its_correction_and_radon_and_aircrew_count() {
    let env = env();
    let dental = "102000-Soins dentaires";
    let a = employed(&env, EST, 1, dental, "Assistant dentaire");
    let body = registry::Principal::dosimetry_body("DOSILAB", [EST]);
    let first = env
        .registry
        .record_dose(
            &body,
            EST,
            &WorkerRef::Id(a),
            &DoseInput {
                kind: DoseKind::Passive,
                period_start: "2025-01-01".into(),
                period_end: "2025-01-31".into(),
                hp10_msv: Some(25.0),
                ..DoseInput::default()
            },
        )
        .expect("record_dose");
    // The body corrects its typing mistake: 2.5 mSv, not 25.
    env.registry
        .record_dose(
            &body,
            EST,
            &WorkerRef::Id(a),
            &DoseInput {
                kind: DoseKind::Passive,
                period_start: "2025-01-01".into(),
                period_end: "2025-01-31".into(),
                hp10_msv: Some(2.5),
                replaces: Some(first),
                ..DoseInput::default()
            },
        )
        .expect("the correction");
    // A radon dose of 1 mSv (its exposure beside it) adds to the effective dose.
    env.registry
        .record_dose(
            &body,
            EST,
            &WorkerRef::Id(a),
            &DoseInput {
                kind: DoseKind::Radon,
                period_start: "2025-02-01".into(),
                period_end: "2025-04-30".into(),
                radon_bqhm3: Some(1_500_000.0),
                e_msv: Some(1.0),
                ..DoseInput::default()
            },
        )
        .expect("record_dose radon");
    let conn = env.pool.get().expect("pool");
    let r = annual_report(&conn, 2025).expect("annual_report");
    assert_eq!(r.national.followed, 1);
    // 2.5 + 1 = 3.5 mSv (1 à 6), not 25 + 2.5 + 1 (> 20).
    assert_eq!(r.national.collective_usv, 3_500);
    assert_eq!(r.national.bands.get(DoseBand::OneToSix), 1);
}

#[test]
fn a_sector_that_reads_as_a_formula_is_written_as_text_in_the_csv() {
    let env = env();
    let w = employed(&env, EST, 1, "=HYPERLINK(\"x\")", "-Soudeur");
    dose(&env, EST, w, DoseKind::Passive, "2025-01-31", 1.0);
    let conn = env.pool.get().expect("pool");
    let r = annual_report(&conn, 2025).expect("annual_report");
    let csv = String::from_utf8(to_csv(&r, &[])).expect("utf-8");
    assert!(!csv.contains(";=HYPERLINK"), "{csv}");
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(csv.contains(";'-Soudeur;"), "{csv}");
}
