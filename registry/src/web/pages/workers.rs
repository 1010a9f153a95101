//! *Liste des travailleurs*: the list with its search, fraction filter and pages; one worker.
//! Each role sees the view the service gives it (complete for the CSE, the dosimetric one for
//! the PCR and the physician): the columns follow the view, not the role.

use std::collections::HashMap;

use crate::policy::identity_views;
use crate::{
    Action, CardNumber, DataKind, DoseKind, Fraction, FractionFilter, RegistryError, WorkerQuery,
    WorkerView,
};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{html, Markup};
use time::Date;

use super::layout::{select, text_input, Errors, Label, Page};
use super::{establishment_of, name_of, q, refused, Answer, Visit, Visitor};
use crate::web::api::{fraction_filter, search_terms};
use crate::web::caller::Refusal;
use crate::web::RegistryState;

/// Workers on one page of the list.
const PAGE_SIZE: u32 = 50;

/// A worker's fields as a page shows them, whatever the view; `terms` is `None` when the view
/// leaves the terms of employment out.
pub(crate) struct Line<'a> {
    pub id: i64,
    pub removed: bool,
    pub card: Option<&'a str>,
    pub last_name: &'a str,
    pub other_name: Option<&'a str>,
    pub first_name: &'a str,
    pub other_first_names: Option<&'a str>,
    pub nir: &'a str,
    pub nir_key: &'a str,
    pub birth_date: Option<Date>,
    pub fraction: Option<&'a str>,
    pub category: Option<&'static str>,
    pub job: Option<&'a str>,
    pub hazard: Option<&'a str>,
    pub character: Option<&'static str>,
    pub domain: Option<&'a str>,
    pub sector: Option<&'a str>,
    pub terms: Option<(Option<&'static str>, Option<String>)>,
}

/// A [`Line`] from what a full record and a dosimetry summary hold alike, read the same way.
macro_rules! line_of {
    ($id:expr, $removed:expr, $w:expr, $terms:expr) => {{
        let w = $w;
        Line {
            id: $id,
            removed: $removed,
            card: w.card_number.as_ref().map(CardNumber::as_str),
            last_name: &w.last_name,
            other_name: w.other_name.as_deref(),
            first_name: &w.first_name,
            other_first_names: w.other_first_names.as_deref(),
            nir: w.nir.as_str(),
            nir_key: w.nir.key(),
            birth_date: w.birth_date,
            fraction: w.fraction.as_deref(),
            category: w.category.map(|c| c.label()),
            job: w.job.as_deref(),
            hazard: w.radiological_hazard.as_deref(),
            character: w.activity_character.map(|c| c.label()),
            domain: w.domain.as_deref(),
            sector: w.sector.as_deref(),
            terms: $terms,
        }
    }};
}

pub(crate) fn line(view: &WorkerView) -> Line<'_> {
    match view {
        WorkerView::Complete(r) => {
            let w = &r.worker;
            let terms = (
                w.contract_type.map(|c| c.label()),
                w.work_fraction.map(|f| f.to_string()),
            );
            line_of!(r.id, r.removed, w, Some(terms))
        }
        WorkerView::Dosimetry(s) => line_of!(s.id, s.removed, s, None),
    }
}

/// `jj/mm/aaaa`.
pub(crate) fn french_date(d: Date) -> String {
    store::date::french(d)
}

fn dash(v: Option<&str>) -> &str {
    v.unwrap_or("—")
}

/// What the list's rows link to.
fn row_links(v: &Visitor, est: i64, l: &Line<'_>) -> Markup {
    let base = format!("/etablissements/{est}/travailleurs/{}", l.id);
    let doses = DoseKind::ALL
        .iter()
        .any(|k| v.may(est, k.data_kind(), Action::Read));
    html! {
        a href=(base) { "Consulter" }
        @if doses { " · " a href={ (base) "/doses" } { "Doses" } }
        @if v.may(est, DataKind::MedicalCard, Action::Read) { " · " a href={ (base) "/carte" } { "Carte" } }
        @if v.may(est, DataKind::AdminComplete, Action::Write) && !l.removed {
            " · " a href={ "/etablissements/" (est) "/travailleurs/modifier?travailleur=" (l.id) } { "Modifier" }
        }
    }
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "affectation" => Some("Les travailleurs cochés ont été affectés à la fraction choisie."),
        "suppression" => Some("Le travailleur a été retiré de la liste."),
        _ => None,
    }
}

