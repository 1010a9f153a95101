//! The medical follow-up card of a worker.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::Json;

use super::request::{json_body, query_day, Raw};
use super::{Answer, Caller};
use crate::web::RegistryState;
use crate::CardInput;

/// `GET /workers/{worker}/card?on=`.
pub(super) async fn read(
    State(state): State<RegistryState>,
    caller: Caller<i64>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let on = query_day(&q, "on")?;
    let (id, w) = (caller.establishment, caller.target);
    let card = caller
        .ask(&state, move |r, who| r.medical_card(who, id, w, on))
        .await?;
    Ok(Json(card).into_response())
}

/// `PUT /workers/{worker}/card`.
pub(super) async fn update(
    State(state): State<RegistryState>,
    caller: Caller<i64>,
    headers: HeaderMap,
    Raw(body): Raw,
) -> Answer {
    let input: CardInput = json_body(&headers, &body)?;
    let (id, w) = (caller.establishment, caller.target);
    let card = caller
        .ask(&state, move |r, who| {
            r.update_medical_card(who, id, w, &input)
        })
        .await?;
    Ok(Json(card).into_response())
}
