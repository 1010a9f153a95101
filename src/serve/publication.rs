//! PKI publication on the public listener: AC SISERI's certificate, the CRL in force, and OCSP
//! (RFC 6960, RFC 5019 profile, POST and GET). `ca` makes the answers; only the HTTP transport
//! is here. OCSP answers are the responses signed ahead (`ca::OcspResponder`: no signature on
//! the way), or, with `[ca] ocsp_presigned = false`, signed at each request.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ca::{Authority, OcspReply};
use time::OffsetDateTime;

use super::{internal_error, AppState};
use crate::error::AppError;

/// An OCSPRequest for a few certificates is a few hundred octets; this is generous.
const OCSP_MAX_BODY: usize = 64 * 1024;

/// `/pki/…` and `/ocsp`.
pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/pki/ac-siseri.pem", get(ca_pem))
        .route("/pki/ac-siseri.cer", get(ca_cer))
        .route("/pki/ac-siseri.crl", get(crl))
        .route(
            "/ocsp",
            post(ocsp_post).layer(DefaultBodyLimit::max(OCSP_MAX_BODY)),
        )
        .route("/ocsp/{*request}", get(ocsp_get))
}

async fn ca_pem(State(s): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        s.ca_pem.clone(),
    )
        .into_response()
}

async fn ca_cer(State(s): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pkix-cert")],
        s.ca_der.clone(),
    )
        .into_response()
}

/// Always the latest CRL from the database (a CLI revocation is visible at once), with
/// caching headers that match its nextUpdate.
async fn crl(State(s): State<Arc<AppState>>) -> Response {
    let path = s.dir.database();
    let latest = tokio::task::spawn_blocking(move || {
        let conn = crate::db::open_existing(&path)?;
        Ok::<_, AppError>(Authority::latest_crl(&conn)?)
    })
    .await;
    match latest {
        Ok(Ok(Some(crl))) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pkix-crl"),
            );
            cache_until(&mut headers, crl.this_update, crl.next_update, "");
            if let Ok(v) = HeaderValue::from_str(&format!("\"crl-{}\"", crl.number)) {
                headers.insert(header::ETAG, v);
            }
            (headers, crl.der).into_response()
        }
        Ok(Ok(None)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "LCR pas encore publiée\n").into_response()
        }
        Ok(Err(e)) => internal_error("lecture de la LCR", &e),
        Err(e) => internal_error("tâche de lecture de la LCR", &e),
    }
}

/// `Cache-Control` (public, `extra` directives added), `Expires` at `next_update` and
/// `Last-Modified` at `this_update`: a cache keeps the answer exactly as long as it is current.
fn cache_until(
    headers: &mut HeaderMap,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    extra: &str,
) {
    let max_age = (next_update - OffsetDateTime::now_utc())
        .whole_seconds()
        .max(0);
    if let Ok(v) = HeaderValue::from_str(&format!(
        "public, max-age={max_age},{extra} must-revalidate"
    )) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    for (name, t) in [
        (header::EXPIRES, next_update),
        (header::LAST_MODIFIED, this_update),
    ] {
        if let Some(v) = http_date(t) {
            headers.insert(name, v);
        }
    }
}

/// An HTTP-date (RFC 9110 §5.6.7); none for a time before 1970, which `httpdate` cannot write
/// (it panics).
fn http_date(t: OffsetDateTime) -> Option<HeaderValue> {
    if !(1970..=9999).contains(&t.year()) {
        return None;
    }
    HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::from(t))).ok()
}

/// OCSP over HTTP (RFC 6960 appendix A): the DER request as the body.
async fn ocsp_post(State(s): State<Arc<AppState>>, body: Bytes) -> Response {
    let reply = ocsp_answer(&s, body.to_vec()).await;
    ocsp_response(&s, reply, None)
}

/// OCSP over HTTP, GET form: the base64 of the DER request, URL-encoded, as the last path
/// segments. A path that does not decode gets `malformedRequest` (status 200, as for a POST).
async fn ocsp_get(State(s): State<Arc<AppState>>, uri: Uri, request: HeaderMap) -> Response {
    let reply = match ocsp_get_request(uri.path()) {
        Some(der) => ocsp_answer(&s, der).await,
        None => OcspReply::malformed(),
    };
    ocsp_response(&s, reply, Some(&request))
}

