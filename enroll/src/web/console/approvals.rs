//! Approval from the console, in the background: a protocol naming many people takes one
//! issuance and one `.p12` each, too long for one request. The form starts the library's
//! [`Access::approve`](crate::access::Access::approve) on a blocking thread and answers
//! `303` to the progress page, which shows how many of the people are done and refreshes
//! itself (HTTP `Refresh`, no script) until the result is there.
//!
//! The progress lives in memory only: it is what this process is doing. The guarantees are the
//! library's: each person is handled in a transaction of their own and the version is marked
//! approved last, so a daemon stopped mid-way leaves the protocol *signed* with some people
//! done; approving again resumes without duplicates. The progress page of a protocol with no
//! approval running says so and links back to the review.
//!
//! ```text
//! POST /protocoles/N/valider ─▶ four eyes ─▶ Jobs::start (one per protocol) ─▶ 303
//!        blocking thread: Access::approve(…, progress) ─▶ Jobs (done / total, then outcome)
//! GET /protocoles/N/validation ─▶ running: "k / n", <progress>, Refresh ─▶ finished: result
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;

use super::Operator;
use super::{page, run, ConsoleState};
use crate::access::{AccessError, ApprovalReport};

/// Seconds between two automatic refreshes of the progress page.
pub(super) const REFRESH_SECONDS: u32 = 2;

/// The approvals this process runs or ran, by protocol number.
#[derive(Clone, Default)]
pub struct Jobs(Arc<Mutex<HashMap<String, Job>>>);

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jobs")
    }
}

/// One approval: where it is, then how it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Job {
    /// People handled so far.
    pub done: usize,
    /// People the protocol names (0 until the approval has read it).
    pub total: usize,
    /// Who asked (the audit log's actor).
    pub actor: String,
    /// `None` while it runs.
    pub outcome: Option<Outcome>,
}

/// How an approval ended, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Approved: the report's counts.
    Approved {
        version: i64,
        issued: usize,
        attached: usize,
        detached: usize,
        revoked: usize,
    },
    /// Refused or failed: the library's French message and its HTTP status.
    Failed { status: u16, message: String },
}

impl Outcome {
    fn of(result: &Result<ApprovalReport, AccessError>) -> Self {
        match result {
            Ok(r) => Self::Approved {
                version: r.version,
                issued: r.issued.len(),
                attached: r.attached.len(),
                detached: r.detached.len(),
                revoked: r.revoked.len(),
            },
            Err(e) => {
                if e.is_internal() {
                    tracing::error!(error = %web::error_chain(e), "console : validation");
                }
                Self::Failed {
                    status: e.status(),
                    message: e.to_string(),
                }
            }
        }
    }
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Job>> {
        // A panic while holding the lock leaves plain counters: still readable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The approval of `number`, if this process ran one.
    pub(super) fn get(&self, number: &str) -> Option<Job> {
        self.lock().get(number).cloned()
    }

    /// Records a new approval of `number` unless one is running; `false` if one is.
    fn begin(&self, number: &str, actor: &str) -> bool {
        let mut jobs = self.lock();
        if jobs.get(number).is_some_and(|j| j.outcome.is_none()) {
            return false;
        }
        jobs.insert(
            number.to_owned(),
            Job {
                actor: actor.to_owned(),
                ..Job::default()
            },
        );
        true
    }

    fn progress(&self, number: &str, done: usize, total: usize) {
        if let Some(j) = self.lock().get_mut(number) {
            j.done = done;
            j.total = total;
        }
    }

    fn finish(&self, number: &str, outcome: Outcome) {
        if let Some(j) = self.lock().get_mut(number) {
            j.outcome = Some(outcome);
        }
    }
}

/// Starts the approval of `number` in the background (unless one is running already); the
/// caller redirects to the progress page either way.
pub(super) fn start(s: &ConsoleState, number: &str, actor: String, confirmed: Vec<u32>) {
    if !s.approvals.begin(number, &actor) {
        return;
    }
    let (access, authority, jobs, outbox, n) = (
        s.access.clone(),
        s.authority.clone(),
        s.approvals.clone(),
        s.outbox.clone(),
        number.to_owned(),
    );
    tokio::task::spawn_blocking(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            access.approve(&authority, &n, &actor, &confirmed, &mut |done, total, _| {
                jobs.progress(&n, done, total);
            })
        }));
        let outcome = match result {
            Ok(r) => Outcome::of(&r),
            Err(_) => {
                tracing::error!("console : la validation s'est interrompue (panique)");
                Outcome::Failed {
                    status: 500,
                    message: "Erreur interne : réessayez plus tard.".to_owned(),
                }
            }
        };
        jobs.finish(&n, outcome);
        outbox.wake();
    });
}

