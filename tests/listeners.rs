//! The listeners under abuse: one daemon per data directory, slow headers cut off, a flood from
//! one address that leaves the others served, and a SIGTERM that lets the request in flight
//! finish. Driven with curl and raw TCP, as an attacker would.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixtures::PROTOCOL;
use common::{listening_addr, require_tool, tls_client, Sandbox};

#[test]
fn a_second_serve_on_the_same_data_directory_is_refused() {
    let sb = Sandbox::initialised();
    let (_server, _) = sb.serve("serve.log", &[]);
    // Without the lock, the second daemon would serve on other ports (and the helper panic).
    let stderr = sb.serve_refused(&[]);
    assert!(
        stderr.contains("utilise déjà le répertoire de données"),
        "{stderr}"
    );
}

#[test]
fn a_client_that_sends_its_headers_slowly_is_cut_off() {
    let sb = Sandbox::initialised();
    let (_server, listening) = sb.serve("serve.log", &[("SISERI_LIMITS_HEADER_READ_SECS", "2")]);
    let addr = listening_addr(&listening, "public");
    let mut tls = tls_client(&sb.data_file("ca/ac-siseri.pem"), &addr);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .expect("first line");
    let start = Instant::now();
    let mut closed = false;
    // A header line every half second, forever: the server must close before 30 s (the
    // configured limit is 2 s; the margin is for a loaded machine, not a measure).
    while start.elapsed() < Duration::from_secs(30) {
        if tls.write_all(b"X-Slow: 1\r\n").is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 512];
        match tls.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => {
                // hyper answers 408 before closing: the header was refused, not served.
                let text = String::from_utf8_lossy(&buf);
                assert!(text.starts_with("HTTP/1.1 408"), "{text}");
                closed = true;
                break;
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(closed, "the slow-header connection was kept open");
}

#[test]
fn a_client_that_sends_its_body_a_byte_at_a_time_is_cut_off() {
    let sb = Sandbox::initialised();
    let (_server, listening) = sb.serve(
        "serve.log",
        &[
            ("SISERI_LIMITS_MIN_BODY_BYTES_PER_SEC", "100"),
            ("SISERI_LIMITS_BODY_RATE_WINDOW_SECS", "2"),
        ],
    );
    let addr = listening_addr(&listening, "public");
    let mut tls = tls_client(&sb.data_file("ca/ac-siseri.pem"), &addr);
    tls.write_all(
        b"POST /api/v1/protocols HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{",
    )
    .expect("head");
    let start = Instant::now();
    let mut answer = String::new();
    // A byte every 200 ms (5 bytes/s against a minimum of 100): without a minimum rate the
    // connection would be held for the whole request_secs (300 s).
    while start.elapsed() < Duration::from_secs(60) {
        if tls.write_all(b" ").and_then(|()| tls.flush()).is_err() {
            break;
        }
        let mut buf = [0u8; 1024];
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.push_str(&String::from_utf8_lossy(&buf[..n])),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        if answer.contains("\r\n\r\n{") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "the slow body was not refused with a 408: {answer:?}"
    );
    assert!(answer.contains("\"request_timeout\""), "{answer}");
}

#[test]
fn a_keep_alive_connection_left_silent_is_closed() {
    let sb = Sandbox::initialised();
    let (_server, listening) = sb.serve(
        "serve.log",
        &[
            ("SISERI_LIMITS_IDLE_SECS", "2"),
            ("SISERI_LIMITS_HEADER_READ_SECS", "600"),
        ],
    );
    let addr = listening_addr(&listening, "public");
    let mut tls = tls_client(&sb.data_file("ca/ac-siseri.pem"), &addr);
    tls.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("request");
    let start = Instant::now();
    let mut answered = Vec::new();
    let mut closed = false;
    // The answer, then silence: the server must close before 60 s (configured: 2 s; the
    // header timeout, 600 s, cannot be what closes it).
    while start.elapsed() < Duration::from_secs(60) {
        let mut buf = [0u8; 1024];
        match tls.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => answered.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(String::from_utf8_lossy(&answered).starts_with("HTTP/1.1 200"));
    assert!(closed, "the silent connection was kept open");
}

/// `curl` from `interface` to `url`: the HTTP status, or `None` when no answer came.
fn status_from(sb: &Sandbox, interface: &str, url: &str) -> Option<u16> {
    let out = Command::new(require_tool("curl"))
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "10",
        ])
        .args(["--interface", interface, "--cacert"])
        .arg(sb.data_file("ca/ac-siseri.pem"))
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .ok()
        .filter(|s| *s != 0)
}

