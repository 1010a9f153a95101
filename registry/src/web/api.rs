//! The registry's JSON API on an establishment: workers list, import and export, fractions,
//! doses, the medical follow-up card, and the passive results of the dosimetry bodies.
//!
//! Every handler parses its input, asks the service with the caller's principal and answers
//! what the service said; who may do what is decided by the service (which asks the matrix),
//! never here. Errors are `{"error", "message" (French), "fields"}` with their status.
//!
//! | route (under `/api/v1/establishments/{id}`) | does |
//! |---|---|
//! | `GET /workers?q=&fraction=&removed=&page=&per_page=` (or `limit`/`offset`, or `after`) | search, a page at a time |
//! | `POST /workers` | one operation of the workers form (`examples/worker.json`) |
//! | `GET /workers/{worker}` | one worker, in the view the role gives |
//! | `POST /workers/import` (`text/csv`) | the CSV import, all or nothing |
//! | `GET /workers.csv` | the export |
//! | `GET, POST /fractions`; `PUT, DELETE /fractions/{fid}`; `POST /fractions/assign` | *Fractionner la liste* |
//! | `GET, POST /workers/{worker}/doses`; `GET /workers/{worker}/doses/effective` | dose records, rolling 12-month effective dose |
//! | `GET, PUT /workers/{worker}/card` | the medical follow-up card |
//! | `POST /doses/passive` | a dosimetry body's result, the worker named by NIR or card number |

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::{
    CardInput, CardNumber, DoseInput, DoseKind, DoseQuery, FractionFilter, Nir, Operation,
    Principal, RegistryError, WorkerInput, WorkerQuery, WorkerRef, WorkerView,
};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::Date;

use super::caller::{api_principal, service, Refusal};
use super::stream::{self, ChannelReader, Upload};
use super::{cert_of, error, RegistryState};
use crate::web::ClientCert;

/// Largest JSON body (axum's default limit, which the body extractor applies too).
const BODY_MAX: u64 = 2 * 1024 * 1024;

/// Page size of a search when none is asked for, and the largest one.
const PER_PAGE: u32 = 50;
const PER_PAGE_MAX: u32 = 500;

/// The API's routes on an establishment.
pub fn routes() -> Router<RegistryState> {
    let e = "/api/v1/establishments/{id}";
    Router::new()
        .route(&format!("{e}/workers"), get(search).post(apply))
        .route(&format!("{e}/workers.csv"), get(export))
        .route(&format!("{e}/workers/import"), post(import))
        .route(&format!("{e}/workers/{{worker}}"), get(worker))
        .route(
            &format!("{e}/workers/{{worker}}/doses"),
            get(doses).post(record_dose),
        )
        .route(
            &format!("{e}/workers/{{worker}}/doses/effective"),
            get(effective),
        )
        .route(
            &format!("{e}/workers/{{worker}}/card"),
            get(card).put(update_card),
        )
        .route(
            &format!("{e}/fractions"),
            get(fractions).post(create_fraction),
        )
        .route(&format!("{e}/fractions/assign"), post(assign_fraction))
        .route(
            &format!("{e}/fractions/{{fid}}"),
            put(rename_fraction).delete(delete_fraction),
        )
        .route(&format!("{e}/doses/passive"), post(passive))
}

/// A refused request, ready to answer.
#[derive(Debug)]
pub struct Fail(Box<Response>);

impl IntoResponse for Fail {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Box<Response>> for Fail {
    fn from(r: Box<Response>) -> Self {
        Self(r)
    }
}

impl From<Refusal> for Fail {
    fn from(r: Refusal) -> Self {
        Self(Box::new(refusal(r)))
    }
}

fn fail(status: StatusCode, code: &str, message: &str) -> Fail {
    Fail(Box::new(error(status, code, message)))
}

fn field_fail(status: StatusCode, code: &str, message: &str, field: &str, why: &str) -> Fail {
    Fail(Box::new(
        (
            status,
            Json(json!({"error": code, "message": message, "fields": {field: why}})),
        )
            .into_response(),
    ))
}

/// The service's answer as the API's error body; a refused import carries its report.
pub(crate) fn refusal(r: Refusal) -> Response {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = r.message();
    let mut body = match &r {
        Refusal::Registry(e) => json!({
            "error": e.code(),
            "message": message,
            "fields": e.fields().unwrap_or_default(),
        }),
        Refusal::Internal(_) => json!({"error": "internal", "message": message, "fields": {}}),
    };
    if let Refusal::Registry(e) = &r {
        if let Some(report) = e.report() {
            body["report"] = json!({
                "lines_in_error": report.lines_in_error(),
                "errors": report.errors,
                "more": report.more,
            });
        }
    }
    (status, Json(body)).into_response()
}

type Answer = Result<Response, Fail>;

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
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > BODY_MAX) {
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

/// The caller of a request on establishment `id`.
async fn who(
    state: &RegistryState,
    cert: Option<Extension<ClientCert>>,
    headers: &HeaderMap,
    id: i64,
) -> Result<Principal, Fail> {
    let cert = cert_of(cert)?;
    Ok(api_principal(state, &cert, headers, id).await?.0)
}

/// An id of the path; anything else is a resource that does not exist.
fn id(text: &str) -> Result<i64, Fail> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| fail(StatusCode::NOT_FOUND, "not_found", "Introuvable."))
}

