//! The medical follow-up card of a worker.

use super::request::{JsonBody, On};
use super::{Answer, Caller};
use crate::CardInput;

/// `GET /workers/{worker}/card?on=`.
pub(super) async fn read(caller: Caller<i64>, On(on): On) -> Answer {
    caller
        .answer_on_worker(move |r, who, id, w| r.medical_card(who, id, w, on))
        .await
}

/// `PUT /workers/{worker}/card`.
pub(super) async fn update(caller: Caller<i64>, JsonBody(input): JsonBody<CardInput>) -> Answer {
    caller
        .answer_on_worker(move |r, who, id, w| r.update_medical_card(who, id, w, &input))
        .await
}
