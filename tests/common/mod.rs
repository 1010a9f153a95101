//! Helpers for the integration tests of the real `siseri` binary: a private data directory per
//! test, hermetic commands, and the external tools (OpenSSL, curl) that judge what it produces.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tempfile::TempDir;

pub mod console;
pub mod daemon;
pub mod enrolment;
#[path = "../../enroll/tests/data/fixtures.rs"]
pub mod fixtures;
pub mod mail;
pub mod registry_client;
pub mod transmission;

/// The CA passphrase every test uses unless it is about the passphrase.
pub const PASSPHRASE: &str = "phrase secrète des tests d'intégration";

/// A test's own scratch space: `data()` is the siseri data directory (not created), every
/// other file the test makes goes beside it.
#[derive(Debug)]
pub struct Sandbox {
    tmp: TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A fresh, empty sandbox.
    pub fn new() -> Self {
        Self {
            tmp: tempfile::Builder::new()
                .prefix("siseri-cli-")
                .tempdir()
                .expect("tempdir failed"),
        }
    }

    /// A sandbox whose data directory went through `siseri init`.
    pub fn initialised() -> Self {
        let s = Self::new();
        run_ok(&mut s.siseri(["init"]));
        s
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.tmp.path().join("data")
    }

    /// A file inside the data directory.
    pub fn data_file(&self, rel: &str) -> PathBuf {
        self.data().join(rel)
    }

    /// A scratch file beside the data directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `siseri --data DATA ARGS…`, hermetic (see [`siseri`]).
    pub fn siseri<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = siseri(&self.data());
        cmd.args(args).current_dir(self.tmp.path());
        cmd
    }

    /// `siseri serve` on this data directory with `env` added, both listeners on port 0, its
    /// output to the scratch file `log`; once it listens: the server and `listening.json`.
    pub fn serve(&self, log: &str, env: &[(&str, &str)]) -> (Server, serde_json::Value) {
        // A stale listening.json of a previous run would give the old ports.
        let _ = fs::remove_file(self.data_file("listening.json"));
        let mut cmd = self.siseri(["serve"]);
        on_free_ports(&mut cmd).envs(env.iter().copied());
        let mut server = Server::start(cmd, self.data(), self.path(log));
        // A liveness bound on a loaded machine, not a performance check.
        let listening = server.wait_listening(Duration::from_secs(60));
        (server, listening)
    }

    /// `siseri serve` on this data directory with `env` added, expected to refuse to start:
    /// its stderr. Panics if it exits successfully or is still running after a minute (a
    /// daemon that starts would serve forever).
    pub fn serve_refused(&self, env: &[(&str, &str)]) -> String {
        let mut cmd = self.siseri(["serve"]);
        on_free_ports(&mut cmd).envs(env.iter().copied());
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run siseri serve");
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait failed") {
                break status;
            }
            // A liveness bound on a loaded machine, not a performance check.
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("siseri serve started with {env:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
            .expect("read failed");
        assert!(
            !status.success(),
            "siseri serve exited successfully: {stderr}"
        );
        stderr
    }

    /// [`Sandbox::serve`], and the registry's address (`HOST:PORT`).
    pub fn serve_registry(&self, log: &str) -> (Server, String) {
        let (server, listening) = self.serve(log, &[]);
        (server, listening_addr(&listening, "registry"))
    }

    /// The database, opened with rusqlite (never the `sqlite3` tool, which may be missing).
    pub fn db(&self) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(self.data_file("siseri.db"))
            .expect("Connection::open failed");
        conn.busy_timeout(Duration::from_secs(30))
            .expect("busy_timeout failed");
        conn
    }

    /// `SELECT COUNT(*) FROM table`.
    pub fn count(&self, table: &str) -> i64 {
        self.db()
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .expect("query_row failed")
    }

    /// Issues an organisme certificate from a fresh P-256 CSR and returns (leaf PEM path,
    /// serial in upper-case hex as OpenSSL prints it).
    pub fn issue_organisme_from_csr(&self, name: &str, cn: &str) -> (PathBuf, String) {
        let csr = self.path(&format!("{name}.csr"));
        let key = self.path(&format!("{name}.key.pem"));
        make_csr(
            &csr,
            &key,
            &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        );
        let chain = self.path(&format!("{name}.chain.pem"));
        run_ok(&mut self.siseri([
            os("cert"),
            os("issue"),
            os("--profile"),
            os("organisme"),
            os("--cn"),
            os(cn),
            os("--csr"),
            csr.into_os_string(),
            os("--out"),
            chain.clone().into_os_string(),
        ]));
        let leaf = self.path(&format!("{name}.pem"));
        openssl_ok(&[
            os("x509"),
            os("-in"),
            chain.into_os_string(),
            os("-out"),
            leaf.clone().into_os_string(),
        ]);
        let serial = serial_of(&leaf);
        (leaf, serial)
    }
}