/// `/ocsp/{base64}` → the DER request. Accepts the standard and URL-safe alphabets, with or
/// without padding, percent-encoded or not (a raw `/` of the standard alphabet included).
fn ocsp_get_request(path: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine;
    let encoded = path.strip_prefix("/ocsp/")?.as_bytes();
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        if encoded[i] == b'%' {
            let hex = std::str::from_utf8(encoded.get(i + 1..i + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            decoded.push(encoded[i]);
            i += 1;
        }
    }
    decoded.retain(|b| !b.is_ascii_whitespace());
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(&decoded).ok())
}

/// Signed ahead: the request is read here and, when memory holds its current response,
/// answered at once (no database, no thread hop); otherwise the database is read on a blocking
/// thread. Per request: everything on a blocking thread.
async fn ocsp_answer(s: &Arc<AppState>, der: Vec<u8>) -> OcspReply {
    let query = if s.ocsp_presigned {
        let query = match s.responder.parse(&der) {
            Ok(query) => query,
            Err(reply) => return reply,
        };
        if let Some(reply) = s
            .responder
            .cached(&query, OffsetDateTime::now_utc(), &s.revoked)
        {
            return reply;
        }
        Some(query)
    } else {
        None
    };
    let state = s.clone();
    let reply = tokio::task::spawn_blocking(move || {
        let now = OffsetDateTime::now_utc();
        match (state.pool.get(), query) {
            (Ok(conn), Some(query)) => state.responder.lookup(&conn, &query, now, &state.authority),
            (Ok(conn), None) => state.authority.answer_ocsp(&conn, &der, now),
            (Err(e), _) => {
                tracing::error!(error = %e, "base de données pour OCSP");
                OcspReply::internal_error()
            }
        }
    })
    .await;
    reply.unwrap_or_else(|e| {
        tracing::error!(error = %e, "tâche de réponse OCSP");
        OcspReply::internal_error()
    })
}

/// `application/ocsp-response`. A GET answer without a nonce may be cached until nextUpdate
/// (RFC 5019 §6: `Cache-Control` public, no-transform, max-age; `Expires`; `Last-Modified`
/// at thisUpdate; an `ETag`, and `304` to an `If-None-Match` that names it); anything else is
/// for one client only. `get` holds the GET's request headers.
fn ocsp_response(s: &AppState, reply: OcspReply, get: Option<&HeaderMap>) -> Response {
    s.ocsp_sent.record(&reply);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/ocsp-response"),
    );
    let Some(request) = get else {
        return (headers, reply.der).into_response();
    };
    match (reply.this_update, reply.next_update) {
        (Some(this_update), Some(next_update)) if !reply.has_nonce => {
            cache_until(&mut headers, this_update, next_update, " no-transform,");
            let etag = ocsp_etag(&reply.der);
            let matches = request
                .get_all(header::IF_NONE_MATCH)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .any(|t| t.trim() == etag || t.trim() == "*");
            if let Ok(v) = HeaderValue::from_str(&etag) {
                headers.insert(header::ETAG, v);
            }
            if matches {
                return (StatusCode::NOT_MODIFIED, headers).into_response();
            }
        }
        _ => {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    (headers, reply.der).into_response()
}

/// A strong validator of the response's bytes (RFC 5019 §6 suggests a hash of them): the
/// first 16 octets of their SHA-256, quoted. A renewed response gets a new one.
fn ocsp_etag(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    format!("\"{}\"", hex::encode(&digest.as_ref()[..16]))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cache_headers_follow_the_answers_dates_in_http_date_format() {
        let this_update = time::macros::datetime!(2026-03-01 08:00:00 UTC);
        let next_update = time::macros::datetime!(2026-03-08 08:00:00 UTC);
        let mut headers = HeaderMap::new();
        cache_until(&mut headers, this_update, next_update, " no-transform,");
        assert_eq!(
            headers[header::LAST_MODIFIED],
            "Sun, 01 Mar 2026 08:00:00 GMT"
        );
        assert_eq!(headers[header::EXPIRES], "Sun, 08 Mar 2026 08:00:00 GMT");
        let cache = headers[header::CACHE_CONTROL].to_str().unwrap();
        assert!(cache.starts_with("public, max-age="), "{cache}");
        assert!(
            cache.ends_with(", no-transform, must-revalidate"),
            "{cache}"
        );
    }

    #[test]
    fn a_time_before_1970_gets_no_http_date_rather_than_a_panic() {
        assert!(http_date(time::macros::datetime!(1969-12-31 23:59:59 UTC)).is_none());
        assert!(http_date(OffsetDateTime::UNIX_EPOCH).is_some());
    }
}
