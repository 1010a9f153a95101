//! The workers list: search, a page at a time; one operation of the workers form; one worker.

use std::collections::HashMap;

use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use super::request::{bad_query, number, JsonBody};
use super::{Answer, Caller};
use crate::{FractionFilter, Operation, WorkerInput, WorkerQuery, WorkerView};

/// Page size of a search when none is asked for, and the largest one.
const PER_PAGE: u32 = 50;
const PER_PAGE_MAX: u32 = 500;

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

/// `GET /workers`.
pub(super) async fn search(caller: Caller, Query(q): Query<HashMap<String, String>>) -> Answer {
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
    let id = caller.establishment;
    let found = caller
        .ask(move |r, who| r.search_workers(who, id, &query))
        .await?;
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

/// `POST /workers`.
pub(super) async fn apply(caller: Caller, JsonBody(input): JsonBody<WorkerInput>) -> Answer {
    let id = caller.establishment;
    let applied = caller
        .ask(move |r, who| r.apply_worker(who, id, &input))
        .await?;
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

/// `GET /workers/{worker}`.
pub(super) async fn worker(caller: Caller<i64>) -> Answer {
    let (id, w) = (caller.establishment, caller.target);
    caller.answer(move |r, who| r.worker(who, id, w)).await
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
    fn the_fraction_filter_takes_an_id_or_none() {
        assert_eq!(fraction_filter(Some("aucune")), Some(FractionFilter::None));
        assert_eq!(fraction_filter(Some("12")), Some(FractionFilter::In(12)));
        assert_eq!(fraction_filter(Some("x")), None);
    }
}
