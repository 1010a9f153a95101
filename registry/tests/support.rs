//! Shared by the registry's integration tests (`#[path = "support.rs"] mod support;`): a real
//! SQLite file in a temporary directory, migrated like the binary does it, a fake clock, and the
//! seed's people.
#![allow(dead_code)]

use std::fmt::Write;
use std::sync::Arc;

use registry::{
    Applied, Fraction, ImportSummary, Operation, Principal, Registry, Role, WorkerInput,
    WorkerQuery,
};
use store::pool::Pool;
use store::FakeClock;
use tempfile::TempDir;
use time::macros::datetime;

/// The dental surgery of Dr DURAND (the seed's establishment).
pub const EST: i64 = 1;
/// Another employer, whose data nobody here is attached to.
pub const OTHER: i64 = 2;

#[path = "../../enroll/tests/data/fixtures.rs"]
mod fixtures;
/// The seed's worker, Valérie DIDIER.
pub const SEED_WORKER: &str = fixtures::WORKER;
/// The seed's CSV list, BOM included.
pub const SEED_CSV: &str = fixtures::WORKERS_CSV;

#[derive(Debug)]
pub struct Env {
    pub dir: TempDir,
    pub pool: Arc<Pool>,
    pub clock: Arc<FakeClock>,
    pub registry: Registry,
}

/// A fresh database with the migrations of `ca` (for the audit log) and of the registry, and a
/// clock stopped on 30 June 2025.
pub fn env() -> Env {
    let dir = tempfile::tempdir().expect("tempdir failed");
    let path = dir.path().join("siseri.db");
    let mut conn = store::pool::open(&path).expect("open failed");
    store::migrate::apply(&mut conn, "store", store::migrate::MIGRATIONS).expect("apply failed");
    store::migrate::apply(&mut conn, "registry", registry::migrations::MIGRATIONS)
        .expect("apply failed");
    // The surgery has named DOSILAB as its dosimetry body (see `body`).
    conn.execute(
        "INSERT INTO registry_dosimetry_bodies (establishment_id, name, declared_by, declared_at)
         VALUES (?1, 'DOSILAB', 'operator:test', '2025-06-01T08:00:00Z')",
        [EST],
    )
    .expect("execute failed");
    drop(conn);
    let pool = Arc::new(Pool::new(&path, 4));
    let clock = Arc::new(FakeClock::at(datetime!(2025-06-30 10:00 UTC)));
    let registry = Registry::new(pool.clone(), clock.clone());
    Env {
        dir,
        pool,
        clock,
        registry,
    }
}

/// The CSE of the surgery.
pub fn cse() -> Principal {
    Principal::accessor("42001", [(EST, Role::Cse)])
}

/// The external PCR: PCR of the surgery and of forty other clients, CSE of their own company.
pub fn pcr() -> Principal {
    let mut attachments = vec![(EST, Role::Pcr), (1000, Role::Cse)];
    attachments.extend((1001..1040).map(|id| (id, Role::Pcr)));
    Principal::accessor("42003", attachments)
}

/// The occupational physician.
pub fn mdt() -> Principal {
    Principal::accessor("42005", [(EST, Role::Mdt)])
}

/// A dosimetry body serving the surgery: the surgery has named it (see `env`).
pub fn body() -> Principal {
    Principal::dosimetry_body("DOSILAB", [EST])
}

/// A dosimetry body with a valid certificate that the surgery has not named, attached (as the
/// listener attaches a body) to the surgery because its request names it.
pub fn stranger_body() -> Principal {
    Principal::dosimetry_body("AUTRELAB", [EST])
}

pub fn seed_worker() -> WorkerInput {
    serde_json::from_str(SEED_WORKER).expect("from_str failed")
}

/// `input` applied to the surgery's list by its CSE.
pub fn apply(env: &Env, input: &WorkerInput) -> Applied {
    env.registry
        .apply_worker(&cse(), EST, input)
        .expect("apply_worker failed")
}

/// The id of the worker `input` adds (or changes) on the surgery's list.
pub fn add(env: &Env, input: &WorkerInput) -> i64 {
    apply(env, input).worker_id
}

/// The id of the seed's worker, added to the surgery's list.
pub fn seed_worker_id(env: &Env) -> i64 {
    add(env, &seed_worker())
}

