//! *Fractionner la liste*: create, rename and delete the fractions of the list, and put the
//! workers ticked on the list in one of them.

use crate::{Action, DataKind, RegistryError};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::html;

use super::layout::{text_input, Errors, Label, Page};
use super::{
    csrf_refused, establishment_of, name_of, path_id, redirect, refused, visitor, Form, Visitor,
};
use crate::web::api::Fail;
use crate::web::caller::{service, Refusal};
use crate::web::ClientCert;
use crate::web::RegistryState;

type Answer = Result<Response, Fail>;

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
    let who = v.principal.clone();
    let list = service(state, move |r| r.fractions(&who, id))
        .await
        .map_err(|r| refused(v, r))?;
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
    Path(est): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let v = visitor(&state, cert, &headers).await?;
    let id = path_id(&est, Some(&v))?;
    let done = match query.get("fait").map(String::as_str) {
        Some("creation") => Some("Fraction créée."),
        Some("renommage") => Some("Fraction renommée."),
        Some("suppression") => Some("Fraction supprimée ; ses travailleurs restent dans la liste."),
        _ => None,
    };
    render(&state, &v, id, Errors::default(), StatusCode::OK, done).await
}

/// A posted form of this page, its CSRF token checked.
async fn posted(
    state: &RegistryState,
    cert: Option<Extension<ClientCert>>,
    headers: &HeaderMap,
    body: &Bytes,
    est: &str,
) -> Result<(Visitor, i64, Form), Fail> {
    let v = visitor(state, cert, headers).await?;
    let id = path_id(est, Some(&v))?;
    let form = Form::parse(headers, body)?;
    if !v.csrf_ok(&form) {
        return Err(csrf_refused(Some(&v)));
    }
    Ok((v, id, form))
}

/// The service's refusal of a name: shown on the page's form.
async fn name_refused(state: &RegistryState, v: &Visitor, id: i64, r: Refusal) -> Answer {
    let (status, message) = match &r {
        Refusal::Registry(RegistryError::Invalid(fields)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            fields.values().next().cloned().unwrap_or_default(),
        ),
        Refusal::Registry(e @ RegistryError::DuplicateFraction) => {
            (StatusCode::CONFLICT, e.to_string())
        }
        _ => return Err(refused(v, r)),
    };
    let mut errors = Errors::default();
    errors.add("name", message);
    render(state, v, id, errors, status, None).await
}

/// `POST /etablissements/{id}/fractions`: creates one.
pub(crate) async fn create(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (v, id, form) = posted(&state, cert, &headers, &body, &est).await?;
    let name = form.get("name").unwrap_or_default().to_owned();
    let who = v.principal.clone();
    match service(&state, move |r| r.create_fraction(&who, id, &name)).await {
        Ok(_) => Ok(redirect(&format!(
            "/etablissements/{id}/fractions?fait=creation"
        ))),
        Err(r) => name_refused(&state, &v, id, r).await,
    }
}

/// `POST /etablissements/{id}/fractions/{fid}/renommer`.
pub(crate) async fn rename(
    State(state): State<RegistryState>,
    Path((est, fid)): Path<(String, String)>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (v, id, form) = posted(&state, cert, &headers, &body, &est).await?;
    let fid = path_id(&fid, Some(&v))?;
    let name = form.get("name").unwrap_or_default().to_owned();
    let who = v.principal.clone();
    match service(&state, move |r| r.rename_fraction(&who, id, fid, &name)).await {
        Ok(_) => Ok(redirect(&format!(
            "/etablissements/{id}/fractions?fait=renommage"
        ))),
        Err(r) => name_refused(&state, &v, id, r).await,
    }
}

/// `POST /etablissements/{id}/fractions/{fid}/supprimer`.
pub(crate) async fn delete(
    State(state): State<RegistryState>,
    Path((est, fid)): Path<(String, String)>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (v, id, _) = posted(&state, cert, &headers, &body, &est).await?;
    let fid = path_id(&fid, Some(&v))?;
    let who = v.principal.clone();
    service(&state, move |r| r.delete_fraction(&who, id, fid))
        .await
        .map_err(|r| refused(&v, r))?;
    Ok(redirect(&format!(
        "/etablissements/{id}/fractions?fait=suppression"
    )))
}

/// `POST /etablissements/{id}/fractions/affecter`: the ticked workers into `fraction_cible`
/// (`aucune` for none).
pub(crate) async fn assign(
    State(state): State<RegistryState>,
    Path(est): Path<String>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let (v, id, form) = posted(&state, cert, &headers, &body, &est).await?;
    let fraction = match form.get("fraction_cible").unwrap_or("aucune") {
        "aucune" | "" => None,
        other => Some(path_id(other, Some(&v))?),
    };
    let mut workers = Vec::new();
    for w in form.all("travailleur") {
        workers.push(path_id(w, Some(&v))?);
    }
    let who = v.principal.clone();
    service(&state, move |r| {
        r.assign_fraction(&who, id, fraction, &workers)
    })
    .await
    .map_err(|r| refused(&v, r))?;
    Ok(redirect(&format!(
        "/etablissements/{id}/travailleurs?fait=affectation"
    )))
}
