//! Full mutual-TLS handshakes per second: several connections at a time, each one a new TCP
//! connection, a full handshake (no resumption: the client keeps no session), one
//! `GET /healthz` answered with `Connection: close`, for a fixed time after a warm-up. With
//! `--pid`, also the server's CPU per handshake (its process and direct children, from
//! `/proc/PID/stat`) and its peak RSS. Prints one JSON line; `scripts/bench_mtls.sh` runs it
//! against the registry and against nginx.
//!
//! `siseri-loadgen --addr 127.0.0.1:9443 --ca ca.pem --cert chain.pem --key key.pem --pid 1234`
//!
//! With `--requests N`, each connection is kept alive for N requests (`scripts/bench_import.sh`
//! reads pages of the workers list so, with a session cookie given by `--header`).
//!
//! With `--upload FILE`, one POST of the file to `--path` instead (the workers list's import):
//! the time from the first byte sent to the response read, and the response's body. curl does
//! the same but, on a two-core machine, spends seven seconds of CPU polling its socket while
//! the server takes a 177 MB file: CPU the server under test then lacks.
//!
//! With `--ocsp FILE`, OCSP requests per second instead (`ocsp.rs`): FILE POSTed again and
//! again on kept-alive connections, over TLS or, with `--plain`, plain HTTP.

mod flood;
mod http;
mod ocsp;
mod procfs;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rustls::client::Resumption;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::{self, PemObject};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// After a failed connection, so that a refusing server does not turn into a busy loop.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

#[derive(Debug, Parser)]
#[command(name = "siseri-loadgen")]
struct Args {
    /// Server address.
    #[arg(long)]
    addr: SocketAddr,
    /// Name sent (SNI) and checked in the server certificate.
    #[arg(long, default_value = "localhost")]
    server_name: String,
    /// CA certificate(s) trusted for the server (PEM).
    #[arg(long)]
    ca: PathBuf,
    /// Client certificate chain (PEM, leaf first); none: no client certificate.
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Path of the GET; `{page}` in it becomes a random page number (see `--pages`).
    #[arg(long, default_value = "/healthz")]
    path: String,
    /// Requests per connection (kept alive between them).
    #[arg(long, default_value_t = 1)]
    requests: u32,
    /// `{page}` in `--path` is drawn from 1..=PAGES.
    #[arg(long, default_value_t = 1)]
    pages: u64,
    /// An extra request header, `Name: value` (a session cookie); repeatable.
    #[arg(long = "header")]
    headers: Vec<String>,
    /// Connections in flight at any time.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured time, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Time under load before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Server process: its CPU time and that of its direct children are measured.
    #[arg(long)]
    pid: Option<u32>,
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// TLS version offered: 1.3, 1.2 or any.
    #[arg(long, default_value = "1.3")]
    tls: String,
    /// Client runtime threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// POST this file to `--path` once, instead of GETs, and report the time and the answer.
    #[arg(long)]
    upload: Option<PathBuf>,
    /// Content-Type of `--upload` and `--body`.
    #[arg(long, default_value = "text/csv")]
    content_type: String,
    /// Each request a POST of this file's bytes to `--path` (a result to record), instead of
    /// a GET; any 2xx answer counts.
    #[arg(long)]
    body: Option<PathBuf>,
    /// Flood `--addr` with this many connections at a time for `--seconds` instead (see
    /// `flood.rs`); no other measure.
    #[arg(long)]
    flood: Option<usize>,
    /// What each flooding connection does: idle, slow-headers, slow-body, tls-idle,
    /// draft-spam.
    #[arg(long, default_value = "idle")]
    flood_mode: String,
    /// POST this DER OCSPRequest to `--path` again and again and report requests per second.
    #[arg(long)]
    ocsp: Option<PathBuf>,
    /// Plain HTTP instead of TLS (`--ocsp` only).
    #[arg(long)]
    plain: bool,
    /// KEY=VALUE copied into the JSON line (numbers stay numbers); repeatable.
    #[arg(long = "label", value_parser = parse_label)]
    labels: Vec<(String, Value)>,
}

fn parse_label(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s.split_once('=').ok_or("expected KEY=VALUE")?;
    let value = v
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(v));
    Ok((k.to_owned(), value))
}

