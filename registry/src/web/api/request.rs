//! What the handlers read of a request beside its caller: a bounded body, a JSON body, the
//! numbers and days of a query string.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;
use time::Date;

use super::{fail, Fail};
use crate::web::unreadable_json;

/// Largest JSON body (axum's default limit, which the body extractor applies too).
const BODY_MAX: u64 = 2 * 1024 * 1024;

/// A request body of at most the default limit (2 MB), refused in the API's own JSON shape.
#[derive(Debug)]
pub(crate) struct Raw(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Raw {
    type Rejection = Fail;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Fail> {
        let too_large = || {
            fail(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "Corps de requête trop volumineux (2 Mo au plus).",
            )
        };
        // Refused before reading: a client that sent `Expect: 100-continue` sends nothing.
        if declared_length(req.headers()).is_some_and(|n| n > BODY_MAX) {
            return Err(too_large());
        }
        Bytes::from_request(req, state).await.map(Raw).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                fail(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    "Corps de requête illisible.",
                )
            }
        })
    }
}

/// A JSON body of type `T`, read from a [`Raw`] body by [`json_body`].
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Fail;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Fail> {
        let headers = req.headers().clone();
        let Raw(body) = Raw::from_request(req, state).await?;
        json_body(&headers, &body).map(JsonBody)
    }
}

/// The day `?on=` of a dated read (`None` when absent or blank: today).
#[derive(Debug)]
pub(crate) struct On(pub Option<Date>);

impl<S: Send + Sync> FromRequestParts<S> for On {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Fail> {
        let Query(q) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| Fail::from(Box::new(e.into_response())))?;
        query_day(&q, "on").map(On)
    }
}

/// The `Content-Length` the client announced.
pub(super) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

pub(super) fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// A JSON body: `application/json` (else 415), well-formed (else 400), of the expected shape
/// (else 422). The parser's own message is not repeated: it may quote a value (a NIR).
pub(crate) fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> Result<T, Fail> {
    let media = media_type(headers);
    if media != "application/json" && !media.ends_with("+json") {
        return Err(fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Le corps de la requête doit être du JSON (Content-Type: application/json).",
        ));
    }
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            &format!(
                "Un champ est inconnu ou n'a pas le type attendu (ligne {}, colonne {}).",
                e.line(),
                e.column()
            ),
        ),
        _ => Fail::from(Box::new(unreadable_json(&e))),
    })
}

pub(super) fn bad_query(message: &str) -> Fail {
    fail(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// The value of `name` in the query, when not blank, read by `parse`; else `message(name)`.
fn parsed<T>(
    q: &HashMap<String, String>,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    message: impl FnOnce(&str) -> String,
) -> Result<Option<T>, Fail> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(v).map(Some).ok_or_else(|| bad_query(&message(name))),
    }
}

/// A whole number of the query string.
pub(super) fn number<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, Fail> {
    parsed(
        q,
        name,
        |v| v.parse().ok(),
        |name| format!("Le paramètre « {name} » doit être un nombre entier positif."),
    )
}

/// A day of the query string: `jj/mm/aaaa` or `aaaa-mm-jj`.
pub(crate) fn day(text: &str) -> Option<Date> {
    store::date::parse_french(text)
        .or_else(|_| store::date::parse_iso(text))
        .ok()
}

pub(super) fn query_day(q: &HashMap<String, String>, name: &str) -> Result<Option<Date>, Fail> {
    parsed(q, name, day, |name| {
        format!("Le paramètre « {name} » doit être une date jj/mm/aaaa.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_in_french_or_iso_form() {
        assert_eq!(day("31/05/2025"), Some(time::macros::date!(2025 - 05 - 31)));
        assert_eq!(day("2025-05-31"), Some(time::macros::date!(2025 - 05 - 31)));
        assert_eq!(day("31/02/2025"), None);
    }
}
