//! Issuance and PKCS#12 throughput, on every core: `cargo bench -p ca --bench issuance`
//! (`-- --quick` for small sizes). Prints one JSON object per measure; `scripts/bench.sh`
//! runs it beside the Python `cryptography` baseline and writes the ratios.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use ca::{
    build_p12, Authority, CaKeyAlgorithm, GeneratedKey, IssueRequest, P12Options, P12Profile,
    Policy, Subject, SubscriberKeyAlgorithm,
};
use rusqlite::Connection;

const PASSPHRASE: &str = "bench";

fn open(path: &std::path::Path) -> Connection {
    let mut conn = Connection::open(path).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(60))
        .unwrap();
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
        .unwrap();
    ca::migrations::apply(&mut conn).unwrap();
    conn
}

/// Runs `per_worker` operations on each of `workers` threads; returns operations per second.
fn measure(workers: usize, per_worker: usize, op: impl Fn(usize, usize) + Sync) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for w in 0..workers {
            let op = &op;
            s.spawn(move || {
                for i in 0..per_worker {
                    op(w, i);
                }
            });
        }
    });
    (workers * per_worker) as f64 / start.elapsed().as_secs_f64()
}

fn report(name: &str, workers: usize, per_second: f64) {
    println!(
        "{{\"impl\": \"siseri\", \"measure\": \"{name}\", \"workers\": {workers}, \"per_second\": {per_second:.2}}}"
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let dir = tempfile::TempDir::new().unwrap();
    let now = time::OffsetDateTime::now_utc();
    let policy = Policy::default();
    let ceremony =
        Authority::create_root(CaKeyAlgorithm::EcdsaP256, &policy, PASSPHRASE, now).unwrap();
    let authority = Authority::load(
        &ceremony.certificate_pem.unwrap(),
        &ceremony.encrypted_key_pem,
        PASSPHRASE,
        policy,
    )
    .unwrap();
    let db = dir.path().join("bench.db");
    drop(open(&db));
    let conns: Vec<_> = (0..workers)
        .map(|_| std::sync::Mutex::new(open(&db)))
        .collect();

    let person = |w: usize, i: usize| Subject::Person {
        first_name: "Pierre".into(),
        last_name: "DILLENSEGER".into(),
        habilitation: (w * 1_000_000 + i) as u64,
        email: "p.dillenseger@alara.example".into(),
    };
    let issue = |w: usize, i: usize, key: &GeneratedKey| {
        let mut conn = conns[w].lock().unwrap();
        authority
            .issue(
                &mut conn,
                &IssueRequest {
                    subject: person(w, i),
                    key: key.public(),
                    requester: "bench",
                },
                time::OffsetDateTime::now_utc(),
            )
            .unwrap()
    };

    // Signing alone must never be the bottleneck.
    let n = if quick { 100 } else { 2000 };
    let rate = measure(workers, n / workers, |w, i| {
        let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
        issue(w, i, &key);
    });
    report("issue_p256", workers, rate);

    // End to end per person: key generation, recorded issuance, signature, PKCS#12.
    for iterations in [2048u32, 100_000] {
        let n = match (quick, iterations) {
            (true, 2048) => 20,
            (true, _) => 4,
            (false, 2048) => 400,
            (false, _) => 40,
        };
        let rate = measure(workers, n / workers, |w, i| {
            let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
            let issued = issue(w, i, &key);
            let password = store::random::p12_password().unwrap();
            build_p12(
                key,
                &issued.der,
                authority.certificate_der(),
                "Pierre DILLENSEGER",
                &password,
                P12Options {
                    profile: P12Profile::Modern,
                    iterations,
                },
            )
            .unwrap();
        });
        report(&format!("person_p12_{iterations}"), workers, rate);
        let single = measure(1, (n / workers).max(2), |_, i| {
            let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
            let issued = issue(0, 500_000 + i, &key);
            build_p12(
                key,
                &issued.der,
                authority.certificate_der(),
                "Pierre DILLENSEGER",
                "AAAA-BBBB",
                P12Options {
                    profile: P12Profile::Modern,
                    iterations,
                },
            )
            .unwrap();
        });
        report(&format!("person_p12_{iterations}"), 1, single);
    }
}
