//! Logs as operators collect them: plain text without colour codes when stderr is not a
//! terminal (journald, files), and `--log-format json`, one object per line with stable names.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{run_ok, Sandbox};

/// Runs `siseri serve` with stderr to `log` (stdout apart) until it listens, stops it with
/// SIGTERM and returns what it logged.
fn serve_and_stop(sandbox: &Sandbox, mut cmd: Command, log: &Path) -> String {
    let _ = fs::remove_file(sandbox.data_file("listening.json"));
    common::on_free_ports(&mut cmd)
        // A colourless default would hide the bug this file guards against.
        .env_remove("NO_COLOR")
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            fs::File::create(log).expect("File::create failed"),
        ));
    let mut child = cmd.spawn().expect("cannot start siseri serve");
    let start = Instant::now();
    while !sandbox.data_file("listening.json").exists() {
        if let Some(status) = child.try_wait().expect("try_wait failed") {
            panic!(
                "siseri serve exited ({status}):\n{}",
                fs::read_to_string(log).unwrap_or_default()
            );
        }
        // A liveness bound on a loaded machine, not a performance check.
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no listening.json"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    run_ok(Command::new("kill").args(["-TERM", &child.id().to_string()]));
    let status = child.wait().expect("wait failed");
    let text = fs::read_to_string(log).expect("log");
    assert!(status.success(), "{status}\n{text}");
    text
}

#[test]
fn logs_written_to_a_file_carry_no_colour_codes() {
    let s = Sandbox::initialised();
    let log = s.path("serve.log");
    let text = serve_and_stop(&s, s.siseri(["serve"]), &log);
    assert!(text.contains("écoutes ouvertes"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "an ESC byte in a log that is not a terminal:\n{text:?}"
    );
}

#[test]
fn json_logs_are_one_object_per_line_with_stable_names() {
    let s = Sandbox::initialised();
    for (how, cmd) in [
        ("option", s.siseri(["--log-format", "json", "serve"])),
        ("environment", {
            let mut c = s.siseri(["serve"]);
            c.env("SISERI_LOG_FORMAT", "json");
            c
        }),
    ] {
        let log = s.path(&format!("serve-{how}.log"));
        let text = serve_and_stop(&s, cmd, &log);
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{how}: not a JSON line ({e}): {line:?}"))
            })
            .collect();
        assert!(events.len() >= 2, "{how}: {text}");
        for event in &events {
            assert!(event["timestamp"].is_string(), "{how}: {event}");
            assert!(
                ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]
                    .contains(&event["level"].as_str().unwrap_or_default()),
                "{how}: {event}"
            );
            assert!(event["target"].is_string(), "{how}: {event}");
            assert!(event["fields"]["message"].is_string(), "{how}: {event}");
        }
        let listening = events
            .iter()
            .find(|e| e["fields"]["event"] == "listening")
            .unwrap_or_else(|| panic!("{how}: no listening event in {text}"));
        assert!(
            listening["fields"]["public_addr"]
                .as_str()
                .is_some_and(|a| a.starts_with("127.0.0.1:")),
            "{listening}"
        );
        // The port-0 listeners differ from the default base_url: the warning is an event too.
        assert!(
            events
                .iter()
                .any(|e| e["fields"]["event"] == "links_elsewhere" && e["level"] == "WARN"),
            "{how}: {text}"
        );
    }
}

#[test]
fn the_configuration_file_chooses_json_and_an_unknown_format_is_a_usage_error() {
    let s = Sandbox::initialised();
    let config = s.data_file("config.toml");
    let text = fs::read_to_string(&config).unwrap();
    assert!(text.contains("format = \"text\""), "{text}");
    fs::write(
        &config,
        text.replace("format = \"text\"", "format = \"json\""),
    )
    .unwrap();
    let log = s.path("serve.log");
    let logged = serve_and_stop(&s, s.siseri(["serve"]), &log);
    for line in logged.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert!(v["fields"]["message"].is_string(), "{v}");
    }
    let (code, stderr) = common::run_fail(&mut s.siseri(["--log-format", "xml", "serve"]));
    assert_eq!(code, 2, "{stderr}");
}
