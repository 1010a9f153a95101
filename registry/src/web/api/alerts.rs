//! Limit alerts of the establishment (issue 15 §3).

use serde_json::json;

use super::{Answer, Caller};

/// `GET /alerts`: those that concern the establishment (PCR, physician).
pub(super) async fn list(caller: Caller) -> Answer {
    let id = caller.establishment;
    caller.answer(move |r, who| r.alerts(who, id)).await
}

/// `POST /alerts/{alert}/acknowledge` (physician): `{"acknowledged": true}` when this call
/// acknowledged it, `false` when it already was.
pub(super) async fn acknowledge(caller: Caller<i64>) -> Answer {
    let (id, alert) = (caller.establishment, caller.target);
    caller
        .answer(move |r, who| {
            r.acknowledge_alert(who, id, alert)
                .map(|done| json!({ "acknowledged": done }))
        })
        .await
}

/// `GET /bilans?on=`: the establishment's bilan (PCR, physician; issue 15 §4).
pub(super) async fn bilan(caller: Caller, super::request::On(on): super::request::On) -> Answer {
    let id = caller.establishment;
    caller.answer(move |r, who| r.bilan(who, id, on)).await
}
