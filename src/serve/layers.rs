//! What every request of every listener goes through besides its route, in one place, as one
//! layer around each router ([`apply`], with the listener's [`Stack`]):
//!
//! - the request's duration, in the metrics, under its matched route;
//! - request tracing: a span per request with its method and its path *masked* (the
//!   withdrawal token, any long path segment, the query string are left out; headers, hence
//!   `Authorization` and cookies, are never logged);
//! - limits: a 408 for a request not answered within `[limits] request_secs`, or whose body
//!   comes slower than the minimum pace ([`super::body_rate`]);
//! - on the plain-HTTP publication listener, the redirection of every other path to HTTPS;
//! - security headers on every response: a CSP allowing only our own resources and no framing,
//!   `nosniff`, no referrer, HSTS;
//! - `Cache-Control: no-store` on whatever carries a secret or personal data: every registry
//!   response; on the public listener the wizard, the withdrawal pages and the API (and any
//!   response that does not choose its own caching, as the PKI publication does);
//! - error bodies: an error the framework answered by itself (unknown path, wrong method, body
//!   too large, a path parameter that does not parse, …) comes as plain text or empty; under
//!   `/api/` it becomes the API's `{"error", "message", "fields"}`, elsewhere a French page; a
//!   refused body still being sent is read first.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, BodyDataStream};
use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, Method, StatusCode, Version};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use maud::html;
use serde_json::json;
use tracing::Instrument;

use super::body_rate::{self, MinRate};
use super::metrics::{ListenerLatency, UNMATCHED};

/// Which listener a router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Front {
    /// PASS, withdrawals, PKI publication.
    Public,
    /// The registry, behind mutual TLS.
    Registry,
    /// The operators' console, behind mutual TLS.
    Console,
}

/// Only our own styles and forms, no script, no plugin, no framing.
const CSP: &str = "default-src 'self'; script-src 'none'; object-src 'none'; style-src 'self'; \
                   img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
/// A year; browsers then refuse plain HTTP to this host.
const HSTS: &str = "max-age=31536000";

/// What one listener's requests go through, besides its routes.
pub(super) struct Stack {
    pub front: Front,
    /// The listener's request durations (the metric's `listener` label).
    pub latency: Arc<ListenerLatency>,
    /// Longest time to answer a request, body reading included (`[limits] request_secs`):
    /// beyond it, a 408.
    pub request_limit: Duration,
    /// Minimum pace of request bodies (`[limits] min_body_bytes_per_sec`).
    pub rate: MinRate,
    /// The plain-HTTP publication listener: anything but the publication paths is redirected
    /// to this HTTPS base URL (see [`super::http`]).
    pub redirect_to: Option<Arc<str>>,
}

/// `router` with the fallback (404) and the whole [`Stack`], as one layer.
///
/// One `from_fn` rather than one per concern: each layer costs a clone of the inner service
/// and a boxed future per request, and with seven of them they took more of an OCSP answer's
/// CPU than the answer itself.
pub(super) fn apply(router: Router, stack: Stack) -> Router {
    let stack = Arc::new(stack);
    router
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(middleware::from_fn(move |r, n| handle(stack.clone(), r, n)))
}

/// Outermost: the request's duration, under its matched route, and a span per request, under
/// which the handlers log; the answer's status at `debug`.
async fn handle(stack: Arc<Stack>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().cloned();
    // The PKI publication (OCSP, CRLs, the CA certificate) is anonymous, answered tens of
    // thousands of times a second, and its handlers log nothing a request's context would
    // explain: a span there (its fields formatted and stored at every request) cost a tenth of
    // an OCSP answer. Its answers still get their `debug` event below.
    let span = if super::http::is_publication(request.uri().path()) {
        tracing::Span::none()
    } else {
        tracing::info_span!(
            "requête",
            method = %request.method(),
            path = %Masked(request.uri().path()),
        )
    };
    let started = Instant::now();
    let response = answer(&stack, request, next).instrument(span.clone()).await;
    let took = started.elapsed();
    // The route's template, never the path: it may hold a token.
    let route = route.as_ref().map_or(UNMATCHED, |r| r.as_str());
    span.in_scope(|| {
        tracing::debug!(
            route,
            status = response.status().as_u16(),
            ms = took.as_millis(),
            "réponse"
        )
    });
    stack.latency.observe(route, took);
    response
}

/// The path as it may be logged: the segment after `/retrait/` (a bearer token) and any segment
/// longer than 16 characters (a token, a draft's capability) become `…`. Written as the span
/// records it, with no copy of the path.
struct Masked<'a>(&'a str);

impl std::fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut after_retrait = false;
        for (i, segment) in self.0.split('/').enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            if after_retrait || segment.chars().count() > 16 {
                f.write_str("…")?;
            } else {
                f.write_str(segment)?;
            }
            after_retrait = segment == "retrait";
        }
        Ok(())
    }
}

