//! Bounds the daemon's allocators: glibc's malloc arenas (SQLite's memory) and how long
//! mimalloc (Rust's memory, `src/main.rs`) keeps memory freed before giving it back.
//!
//! glibc gives a thread that allocates while another holds the arena an arena of its own, up to
//! eight per core, and memory freed in one is not reused by another: with the registry's reads
//! running side by side (`store::gate`), a million-worker list's pages took the daemon from
//! 87 MB to 119 MB. Four arenas keep it at 88 MB for the same work (BENCHMARKS.md); two did as
//! well, but ten thousand connections then waited on the arenas' locks (the registry's p99
//! under a flood rose). Since the Rust side allocates through mimalloc, glibc's arenas hold
//! what SQLite allocates (page caches, statements, sorters).
//!
//! mimalloc gives freed pages back to the system a second after they were freed, by default:
//! the workers list's import held on to them meanwhile and the daemon's peak went from 87 to
//! 105 MB (goal: under 100). At once (`MIMALLOC_PURGE_DELAY=0`) it is 77 MB, and a
//! transmission's speed did not move (BENCHMARKS.md).
//!
//! Both allocators read their settings from the environment only when the process starts, and
//! setting them from inside (`mallopt`, `mi_option_set`) needs `unsafe`, which this crate
//! forbids: so `siseri serve` started without them runs itself again, at once, with them set
//! (same PID, arguments and environment otherwise). An operator's own values are kept.

use std::ffi::OsString;

/// The variables the allocators read, and the values the daemon runs with.
pub const SETTINGS: [(&str, &str); 2] = [
    // Four arenas: two per core on the machine it was measured on, a quarter of glibc's default.
    ("MALLOC_ARENA_MAX", "4"),
    // Freed memory goes back to the system at once.
    ("MIMALLOC_PURGE_DELAY", "0"),
];

/// Replaces this process by itself with [`SETTINGS`] set, when one is not; returns only when
/// they are all set already, or when the replacement failed (said on stderr: the daemon then
/// runs as it is).
pub fn bound() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    let unset: Vec<(&str, &str)> = SETTINGS
        .into_iter()
        .filter(|(var, _)| std::env::var_os(var).is_none())
        .collect();
    if unset.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new(exe)
        .args(args)
        .envs(unset.iter().copied())
        .exec();
    for (var, _) in &unset {
        eprintln!("avertissement : {var} non fixé ({error}) ; le service continue sans");
    }
}
