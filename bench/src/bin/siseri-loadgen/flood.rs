//! `--flood N`: the attacks of a connection flood against one listener, held for `--seconds`
//! after `--warmup`: N connections at a time, each reopened as soon as the server drops it.
//! From 127.0.0.0/8 source addresses spread so that no address holds more than
//! [`PER_SOURCE`] (the daemon's per-address budget would otherwise refuse them at once).
//!
//! - `idle`: TCP only, not a byte (the TLS handshake timeout is the defence);
//! - `slow-headers`: TLS, then a request header a byte every second (the header timeout);
//! - `slow-body`: TLS, a POST whose declared body comes a byte every second (the request
//!   timeout);
//! - `tls-idle`: TLS, then nothing (the idle timeout).
//!
//! Prints one JSON line: connections opened, dropped by the server, and the most held at once.

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
}

pub(crate) fn run(
    connector: TlsConnector,
    name: ServerName<'static>,
    addr: SocketAddr,
    n: usize,
    mode: &str,
    seconds: f64,
) -> Result<Value, String> {
    if !["idle", "slow-headers", "slow-body", "tls-idle"].contains(&mode) {
        return Err(format!(
            "--flood-mode {mode}: expected idle, slow-headers, slow-body or tls-idle"
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
    let result = attack(connector, name, tcp, mode).await;
    counts.held.fetch_sub(1, Ordering::Relaxed);
    result
}

async fn attack(
    connector: &TlsConnector,
    name: &ServerName<'static>,
    mut tcp: TcpStream,
    mode: &str,
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    if mode == "idle" {
        // Until the server closes.
        while tcp.read(&mut buf).await? > 0 {}
        return Ok(());
    }
    let mut tls = connector.connect(name.clone(), tcp).await?;
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