#[cfg(test)]
fn masked_path(path: &str) -> String {
    Masked(path).to_string()
}

/// The request within its limits; then the error body and the security headers of its answer.
async fn answer(stack: &Stack, request: Request, next: Next) -> Response {
    let front = stack.front;
    let secret = front != Front::Public || carries_personal_data(request.uri().path());
    let asked = Asked::of(&request);
    // Paced before it is shared: what is drained after a refusal is held to the same pace.
    let (request, cut) = body_rate::pace(stack.rate, request);
    let (request, unread) = keep_hold_of_body(request);
    let redirect = stack
        .redirect_to
        .as_deref()
        .and_then(|base| super::http::redirect(base, &request));
    let response = match redirect {
        Some(response) => response,
        None => match tokio::time::timeout(stack.request_limit, next.run(request)).await {
            Ok(_) if cut.happened() => timed_out(body_rate::TOO_SLOW),
            Ok(response) => response,
            Err(_) => timed_out("Requête trop lente : elle n'a pas été traitée."),
        },
    };
    let mut response = error_body(front, &asked, &unread, response).await;
    secure(front, secret, response.headers_mut());
    response
}

/// The 408 of a request not answered within `[limits] request_secs`, body reading included (a
/// client that sends its body a byte at a time cannot hold a connection, and its share of the
/// listener's budget, longer than that), or whose body came too slowly; the connection is
/// closed.
fn timed_out(message: &'static str) -> Response {
    (
        StatusCode::REQUEST_TIMEOUT,
        [(header::CONNECTION, "close")],
        Json(json!({
            "error": "request_timeout",
            "message": message,
            "fields": {},
        })),
    )
        .into_response()
}

/// The security headers every answer gets, and `no-store` on those that carry a secret or
/// personal data (`secret`) or choose no caching of their own.
fn secure(front: Front, secret: bool, h: &mut axum::http::HeaderMap) {
    // Room for them at once, rather than the map growing on the way.
    h.reserve(6);
    // The console serves supporting documents with a stricter policy of their own (a sandbox,
    // framed by the console's review page only): kept as the handler set it.
    let own_policy = front == Front::Console && h.contains_key(header::CONTENT_SECURITY_POLICY);
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::STRICT_TRANSPORT_SECURITY, HSTS),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        if own_policy
            && (name == header::CONTENT_SECURITY_POLICY || name == header::X_FRAME_OPTIONS)
        {
            continue;
        }
        h.insert(name, HeaderValue::from_static(value));
    }
    if secret || !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// The public paths whose answers hold a secret or personal data, whatever they say.
fn carries_personal_data(path: &str) -> bool {
    path == "/"
        || ["/pass", "/retrait/", "/api/"]
            .iter()
            .any(|p| path.starts_with(p))
}

/// What the request asked that decides its error body.
struct Asked {
    api: bool,
    head: bool,
    /// On HTTP/1.1 a client that asked `Expect: 100-continue` sends nothing until the body is
    /// first read: if the handler refused without reading, there is nothing to drain, and
    /// reading would invite the client to send what we do not want.
    waits_for_continue: bool,
}

impl Asked {
    fn of(request: &Request) -> Self {
        Self {
            api: request.uri().path().starts_with("/api/"),
            head: request.method() == Method::HEAD,
            waits_for_continue: request.version() != Version::HTTP_2
                && request
                    .headers()
                    .get(header::EXPECT)
                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue")),
        }
    }
}

/// A refusal's unread body drained; an error the framework answered by itself given the API's
/// JSON body, or a French page.
async fn error_body(front: Front, asked: &Asked, unread: &Unread, response: Response) -> Response {
    let status = response.status();
    if status.as_u16() >= 400 && (unread.started() || !asked.waits_for_continue) {
        drain(unread).await;
    }
    let framework_answer = match response.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(t) => t.as_bytes().starts_with(b"text/plain"),
    };
    if status.as_u16() < 400 || !framework_answer || asked.head {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let fresh = if asked.api {
        api_error(status)
    } else {
        error_page(front, status)
    };
    // The status's own headers stay (`Allow` of a 405, `Connection: close`); the body and its
    // type are ours.
    let (fresh_parts, body) = fresh.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &fresh_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

/// A body the handler reads through a shared handle, so that what it left unread can still be
/// read once it has answered.
#[derive(Clone)]
struct Unread {
    stream: Arc<Mutex<BodyDataStream>>,
    started: Arc<AtomicBool>,
}

impl Unread {
    /// Whether the handler polled the body (hence, on HTTP/1.1, `100 Continue` was sent).
    fn started(&self) -> bool {
        self.started.load(Ordering::Relaxed)
    }
}

fn keep_hold_of_body(request: Request) -> (Request, Unread) {
    let (parts, body) = request.into_parts();
    let unread = Unread {
        stream: Arc::new(Mutex::new(body.into_data_stream())),
        started: Arc::new(AtomicBool::new(false)),
    };
    let reader = unread.clone();
    let body = Body::from_stream(futures_util::stream::poll_fn(move |cx| {
        reader.started.store(true, Ordering::Relaxed);
        let mut stream = reader.stream.lock().unwrap_or_else(|p| p.into_inner());
        Pin::new(&mut *stream).poll_next(cx)
    }));
    (Request::from_parts(parts, body), unread)
}

/// Reads and drops the rest of a refused body, [`DRAIN_MAX_BYTES`] and [`DRAIN_MAX_TIME`] at
/// most, before the answer goes (what nginx calls a lingering close). Otherwise, on HTTP/2 the
/// stream whose request is still coming is reset and clients (curl) report no status at all;
/// on HTTP/1.1 the connection is closed with unread data, the kernel answers the client's next
/// segments with a reset, and the client's write fails (`Broken pipe`) before it reads our
/// answer, which the reset may even discard. A body drained whole also lets the connection
/// be kept alive. The slow-body defence ([`super::body_rate`]) still applies while draining.
async fn drain(unread: &Unread) {
    let mut stream = {
        let mut slot = unread.stream.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *slot, Body::empty().into_data_stream())
    };
    let _ = tokio::time::timeout(DRAIN_MAX_TIME, async {
        let mut read = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            read += chunk.len();
            if read > DRAIN_MAX_BYTES {
                break;
            }
        }
    })
    .await;
}

