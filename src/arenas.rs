//! Bounds glibc's malloc arenas for the daemon.
//!
//! glibc gives a thread that allocates while another holds the arena an arena of its own, up to
//! eight per core, and memory freed in one is not reused by another: with the registry's reads
//! running side by side (`store::gate`), a million-worker list's pages took the daemon from
//! 87 MB to 119 MB. Four arenas keep it at 88 MB for the same work (BENCHMARKS.md); two did as
//! well, but ten thousand connections then waited on the arenas' locks (the registry's p99
//! under a flood rose). glibc reads `MALLOC_ARENA_MAX` only when the process starts, and
//! setting it from inside (`mallopt`) needs `unsafe`, which this crate forbids: so `siseri
//! serve` started without it runs itself again, at once, with `MALLOC_ARENA_MAX=4` (same PID,
//! arguments and environment otherwise). An operator's own value is kept.

use std::ffi::OsString;

/// The variable glibc reads.
pub const VAR: &str = "MALLOC_ARENA_MAX";
/// Four arenas: two per core on the machine it was measured on, a quarter of glibc's default.
pub const ARENAS: &str = "4";

/// Replaces this process by itself with [`VAR`] set, when it is not; returns only when it is
/// set already, or when the replacement failed (said on stderr: the daemon then runs as it is).
pub fn bound() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    use std::os::unix::process::CommandExt;
    let error = std::process::Command::new(exe)
        .args(args)
        .env(VAR, ARENAS)
        .exec();
    eprintln!("avertissement : {VAR} non fixé ({error}) ; le service continue sans");
}
