//! The daemon runs with glibc's malloc arenas bounded (`src/arenas.rs`): started without
//! `MALLOC_ARENA_MAX`, it runs itself again with it set to 4, under the same PID; an
//! operator's own value is kept.

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
fn serve_bounds_its_arenas_and_keeps_an_operators_value() {
    // The test's own environment passes to the daemon: a value set there is an operator's.
    let inherited = std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "4".into());
    for (given, expected) in [
        (None, format!("MALLOC_ARENA_MAX={inherited}")),
        (Some("8"), "MALLOC_ARENA_MAX=8".to_owned()),
    ] {
        let sb = Sandbox::initialised();
        let env: Vec<(&str, &str)> = given.map(|v| ("MALLOC_ARENA_MAX", v)).into_iter().collect();
        let (server, _listening) = sb.serve("serve.log", &env);
        let pid = server.pid();
        let vars = environ(pid);
        assert!(
            vars.contains(&expected),
            "{expected} missing from the daemon's environment (given {given:?})"
        );
        assert_eq!(
            vars.iter()
                .filter(|v| v.starts_with("MALLOC_ARENA_MAX="))
                .count(),
            1
        );
        drop(server);
    }
}
