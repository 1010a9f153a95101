//! The CA key lives in the signer process only. After a whole run through the daemon (an
//! approval, a `.p12` withdrawal, a withdrawal with a CSR signed by the daemon, OCSP over HTTP,
//! a revocation), the private scalar of AC SISERI, decrypted here by OpenSSL, is searched in
//! the memory of `siseri serve` (`/proc/PID/mem` over its readable mappings): it must not be
//! there. The same search finds it in the signer, so the search is not blind; the same for the
//! receipt key (issue 16 §2), which the signer makes and holds alone. And a signer
//! that dies is started again by the daemon.

mod common;

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use common::enrolment::whole_run;
use common::{openssl_ok, require_tool, PASSPHRASE};
use serde_json::Value;

/// AC SISERI's private scalar, as OpenSSL decrypts it from the key file.
fn ca_private_scalar(d: &Daemon) -> Vec<u8> {
    private_scalar(d, "ca/ac-siseri.key.pem")
}

/// The private scalar of the encrypted P-256 key file `rel`, as OpenSSL decrypts it.
fn private_scalar(d: &Daemon, rel: &str) -> Vec<u8> {
    let key = d.sandbox.data_file(rel);
    let out = openssl_ok([
        "pkey".as_ref(),
        "-in".as_ref(),
        key.as_os_str(),
        "-passin".as_ref(),
        format!("pass:{PASSPHRASE}").as_ref(),
        "-noout".as_ref(),
        "-text".as_ref(),
    ]);
    // "priv:" then lines of "xx:xx:…", until "pub:".
    let block = out
        .split("priv:")
        .nth(1)
        .and_then(|rest| rest.split("pub:").next())
        .unwrap_or_else(|| panic!("no private key in openssl's output:\n{out}"));
    let mut bytes: Vec<u8> = block
        .split(|c: char| c == ':' || c.is_whitespace())
        .filter(|h| !h.is_empty())
        .map(|h| u8::from_str_radix(h, 16).expect("hex"))
        .collect();
    while bytes.len() > 32 && bytes[0] == 0 {
        bytes.remove(0);
    }
    assert_eq!(bytes.len(), 32, "a P-256 scalar: {bytes:02x?}");
    bytes
}

/// True when `needle` is somewhere in the readable memory of process `pid`.
fn memory_holds(pid: u32, needle: &[u8]) -> bool {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).expect("maps");
    let mut mem = fs::File::open(format!("/proc/{pid}/mem")).expect("/proc/PID/mem");
    let mut scanned = 0usize;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with('r') || line.ends_with("[vvar]") || line.ends_with("[vsyscall]") {
            continue;
        }
        let (start, end) = range.split_once('-').expect("range");
        let start = u64::from_str_radix(start, 16).expect("start");
        let end = u64::from_str_radix(end, 16).expect("end");
        let mut region = vec![0u8; (end - start) as usize];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut region).is_err() {
            continue;
        }
        scanned += region.len();
        if find(&region, needle) {
            return true;
        }
    }
    assert!(
        scanned > 1 << 20,
        "only {scanned} bytes of {pid} could be read"
    );
    false
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    let first = needle[0];
    haystack
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == first)
        .any(|(i, _)| haystack[i..].starts_with(needle))
}

fn signer_pid(d: &Daemon) -> u32 {
    let listening: Value = serde_json::from_str(
        &fs::read_to_string(d.sandbox.data_file("listening.json")).expect("listening.json"),
    )
    .expect("json");
    listening["signer_pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("no signer_pid in {listening}")) as u32
}

/// The `siseri signer` children of `pid`.
fn signer_children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        let children = fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace() {
            let child: u32 = child.parse().expect("pid");
            let cmdline = fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            if cmdline.split(|b| *b == 0).any(|a| a == b"signer") {
                found.push(child);
            }
        }
    }
    found
}

#[test]
fn the_daemon_never_holds_the_ca_key_its_signer_does() {
    require_tool("openssl");
    let d = Daemon::start(&[]);
    whole_run(&d);
    let scalar = ca_private_scalar(&d);
    assert!(
        !memory_holds(d.pid(), &scalar),
        "AC SISERI's private key is in the memory of `siseri serve`"
    );
    assert!(
        memory_holds(signer_pid(&d), &scalar),
        "the key was not found in the signer either: the search is blind"
    );
    // The receipt key too (issue 16 §2): made by the signer, held by it alone.
    let start = Instant::now();
    while !d.sandbox.data_file("ca/recepisse.pem").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no receipt certificate"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let receipt = private_scalar(&d, "ca/recepisse.key.pem");
    assert!(
        !memory_holds(d.pid(), &receipt),
        "the receipt key is in the memory of `siseri serve`"
    );
    assert!(
        memory_holds(signer_pid(&d), &receipt),
        "the receipt key was not found in the signer either: the search is blind"
    );
}

#[test]
fn a_signer_that_dies_is_started_again_and_signing_goes_on() {
    require_tool("openssl");
    let d = Daemon::start(&[]);
    let first = signer_pid(&d);
    assert_eq!(signer_children(d.pid()), [first]);
    rustix_kill(first);
    let start = Instant::now();
    let second = loop {
        let now = signer_children(d.pid());
        if let [pid] = now.as_slice() {
            if *pid != first {
                break *pid;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no new signer after 30 s: {now:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_ne!(first, second);
    // The daemon's own signature path works again (a CSR withdrawal is signed by the daemon).
    let start = Instant::now();
    while !d.sandbox.data_file("run/signer.sock").exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "no socket");
        std::thread::sleep(Duration::from_millis(50));
    }
    whole_run(&d);
    assert!(d.log().contains("relancé"), "{}", d.log());
}

/// SIGKILL, as the OOM killer would.
fn rustix_kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}
