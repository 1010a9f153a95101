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
        .filter(|(name, _)| name == "siseri-public")
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
    // The plain-HTTP publication is anonymous too.
    assert!(
        threads
            .iter()
            .filter(|(name, _)| name == "siseri-pki")
            .all(|(_, nice)| *nice == lowered),
        "{threads:?}"
    );
    assert!(
        registry.iter().all(|(_, nice)| *nice == base),
        "{threads:?}"
    );
}

/// Each thread of `pid` as (name, the CPUs it may run on), from `/proc`.
fn affinities(pid: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("no /proc") {
        let task = task.expect("task").path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
        let Some(cpus) = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        else {
            continue;
        };
        out.push((name.trim().to_owned(), cpus.trim().to_owned()));
    }
    out
}

#[test]
fn the_public_listeners_threads_leave_a_cpu_to_the_registry() {
    // The CPUs this test may use, as the daemon will inherit them.
    let mine = std::fs::read_to_string("/proc/self/status")
        .expect("no /proc")
        .lines()
        .find_map(|l| {
            l.strip_prefix("Cpus_allowed_list:")
                .map(|v| v.trim().to_owned())
        })
        .expect("no Cpus_allowed_list");
    let sb = Sandbox::initialised();
    let (server, _) = sb.serve("serve.log", &[]);
    // The public side has threads (workers, the OCSP job) as soon as it listens.
    let threads = affinities(server.pid());
    let public: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name == "siseri-public" || name == "siseri-ocsp")
        .collect();
    let registry: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name == "siseri-registre")
        .collect();
    assert!(!public.is_empty() && !registry.is_empty(), "{threads:?}");
    assert!(
        registry.iter().all(|(_, cpus)| *cpus == mine),
        "the registry's threads must run on every CPU ({mine}): {threads:?}"
    );
    // The plain-HTTP publication (OCSP signed ahead) is not confined either.
    let publication: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name == "siseri-pki")
        .collect();
    assert!(
        !publication.is_empty() && publication.iter().all(|(_, cpus)| *cpus == mine),
        "{threads:?}"
    );
    let expanded = |list: &str| -> Vec<usize> {
        list.split(',')
            .flat_map(|part| {
                let (a, b) = part.split_once('-').unwrap_or((part, part));
                let (a, b): (usize, usize) = (a.parse().expect("cpu"), b.parse().expect("cpu"));
                a..=b
            })
            .collect()
    };
    let all = expanded(&mine);
    if all.len() < 2 {
        // One CPU: nothing to share, the public side keeps it.
        assert!(public.iter().all(|(_, cpus)| *cpus == mine), "{threads:?}");
        eprintln!("one CPU only ({mine}): the confinement itself is not exercised here");
    } else {
        for (name, cpus) in &public {
            assert_eq!(
                expanded(cpus),
                all[1..].to_vec(),
                "{name}: the public side must leave CPU {} to the registry",
                all[0]
            );
        }
    }
    let log = std::fs::read_to_string(sb.path("serve.log")).unwrap_or_default();
    assert!(log.contains("processeurs :"), "{log}");
}

/// `siseri serve` with `cpus` as `public_cpus`, expected to refuse to start: its stderr.
fn refused_start(sb: &Sandbox, cpus: &str) -> String {
    let mut child = sb
        .siseri(["serve"])
        .env("SISERI_LIMITS_PUBLIC_CPUS", cpus)
        .env("SISERI_LISTEN_PUBLIC", "127.0.0.1:0")
        .env("SISERI_LISTEN_REGISTRY", "127.0.0.1:0")
        .env("SISERI_LISTEN_ADMIN", "127.0.0.1:0")
        .env("SISERI_LISTEN_HTTP", "127.0.0.1:0")
        .env("SISERI_LISTEN_CONSOLE", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run siseri");
    // A liveness bound, not a performance check: a daemon that starts would run forever.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait failed") {
            assert!(!status.success(), "serve exited successfully");
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve started with public_cpus = {cpus:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("read failed");
    err
}

#[test]
fn a_public_cpu_list_the_daemon_cannot_use_is_refused_in_french() {
    let sb = Sandbox::initialised();
    let err = refused_start(&sb, "1020-1023");
    assert!(
        err.contains("public_cpus") && err.contains("disponible"),
        "{err}"
    );
    let err = refused_start(&sb, "deux");
    assert!(
        err.contains("public_cpus") && err.contains("« deux »"),
        "{err}"
    );
}
