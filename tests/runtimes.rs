//! The registry listener runs on its own runtime with its own, bounded, pool of blocking
//! threads (`[limits] registry_blocking_threads`): what holds the registry's threads leaves the
//! public listener's alone, and the bound holds.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::daemon::Daemon;
use common::enrolment::enrolled;
use common::fixtures::PROTOCOL;
use common::{require_tool, Sandbox};

#[test]
fn a_slow_import_holding_the_registrys_only_blocking_thread_leaves_the_public_listener_serving() {
    let d = Daemon::start(&[
        ("SISERI_LIMITS_REGISTRY_BLOCKING_THREADS", "1"),
        // The upload below stalls on purpose: no minimum body rate may end it first.
        ("SISERI_LIMITS_MIN_BODY_BYTES_PER_SEC", "0"),
    ]);
    let holders = enrolled(&d.sandbox, &[PROTOCOL]);
    let cse = holders
        .iter()
        .find(|h| h.email.starts_with("v.durand"))
        .expect("no CSE");
    let cert = d.registry_session(cse);
    let id = d.first_establishment(&cert);

    // An import whose upload keeps coming: it reads on the registry's one blocking thread.
    let mut import = Command::new(require_tool("curl"))
        .args(["-sS", "--http1.1", "--max-time", "120", "--cacert"])
        .arg(&d.ca)
        .args(&cert)
        .args([
            "-H",
            "Content-Type: text/csv",
            "-X",
            "POST",
            "-T",
            "-",
            "-o",
            "/dev/null",
        ])
        .arg(format!(
            "{}/api/v1/establishments/{id}/workers/import",
            d.registry
        ))
        .stdin(Stdio::piped())
        .spawn()
        .expect("cannot run curl");
    let mut upload = import.stdin.take().expect("no stdin");
    upload
        .write_all(
            common::fixtures::WORKERS_CSV
                .lines()
                .next()
                .unwrap_or("")
                .as_bytes(),
        )
        .expect("write failed");
    upload.write_all(b"\n").expect("write failed");
    upload.flush().expect("flush failed");
    // Until the registry's thread is taken; a registry request needing one then waits.
    let mut held = false;
    for _ in 0..30 {
        let probe = d.curl(
            "GET",
            &format!("{}/api/v1/establishments", d.registry),
            &[cert.clone(), vec!["--max-time".to_owned(), "2".to_owned()]].concat(),
            None,
        );
        if probe.exit == 28 {
            held = true;
            break;
        }
    }
    assert!(held, "the registry never ran out of blocking threads");

    // The public listener has its own threads: a withdrawal page looks its token up in the
    // database on one of them. (Not a write: the import holds the database's write lock.)
    let page = d.curl(
        "GET",
        &format!("{}/retrait/jeton-inconnu", d.public),
        &["--max-time".to_owned(), "30".to_owned()],
        None,
    );
    assert_eq!(page.exit, 0, "{}", page.stderr);
    assert!(
        page.text().contains("Retrait") || page.status == 404,
        "{}: {}",
        page.status,
        page.text()
    );

    drop(upload);
    let _ = import.wait();
    let after = d.curl(
        "GET",
        &format!("{}/api/v1/establishments", d.registry),
        &cert,
        None,
    );
    assert_eq!(after.status, 200, "{}", after.text());
}

/// Each thread of `pid` as (name, nice), from `/proc`.
fn threads(pid: u32) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("no /proc") {
        let task = task.expect("task").path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.join("stat")).unwrap_or_default();
        // After the name in parentheses: state is field 3, nice field 19.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let nice = rest
            .split_whitespace()
            .nth(16)
            .and_then(|v| v.parse().ok())
            .expect("no nice in stat");
        out.push((name.trim().to_owned(), nice));
    }
    out
}

#[test]
fn the_public_listeners_threads_yield_the_cpu_to_the_registrys() {
    let sb = Sandbox::initialised();
    let (server, _) = sb.serve("serve.log", &[("SISERI_LIMITS_PUBLIC_NICE", "7")]);
    let threads = threads(server.pid());
    // The daemon's own nice (the test may run under `nice`): the registry keeps it, the
    // public listener's threads are 7 above it.
    let base = threads
        .iter()
        .find(|(name, _)| name == "siseri")
        .map(|(_, nice)| *nice)
        .expect("no main thread");
    let public: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name.starts_with("tokio-r"))
        .collect();
    let registry: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name == "siseri-registre")
        .collect();
    assert!(!public.is_empty() && !registry.is_empty(), "{threads:?}");
    let lowered = (base + 7).min(19);
    assert!(
        base < 19 && public.iter().all(|(_, nice)| *nice == lowered),
        "{threads:?}"
    );
    assert!(
        registry.iter().all(|(_, nice)| *nice == base),
        "{threads:?}"
    );
}
