//! `/metrics`, in the Prometheus text format: what an operator watches (certificates by status,
//! the CRL in force, the outbox backlog, OCSP answers). Counts only, never a name.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

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
    format!("{{{key}=\"{value}\"}}")
}

pub(super) async fn serve(State(s): State<Arc<AppState>>) -> Response {
    let path = s.dir.database();
    let (ocsp_sent, ocsp_signed) = s.ocsp_sent.snapshot();
    let presigned = s.ocsp_presign.signed();
    let dropped = s.ocsp_presign.dropped.load(Ordering::Relaxed);
    let sweeps = s.ocsp_presign.sweeps.load(Ordering::Relaxed);
    let text = tokio::task::spawn_blocking(move || -> Result<String, AppError> {
        let conn = crate::db::open_existing(&path)?;
        let mut out = String::new();
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
                    "siseri_crl_next_update_seconds",
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
