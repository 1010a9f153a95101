//! AC SISERI's signer as a process of its own: `siseri signer` holds the CA key (it alone reads
//! the encrypted key and its passphrase) and answers on a Unix socket; every other process
//! builds its [`Authority`] on a [`SignerClient`] and never sees the key.
//!
//! - `siseri serve` starts one as its child on `DATA/run/signer.sock` (restarted if it dies),
//!   unless `[signer] socket` names one run apart (its own systemd service and Unix user);
//! - a CLI command that signs uses the configured signer, else the daemon's, else starts a
//!   short-lived one of its own on a private socket, gone with the command.
//!
//! A child signer is tied to its parent by its standard input: it exits when that closes,
//! which the kernel does when the parent dies, however it dies.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ca::signer::{SignerClient, SignerService};
use ca::Authority;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::config::Config;
use crate::datadir::DataDir;
use crate::error::AppError;

/// The line a signer prints on its standard output once it listens.
const READY: &str = "signataire prêt";

/// `siseri signer`: decrypts the CA key, listens on `socket` (by default `[signer] socket`,
/// else `DATA/run/signer.sock`) and signs what passes its checks, until killed or, when `tied`,
/// until its standard input closes. With `receipts`, it also holds the receipt key (see
/// [`crate::recepisse`]); a CLI command's short-lived signer, which signs none, goes without.
pub fn run(
    dir: &DataDir,
    socket: Option<PathBuf>,
    tied: bool,
    receipts: bool,
) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let socket = socket
        .or_else(|| config.signer.socket.clone())
        .unwrap_or_else(|| dir.signer_socket());
    let authority = dir.hold_authority(&config)?;
    owner_only_file(&dir.signer_audit())?;
    let clock: Arc<dyn store::Clock> = Arc::new(store::SystemClock);
    let service = Arc::new(SignerService::new(
        authority,
        &dir.database(),
        &dir.signer_audit(),
        clock,
    )?);
    let listener = bind(&socket)?;
    if receipts {
        crate::recepisse::start(dir, &config, &service);
    }
    if tied {
        tracing::debug!(socket = %socket.display(), "signataire de l'AC à l'écoute");
    } else {
        tracing::info!(socket = %socket.display(), "signataire de l'AC à l'écoute");
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{READY}").and_then(|()| stdout.flush());
    // Run as its own service (`Type=notify`): systemd starts the daemon once this is sent. A
    // child tells its parent only (above), never its parent's systemd.
    if !tied {
        crate::systemd::ready();
    }
    if tied {
        let path = socket.clone();
        std::thread::spawn(move || {
            let mut sink = [0u8; 64];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = std::fs::remove_file(&path);
            std::process::exit(0);
        });
    }
    service
        .serve(listener)
        .map_err(|e| AppError::io(&socket, e))
}

/// Creates `path` empty and owner-only if it does not exist (SQLite gives its journal files
/// the database file's mode).
fn owner_only_file(path: &Path) -> Result<(), AppError> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| AppError::io(path, e))
}

