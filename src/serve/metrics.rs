//! `/metrics`, in the Prometheus text format: what an operator watches (certificates by status
//! and those about to expire unrenewed, the CRL in force, the outbox backlog, OCSP answers,
//! request latency per route and listener, the signer). Counts only, never a name. Names follow
//! Prometheus' conventions: the unit as suffix (`_seconds`, `_timestamp_seconds` for a Unix
//! time), `_total` for counters. `docs/alerts.yml` holds the alert rules built on them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use ca::{Authority, OcspOutcome};

use super::{internal_error, AppState};
use crate::error::AppError;

/// OCSP responses sent since start, by responseStatus, and how many of them needed a
/// signature: not audited (public, high volume), counted for `/metrics`.
#[derive(Debug, Default)]
pub(super) struct OcspCounters {
    sent: [AtomicU64; 4],
    signed: AtomicU64,
}

impl OcspCounters {
    const LABELS: [&'static str; 4] = [
        "successful",
        "malformedRequest",
        "internalError",
        "unauthorized",
    ];

    pub(super) fn record(&self, reply: &ca::OcspReply) {
        let slot = match reply.outcome {
            OcspOutcome::Successful => 0,
            OcspOutcome::MalformedRequest => 1,
            OcspOutcome::Unauthorized => 3,
            _ => 2,
        };
        self.sent[slot].fetch_add(1, Ordering::Relaxed);
        if reply.signed {
            self.signed.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> ([u64; 4], u64) {
        (
            self.sent.each_ref().map(|n| n.load(Ordering::Relaxed)),
            self.signed.load(Ordering::Relaxed),
        )
    }
}

/// What the OCSP job (`jobs::presign_ocsp`) did since start.
#[derive(Debug, Default)]
pub(super) struct PresignCounters {
    revoked: AtomicU64,
    renewed: AtomicU64,
    missing: AtomicU64,
    dropped: AtomicU64,
    sweeps: AtomicU64,
}

impl PresignCounters {
    pub(super) fn record(&self, r: &ca::PresignReport) {
        for (counter, n) in [
            (&self.revoked, r.revoked),
            (&self.renewed, r.renewed),
            (&self.missing, r.missing),
            (&self.dropped, r.dropped),
            (&self.sweeps, usize::from(r.sweep_finished)),
        ] {
            counter.fetch_add(n as u64, Ordering::Relaxed);
        }
    }

    /// Responses signed by the job, by why.
    fn signed(&self) -> [(&'static str, u64); 3] {
        [
            ("revoked", &self.revoked),
            ("renewed", &self.renewed),
            ("missing", &self.missing),
        ]
        .map(|(why, n)| (why, n.load(Ordering::Relaxed)))
    }
}

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How long requests took, per listener and route template (`/retrait/{token}`, never the
/// path itself: it may hold a token, and would make one series per request).
#[derive(Debug, Default)]
pub(super) struct Latency {
    listeners: Mutex<BTreeMap<&'static str, Arc<ListenerLatency>>>,
}

/// One listener's series, under a lock of its own: a thread of one listener that holds it
/// when the scheduler takes it off the CPU (the public listener's run at a lower priority)
/// never makes another listener's request wait.
#[derive(Debug, Default)]
pub(super) struct ListenerLatency {
    series: Mutex<BTreeMap<String, Series>>,
}

#[derive(Debug, Default)]
struct Series {
    /// Cumulative counts, one per bucket of [`BUCKETS`].
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The route label of a request no route matched (404s, scans).
pub(super) const UNMATCHED: &str = "unmatched";

impl Latency {
    /// `listener`'s series, made at its first call.
    pub(super) fn listener(&self, listener: &'static str) -> Arc<ListenerLatency> {
        let mut listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        listeners.entry(listener).or_default().clone()
    }

    fn write(&self, out: &mut String) {
        let name = "siseri_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time to answer a request, by listener and route template."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        let listeners: Vec<_> = {
            let listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
            listeners.iter().map(|(l, s)| (*l, s.clone())).collect()
        };
        for (listener, latency) in listeners {
            let routes = latency.series.lock().unwrap_or_else(|e| e.into_inner());
            for (route, s) in routes.iter() {
                write_series(out, name, listener, route, s);
            }
        }
    }
}

impl ListenerLatency {
    /// Counts one request of `route` that took `took`.
    pub(super) fn observe(&self, route: &str, took: Duration) {
        let seconds = took.as_secs_f64();
        // A panic elsewhere while holding the lock leaves counts that are still counts.
        let mut routes = self.series.lock().unwrap_or_else(|e| e.into_inner());
        // The route's name is copied once, when its series is created.
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), Series::default());
        }
        let Some(s) = routes.get_mut(route) else {
            return;
        };
        for (bound, n) in BUCKETS.iter().zip(s.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        s.count += 1;
        s.sum += seconds;
    }
}

/// One route's histogram lines.
fn write_series(out: &mut String, name: &str, listener: &str, route: &str, s: &Series) {
    let labels = format!(
        "listener=\"{}\",route=\"{}\"",
        escape(listener),
        escape(route)
    );
    for (bound, n) in BUCKETS.iter().zip(s.buckets) {
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", s.sum);
    let _ = writeln!(out, "{name}_count{{{labels}}} {}", s.count);
}

/// Whether the signer answers: its socket accepts a connection at the time of the scrape (the
/// daemon's own child, restarted by its supervisor, or the one `[signer] socket` names).
#[derive(Debug)]
pub struct SignerUp(std::path::PathBuf);

impl SignerUp {
    /// The signer listening at `socket`.
    pub fn at(socket: std::path::PathBuf) -> Self {
        Self(socket)
    }

    fn get(&self) -> u8 {
        u8::from(std::os::unix::net::UnixStream::connect(&self.0).is_ok())
    }
}

/// One metric: its HELP and TYPE lines, then a sample per `(labels, value)`.
fn metric<V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, V)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

fn label(key: &str, value: &str) -> String {
    format!("{{{key}=\"{}\"}}", escape(value))
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Certificates whose renewal is looked for this long before they expire.
const EXPIRY_WINDOW: time::Duration = time::Duration::days(30);

pub(super) async fn serve(State(s): State<Arc<AppState>>) -> Response {
    let path = s.dir.database();
    let (ocsp_sent, ocsp_signed) = s.ocsp_sent.snapshot();
    let presigned = s.ocsp_presign.signed();
    let dropped = s.ocsp_presign.dropped.load(Ordering::Relaxed);
    let sweeps = s.ocsp_presign.sweeps.load(Ordering::Relaxed);
    let signer_up = s.signer_up.get();
    let latency = s.latency.clone();
    let text = tokio::task::spawn_blocking(move || -> Result<String, AppError> {
        let conn = crate::db::open_existing(&path)?;
        let now = time::OffsetDateTime::now_utc();
        let mut out = String::new();
        metric(
            &mut out,
            "siseri_signer_up",
            "gauge",
            "1 when the signer holding AC SISERI's key answers, else 0.",
            [(String::new(), signer_up)],
        );
        latency.write(&mut out);
        metric(
            &mut out,
            "siseri_ocsp_responses_total",
            "counter",
            "OCSP responses sent since start, by responseStatus.",
            OcspCounters::LABELS
                .iter()
                .zip(ocsp_sent)
                .map(|(status, n)| (label("status", status), n)),
        );
        metric(
            &mut out,
            "siseri_ocsp_signed_on_request_total",
            "counter",
            "OCSP responses signed to answer a request (none when every response is signed ahead).",
            [(String::new(), ocsp_signed)],
        );
        metric(
            &mut out,
            "siseri_ocsp_presigned_total",
            "counter",
            "OCSP responses signed ahead by the daemon's job, by why.",
            presigned
                .into_iter()
                .map(|(why, n)| (label("reason", why), n)),
        );
        metric(
            &mut out,
            "siseri_ocsp_presign_dropped_total",
            "counter",
            "OCSP responses signed ahead dropped because their certificate expired.",
            [(String::new(), dropped)],
        );
        metric(
            &mut out,
            "siseri_ocsp_presign_sweeps_total",
            "counter",
            "Full sweeps of the certificates by the OCSP job (the first one after start covers every certificate).",
            [(String::new(), sweeps)],
        );
        metric(
            &mut out,
            "siseri_certificates",
            "gauge",
            "Certificates recorded by AC SISERI, by status.",
            ca::counts(&conn)?
                .into_iter()
                .map(|(status, n)| (label("status", &status), n)),
        );
        metric(
            &mut out,
            "siseri_certificates_expiring_unrenewed",
            "gauge",
            "Issued certificates expiring within 30 days with no later certificate issued for the same subject, by profile.",
            ca::expiring_without_successor(&conn, now, now + EXPIRY_WINDOW)?
                .into_iter()
                .map(|(profile, n)| (label("profile", &profile), n)),
        );
        if let Some(crl) = Authority::latest_crl_info(&conn)? {
            for (name, help, value) in [
                (
                    "siseri_crl_number",
                    "Number of the CRL in force.",
                    crl.number,
                ),
                (
                    "siseri_crl_entries",
                    "Entries of the CRL in force.",
                    crl.entries,
                ),
                (
                    "siseri_crl_next_update_timestamp_seconds",
                    "nextUpdate of the CRL in force (Unix time).",
                    crl.next_update.unix_timestamp(),
                ),
            ] {
                metric(&mut out, name, "gauge", help, [(String::new(), value)]);
            }
        }
        let o = enroll::outbox::counts(&conn).map_err(|e| AppError::DataDir(e.to_string()))?;
        metric(
            &mut out,
            "siseri_outbox_messages",
            "gauge",
            "E-mails and SMS in the durable outbox.",
            [
                ("pending", o.pending),
                ("retrying", o.retrying),
                ("delivered", o.delivered),
            ]
            .map(|(state, n)| (label("state", state), n)),
        );
        if let Some(oldest) = o.oldest_pending_at {
            metric(
                &mut out,
                "siseri_outbox_oldest_pending_timestamp_seconds",
                "gauge",
                "When the oldest e-mail or SMS not delivered yet was queued (Unix time); absent when none waits.",
                [(String::new(), oldest)],
            );
        }
        Ok(out)
    })
    .await;
    match text {
        Ok(Ok(t)) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            t,
        )
            .into_response(),
        Ok(Err(e)) => internal_error("métriques", &e),
        Err(e) => internal_error("tâche des métriques", &e),
    }
}
