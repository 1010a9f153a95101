//! The daemon runs with its allocators bounded (`src/arenas.rs`): started without
//! `MALLOC_ARENA_MAX` or `MIMALLOC_PURGE_DELAY`, it runs itself again with them set (4 and 0),
//! under the same PID; an operator's own values are kept.

mod common;

use common::Sandbox;

/// The daemon's environment, as the kernel shows it.
fn environ(pid: u32) -> Vec<String> {
    let raw = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
    raw.split(|b| *b == 0)
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

#[test]
fn serve_bounds_its_allocators_and_keeps_an_operators_values() {
    for (var, default, operators) in [
        ("MALLOC_ARENA_MAX", "4", "8"),
        ("MIMALLOC_PURGE_DELAY", "0", "250"),
    ] {
        // The test's own environment passes to the daemon: a value set there is an operator's.
        let inherited = std::env::var(var).unwrap_or_else(|_| default.into());
        for (given, expected) in [
            (None, format!("{var}={inherited}")),
            (Some(operators), format!("{var}={operators}")),
        ] {
            let sb = Sandbox::initialised();
            let env: Vec<(&str, &str)> = given.map(|v| (var, v)).into_iter().collect();
            let (server, _listening) = sb.serve("serve.log", &env);
            let pid = server.pid();
            let vars = environ(pid);
            assert!(
                vars.contains(&expected),
                "{expected} missing from the daemon's environment (given {given:?})"
            );
            let prefix = format!("{var}=");
            assert_eq!(vars.iter().filter(|v| v.starts_with(&prefix)).count(), 1);
            drop(server);
        }
    }
}
