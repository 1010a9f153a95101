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

/// One thread of the daemon, from `/proc`.
#[derive(Debug)]
struct Thread {
    name: String,
    nice: i64,
    /// The CPUs it may run on, as the kernel lists them (`0-1`).
    cpus: String,
}

/// Each thread of `pid`.
fn threads(pid: u32) -> Vec<Thread> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("no /proc") {
        let task = task.expect("task").path();
        let name = std::fs::read_to_string(task.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(task.join("stat")).unwrap_or_default();
        let status = std::fs::read_to_string(task.join("status")).unwrap_or_default();
        // A thread that ended between the listing and the reads.
        let (Some((_, rest)), Some(cpus)) = (
            stat.rsplit_once(')'),
            status
                .lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:")),
        ) else {
            continue;
        };
        // After the name in parentheses: state is field 3, nice field 19.
        let nice = rest
            .split_whitespace()
            .nth(16)
            .and_then(|v| v.parse().ok())
            .expect("no nice in stat");
        out.push(Thread {
            name: name.trim().to_owned(),
            nice,
            cpus: cpus.trim().to_owned(),
        });
    }
    out
}

/// The threads named `name`; at least one.
fn named<'a>(threads: &'a [Thread], name: &str) -> Vec<&'a Thread> {
    let found: Vec<_> = threads.iter().filter(|t| t.name == name).collect();
    assert!(!found.is_empty(), "no thread {name}: {threads:?}");
    found
}

#[test]
fn the_public_listeners_threads_yield_the_cpu_to_the_registrys() {
    let sb = Sandbox::initialised();
    let (server, _) = sb.serve("serve.log", &[("SISERI_LIMITS_PUBLIC_NICE", "7")]);
    let threads = threads(server.pid());
    // The daemon's own nice (the test may run under `nice`): the registry keeps it, the
    // public listener's threads are 7 above it, and so are the plain-HTTP publication's
    // (anonymous too).
    let base = named(&threads, "siseri")[0].nice;
    let lowered = (base + 7).min(19);
    assert!(base < 19, "{threads:?}");
    for name in ["siseri-public", "siseri-pki"] {
        assert!(
            named(&threads, name).iter().all(|t| t.nice == lowered),
            "{threads:?}"
        );
    }
    assert!(
        named(&threads, "siseri-registre")
            .iter()
            .all(|t| t.nice == base),
        "{threads:?}"
    );
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
    let threads = threads(server.pid());
    // The registry and the plain-HTTP publication (OCSP signed ahead) run on every CPU.
    for name in ["siseri-registre", "siseri-pki"] {
        assert!(
            named(&threads, name).iter().all(|t| t.cpus == mine),
            "{name} must run on every CPU ({mine}): {threads:?}"
        );
    }
    // Read here independently of the daemon's own parser.
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
    let public = [
        named(&threads, "siseri-public"),
        named(&threads, "siseri-ocsp"),
    ]
    .concat();
    if all.len() < 2 {
        // One CPU: nothing to share, the public side keeps it.
        assert!(public.iter().all(|t| t.cpus == mine), "{threads:?}");
        eprintln!("one CPU only ({mine}): the confinement itself is not exercised here");
    } else {
        for t in &public {
            assert_eq!(
                expanded(&t.cpus),
                all[1..].to_vec(),
                "{}: the public side must leave CPU {} to the registry",
                t.name,
                all[0]
            );
        }
    }
    let log = std::fs::read_to_string(sb.path("serve.log")).unwrap_or_default();
    assert!(log.contains("processeurs :"), "{log}");
}

#[test]
fn a_public_cpu_list_the_daemon_cannot_use_is_refused_in_french() {
    let sb = Sandbox::initialised();
    let err = sb.serve_refused(&[("SISERI_LIMITS_PUBLIC_CPUS", "1020-1023")]);
    assert!(
        err.contains("public_cpus") && err.contains("disponible"),
        "{err}"
    );
    let err = sb.serve_refused(&[("SISERI_LIMITS_PUBLIC_CPUS", "deux")]);
    assert!(
        err.contains("public_cpus") && err.contains("« deux »"),
        "{err}"
    );
}
