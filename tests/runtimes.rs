//! The registry listener runs on its own runtime with its own, bounded, pool of blocking
//! threads (`[limits] registry_blocking_threads`): what holds the registry's threads leaves the
//! public listener's alone, and the bound holds.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::daemon::Daemon;
use common::enrolment::enrolled;
use common::fixtures::PROTOCOL;
use common::require_tool;
use serde_json::json;

#[test]
fn a_slow_import_holding_the_registrys_only_blocking_thread_leaves_the_public_listener_serving() {
    let d = Daemon::start(&[("SISERI_LIMITS_REGISTRY_BLOCKING_THREADS", "1")]);
    let holders = enrolled(&d.sandbox, &[PROTOCOL]);
    let cse = holders
        .iter()
        .find(|h| h.email.starts_with("v.durand"))
        .expect("no CSE");
    let jar = d.sandbox.path("jar").display().to_string();
    let cert = vec![
        "--cert".to_owned(),
        format!("{}:{}", cse.p12.display(), cse.password),
        "--cert-type".to_owned(),
        "P12".to_owned(),
        "-b".to_owned(),
        jar.clone(),
        "-c".to_owned(),
        jar.clone(),
    ];
    let body = json!({"access_code": cse.access_code}).to_string();
    let login = d.curl(
        "POST",
        &format!("{}/api/v1/session", d.registry),
        &cert,
        Some(("application/json", body.as_bytes())),
    );
    assert_eq!(login.status, 200, "{}", login.text());
    let establishments = d.curl(
        "GET",
        &format!("{}/api/v1/establishments", d.registry),
        &cert,
        None,
    );
    let id = establishments.json()[0]["id"]
        .as_i64()
        .expect("no establishment");

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
