//! The dosimetry bodies the establishment has named: the only ones whose certificates may send
//! results there ([`crate::policy::admits`]).

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::request::JsonBody;
use super::{Answer, Caller};
use crate::web::{access_error, ask};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BodyName {
    #[serde(default)]
    name: String,
}

/// `GET /organismes`.
pub(super) async fn list(caller: Caller) -> Answer {
    let id = caller.establishment;
    caller
        .answer(move |r, who| r.dosimetry_bodies(who, id))
        .await
}

/// `POST /organismes` `{"name"}`: `201` with the relation, `200` when it was already there.
pub(super) async fn name(
    caller: Caller,
    JsonBody(BodyName { name }): JsonBody<BodyName>,
) -> Answer {
    let known = ask(&caller.state, |d| d.dosimetry_bodies())
        .await
        .map_err(|e| Box::new(access_error(e)))?;
    let id = caller.establishment;
    let (body, added) = caller
        .ask(move |r, who| r.name_dosimetry_body(who, id, &name, &known))
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(body)).into_response())
}

/// `DELETE /organismes/{oid}`.
pub(super) async fn remove(caller: Caller<i64>) -> Answer {
    let (id, oid) = (caller.establishment, caller.target);
    let body = caller
        .ask(move |r, who| r.remove_dosimetry_body(who, id, oid))
        .await?;
    Ok(Json(json!({"removed": body.id, "name": body.name})).into_response())
}
