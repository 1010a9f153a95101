//! The one reader of the e-mails of the file outbox: Python's own MIME parser
//! (`tests/tools/eml_secrets.py`, quoted-printable and base64 bodies), and what a reader takes
//! from each e-mail (the withdrawal link, its code, the `.p12` password, the access code).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{require_tool, run_ok};

/// What the reader of an e-mail of the file outbox gets from it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The withdrawal link's token (`/retrait/TOKEN`).
    pub token: Option<String>,
    /// The withdrawal code.
    pub code: Option<String>,
    /// The `.p12`'s password.
    pub password: Option<String>,
    /// The registry's access code.
    pub access_code: Option<String>,
}

/// The e-mails of `files`, in that order.
pub fn read_mails(files: &[PathBuf]) -> Vec<Mail> {
    if files.is_empty() {
        return Vec::new();
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/eml_secrets.py");
    let out = run_ok(
        Command::new(require_tool("python3"))
            .arg(script)
            .args(files)
            .stdin(Stdio::null()),
    );
    let parsed: Vec<Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("eml_secrets.py printed no JSON list: {e}"));
    let field = |v: &Value, k: &str| v[k].as_str().map(str::to_owned);
    let must = |v: &Value, k: &str| field(v, k).unwrap_or_else(|| panic!("no {k} in {v}"));
    parsed
        .iter()
        .map(|v| Mail {
            to: must(v, "to"),
            subject: must(v, "subject"),
            body: must(v, "body"),
            token: field(v, "token"),
            code: field(v, "withdrawal_code"),
            password: field(v, "p12_password"),
            access_code: field(v, "access_code"),
        })
        .collect()
}

/// The e-mails of `mails` sent to `to`.
pub fn mails_to<'a>(mails: &'a [Mail], to: &str) -> Vec<&'a Mail> {
    mails.iter().filter(|m| m.to == to).collect()
}

/// The files `N.ext` of an outbox directory, in the order of their numbers.
pub fn outbox_files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_else(|_| Vec::new())
        .into_iter()
        .filter(|p: &PathBuf| p.extension().is_some_and(|e| e == ext))
        .filter_map(|p| Some((p.file_stem()?.to_str()?.parse().ok()?, p)))
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// [`outbox_files`] once there are at least `count` (a worker writes them), waiting at most
/// `limit`, a liveness bound; `context` tells what went wrong when they never come.
pub fn outbox_files_when(
    dir: &Path,
    ext: &str,
    count: usize,
    limit: Duration,
    context: impl Fn() -> String,
) -> Vec<PathBuf> {
    let start = Instant::now();
    loop {
        let files = outbox_files(dir, ext);
        if files.len() >= count {
            return files;
        }
        assert!(
            start.elapsed() < limit,
            "{} files in {}, {count} expected:\n{}",
            files.len(),
            dir.display(),
            context()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
