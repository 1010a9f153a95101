//! The registry listener's front: who is calling (certificate → person or dosimetry body),
//! the access-code login and its session, and the establishments. Every request re-checks the
//! connection's certificate against the revocation set and its expiry.
//!
//! The workers lists, fractions, doses and medical cards are in [`api`] (JSON) and in
//! [`pages`] (HTML); both ask the same [`crate::Registry`] service with the
//! [`crate::Principal`] of [`caller::principal`], and the service asks the role matrix.
//!
//! The listener (the binary) terminates mutual TLS and hands each request the connection's
//! [`ClientCert`]; who holds it is asked of the [`Directory`].

pub mod api;
pub mod caller;
pub mod pages;
pub(crate) mod stream;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ring::digest::{digest, SHA256};
use serde::Deserialize;
use serde_json::json;
use store::secrets::ServerKey;
use store::Clock;
use time::{Duration, OffsetDateTime};

use crate::directory::{Directory, DirectoryError, Holder, Person};

/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::minutes(30);
const SESSION_COOKIE: &str = "siseri_session";

/// Shared state of the registry handlers.
#[derive(Debug, Clone)]
pub struct RegistryState {
    /// Persons, attachments, access codes, revocation: the enrollment side's answers.
    pub directory: Arc<dyn Directory>,
    /// Open sessions.
    pub sessions: Arc<Sessions>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The workers lists, doses and cards (asks the role matrix at every call).
    pub registry: crate::Registry,
    /// Server key: CSRF tokens of the pages.
    pub key: ServerKey,
    /// Signs the récépissés of transmissions; `None`: transmissions are refused (`503`).
    pub receipts: Option<Arc<dyn crate::ReceiptSigner>>,
}

/// What the registry needs of the connection's client certificate, which the listener has
/// verified against AC SISERI and inserts into each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// Serial (DER INTEGER content octets).
    pub serial: Vec<u8>,
    /// End of validity (Unix seconds).
    pub not_after: i64,
    /// Subject common name.
    pub common_name: String,
    /// The whole subject, as text (`C=FR, O=…, CN=…`), for récépissés.
    pub subject: String,
}

/// Sessions, in memory: a restart asks people for their access code again (the attempt
/// counts live in the database and survive it).
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
}

#[derive(Debug, Clone)]
struct Session {
    habilitation: u32,
    serial: Vec<u8>,
    last_seen: OffsetDateTime,
}

/// Why a session does not open a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// No cookie, or an unknown one.
    Missing,
    /// Opened with another certificate.
    OtherCertificate,
    /// Idle too long.
    Expired,
}

fn session_key(token: &str) -> [u8; 32] {
    let mut k = [0u8; 32];
    k.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    k
}

impl Sessions {
    /// Opens a session for `habilitation` over the certificate `serial`; returns its token.
    pub fn open(
        &self,
        habilitation: u32,
        serial: &[u8],
        now: OffsetDateTime,
    ) -> Result<String, store::Error> {
        let token = store::secrets::new_token()?;
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, s| now - s.last_seen < SESSION_IDLE);
        map.insert(
            session_key(&token),
            Session {
                habilitation,
                serial: serial.to_vec(),
                last_seen: now,
            },
        );
        Ok(token.to_string())
    }

    /// The habilitation of the session `token`, when it was opened over `serial` and is not
    /// idle; touches it.
    pub fn check(
        &self,
        token: &str,
        serial: &[u8],
        now: OffsetDateTime,
    ) -> Result<u32, SessionRefusal> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let key = session_key(token);
        let Some(s) = map.get_mut(&key) else {
            return Err(SessionRefusal::Missing);
        };
        if s.serial != serial {
            return Err(SessionRefusal::OtherCertificate);
        }
        if now - s.last_seen >= SESSION_IDLE {
            map.remove(&key);
            return Err(SessionRefusal::Expired);
        }
        s.last_seen = now;
        Ok(s.habilitation)
    }

    /// Ends a session.
    pub fn close(&self, token: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&session_key(token));
    }
}