/// Every listener of a `siseri serve` command on a free loopback port.
pub fn on_free_ports(cmd: &mut Command) -> &mut Command {
    cmd.env("SISERI_LISTEN_PUBLIC", "127.0.0.1:0")
        .env("SISERI_LISTEN_REGISTRY", "127.0.0.1:0")
        .env("SISERI_LISTEN_ADMIN", "127.0.0.1:0")
        .env("SISERI_LISTEN_HTTP", "127.0.0.1:0")
        .env("SISERI_LISTEN_CONSOLE", "127.0.0.1:0")
}

/// The address (`HOST:PORT`) of listener `name` in `listening.json`.
pub fn listening_addr(listening: &serde_json::Value, name: &str) -> String {
    listening[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name:?} in listening.json: {listening}"))
        .to_owned()
}

/// Shorthand for building argument lists that mix strings and paths.
pub fn os(s: &str) -> std::ffi::OsString {
    s.into()
}

/// `siseri --data DIR`, with every inherited `SISERI_*` variable removed, the test passphrase
/// set, and cheap PKCS#12 key derivation (tests that care about the default remove it).
pub fn siseri(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_siseri"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SISERI_") {
            cmd.env_remove(&name);
        }
    }
    cmd.env_remove("RUST_LOG")
        .env("SISERI_CA_PASSPHRASE", PASSPHRASE)
        .env("SISERI_ISSUANCE_P12_ITERATIONS", "2048")
        .arg("--data")
        .arg(dir)
        .stdin(Stdio::null());
    cmd
}

fn describe(cmd: &Command, out: &Output) -> String {
    format!(
        "{cmd:?}\nexit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd`, which must succeed; returns its output.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "command failed:\n{}",
        describe(cmd, &out)
    );
    out
}

/// Runs `cmd`, which must fail with an exit code; returns (code, stderr).
pub fn run_fail(cmd: &mut Command) -> (i32, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        !out.status.success(),
        "command succeeded but should have failed:\n{}",
        describe(cmd, &out)
    );
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal:\n{}", describe(cmd, &out)));
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Asserts that `stderr` is exactly one non-empty line, and returns it.
pub fn one_line(stderr: &str) -> &str {
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one line on stderr, got:\n{stderr}"
    );
    assert!(!lines[0].trim().is_empty(), "empty error line");
    lines[0]
}

/// Stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("String::from_utf8 failed")
}

/// Fails the test, loudly, when an external tool is not on PATH: a missing tool must never
/// turn into a silently skipped check.
pub fn require_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if let Ok(meta) = fs::metadata(&candidate) {
            use std::os::unix::fs::PermissionsExt;
            if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                return candidate;
            }
        }
    }
    panic!(
        "required external tool `{name}` was not found on PATH; install it \
         (e.g. `apt-get install {name}`) — these tests never skip a check silently"
    );
}