fn media_type(headers: &HeaderMap) -> String {
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
        _ => fail(
            StatusCode::BAD_REQUEST,
            "bad_request",
            &format!(
                "Corps JSON illisible (ligne {}, colonne {}).",
                e.line(),
                e.column()
            ),
        ),
    })
}

fn bad_query(message: &str) -> Fail {
    fail(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// A whole number of the query string.
fn number<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, Fail> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            bad_query(&format!(
                "Le paramètre « {name} » doit être un nombre entier positif."
            ))
        }),
    }
}

/// A day of the query string: `jj/mm/aaaa` or `aaaa-mm-jj`.
pub(crate) fn day(text: &str) -> Option<Date> {
    let text = text.trim();
    let french = time::macros::format_description!("[day]/[month]/[year]");
    let iso = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, french)
        .or_else(|_| Date::parse(text, iso))
        .ok()
}

fn query_day(q: &HashMap<String, String>, name: &str) -> Result<Option<Date>, Fail> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => day(v).map(Some).ok_or_else(|| {
            bad_query(&format!(
                "Le paramètre « {name} » doit être une date jj/mm/aaaa."
            ))
        }),
    }
}

/// The kind of dose named in a query or a form.
pub(crate) fn dose_kind(text: &str) -> Option<DoseKind> {
    DoseKind::ALL
        .into_iter()
        .find(|k| k.as_str() == text.trim())
}

/// What a search box holds: a NIR (13 characters, or 15 with the key; digits, `2A`/`2B`) or
/// the start of a name.
pub(crate) fn search_terms(q: &str) -> (Option<String>, Option<String>) {
    let compact: String = q.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact.chars().filter(char::is_ascii_digit).count();
    let nir_like = !compact.is_empty()
        && compact
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, 'A' | 'B' | 'a' | 'b'))
        && digits + 1 >= compact.chars().count()
        && digits >= 5;
    let text = q.trim();
    if text.is_empty() {
        (None, None)
    } else if nir_like {
        (None, Some(compact))
    } else {
        (Some(text.to_owned()), None)
    }
}

/// The fraction filter of a query: an id, `aucune` (or `none`) for the workers in none.
pub(crate) fn fraction_filter(text: Option<&str>) -> Option<FractionFilter> {
    match text.map(str::trim) {
        None | Some("") => Some(FractionFilter::Any),
        Some("aucune" | "none") => Some(FractionFilter::None),
        Some(v) => v.parse().ok().map(FractionFilter::In),
    }
}

