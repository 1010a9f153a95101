//! The registry's JSON API on an establishment: workers list, import and export, fractions,
//! doses, the medical follow-up card, and the passive results of the dosimetry bodies.
//!
//! Every handler takes its [`Caller`] (the path checked, then who is calling), parses its
//! input, asks the service with the caller's principal and answers what the service said; who
//! may do what is decided by the service (which asks the matrix), never here. Errors are
//! `{"error", "message" (French), "fields"}` with their status.
//!
//! | route (under `/api/v1/establishments/{id}`) | does | in |
//! |---|---|---|
//! | `GET /workers?q=&fraction=&removed=&page=&per_page=` (or `limit`/`offset`, or `after`) | search, a page at a time | [`workers`] |
//! | `POST /workers` | one operation of the workers form (`examples/worker.json`) | [`workers`] |
//! | `GET /workers/{worker}` | one worker, in the view the role gives | [`workers`] |
//! | `POST /workers/import` (`text/csv`) | the CSV import, all or nothing | [`transfer`] |
//! | `GET /workers.csv` | the export | [`transfer`] |
//! | `GET, POST /fractions`; `PUT, DELETE /fractions/{fid}`; `POST /fractions/assign` | *Fractionner la liste* | [`fractions`] |
//! | `GET, POST /workers/{worker}/doses`; `GET /workers/{worker}/doses/effective` | dose records, rolling 12-month effective dose | [`doses`] |
//! | `GET /workers/{worker}/doses/{dose}/history` | the chain of corrections of a result | [`doses`] |
//! | `POST /workers/{worker}/pregnancies` | the physician declares a pregnancy | [`doses`] |
//! | `GET /bilans?on=` | the bilan: workers per band of 12-month effective dose, by category and métier | [`alerts`] |
//! | `POST /doses/passive` | a dosimetry body's result (passive, radon, absence de résultat), the worker named by NIR or card number | [`doses`] |
//! | `GET, PUT /workers/{worker}/card` | the medical follow-up card | [`card`] |
//! | `GET, POST /organismes`; `DELETE /organismes/{oid}` | the dosimetry bodies the establishment has named | [`bodies`] |
//! | `GET /transmissions/missing` | §3 of issue 16: periods without result nor *absence de résultat* (physician) | [`transmissions`] |
//! | `POST /api/v1/transmissions` (not under an establishment) | a whole file of results, answered by its signed récépissé | [`transmissions`] |
//! | `GET /api/v1/transmissions/{numero}/recepisse` | the récépissé again, for its sender | [`transmissions`] |
//! | `GET /alerts`; `POST /alerts/{alert}/acknowledge` | limit alerts across employers (PCR, physician; acknowledged by the physician) | [`alerts`] |

mod alerts;
mod bodies;
mod card;
mod doses;
mod fractions;
mod request;
mod transfer;
mod transmissions;
mod workers;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use super::caller::Refusal;
use super::{error, RegistryState};
use crate::{Principal, Registry};

pub(crate) use super::caller::Caller;
pub(crate) use doses::{dose_kind, with_establishment_siret};
pub(crate) use transfer::{import, ImportFailure};
pub(crate) use workers::{fraction_filter, search_terms};

/// The API's routes on an establishment.
pub fn routes() -> Router<RegistryState> {
    let e = "/api/v1/establishments/{id}";
    Router::new()
        .route(
            &format!("{e}/workers"),
            get(workers::search).post(workers::apply),
        )
        .route(&format!("{e}/workers.csv"), get(transfer::export))
        .route(&format!("{e}/workers/import"), post(transfer::import_csv))
        .route(&format!("{e}/workers/{{worker}}"), get(workers::worker))
        .route(
            &format!("{e}/workers/{{worker}}/doses"),
            get(doses::list).post(doses::record),
        )
        .route(
            &format!("{e}/workers/{{worker}}/doses/{{dose}}/history"),
            get(doses::history),
        )
        .route(
            &format!("{e}/workers/{{worker}}/pregnancies"),
            post(doses::pregnancy),
        )
        .route(
            &format!("{e}/workers/{{worker}}/doses/effective"),
            get(doses::effective),
        )
        .route(
            &format!("{e}/workers/{{worker}}/card"),
            get(card::read).put(card::update),
        )
        .route(
            &format!("{e}/fractions"),
            get(fractions::list).post(fractions::create),
        )
        .route(&format!("{e}/fractions/assign"), post(fractions::assign))
        .route(
            &format!("{e}/fractions/{{fid}}"),
            put(fractions::rename).delete(fractions::delete),
        )
        .route(&format!("{e}/doses/passive"), post(doses::passive))
        .route(
            &format!("{e}/organismes"),
            get(bodies::list).post(bodies::name),
        )
        .route(&format!("{e}/organismes/{{oid}}"), delete(bodies::remove))
        .route(&format!("{e}/alerts"), get(alerts::list))
        .route(&format!("{e}/bilans"), get(alerts::bilan))
        .route(
            &format!("{e}/alerts/{{alert}}/acknowledge"),
            post(alerts::acknowledge),
        )
        .route(
            &format!("{e}/transmissions/missing"),
            get(transmissions::missing),
        )
        .route("/api/v1/transmissions", post(transmissions::receive))
        .route(
            "/api/v1/transmissions/{numero}/recepisse",
            get(transmissions::recepisse),
        )
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

pub(crate) fn fail(status: StatusCode, code: &str, message: &str) -> Fail {
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

/// A path that names nothing.
pub(crate) fn not_found() -> Fail {
    fail(StatusCode::NOT_FOUND, "not_found", "Introuvable.")
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

impl<T> Caller<T> {
    /// Asks the service as this caller and answers what it said as JSON (`200`).
    async fn answer<R, F>(self, f: F) -> Answer
    where
        R: Serialize + Send + 'static,
        F: FnOnce(&Registry, &Principal) -> crate::Result<R> + Send + 'static,
    {
        Ok(Json(self.ask(f).await?).into_response())
    }
}

impl Caller<i64> {
    /// [`Caller::answer`] about the worker of the path: `f` is given the establishment and the
    /// worker's id.
    async fn answer_on_worker<R, F>(self, f: F) -> Answer
    where
        R: Serialize + Send + 'static,
        F: FnOnce(&Registry, &Principal, i64, i64) -> crate::Result<R> + Send + 'static,
    {
        let (id, w) = (self.establishment, self.target);
        self.answer(move |r, who| f(r, who, id, w)).await
    }
}
