//! One client for the tests that drive a running `siseri serve`: the daemon on its own data
//! directory (both listeners on port 0, the addresses read from `listening.json`), curl for
//! every HTTP call, the file outbox read back (SMS codes; e-mails through [`super::mail`]).

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use super::fixtures::{PDF, PNG};
use super::mail::{outbox_files, outbox_files_when, read_mails, Mail};
use super::{listening_addr, require_tool, run_ok, Sandbox, Server};

/// How long a wait on the daemon (its start, an outbox file) may take: a liveness bound on a
/// loaded machine, not a performance check.
const PATIENCE: Duration = Duration::from_secs(30);

/// One HTTP exchange made by curl.
#[derive(Debug)]
pub struct Reply {
    /// curl's exit code: 0, or why the transfer failed (35, 56: the TLS handshake).
    pub exit: i32,
    pub status: u16,
    /// Where a redirection leads (absolute), or empty.
    pub redirect: String,
    pub headers: String,
    pub body: Vec<u8>,
    pub stderr: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}:\n{}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The first header `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.headers.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with(&prefix)
                .then(|| l[prefix.len()..].trim().to_owned())
        })
    }

    /// The transfer went through with `status`.
    pub fn ok(self, status: u16) -> Self {
        assert_eq!(
            (self.exit, self.status),
            (0, status),
            "curl: {}\n{}",
            self.stderr,
            self.text()
        );
        self
    }

    /// Asserts the status and the shape of an API error; returns the body.
    pub fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{}", self.text());
        assert!(
            self.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{}",
            self.headers
        );
        let v = self.json();
        assert_eq!(v["error"], code, "{v}");
        let message = v["message"].as_str().unwrap_or_else(|| panic!("{v}"));
        assert!(!message.trim().is_empty(), "{v}");
        assert!(v["fields"].is_object(), "{v}");
        v
    }
}

/// curl `METHOD URL` trusting `ca`, with `extra` arguments and an optional body, its files the
/// `n`th exchange's in `sandbox`; never fails on a status nor on a refused handshake (see
/// [`Reply::exit`]).
pub fn curl(
    sandbox: &Sandbox,
    ca: &Path,
    n: u32,
    method: &str,
    url: &str,
    extra: &[String],
    body: Option<(&str, &[u8])>,
) -> Reply {
    let out_body = sandbox.path(&format!("reply-{n}.body"));
    let out_headers = sandbox.path(&format!("reply-{n}.headers"));
    let mut cmd = Command::new(require_tool("curl"));
    cmd.args(["-sS", "--max-time", "120", "--cacert"])
        .arg(ca)
        .args(["-X", method, "-o"])
        .arg(&out_body)
        .arg("-D")
        .arg(&out_headers)
        .args(["-w", "%{http_code}\n%{redirect_url}"])
        .args(extra);
    if let Some((content_type, bytes)) = body {
        let file = sandbox.path(&format!("request-{n}.body"));
        fs::write(&file, bytes).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        cmd.args(["-H", &format!("Content-Type: {content_type}")])
            .arg("--data-binary")
            .arg(format!("@{}", file.display()));
    }
    let out = cmd
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run curl: {e}"));
    let written = String::from_utf8_lossy(&out.stdout);
    let (status, redirect) = written.split_once('\n').unwrap_or((&written, ""));
    Reply {
        exit: out.status.code().unwrap_or(-1),
        status: status.trim().parse().unwrap_or(0),
        redirect: redirect.trim().to_owned(),
        headers: fs::read_to_string(&out_headers).unwrap_or_default(),
        body: fs::read(&out_body).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A protocol signed through the API.
#[derive(Debug, Clone)]
pub struct Signed {
    pub id: String,
    pub token: String,
    pub number: String,
    pub key_name: String,
    pub version: i64,
}

/// A data directory, the daemon serving it (when started) and a curl pointed at it.
#[derive(Debug)]
pub struct Daemon {
    pub sandbox: Sandbox,
    server: Option<Server>,
    env: Vec<(String, String)>,
    /// `https://ADDR` of the public listener.
    pub public: String,
    /// `https://ADDR` of the registry's listener.
    pub registry: String,
    /// `https://ADDR` of the operators' console.
    pub console: String,
    /// AC SISERI's certificate, curl's `--cacert`.
    pub ca: PathBuf,
    n: Cell<u32>,
}

impl Daemon {
    /// A daemon on a fresh data directory, with `env` added to its environment.
    pub fn start(env: &[(&str, &str)]) -> Self {
        Self::on(Sandbox::new(), env)
    }