/// `openssl ARGS…`, whatever its outcome.
pub fn openssl(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> Output {
    let tool = require_tool("openssl");
    Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("output failed")
}

/// `openssl ARGS…`, which must succeed; returns stdout.
pub fn openssl_ok(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> String {
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let out = openssl(&args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `openssl ARGS…`, which must fail; returns stdout and stderr together.
pub fn openssl_fails(args: impl IntoIterator<Item = impl AsRef<OsStr>>) -> String {
    let args: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().into()).collect();
    let out = openssl(&args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "openssl {args:?} succeeded but should have failed:\n{text}"
    );
    text
}

/// Whether `openssl req -verify` accepts a CSR's self-signature. OpenSSL 3.0 exits 0 even
/// when the signature is wrong, so the verdict is read from what it prints.
pub fn csr_self_signature_ok(csr: &Path) -> bool {
    let out = openssl([
        os("req"),
        os("-in"),
        csr.into(),
        os("-verify"),
        os("-noout"),
    ]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if said.contains("verify failure") {
        false
    } else if out.status.success() && said.contains("verify OK") {
        true
    } else {
        panic!(
            "unexpected `openssl req -verify` output for {}:\n{said}",
            csr.display()
        );
    }
}

/// Makes a PKCS#10 request with a fresh key: `openssl req -new NEWKEY… -nodes`.
pub fn make_csr(csr: &Path, key: &Path, newkey: &[&str]) {
    let mut args: Vec<std::ffi::OsString> = vec![os("req"), os("-new")];
    args.extend(newkey.iter().map(|a| os(a)));
    args.extend([
        os("-nodes"),
        os("-keyout"),
        key.into(),
        os("-subj"),
        os("/CN=whatever"),
        os("-out"),
        csr.into(),
    ]);
    openssl_ok(&args);
}

/// The serial of a PEM certificate as `openssl x509 -serial` prints it (`serial=HEX`).
pub fn serial_of(cert: &Path) -> String {
    let out = openssl_ok([
        os("x509"),
        os("-in"),
        cert.into(),
        os("-noout"),
        os("-serial"),
    ]);
    out.trim()
        .strip_prefix("serial=")
        .unwrap_or_else(|| panic!("unexpected `openssl x509 -serial` output: {out}"))
        .to_owned()
}

/// `openssl crl -text` of a DER CRL.
pub fn crl_text(der: &Path) -> String {
    openssl_ok([
        os("crl"),
        os("-inform"),
        os("DER"),
        os("-in"),
        der.into(),
        os("-noout"),
        os("-text"),
    ])
}

/// The CRL number shown under `X509v3 CRL Number:` in `openssl crl -text`.
pub fn crl_number(text: &str) -> u64 {
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("X509v3 CRL Number") {
            let value = lines.next().unwrap_or_default().trim();
            return value
                .parse()
                .unwrap_or_else(|_| panic!("CRL number `{value}` is not decimal in:\n{text}"));
        }
    }
    panic!("no CRL Number in:\n{text}");
}

/// The first certificate of a PEM file, parsed by x509-parser; calls `f` with it.
pub fn with_first_cert<T>(
    pem_path: &Path,
    f: impl FnOnce(&x509_parser::certificate::X509Certificate<'_>) -> T,
) -> T {
    let bytes = fs::read(pem_path).expect("read failed");
    let (_, pem) = x509_parser::pem::parse_x509_pem(&bytes)
        .unwrap_or_else(|e| panic!("{}: no PEM certificate: {e}", pem_path.display()));
    let cert = pem.parse_x509().expect("parse_x509 failed");
    f(&cert)
}

/// The subject common name of the first certificate of a PEM file.
pub fn subject_cn(pem_path: &Path) -> String {
    with_first_cert(pem_path, |c| {
        let cns: Vec<String> = c
            .subject()
            .iter_common_name()
            .map(|a| a.as_str().expect("as_str failed").to_owned())
            .collect();
        assert_eq!(cns.len(), 1, "expected one CN, got {cns:?}");
        cns[0].clone()
    })
}

/// Unix mode bits (permissions only) of a file.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every file under `root` with its bytes and modification time, to prove nothing changed.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read_dir failed") {
            let entry = entry.expect("entry failed");
            let meta = entry.metadata().expect("metadata failed");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.insert(
                    entry.path(),
                    (
                        fs::read(entry.path()).expect("read failed"),
                        meta.modified().expect("modified failed"),
                    ),
                );
            }
        }
    }
    out
}

