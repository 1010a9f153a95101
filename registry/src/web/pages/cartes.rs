//! *Cartes-données admin.*: choose the company and the type of data, then "Rechercher" (seed
//! section 2); and the *établissement de rattachement* (seed section 3 c).

use std::collections::HashMap;

use crate::directory::Establishment;
use crate::policy::identity_views;
use crate::{Action, DataKind, DoseKind};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::html;

use super::layout::{message_page, select, Errors, Label, Page};
use super::{establishment_of, name_of, page_fail, redirect, Answer, Visit, Visitor};
use crate::web::api::Fail;
use crate::web::{ask, RegistryState};

/// The *type de données* of the selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataType {
    Workers,
    Establishment,
    Doses,
    Card,
}

impl DataType {
    const ALL: [DataType; 4] = [Self::Workers, Self::Establishment, Self::Doses, Self::Card];

    fn value(self) -> &'static str {
        match self {
            Self::Workers => "travailleurs",
            Self::Establishment => "rattachement",
            Self::Doses => "doses",
            Self::Card => "carte",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Workers => "Liste des travailleurs",
            Self::Establishment => "Établissement de rattachement",
            Self::Doses => "Doses",
            Self::Card => "Carte de suivi médical",
        }
    }

    /// Whether the matrix gives the person this type in establishment `id`.
    fn offered(self, v: &Visitor, id: i64) -> bool {
        match self {
            Self::Workers => identity_views()
                .iter()
                .any(|(kind, _)| v.may(id, *kind, Action::Read)),
            Self::Establishment => v.attached(id),
            Self::Doses => DoseKind::ALL
                .iter()
                .any(|k| v.may(id, k.data_kind(), Action::Read)),
            Self::Card => v.may(id, DataKind::MedicalCard, Action::Read),
        }
    }

    fn target(self, id: i64) -> String {
        match self {
            Self::Workers => format!("/etablissements/{id}/travailleurs"),
            Self::Establishment => format!("/etablissements/{id}/rattachement"),
            Self::Doses => format!("/etablissements/{id}/travailleurs?vue=doses"),
            Self::Card => format!("/etablissements/{id}/travailleurs?vue=carte"),
        }
    }
}

/// The establishments of the person, in the order of their attachments.
pub(super) async fn establishments(
    state: &RegistryState,
    v: &Visitor,
) -> Result<Vec<Establishment>, Fail> {
    let mut ids: Vec<i64> = v
        .person
        .attachments
        .iter()
        .map(|a| a.establishment)
        .collect();
    ids.dedup();
    ask(state, move |d| {
        let mut out = Vec::new();
        for id in ids {
            if !out.iter().any(|e: &Establishment| e.id == id) {
                out.extend(d.establishment(id)?);
            }
        }
        Ok(out)
    })
    .await
    .map_err(|e| {
        let status = crate::web::access_error(e).status();
        page_fail(message_page(
            status,
            "Erreur",
            "Erreur interne : réessayez plus tard.",
            Some(v),
        ))
    })
}