async fn search(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
    let (mut name, mut nir) = search_terms(q.get("q").map_or("", String::as_str));
    if let Some(n) = q.get("name").filter(|v| !v.trim().is_empty()) {
        name = Some(n.clone());
    }
    if let Some(n) = q.get("nir").filter(|v| !v.trim().is_empty()) {
        nir = Some(n.clone());
    }
    let fraction = fraction_filter(q.get("fraction").map(String::as_str)).ok_or_else(|| {
        bad_query("Le paramètre « fraction » est l'identifiant d'une fraction, ou « aucune ».")
    })?;
    let include_removed = matches!(
        q.get("removed").map(String::as_str),
        Some("1" | "true" | "oui")
    );
    let after: Option<i64> = number(&q, "after")?;
    let page: Option<u64> = number(&q, "page")?;
    let offset: Option<u64> = number(&q, "offset")?;
    let size: u32 = number(&q, "per_page")?
        .or(number(&q, "limit")?)
        .unwrap_or(PER_PAGE);
    if size == 0 || size > PER_PAGE_MAX || page == Some(0) {
        return Err(bad_query(&format!(
            "Pages de 1 à {PER_PAGE_MAX} travailleurs, numérotées à partir de 1."
        )));
    }
    if after.is_some() && (page.is_some() || offset.is_some()) {
        return Err(bad_query(
            "Une page se demande soit par sa position (« page » ou « offset »), soit à la suite \
             de la précédente (« after »), pas les deux.",
        ));
    }
    if page.is_some() && offset.is_some() {
        return Err(bad_query("Indiquez « page » ou « offset », pas les deux."));
    }
    let positioned = page.is_some() || offset.is_some();
    let offset = match (offset, page) {
        (Some(offset), _) => offset,
        (None, Some(page)) => (page - 1)
            .checked_mul(u64::from(size))
            .ok_or_else(|| bad_query("Ce numéro de page est trop grand."))?,
        (None, None) => 0,
    };
    let query = WorkerQuery {
        name,
        nir,
        fraction,
        include_removed,
        after,
        offset,
        limit: size,
    };
    let found = service(&state, move |r| r.search_workers(&who, id, &query)).await?;
    if !positioned {
        return Ok(Json(SearchPage {
            items: &found.items,
            next: found.next,
            limit: size,
            ..SearchPage::default()
        })
        .into_response());
    }
    let more = found.next.is_some();
    let count = found.items.len() as u64;
    let page_number = (offset / u64::from(size)).saturating_add(1);
    Ok(Json(SearchPage {
        items: &found.items,
        next: found.next,
        limit: size,
        offset: Some(offset),
        next_offset: Some(more.then_some(offset.saturating_add(count))),
        page: Some(page_number),
        per_page: Some(size),
        next_page: Some(
            (more && offset % u64::from(size) == 0).then_some(page_number.saturating_add(1)),
        ),
    })
    .into_response())
}

/// A page of a search. Serialized as a struct (not through `json!`) so that each worker's
/// fields keep the order of `examples/worker.json`. The offset fields appear only when the
/// page was asked for by `page` or `offset`.
#[derive(Debug, Default, Serialize)]
struct SearchPage<'a> {
    items: &'a [WorkerView],
    /// The key to pass as `after` for the next page (`null` on the last one).
    next: Option<i64>,
    limit: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_offset: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_page: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<Option<u64>>,
}

async fn apply(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
    let input: WorkerInput = json_body(&headers, &body)?;
    let applied = service(&state, move |r| r.apply_worker(&who, id, &input)).await?;
    let mut response = Json(&applied).into_response();
    if applied.operation == Operation::Add {
        *response.status_mut() = StatusCode::CREATED;
        if let Ok(v) = HeaderValue::from_str(&format!(
            "/api/v1/establishments/{id}/workers/{}",
            applied.worker_id
        )) {
            response.headers_mut().insert(header::LOCATION, v);
        }
    }
    Ok(response)
}

async fn worker(
    State(state): State<RegistryState>,
    Path((est, w)): Path<(String, String)>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let (id, w) = (id(&est)?, id(&w)?);
    let who = who(&state, cert, &headers, id).await?;
    let view = service(&state, move |r| r.worker(&who, id, w)).await?;
    Ok(Json(view).into_response())
}

async fn import(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    body: Body,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
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
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > stream::IMPORT_MAX_BYTES) {
        return Err(too_large());
    }
    let (tx, reader) = ChannelReader::new();
    let task = tokio::task::spawn_blocking({
        let registry = state.registry.clone();
        move || registry.import_workers(&who, id, reader)
    });
    let upload = Arc::new(Upload::default());
    stream::pump(body.into_data_stream(), tx, &upload, 0).await;
    let result = task.await.map_err(|e| Refusal::Internal(Box::new(e)))?;
    import_answer(result, &upload)
        .map(|summary| Json(summary).into_response())
        .map_err(Fail::from)
}

fn too_large() -> Fail {
    fail(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        "Fichier trop volumineux : 1 Go au plus par import.",
    )
}

/// Why an import did not happen.
#[derive(Debug)]
pub(crate) enum ImportFailure {
    /// Larger than the limit.
    TooLarge,
    /// The client stopped sending.
    Interrupted,
    /// The service refused it (a refused import carries its per-line report).
    Refused(Refusal),
}

