//! `siseri backup` and `siseri restore` against the real binary: a backup taken while the
//! daemon serves, half-way through the seed's story (after the approval, before any
//! withdrawal), restored into a new directory where `siseri serve` finishes the story with the
//! links and codes of the e-mails sent before the backup; and the archives restore refuses.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::daemon::{Daemon, Reply};
use common::fixtures::PROTOCOL;
use common::mail::{mails_to, Mail};
use common::*;
use serde_json::{json, Value};

const DURAND: &str = "v.durand@cabinet-durand.example";

/// A liveness bound on a loaded machine for a revocation to reach the registry's handshakes.
const REVOCATION_BOUND: Duration = Duration::from_secs(30);

/// A person's identity for curl: the withdrawn `.p12`, its password, a cookie jar.
struct Holder {
    p12: PathBuf,
    password: String,
    jar: PathBuf,
}

/// The registry as `h`: curl presenting the `.p12`, with the holder's cookie jar.
fn registry(d: &Daemon, h: &Holder, method: &str, path: &str, body: Option<&Value>) -> Reply {
    let extra = vec![
        "--cert".to_owned(),
        format!("{}:{}", h.p12.display(), h.password),
        "--cert-type".to_owned(),
        "P12".to_owned(),
        "-b".to_owned(),
        h.jar.display().to_string(),
        "-c".to_owned(),
        h.jar.display().to_string(),
    ];
    let bytes = body.map(Value::to_string);
    d.curl(
        method,
        &format!("{}{path}", d.registry),
        &extra,
        bytes.as_deref().map(|b| ("application/json", b.as_bytes())),
    )
}

fn backup(sb: &Sandbox, name: &str) -> PathBuf {
    let archive = sb.path(name);
    run_ok(&mut sb.siseri([os("backup"), os("--out"), archive.clone().into_os_string()]));
    archive
}