/// `GET /etablissements/{id}/travailleurs?q=&fraction=&apres=&vue=`.
pub(crate) async fn list(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let e = establishment_of(&state, &v, id).await?;
    let text = query
        .get("q")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let (name, nir) = search_terms(&text);
    let fraction_text = query.get("fraction").cloned().unwrap_or_default();
    let fraction = fraction_filter(Some(&fraction_text)).unwrap_or(FractionFilter::Any);
    let after = query.get("apres").and_then(|a| a.parse::<i64>().ok());
    let view = query.get("vue").map(String::as_str).unwrap_or("");
    let search = WorkerQuery {
        name,
        nir,
        fraction,
        include_removed: false,
        after,
        offset: 0,
        limit: PAGE_SIZE,
    };
    let mut errors = Errors::default();
    let found = v
        .try_ask(&state, move |r, who| r.search_workers(who, id, &search))
        .await;
    let (items, next) = match found {
        Ok(page) => (page.items, page.next),
        Err(Refusal::Registry(RegistryError::Invalid(fields))) => {
            for message in fields.into_values() {
                errors.add("q", message);
            }
            (Vec::new(), None)
        }
        Err(r) => return Err(refused(&v, r)),
    };
    let fractions: Vec<Fraction> = v.ask(&state, move |r, who| r.fractions(who, id)).await?;

    let edit = v.may(id, DataKind::AdminComplete, Action::Write);
    let export = v.may(id, DataKind::AdminComplete, Action::Read);
    let complete = items.iter().any(|i| matches!(i, WorkerView::Complete(_)));
    let mut filter_options = vec![
        (String::new(), "Toutes les fractions".to_owned()),
        ("aucune".to_owned(), "Sans fraction".to_owned()),
    ];
    filter_options.extend(
        fractions
            .iter()
            .map(|f| (f.id.to_string(), format!("{} ({})", f.name, f.workers))),
    );
    let mut assign_options = vec![("aucune".to_owned(), "Aucune fraction".to_owned())];
    assign_options.extend(fractions.iter().map(|f| (f.id.to_string(), f.name.clone())));
    let keep = format!(
        "q={}&fraction={}&vue={}",
        q(&text),
        q(&fraction_text),
        q(view)
    );
    let base = format!("/etablissements/{id}/travailleurs");
    let title = match view {
        "doses" => "Doses des travailleurs",
        "carte" => "Cartes de suivi médical",
        _ => "Liste des travailleurs",
    };
    let summary = errors.summary(&["q"]);
    let body = html! {
        p { a href="/cartes" { "← Cartes-données admin." } }
        h1 { (title) }
        p.lead { (name_of(&e)) " — protocole n° " (e.number) " — " (v.roles_label(id)) }
        @if let Some(n) = notice(query.get("fait").map(String::as_str)) {
            div.notice.notice-success role="status" { p { (n) } }
        }
        @match view {
            "doses" => { p { "Choisissez un travailleur pour consulter ses doses." } }
            "carte" => { p { "Choisissez un travailleur pour consulter sa carte de suivi médical." } }
            _ => {}
        }
        form.searchbar method="get" action=(base) role="search" {
            input type="hidden" name="vue" value=(view);
            (text_input(&Label::new("q", "Nom ou NIR").hint("Début du nom (et du prénom), ou NIR à 13 ou 15 caractères."), &text, &errors, None))
            (select(&Label::new("fraction", "Fraction"), &filter_options, &fraction_text, &errors))
            div.actions.actions-inline { button.btn.btn-primary type="submit" { "Rechercher" } }
        }
        @if edit || export {
            div.list-actions {
                @if edit { a.btn.btn-primary href={ (base) "/modifier" } { "Modifier la liste" } }
                @if edit { a.btn.btn-secondary href={ (base) "/importer" } { "Importer une liste" } }
                @if export { a.btn.btn-secondary href={ "/api/v1/establishments/" (id) "/workers.csv" } download { "Exporter la liste" } }
                @if edit { a.btn.btn-secondary href={ "/etablissements/" (id) "/fractions" } { "Fractionner la liste" } }
            }
        }
        @if items.is_empty() {
            @if after.is_none() && text.is_empty() && fraction_text.is_empty() {
                div.notice { p { "Cette liste reste vide tant que le CSE n'a pas mis à jour les informations administratives des travailleurs." } }
            } @else {
                div.notice { p { "Aucun travailleur ne correspond à cette recherche." } }
            }
        } @else {
            div.table-wrap {
                table.table {
                    caption { "Travailleurs (" (items.len()) " sur cette page)" }
                    thead {
                        tr {
                            @if edit && !fractions.is_empty() { th scope="col" { span.visually-hidden { "Sélection" } } }
                            th scope="col" { "Nom" }
                            th scope="col" { "Prénom" }
                            th scope="col" { "RNIPP (NIR) et clé" }
                            th scope="col" { "N° carte" }
                            th scope="col" { "Fraction" }
                            th scope="col" { "Catégorie" }
                            th scope="col" { "Métier" }
                            @if complete {
                                th scope="col" { "Type de contrat" }
                                th scope="col" { "Quotité" }
                            }
                            th scope="col" { "Actions" }
                        }
                    }
                    tbody {
                        @for item in &items {
                            @let l = line(item);
                            tr {
                                @if edit && !fractions.is_empty() {
                                    td {
                                        input type="checkbox" name="travailleur" value=(l.id) form="affectation"
                                            id={ "t-" (l.id) } aria-label={ "Sélectionner " (l.last_name) " " (l.first_name) };
                                    }
                                }
                                td { (l.last_name) @if let Some(o) = l.other_name { " (" (o) ")" } }
                                td { (l.first_name) }
                                td.nir { (l.nir) " " (l.nir_key) }
                                td { (dash(l.card)) }
                                td { (dash(l.fraction)) }
                                td { (dash(l.category)) }
                                td { (dash(l.job)) }
                                @if let Some((contract, quota)) = &l.terms {
                                    td { (dash(*contract)) }
                                    td { (dash(quota.as_deref())) }
                                }
                                td { (row_links(&v, id, &l)) }
                            }
                        }
                    }
                }
            }
            @if edit && !fractions.is_empty() {
                form.assign #affectation method="post" action={ "/etablissements/" (id) "/fractions/affecter" } {
                    input type="hidden" name="csrf" value=(v.csrf());
                    (select(&Label::new("fraction_cible", "Affecter les travailleurs cochés à"), &assign_options, "", &Errors::default()))
                    div.actions.actions-inline { button.btn.btn-secondary type="submit" { "Affecter à la fraction" } }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if after.is_some() { a href={ (base) "?" (keep) } { "← Première page" } } @else { span {} }
            @if let Some(n) = next { a href={ (base) "?" (keep) "&apres=" (n) } { "Page suivante →" } }
        }
    };
    let status = if summary.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(Page::new(title, Some(&v), body)
        .summary(summary)
        .status(status)
        .into_response())
}

/// A worker's fields as a definition list: those of the view, and nothing else.
pub(crate) fn facts(l: &Line<'_>) -> Markup {
    html! {
        dl.facts {
            dt { "Nom de famille" } dd { (l.last_name) }
            dt { "Autre nom connu" } dd { (dash(l.other_name)) }
            dt { "Prénom" } dd { (l.first_name) }
            dt { "Autres prénoms" } dd { (dash(l.other_first_names)) }
            dt { "Numéro RNIPP et clé" } dd.nir { (l.nir) " " (l.nir_key) }
            dt { "Jour de naissance" } dd { (l.birth_date.map(french_date).unwrap_or_else(|| "—".into())) }
            dt { "Numéro de carte de suivi médical" } dd { (dash(l.card)) }
            dt { "Fraction" } dd { (dash(l.fraction)) }
            dt { "Catégorie" } dd { (dash(l.category)) }
            dt { "Métier" } dd { (dash(l.job)) }
            dt { "Nuisance radiologique" } dd { (dash(l.hazard)) }
            @if let Some((contract, quota)) = &l.terms {
                dt { "Type de contrat" } dd { (dash(*contract)) }
                dt { "Quotité de travail" } dd { (dash(quota.as_deref())) }
            }
            dt { "Caractère de l'activité" } dd { (dash(l.character)) }
            dt { "Domaine d'activité" } dd { (dash(l.domain)) }
            dt { "Secteur d'activité" } dd { (dash(l.sector)) }
            @if l.removed { dt { "Statut" } dd { "Retiré de la liste" } }
        }
    }
}

/// `GET /etablissements/{id}/travailleurs/{w}`.
pub(crate) async fn detail(
    State(state): State<RegistryState>,
    Visit { v, id, target: w }: Visit<i64>,
) -> Answer {
    let view = v.ask(&state, move |r, who| r.worker(who, id, w)).await?;
    let l = line(&view);
    let edit = v.may(id, DataKind::AdminComplete, Action::Write) && !l.removed;
    let identity_kind = identity_views()
        .into_iter()
        .find(|(k, _)| v.may(id, *k, Action::Read))
        .map(|(k, _)| k);
    let body = html! {
        p { a href={ "/etablissements/" (id) "/travailleurs" } { "← Liste des travailleurs" } }
        h1 { (l.last_name) " " (l.first_name) }
        @if identity_kind == Some(DataKind::MedicalCard) {
            p.muted { "Identité telle qu'elle figure sur la carte de suivi médical." }
        }
        (facts(&l))
        div.list-actions {
            (row_links(&v, id, &l))
        }
        @if edit {
            form.inline method="post" action={ "/etablissements/" (id) "/travailleurs/modifier" } {
                input type="hidden" name="csrf" value=(v.csrf());
                input type="hidden" name="operation" value="suppression";
                @if let Some(card) = l.card {
                    input type="hidden" name="card_number" value=(card);
                } @else {
                    input type="hidden" name="nir" value=(l.nir);
                    input type="hidden" name="nir_key" value=(l.nir_key);
                }
                button.btn.btn-danger-outline type="submit" { "Supprimer de la liste" }
            }
        }
    };
    Ok(Page::new(format!("{} {}", l.last_name, l.first_name), Some(&v), body).into_response())
}
