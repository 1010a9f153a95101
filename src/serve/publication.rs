//! PKI publication, on the public listener and on the plain-HTTP one ([`super::http`]): AC
//! SISERI's certificate, the CRL of each shard (`/pki/crl/N.crl`), the full CRL, and OCSP
//! (RFC 6960, RFC 5019 profile, POST and GET). `ca` makes the answers; only the HTTP transport
//! is here. OCSP answers are the responses signed ahead (`ca::OcspResponder`: no signature on
//! the way), or, with `[ca] ocsp_presigned = false`, signed at each request.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
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
        .route("/pki/crl/{file}", get(shard_crl))
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

/// How long a cache between us and relying parties may keep a CRL without asking again
/// (never past its nextUpdate): a revocation is in its shard's CRL within a second, and a
/// cache adds at most this much; asking again costs a 304 (ETag, Last-Modified).
const CRL_CACHE_SECS: i64 = 60;

/// The full CRL (every revoked certificate, no Issuing Distribution Point): what certificates
/// issued before shards name, refreshed by the daemon's periodic job.
async fn crl(State(s): State<Arc<AppState>>, request: HeaderMap) -> Response {
    serve_crl(&s, request, None).await
}

/// `/pki/crl/N.crl`: shard N's CRL, the one its certificates' CRL distribution point names,
/// always the latest from the database (a CLI revocation is visible at once).
async fn shard_crl(
    State(s): State<Arc<AppState>>,
    Path(file): Path<String>,
    request: HeaderMap,
) -> Response {
    match shard_of_file(&file) {
        Some(shard) => serve_crl(&s, request, Some(shard)).await,
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `17.crl` → 17; digits only, as the CRL distribution points write them.
fn shard_of_file(file: &str) -> Option<u32> {
    let digits = file.strip_suffix(".crl")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
        return None;
    }
    digits.parse().ok()
}

/// A CRL's metadata first: a conditional request that matches gets a 304 without its bytes
/// being read.
async fn serve_crl(s: &Arc<AppState>, request: HeaderMap, shard: Option<u32>) -> Response {
    let pool = s.pool.clone();
    let read = tokio::task::spawn_blocking(move || -> Result<_, AppError> {
        let conn = pool.get().map_err(|e| AppError::DataDir(e.to_string()))?;
        let (number, this_update, next_update) = match shard {
            Some(shard) => match Authority::shard_crl_info(&conn, shard)? {
                Some(c) => (c.number, c.this_update, c.next_update),
                None => return Ok(None),
            },
            None => match Authority::latest_crl_info(&conn)? {
                Some(c) => (c.number, c.this_update, c.next_update),
                None => return Ok(None),
            },
        };
        let mut headers = crl_headers(shard, number, this_update, next_update);
        if not_modified(&request, &headers, this_update) {
            return Ok(Some((StatusCode::NOT_MODIFIED, headers, Vec::new())));
        }
        let crl = match shard {
            Some(shard) => Authority::shard_crl(&conn, shard)?,
            None => Authority::latest_crl(&conn)?,
        };
        // Re-signed between the two reads: the newer one, with its own headers.
        Ok(crl.map(|crl| {
            if crl.number != number {
                headers = crl_headers(shard, crl.number, crl.this_update, crl.next_update);
            }
            (StatusCode::OK, headers, crl.der)
        }))
    })
    .await;
    match read {
        Ok(Ok(Some((status, headers, der)))) => (status, headers, der).into_response(),
        Ok(Ok(None)) if shard.is_some() => StatusCode::NOT_FOUND.into_response(),
        Ok(Ok(None)) => {
            (StatusCode::SERVICE_UNAVAILABLE, "LCR pas encore publiée\n").into_response()
        }
        Ok(Err(e)) => internal_error("lecture de la LCR", &e),
        Err(e) => internal_error("tâche de lecture de la LCR", &e),
    }
}

/// `application/pkix-crl`, an ETag naming the CRL (its shard and number: each shard has its
/// own number sequence), `Last-Modified` at thisUpdate, and a cache lifetime of
/// [`CRL_CACHE_SECS`] at most, never past nextUpdate.
fn crl_headers(
    shard: Option<u32>,
    number: i64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkix-crl"),
    );
    let etag = match shard {
        Some(shard) => format!("\"crl-{shard}-{number}\""),
        None => format!("\"crl-{number}\""),
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    let now = OffsetDateTime::now_utc();
    let max_age = (next_update - now).whole_seconds().clamp(0, CRL_CACHE_SECS);
    if let Ok(v) = HeaderValue::from_str(&format!("public, max-age={max_age}, must-revalidate")) {
        headers.insert(header::CACHE_CONTROL, v);
    }
    for (name, t) in [
        (header::EXPIRES, now + time::Duration::seconds(max_age)),
        (header::LAST_MODIFIED, this_update),
    ] {
        if let Some(v) = http_date(t) {
            headers.insert(name, v);
        }
    }
    headers
}

/// RFC 9110 §13.1: `If-None-Match` (our ETag, or `*`) decides when present; otherwise
/// `If-Modified-Since` at or after thisUpdate.
fn not_modified(request: &HeaderMap, response: &HeaderMap, this_update: OffsetDateTime) -> bool {
    if let Some(tags) = request.get(header::IF_NONE_MATCH) {
        let Some(ours) = response.get(header::ETAG).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        return tags.to_str().is_ok_and(|tags| {
            tags.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == ours)
        });
    }
    request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .is_some_and(|since| SystemTime::from(this_update) <= since)
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

    proptest::proptest! {
        // Pure functions: the default 256 cases take milliseconds (`PROPTEST_CASES` for more).

        /// The GET form of OCSP is anyone's path: whatever it holds, no panic.
        #[test]
        fn any_ocsp_get_path_decodes_or_is_refused(path in "/ocsp/([^%]|%[0-9A-Fa-f]{0,2}|%.){0,120}") {
            let _ = ocsp_get_request(&path);
        }

        /// A request in any of the four base64 alphabets, percent-encoded or not, reads back.
        #[test]
        fn an_ocsp_request_in_base64_reads_back(
            der in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            alphabet in 0..4usize,
            escape in proptest::prelude::any::<bool>(),
        ) {
            use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
            use base64::Engine;
            let engine = &[STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD][alphabet];
            let mut encoded = engine.encode(&der);
            if escape {
                encoded = encoded.replace('/', "%2F").replace('+', "%2B").replace('=', "%3D");
            }
            proptest::prop_assert_eq!(ocsp_get_request(&format!("/ocsp/{encoded}")), Some(der));
        }
    }

    #[test]
    fn a_shard_file_is_digits_then_crl() {
        assert_eq!(shard_of_file("0.crl"), Some(0));
        assert_eq!(shard_of_file("127.crl"), Some(127));
        for bad in [
            "",
            ".crl",
            "+1.crl",
            "-1.crl",
            "1.pem",
            "1",
            "x.crl",
            "9999999999.crl",
        ] {
            assert_eq!(shard_of_file(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_crls_cache_lifetime_is_a_minute_at_most_and_never_past_next_update() {
        let now = OffsetDateTime::now_utc();
        let max_age = |next_update| {
            let h = crl_headers(Some(3), 9, now, next_update);
            assert_eq!(h[header::ETAG], "\"crl-3-9\"");
            let cache = h[header::CACHE_CONTROL].to_str().unwrap().to_owned();
            cache
                .split("max-age=")
                .nth(1)
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap()
        };
        assert_eq!(max_age(now + time::Duration::days(7)), CRL_CACHE_SECS);
        assert!(max_age(now + time::Duration::seconds(20)) <= 20);
        assert_eq!(max_age(now - time::Duration::seconds(5)), 0);
    }

    #[test]
    fn a_conditional_request_matches_our_etag_or_a_date_at_or_after_this_update() {
        let this_update = time::macros::datetime!(2026-03-01 08:00:00 UTC);
        let ours = crl_headers(None, 4, this_update, this_update + time::Duration::days(7));
        let ask = |name, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_str(value).unwrap());
            not_modified(&h, &ours, this_update)
        };
        assert!(ask(header::IF_NONE_MATCH, "\"crl-4\""));
        assert!(ask(header::IF_NONE_MATCH, "\"crl-3\", W/\"crl-4\""));
        assert!(ask(header::IF_NONE_MATCH, "*"));
        assert!(!ask(header::IF_NONE_MATCH, "\"crl-3\""));
        assert!(ask(
            header::IF_MODIFIED_SINCE,
            "Sun, 01 Mar 2026 08:00:00 GMT"
        ));
        assert!(!ask(
            header::IF_MODIFIED_SINCE,
            "Sun, 01 Mar 2026 07:59:59 GMT"
        ));
        assert!(!not_modified(&HeaderMap::new(), &ours, this_update));
    }

    #[test]
    fn a_time_before_1970_gets_no_http_date_rather_than_a_panic() {
        assert!(http_date(time::macros::datetime!(1969-12-31 23:59:59 UTC)).is_none());
        assert!(http_date(OffsetDateTime::UNIX_EPOCH).is_some());
    }
}
