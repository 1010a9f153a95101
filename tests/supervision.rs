//! `siseri serve` under systemd: readiness told through `NOTIFY_SOCKET` (`Type=notify`) only
//! once every listener is bound, stopping told on SIGTERM, and SIGHUP re-reading the log level
//! instead of ending the process.

mod common;

use std::fs;
use std::os::unix::net::UnixDatagram;
use std::process::Command;
use std::time::{Duration, Instant};

use common::daemon::curl;
use common::{listening_addr, run_ok, Sandbox, Server};

/// A stand-in for systemd's notification socket, in the sandbox.
fn notify_socket(sb: &Sandbox) -> (UnixDatagram, String) {
    let path = sb.path("notify.sock");
    let socket = UnixDatagram::bind(&path).expect("bind notify socket");
    // A liveness bound on a loaded machine, not a performance check.
    socket
        .set_read_timeout(Some(Duration::from_secs(90)))
        .expect("set_read_timeout");
    (socket, path.display().to_string())
}

fn receive(socket: &UnixDatagram) -> String {
    let mut buf = [0u8; 512];
    let n = socket
        .recv(&mut buf)
        .expect("no notification from siseri serve");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn serve_tells_systemd_it_is_ready_only_once_every_listener_is_bound() {
    let sb = Sandbox::initialised();
    let (socket, path) = notify_socket(&sb);
    let mut cmd = sb.siseri(["serve"]);
    for listener in ["PUBLIC", "REGISTRY", "ADMIN", "HTTP", "CONSOLE"] {
        cmd.env(format!("SISERI_LISTEN_{listener}"), "127.0.0.1:0");
    }
    cmd.env("NOTIFY_SOCKET", &path);
    let mut server = Server::start(cmd, sb.data(), sb.path("serve.log"));
    let ready = receive(&socket);
    assert_eq!(ready, "READY=1\n", "{}", server.log());
    // At the moment it said so, every listener answers.
    let listening: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(sb.data_file("listening.json")).expect("listening.json before READY"),
    )
    .expect("listening.json");
    for name in ["public", "registry", "admin", "http"] {
        let addr = listening_addr(&listening, name);
        std::net::TcpStream::connect(&addr)
            .unwrap_or_else(|e| panic!("{name} listener {addr} not bound at READY=1: {e}"));
    }
    let status = server.terminate();
    assert!(status.success(), "{status}\n{}", server.log());
    assert_eq!(receive(&socket), "STOPPING=1\n");
}

#[test]
fn sighup_puts_the_new_log_level_in_force_and_the_daemon_keeps_serving() {
    let sb = Sandbox::initialised();
    let (socket, path) = notify_socket(&sb);
    let (server, listening) = sb.serve("serve.log", &[("NOTIFY_SOCKET", &path)]);
    assert_eq!(receive(&socket), "READY=1\n");
    let healthz = format!("https://{}/healthz", listening_addr(&listening, "public"));
    let ca = sb.data_file("ca/ac-siseri.pem");
    let get = |n| curl(&sb, &ca, n, "GET", &healthz, &[], None);
    assert_eq!(get(1).status, 200);
    // The answer's status is logged at `debug`: not at the file's `info`.
    assert!(!server.log().contains("path=/healthz"), "{}", server.log());

    let config = sb.data_file("config.toml");
    let text = fs::read_to_string(&config).expect("config.toml");
    assert!(text.contains("level = \"info\""), "{text}");
    fs::write(
        &config,
        text.replace("level = \"info\"", "level = \"debug\""),
    )
    .expect("write");
    hangup(&server);
    let reloading = receive(&socket);
    assert!(reloading.starts_with("RELOADING=1\n"), "{reloading}");
    assert_eq!(receive(&socket), "READY=1\n");
    wait_for(&server, "configuration relue");
    assert_eq!(
        get(2).status,
        200,
        "the daemon stopped serving after SIGHUP"
    );
    wait_for(&server, "path=/healthz");

    // A file that no longer parses changes nothing, and the daemon still serves.
    fs::write(&config, "[log\nlevel = ").expect("write");
    hangup(&server);
    wait_for(&server, "configuration non rechargée");
    assert_eq!(
        get(3).status,
        200,
        "the daemon stopped serving after SIGHUP"
    );
}

fn hangup(server: &Server) {
    run_ok(Command::new("kill").args(["-HUP", &server.pid().to_string()]));
}

fn wait_for(server: &Server, text: &str) {
    let start = Instant::now();
    while !server.log().contains(text) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no « {text} » in the log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
