//! The API's error body: `{"error": code, "message": French text, "fields": {...}}`, and the
//! one place an internal error's cause is written: the log, never the answer.

use std::error::Error;
use std::fmt;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::pass::PassError;

/// Logs an internal error's whole cause chain, once, where it is masked for the client (whose
/// answer is only the generic message of the error's `Display`).
pub(crate) fn log_internal(context: &'static str, error: &(dyn Error + 'static)) {
    tracing::error!(cause = %CauseChain(error), "{context}");
}

/// `cause: its cause: …`, from the first source (the error itself says only « Erreur interne »).
struct CauseChain<'a>(&'a (dyn Error + 'static));

impl fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut next = Some(self.0.source().unwrap_or(self.0));
        let mut first = true;
        while let Some(e) = next {
            if !first {
                f.write_str(": ")?;
            }
            write!(f, "{e}")?;
            first = false;
            next = e.source();
        }
        Ok(())
    }
}

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiError(pub PassError);

impl From<PassError> for ApiError {
    fn from(e: PassError) -> Self {
        Self(e)
    }
}

/// A 400 for a body that is not the expected JSON (never echoing the body).
pub fn bad_json(e: &serde_json::Error) -> Response {
    let body = json!({
        "error": "bad_request",
        "message": format!(
            "Corps JSON illisible ou champ inconnu (ligne {}, colonne {}).",
            e.line(),
            e.column()
        ),
        "fields": {},
    });
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        if e.is_internal() {
            log_internal("erreur interne PASS", &e);
        }
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut body = json!({
            "error": e.code(),
            "message": e.to_string(),
            "fields": e.fields().map(|f| json!(f.0)).unwrap_or_else(|| json!({})),
        });
        if let PassError::WrongCode { attempts_left } = &e {
            body["attempts_left"] = json!(attempts_left);
        }
        let mut response = (status, Json(body)).into_response();
        if let PassError::TooManyRequests {
            retry_after_minutes,
        } = &e
        {
            if let Ok(v) = HeaderValue::from_str(&(retry_after_minutes * 60).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_error_shows_a_generic_message_and_logs_its_cause() {
        let cause = serde_json::from_str::<u8>("{").unwrap_err();
        let said = cause.to_string();
        let e = PassError::Json(cause);
        assert!(e.is_internal());
        assert_eq!((e.status(), e.code()), (500, "internal"));
        assert_eq!(e.to_string(), "Erreur interne : réessayez plus tard.");
        assert_eq!(CauseChain(&e).to_string(), said);
    }
}