    /// A daemon on the data directory of `sandbox` as it is (a restored one, say), with `env`
    /// added to its environment.
    pub fn on(sandbox: Sandbox, env: &[(&str, &str)]) -> Self {
        require_tool("curl");
        let mut daemon = Self {
            ca: sandbox.data_file("ca/ac-siseri.pem"),
            sandbox,
            server: None,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            public: String::new(),
            registry: String::new(),
            console: String::new(),
            n: Cell::new(0),
        };
        daemon.restart();
        daemon
    }

    /// Starts the daemon again on the same data directory, after [`Daemon::stop`].
    pub fn restart(&mut self) {
        assert!(self.server.is_none());
        let n = self.next();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (server, listening) = self.sandbox.serve(&format!("serve-{n}.log"), &env);
        let addr = |k: &str| format!("https://{}", listening_addr(&listening, k));
        self.public = addr("public");
        self.registry = addr("registry");
        self.console = addr("console");
        self.server = Some(server);
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.server.as_ref().expect("not running").pid()
    }

    /// Kills the daemon; the data directory stays.
    pub fn stop(&mut self) {
        drop(self.server.take());
    }

    /// Sends SIGTERM and waits for the daemon to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.server.as_mut().expect("not running").terminate()
    }

    /// Curl's arguments of `holder` (their `.p12`) with a cookie jar holding a registry
    /// session opened with their access code.
    pub fn registry_session(&self, holder: &super::enrolment::Holder) -> Vec<String> {
        let jar = self
            .sandbox
            .path(&format!("jar-{}", holder.habilitation))
            .display()
            .to_string();
        let cert = vec![
            "--cert".to_owned(),
            format!("{}:{}", holder.p12.display(), holder.password),
            "--cert-type".to_owned(),
            "P12".to_owned(),
            "-b".to_owned(),
            jar.clone(),
            "-c".to_owned(),
            jar,
        ];
        let body = serde_json::json!({"access_code": holder.access_code}).to_string();
        let login = self.curl(
            "POST",
            &format!("{}/api/v1/session", self.registry),
            &cert,
            Some(("application/json", body.as_bytes())),
        );
        assert_eq!(login.status, 200, "{}", login.text());
        cert
    }

    /// The id of the first establishment the session of `cert` sees.
    pub fn first_establishment(&self, cert: &[String]) -> i64 {
        self.curl(
            "GET",
            &format!("{}/api/v1/establishments", self.registry),
            cert,
            None,
        )
        .json()[0]["id"]
            .as_i64()
            .expect("no establishment")
    }

    /// What the daemon wrote so far.
    pub fn log(&self) -> String {
        self.server.as_ref().map(Server::log).unwrap_or_default()
    }

    fn next(&self) -> u32 {
        let n = self.n.get() + 1;
        self.n.set(n);
        n
    }

    /// curl `METHOD URL` with `extra` arguments and an optional body; never fails on a status
    /// nor on a refused handshake (see [`Reply::exit`]).
    pub fn curl(
        &self,
        method: &str,
        url: &str,
        extra: &[String],
        body: Option<(&str, &[u8])>,
    ) -> Reply {
        curl(
            &self.sandbox,
            &self.ca,
            self.next(),
            method,
            url,
            extra,
            body,
        )
    }

    /// `METHOD PATH` on the public listener with an optional bearer token and body; the
    /// transfer must go through, whatever the status.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, &[u8])>,
    ) -> Reply {
        let extra = token
            .map(|t| vec!["-H".to_owned(), format!("Authorization: Bearer {t}")])
            .unwrap_or_default();
        let reply = self.curl(method, &format!("{}{path}", self.public), &extra, body);
        assert_eq!(
            reply.exit,
            0,
            "curl {method} {path}: {}\n{}",
            reply.stderr,
            self.log()
        );
        reply
    }

    /// [`Daemon::call`] with a JSON body.
    pub fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.call(
            method,
            path,
            token,
            Some(("application/json", body.to_string().as_bytes())),
        )
    }

    /// `siseri ARGS…` on the daemon's data directory, which must succeed: (stdout, stderr).
    pub fn siseri(&self, args: &[&str]) -> (String, String) {
        let out = run_ok(&mut self.sandbox.siseri(args));
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The files `N.ext` of an outbox directory (`outbox/mail`, `outbox/sms`), in order.
    pub fn outbox(&self, dir: &str, ext: &str) -> Vec<PathBuf> {
        outbox_files(&self.sandbox.data_file(dir), ext)
    }

    /// The files of an outbox directory once there are at least `count`.
    pub fn outbox_with(&self, dir: &str, ext: &str, count: usize) -> Vec<PathBuf> {
        outbox_files_when(&self.sandbox.data_file(dir), ext, count, PATIENCE, || {
            self.log()
        })
    }

    /// SMS number `n` (1-based) of the SMS outbox, once the worker wrote it.
    pub fn sms(&self, n: usize) -> Value {
        let files = self.outbox_with("outbox/sms", "json", n);
        let file = &files[n - 1];
        let text = fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
    }

    /// The 6-digit code of SMS number `n` (1-based).
    pub fn sms_code(&self, n: usize) -> String {
        let sms = self.sms(n);
        let text = sms["text"].as_str().unwrap_or_else(|| panic!("{sms}"));
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no 6-digit code in the SMS {text:?}"))
            .to_owned()
    }

    /// Every e-mail of the mail outbox, in order, once there are at least `count`.
    pub fn mails(&self, count: usize) -> Vec<Mail> {
        read_mails(&self.outbox_with("outbox/mail", "eml", count))
    }

    /// Creates a protocol through the API and uploads its K-bis and identity document:
    /// (draft id, draft token).
    pub fn draft(&self, protocol: &Value, kbis: &[u8], identity: &[u8]) -> (String, String) {
        let created = self
            .json("POST", "/api/v1/protocols", None, protocol)
            .ok(201)
            .json();
        let field = |k: &str| {
            created[k]
                .as_str()
                .unwrap_or_else(|| panic!("no {k} in {created}"))
                .to_owned()
        };
        let (id, token) = (field("id"), field("draft_token"));
        for (kind, media_type, bytes) in [
            ("kbis", "application/pdf", kbis),
            ("identity", "image/png", identity),
        ] {
            self.call(
                "POST",
                &format!("/api/v1/protocols/{id}/documents/{kind}"),
                Some(&token),
                Some((media_type, bytes)),
            )
            .ok(201);
        }
        (id, token)
    }

    /// Asks for the signature code of a draft (its answer given to `check`), reads it from
    /// the next SMS and signs.
    pub fn sign_draft_checked(&self, id: &str, token: &str, check: impl FnOnce(&Reply)) -> Signed {
        let sms_before = self.outbox("outbox/sms", "json").len();
        let asked = self
            .json(
                "POST",
                &format!("/api/v1/protocols/{id}/signature-code"),
                Some(token),
                &json!({"consent": true}),
            )
            .ok(202);
        check(&asked);
        let code = self.sms_code(sms_before + 1);
        let signed = self
            .json(
                "POST",
                &format!("/api/v1/protocols/{id}/signature"),
                Some(token),
                &json!({ "code": code }),
            )
            .ok(200)
            .json();
        let field = |k: &str| {
            signed[k]
                .as_str()
                .unwrap_or_else(|| panic!("no {k} in {signed}"))
                .to_owned()
        };
        Signed {
            id: id.to_owned(),
            token: token.to_owned(),
            number: field("number"),
            key_name: field("key_name"),
            version: signed["version"]
                .as_i64()
                .unwrap_or_else(|| panic!("no version in {signed}")),
        }
    }

    /// Asks for the signature code of a draft, reads it from the SMS and signs.
    pub fn sign_draft(&self, id: &str, token: &str) -> Signed {
        self.sign_draft_checked(id, token, |_| {})
    }

    /// Creates a protocol through the API, uploads the fixtures' documents and signs it.
    pub fn sign(&self, protocol: &Value) -> Signed {
        self.sign_with(protocol, PDF, PNG)
    }

    /// Creates a protocol through the API, uploads its documents and signs it.
    pub fn sign_with(&self, protocol: &Value, kbis: &[u8], identity: &[u8]) -> Signed {
        let (id, token) = self.draft(protocol, kbis, identity);
        self.sign_draft(&id, &token)
    }

    /// The serials of a person's certificates, as `siseri accessor show` prints them.
    pub fn serials(&self, hab: u32) -> Vec<String> {
        let (out, _) = self.siseri(&["accessor", "show", &hab.to_string()]);
        out.lines()
            .skip_while(|l| !l.starts_with("CERTIFICATS"))
            .skip(1)
            .take_while(|l| l.starts_with("- "))
            .map(|l| {
                l[2..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_else(|| panic!("no serial in {l:?}"))
                    .to_owned()
            })
            .collect()
    }

    /// `siseri audit verify` finds the audit log whole.
    pub fn audit_verifies(&self) {
        let (out, _) = self.siseri(&["audit", "verify"]);
        assert!(out.contains("intègre"), "{out}");
    }
}
