//! *Fractionner la liste*: create, rename and delete the fractions of the list, and put the
//! workers ticked on the list in one of them.

use std::collections::HashMap;

use crate::{Action, DataKind, Fraction, Principal, Registry, RegistryError};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::html;

use super::layout::{text_input, Errors, Label, Page};
use super::{establishment_of, name_of, path_id, redirect, refused, Answer, Visit, Visitor};
use super::{Form, Posted};
use crate::web::caller::Refusal;
use crate::web::RegistryState;

/// The fractions page, with `errors` on its forms and a notice.
async fn render(
    state: &RegistryState,
    v: &Visitor,
    id: i64,
    errors: Errors,
    status: StatusCode,
    done: Option<&str>,
) -> Answer {
    let e = establishment_of(state, v, id).await?;
    let list = v.ask(state, move |r, who| r.fractions(who, id)).await?;
    let edit = v.may(id, DataKind::AdminComplete, Action::Write);
    let base = format!("/etablissements/{id}/fractions");
    let summary = errors.summary(&["name"]);
    let body = html! {
        p { a href={ "/etablissements/" (id) "/travailleurs" } { "← Liste des travailleurs" } }
        h1 { "Fractionner la liste" }
        p.lead { (name_of(&e)) }
        @if let Some(d) = done { div.notice.notice-success role="status" { p { (d) } } }
        p.prose { "Une fraction est une partie de la liste (un site, un service, une équipe). Un travailleur est dans une fraction au plus : cochez-le dans la liste des travailleurs puis « Affecter à la fraction », ou indiquez sa fraction dans le formulaire ou le fichier importé." }
        div.table-wrap {
            table.table {
                caption { "Fractions de la liste" }
                thead { tr {
                    th scope="col" { "Fraction" } th.num scope="col" { "Travailleurs" }
                    @if edit { th scope="col" { "Renommer" } th scope="col" { "Supprimer" } }
                } }
                tbody {
                    @if list.is_empty() {
                        tr { td.empty colspan="4" { "La liste n'est pas encore fractionnée." } }
                    }
                    @for f in &list {
                        tr {
                            td { a href={ "/etablissements/" (id) "/travailleurs?fraction=" (f.id) } { (f.name) } }
                            td.num { (f.workers) }
                            @if edit {
                                td {
                                    form.inline-form method="post" action={ (base) "/" (f.id) "/renommer" } {
                                        input type="hidden" name="csrf" value=(v.csrf());
                                        label.visually-hidden for={ "r-" (f.id) } { "Nouveau nom de " (f.name) }
                                        input.input id={ "r-" (f.id) } type="text" name="name" value=(f.name) required;
                                        button.btn.btn-small.btn-secondary type="submit" { "Renommer" }
                                    }
                                }
                                td {
                                    form.inline method="post" action={ (base) "/" (f.id) "/supprimer" } {
                                        input type="hidden" name="csrf" value=(v.csrf());
                                        button.btn.btn-small.btn-danger-outline type="submit" { "Supprimer" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if edit {
            form.form method="post" action=(base) {
                input type="hidden" name="csrf" value=(v.csrf());
                fieldset.fieldset {
                    legend { "Nouvelle fraction" }
                    (text_input(&Label::new("name", "Nom de la fraction").required(), "", &errors, None))
                    div.actions.actions-inline { button.btn.btn-primary type="submit" { "Créer la fraction" } }
                }
            }
            p.muted { "Supprimer une fraction laisse ses travailleurs dans la liste, sans fraction." }
        }
    };
    Ok(Page::new("Fractionner la liste", Some(v), body)
        .summary(summary)
        .status(status)
        .into_response())
}

/// `GET /etablissements/{id}/fractions`.
pub(crate) async fn page(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let done = match query.get("fait").map(String::as_str) {
        Some("creation") => Some("Fraction créée."),
        Some("renommage") => Some("Fraction renommée."),
        Some("suppression") => Some("Fraction supprimée ; ses travailleurs restent dans la liste."),
        _ => None,
    };
    render(&state, &v, id, Errors::default(), StatusCode::OK, done).await
}

/// Gives the fraction the name of the form (`ask` says which, `fait` which way): back to the
/// page, or the service's refusal of the name shown on the page's form.
async fn named<F>(
    state: &RegistryState,
    v: &Visitor,
    id: i64,
    form: &Form,
    fait: &str,
    ask: F,
) -> Answer
where
    F: FnOnce(&Registry, &Principal, &str) -> crate::Result<Fraction> + Send + 'static,
{
    let name = form.get("name").unwrap_or_default().to_owned();
    let outcome = v.try_ask(state, move |r, who| ask(r, who, &name)).await;
    let (status, message) = match outcome {
        Ok(_) => {
            return Ok(redirect(&format!(
                "/etablissements/{id}/fractions?fait={fait}"
            )))
        }
        Err(Refusal::Registry(RegistryError::Invalid(fields))) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields.values().next().cloned().unwrap_or_default(),
        ),
        Err(Refusal::Registry(e @ RegistryError::DuplicateFraction)) => {
            (StatusCode::CONFLICT, e.to_string())
        }
        Err(r) => return Err(refused(v, r)),
    };
    let mut errors = Errors::default();
    errors.add("name", message);
    render(state, v, id, errors, status, None).await
}

/// `POST /etablissements/{id}/fractions`: creates one.
pub(crate) async fn create(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, .. }, form): Posted,
) -> Answer {
    named(&state, &v, id, &form, "creation", move |r, who, name| {
        r.create_fraction(who, id, name)
    })
    .await
}

/// `POST /etablissements/{id}/fractions/{fid}/renommer`.
pub(crate) async fn rename(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, target: fid }, form): Posted<i64>,
) -> Answer {
    named(&state, &v, id, &form, "renommage", move |r, who, name| {
        r.rename_fraction(who, id, fid, name)
    })
    .await
}

/// `POST /etablissements/{id}/fractions/{fid}/supprimer`.
pub(crate) async fn delete(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, target: fid }, _): Posted<i64>,
) -> Answer {
    v.ask(&state, move |r, who| r.delete_fraction(who, id, fid))
        .await?;
    Ok(redirect(&format!(
        "/etablissements/{id}/fractions?fait=suppression"
    )))
}

/// `POST /etablissements/{id}/fractions/affecter`: the ticked workers into `fraction_cible`
/// (`aucune` for none).
pub(crate) async fn assign(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, .. }, form): Posted,
) -> Answer {
    let fraction = match form.get("fraction_cible").unwrap_or("aucune") {
        "aucune" | "" => None,
        other => Some(path_id(other, Some(&v))?),
    };
    let mut workers = Vec::new();
    for w in form.all("travailleur") {
        workers.push(path_id(w, Some(&v))?);
    }
    v.ask(&state, move |r, who| {
        r.assign_fraction(who, id, fraction, &workers)
    })
    .await?;
    Ok(redirect(&format!(
        "/etablissements/{id}/travailleurs?fait=affectation"
    )))
}
