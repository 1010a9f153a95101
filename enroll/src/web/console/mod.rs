//! The operators' console (issue 17), served by its own listener behind mutual TLS: only a
//! valid certificate of AC SISERI's `operator` profile, held by an operator still in office,
//! opens it. Every page and act is the library's ([`Access`], [`Pass`]): the CLI and the
//! console call the same functions, and every act is audited under the operator's certificate
//! serial and name ([`ConsoleOperator::actor`]). Each role's acts are `access::OperatorRole`'s
//! table; every form carries a CSRF token bound to the operator's certificate and browser
//! session (a session cookie set by [`authenticate`]).
//!
//! ```text
//! listener (TLS: chain, expiry, CA revocation set) ─▶ [`authenticate`] (again per request:
//!     revocation set, notAfter, operator certificate in force) ─▶ handler (role, CSRF) ─▶ Access
//! ```

mod approvals;
mod people;
mod protocols;
mod statistics;
mod supervision;
mod transmissions;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ca::revocation::RevocationSet;
use ca::Authority;
use maud::{html, Markup};
use registry::web::ClientCert;
use store::secrets::ServerKey;
use store::Clock;

pub use self::approvals::Jobs;
use crate::access::{Access, AccessError, ConsoleOperator, OperatorAct};
use crate::outbox::WorkerSignal;
use crate::pass::Pass;

/// What the console's handlers share.
#[derive(Clone)]
pub struct ConsoleState {
    /// Persons, protocols' decisions, operators.
    pub access: Arc<Access>,
    /// Protocols' documents.
    pub pass: Arc<Pass>,
    /// Issues and revokes (through the signer).
    pub authority: Arc<Authority>,
    /// CSRF tokens.
    pub key: ServerKey,
    /// AC SISERI's revoked serials, refreshed by the daemon.
    pub revoked: Arc<RevocationSet>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Wakes the outbox worker after an act queued a message.
    pub outbox: WorkerSignal,
    /// The database, for what administrateurs watch (outbox, audit log, CA).
    pub pool: Arc<store::pool::Pool>,
    /// The approvals running in the background, and how they ended.
    pub approvals: Jobs,
    /// Transmissions of results and their pending lines, read as the CLI reads them.
    pub registry: registry::Registry,
}

impl std::fmt::Debug for ConsoleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsoleState")
    }
}

/// The console's routes, every one behind [`authenticate`].
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route("/", get(protocols::queue))
        .route("/protocoles/{number}", get(protocols::review))
        .route(
            "/protocoles/{number}/pieces/{kind}",
            get(protocols::document),
        )
        .route("/protocoles/{number}/annexe", get(protocols::annexe))
        .route("/protocoles/{number}/valider", post(protocols::approve))
        .route("/protocoles/{number}/validation", get(approvals::progress))
        .route("/protocoles/{number}/refuser", post(protocols::reject))
        .route("/personnes", get(people::search))
        .route("/personnes/{hab}", get(people::person))
        .route("/personnes/{hab}/{act}", post(people::act))
        .route(
            "/operateurs",
            get(people::operators).post(people::add_operator),
        )
        .route("/operateurs/{id}", get(people::operator))
        .route("/operateurs/{id}/revoquer", post(people::revoke_operator))
        .route("/envois", get(supervision::outbox))
        .route("/envois/{id}/relancer", post(supervision::retry))
        .route("/journal", get(supervision::audit))
        .route("/ac", get(supervision::authority))
        .route("/statistiques", get(statistics::statistics))
        .route("/transmissions", get(transmissions::list))
        .route("/transmissions/{number}", get(transmissions::show))
        .route(
            "/transmissions/{number}/recepisse.p7m",
            get(transmissions::receipt),
        )
        .route("/statistiques/export.csv", get(statistics::export))
        .route(
            web::layout::STYLESHEET_PATH,
            get(|| async { web::layout::stylesheet_response() }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authenticate,
        ))
        .with_state(state)
}