/// The registry's routes.
pub fn router(state: RegistryState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/api/v1/session", get(whoami).post(login).delete(logout))
        .route("/api/v1/establishments", get(establishments))
        .route("/api/v1/establishments/{id}", get(establishment))
        .merge(api::routes())
        .merge(pages::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            certificate_guard,
        ))
        .with_state(state)
}

/// A JSON error of the API: `{"error", "message", "fields"}`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": code, "message": message, "fields": {}})),
    )
        .into_response()
}

/// A body that is not JSON: `400`, with where the parser stopped (never what it read there).
pub(crate) fn unreadable_json(e: &serde_json::Error) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "bad_request",
        &format!(
            "Corps JSON illisible (ligne {}, colonne {}).",
            e.line(),
            e.column()
        ),
    )
}

/// Every request: the connection's certificate must still be neither revoked nor expired.
async fn certificate_guard(
    State(state): State<RegistryState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(cert) = request.extensions().get::<ClientCert>().cloned() else {
        return error(
            StatusCode::UNAUTHORIZED,
            "no_certificate",
            "Certificat client AC SISERI requis.",
        );
    };
    let now = state.clock.now().unix_timestamp();
    if state.directory.is_revoked(&cert.serial) || now > cert.not_after {
        let mut r = error(
            StatusCode::FORBIDDEN,
            "certificate_refused",
            "Votre certificat est révoqué ou expiré : l'accès au registre est refusé.",
        );
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    next.run(request).await
}

/// Asks the directory off the reactor (its answers read SQLite).
pub(crate) async fn ask<T: Send + 'static>(
    state: &RegistryState,
    f: impl FnOnce(&dyn Directory) -> Result<T, DirectoryError> + Send + 'static,
) -> Result<T, DirectoryError> {
    let directory = state.directory.clone();
    web::blocking(move || f(directory.as_ref()))
        .await
        .unwrap_or_else(|e| Err(DirectoryError::Internal(Box::new(e))))
}

pub(crate) fn access_error(e: DirectoryError) -> Response {
    if let DirectoryError::Internal(cause) = &e {
        tracing::error!(cause = %web::error_chain(cause.as_ref()), "registre");
    }
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = json!({"error": e.code(), "message": e.to_string(), "fields": {}});
    if let DirectoryError::WrongAccessCode { attempts_left } = e {
        body["attempts_left"] = json!(attempts_left);
    }
    (status, Json(body)).into_response()
}

/// Who holds `cert`, asked of the directory.
pub async fn identify(
    state: &RegistryState,
    cert: &ClientCert,
) -> Result<Option<Holder>, DirectoryError> {
    let serial = cert.serial.clone();
    let cn = cert.common_name.clone();
    ask(state, move |d| d.holder(&serial, &cn)).await
}

pub(crate) fn session_cookie(headers: &HeaderMap) -> Option<String> {
    web::cookies::get(headers, SESSION_COOKIE)
}

/// The logged-in person of a request, or the response refusing it.
pub async fn person(
    state: &RegistryState,
    cert: &ClientCert,
    headers: &HeaderMap,
) -> Result<Person, Box<Response>> {
    let identity = identify(state, cert)
        .await
        .map_err(|e| Box::new(access_error(e)))?;
    match identity {
        Some(Holder::Person(c)) => logged_in(state, cert, headers, c),
        Some(Holder::DosimetryBody { .. }) => Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Un organisme de dosimétrie ne peut que transmettre des résultats de dosimétrie passive.",
        ))),
        None => Err(Box::new(unknown_certificate())),
    }
}

pub(crate) fn unknown_certificate() -> Response {
    error(
        StatusCode::FORBIDDEN,
        "unknown_certificate",
        "Ce certificat n'ouvre aucun accès au registre.",
    )
}

/// Why a person's request has no session to open it.
pub(crate) fn session_refusal(refusal: SessionRefusal) -> (&'static str, &'static str) {
    match refusal {
        SessionRefusal::OtherCertificate => (
            "session_certificate_mismatch",
            "Cette session a été ouverte avec un autre certificat : saisissez votre code d'accès.",
        ),
        SessionRefusal::Expired => (
            "session_expired",
            "Session expirée après 30 minutes d'inactivité : saisissez votre code d'accès.",
        ),
        SessionRefusal::Missing => ("login_required", "Saisissez votre code d'accès."),
    }
}

