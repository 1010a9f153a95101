//! *Alertes*: the limit alerts that concern the establishment (issue 15 §3), for its PCRs and
//! physicians; the physician acknowledges them. What each may see and do is the service's
//! (reading alerts is reading the effective dose; acknowledging is the physician's).

use std::collections::HashMap;

use crate::{Action, DataKind};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::html;

use super::layout::Page;
use super::Posted;
use super::{establishment_of, name_of, redirect, Answer, Visit};
use crate::web::RegistryState;

/// `GET /etablissements/{id}/alertes`.
pub(crate) async fn page(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let e = establishment_of(&state, &v, id).await?;
    let alerts = v.ask(&state, move |r, who| r.alerts(who, id)).await?;
    let acknowledge = v.may(id, DataKind::MedicalCard, Action::Write);
    // Issue 16 §3: periods without result nor *absence de résultat*, for the physician (reading
    // them is reading passive dosimetry).
    let missing = if v.may(id, DataKind::PassiveDose, Action::Read) {
        Some(
            v.ask(&state, move |r, who| r.missing_results(who, id))
                .await?,
        )
    } else {
        None
    };
    let done = query.get("fait").map(String::as_str) == Some("acquittement");
    let base = format!("/etablissements/{id}");
    let body = html! {
        p { a href={ (base) "/rattachement" } { "← Établissement de rattachement" } }
        h1 { "Alertes de dépassement de limite" }
        p.lead { (name_of(&e)) }
        @if done { div.notice.notice-success role="status" { p { "Alerte acquittée." } } }
        p.prose { "Les sommes portent sur 12 mois consécutifs et additionnent les résultats de tous les employeurs du travailleur. Une alerte reste en attente jusqu'à ce qu'un médecin du travail l'acquitte, ou qu'une correction des résultats ramène la somme sous la limite." }
        div.table-wrap {
            table.table {
                caption { "Alertes concernant les travailleurs de l'établissement" }
                thead { tr {
                    th scope="col" { "Travailleur" }
                    th scope="col" { "Alerte" }
                    th scope="col" { "Période de 12 mois" }
                    th scope="col" { "Somme (mSv)" }
                    th scope="col" { "Limite (mSv)" }
                    th scope="col" { "État" }
                } }
                tbody {
                    @if alerts.is_empty() {
                        tr { td.empty colspan="6" { "Aucune alerte." } }
                    }
                    @for a in &alerts {
                        tr {
                            td { a href={ (base) "/travailleurs/" (a.worker_id) } { (a.worker_name) } }
                            td { (a.label) }
                            td { "du " (store::date::french(a.window_from)) " au " (store::date::french(a.window_to)) }
                            td { (format!("{:.3}", a.sum_msv).replace('.', ",")) }
                            td { (format!("{:.0}", a.limit_msv)) }
                            td {
                                @if let Some(at) = &a.acknowledged_at {
                                    "Acquittée le " (at.get(..10).unwrap_or(at))
                                } @else if let (Some(at), Some(dose)) = (&a.closed_at, a.closed_by_dose) {
                                    "Levée le " (at.get(..10).unwrap_or(at)) " : le résultat corrigé (n° " (dose) ") ramène la somme sous la limite"
                                } @else if acknowledge {
                                    form.inline method="post" action={ (base) "/alertes/" (a.id) "/acquitter" } {
                                        input type="hidden" name="csrf" value=(v.csrf());
                                        button.btn.btn-small.btn-primary type="submit" aria-label={ "Acquitter l'alerte de " (a.worker_name) } { "Acquitter" }
                                    }
                                } @else {
                                    strong { "En attente" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(missing) = &missing {
            h2 { "Périodes sans résultat de dosimétrie passive" }
            p.prose { "Mois (catégorie A) ou trimestres (catégorie B) d'emploi pour lesquels, 20 jours après leur fin, aucun organisme de dosimétrie n'a transmis de résultat ni déclaré d'absence de résultat." }
            div.table-wrap {
                table.table {
                    caption { "Périodes sans résultat" }
                    thead { tr {
                        th scope="col" { "Travailleur" }
                        th scope="col" { "Période" }
                    } }
                    tbody {
                        @if missing.is_empty() {
                            tr { td.empty colspan="2" { "Aucune période sans résultat." } }
                        }
                        @for m in missing {
                            tr {
                                td { a href={ (base) "/travailleurs/" (m.worker_id) } { (m.worker_name) } }
                                td { "du " (store::date::french(m.period_start)) " au " (store::date::french(m.period_end)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(
        Page::new("Alertes de dépassement de limite", Some(&v), body)
            .status(StatusCode::OK)
            .into_response(),
    )
}

/// `POST /etablissements/{id}/alertes/{alert}/acquitter` (physician).
pub(crate) async fn acknowledge(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, target }, _): Posted<i64>,
) -> Answer {
    v.ask(&state, move |r, who| r.acknowledge_alert(who, id, target))
        .await?;
    Ok(redirect(&format!(
        "/etablissements/{id}/alertes?fait=acquittement"
    )))
}
