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

/// OCSP responses sent since start, by responseStatus: not audited (public, high volume),
/// counted for `/metrics`.
#[derive(Debug, Default)]
pub(super) struct OcspCounters([AtomicU64; 3]);

impl OcspCounters {
    const LABELS: [&'static str; 3] = ["successful", "malformedRequest", "internalError"];

    pub(super) fn record(&self, outcome: OcspOutcome) {
        let slot = match outcome {
            OcspOutcome::Successful => 0,
            OcspOutcome::MalformedRequest => 1,
            _ => 2,
        };
        self.0[slot].fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> [u64; 3] {
        self.0.each_ref().map(|n| n.load(Ordering::Relaxed))
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
    let ocsp_sent = s.ocsp_sent.snapshot();
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
