//! The plain-HTTP publication listener (`[listen] http`): what relying parties fetch without
//! TLS, as RFC 5280 §4.2.1.13 and RFC 5019 expect — `/pki/…` (AC SISERI's certificate, the CRL
//! shards, the full CRL) and `/ocsp`, the same handlers as on the public listener. Anything
//! else is redirected to the HTTPS public base URL (301 for GET and HEAD, 308 otherwise, which
//! keeps the method): nothing a person types or a form sends is served in clear.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::{publication, AppState};

/// The listener's application: the publication routes. The redirection of every other path
/// is in its [`super::layers::Stack`] (`redirect_to`), so that it comes with the headers and limits
/// every answer gets.
pub(super) fn router(state: Arc<AppState>) -> Router {
    publication::routes().with_state(state)
}

/// `/pki/…` and `/ocsp[/…]`: served here; nothing else is.
pub(super) fn is_publication(path: &str) -> bool {
    path.starts_with("/pki/") || path == "/ocsp" || path.starts_with("/ocsp/")
}

/// The redirection to `base` (`[public] base_url`, without its trailing `/`) of a request for
/// anything but the publication; `None` for the publication.
pub(super) fn redirect(base: &str, request: &Request) -> Option<Response> {
    let uri = request.uri();
    if is_publication(uri.path()) {
        return None;
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let status = if matches!(*request.method(), Method::GET | Method::HEAD) {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    Some(match HeaderValue::from_str(&format!("{base}{path}")) {
        Ok(location) => (status, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_publication_paths_are_served_in_clear() {
        for served in [
            "/pki/ac-siseri.cer",
            "/pki/crl/17.crl",
            "/ocsp",
            "/ocsp/MEUwQz",
        ] {
            assert!(is_publication(served), "{served}");
        }
        for redirected in [
            "/",
            "/pki",
            "/ocspx",
            "/retrait/abc",
            "/api/v1/drafts",
            "/healthz",
        ] {
            assert!(!is_publication(redirected), "{redirected}");
        }
    }
}
