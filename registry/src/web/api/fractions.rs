//! *Fractionner la liste*: the fractions of the list, and who is in which.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::request::JsonBody;
use super::{Answer, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FractionName {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Assignment {
    /// The fraction, or `null` for none.
    fraction: Option<i64>,
    workers: Vec<i64>,
}

/// `GET /fractions`.
pub(super) async fn list(caller: Caller) -> Answer {
    let id = caller.establishment;
    caller.answer(move |r, who| r.fractions(who, id)).await
}

/// `POST /fractions`.
pub(super) async fn create(
    caller: Caller,
    JsonBody(FractionName { name }): JsonBody<FractionName>,
) -> Answer {
    let id = caller.establishment;
    let fraction = caller
        .ask(move |r, who| r.create_fraction(who, id, &name))
        .await?;
    Ok((StatusCode::CREATED, Json(fraction)).into_response())
}

/// `PUT /fractions/{fid}`.
pub(super) async fn rename(
    caller: Caller<i64>,
    JsonBody(FractionName { name }): JsonBody<FractionName>,
) -> Answer {
    let (id, fid) = (caller.establishment, caller.target);
    caller
        .answer(move |r, who| r.rename_fraction(who, id, fid, &name))
        .await
}

/// `DELETE /fractions/{fid}`.
pub(super) async fn delete(caller: Caller<i64>) -> Answer {
    let (id, fid) = (caller.establishment, caller.target);
    let workers = caller
        .ask(move |r, who| r.delete_fraction(who, id, fid))
        .await?;
    Ok(Json(json!({"deleted": fid, "workers_unassigned": workers})).into_response())
}

/// `POST /fractions/assign`.
pub(super) async fn assign(caller: Caller, JsonBody(a): JsonBody<Assignment>) -> Answer {
    let id = caller.establishment;
    let n = caller
        .ask(move |r, who| r.assign_fraction(who, id, a.fraction, &a.workers))
        .await?;
    Ok(Json(json!({"updated": n})).into_response())
}
