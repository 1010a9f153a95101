//! One request cannot make the daemon hold what it sends: a 300 MB CSV line sent to the
//! registry's import, and a 300 MB form field sent to its import page, leave the daemon's peak
//! memory under 150 MB, and nothing is imported.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::enrolment::enrolled;
use common::fixtures::PROTOCOL;
use common::{require_tool, Sandbox};

const HUGE: u64 = 300 * 1024 * 1024;
const LIMIT: u64 = 150 * 1024 * 1024;

/// `curl` as the CSE of the seed (certificate and session cookie): (status, body).
fn curl(sb: &Sandbox, addr: &str, args: &[&str], path: &str) -> (u16, String) {
    let h = &enrolled_cse(sb);
    let out = Command::new(require_tool("curl"))
        .args([
            "-sS",
            "--max-time",
            "300",
            "-w",
            "\n%{http_code}",
            "--cacert",
        ])
        .arg(sb.data_file("ca/ac-siseri.pem"))
        .args(["--cert", &format!("{}:{}", h.0, h.1), "--cert-type", "P12"])
        .args(["-b", &h.2, "-c", &h.2])
        .args(args)
        .arg(format!("https://{addr}{path}"))
        .stdin(Stdio::null())
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (status.trim().parse().unwrap_or(0), body.to_owned())
}

/// The CSE's `.p12`, its password and a cookie jar, kept in the sandbox by the first call.
fn enrolled_cse(sb: &Sandbox) -> (String, String, String) {
    let saved = sb.path("cse.txt");
    let text = std::fs::read_to_string(&saved).expect("enrolment saved");
    let mut parts = text.lines().map(str::to_owned);
    (
        parts.next().expect("p12"),
        parts.next().expect("password"),
        sb.path("jar").display().to_string(),
    )
}

/// A file of the header line then one line of `HUGE` bytes, written by pieces.
fn huge_line_file(path: &Path, before: &[u8]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    f.write_all(before).expect("write");
    let chunk = vec![b'A'; 1 << 20];
    for _ in 0..HUGE >> 20 {
        f.write_all(&chunk).expect("write");
    }
    f.flush().expect("flush");
}

#[test]
fn a_300_mb_line_or_field_leaves_the_daemon_under_150_mb_and_imports_nothing() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[PROTOCOL]);
    let cse = holders
        .iter()
        .find(|h| h.email.starts_with("v.durand"))
        .expect("the seed's correspondent");
    std::fs::write(
        sb.path("cse.txt"),
        format!("{}\n{}\n", cse.p12.display(), cse.password),
    )
    .expect("write");
    let (server, addr) = sb.serve_registry("serve.log");
    let (status, body) = curl(
        &sb,
        &addr,
        &[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &format!("{{\"access_code\":\"{}\"}}", cse.access_code),
        ],
        "/api/v1/session",
    );
    assert_eq!(status, 200, "{body}");
    let (_, establishments) = curl(&sb, &addr, &[], "/api/v1/establishments");
    let list: serde_json::Value = serde_json::from_str(&establishments).expect("JSON");
    let id = list[0]["id"].as_i64().expect("an establishment");

    // The API: one endless line after the header.
    let csv = sb.path("huge.csv");
    huge_line_file(&csv, format!("{}\n", registry::CSV_HEADER).as_bytes());
    let (status, body) = curl(
        &sb,
        &addr,
        &[
            "-H",
            "Content-Type: text/csv",
            "--data-binary",
            &format!("@{}", csv.display()),
        ],
        &format!("/api/v1/establishments/{id}/workers/import"),
    );
    // The refusal may come before curl has sent everything: then the status is lost with the
    // connection, but never is the line taken.
    if status != 0 {
        assert_eq!(status, 413, "{body}");
        assert!(body.contains("import_line_too_long"), "{body}");
    }
    std::fs::remove_file(&csv).expect("remove");

    // The page: a form field of 300 MB where a 64-character token is expected.
    let field = sb.path("field.bin");
    huge_line_file(&field, b"");
    let (status, _) = curl(
        &sb,
        &addr,
        &["-F", &format!("csrf=<{}", field.display())],
        &format!("/etablissements/{id}/travailleurs/importer"),
    );
    assert!(status == 0 || status == 400, "status {status}");
    std::fs::remove_file(&field).expect("remove");

    let peak = server.peak_rss();
    assert!(peak < LIMIT, "peak RSS {} MB", peak >> 20);
    let (_, workers) = curl(
        &sb,
        &addr,
        &[],
        &format!("/api/v1/establishments/{id}/workers"),
    );
    let workers: serde_json::Value = serde_json::from_str(&workers).expect("JSON");
    assert_eq!(
        workers["items"].as_array().map(Vec::len),
        Some(0),
        "{workers}"
    );
}
