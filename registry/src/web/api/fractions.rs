//! *Fractionner la liste*: the fractions of the list, and who is in which.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::request::{json_body, Raw};
use super::{Answer, Caller};
use crate::web::RegistryState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FractionName {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Assignment {
    /// The fraction, or `null` for none.
    fraction: Option<i64>,
    workers: Vec<i64>,
}

/// `GET /fractions`.
pub(super) async fn list(State(state): State<RegistryState>, caller: Caller) -> Answer {
    let id = caller.establishment;
    let list = caller
        .ask(&state, move |r, who| r.fractions(who, id))
        .await?;
    Ok(Json(list).into_response())
}

/// `POST /fractions`.
pub(super) async fn create(
    State(state): State<RegistryState>,
    caller: Caller,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let FractionName { name } = json_body(&headers, &body)?;
    let id = caller.establishment;
    let fraction = caller
        .ask(&state, move |r, who| r.create_fraction(who, id, &name))
        .await?;
    Ok((StatusCode::CREATED, Json(fraction)).into_response())
}

/// `PUT /fractions/{fid}`.
pub(super) async fn rename(
    State(state): State<RegistryState>,
    caller: Caller<i64>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let FractionName { name } = json_body(&headers, &body)?;
    let (id, fid) = (caller.establishment, caller.target);
    let fraction = caller
        .ask(&state, move |r, who| r.rename_fraction(who, id, fid, &name))
        .await?;
    Ok(Json(fraction).into_response())
}

/// `DELETE /fractions/{fid}`.
pub(super) async fn delete(State(state): State<RegistryState>, caller: Caller<i64>) -> Answer {
    let (id, fid) = (caller.establishment, caller.target);
    let workers = caller
        .ask(&state, move |r, who| r.delete_fraction(who, id, fid))
        .await?;
    Ok(Json(json!({"deleted": fid, "workers_unassigned": workers})).into_response())
}

/// `POST /fractions/assign`.
pub(super) async fn assign(
    State(state): State<RegistryState>,
    caller: Caller,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let a: Assignment = json_body(&headers, &body)?;
    let id = caller.establishment;
    let n = caller
        .ask(&state, move |r, who| {
            r.assign_fraction(who, id, a.fraction, &a.workers)
        })
        .await?;
    Ok(Json(json!({"updated": n})).into_response())
}