/// `?auto=non` stops the automatic refresh (RGAA 13.1: the person can stop and restart it).
#[derive(Debug, Deserialize)]
pub(super) struct ProgressQuery {
    #[serde(default)]
    auto: Option<String>,
}

/// `/protocoles/{number}/validation`: the approval running, its result, or what to do.
pub(super) async fn progress(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(number): Path<String>,
    Query(query): Query<ProgressQuery>,
) -> Response {
    let auto = query.auto.as_deref() != Some("non");
    let job = s.approvals.get(&number);
    let status_now = match &job {
        Some(_) => None,
        None => {
            let (access, n) = (s.access.clone(), number.clone());
            match run(move || access.version_detail(&n)).await {
                Ok(d) => Some(d.summary.status.as_str().to_owned()),
                Err(r) => return r,
            }
        }
    };
    let running = job.as_ref().is_some_and(|j| j.outcome.is_none());
    let (status, title, body) = render(&number, job.as_ref(), status_now.as_deref(), auto);
    let mut response = page(status, Some(&op), title, body);
    if running && auto {
        if let Ok(v) = HeaderValue::from_str(&REFRESH_SECONDS.to_string()) {
            response.headers_mut().insert(header::REFRESH, v);
        }
    }
    response
}

/// The page's status, title and body for `job` (or, when this process ran none, the version's
/// state `status_now`).
pub(super) fn render(
    number: &str,
    job: Option<&Job>,
    status_now: Option<&str>,
    auto: bool,
) -> (StatusCode, &'static str, Markup) {
    let here = format!("/protocoles/{number}/validation");
    let review = format!("/protocoles/{number}");
    match job {
        Some(Job {
            done,
            total,
            outcome: None,
            ..
        }) => (
            StatusCode::OK,
            "Validation en cours",
            html! {
                h1 { "Validation du protocole n° " (number) " en cours" }
                div.notice role="status" {
                    @if *total == 0 {
                        p { "Préparation de la validation…" }
                    } @else {
                        p { (done) " / " (total) " personne(s) traitée(s) : certificats émis "
                            "et rattachements enregistrés…" }
                    }
                }
                div.field {
                    label for="avancement" { "Avancement de la validation" }
                    progress id="avancement" max=((*total).max(1)) value=(done) {
                        (done) " / " (total)
                    }
                }
                @if auto {
                    p { "Cette page s'actualise toutes les " (REFRESH_SECONDS) " secondes. "
                        a href={ (here) "?auto=non" } { "Arrêter l'actualisation automatique" } }
                } @else {
                    p { "Actualisation automatique arrêtée. "
                        a href=(here) { "Reprendre l'actualisation automatique" } }
                }
                p { a href={ (here) "?auto=non" } { "Actualiser" } }
                p { "Vous pouvez quitter cette page : la validation continue." }
            },
        ),
        Some(Job {
            outcome:
                Some(Outcome::Approved {
                    version,
                    issued,
                    attached,
                    detached,
                    revoked,
                }),
            actor,
            ..
        }) => (
            StatusCode::OK,
            "Protocole validé",
            html! {
                h1 { "Protocole validé" }
                div.notice role="status" {
                    p { "Protocole n° " (number) " version " (version) " validé : "
                        (issued) " certificat(s) émis, "
                        (attached) " rattachement(s) ajouté(s), "
                        (detached) " retiré(s), "
                        (revoked) " certificat(s) révoqué(s)." }
                }
                p { "Validé par " (actor) "." }
                p { a href="/" { "Retour aux protocoles à décider" } }
            },
        ),
        Some(Job {
            outcome: Some(Outcome::Failed { status, message }),
            ..
        }) => (
            StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "Validation impossible",
            html! {
                h1 { "Validation impossible" }
                div.notice role="status" { p { (message) } }
                p { "Les personnes déjà traitées le restent ; une nouvelle validation reprend "
                    "là où celle-ci s'est arrêtée." }
                p { a href=(review) { "Retour au protocole" } }
            },
        ),
        None => (
            StatusCode::OK,
            "Aucune validation en cours",
            html! {
                h1 { "Aucune validation en cours" }
                @if status_now == Some("approved") {
                    p role="status" { "Le protocole n° " (number) " est validé." }
                } @else {
                    p role="status" { "Aucune validation du protocole n° " (number)
                        " n'est en cours. Si le service a redémarré pendant une validation, "
                        "validez à nouveau depuis la page du protocole : les personnes déjà "
                        "traitées ne le sont pas une seconde fois." }
                }
                p { a href=(review) { "Retour au protocole" } }
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running(done: usize, total: usize) -> Job {
        Job {
            done,
            total,
            actor: "console:01 Alice Martin".into(),
            outcome: None,
        }
    }

    #[test]
    fn a_running_approval_shows_its_count_a_labelled_progress_bar_and_a_way_to_stop_refreshing() {
        let (status, title, body) = render("2026-000001", Some(&running(12, 40)), None, true);
        let html = body.into_string();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(title, "Validation en cours");
        assert!(html.contains("12 / 40 personne(s) traitée(s)"), "{html}");
        assert!(html.contains(r#"role="status""#), "{html}");
        assert!(
            html.contains(r#"<label for="avancement">"#)
                && html.contains(r#"<progress id="avancement" max="40" value="12">"#),
            "{html}"
        );
        assert!(
            html.contains("/protocoles/2026-000001/validation?auto=non"),
            "{html}"
        );
        let (_, _, stopped) = render("2026-000001", Some(&running(12, 40)), None, false);
        assert!(stopped
            .into_string()
            .contains("Reprendre l'actualisation automatique"));
    }

    #[test]
    fn the_jobs_keep_one_running_approval_per_protocol_and_its_outcome() {
        let jobs = Jobs::default();
        assert!(jobs.begin("N", "a"));
        assert!(!jobs.begin("N", "b"), "one approval at a time");
        jobs.progress("N", 3, 7);
        assert_eq!(
            jobs.get("N"),
            Some(Job {
                done: 3,
                total: 7,
                actor: "a".into(),
                outcome: None
            })
        );
        jobs.finish(
            "N",
            Outcome::Failed {
                status: 409,
                message: "non".into(),
            },
        );
        assert!(jobs.begin("N", "b"), "again once finished");
    }

    #[test]
    fn a_finished_approval_shows_its_counts_and_no_job_says_what_to_do() {
        let job = Job {
            done: 3,
            total: 3,
            actor: "console:01 Alice Martin".into(),
            outcome: Some(Outcome::Approved {
                version: 1,
                issued: 3,
                attached: 0,
                detached: 0,
                revoked: 0,
            }),
        };
        let (_, title, body) = render("N", Some(&job), None, true);
        assert_eq!(title, "Protocole validé");
        assert!(body.into_string().contains("3 certificat(s) émis"));
        let (_, _, body) = render("N", None, Some("signed"), true);
        assert!(body.into_string().contains("validez à nouveau"));
    }
}