fn restore(archive: &Path, target: &Path) -> std::process::Command {
    let mut cmd = siseri(target);
    cmd.arg("restore").arg(archive);
    cmd
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn a_backup_taken_mid_story_restores_into_a_new_directory_where_the_story_ends() {
    for tool in ["curl", "openssl", "python3"] {
        require_tool(tool);
    }
    let mut site = Daemon::start(&[]);
    let signed = site.sign(&serde_json::from_str(PROTOCOL).expect("from_str failed"));
    site.siseri(&["protocol", "approve", &signed.number]);
    let mails: Vec<Mail> = site.mails(6);

    // The nightly backup, while the daemon serves.
    let archive = site.sandbox.path("nuit.tar");
    let (out, err) = site.siseri(&[
        "backup",
        "--out",
        archive.to_str().expect("to_str gave nothing"),
    ]);
    assert!(out.contains("sauvegarde écrite"), "{out}");
    assert!(
        err.contains("instantané de la base") && err.contains("pièces justificatives 2/2"),
        "progress on stderr: {err}"
    );
    assert_eq!(mode_of(&archive), 0o600);
    assert!(
        !site.log().contains("ERROR"),
        "the daemon complained during the backup:\n{}",
        site.log()
    );

    // The server is lost; the archive goes to a new machine.
    site.stop();
    let elsewhere = Sandbox::new();
    let restored = run_ok(&mut restore(&archive, &elsewhere.data()));
    assert!(stdout(&restored).contains("restauré"), "{restored:?}");
    for (file, want) in [
        ("", 0o700),
        ("siseri.db", 0o600),
        ("config.toml", 0o600),
        ("ca/ac-siseri.key.pem", 0o600),
        ("secrets/hmac.key", 0o600),
        ("documents", 0o700),
    ] {
        assert_eq!(mode_of(&elsewhere.data_file(file)), want, "{file}");
    }
    assert!(
        !elsewhere.data_file("ca/passphrase").exists(),
        "the passphrase is never in a backup"
    );
    let copy = Daemon::on(elsewhere, &[]);

    // The supporting documents came along.
    let pieces = copy.sandbox.path("pieces");
    let (listed, _) = copy.siseri(&[
        "protocol",
        "documents",
        &signed.number,
        "--out",
        pieces.to_str().expect("to_str gave nothing"),
    ]);
    assert_eq!(listed.lines().count(), 2, "{listed}");

    // DURAND withdraws with the link and code of the e-mail sent before the backup.
    let durand = mails_to(&mails, DURAND);
    let withdrawal = durand
        .iter()
        .find(|m| m.token.is_some())
        .expect("no withdrawal e-mail");
    let access_code = durand
        .iter()
        .find_map(|m| m.access_code.clone())
        .expect("no access-code e-mail");
    let page = format!("/retrait/{}", withdrawal.token.as_deref().unwrap_or(""));
    let r = copy
        .json("POST", &page, None, &json!({ "code": withdrawal.code }))
        .ok(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/x-pkcs12")
    );
    let holder = Holder {
        p12: copy.sandbox.path("42000.p12"),
        password: withdrawal.password.clone().expect("no .p12 password"),
        jar: copy.sandbox.path("42000.cookies"),
    };
    fs::write(&holder.p12, &r.body).expect("write failed");
    copy.json("POST", &page, None, &json!({ "code": withdrawal.code }))
        .ok(410);

    // The registry, with the access code of the e-mail sent before the backup.
    registry(
        &copy,
        &holder,
        "POST",
        "/api/v1/session",
        Some(&json!({ "access_code": access_code })),
    )
    .ok(200);
    let list = registry(&copy, &holder, "GET", "/api/v1/establishments", None)
        .ok(200)
        .json();
    assert!(list.to_string().contains(&signed.number), "{list}");

    // A revocation on the restored copy: the next handshake is refused.
    copy.siseri(&["accessor", "revoke", "42000", "--reason", "keyCompromise"]);
    let start = Instant::now();
    while registry(&copy, &holder, "GET", "/healthz", None).exit == 0 {
        assert!(
            start.elapsed() < REVOCATION_BOUND,
            "the revoked certificate is still accepted"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    copy.audit_verifies();
    // The signer's log came with the backup and goes on in the copy.
    let (out, _) = copy.siseri(&["audit", "verify"]);
    assert!(out.contains("journal des signatures intègre"), "{out}");
}

/// Every file under `root`, with its bytes; for "nothing changed".
fn contents(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    snapshot(root)
        .into_iter()
        .map(|(path, (bytes, _))| (path, bytes))
        .collect()
}

/// The names in `dir` that a restore could have left behind.
fn leftovers(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .expect("read_dir failed")
        .map(|e| {
            e.expect("entry failed")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.starts_with(".siseri-"))
        .collect()
}

#[test]
fn restore_refuses_an_archive_with_one_byte_changed_and_writes_nothing() {
    let sb = Sandbox::initialised();
    let archive = backup(&sb, "b.tar");
    let mut bytes = fs::read(&archive).expect("read failed");
    let pem = bytes
        .windows(27)
        .position(|w| w == b"-----BEGIN CERTIFICATE-----")
        .expect("no certificate in the archive");
    let at = pem + 40;
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = sb.path("altered.tar");
    fs::write(&tampered, &bytes).expect("write failed");

    let missing = sb.path("missing");
    let (code, err) = run_fail(&mut restore(&tampered, &missing));
    assert_eq!(code, 1, "{err}");
    let line = one_line(&err.replace("restauration : vérification de l'archive\n", "")).to_owned();
    assert!(
        line.contains("ne correspond pas à son empreinte")
            && line.contains("rien n'a été restauré"),
        "{line}"
    );
    assert!(!missing.exists(), "a refused restore created the target");
    let empty = sb.path("empty");
    fs::create_dir(&empty).expect("create_dir failed");
    run_fail(&mut restore(&tampered, &empty));
    assert!(
        contents(&empty).is_empty(),
        "a refused restore wrote into the target"
    );
    assert_eq!(leftovers(&sb.path("")), Vec::<String>::new());

    // Cut short, at the end of a member or inside one: refused as well.
    let whole = fs::read(&archive).expect("read failed");
    for cut in [pem - pem % 512, pem + 100] {
        let short = sb.path("short.tar");
        fs::write(&short, &whole[..cut]).expect("write failed");
        let (_, err) = run_fail(&mut restore(&short, &empty));
        assert!(err.contains("rien n'a été restauré"), "{err}");
        assert!(contents(&empty).is_empty());
    }

    // The archive as written restores, into that same empty directory.
    run_ok(&mut restore(&archive, &empty));
    run_ok(siseri(&empty).args(["audit", "verify"]));
}

#[test]
fn restore_refuses_a_directory_that_is_not_empty_and_changes_nothing() {
    let sb = Sandbox::initialised();
    let archive = backup(&sb, "b.tar");
    let target = sb.path("occupied");
    fs::create_dir(&target).expect("create_dir failed");
    fs::write(target.join("notes.txt"), b"ne pas effacer").expect("write failed");
    let before = contents(&target);

    let (code, err) = run_fail(&mut restore(&archive, &target));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("n'est pas vide"), "{err}");
    assert_eq!(contents(&target), before);

    // The data directory the backup came from is not empty either.
    let before = contents(&sb.data());
    let (_, err) = run_fail(&mut restore(&archive, &sb.data()));
    assert!(err.contains("n'est pas vide"), "{err}");
    assert_eq!(contents(&sb.data()), before);
}

/// The archive's members, in order, as (path, bytes).
fn members(archive: &Path) -> Vec<(String, Vec<u8>)> {
    let mut tar = tar::Archive::new(fs::File::open(archive).expect("open failed"));
    tar.entries()
        .expect("entries failed")
        .map(|e| {
            let mut e = e.expect("entry failed");
            let path = e.path().expect("path failed").display().to_string();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).expect("read failed");
            (path, bytes)
        })
        .collect()
}

fn write_archive(path: &Path, members: &[(String, Vec<u8>)]) {
    let mut tar = tar::Builder::new(fs::File::create(path).expect("create failed"));
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        // Raw name bytes: the crate itself refuses to write a `..` path, a forger would not.
        let field = &mut header.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        tar.append(&header, bytes.as_slice())
            .expect("append failed");
    }
    tar.finish().expect("finish failed");
}

#[test]
fn restore_refuses_an_archive_of_a_newer_schema_with_a_clear_message() {
    let sb = Sandbox::initialised();
    let archive = backup(&sb, "b.tar");
    let mut all = members(&archive);
    let (name, manifest) = all.last_mut().expect("an empty archive");
    assert_eq!(name, "manifest.json");
    let mut m: Value = serde_json::from_slice(manifest).expect("the manifest is not JSON");
    assert!(m["schema"]["ca"].as_u64().is_some(), "{m}");
    m["schema"]["ca"] = json!(9999);
    *manifest = serde_json::to_vec(&m).expect("to_vec failed");
    let newer = sb.path("newer.tar");
    write_archive(&newer, &all);

    let target = sb.path("restored");
    let (code, err) = run_fail(&mut restore(&newer, &target));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("version plus récente de siseri") && err.contains("9999"),
        "{err}"
    );
    assert!(!target.exists());

    // A member the manifest does not know is refused too, without echoing its name.
    let mut all = members(&archive);
    let manifest = all.pop().expect("an empty archive");
    all.push(("../évadé".to_owned(), b"x".to_vec()));
    all.push(manifest);
    let odd = sb.path("odd.tar");
    write_archive(&odd, &all);
    let (_, err) = run_fail(&mut restore(&odd, &target));
    assert!(err.contains("nom de fichier inattendu"), "{err}");
    assert!(!err.contains("évadé"), "{err}");
    assert!(!target.exists());
}

#[test]
fn the_nightly_backup_units_pass_systemd_analyze_when_it_is_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/systemd");
    let units = [
        root.join("siseri-backup.service"),
        root.join("siseri-backup.timer"),
    ];
    for unit in &units {
        assert!(unit.is_file(), "{} missing", unit.display());
    }
    let Ok(tool) = which("systemd-analyze") else {
        eprintln!("systemd-analyze absent: the units are not verified here");
        return;
    };
    let out = std::process::Command::new(tool)
        .arg("verify")
        .args(&units)
        .output()
        .expect("systemd-analyze failed to start");
    let err = String::from_utf8_lossy(&out.stderr);
    // Without systemd running (a container), verify cannot load the units' dependencies.
    if err.contains("System has not been booted with systemd") || err.contains("Failed to connect")
    {
        eprintln!("systemd-analyze cannot run here: {err}");
        return;
    }
    assert!(out.status.success(), "{err}");
}

fn which(name: &str) -> Result<PathBuf, ()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or(())
}