/// The operator behind the request's client certificate, checked at every request (a
/// kept-alive connection or a resumed TLS session skips the handshake's verifier): not in the
/// revocation set, not past its notAfter, and an operator's certificate in force in
/// enrollment's records. Anything else (a person's certificate, a dosimetry body's) is
/// refused with 403 and the connection closed.
async fn authenticate(State(s): State<ConsoleState>, mut request: Request, next: Next) -> Response {
    let Some(cert) = request.extensions().get::<ClientCert>().cloned() else {
        return refused();
    };
    if s.revoked.is_revoked(&cert.serial) || s.clock.now().unix_timestamp() > cert.not_after {
        return refused();
    }
    let access = s.access.clone();
    let serial = cert.serial.clone();
    match web::blocking(move || access.console_operator(&serial)).await {
        Ok(Ok(Some(operator))) => {
            // The browser's session: the cookie it holds, or a new one set with this answer.
            let held = web::cookies::get(request.headers(), SESSION_COOKIE)
                .filter(|v| is_session_value(v));
            let fresh = match held {
                Some(_) => None,
                None => match store::secrets::new_token() {
                    Ok(t) => Some(t.to_string()),
                    Err(e) => return internal(&e),
                },
            };
            let session = held.or_else(|| fresh.clone()).unwrap_or_default();
            request
                .extensions_mut()
                .insert(Operator { operator, session });
            let mut response = next.run(request).await;
            if let Some(value) = fresh.and_then(|v| web::cookies::set(SESSION_COOKIE, &v, None)) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Ok(Ok(None)) => refused(),
        Ok(Err(e)) => access_error(&e),
        Err(e) => internal(&e),
    }
}

fn refused() -> Response {
    let mut r = page(
        StatusCode::FORBIDDEN,
        None,
        "Accès refusé",
        html! {
            h1 { "Accès refusé" }
            p { "La console est réservée aux opérateurs de SISERI : présentez un certificat "
                "d'opérateur en cours de validité." }
        },
    );
    r.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    r
}

const FRONT: web::layout::Front = web::layout::Front {
    title_suffix: " — Console SISERI",
    wide: true,
    footer: "Console des opérateurs SISERI — accès par certificat d'opérateur AC SISERI.",
};

/// A console page: the menu for `operator` (what their role shows), the title, the body.
fn page(status: StatusCode, operator: Option<&Operator>, title: &str, body: Markup) -> Response {
    let nav = operator.map(|o| {
        html! {
            ul {
                li { a href="/" { "Protocoles à décider" } }
                li { a href="/personnes" { "Personnes" } }
                li { a href="/statistiques" { "Statistiques" } }
                li { a href="/transmissions" { "Transmissions" } }
                @if o.may(OperatorAct::ManageOperators) {
                    li { a href="/operateurs" { "Opérateurs" } }
                }
                @if o.may(OperatorAct::Supervise) {
                    li { a href="/envois" { "Envois" } }
                    li { a href="/journal" { "Journal" } }
                    li { a href="/ac" { "AC SISERI" } }
                }
                li { span { (o.name) " (" (o.role.as_str()) ")" } }
            }
        }
    });
    let document = web::layout::Shell {
        front: &FRONT,
        title,
        nav,
        before: None,
        summary: &[],
        body,
    }
    .render();
    web::layout::html_response(status, document, [])
}

/// 403: the operator's role does not allow `act`.
fn forbidden(operator: &Operator) -> Response {
    page(
        StatusCode::FORBIDDEN,
        Some(operator),
        "Action non autorisée",
        html! {
            h1 { "Action non autorisée" }
            p { "Votre rôle (" (operator.role.as_str()) ") ne permet pas cette action. "
                "Rien n'a été modifié." }
        },
    )
}

/// 403: a form without its token (or another's): nothing done.
fn csrf_refused(operator: &Operator) -> Response {
    page(
        StatusCode::FORBIDDEN,
        Some(operator),
        "Formulaire expiré",
        html! {
            h1 { "Formulaire expiré ou invalide" }
            p { "Ce formulaire n'a pas été envoyé depuis la console : rien n'a été modifié. "
                "Rechargez la page et recommencez." }
        },
    )
}

const CSRF_PURPOSE: &str = "console-csrf";

/// The console's session cookie: a random value the browser keeps until it closes (no
/// `Max-Age`), `HttpOnly`, `Secure`, `SameSite=Strict`. It carries no right (the certificate
/// does): it only binds the forms' tokens to this browser session.
const SESSION_COOKIE: &str = "console_session";

/// What [`store::secrets::new_token`] makes: 43 characters of URL-safe base64.
fn is_session_value(v: &str) -> bool {
    v.len() == 43
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The operator of a request, as [`authenticate`] found them, with their browser session.
#[derive(Clone)]
pub(super) struct Operator {
    operator: ConsoleOperator,
    /// The session cookie's value (never shown nor logged).
    session: String,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("operator", &self.operator)
            .field("session", &"[elided]")
            .finish()
    }
}

impl std::ops::Deref for Operator {
    type Target = ConsoleOperator;
    fn deref(&self) -> &ConsoleOperator {
        &self.operator
    }
}

/// What `operator`'s tokens are bound to: their certificate's serial and their browser
/// session, so that a token taken from a page (a log, a screenshot, a proxy) is worth nothing
/// once that session is over, nor in another browser holding the same certificate.
fn csrf_binding(operator: &Operator) -> String {
    format!("{}:{}", operator.serial_hex, operator.session)
}

/// The CSRF token of `operator`'s forms, under the server key: only pages the console served
/// to this session carry it.
fn csrf_token(key: &ServerKey, operator: &Operator) -> String {
    web::csrf::token(key, CSRF_PURPOSE, &csrf_binding(operator))
}

fn csrf_ok(key: &ServerKey, operator: &Operator, sent: Option<&str>) -> bool {
    web::csrf::check(key, CSRF_PURPOSE, &csrf_binding(operator), sent)
}

/// The hidden field of every form.
fn csrf_field(key: &ServerKey, operator: &Operator) -> Markup {
    html! { input type="hidden" name=(web::csrf::FIELD) value=(csrf_token(key, operator)); }
}

/// A refusal of the library, as a page: its French message and status; an internal failure
/// is logged with its causes and shown as a generic error.
fn access_error(e: &AccessError) -> Response {
    if e.is_internal() {
        tracing::error!(error = %web::error_chain(e), "console");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    page(
        status,
        None,
        "Action impossible",
        html! {
            h1 { "Action impossible" }
            p { (e.to_string()) }
            p { a href="/" { "Retour aux protocoles" } }
        },
    )
}

fn internal(e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "console : tâche interrompue");
    (StatusCode::INTERNAL_SERVER_ERROR, "erreur interne\n").into_response()
}

/// Runs `f` off the reactor; its refusal or failure becomes the page [`access_error`] makes.
async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AccessError> + Send + 'static,
) -> Result<T, Response> {
    match web::blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(access_error(&e)),
        Err(e) => Err(internal(&e)),
    }
}

/// A page saying an act was done, with where to go next.
fn done(operator: &Operator, title: &str, message: Markup, back: (&str, &str)) -> Response {
    page(
        StatusCode::OK,
        Some(operator),
        title,
        html! {
            h1 { (title) }
            div.notice role="status" { (message) }
            p { a href=(back.0) { (back.1) } }
        },
    )
}

/// `jj/mm/aaaa` of a Unix time.
fn date_of(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| store::date::french(t.date()))
        .unwrap_or_default()
}