/// What one connection task saw inside the measured window.
#[derive(Debug, Default)]
struct Tally {
    /// Connection opened → first response read, for each connection counted.
    connections: Vec<Duration>,
    /// Request sent → response read.
    requests: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

/// What every connection task does, and when.
struct Plan {
    connector: TlsConnector,
    addr: SocketAddr,
    name: ServerName<'static>,
    host: String,
    path: String,
    pages: u64,
    headers: String,
    /// `--body`: (Content-Type, bytes) POSTed by every request.
    body: Option<(String, Vec<u8>)>,
    requests: u32,
    start: Instant,
    end: Instant,
}

impl Plan {
    fn counts(&self, t: Instant) -> bool {
        t >= self.start && t <= self.end
    }

    fn request(&self, rng: &mut u64, last: bool) -> Vec<u8> {
        let path = if self.path.contains("{page}") {
            // xorshift64: cheap, and good enough to spread pages.
            *rng ^= *rng << 13;
            *rng ^= *rng >> 7;
            *rng ^= *rng << 17;
            self.path
                .replace("{page}", &(1 + *rng % self.pages.max(1)).to_string())
        } else {
            self.path.clone()
        };
        let close = if last { "Connection: close\r\n" } else { "" };
        match &self.body {
            None => format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\n{}{close}\r\n",
                self.host, self.headers
            )
            .into_bytes(),
            Some((media_type, bytes)) => {
                let mut request = format!(
                    "POST {path} HTTP/1.1\r\nHost: {}\r\n{}Content-Type: {media_type}\r\nContent-Length: {}\r\n{close}\r\n",
                    self.host,
                    self.headers,
                    bytes.len()
                )
                .into_bytes();
                request.extend_from_slice(bytes);
                request
            }
        }
    }
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("siseri-loadgen: {e}");
            std::process::exit(1);
        }
    }
}

fn run(args: &Args) -> Result<Value, String> {
    if let Some(file) = &args.upload {
        return upload(args, file);
    }
    if let Some(file) = &args.ocsp {
        let tls = if args.plain {
            None
        } else {
            let connector = TlsConnector::from(Arc::new(client_config(args)?));
            let name = ServerName::try_from(args.server_name.clone())
                .map_err(|e| format!("--server-name: {e}"))?;
            Some((connector, name))
        };
        return ocsp::run(args, file, tls);
    }
    let connector = TlsConnector::from(Arc::new(client_config(args)?));
    let name = ServerName::try_from(args.server_name.clone())
        .map_err(|e| format!("--server-name: {e}"))?;
    if let Some(n) = args.flood {
        return flood::run(
            connector,
            name,
            args.addr,
            n,
            &args.flood_mode,
            args.seconds,
        );
    }
    let headers = header_lines(args)?;
    let body = match &args.body {
        Some(file) => Some((
            args.content_type.clone(),
            std::fs::read(file).map_err(|e| format!("--body {}: {e}", file.display()))?,
        )),
        None => None,
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;

    let warmup = Duration::from_secs_f64(args.warmup);
    let measured = Duration::from_secs_f64(args.seconds);
    let (tallies, window) = runtime.block_on(async {
        let begin = tokio::time::Instant::now();
        let (start, end) = (begin + warmup, begin + warmup + measured);
        let plan = Arc::new(Plan {
            connector,
            addr: args.addr,
            name,
            host: args.server_name.clone(),
            path: args.path.clone(),
            pages: args.pages,
            headers,
            body,
            requests: args.requests.max(1),
            start: start.into_std(),
            end: end.into_std(),
        });
        let tasks: Vec<_> = (0..args.concurrency.max(1))
            .map(|i| tokio::spawn(client(plan.clone(), 0x9E37_79B9_7F4A_7C15 ^ i as u64)))
            .collect();
        tokio::time::sleep_until(start).await;
        let pids = args.pid.map(procfs::family).unwrap_or_default();
        let before = (
            Instant::now(),
            procfs::cpu_ticks(&pids),
            procfs::own_cpu_ticks(),
        );
        tokio::time::sleep_until(end).await;
        let after = (
            Instant::now(),
            procfs::cpu_ticks(&pids),
            procfs::own_cpu_ticks(),
        );
        let mut tallies = Vec::new();
        for task in tasks {
            tallies.push(task.await.map_err(|e| format!("task: {e}"))?);
        }
        Ok::<_, String>((tallies, (pids, before, after)))
    })?;

    let (pids, before, after) = window;
    let wall = after.0.duration_since(before.0).as_secs_f64();
    let sorted = |pick: fn(&Tally) -> &Vec<Duration>| {
        let mut all: Vec<Duration> = tallies.iter().flat_map(|t| pick(t).clone()).collect();
        all.sort_unstable();
        all
    };
    let connections = sorted(|t| &t.connections);
    let requests = sorted(|t| &t.requests);
    let (handshakes, done) = (connections.len() as u64, requests.len() as u64);
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let first_error = tallies.iter().find_map(|t| t.first_error.clone());
    let per = |ticks: u64, n: u64| {
        (args.pid.is_some() && n > 0)
            .then(|| round(ticks as f64 * 1000.0 / args.clk_tck as f64 / n as f64, 4))
    };
    let server_ticks = after.1.saturating_sub(before.1);
    let client_ticks = after.2.saturating_sub(before.2);
    let (peak, rss) = (procfs::peak_rss_kb(&pids), procfs::rss_kb(&pids));

    let mut out = Map::new();
    let fields = json!({
        "bench": "mtls_handshake",
        "addr": args.addr.to_string(),
        "tls": args.tls,
        "concurrency": args.concurrency,
        "requests_per_connection": args.requests.max(1),
        "seconds": round(wall, 3),
        "handshakes": handshakes,
        "per_second": round(handshakes as f64 / wall, 2),
        "requests": done,
        "requests_per_second": round(done as f64 / wall, 2),
        "errors": errors,
        "first_error": first_error,
        "connection_ms_p50": percentile(&connections, 0.50),
        "connection_ms_p99": percentile(&connections, 0.99),
        "request_ms_p50": percentile(&requests, 0.50),
        "request_ms_p99": percentile(&requests, 0.99),
        "server_processes": pids.len(),
        "server_cpu_ms_per_handshake": per(server_ticks, handshakes),
        "server_cpu_ms_per_request": per(server_ticks, done),
        "server_cpu_cores": args.pid.map(|_| round(server_ticks as f64 / args.clk_tck as f64 / wall, 3)),
        "server_peak_rss_kb": peak.iter().max(),
        "server_peak_rss_kb_sum": args.pid.map(|_| peak.iter().sum::<u64>()),
        "server_rss_kb": rss.iter().max(),
        "client_cpu_ms_per_handshake": (handshakes > 0)
            .then(|| round(client_ticks as f64 * 1000.0 / args.clk_tck as f64 / handshakes as f64, 4)),
    });
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    // Labels last: `--label bench=requests` names another benchmark.
    for (k, v) in &args.labels {
        out.insert(k.clone(), v.clone());
    }
    // Nothing finished and nothing failed: a server too slow for the window, which the figures
    // say; failures alone are an error.
    if done == 0 && errors > 0 {
        return Err(format!(
            "no request succeeded in {wall:.1} s ({errors} errors; first: {})",
            first_error.as_deref().unwrap_or("none")
        ));
    }
    Ok(Value::Object(out))
}

fn round(v: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (v * f).round() / f
}

/// In milliseconds, of sorted durations.
fn percentile(sorted: &[Duration], p: f64) -> Option<f64> {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).map(|d| round(d.as_secs_f64() * 1000.0, 3))
}