/// The card number the surgery's list gives `input` when it asks for a new card.
pub fn new_card(env: &Env, mut input: WorkerInput) -> String {
    input.new_card = true;
    let applied = apply(env, &input);
    applied
        .card_number
        .expect("no card number")
        .as_str()
        .to_owned()
}

/// The form's line that takes the seed's worker off the list.
pub fn seed_removal() -> WorkerInput {
    WorkerInput {
        operation: Some(Operation::Remove),
        nir: Some("2760912346445".into()),
        nir_key: Some("12".into()),
        ..WorkerInput::default()
    }
}

/// The surgery's fraction `name`, created by its CSE.
pub fn create_fraction(env: &Env, name: &str) -> Fraction {
    env.registry
        .create_fraction(&cse(), EST, name)
        .expect("create_fraction failed")
}

/// `file` imported into the surgery's list by its CSE.
pub fn import(env: &Env, file: &str) -> ImportSummary {
    env.registry
        .import_workers(&cse(), EST, file.as_bytes())
        .expect("import_workers failed")
}

/// The last names the CSE's search `q` finds on the surgery's list, in its order.
pub fn last_names(env: &Env, q: &WorkerQuery) -> Vec<String> {
    env.registry
        .search_workers(&cse(), EST, q)
        .expect("search_workers failed")
        .items
        .iter()
        .map(|v| v.last_name().to_owned())
        .collect()
}

/// A worker line with the given names and NIR (number, key), everything else empty.
pub fn worker(last: &str, first: &str, nir: &str, key: &str) -> WorkerInput {
    WorkerInput {
        operation: Some(registry::Operation::Add),
        last_name: Some(last.into()),
        first_name: Some(first.into()),
        nir: Some(nir.into()),
        nir_key: Some(key.into()),
        ..WorkerInput::default()
    }
}

/// The key of a 13-digit NIR (no Corsica).
pub fn key_of(number: &str) -> String {
    let n: u64 = number.parse().expect("parse failed");
    format!("{:02}", 97 - n % 97)
}

/// A valid NIR number for `i`, all distinct for i < 900,000.
pub fn nir_number(i: u32) -> String {
    let sex = 1 + i % 2;
    let month = 1 + (i / 2) % 12;
    let departement = 1 + (i / 24) % 95;
    let order = 1 + (i / 2280) % 999;
    let commune = 1 + (i / 2_277_720) % 999;
    format!("{sex}70{month:02}{departement:02}{commune:03}{order:03}")
}

/// Every audit row: (actor, action, target, details).
pub fn audit_rows(env: &Env) -> Vec<(String, String, String, String)> {
    let conn = env.pool.get().expect("get failed");
    let mut stmt = conn
        .prepare("SELECT actor, action, target, details FROM audit_log ORDER BY seq")
        .expect("prepare failed");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query_map failed")
        .collect::<Result<_, _>>()
        .expect("a row failed")
}

/// Checks the audit chain.
pub fn verify_audit(env: &Env) -> u64 {
    let conn = env.pool.get().expect("get failed");
    store::audit::verify(&conn).expect("verify failed").entries
}

/// `i` written in letters, `A`…`Z`, `BA`…: names hold no digits.
pub fn letters(mut i: u32) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A list of `rows` distinct workers, one card number every other line, twenty fractions:
/// the lines of `scripts/bench_workers_csv.py`.
pub fn large_file(rows: u32) -> String {
    let mut out = String::with_capacity(rows as usize * 160);
    out.push('\u{feff}');
    out.push_str(registry::CSV_HEADER);
    out.push('\n');
    for i in 0..rows {
        let number = nir_number(i);
        let key = key_of(&number);
        let card = if i % 2 == 0 {
            format!("C{:08}", i + 1)
        } else {
            String::new()
        };
        writeln!(
            out,
            "NOM{};;Prénom{};;{number};{key};;Fraction {};B;Manipulateur radio;1-Exposition externe;CDI;1.0;1-Civile;100000-Utilisations medicales et veterinaires;101000-Radiologie;{card}",
            letters(i),
            letters(i % 97),
            letters(i % 20)
        )
        .expect("writeln!() failed");
    }
    out
}