const DRAIN_MAX_BYTES: usize = 64 * 1024 * 1024;
const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// The code and French message of a status the framework answers by itself.
fn describe(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => (
            "bad_request",
            "Requête invalide : un paramètre de l'adresse ou de la requête est mal formé.",
        ),
        StatusCode::NOT_FOUND => ("not_found", "Aucune ressource à cette adresse."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "Cette méthode n'est pas acceptée à cette adresse.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "Le corps de la requête dépasse la taille autorisée.",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Type de contenu non accepté à cette adresse.",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => ("invalid", "Le corps de la requête est invalide."),
        StatusCode::REQUEST_TIMEOUT => ("request_timeout", "Requête trop lente."),
        s if s.is_client_error() => ("bad_request", "Requête refusée."),
        _ => ("internal", "Erreur interne : réessayez plus tard."),
    }
}

fn api_error(status: StatusCode) -> Response {
    let (code, message) = describe(status);
    Json(json!({ "error": code, "message": message, "fields": {} })).into_response()
}

const PUBLIC_PAGE: web::layout::Front = web::layout::Front {
    title_suffix: " — SISERI",
    wide: false,
    footer: "SISERI — Système d'Information de la Surveillance de l'Exposition aux Rayonnements Ionisants.",
};
const CONSOLE_PAGE: web::layout::Front = web::layout::Front {
    title_suffix: " — Console SISERI",
    wide: true,
    footer: "Console des opérateurs SISERI — accès par certificat d'opérateur AC SISERI.",
};
const REGISTRY_PAGE: web::layout::Front = web::layout::Front {
    title_suffix: " — Registre SISERI",
    wide: true,
    footer: "Registre SISERI — accès par certificat AC SISERI et code d'accès.",
};

fn error_page(front: Front, status: StatusCode) -> Response {
    let (_, message) = describe(status);
    let title = match status {
        StatusCode::NOT_FOUND => "Page introuvable",
        s if s.is_client_error() => "Requête refusée",
        _ => "Erreur interne",
    };
    let document = web::layout::Shell {
        front: match front {
            Front::Public => &PUBLIC_PAGE,
            Front::Registry => &REGISTRY_PAGE,
            Front::Console => &CONSOLE_PAGE,
        },
        title,
        nav: None,
        before: None,
        summary: &[],
        body: html! {
            h1 { (title) }
            p { (message) }
            p { a href="/" { "Retour à l'accueil" } }
        },
    }
    .render();
    web::layout::html_response(status, document, [])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_withdrawal_token_and_long_segments_are_masked_in_logged_paths() {
        assert_eq!(
            masked_path("/retrait/abcdEFGH1234"),
            "/retrait/…",
            "short tokens too"
        );
        assert_eq!(
            masked_path("/api/v1/protocols/0123456789abcdef0123/documents/identity"),
            "/api/v1/protocols/…/documents/identity"
        );
        assert_eq!(
            masked_path("/api/v1/establishments/12/workers"),
            "/api/v1/establishments/12/workers"
        );
    }

    #[test]
    fn the_wizard_withdrawals_and_api_are_never_cached() {
        for p in [
            "/",
            "/pass/",
            "/pass/employeur",
            "/retrait/x",
            "/api/v1/protocols",
        ] {
            assert!(carries_personal_data(p), "{p}");
        }
        for p in ["/pki/ca.crt", "/assets/siseri.css", "/healthz"] {
            assert!(!carries_personal_data(p), "{p}");
        }
    }
}