/// One connection after another until the end of the plan.
async fn client(plan: Arc<Plan>, seed: u64) -> Tally {
    let mut tally = Tally::default();
    let mut rng = seed | 1;
    while Instant::now() < plan.end {
        if let Err(e) = connection(&plan, &mut rng, &mut tally).await {
            if plan.counts(Instant::now()) {
                tally.errors += 1;
            }
            tally.first_error.get_or_insert_with(|| e.to_string());
            tokio::time::sleep(ERROR_PAUSE).await;
        }
    }
    tally
}

/// A new TCP connection, a full handshake, `plan.requests` GETs one after the other (fewer
/// when the plan ends), each response read whole.
async fn connection(plan: &Plan, rng: &mut u64, tally: &mut Tally) -> io::Result<()> {
    let opened = Instant::now();
    let tcp = TcpStream::connect(plan.addr).await?;
    tcp.set_nodelay(true)?;
    let mut tls = plan.connector.connect(plan.name.clone(), tcp).await?;
    let mut buf = Vec::with_capacity(16 * 1024);
    for i in 0..plan.requests {
        let last = i + 1 == plan.requests;
        let sent = Instant::now();
        tls.write_all(&plan.request(rng, last)).await?;
        let status = http::read_response(&mut tls, &mut buf).await?;
        let done = Instant::now();
        if !(200..300).contains(&status) {
            return Err(io::Error::other(format!("HTTP status {status}")));
        }
        if plan.counts(done) {
            if i == 0 {
                tally.connections.push(done - opened);
            }
            tally.requests.push(done - sent);
        }
        if last {
            // `Connection: close`: the server closes; wait for it, as a browser would not, so
            // that its work for this connection falls in the window.
            let mut rest = [0u8; 512];
            while let Ok(n) = tls.read(&mut rest).await {
                if n == 0 {
                    break;
                }
            }
        } else if done >= plan.end {
            break;
        }
    }
    Ok(())
}