/// `GET /cartes?entreprise=&type=`: the selector; with both chosen, the data.
async fn select_page(
    state: &RegistryState,
    v: &Visitor,
    query: &HashMap<String, String>,
) -> Answer {
    let list = establishments(state, v).await?;
    let chosen_id = query.get("entreprise").and_then(|s| s.parse::<i64>().ok());
    let chosen_type = query
        .get("type")
        .and_then(|t| DataType::ALL.into_iter().find(|d| d.value() == t));
    let mut errors = Errors::default();
    if query.contains_key("entreprise") || query.contains_key("type") {
        match (chosen_id, chosen_type) {
            (Some(id), Some(t)) if list.iter().any(|e| e.id == id) => {
                if t.offered(v, id) {
                    return Ok(redirect(&t.target(id)));
                }
                errors.add(
                    "type",
                    "Votre rôle dans cette entreprise ne donne pas accès à ce type de données.",
                );
            }
            (Some(_), Some(_)) => {
                return Err(page_fail(message_page(
                    StatusCode::NOT_FOUND,
                    "Introuvable",
                    "Établissement introuvable.",
                    Some(v),
                )))
            }
            (None, _) => errors.add("entreprise", "Sélectionnez votre entreprise."),
            (_, None) => errors.add("type", "Sélectionnez le type de données."),
        }
    }
    let companies: Vec<(String, String)> = list
        .iter()
        .map(|e| {
            (
                e.id.to_string(),
                format!(
                    "{} — protocole n° {} ({})",
                    name_of(e),
                    e.number,
                    v.roles_label(e.id)
                ),
            )
        })
        .collect();
    let types: Vec<(String, String)> = DataType::ALL
        .into_iter()
        .filter(|t| list.iter().any(|e| t.offered(v, e.id)))
        .map(|t| (t.value().to_owned(), t.label().to_owned()))
        .collect();
    let selected_company = chosen_id.map(|i| i.to_string()).unwrap_or_default();
    let selected_type = chosen_type.map_or("travailleurs", DataType::value);
    let summary = errors.summary(&["entreprise", "type"]);
    let failed = !summary.is_empty();
    let body = html! {
        h1 { "Cartes-données admin." }
        p.lead { "Bonjour " (v.person.display_name) " (N° habilitation SISERI " (v.person.habilitation) ")." }
        @if list.is_empty() {
            div.notice.notice-warning { p { "Vous n'êtes rattaché à aucun établissement." } }
        } @else {
            form.form method="get" action="/cartes" {
                fieldset.fieldset {
                    legend { "Sélection des données de référence" }
                    (select(&Label::new("entreprise", "Entreprise").required(), &companies, &selected_company, &errors))
                    (select(&Label::new("type", "Type de données").required(), &types, selected_type, &errors))
                    div.actions.actions-inline {
                        button.btn.btn-primary type="submit" { "Rechercher" }
                    }
                }
            }
            h2 { "Vos établissements" }
            div.table-wrap {
                table.table {
                    thead { tr { th scope="col" { "Entreprise" } th scope="col" { "Protocole" } th scope="col" { "Votre rôle" } th scope="col" { "Données" } } }
                    tbody {
                        @for e in &list {
                            tr {
                                td { (name_of(e)) }
                                td { (e.number) }
                                td { (v.roles_label(e.id)) }
                                td {
                                    ul.links {
                                        @for t in DataType::ALL {
                                            @if t.offered(v, e.id) {
                                                li { a href=(t.target(e.id)) { (t.label()) } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let status = if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(Page::new("Cartes-données admin.", Some(v), body)
        .summary(summary)
        .status(status)
        .into_response())
}

pub(crate) async fn selector(
    State(state): State<RegistryState>,
    v: Visitor,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    select_page(&state, &v, &query).await
}

/// `GET /etablissements/{id}/rattachement`: protocol number, key name, address, accessors.
pub(crate) async fn establishment(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
) -> Answer {
    let e = establishment_of(&state, &v, id).await?;
    let emp = &e.employer;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    let body = html! {
        p { a href="/cartes" { "← Cartes-données admin." } }
        h1 { "Établissement de rattachement" }
        p.lead { (name_of(&e)) }
        dl.facts {
            dt { "Numéro de protocole" } dd { (e.number) }
            dt { "Nom clé" } dd { (e.key_name) }
            dt { "Raison sociale ou nom" } dd { (opt(&emp.name)) }
            dt { "Numéro SIRET" } dd { (opt(&emp.siret)) }
            dt { "Adresse postale" } dd { (opt(&emp.address)) }
            dt { "Code postal" } dd { (opt(&emp.postal_code)) }
            dt { "Ville" } dd { (opt(&emp.town)) }
            @if let Some(c) = &emp.cedex { dt { "Cedex" } dd { (c) } }
            dt { "Pays" } dd { (opt(&emp.country)) }
            @if let Some(p) = &emp.phone { dt { "Téléphone" } dd { (p) } }
            @if let Some(f) = &emp.fax { dt { "Télécopie" } dd { (f) } }
            dt { "Votre rôle" } dd { (v.roles_label(id)) }
        }
        h2 { "Accédants et rôles" }
        div.table-wrap {
            table.table {
                thead { tr { th scope="col" { "Nom" } th scope="col" { "Rôle" } } }
                tbody {
                    @for (name, role) in &e.accessors {
                        tr { td { (name) } td { (role.label()) " (" (role.as_str()) ")" } }
                    }
                }
            }
        }
        p.muted { "Un changement de médecin du travail, de correspondant, de PCR ou d'adresse se fait par un renouvellement du protocole (PASS), avec ce numéro de protocole et ce nom clé." }
        h2 { "Organismes de dosimétrie" }
        p { a href={ "/etablissements/" (id) "/organismes" } { "Organismes de dosimétrie désignés par l'établissement" } }
        @if v.may(id, crate::DataKind::EffectiveDose, crate::Action::Read) {
            h2 { "Alertes" }
            p { a href={ "/etablissements/" (id) "/alertes" } { "Alertes de dépassement de limite (tous employeurs confondus)" } }
            h2 { "Bilans" }
            p { a href={ "/etablissements/" (id) "/bilans" } { "Bilan dosimétrique de l'établissement (répartition par classe de dose)" } }
        }
    };
    Ok(Page::new("Établissement de rattachement", Some(&v), body).into_response())
}
