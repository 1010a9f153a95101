//! How fast a large workers list imports. Ignored by default (it wants a release build):
//! `cargo test --release -p registry --test import_speed -- --ignored --nocapture`.
//! `SISERI_IMPORT_ROWS` sets the number of lines (1,000,000 by default).
#![allow(clippy::unwrap_used)]

#[path = "support.rs"]
mod support;

use std::fmt::Write;
use std::time::Instant;

use registry::CSV_HEADER;
use support::*;

fn file(rows: u32) -> String {
    let mut out = String::with_capacity(rows as usize * 160);
    out.push('\u{feff}');
    out.push_str(CSV_HEADER);
    out.push('\n');
    for i in 0..rows {
        let number = nir_number(i);
        let key = key_of(&number);
        let card = if i % 2 == 0 { format!("C{:08}", i + 1) } else { String::new() };
        writeln!(
            out,
            "NOM{i};;Prénom{};;{number};{key};;Fraction {};B;Manipulateur radio;1-Exposition externe;CDI;1.0;1-Civile;100000-Utilisations medicales et veterinaires;101000-Radiologie;{card}",
            i % 97,
            i % 20
        )
        .unwrap();
    }
    out
}

#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn a_million_line_import_runs_above_a_hundred_thousand_lines_a_second() {
    let rows: u32 = std::env::var("SISERI_IMPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let env = env();
    let csv = file(rows);
    let start = Instant::now();
    let summary = env.registry.import_workers(&cse(), EST, csv.as_bytes()).unwrap();
    let elapsed = start.elapsed();
    let rate = f64::from(rows) / elapsed.as_secs_f64();
    println!(
        "import: {rows} lines in {:.2} s, {rate:.0} lines/s ({} MB)",
        elapsed.as_secs_f64(),
        csv.len() / 1_000_000
    );
    assert_eq!(summary.created, u64::from(rows));

    let start = Instant::now();
    let mut out = Vec::with_capacity(csv.len());
    env.registry.export_workers(&cse(), EST, &mut out).unwrap();
    println!("export: {:.2} s", start.elapsed().as_secs_f64());

    // Again, every line an update.
    let start = Instant::now();
    let summary = env.registry.import_workers(&cse(), EST, out.as_slice()).unwrap();
    println!("re-import (updates): {:.2} s", start.elapsed().as_secs_f64());
    assert_eq!(summary.updated, u64::from(rows));
    if !cfg!(debug_assertions) {
        assert!(rate > 100_000.0, "{rate:.0} lines/s");
    }
}