impl ImportFailure {
    /// French message.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::TooLarge => "Fichier trop volumineux : 1 Go au plus par import.".to_owned(),
            Self::Interrupted => {
                "L'envoi du fichier a été interrompu : rien n'a été importé.".to_owned()
            }
            Self::Refused(r) => r.message(),
        }
    }

    /// HTTP status.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Interrupted => StatusCode::BAD_REQUEST,
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
            ImportFailure::Interrupted => fail(
                StatusCode::BAD_REQUEST,
                "upload_interrupted",
                &ImportFailure::Interrupted.message(),
            ),
            ImportFailure::Refused(r) => Fail::from(r),
        }
    }
}

/// The import's outcome, the upload's own failures first (they explain the read error the
/// service saw).
pub(crate) fn import_answer<T>(
    result: crate::Result<T>,
    upload: &Upload,
) -> Result<T, ImportFailure> {
    if upload.too_large.load(Ordering::Relaxed) {
        return Err(ImportFailure::TooLarge);
    }
    match result {
        Err(RegistryError::Io(_)) if upload.broken.load(Ordering::Relaxed) => {
            Err(ImportFailure::Interrupted)
        }
        other => other.map_err(|e| ImportFailure::Refused(Refusal::Registry(e))),
    }
}

async fn export(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
    let registry = state.registry.clone();
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
pub(crate) fn csv_response(id: i64, body: Body) -> Response {
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

async fn fractions(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
    let list = service(&state, move |r| r.fractions(&who, id)).await?;
    Ok(Json(list).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FractionName {
    #[serde(default)]
    name: String,
}

async fn create_fraction(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
    let FractionName { name } = json_body(&headers, &body)?;
    let fraction = service(&state, move |r| r.create_fraction(&who, id, &name)).await?;
    Ok((StatusCode::CREATED, Json(fraction)).into_response())
}

async fn rename_fraction(
    State(state): State<RegistryState>,
    Path((est, fid)): Path<(String, String)>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let (id, fid) = (id(&est)?, id(&fid)?);
    let who = who(&state, cert, &headers, id).await?;
    let FractionName { name } = json_body(&headers, &body)?;
    let fraction = service(&state, move |r| r.rename_fraction(&who, id, fid, &name)).await?;
    Ok(Json(fraction).into_response())
}

async fn delete_fraction(
    State(state): State<RegistryState>,
    Path((est, fid)): Path<(String, String)>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let (id, fid) = (id(&est)?, id(&fid)?);
    let who = who(&state, cert, &headers, id).await?;
    let workers = service(&state, move |r| r.delete_fraction(&who, id, fid)).await?;
    Ok(Json(json!({"deleted": fid, "workers_unassigned": workers})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assignment {
    /// The fraction, or `null` for none.
    fraction: Option<i64>,
    workers: Vec<i64>,
}

async fn assign_fraction(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
    let a: Assignment = json_body(&headers, &body)?;
    let n = service(&state, move |r| {
        r.assign_fraction(&who, id, a.fraction, &a.workers)
    })
    .await?;
    Ok(Json(json!({"updated": n})).into_response())
}

async fn doses(
    State(state): State<RegistryState>,
    Path((est, w)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let (id, w) = (id(&est)?, id(&w)?);
    let who = who(&state, cert, &headers, id).await?;
    let kind = match q.get("kind").map(|k| k.trim()).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(dose_kind(k).ok_or_else(|| {
            bad_query("Le paramètre « kind » vaut passive, operational, internal ou effective.")
        })?),
    };
    let query = DoseQuery {
        kind,
        from: query_day(&q, "from")?,
        to: query_day(&q, "to")?,
    };
    let records = service(&state, move |r| r.doses(&who, id, w, &query)).await?;
    Ok(Json(json!({"worker_id": w, "records": records})).into_response())
}

async fn effective(
    State(state): State<RegistryState>,
    Path((est, w)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let (id, w) = (id(&est)?, id(&w)?);
    let who = who(&state, cert, &headers, id).await?;
    let on = query_day(&q, "on")?;
    let rolling = service(&state, move |r| r.effective_dose(&who, id, w, on)).await?;
    Ok(Json(rolling).into_response())
}

async fn record_dose(
    State(state): State<RegistryState>,
    Path((est, w)): Path<(String, String)>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let (id, w) = (id(&est)?, id(&w)?);
    let who = who(&state, cert, &headers, id).await?;
    let input: DoseInput = json_body(&headers, &body)?;
    let record = service(&state, move |r| {
        r.record_dose(&who, id, &WorkerRef::Id(w), &input)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": record}))).into_response())
}

/// A passive result as a dosimetry body sends it: the worker by NIR (13 characters and the
/// key, or the 15 together) or by medical follow-up card number.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PassiveResult {
    #[serde(default)]
    nir: Option<String>,
    #[serde(default)]
    nir_key: Option<String>,
    #[serde(default)]
    card_number: Option<String>,
    #[serde(default)]
    period_start: Option<String>,
    #[serde(default)]
    period_end: Option<String>,
    #[serde(default)]
    hp10_msv: Option<f64>,
    #[serde(default)]
    hp007_msv: Option<f64>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

async fn passive(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let id = id(&est)?;
    let who = who(&state, cert, &headers, id).await?;
    let p: PassiveResult = json_body(&headers, &body)?;
    let invalid = "Certaines informations sont à corriger.";
    let worker = match (present(&p.card_number), present(&p.nir)) {
        (Some(card), _) => WorkerRef::Card(CardNumber::parse(card).ok_or_else(|| {
            field_fail(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                invalid,
                "card_number",
                "Ce numéro de carte de suivi médical n'a pas la forme attendue.",
            )
        })?),
        (None, Some(nir)) => {
            let parsed = match present(&p.nir_key) {
                Some(key) => Nir::parse(nir, key),
                None => Nir::parse_full(nir),
            };
            WorkerRef::Nir(parsed.map_err(|e| {
                field_fail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    invalid,
                    "nir",
                    &e.to_string(),
                )
            })?)
        }
        (None, None) => return Err(field_fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            invalid,
            "nir",
            "Indiquez le NIR du travailleur et sa clé, ou son numéro de carte de suivi médical.",
        )),
    };
    let input = DoseInput {
        kind: DoseKind::Passive,
        period_start: p.period_start.unwrap_or_default(),
        period_end: p.period_end.unwrap_or_default(),
        hp10_msv: p.hp10_msv,
        hp007_msv: p.hp007_msv,
        e_msv: None,
    };
    let record = service(&state, move |r| r.record_dose(&who, id, &worker, &input)).await?;
    Ok((StatusCode::CREATED, Json(json!({"id": record}))).into_response())
}

async fn card(
    State(state): State<RegistryState>,
    Path((est, w)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let (id, w) = (id(&est)?, id(&w)?);
    let who = who(&state, cert, &headers, id).await?;
    let on = query_day(&q, "on")?;
    let card = service(&state, move |r| r.medical_card(&who, id, w, on)).await?;
    Ok(Json(card).into_response())
}

async fn update_card(
    State(state): State<RegistryState>,
    Path((est, w)): Path<(String, String)>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let (id, w) = (id(&est)?, id(&w)?);
    let who = who(&state, cert, &headers, id).await?;
    let input: CardInput = json_body(&headers, &body)?;
    let card = service(&state, move |r| r.update_medical_card(&who, id, w, &input)).await?;
    Ok(Json(card).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_box_holding_a_nir_searches_by_nir_and_a_name_by_name() {
        assert_eq!(
            search_terms(" 2 76 09 12 346 445 12 "),
            (None, Some("276091234644512".into()))
        );
        assert_eq!(
            search_terms("253072A073004"),
            (None, Some("253072A073004".into()))
        );
        assert_eq!(
            search_terms("Didier val"),
            (Some("Didier val".into()), None)
        );
        assert_eq!(search_terms("  "), (None, None));
    }

    #[test]
    fn days_are_read_in_french_or_iso_form() {
        assert_eq!(day("31/05/2025"), Some(time::macros::date!(2025 - 05 - 31)));
        assert_eq!(day("2025-05-31"), Some(time::macros::date!(2025 - 05 - 31)));
        assert_eq!(day("31/02/2025"), None);
    }

    #[test]
    fn the_fraction_filter_takes_an_id_or_none() {
        assert_eq!(fraction_filter(Some("aucune")), Some(FractionFilter::None));
        assert_eq!(fraction_filter(Some("12")), Some(FractionFilter::In(12)));
        assert_eq!(fraction_filter(Some("x")), None);
    }
}