#[test]
fn a_flood_from_one_address_does_not_stop_another_addresss_requests() {
    let sb = Sandbox::initialised();
    let (_server, listening) = sb.serve(
        "serve.log",
        &[
            ("SISERI_LIMITS_CONNECTIONS_PER_ADDRESS", "4"),
            ("SISERI_LIMITS_TLS_HANDSHAKE_SECS", "60"),
        ],
    );
    let addr = listening_addr(&listening, "public");
    let port = addr.rsplit_once(':').expect("port").1.to_owned();
    // The flood: connections from 127.0.0.1 that never say a word.
    let flood: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let url = |host: &str| format!("https://{host}:{port}/healthz");
    assert_eq!(
        status_from(&sb, "127.0.0.1", &url("127.0.0.1")),
        None,
        "a fifth connection from the flooding address must be refused"
    );
    // Refused with a reset, not a close: no FIN exchange, no TIME_WAIT kept by the daemon for
    // each refusal of a flood that reconnects as fast as it is refused.
    let mut fifth = TcpStream::connect(&addr).expect("connect");
    fifth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let read = std::io::Read::read(&mut fifth, &mut [0u8; 16]);
    assert!(
        matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset),
        "a refused connection must be reset: {read:?}"
    );
    assert_eq!(
        status_from(&sb, "127.0.0.2", &url("127.0.0.1")),
        Some(200),
        "another address must still be served"
    );
    drop(flood);
    // Their places are given back when they close.
    let mut served = None;
    for _ in 0..50 {
        served = status_from(&sb, "127.0.0.1", &url("127.0.0.1"));
        if served.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(served, Some(200));
}

#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    let sb = Sandbox::initialised();
    let (mut server, listening) = sb.serve("serve.log", &[]);
    let addr = listening_addr(&listening, "public");
    // A protocol sent slowly (about 3 s at 2 KB/s): in flight when SIGTERM comes.
    let mut body = PROTOCOL.trim_end().to_owned();
    body.push_str(&" ".repeat(6000));
    let body_path = sb.path("protocol.json");
    std::fs::write(&body_path, &body).expect("write");
    let curl = Command::new(require_tool("curl"))
        .args([
            "-s",
            "-w",
            "\n%{http_code}",
            "--max-time",
            "60",
            "--limit-rate",
            "2K",
        ])
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{}", body_path.display()))
        .arg("--cacert")
        .arg(sb.data_file("ca/ac-siseri.pem"))
        .arg(format!("https://{addr}/api/v1/protocols"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl");
    std::thread::sleep(Duration::from_millis(1200));
    let status = server.terminate();
    let out = curl.wait_with_output().expect("curl output");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "curl failed: {text}\n{}",
        server.log()
    );
    assert!(text.trim_end().ends_with("201"), "{text}");
    assert!(text.contains("\"draft_token\""), "{text}");
    assert!(
        status.success(),
        "serve exited with {status}:\n{}",
        server.log()
    );
}

#[test]
fn sigterm_during_a_slow_download_lets_it_finish_whole() {
    use common::daemon::Daemon;
    use common::enrolment::enrolled;

    let mut d = Daemon::start(&[]);
    let holders = enrolled(&d.sandbox, &[PROTOCOL]);
    let cse = holders
        .iter()
        .find(|h| h.email.starts_with("v.durand"))
        .expect("no CSE");
    let cert = d.registry_session(cse);
    let id = d.first_establishment(&cert);
    // A list large enough that its export outlasts the sockets' buffers at 1 MB/s.
    let rows = 40_000;
    let csv = d.sandbox.path("workers.csv");
    let made = Command::new("python3")
        .arg("scripts/bench_workers_csv.py")
        .arg(rows.to_string())
        .arg(&csv)
        .status()
        .expect("python3");
    assert!(made.success());
    let import = d.curl(
        "POST",
        &format!("{}/api/v1/establishments/{id}/workers/import", d.registry),
        &cert,
        Some(("text/csv", &std::fs::read(&csv).expect("read"))),
    );
    assert_eq!(import.status, 200, "{}", import.text());

    let export = d.sandbox.path("export.csv");
    let download = Command::new(require_tool("curl"))
        .args(["-sS", "--fail", "--limit-rate", "1M", "--max-time", "60"])
        .arg("--cacert")
        .arg(&d.ca)
        .args(&cert)
        .arg("-o")
        .arg(&export)
        .arg(format!(
            "{}/api/v1/establishments/{id}/workers.csv",
            d.registry
        ))
        .stdin(Stdio::null())
        .spawn()
        .expect("curl");
    // Until the download is under way, then SIGTERM.
    let start = Instant::now();
    while std::fs::metadata(&export).map_or(0, |m| m.len()) < 200_000 {
        assert!(start.elapsed() < Duration::from_secs(60), "no download");
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = d.terminate();
    let out = download.wait_with_output().expect("curl");
    assert!(out.status.success(), "the download was cut: {}", d.log());
    assert!(status.success(), "serve exited with {status}");
    let exported = std::fs::read_to_string(&export).expect("read export");
    // The header, then every worker: the whole body arrived.
    assert_eq!(exported.lines().count(), rows + 1, "a partial export");
}
