//! Nothing sensitive left readable (issue 12, §4), against the real binary: what the CLI writes
//! outside the data directory is its owner's alone whatever the umask, and once a message is
//! delivered its codes and passwords are in no file of the data directory (the database, its
//! WAL, its shared memory), whatever SQLite left behind.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::daemon::Daemon;
use common::fixtures::PROTOCOL;
use common::mail::Mail;
use common::*;
use serde_json::{json, Value};

/// A liveness bound on a loaded machine: the daemon erases within seconds.
const PATIENCE: Duration = Duration::from_secs(60);

fn seed() -> Value {
    serde_json::from_str(PROTOCOL).expect("from_str failed")
}

/// `cmd` run by `sh` under `umask 000`: what it creates gets every permission the program
/// asks for, and none taken away.
fn under_umask_000(cmd: &Command) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg("umask 000 && exec \"$0\" \"$@\"")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (name, value) in cmd.get_envs() {
        match value {
            Some(v) => sh.env(name, v),
            None => sh.env_remove(name),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        sh.current_dir(dir);
    }
    sh
}

/// The permission bits of `path`, in octal as `ls` and `chmod` write them.
fn mode(path: &Path) -> String {
    let mode = fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode();
    format!("{:o}", mode & 0o7777)
}

#[test]
fn a_backup_and_a_protocols_documents_are_readable_by_their_owner_only_under_umask_000() {
    let site = Daemon::start(&[]);
    let signed = site.sign(&seed());
    let sb = &site.sandbox;

    let backup = sb.path("copie.tar");
    run_ok(&mut under_umask_000(&sb.siseri([
        os("backup"),
        os("--out"),
        backup.clone().into_os_string(),
    ])));
    assert_eq!(mode(&backup), "600", "the backup");
    let copied: i64 = backup_database(&backup, &sb.path("copie.db"))
        .query_row("SELECT COUNT(*) FROM enroll_documents", [], |r| r.get(0))
        .expect("the backup is not a database");
    assert_eq!(copied, 2, "the backup holds the protocol's documents' rows");

    let out = sb.path("pieces").join(&signed.number);
    // A copy from an earlier run, readable by all: replaced by an owner-only one.
    let documents = |out: &Path| {
        run_ok(&mut under_umask_000(&sb.siseri([
            os("protocol"),
            os("documents"),
            os(&signed.number),
            os("--out"),
            out.as_os_str().to_owned(),
        ])))
    };
    let written = stdout(&documents(&out));
    let files: Vec<PathBuf> = written.lines().map(PathBuf::from).collect();
    assert_eq!(files.len(), 2, "{written}");
    assert_eq!(mode(&out), "700", "the directory made for the documents");
    for file in &files {
        assert_eq!(mode(file), "600", "{}", file.display());
        fs::set_permissions(file, fs::Permissions::from_mode(0o644)).expect("chmod failed");
    }
    documents(&out);
    for file in &files {
        assert_eq!(mode(file), "600", "{} written again", file.display());
    }
}

/// A secret as a reader of the message saw it, and what to look for in the files: the secret
/// itself when it is long enough to be found nowhere by chance, otherwise the message's line
/// around it (a 4-digit access code is bound to appear somewhere in megabytes of binary).
#[derive(Debug)]
struct Secret {
    what: String,
    needle: String,
}

impl Secret {
    fn new(what: &str, value: &str, body: &str) -> Self {
        let needle = if value.len() >= 9 {
            value.to_owned()
        } else {
            body.lines()
                .find(|l| l.contains(value))
                .unwrap_or_else(|| panic!("{value:?} not in {body}"))
                .trim()
                .to_owned()
        };
        Self {
            what: what.to_owned(),
            needle,
        }
    }
}

fn mail_secrets(mail: &Mail) -> Vec<Secret> {
    [
        ("withdrawal token", &mail.token),
        ("withdrawal code", &mail.code),
        (".p12 password", &mail.password),
        ("access code", &mail.access_code),
    ]
    .into_iter()
    .filter_map(|(what, value)| {
        let value = value.as_deref()?;
        Some(Secret::new(
            &format!("{what} mailed to {}", mail.to),
            value,
            &mail.body,
        ))
    })
    .collect()
}

/// Every file under `dir`, except the file transport's own outbox (it is the mail itself).
fn data_files(dir: &Path, outbox: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("read_dir failed").path();
        if path == outbox {
            continue;
        }
        if path.is_dir() {
            out.extend(data_files(&path, outbox));
        } else {
            out.push(path);
        }
    }
    out
}

/// Which secrets some file of the data directory still holds, and where.
fn leaks(data: &Path, secrets: &[Secret]) -> Vec<String> {
    let mut found = Vec::new();
    for file in data_files(data, &data.join("outbox")) {
        // A file may go between the listing and the read (a WAL deleted): it then holds nothing.
        let Ok(bytes) = fs::read(&file) else {
            continue;
        };
        for s in secrets {
            if bytes
                .windows(s.needle.len())
                .any(|w| w == s.needle.as_bytes())
            {
                found.push(format!("{} in {}", s.what, file.display()));
            }
        }
    }
    found
}

#[test]
fn once_delivered_no_code_token_or_password_stays_in_any_file_of_the_data_directory() {
    require_tool("python3");
    let site = Daemon::start(&[]);
    let signed = site.sign(&seed());
    let sms = site.sms(1);
    let sms_text = sms["text"].as_str().unwrap_or_else(|| panic!("{sms}"));
    let mut secrets = vec![Secret::new(
        "signature code sent by SMS",
        &site.sms_code(1),
        sms_text,
    )];

    site.siseri(&["protocol", "approve", &signed.number]);
    let mails = site.mails(6);
    secrets.extend(mails.iter().flat_map(mail_secrets));
    let kinds = |what: &str| secrets.iter().filter(|s| s.what.starts_with(what)).count();
    assert_eq!(
        [
            kinds("withdrawal token"),
            kinds("withdrawal code"),
            kinds(".p12 password"),
            kinds("access code")
        ],
        [3, 3, 3, 3],
        "{secrets:#?}"
    );

    // One person takes their .p12: the withdrawal's own erasure goes through the same files.
    let first = mails
        .iter()
        .find(|m| m.token.is_some())
        .expect("a withdrawal mail");
    let page = format!("/retrait/{}", first.token.as_deref().unwrap_or_default());
    site.json(
        "POST",
        &page,
        None,
        &json!({ "code": first.code.as_deref().unwrap_or_default() }),
    )
    .ok(200);

    let data = site.sandbox.data();
    let start = Instant::now();
    loop {
        let left = leaks(&data, &secrets);
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "{} secret(s) still readable in the data directory {:?} after {PATIENCE:?}:\n{}",
            left.len(),
            data,
            left.join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The erasure cost nothing that still works: the withdrawal is done, the others pending.
    site.json(
        "POST",
        &page,
        None,
        &json!({ "code": first.code.as_deref().unwrap_or_default() }),
    )
    .ok(410);
    site.audit_verifies();
}