/// The `--header` options as request header lines, each ended by CRLF.
fn header_lines(args: &Args) -> Result<String, String> {
    let mut headers = String::new();
    for h in &args.headers {
        if !h.contains(':') || h.contains(['\r', '\n']) {
            return Err(format!("--header {h:?}: expected `Name: value`"));
        }
        headers.push_str(h);
        headers.push_str("\r\n");
    }
    Ok(headers)
}

/// Bytes read from the file and written at a time by `--upload`.
const UPLOAD_CHUNK: usize = 256 * 1024;

/// `--upload`: one connection, one POST of the file (with `Content-Length`), its response.
fn upload(args: &Args, file: &Path) -> Result<Value, String> {
    let connector = TlsConnector::from(Arc::new(client_config(args)?));
    let name = ServerName::try_from(args.server_name.clone())
        .map_err(|e| format!("--server-name: {e}"))?;
    let headers = header_lines(args)?;
    let size = std::fs::metadata(file)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .len();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let pids = args.pid.map(procfs::family).unwrap_or_default();
    let (status, body, seconds, client_ticks) = runtime
        .block_on(async {
            let tcp = TcpStream::connect(args.addr).await?;
            tcp.set_nodelay(true)?;
            let mut tls = connector.connect(name, tcp).await?;
            let head = format!(
                "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: {}\r\nContent-Length: {size}\r\n\
                 {headers}Connection: close\r\n\r\n",
                args.path, args.server_name, args.content_type
            );
            let (started, ticks) = (Instant::now(), procfs::own_cpu_ticks());
            tls.write_all(head.as_bytes()).await?;
            let mut input = tokio::fs::File::open(file).await?;
            let mut chunk = vec![0u8; UPLOAD_CHUNK];
            loop {
                let n = input.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                tls.write_all(&chunk[..n]).await?;
            }
            tls.flush().await?;
            let mut buf = Vec::with_capacity(64 * 1024);
            let (status, body) = http::read_response_body(&mut tls, &mut buf).await?;
            let seconds = started.elapsed().as_secs_f64();
            let ticks = procfs::own_cpu_ticks().saturating_sub(ticks);
            Ok::<_, io::Error>((status, body, seconds, ticks))
        })
        .map_err(|e| format!("upload: {e}"))?;
    let body = serde_json::from_slice::<Value>(&body)
        .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&body).into_owned()));
    let (peak, rss) = (procfs::peak_rss_kb(&pids), procfs::rss_kb(&pids));
    let mut out = Map::new();
    let fields = json!({
        "bench": "upload",
        "addr": args.addr.to_string(),
        "bytes": size,
        "status": status,
        "seconds": round(seconds, 3),
        "client_cpu_seconds": round(client_ticks as f64 / args.clk_tck as f64, 3),
        "server_peak_rss_kb": peak.iter().max(),
        "server_rss_kb": rss.iter().max(),
        "response": body,
    });
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    for (k, v) in &args.labels {
        out.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(out))
}

/// Trusts `--ca` only, presents `--cert`/`--key`, and keeps no session: every connection is
/// a full handshake.
fn client_config(args: &Args) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    for cert in certs(&args.ca)? {
        roots
            .add(cert)
            .map_err(|e| format!("{}: {e}", args.ca.display()))?;
    }
    let versions: &[&rustls::SupportedProtocolVersion] = match args.tls.as_str() {
        "1.3" => &[&rustls::version::TLS13],
        "1.2" => &[&rustls::version::TLS12],
        "any" => rustls::DEFAULT_VERSIONS,
        other => return Err(format!("--tls {other}: expected 1.3, 1.2 or any")),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_root_certificates(roots);
    let mut config = match (&args.cert, &args.key) {
        (Some(cert), Some(k)) => builder
            .with_client_auth_cert(certs(cert)?, key(k)?)
            .map_err(|e| format!("client certificate: {e}"))?,
        (None, None) => builder.with_no_client_auth(),
        _ => return Err("--cert and --key go together".into()),
    };
    config.resumption = Resumption::disabled();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate", path.display()));
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    // The parser's own messages may quote the file: never a key's bytes in an error.
    PrivateKeyDer::from_pem_file(path).map_err(|e| match e {
        pem::Error::NoItemsFound => format!("{}: no private key", path.display()),
        pem::Error::Io(e) => format!("{}: {e}", path.display()),
        _ => format!("{}: unreadable private key (PEM)", path.display()),
    })
}
