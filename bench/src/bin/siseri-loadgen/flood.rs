//! `--flood N`: the attacks of a connection flood against one listener, held for `--seconds`
//! after `--warmup`: N connections at a time, each reopened as soon as the server drops it.
//! From 127.0.0.0/8 source addresses spread so that no address holds more than
//! [`PER_SOURCE`] (the daemon's per-address budget would otherwise refuse them at once).
//!
//! - `idle`: TCP only, not a byte (the TLS handshake timeout is the defence);
//! - `slow-headers`: TLS, then a request header a byte every second (the header timeout);
//! - `slow-body`: TLS, a POST whose declared body comes a byte every second (the minimum body
//!   rate);
//! - `tls-idle`: TLS, then nothing (the idle timeout);
//! - `draft-spam`: TLS, then drafts (the seed's protocol) posted to `/api/v1/protocols` one
//!   after the other on a kept-alive connection (the drafts per address rate limit, 429).
//!
//! Prints one JSON line: connections opened, dropped by the server, the most held at once, and
//! for `draft-spam` the answers by status.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;

/// Connections per source address (the daemon allows 64 by default).
const PER_SOURCE: usize = 60;

#[derive(Debug, Default)]
struct Counts {
    opened: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    held: AtomicU64,
    held_max: AtomicU64,
    /// `draft-spam`: drafts created (201), refused by the rate limit (429), other answers.
    created: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
}

/// The seed's protocol, the draft `draft-spam` posts.
const PROTOCOL: &str = include_str!("../../../../enroll/tests/data/protocol.json");
const MODES: [&str; 5] = [
    "idle",
    "slow-headers",
    "slow-body",
    "tls-idle",
    "draft-spam",
];

pub(crate) fn run(
    connector: TlsConnector,
    name: ServerName<'static>,
    addr: SocketAddr,
    n: usize,
    mode: &str,
    seconds: f64,
) -> Result<Value, String> {
    if !MODES.contains(&mode) {
        return Err(format!(
            "--flood-mode {mode}: expected one of {}",
            MODES.join(", ")
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?;
    let counts = Arc::new(Counts::default());
    let mode = mode.to_owned();
    runtime.block_on(async {
        let end = tokio::time::Instant::now() + Duration::from_secs_f64(seconds);
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let source = IpAddr::V4(Ipv4Addr::new(
                    127,
                    1 + (i / PER_SOURCE / 250) as u8,
                    (i / PER_SOURCE % 250) as u8,
                    2,
                ));
                let (connector, name, counts, mode) = (
                    connector.clone(),
                    name.clone(),
                    counts.clone(),
                    mode.clone(),
                );
                tokio::spawn(async move {
                    while tokio::time::Instant::now() < end {
                        let attempt = tokio::time::timeout_at(
                            end,
                            hold(&connector, &name, addr, source, &mode, &counts),
                        );
                        match attempt.await {
                            Ok(Ok(())) => {
                                counts.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(Err(_)) => {
                                counts.failed.fetch_add(1, Ordering::Relaxed);
                                tokio::time::sleep(Duration::from_millis(100)).await;
                            }
                            Err(_) => break,
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    });
    Ok(json!({
        "bench": "flood",
        "mode": mode,
        "addr": addr.to_string(),
        "flood": n,
        "seconds": seconds,
        "opened": counts.opened.load(Ordering::Relaxed),
        "dropped_by_server": counts.dropped.load(Ordering::Relaxed),
        "failed": counts.failed.load(Ordering::Relaxed),
        "held_max": counts.held_max.load(Ordering::Relaxed),
        "drafts_created": counts.created.load(Ordering::Relaxed),
        "drafts_limited": counts.limited.load(Ordering::Relaxed),
        "drafts_other": counts.other.load(Ordering::Relaxed),
    }))
}

/// One attacking connection until the server drops it: `Ok` then.
async fn hold(
    connector: &TlsConnector,
    name: &ServerName<'static>,
    addr: SocketAddr,
    source: IpAddr,
    mode: &str,
    counts: &Counts,
) -> std::io::Result<()> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let tcp: TcpStream = socket.connect(addr).await?;
    counts.opened.fetch_add(1, Ordering::Relaxed);
    let held = counts.held.fetch_add(1, Ordering::Relaxed) + 1;
    counts.held_max.fetch_max(held, Ordering::Relaxed);
    let result = attack(connector, name, tcp, mode, counts).await;
    counts.held.fetch_sub(1, Ordering::Relaxed);
    result
}

async fn attack(
    connector: &TlsConnector,
    name: &ServerName<'static>,
    mut tcp: TcpStream,
    mode: &str,
    counts: &Counts,
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    if mode == "idle" {
        // Until the server closes.
        while tcp.read(&mut buf).await? > 0 {}
        return Ok(());
    }
    let mut tls = connector.connect(name.clone(), tcp).await?;
    if mode == "draft-spam" {
        return spam(&mut tls, counts).await;
    }
    let dribble: &[u8] = match mode {
        "slow-headers" => b"GET /pass/ HTTP/1.1\r\nHost: localhost\r\nX-Lent: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "slow-body" => {
            tls.write_all(
                b"POST /api/v1/protocols HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
            )
            .await?;
            &[b' '; 4096]
        }
        _ => b"",
    };
    for byte in dribble.chunks(1) {
        tls.write_all(byte).await?;
        tls.flush().await?;
        // A closed connection shows as a read of 0 (or an error) within the second.
        match tokio::time::timeout(Duration::from_secs(1), tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(()),
            Ok(Ok(_)) => {
                // An answer (408): the server is done with us.
                return Ok(());
            }
            Err(_) => {}
        }
    }
    while tls.read(&mut buf).await? > 0 {}
    Ok(())
}

/// Drafts posted one after the other on one connection until the server closes it.
async fn spam<S>(tls: &mut S, counts: &Counts) -> std::io::Result<()>
where
    S: AsyncReadExt + AsyncWriteExt + Unpin,
{
    let request = format!(
        "POST /api/v1/protocols HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{PROTOCOL}",
        PROTOCOL.len()
    );
    let mut pending = Vec::with_capacity(8192);
    let mut buf = [0u8; 8192];
    loop {
        tls.write_all(request.as_bytes()).await?;
        tls.flush().await?;
        // One answer: its head, then as many bytes as its Content-Length says.
        let (status, body_len, head_len) = loop {
            if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&pending[..end]).to_ascii_lowercase();
                let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
                let len = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (status, len, end + 4);
            }
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        };
        while pending.len() < head_len + body_len {
            let n = tls.read(&mut buf).await?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        }
        pending.drain(..head_len + body_len);
        match status {
            201 => &counts.created,
            429 => &counts.limited,
            _ => &counts.other,
        }
        .fetch_add(1, Ordering::Relaxed);
    }
}