/// The session of the request's cookie, opened by `caller` over this certificate and not idle.
pub(crate) fn session_of(
    state: &RegistryState,
    cert: &ClientCert,
    headers: &HeaderMap,
    caller: &Person,
) -> Result<String, SessionRefusal> {
    let token = session_cookie(headers).ok_or(SessionRefusal::Missing)?;
    match state
        .sessions
        .check(&token, &cert.serial, state.clock.now())
    {
        Ok(hab) if hab == caller.habilitation => Ok(token),
        Ok(_) => Err(SessionRefusal::OtherCertificate),
        Err(refusal) => Err(refusal),
    }
}

/// `caller`, when the request carries their session.
pub(crate) fn logged_in(
    state: &RegistryState,
    cert: &ClientCert,
    headers: &HeaderMap,
    caller: Person,
) -> Result<Person, Box<Response>> {
    match session_of(state, cert, headers, &caller) {
        Ok(_) => Ok(caller),
        Err(refusal) => {
            let (code, message) = session_refusal(refusal);
            Err(Box::new(error(StatusCode::UNAUTHORIZED, code, message)))
        }
    }
}

pub(crate) fn cert_of(request_cert: Option<&ClientCert>) -> Result<ClientCert, Box<Response>> {
    request_cert.cloned().ok_or_else(|| {
        Box::new(error(
            StatusCode::UNAUTHORIZED,
            "no_certificate",
            "Certificat client AC SISERI requis.",
        ))
    })
}

/// The logged-in person of a request to the session and establishment routes.
struct LoggedIn(Person);

impl FromRequestParts<RegistryState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RegistryState,
    ) -> Result<Self, Response> {
        let cert = cert_of(parts.extensions.get::<ClientCert>()).map_err(|r| *r)?;
        person(state, &cert, &parts.headers)
            .await
            .map(LoggedIn)
            .map_err(|r| *r)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    access_code: String,
}

async fn login(
    State(state): State<RegistryState>,
    cert: Option<axum::Extension<ClientCert>>,
    body: Bytes,
) -> Response {
    let cert = match cert_of(cert.as_ref().map(|c| &c.0)) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let req: LoginBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return unreadable_json(&e),
    };
    match open_session(&state, &cert, req.access_code).await {
        Ok((hab, token, expires_at)) => {
            let mut r = Json(json!({
                "habilitation": hab.to_string(),
                "expires_at": expires_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            }))
            .into_response();
            if let Some(v) = session_set_cookie(&token) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(r) => *r,
    }
}

/// Why the access code did not open a session.
#[derive(Debug)]
pub(crate) enum LoginRefusal {
    /// A dosimetry body's certificate: no access code.
    Organisme,
    /// A certificate that opens nothing.
    UnknownCertificate,
    /// Wrong code, locked access, or an internal failure.
    Access(DirectoryError),
}

/// Checks the access code of the certificate's holder and opens a session:
/// `(habilitation, session token, expiry)`.
pub(crate) async fn check_code(
    state: &RegistryState,
    cert: &ClientCert,
    code: String,
) -> Result<(u32, String, OffsetDateTime), LoginRefusal> {
    let caller = match identify(state, cert).await.map_err(LoginRefusal::Access)? {
        Some(Holder::Person(c)) => c,
        Some(Holder::DosimetryBody { .. }) => return Err(LoginRefusal::Organisme),
        None => return Err(LoginRefusal::UnknownCertificate),
    };
    let hab = caller.habilitation;
    ask(state, move |d| d.check_access_code(hab, &code))
        .await
        .map_err(LoginRefusal::Access)?;
    let now = state.clock.now();
    let token = state
        .sessions
        .open(hab, &cert.serial, now)
        .map_err(|e| LoginRefusal::Access(DirectoryError::Internal(Box::new(e))))?;
    Ok((hab, token, now + SESSION_IDLE))
}

