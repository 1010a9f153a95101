//! The API's error body: `{"error": code, "message": French text, "fields": {...}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::pass::PassError;

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
        if let PassError::Internal(cause) = &e {
            tracing::error!(%cause, "erreur interne PASS");
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
