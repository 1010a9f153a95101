//! A worker's dose records and rolling 12-month effective dose, and the passive results the
//! dosimetry bodies send, the worker named by NIR or card number.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::request::{bad_query, query_day, JsonBody, On};
use super::{field_fail, Answer, Caller, Fail};
use crate::web::{ask, RegistryState};
use crate::{CardNumber, DoseInput, DoseKind, DoseQuery, Nir, PregnancyInput, WorkerRef};

/// The kind of dose named in a query or a form.
pub(crate) fn dose_kind(text: &str) -> Option<DoseKind> {
    DoseKind::ALL
        .into_iter()
        .find(|k| k.as_str() == text.trim())
}

/// `GET /workers/{worker}/doses?kind=&from=&to=`.
pub(super) async fn list(caller: Caller<i64>, Query(q): Query<HashMap<String, String>>) -> Answer {
    let kind = match q.get("kind").map(|k| k.trim()).filter(|k| !k.is_empty()) {
        None => None,
        Some(k) => Some(dose_kind(k).ok_or_else(|| {
            bad_query("Le paramètre « kind » vaut passive, operational, internal, effective, equivalent, radon, aircrew ou no_result.")
        })?),
    };
    let query = DoseQuery {
        kind,
        from: query_day(&q, "from")?,
        to: query_day(&q, "to")?,
    };
    let (id, w) = (caller.establishment, caller.target);
    let records = caller
        .ask(move |r, who| r.doses(who, id, w, &query))
        .await?;
    Ok(Json(json!({"worker_id": w, "records": records})).into_response())
}

/// `GET /workers/{worker}/doses/{dose}/history`: the chain of corrections of a result,
/// newest first.
pub(super) async fn history(caller: Caller<(i64, i64)>) -> Answer {
    let (id, (w, dose)) = (caller.establishment, caller.target);
    let records = caller
        .ask(move |r, who| r.dose_history(who, id, w, dose))
        .await?;
    Ok(Json(json!({"worker_id": w, "dose_id": dose, "history": records})).into_response())
}

/// `POST /workers/{worker}/pregnancies`: the physician declares a pregnancy.
pub(super) async fn pregnancy(
    caller: Caller<i64>,
    JsonBody(input): JsonBody<PregnancyInput>,
) -> Answer {
    let (id, w) = (caller.establishment, caller.target);
    let created = caller
        .ask(move |r, who| r.declare_pregnancy(who, id, w, &input))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": created}))).into_response())
}

/// `GET /workers/{worker}/doses/effective?on=`.
pub(super) async fn effective(caller: Caller<i64>, On(on): On) -> Answer {
    caller
        .answer_on_worker(move |r, who, id, w| r.effective_dose(who, id, w, on))
        .await
}

/// `POST /workers/{worker}/doses`.
pub(super) async fn record(caller: Caller<i64>, JsonBody(input): JsonBody<DoseInput>) -> Answer {
    let worker = WorkerRef::Id(caller.target);
    recorded(caller, worker, input).await
}

/// `input` with the SIRET of establishment `id`'s employer when the sender gave none (and the
/// protocol has a valid one): each result keeps the SIRET of the establishment it concerns as
/// it was on the day it was recorded.
pub(crate) async fn with_establishment_siret(
    state: &RegistryState,
    id: i64,
    mut input: DoseInput,
) -> DoseInput {
    if input.siret.as_deref().is_none_or(|s| s.trim().is_empty()) {
        // No SIRET is better than no result: a directory failure leaves it empty.
        if let Ok(Some(e)) = ask(state, move |d| d.establishment(id)).await {
            input.siret = e.employer.siret.filter(|s| crate::dose::siret_ok(s));
        }
    }
    input
}

/// Records `input` for `worker`: `201 {"id"}`.
async fn recorded<T>(caller: Caller<T>, worker: WorkerRef, input: DoseInput) -> Answer {
    let id = caller.establishment;
    let input = with_establishment_siret(&caller.state, id, input).await;
    let record = caller
        .ask(move |r, who| r.record_dose(who, id, &worker, &input))
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": record}))).into_response())
}

/// A result as a dosimetry body sends it (passive by default, or `radon`, or `no_result`):
/// the worker by NIR (13 characters and the key, or the 15 together) or by medical follow-up
/// card number.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PassiveResult {
    #[serde(default)]
    kind: Option<DoseKind>,
    #[serde(default)]
    extremity_msv: Option<f64>,
    #[serde(default)]
    hp3_msv: Option<f64>,
    #[serde(default)]
    e_msv: Option<f64>,
    #[serde(default)]
    radon_bqhm3: Option<f64>,
    #[serde(default)]
    siret: Option<String>,
    #[serde(default)]
    replaces: Option<i64>,
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

/// The worker a passive result names; the refusal says which field is wrong, never its value.
fn named_worker(p: &PassiveResult) -> Result<WorkerRef, Fail> {
    let invalid = |field: &str, why: &str| {
        field_fail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Certaines informations sont à corriger.",
            field,
            why,
        )
    };
    match (present(&p.card_number), present(&p.nir)) {
        (Some(card), _) => CardNumber::parse(card).map(WorkerRef::Card).ok_or_else(|| {
            invalid(
                "card_number",
                "Ce numéro de carte de suivi médical n'a pas la forme attendue.",
            )
        }),
        (None, Some(nir)) => match present(&p.nir_key) {
            Some(key) => Nir::parse(nir, key),
            None => Nir::parse_full(nir),
        }
        .map(WorkerRef::Nir)
        .map_err(|e| invalid("nir", &e.to_string())),
        (None, None) => Err(invalid(
            "nir",
            "Indiquez le NIR du travailleur et sa clé, ou son numéro de carte de suivi médical.",
        )),
    }
}

/// `POST /doses/passive`.
pub(super) async fn passive(caller: Caller, JsonBody(p): JsonBody<PassiveResult>) -> Answer {
    let worker = named_worker(&p)?;
    // The kinds a body sends; the service refuses the others by the matrix anyway.
    let kind = p.kind.unwrap_or(DoseKind::Passive);
    let input = DoseInput {
        kind,
        period_start: p.period_start.unwrap_or_default(),
        period_end: p.period_end.unwrap_or_default(),
        hp10_msv: p.hp10_msv,
        hp007_msv: p.hp007_msv,
        e_msv: p.e_msv,
        extremity_msv: p.extremity_msv,
        hp3_msv: p.hp3_msv,
        organ: None,
        h_msv: None,
        radon_bqhm3: p.radon_bqhm3,
        siret: p.siret,
        replaces: p.replaces,
    };
    recorded(caller, worker, input).await
}