/// `Set-Cookie` of a session (HttpOnly, Secure, SameSite=Strict, whole site).
pub(crate) fn session_set_cookie(token: &str) -> Option<HeaderValue> {
    web::cookies::set(SESSION_COOKIE, token, None)
}

/// `Set-Cookie` that ends the session cookie.
pub(crate) fn session_clear_cookie() -> Option<HeaderValue> {
    web::cookies::clear(SESSION_COOKIE)
}

/// Checks the access code of the certificate's holder and opens a session.
pub async fn open_session(
    state: &RegistryState,
    cert: &ClientCert,
    code: String,
) -> Result<(u32, String, OffsetDateTime), Box<Response>> {
    check_code(state, cert, code).await.map_err(|refusal| {
        Box::new(match refusal {
            LoginRefusal::Organisme => error(
                StatusCode::BAD_REQUEST,
                "no_access_code",
                "Un organisme de dosimétrie n'utilise pas de code d'accès.",
            ),
            LoginRefusal::UnknownCertificate => unknown_certificate(),
            LoginRefusal::Access(e) => access_error(e),
        })
    })
}

async fn logout(State(state): State<RegistryState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers) {
        state.sessions.close(&token);
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = session_clear_cookie() {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

async fn whoami(LoggedIn(c): LoggedIn) -> Response {
    Json(json!({"habilitation": c.habilitation.to_string(), "name": c.display_name}))
        .into_response()
}

async fn establishments(
    State(state): State<RegistryState>,
    LoggedIn(caller): LoggedIn,
) -> Response {
    let list = ask(&state, move |d| {
        let mut out = Vec::new();
        for a in &caller.attachments {
            if let Some(e) = d.establishment(a.establishment)? {
                out.push(json!({
                    "id": e.id,
                    "number": e.number,
                    "key_name": e.key_name,
                    "name": e.employer.name,
                    "role": a.role.abbreviation(),
                }));
            }
        }
        Ok(out)
    })
    .await;
    match list {
        Ok(l) => Json(l).into_response(),
        Err(e) => access_error(e),
    }
}

async fn establishment(
    State(state): State<RegistryState>,
    Path(id): Path<i64>,
    LoggedIn(caller): LoggedIn,
) -> Response {
    // Another establishment's id answers like a missing one.
    if !caller.attachments.iter().any(|a| a.establishment == id) {
        return error(
            StatusCode::NOT_FOUND,
            "not_found",
            "Établissement introuvable.",
        );
    }
    match ask(&state, move |d| d.establishment(id)).await {
        Ok(Some(e)) => Json(json!({
            "id": e.id,
            "number": e.number,
            "key_name": e.key_name,
            "employer": e.employer,
            "accessors": e.accessors.iter().map(|(n, r)| json!({"name": n, "role": r.abbreviation()})).collect::<Vec<_>>(),
        }))
        .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not_found", "Établissement introuvable."),
        Err(e) => access_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_bound_to_its_certificate_and_ends_after_30_idle_minutes() {
        let s = Sessions::default();
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(20000);
        let token = s.open(42000, &[1; 16], t0).unwrap();
        // In order: a check touches the session (touched at 29 min, still open at 58).
        for (cert, minutes, expected) in [
            ([1; 16], 29, Ok(42000)),
            ([2; 16], 30, Err(SessionRefusal::OtherCertificate)),
            ([1; 16], 58, Ok(42000)),
            ([1; 16], 89, Err(SessionRefusal::Expired)),
        ] {
            assert_eq!(
                s.check(&token, &cert, t0 + Duration::minutes(minutes)),
                expected,
                "after {minutes} min"
            );
        }
        assert_eq!(s.check(&token, &[1; 16], t0), Err(SessionRefusal::Missing));
        let other = s.open(42000, &[1; 16], t0).unwrap();
        s.close(&other);
        assert_eq!(s.check(&other, &[1; 16], t0), Err(SessionRefusal::Missing));
    }
}
