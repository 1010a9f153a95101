//! *Importer une liste*: a CSV file sent from the browser, streamed to the service; all or
//! nothing, with the per-line report in French when refused.

use crate::directory::Establishment;
use crate::{ImportReport, ImportSummary, CSV_HEADER, CSV_IDENTITY_COLUMNS};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{html, Markup};

use super::layout::{message_page, Page};
use super::{
    csrf_refused, establishment_of, list_editor, name_of, page_fail, refused, Answer, Visit,
    Visitor,
};
use crate::web::api::{import, ImportFailure};
use crate::web::caller::Refusal;
use crate::web::stream;
use crate::web::RegistryState;

fn form(v: &Visitor, id: i64) -> Markup {
    html! {
        form.form method="post" action={ "/etablissements/" (id) "/travailleurs/importer" } enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(v.csrf());
            div.field {
                label.label for="f-fichier" { "Fichier CSV de la liste" }
                span.hint { "Séparateur « ; », encodage UTF-8 (avec ou sans BOM), la ligne d'en-tête ci-dessous en premier." }
                input.file #f-fichier type="file" name="fichier" accept=".csv,text/csv" required;
            }
            div.actions.actions-inline {
                button.btn.btn-primary type="submit" { "Importer la liste" }
                a.btn.btn-link href={ "/etablissements/" (id) "/travailleurs" } { "Retour" }
            }
        }
    }
}

fn explanation() -> Markup {
    html! {
        div.prose {
            p { "Chaque ligne est vérifiée avant tout enregistrement. S'il y a la moindre erreur, rien n'est importé et le compte rendu indique, ligne par ligne, ce qui est à corriger. Sinon toutes les lignes sont enregistrées ensemble : un NIR déjà connu dans l'établissement voit sa ligne remplacée, un nouveau NIR est ajouté, les fractions nommées qui n'existent pas sont créées ; les travailleurs absents du fichier restent inchangés." }
            p { "En-tête attendu :" }
            pre.break { code { (CSV_HEADER) } }
            p { "L'export de la liste (« Exporter la liste ») a exactement ce format : il peut être corrigé puis réimporté." }
            p { "Deux colonnes facultatives peuvent suivre, ensemble : " code { (CSV_IDENTITY_COLUMNS) } " (sexe M ou F, département de naissance). Elles sont contrôlées avec le NIR et ne sont pas conservées." }
        }
    }
}

fn report_table(report: &ImportReport) -> Markup {
    html! {
        div.table-wrap {
            table.table {
                caption { "Compte rendu : " (report.lines_in_error()) " ligne(s) en erreur" }
                thead { tr { th scope="col" { "Ligne" } th scope="col" { "Colonne" } th scope="col" { "Erreur" } } }
                tbody {
                    @for e in &report.errors {
                        tr.row-error {
                            td { (e.line) }
                            td { (e.column.unwrap_or("—")) }
                            td { (e.message) }
                        }
                    }
                }
            }
        }
        @if report.more > 0 {
            p { "… et " (report.more) " autre(s) erreur(s)." }
        }
    }
}

fn summary_notice(s: &ImportSummary) -> Markup {
    html! {
        div.notice.notice-success role="status" {
            h2 { "Liste importée" }
            p {
                (s.lines) " ligne(s) lue(s) : " (s.created) " travailleur(s) ajouté(s), "
                (s.updated) " mis à jour"
                @if s.fractions_created > 0 { ", " (s.fractions_created) " fraction(s) créée(s)" }
                "."
            }
        }
    }
}

/// `GET /etablissements/{id}/travailleurs/importer`.
pub(crate) async fn page(State(state): State<RegistryState>, Visit { v, id, .. }: Visit) -> Answer {
    let e = list_editor(&state, &v, id).await?;
    let body = html! {
        (head(id, &e))
        (explanation())
        (form(&v, id))
    };
    Ok(Page::new("Importer une liste", Some(&v), body).into_response())
}

fn head(id: i64, e: &Establishment) -> Markup {
    html! {
        p { a href={ "/etablissements/" (id) "/travailleurs" } { "← Liste des travailleurs" } }
        h1 { "Importer une liste" }
        p.lead { (name_of(e)) }
    }
}

/// `POST /etablissements/{id}/travailleurs/importer` (multipart: `csrf`, then `fichier`).
pub(crate) async fn submit(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    multipart: Result<Multipart, MultipartRejection>,
) -> Answer {
    let unreadable = || {
        page_fail(message_page(
            StatusCode::BAD_REQUEST,
            "Envoi illisible",
            "Le formulaire d'import n'a pas pu être lu : choisissez le fichier et recommencez.",
            Some(&v),
        ))
    };
    let mut multipart = multipart.map_err(|_| unreadable())?;
    let mut csrf_ok = false;
    let mut outcome = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name() {
            Some("csrf") => {
                // A CSRF token is 64 characters: no 300 MB "token" is held in memory.
                let token = web::form::field_text(field, 1024)
                    .await
                    .map_err(|_| unreadable())?;
                csrf_ok = v.csrf_ok(&super::Form::single("csrf", &token));
            }
            Some("fichier") => {
                // The token comes first in the form: without it, the file is not even read.
                if !csrf_ok {
                    return Err(csrf_refused(Some(&v)));
                }
                let (tx, upload) = stream::channel();
                let (imported, ()) = tokio::join!(
                    import(&state, v.principal.clone(), id, upload),
                    stream::forward(Box::pin(field), tx),
                );
                outcome = Some(match imported {
                    Err(ImportFailure::Refused(r @ Refusal::Internal(_))) => {
                        return Err(refused(&v, r))
                    }
                    other => other,
                });
                break;
            }
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(csrf_refused(Some(&v)));
    }
    let e = establishment_of(&state, &v, id).await?;
    match outcome {
        None => Err(unreadable()),
        Some(Ok(summary)) => Ok(Page::new(
            "Liste importée",
            Some(&v),
            html! {
                (head(id, &e))
                (summary_notice(&summary))
                p { a.btn.btn-primary href={ "/etablissements/" (id) "/travailleurs" } { "Voir la liste" } }
            },
        )
        .into_response()),
        Some(Err(failure)) => {
            let report = match &failure {
                ImportFailure::Refused(Refusal::Registry(e)) => e.report(),
                _ => None,
            };
            Ok(Page::new(
                "Import refusé",
                Some(&v),
                html! {
                    (head(id, &e))
                    div.notice.notice-error role="alert" {
                        h2 { "Import refusé : rien n'a été importé" }
                        p { (failure.message()) }
                    }
                    @if let Some(report) = report { (report_table(report)) }
                    (form(&v, id))
                },
            )
            .status(failure.status())
            .into_response())
        }
    }
}
