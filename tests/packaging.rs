//! What the operators install: the systemd units pass `systemd-analyze verify` and keep a low
//! `systemd-analyze security` exposure; the Debian package built by `cargo deb` holds the
//! binary, the units, the conffile and the maintainer scripts that create the users; the
//! Prometheus alert rules pass `promtool check rules`. The tools are installed by
//! `scripts/install-test-deps.sh`; a missing one fails the test (never a silent skip).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{require_tool, Sandbox};

const UNITS: [&str; 4] = [
    "siseri.service",
    "siseri-signer.service",
    "siseri-backup.service",
    "siseri-backup.timer",
];

/// The highest exposure `systemd-analyze security` may give each service (0 = locked down,
/// 10 = none); README « Installation sur un serveur » gives the scores measured.
const MAX_EXPOSURE: [(&str, f32); 3] = [
    ("siseri.service", 1.5),
    ("siseri-signer.service", 0.6),
    ("siseri-backup.service", 1.0),
];

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The units copied into the sandbox, `/usr/bin/siseri` replaced by the binary under test
/// (`verify` checks that `ExecStart=` names an executable).
fn units_in(sb: &Sandbox) -> PathBuf {
    let dir = sb.path("units");
    fs::create_dir_all(&dir).expect("create_dir_all");
    for unit in UNITS {
        let text = fs::read_to_string(repo(&format!("packaging/systemd/{unit}")))
            .unwrap_or_else(|e| panic!("{unit}: {e}"));
        fs::write(
            dir.join(unit),
            text.replace("/usr/bin/siseri", env!("CARGO_BIN_EXE_siseri")),
        )
        .expect("write unit");
    }
    dir
}

fn verify(dir: &Path, unit: &str) -> Output {
    output(
        Command::new(require_tool("systemd-analyze"))
            .arg("verify")
            .arg(format!("./{unit}"))
            .current_dir(dir),
    )
}

#[test]
fn every_unit_passes_systemd_analyze_verify() {
    let sb = Sandbox::new();
    let dir = units_in(&sb);
    for unit in UNITS {
        let out = verify(&dir, unit);
        let said = text(&out);
        // A unit that names an unknown key is still "verified" (exit 0) with a warning.
        assert!(
            out.status.success() && said.trim().is_empty(),
            "systemd-analyze verify {unit}:\n{said}"
        );
    }
    // The check is not blind: a misspelt directive is reported.
    let broken = fs::read_to_string(dir.join("siseri.service"))
        .expect("read")
        .replace("NoNewPrivileges=yes", "NoNewPrivilege=yes");
    fs::write(dir.join("siseri.service"), broken).expect("write");
    let said = text(&verify(&dir, "siseri.service"));
    assert!(said.contains("NoNewPrivilege"), "{said}");
}

#[test]
fn every_service_keeps_a_low_systemd_security_exposure() {
    let sb = Sandbox::new();
    let dir = units_in(&sb);
    for (unit, max) in MAX_EXPOSURE {
        let out = output(
            Command::new(require_tool("systemd-analyze"))
                .args(["security", "--offline=yes", "--no-pager"])
                .arg(format!("./{unit}"))
                .current_dir(&dir),
        );
        let said = text(&out);
        let score: f32 = said
            .lines()
            .find_map(|l| l.split("Overall exposure level for ").nth(1))
            .and_then(|rest| rest.split(": ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no exposure level for {unit}:\n{said}"));
        eprintln!("systemd-analyze security {unit} : exposition {score}");
        assert!(score <= max, "{unit}: exposure {score} > {max}:\n{said}");
    }
}

#[test]
fn the_debian_package_holds_the_binary_units_conffile_and_user_creation() {
    let (_built_here, deb) = debian_package();
    let dpkg_deb = require_tool("dpkg-deb");
    let contents = text(&output(Command::new(&dpkg_deb).arg("-c").arg(&deb)));
    for (path, mode) in [
        ("./usr/bin/siseri", "-rwxr-xr-x"),
        ("./usr/sbin/siseri-init", "-rwxr-xr-x"),
        ("./etc/siseri/siseri.env", "-rw-r-----"),
        ("./usr/lib/systemd/system/siseri.service", "-rw-r--r--"),
        (
            "./usr/lib/systemd/system/siseri-signer.service",
            "-rw-r--r--",
        ),
        (
            "./usr/lib/systemd/system/siseri-backup.service",
            "-rw-r--r--",
        ),
        ("./usr/lib/systemd/system/siseri-backup.timer", "-rw-r--r--"),
        ("./usr/share/doc/siseri/alerts.yml", "-rw-r--r--"),
    ] {
        assert!(
            contents
                .lines()
                .any(|l| l.starts_with(mode) && l.ends_with(&format!(" {path}"))),
            "{path} ({mode}) missing from the package:\n{contents}"
        );
    }
    let info = text(&output(Command::new(&dpkg_deb).arg("-I").arg(&deb)));
    assert!(info.contains("Package: siseri"), "{info}");
    assert!(
        info.contains("adduser"),
        "adduser is not a dependency:\n{info}"
    );
    let control = |file: &str| {
        text(&output(
            Command::new(&dpkg_deb).args(["--info"]).arg(&deb).arg(file),
        ))
    };
    assert_eq!(control("conffiles").trim(), "/etc/siseri/siseri.env");
    let postinst = control("postinst");
    for needed in [
        "adduser --system",
        " siseri\n",
        " siseri-signer\n",
        "/var/lib/siseri",
        "/etc/siseri/credentials",
    ] {
        assert!(
            postinst.contains(needed),
            "postinst lacks {needed:?}:\n{postinst}"
        );
    }
    // The package never runs the key ceremony: siseri-init is the administrator's act.
    assert!(!postinst.contains("siseri init"), "{postinst}");
}

/// The package `scripts/test.sh` built (`DEB_UNDER_TEST`), or one built here from the binary under
/// test (`cargo deb --no-build`: seconds, not a release build).
/// The sandbox, when there is one, holds the package: it goes when the sandbox is dropped.
fn debian_package() -> (Option<Sandbox>, PathBuf) {
    if let Some(deb) = std::env::var_os("DEB_UNDER_TEST").filter(|v| !v.is_empty()) {
        return (None, PathBuf::from(deb));
    }
    let cargo_deb = require_tool("cargo-deb");
    let out_dir = Sandbox::new();
    let deb = out_dir.path("siseri.deb");
    let out = output(
        Command::new(cargo_deb)
            .args(["--no-build", "--profile", "dev", "--fast", "-o"])
            .arg(&deb)
            .current_dir(env!("CARGO_MANIFEST_DIR")),
    );
    assert!(out.status.success(), "cargo deb failed:\n{}", text(&out));
    (Some(out_dir), deb)
}

#[test]
fn the_alert_rules_pass_promtool() {
    let promtool = require_tool("promtool");
    let out = output(
        Command::new(promtool)
            .args(["check", "rules"])
            .arg(repo("docs/alerts.yml")),
    );
    let said = text(&out);
    assert!(out.status.success(), "promtool check rules:\n{said}");
    // An empty or misplaced file passes too ("0 rules found"): the rules must be there.
    let found: usize = said
        .split("SUCCESS: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(found >= 4, "{said}");
}