/// Writes `bytes` to `path`.
pub fn write(path: &Path, bytes: &[u8]) {
    let mut f = fs::File::create(path).expect("File::create failed");
    f.write_all(bytes).expect("write_all failed");
}

/// PEM armour around DER.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("from_utf8 failed"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// A running `siseri serve`, killed when dropped (even when the test panics).
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// The data directory it serves.
    pub data: PathBuf,
    log: PathBuf,
}

impl Server {
    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `cmd` (a `siseri serve` command) with its output to `log`.
    pub fn start(mut cmd: Command, data: PathBuf, log: PathBuf) -> Self {
        let out = fs::File::create(&log).expect("File::create failed");
        let err = out.try_clone().expect("try_clone failed");
        cmd.stdout(Stdio::from(out)).stderr(Stdio::from(err));
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Self { child, data, log }
    }

    /// What the server wrote so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for `listening.json` (at most `limit`, a liveness bound, not a performance
    /// check) and returns it parsed. Fails at once if the server exits.
    pub fn wait_listening(&mut self, limit: Duration) -> serde_json::Value {
        let path = self.data.join("listening.json");
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait failed") {
                panic!(
                    "siseri serve exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            // The file is renamed into place whole, so a present file is a complete one.
            if let Ok(text) = fs::read_to_string(&path) {
                return serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("listening.json is not JSON ({e}): {text}"));
            }
            assert!(
                start.elapsed() < limit,
                "siseri serve did not write {} within {limit:?}:\n{}",
                path.display(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Server {
    /// The daemon's peak resident memory so far (`VmHWM`), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status =
            fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .expect("VmHWM")
    }

    /// Sends SIGTERM (with the `kill` tool: the tests forbid `unsafe`) and waits for the end;
    /// returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        run_ok(Command::new("kill").args(["-TERM", &pid]));
        self.child.wait().expect("wait failed")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `curl -sS --cacert CA ARGS… URL`, which must succeed; returns the body bytes.
pub fn curl(ca: &Path, url: &str, extra: &[&str]) -> Vec<u8> {
    let tool = require_tool("curl");
    let mut cmd = Command::new(tool);
    cmd.args(["-sS", "--fail", "--max-time", "30", "--cacert"])
        .arg(ca)
        .args(extra)
        .arg(url)
        .stdin(Stdio::null());
    run_ok(&mut cmd).stdout
}

/// The database of a `siseri backup` archive, extracted to `into` and opened read-only.
pub fn backup_database(archive: &Path, into: &Path) -> rusqlite::Connection {
    let file = fs::File::open(archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
    let mut tar = tar::Archive::new(file);
    let mut entry = tar
        .entries()
        .expect("entries failed")
        .map(|e| e.expect("entry failed"))
        .find(|e| e.path().is_ok_and(|p| p == Path::new("siseri.db")))
        .expect("no siseri.db in the archive");
    let mut out = fs::File::create(into).expect("create failed");
    std::io::copy(&mut entry, &mut out).expect("copy failed");
    rusqlite::Connection::open_with_flags(into, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the archive's database does not open")
}

/// A raw TLS client of a listener at `addr` (`IP:PORT`), trusting the CA certificates of the
/// PEM file `ca`, reads timing out after 300 ms.
pub fn tls_client(
    ca: &Path,
    addr: &str,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).expect("CA PEM") {
        roots.add(c.expect("CA certificate")).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    rustls::StreamOwned::new(conn, tcp)
}
