//! JSON API of PASS (`SPEC.md`): the same rules as the wizard.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::{bad_json, ApiError};
use super::{blocking, client, Peer, PublicState};
use crate::pass::{Anonymous, DocumentKind, NewDraft, PassError};
use crate::protocol::{Protocol, ProtocolInput};

pub(super) fn router(state: PublicState) -> Router {
    let max = state.pass.config().document_max_bytes;
    Router::new()
        .route("/api/v1/protocols", post(create))
        .route("/api/v1/protocols/renewal", post(renewal))
        .route(
            "/api/v1/protocols/{id}",
            get(show).put(replace).delete(cancel),
        )
        .route(
            "/api/v1/protocols/{id}/documents/{kind}",
            // A little over the limit, so that our own check answers in JSON with 413.
            post(upload).layer(DefaultBodyLimit::max(max + 64 * 1024)),
        )
        .route("/api/v1/protocols/{id}/signature-code", post(request_code))
        .route("/api/v1/protocols/{id}/signature", post(sign))
        .route("/api/v1/protocols/{id}/annexe1.pdf", get(annexe_pdf))
        .with_state(state)
}

/// Why a request is refused: PASS's rules, or a body that is not the expected JSON.
enum Refusal {
    Pass(ApiError),
    BadJson(serde_json::Error),
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Pass(e)
    }
}

impl From<PassError> for Refusal {
    fn from(e: PassError) -> Self {
        Self::Pass(ApiError(e))
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::Pass(e) => e.into_response(),
            Self::BadJson(e) => bad_json(&e),
        }
    }
}

type Answer = Result<Response, Refusal>;

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(body).map_err(Refusal::BadJson)
}

/// `201 Created` with a new draft's id and its bearer token (shown this once).
fn draft_created(draft: NewDraft) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({"id": draft.id, "draft_token": draft.token.as_str()})),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_owned())
}

/// The draft's bearer token, or the wizard's draft cookie for the same draft.
pub(crate) fn draft_credential(headers: &HeaderMap, id: &str) -> Option<String> {
    bearer(headers).or_else(|| {
        super::super::web_cookie::draft_cookie(headers)
            .filter(|(cid, _)| cid == id)
            .map(|(_, t)| t)
    })
}

async fn authorize(state: &PublicState, headers: &HeaderMap, id: &str) -> Result<(), ApiError> {
    let token = draft_credential(headers, id).ok_or(PassError::BadToken)?;
    let pass = state.pass.clone();
    let id = id.to_owned();
    blocking(move || pass.authorize(&id, &token)).await?;
    Ok(())
}

fn validate(input: &ProtocolInput) -> Result<(), ApiError> {
    Protocol::parse(input)
        .map(|_| ())
        .map_err(|f| ApiError(PassError::Invalid(f)))
}

/// How long a client already over its drafts limit waits for its 429.
const REFUSAL_PAUSE: std::time::Duration = std::time::Duration::from_secs(1);

async fn create(
    State(state): State<PublicState>,
    headers: HeaderMap,
    Peer(peer): Peer,
    body: Bytes,
) -> Answer {
    let who = client(&headers, peer);
    // An address already over its limit is refused before its body is parsed, and hears it
    // only after a pause (a tarpit): a script that posts again as soon as it is answered then
    // costs a refusal a second per connection, not thousands, and the registry keeps its CPU.
    if let Err(refused) = state.pass.refused_already(Anonymous::NewDraft, &who) {
        tokio::time::sleep(REFUSAL_PAUSE).await;
        return Err(refused.into());
    }
    let input: ProtocolInput = parse(&body)?;
    validate(&input)?;
    let pass = state.pass.clone();
    let created = blocking(move || {
        pass.admit(Anonymous::NewDraft, &who)?;
        pass.create(&input)
    });
    Ok(draft_created(created.await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RenewalBody {
    number: String,
    key_name: String,
}

async fn renewal(
    State(state): State<PublicState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let req: RenewalBody = parse(&body)?;
    let who = client(&headers, peer);
    let pass = state.pass.clone();
    let draft = blocking(move || pass.start_renewal(&req.number, &req.key_name, &who)).await?;
    Ok(draft_created(draft))
}

async fn show(
    State(state): State<PublicState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    authorize(&state, &headers, &id).await?;
    let pass = state.pass.clone();
    let view = blocking(move || pass.view(&id)).await?;
    Ok(Json(view).into_response())
}

async fn replace(
    State(state): State<PublicState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    authorize(&state, &headers, &id).await?;
    let input: ProtocolInput = parse(&body)?;
    validate(&input)?;
    let pass = state.pass.clone();
    let view = blocking(move || {
        pass.update(&id, &input, None)?;
        pass.view(&id)
    })
    .await?;
    Ok(Json(view).into_response())
}

async fn cancel(
    State(state): State<PublicState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    authorize(&state, &headers, &id).await?;
    let pass = state.pass.clone();
    blocking(move || pass.cancel(&id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn upload(
    State(state): State<PublicState>,
    Path((id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    Peer(peer): Peer,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Answer {
    // Far over the limit, the body is cut off while read: the same answer as a little over it.
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Err(PassError::DocumentTooLarge {
                max_mib: state.pass.config().document_max_bytes / (1024 * 1024),
            }
            .into())
        }
        Err(rejection) => return Ok(rejection.into_response()),
    };
    let kind = DocumentKind::parse(&kind).ok_or(PassError::NotFound)?;
    authorize(&state, &headers, &id).await?;
    let pass = state.pass.clone();
    let who = client(&headers, peer);
    let record = blocking(move || {
        pass.admit(Anonymous::Upload, &who)?;
        pass.upload(&id, kind, &body)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    #[serde(default)]
    consent: bool,
}

async fn request_code(
    State(state): State<PublicState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    authorize(&state, &headers, &id).await?;
    let req: CodeBody = parse(&body)?;
    let pass = state.pass.clone();
    let sent = blocking(move || pass.request_code(&id, req.consent)).await?;
    state.outbox.wake();
    Ok((StatusCode::ACCEPTED, Json(sent)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignBody {
    code: String,
}

async fn sign(
    State(state): State<PublicState>,
    Path(id): Path<String>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    authorize(&state, &headers, &id).await?;
    let req: SignBody = parse(&body)?;
    let who = client(&headers, peer);
    let pass = state.pass.clone();
    let signed = blocking(move || pass.sign(&id, &req.code, &who)).await?;
    Ok(Json(signed).into_response())
}

async fn annexe_pdf(
    State(state): State<PublicState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    authorize(&state, &headers, &id).await?;
    let pass = state.pass.clone();
    let pdf = blocking(move || pass.annexe_pdf(&id)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"annexe1.pdf\"",
            ),
        ],
        pdf,
    )
        .into_response())
}
