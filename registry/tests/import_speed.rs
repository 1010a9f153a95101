//! How fast a large workers list imports. Ignored by default (it wants a release build):
//! `cargo test --release -p registry --test import_speed -- --ignored --nocapture`.
//! `SISERI_IMPORT_ROWS` sets the number of lines (1,000,000 by default); `SISERI_IMPORT_ONLY`
//! stops after the first import (for profiling it); `SISERI_IMPORT_MIN_RATE` makes a rate below
//! it (lines/s) fail. The wall clock depends on what else the machine runs: the CPU time of the
//! writing thread is printed too, as it is what bounds the rate on an idle machine.

#[path = "support.rs"]
mod support;

use std::time::Instant;

use support::*;

/// CPU seconds this process used so far (user + system), on Linux; 0 elsewhere. The machine
/// may be shared: CPU time says more than the wall clock there.
fn cpu_seconds() -> f64 {
    cpu_of("/proc/self/stat")
}

/// CPU seconds of the calling thread (the writing one, in an import).
fn thread_cpu_seconds() -> f64 {
    cpu_of("/proc/thread-self/stat")
}

fn cpu_of(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

#[test]
#[ignore = "benchmark: run in release with --ignored"]
fn a_million_line_import_is_timed_and_counted() {
    let rows: u32 = std::env::var("SISERI_IMPORT_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let env = env();
    let csv = large_file(rows);
    let (start, cpu, writer) = (Instant::now(), cpu_seconds(), thread_cpu_seconds());
    let summary = import(&env, &csv);
    let elapsed = start.elapsed();
    let (cpu, writer) = (cpu_seconds() - cpu, thread_cpu_seconds() - writer);
    let rate = f64::from(rows) / elapsed.as_secs_f64();
    println!(
        "import: {rows} lines in {:.2} s ({cpu:.2} s CPU, {writer:.2} s on the writing thread), \
         {rate:.0} lines/s ({} MB)",
        elapsed.as_secs_f64(),
        csv.len() / 1_000_000
    );
    assert_eq!(summary.created, u64::from(rows));
    if let Some(min) = std::env::var("SISERI_IMPORT_MIN_RATE")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        assert!(rate >= min, "{rate:.0} lines/s, below {min}");
    }
    if std::env::var_os("SISERI_IMPORT_ONLY").is_some() {
        return;
    }

    let start = Instant::now();
    let mut out = Vec::with_capacity(csv.len());
    env.registry.export_workers(&cse(), EST, &mut out).unwrap();
    println!("export: {:.2} s", start.elapsed().as_secs_f64());

    // Again, every line an update.
    let (start, cpu) = (Instant::now(), cpu_seconds());
    let summary = env
        .registry
        .import_workers(&cse(), EST, out.as_slice())
        .unwrap();
    println!(
        "re-import (updates): {:.2} s ({:.2} s CPU)",
        start.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
    );
    assert_eq!(summary.updated, u64::from(rows));
}
