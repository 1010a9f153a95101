//! *Organismes de dosimétrie*: the dosimetry bodies the establishment has named, the only ones
//! whose certificates may send results there. The correspondent names and removes them; the
//! PCR and the physician see them ([`crate::policy::may_manage_bodies`]).

use std::collections::HashMap;

use crate::policy::may_manage_bodies;
use crate::{Action, RegistryError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::html;

use super::layout::{select, Errors, Label, Page};
use super::{access_error_page, Posted};
use super::{establishment_of, name_of, page_fail, redirect, refused, Answer, Visit, Visitor};
use crate::web::caller::Refusal;
use crate::web::{ask, RegistryState};

/// Whether the visitor may name and remove bodies in `id` (what to offer; the service checks).
fn may_edit(v: &Visitor, id: i64) -> bool {
    v.principal
        .roles_in(id)
        .into_iter()
        .any(|r| may_manage_bodies(r, Action::Write))
}

/// The bodies that hold a valid certificate, asked of the enrollment side.
async fn known(state: &RegistryState) -> Result<Vec<String>, crate::web::api::Fail> {
    ask(state, |d| d.dosimetry_bodies())
        .await
        .map_err(|e| page_fail(access_error_page(e)))
}

async fn render(
    state: &RegistryState,
    v: &Visitor,
    id: i64,
    errors: Errors,
    status: StatusCode,
    done: Option<&str>,
) -> Answer {
    let e = establishment_of(state, v, id).await?;
    let named = v
        .ask(state, move |r, who| r.dosimetry_bodies(who, id))
        .await?;
    let edit = may_edit(v, id);
    let offered: Vec<(String, String)> = if edit {
        known(state)
            .await?
            .into_iter()
            .filter(|k| !named.iter().any(|n| &n.name == k))
            .map(|k| (k.clone(), k))
            .collect()
    } else {
        Vec::new()
    };
    let base = format!("/etablissements/{id}/organismes");
    let summary = errors.summary(&["name"]);
    let body = html! {
        p { a href={ "/etablissements/" (id) "/rattachement" } { "← Établissement de rattachement" } }
        h1 { "Organismes de dosimétrie" }
        p.lead { (name_of(&e)) }
        @if let Some(d) = done { div.notice.notice-success role="status" { p { (d) } } }
        p.prose { "Seuls les organismes de dosimétrie désignés ici peuvent transmettre au registre les résultats de dosimétrie passive des travailleurs de l'établissement. Tout autre organisme est refusé, quel que soit le travailleur." }
        div.table-wrap {
            table.table {
                caption { "Organismes désignés par l'établissement" }
                thead { tr {
                    th scope="col" { "Organisme" } th scope="col" { "Désigné le" }
                    @if edit { th scope="col" { "Retirer" } }
                } }
                tbody {
                    @if named.is_empty() {
                        tr { td.empty colspan="3" { "Aucun organisme de dosimétrie n'est désigné." } }
                    }
                    @for b in &named {
                        tr {
                            td { (b.name) }
                            td { (b.declared_at.get(..10).unwrap_or(&b.declared_at)) }
                            @if edit {
                                td {
                                    form.inline method="post" action={ (base) "/" (b.id) "/retirer" } {
                                        input type="hidden" name="csrf" value=(v.csrf());
                                        button.btn.btn-small.btn-danger-outline type="submit" aria-label={ "Retirer " (b.name) } { "Retirer" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if edit {
            @if offered.is_empty() {
                p.muted { "Aucun autre organisme de dosimétrie ne détient aujourd'hui de certificat AC SISERI." }
            } @else {
                form.form method="post" action=(base) {
                    input type="hidden" name="csrf" value=(v.csrf());
                    fieldset.fieldset {
                        legend { "Désigner un organisme de dosimétrie" }
                        (select(&Label::new("name", "Organisme").required(), &offered, "", &errors))
                        div.actions.actions-inline { button.btn.btn-primary type="submit" { "Désigner" } }
                    }
                }
            }
        }
    };
    Ok(Page::new("Organismes de dosimétrie", Some(v), body)
        .summary(summary)
        .status(status)
        .into_response())
}

/// `GET /etablissements/{id}/organismes`.
pub(crate) async fn page(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let done = match query.get("fait").map(String::as_str) {
        Some("designation") => Some("Organisme de dosimétrie désigné."),
        Some("retrait") => {
            Some("Organisme retiré : il ne peut plus rien transmettre pour l'établissement.")
        }
        _ => None,
    };
    render(&state, &v, id, Errors::default(), StatusCode::OK, done).await
}

/// `POST /etablissements/{id}/organismes`: names the body of the form.
pub(crate) async fn name(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, .. }, form): Posted,
) -> Answer {
    let name = form.get("name").unwrap_or_default().to_owned();
    let known = known(&state).await?;
    let outcome = v
        .try_ask(&state, move |r, who| {
            r.name_dosimetry_body(who, id, &name, &known)
        })
        .await;
    match outcome {
        Ok(_) => Ok(redirect(&format!(
            "/etablissements/{id}/organismes?fait=designation"
        ))),
        Err(Refusal::Registry(RegistryError::Invalid(fields))) => {
            let mut errors = Errors::default();
            errors.add("name", fields.values().next().cloned().unwrap_or_default());
            render(
                &state,
                &v,
                id,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(r) => Err(refused(&v, r)),
    }
}

/// `POST /etablissements/{id}/organismes/{oid}/retirer`.
pub(crate) async fn remove(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, target: oid }, _): Posted<i64>,
) -> Answer {
    v.ask(&state, move |r, who| r.remove_dosimetry_body(who, id, oid))
        .await?;
    Ok(redirect(&format!(
        "/etablissements/{id}/organismes?fait=retrait"
    )))
}
