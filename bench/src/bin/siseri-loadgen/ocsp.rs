//! `--ocsp FILE`: OCSP requests per second. The DER OCSPRequest in FILE is POSTed to `--path`
//! (`application/ocsp-request`) again and again on kept-alive connections, `--concurrency` at
//! a time, for `--seconds` after `--warmup`; over TLS (the daemon's public listener) or, with
//! `--plain`, plain HTTP (`openssl ocsp -port`, which speaks nothing else). A connection the
//! server closes after a response is reopened (and its new handshake counted in the time).
//! Every answer must be `200` with an OCSPResponse whose status is `successful`.
//!
//! Prints one JSON line: requests per second, p50/p99 of request → response, errors, the
//! server's CPU per request and the connections opened.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::{http, percentile, procfs, round, Args, ERROR_PAUSE};

/// What every client task needs.
struct Plan {
    tls: Option<(TlsConnector, ServerName<'static>)>,
    addr: SocketAddr,
    request: Vec<u8>,
    start: Instant,
    end: Instant,
}

/// A server that has not answered in this time is stuck: the connection counts as an error.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Tally {
    requests: Vec<Duration>,
    connections: u64,
    errors: u64,
    first_error: Option<String>,
}

pub(crate) fn run(
    args: &Args,
    file: &std::path::Path,
    tls: Option<(TlsConnector, ServerName<'static>)>,
) -> Result<Value, String> {
    let body = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/ocsp-request\r\n\
         Content-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        args.path,
        args.server_name,
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
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
    let (tallies, pids, before, after) = runtime.block_on(async {
        let begin = Instant::now();
        let plan = Arc::new(Plan {
            tls,
            addr: args.addr,
            request,
            start: begin + warmup,
            end: begin + warmup + measured,
        });
        let tasks: Vec<_> = (0..args.concurrency.max(1))
            .map(|_| tokio::spawn(client(plan.clone())))
            .collect();
        tokio::time::sleep_until(plan.start.into()).await;
        let pids = args.pid.map(procfs::family).unwrap_or_default();
        let before = (
            Instant::now(),
            procfs::cpu_ticks(&pids),
            procfs::own_cpu_ticks(),
        );
        tokio::time::sleep_until(plan.end.into()).await;
        let after = (
            Instant::now(),
            procfs::cpu_ticks(&pids),
            procfs::own_cpu_ticks(),
        );
        let mut tallies = Vec::new();
        for task in tasks {
            tallies.push(task.await.map_err(|e| format!("task: {e}"))?);
        }
        Ok::<_, String>((tallies, pids, before, after))
    })?;
    let wall = after.0.duration_since(before.0).as_secs_f64();
    let mut requests: Vec<Duration> = tallies.iter().flat_map(|t| t.requests.clone()).collect();
    requests.sort_unstable();
    let done = requests.len() as u64;
    let errors: u64 = tallies.iter().map(|t| t.errors).sum();
    let first_error = tallies.iter().find_map(|t| t.first_error.clone());
    let server_ticks = after.1.saturating_sub(before.1);
    let client_ticks = after.2.saturating_sub(before.2);
    let per_request = (args.pid.is_some() && done > 0).then(|| {
        round(
            server_ticks as f64 * 1000.0 / args.clk_tck as f64 / done as f64,
            4,
        )
    });
    let mut out = Map::new();
    let fields = json!({
        "bench": "ocsp",
        "addr": args.addr.to_string(),
        "transport": if args.plain { "http" } else { "https" },
        "concurrency": args.concurrency,
        "seconds": round(wall, 3),
        "requests": done,
        "per_second": round(done as f64 / wall, 2),
        "errors": errors,
        "first_error": first_error,
        "connections": tallies.iter().map(|t| t.connections).sum::<u64>(),
        "request_ms_p50": percentile(&requests, 0.50),
        "request_ms_p99": percentile(&requests, 0.99),
        "server_processes": pids.len(),
        "server_cpu_ms_per_request": per_request,
        "server_cpu_cores": args.pid.map(|_| round(server_ticks as f64 / args.clk_tck as f64 / wall, 3)),
        "server_peak_rss_kb": procfs::peak_rss_kb(&pids).iter().max(),
        "client_cpu_ms_per_request": (done > 0)
            .then(|| round(client_ticks as f64 * 1000.0 / args.clk_tck as f64 / done as f64, 4)),
    });
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    for (k, v) in &args.labels {
        out.insert(k.clone(), v.clone());
    }
    if done == 0 && errors > 0 {
        return Err(format!(
            "no OCSP request succeeded in {wall:.1} s ({errors} errors; first: {})",
            first_error.as_deref().unwrap_or("none")
        ));
    }
    Ok(Value::Object(out))
}

async fn client(plan: Arc<Plan>) -> Tally {
    let mut tally = Tally::default();
    while Instant::now() < plan.end {
        let result = match TcpStream::connect(plan.addr).await {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                tally.connections += 1;
                match &plan.tls {
                    None => requests(&plan, tcp, &mut tally).await,
                    Some((connector, name)) => match connector.connect(name.clone(), tcp).await {
                        Ok(tls) => requests(&plan, tls, &mut tally).await,
                        Err(e) => Err(e),
                    },
                }
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            if Instant::now() >= plan.start && Instant::now() <= plan.end {
                tally.errors += 1;
            }
            tally.first_error.get_or_insert_with(|| e.to_string());
            tokio::time::sleep(ERROR_PAUSE).await;
        }
    }
    tally
}

/// Requests one after the other on one connection, until the plan ends or the server closes;
/// at least one: OpenSSL 3.0's responder spins on a connection closed before its request
/// (and answers no one else meanwhile).
async fn requests<S: AsyncRead + AsyncWrite + Unpin>(
    plan: &Plan,
    mut stream: S,
    tally: &mut Tally,
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(8 * 1024);
    loop {
        let sent = Instant::now();
        stream.write_all(&plan.request).await?;
        let (status, body, close) = tokio::time::timeout(
            RESPONSE_TIMEOUT,
            http::read_response_closing(&mut stream, &mut buf),
        )
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no response in 10 s"))??;
        let done = Instant::now();
        // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED (0 = successful), … }.
        let successful = body.len() > 5
            && body[0] == 0x30
            && body.windows(3).take(6).any(|w| w == [0x0a, 0x01, 0x00]);
        if status != 200 || !successful {
            return Err(io::Error::other(format!(
                "HTTP {status}, OCSPResponse of {} octets not successful",
                body.len()
            )));
        }
        if done >= plan.start && done <= plan.end {
            tally.requests.push(done - sent);
        }
        if close || done >= plan.end {
            return Ok(());
        }
    }
}
