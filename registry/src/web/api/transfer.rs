//! The workers list as a CSV file: the import (all or nothing, streamed to the service as it
//! arrives) and the export (streamed from the service as it is written).

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::Stream;

use super::request::{declared_length, media_type};
use super::{fail, Answer, Caller, Fail};
use crate::web::caller::{service, Refusal};
use crate::web::stream;
use crate::web::RegistryState;
use crate::{ImportSummary, Principal, RegistryError};

/// `POST /workers/import` (`text/csv`).
pub(super) async fn import_csv(caller: Caller, headers: HeaderMap, body: Body) -> Answer {
    if !matches!(
        media_type(&headers).as_str(),
        "text/csv" | "application/csv"
    ) {
        return Err(fail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "La liste s'importe en CSV (Content-Type: text/csv).",
        ));
    }
    if declared_length(&headers).is_some_and(|n| n > stream::IMPORT_MAX_BYTES) {
        return Err(too_large());
    }
    let summary = import(
        &caller.state,
        caller.principal,
        caller.establishment,
        body.into_data_stream(),
    )
    .await?;
    Ok(Json(summary).into_response())
}

/// Imports `upload` into the list of `establishment`: the service reads it on the blocking
/// pool as it arrives.
pub(crate) async fn import<S, E>(
    state: &RegistryState,
    who: Principal,
    establishment: i64,
    upload: S,
) -> Result<ImportSummary, ImportFailure>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let reader = stream::reader(upload);
    service(state, move |r| {
        r.import_workers(&who, establishment, reader)
    })
    .await
    .map_err(|refusal| match refusal {
        Refusal::Registry(RegistryError::ImportRead(e)) if stream::too_large(&e) => {
            ImportFailure::TooLarge
        }
        other => ImportFailure::Refused(other),
    })
}

fn too_large() -> Fail {
    fail(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        &ImportFailure::TooLarge.message(),
    )
}

/// Why an import did not happen. A client that stops sending is the service's own refusal
/// ([`RegistryError::ImportRead`]: nothing imported).
#[derive(Debug)]
pub(crate) enum ImportFailure {
    /// Larger than the limit.
    TooLarge,
    /// The service refused it (a refused import carries its per-line report).
    Refused(Refusal),
}

impl ImportFailure {
    /// French message.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::TooLarge => "Fichier trop volumineux : 1 Go au plus par import.".to_owned(),
            Self::Refused(r) => r.message(),
        }
    }

    /// HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Refused(r) => {
                StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

impl From<ImportFailure> for Fail {
    fn from(f: ImportFailure) -> Self {
        match f {
            ImportFailure::TooLarge => too_large(),
            ImportFailure::Refused(r) => Fail::from(r),
        }
    }
}

/// `GET /workers.csv`.
pub(super) async fn export(caller: Caller) -> Answer {
    let Caller {
        principal: who,
        establishment: id,
        state,
        ..
    } = caller;
    let registry = state.registry;
    let body = stream::streamed(move |w| registry.export_workers(&who, id, w).map(|_| ()))
        .await
        .map_err(|e| match e {
            Some(e) => Fail::from(Refusal::Registry(e)),
            None => Fail::from(Refusal::Internal(Box::new(std::io::Error::other(
                "la tâche d'export s'est arrêtée",
            )))),
        })?;
    Ok(csv_response(id, body))
}

/// The export as a download.
fn csv_response(id: i64, body: Body) -> Response {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"travailleurs-{id}.csv\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