/// Listens on `socket`: its directory is made owner-only when we create it; a socket file
/// left by a dead signer is replaced, a live one is refused.
fn bind(socket: &Path) -> Result<UnixListener, AppError> {
    if let Some(parent) = socket.parent() {
        if !parent.exists() {
            std::fs::create_dir_all(parent).map_err(|e| AppError::io(parent, e))?;
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| AppError::io(parent, e))?;
        }
    }
    if socket.exists() {
        // The signer of a daemon that just died exits as soon as it sees its standard input
        // close: give it a few seconds before calling the socket taken.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while UnixStream::connect(socket).is_ok() {
            if std::time::Instant::now() > deadline {
                return Err(AppError::DataDir(format!(
                    "un signataire écoute déjà sur {}",
                    socket.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // A live signer removes its socket when it exits; what is left is a dead one's.
        let _ = std::fs::remove_file(socket);
    }
    let listener = UnixListener::bind(socket).map_err(|e| AppError::io(socket, e))?;
    // Owner and group (a signer run under its own user shares its socket with the daemon's
    // group); the directory decides who reaches it.
    std::fs::set_permissions(socket, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| AppError::io(socket, e))?;
    Ok(listener)
}

/// AC SISERI for a command that signs: through the configured signer, else the daemon's,
/// else a short-lived signer started for this command.
pub fn authority(dir: &DataDir, config: &Config) -> Result<Authority, AppError> {
    let (pem, fingerprint) = ca_certificate(dir)?;
    if let Some(socket) = &config.signer.socket {
        let client = SignerClient::connect(socket, &fingerprint)?;
        return Ok(Authority::with_signer(&pem, config.policy(), client)?);
    }
    if let Ok(client) = SignerClient::connect(&dir.signer_socket(), &fingerprint) {
        return Ok(Authority::with_signer(&pem, config.policy(), client)?);
    }
    let socket = private_socket(dir)?;
    let child = spawn(dir, &socket, false)?;
    let client = SignerClient::connect_keeping(&socket, &fingerprint, Some(Box::new(child)))?;
    Ok(Authority::with_signer(&pem, config.policy(), client)?)
}

/// The daemon's signer: its own child on `DATA/run/signer.sock`, watched and restarted by a
/// thread, or the one `[signer] socket` names.
pub fn for_daemon(
    dir: &DataDir,
    config: &Config,
) -> Result<(Authority, Option<Supervisor>), AppError> {
    let (pem, fingerprint) = ca_certificate(dir)?;
    if let Some(socket) = &config.signer.socket {
        let client = SignerClient::connect(socket, &fingerprint)?;
        return Ok((Authority::with_signer(&pem, config.policy(), client)?, None));
    }
    let socket = dir.signer_socket();
    let child = spawn(dir, &socket, true)?;
    let supervisor = Supervisor::start(dir.clone(), socket.clone(), child)?;
    let client = SignerClient::connect(&socket, &fingerprint)?;
    Ok((
        Authority::with_signer(&pem, config.policy(), client)?,
        Some(supervisor),
    ))
}

/// AC SISERI's certificate (PEM) and its SHA-256, which the signer must answer with.
fn ca_certificate(dir: &DataDir) -> Result<(String, Vec<u8>), AppError> {
    let pem = dir.read_ca_cert()?;
    let der = CertificateDer::from_pem_slice(pem.as_bytes())
        .map_err(|_| AppError::DataDir(format!("{} illisible", dir.ca_cert().display())))?;
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der)
        .as_ref()
        .to_vec();
    Ok((pem, fingerprint))
}

/// A socket path of our own for a short-lived signer: under `DATA/run/` when it fits the
/// 108 bytes of a Unix socket address, else in a private temporary directory.
fn private_socket(dir: &DataDir) -> Result<PathBuf, AppError> {
    let name = format!(
        "signer-{}-{}.sock",
        std::process::id(),
        hex::encode(store::random::random_bytes::<4>()?)
    );
    let inside = dir.run_dir().join(&name);
    if inside.as_os_str().len() < 100 {
        return Ok(inside);
    }
    let private = tempfile::Builder::new()
        .prefix("siseri-signer-")
        .tempdir()
        .map_err(|e| AppError::io(&std::env::temp_dir(), e))?
        .keep();
    Ok(private.join("s.sock"))
}

/// A signer child process, stopped when dropped (its standard input closed, then killed if
/// it lingers).
struct SignerChild {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for SignerChild {
    fn drop(&mut self) {
        drop(self.stdin.take());
        for _ in 0..20 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `siseri signer` on `socket`, tied to us (with the receipt key if `receipts`), and
/// waits until it listens. Its standard
/// error is passed on to ours (its logs); if it does not start, its own message becomes ours.
fn spawn(dir: &DataDir, socket: &Path, receipts: bool) -> Result<SignerChild, AppError> {
    let exe = std::env::current_exe().map_err(|e| AppError::io(Path::new("siseri"), e))?;
    let mut command = Command::new(exe);
    command
        .arg("--data")
        .arg(dir.root())
        .arg("signer")
        .arg("--socket")
        .arg(socket)
        .arg("--tied");
    if !receipts {
        command.arg("--no-receipts");
    }
    // Its logs join ours on our standard error: in our format (`--log-format` included).
    if let Some(format) = crate::logging::format_name() {
        command.env("SISERI_LOG_FORMAT", format);
    }
    let mut child = command
        // The parent's readiness is the parent's to tell.
        .env_remove("NOTIFY_SOCKET")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| AppError::io(Path::new("siseri signer"), e))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let mut started = SignerChild { child, stdin };
    let mut line = String::new();
    if let Some(stdout) = stdout {
        let _ = BufReader::new(stdout).read_line(&mut line);
    }
    if line.trim() == READY {
        if let Some(stderr) = stderr {
            std::thread::spawn(move || {
                let mut stderr = stderr;
                let _ = std::io::copy(&mut stderr, &mut std::io::stderr());
            });
        }
        return Ok(started);
    }
    let mut said = String::new();
    if let Some(mut stderr) = stderr {
        let _ = stderr.read_to_string(&mut said);
    }
    let status = started.child.wait().ok();
    let said = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().trim_start_matches("erreur : ").to_owned());
    Err(AppError::DataDir(match said {
        Some(said) => said,
        None => format!(
            "le signataire de l'AC n'a pas démarré ({})",
            status.map_or_else(|| "état inconnu".into(), |s| s.to_string())
        ),
    }))
}

/// Watches the daemon's signer child and starts a new one when it dies, until stopped.
pub struct Supervisor {
    stop: Arc<AtomicBool>,
    up: Arc<AtomicBool>,
    child: Arc<Mutex<Option<SignerChild>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("up", &self.up.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    fn start(dir: DataDir, socket: PathBuf, child: SignerChild) -> Result<Self, AppError> {
        let stop = Arc::new(AtomicBool::new(false));
        let up = Arc::new(AtomicBool::new(true));
        let child = Arc::new(Mutex::new(Some(child)));
        let thread = {
            let (stop, up, child) = (stop.clone(), up.clone(), child.clone());
            std::thread::Builder::new()
                .name("siseri-signataire".into())
                .spawn(move || watch(&dir, &socket, &stop, &up, &child))
                .map_err(|e| AppError::io(Path::new("siseri-signataire"), e))?
        };
        Ok(Self {
            stop,
            up,
            child,
            thread: Some(thread),
        })
    }

    /// True while the signer child runs (for `/metrics`).
    pub fn up(&self) -> Arc<AtomicBool> {
        self.up.clone()
    }

    /// The signer child's process id, if one runs.
    pub fn pid(&self) -> Option<u32> {
        let guard = self.child.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().map(|c| c.child.id())
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Dropping the child closes its standard input: it exits.
        self.child.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

fn watch(
    dir: &DataDir,
    socket: &Path,
    stop: &AtomicBool,
    up: &AtomicBool,
    slot: &Mutex<Option<SignerChild>>,
) {
    let mut backoff = Duration::from_millis(200);
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        let running = match guard.as_mut() {
            Some(c) => matches!(c.child.try_wait(), Ok(None)),
            None => false,
        };
        if running {
            backoff = Duration::from_millis(200);
            continue;
        }
        up.store(false, Ordering::SeqCst);
        if let Some(c) = guard.as_mut() {
            if let Ok(Some(status)) = c.child.try_wait() {
                tracing::error!(état = %status, "le signataire de l'AC s'est arrêté : relance");
            }
        }
        guard.take();
        drop(guard);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match spawn(dir, socket, true) {
            Ok(child) => {
                *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
                up.store(true, Ordering::SeqCst);
                tracing::info!("signataire de l'AC relancé");
            }
            Err(e) => {
                tracing::error!(erreur = %e, "relance du signataire de l'AC impossible");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}
