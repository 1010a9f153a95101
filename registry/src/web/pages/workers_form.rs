//! *Mise à jour de la liste des travailleurs*: the seed's workers form (operation, card, names,
//! RNIPP and key, birth date, fraction, category, job, radiological hazard, contract, working
//! time, activity character, domain, sector) and "Valider les modifications".

use std::collections::HashMap;

use crate::{Operation, RegistryError, WorkerInput, WorkerView};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{html, Markup};

use super::layout::{labelled, select, text_input, Errors, Label, Page};
use super::workers::{french_date, line};
use super::Posted;
use super::{
    decimal, establishment_of, list_editor, name_of, redirect, refused, Answer, Form, Visit,
    Visitor,
};
use crate::web::api::Fail;
use crate::web::caller::Refusal;
use crate::web::RegistryState;

/// The form's fields, in the page's order (for the error summary).
const FIELDS: [&str; 22] = [
    "operation",
    "card_number",
    "new_card",
    "last_name",
    "other_name",
    "first_name",
    "other_first_names",
    "nir",
    "nir_key",
    "birth_date",
    "sex",
    "birth_departement",
    "fraction",
    "category",
    "job",
    "radiological_hazard",
    "contract_type",
    "work_fraction",
    "activity_character",
    "domain",
    "sector",
    "employed_from",
];

fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect()
}

/// What the form shows: the values typed (or of the worker to modify).
#[derive(Debug, Default)]
struct Values {
    map: HashMap<&'static str, String>,
    new_card: bool,
}

impl Values {
    fn get(&self, name: &str) -> &str {
        self.map.get(name).map_or("", String::as_str)
    }

    fn from_form(form: &Form) -> Self {
        let mut map = HashMap::new();
        for name in FIELDS {
            if let Some(v) = form.get(name) {
                map.insert(name, v.to_owned());
            }
        }
        Self {
            map,
            new_card: form.get("new_card").is_some(),
        }
    }

    /// A worker of the list, for a *Modification*.
    fn from_worker(view: &WorkerView) -> Self {
        let l = line(view);
        let mut map = HashMap::new();
        let mut put = |k: &'static str, v: Option<&str>| {
            if let Some(v) = v {
                map.insert(k, v.to_owned());
            }
        };
        put("operation", Some("modification"));
        put("card_number", l.card);
        put("last_name", Some(l.last_name));
        put("other_name", l.other_name);
        put("first_name", Some(l.first_name));
        put("other_first_names", l.other_first_names);
        put("nir", Some(l.nir));
        put("nir_key", Some(l.nir_key));
        put("fraction", l.fraction);
        put("category", l.category);
        put("job", l.job);
        put("radiological_hazard", l.hazard);
        put("activity_character", l.character);
        put("domain", l.domain);
        put("sector", l.sector);
        if let Some((contract, quota)) = &l.terms {
            put("contract_type", *contract);
            put("work_fraction", quota.as_deref());
        }
        if let Some(d) = l.birth_date {
            map.insert("birth_date", french_date(d));
        }
        Self {
            map,
            new_card: false,
        }
    }

    /// The operation for the service: exactly the fields of `examples/worker.json`.
    fn input(form: &Form) -> WorkerInput {
        WorkerInput {
            operation: match form.get("operation") {
                Some("ajout") => Some(Operation::Add),
                Some("modification") => Some(Operation::Modify),
                Some("suppression") => Some(Operation::Remove),
                _ => None,
            },
            card_number: form.text("card_number"),
            new_card: form.get("new_card").is_some(),
            last_name: form.text("last_name"),
            other_name: form.text("other_name"),
            first_name: form.text("first_name"),
            other_first_names: form.text("other_first_names"),
            nir: form.text("nir"),
            nir_key: form.text("nir_key"),
            birth_date: form.text("birth_date"),
            fraction: form.text("fraction"),
            category: form.text("category"),
            job: form.text("job"),
            radiological_hazard: form.text("radiological_hazard"),
            contract_type: form.text("contract_type"),
            work_fraction: decimal(form.text("work_fraction")),
            activity_character: form.text("activity_character"),
            domain: form.text("domain"),
            sector: form.text("sector"),
            employed_from: form.text("employed_from"),
            sex: form.text("sex"),
            birth_departement: form.text("birth_departement"),
        }
    }
}

fn datalist(id: &str, values: &[&str]) -> Markup {
    html! {
        datalist id=(id) {
            @for v in values { option value=(v) {} }
        }
    }
}

/// What was just done, for the *En cours* table.
struct Done {
    operation: String,
    view: Option<WorkerView>,
}

struct FormPage<'a> {
    visitor: &'a Visitor,
    id: i64,
    name: String,
    fractions: Vec<String>,
    values: Values,
    errors: Errors,
    done: Option<Done>,
}

fn render(p: FormPage<'_>) -> Markup {
    let FormPage {
        visitor: v,
        id,
        name,
        fractions,
        values,
        errors,
        done,
    } = p;
    let base = format!("/etablissements/{id}/travailleurs");
    let mut fraction_options = vec![(String::new(), "—".to_owned())];
    fraction_options.extend(fractions.iter().map(|f| (f.clone(), f.clone())));
    let ops = options(&[
        ("ajout", "Ajout"),
        ("modification", "Modification"),
        ("suppression", "Suppression"),
    ]);
    let categories = options(&[
        ("", "—"),
        ("A", "A"),
        ("B", "B"),
        ("non classé", "non classé"),
    ]);
    let contracts = options(&[
        ("", "—"),
        ("CDI", "CDI : contrat à durée indéterminée"),
        ("CDD", "CDD : contrat à durée déterminée"),
        ("Intérim", "Intérim"),
        ("Non salarié", "Non salarié"),
        ("Apprentissage", "Apprentissage"),
        ("Stage", "Stage"),
        ("Autre", "Autre"),
    ]);
    let characters = options(&[
        ("", "—"),
        ("1-Civile", "1-Civile"),
        ("2-Militaire", "2-Militaire"),
    ]);
    let operation = match values.get("operation") {
        "" => "ajout",
        other => other,
    };
    html! {
        p { a href=(base) { "← Liste des travailleurs" } }
        h1 { "Mise à jour de la liste des travailleurs de l'établissement " (name) }
        @if let Some(d) = &done {
            div.notice.notice-success role="status" {
                p { "Modification enregistrée (" (d.operation) ")." }
            }
        }
        form.form method="post" action={ (base) "/modifier" } novalidate {
            input type="hidden" name="csrf" value=(v.csrf());
            fieldset.fieldset {
                legend { "Recherche et mise à jour des travailleurs" }
                p.required-note { "Les champs marqués " abbr.required title="obligatoire" { "*" } " sont obligatoires." }
                div.form-grid {
                    div {
                        (select(&Label::new("operation", "Type opération").required(), &ops, operation, &errors))
                        (text_input(&Label::new("last_name", "Nom de famille").required(), values.get("last_name"), &errors, None))
                        (text_input(&Label::new("other_name", "Autre nom connu"), values.get("other_name"), &errors, None))
                        (text_input(&Label::new("first_name", "Prénom").required(), values.get("first_name"), &errors, None))
                        (text_input(&Label::new("other_first_names", "Autres prénoms"), values.get("other_first_names"), &errors, None))
                        div.nir-row {
                            (text_input(&Label::new("nir", "Numéro RNIPP").required().hint("13 caractères"), values.get("nir"), &errors, None))
                            (text_input(&Label::new("nir_key", "Clé").required().hint("2 chiffres"), values.get("nir_key"), &errors, None))
                        }
                        (text_input(&Label::new("birth_date", "Jour de naissance").hint("jj/mm/aaaa"), values.get("birth_date"), &errors, None))
                        (select(&Label::new("sex", "Sexe").hint("contrôlé avec le NIR, non conservé"), &options(&[("", "—"), ("M", "Homme"), ("F", "Femme")]), values.get("sex"), &errors))
                        (text_input(&Label::new("birth_departement", "Département de naissance").hint("01 à 95, 2A, 2B, 971…, 99 à l'étranger ; contrôlé avec le NIR, non conservé"), values.get("birth_departement"), &errors, None))
                        (select(&Label::new("fraction", "Fraction"), &fraction_options, values.get("fraction"), &errors))
                    }
                    div {
                        (text_input(&Label::new("card_number", "Numéro de carte de suivi médical").hint("Pour une modification ou une suppression : la carte du travailleur (sinon son NIR)."), values.get("card_number"), &errors, None))
                        (labelled(&Label::new("new_card", "Nouvelle carte"), &errors, html! {
                            div.choice {
                                input #f-new_card type="checkbox" name="new_card" value="1" checked[values.new_card];
                                label for="f-new_card" { "Attribuer un nouveau numéro de carte de suivi médical" }
                            }
                        }))
                        (select(&Label::new("category", "Catégorie"), &categories, values.get("category"), &errors))
                        (text_input(&Label::new("radiological_hazard", "Nuisance radiologique"), values.get("radiological_hazard"), &errors, Some("nuisances")))
                        (text_input(&Label::new("work_fraction", "Quotité de travail").hint("de 0,001 à 1,0"), values.get("work_fraction"), &errors, None))
                        (text_input(&Label::new("domain", "Domaine d'activité"), values.get("domain"), &errors, Some("domaines")))
                    }
                    div {
                        (text_input(&Label::new("job", "Métier"), values.get("job"), &errors, Some("metiers")))
                        (select(&Label::new("contract_type", "Type de contrat"), &contracts, values.get("contract_type"), &errors))
                        (select(&Label::new("activity_character", "Caractère de l'activité"), &characters, values.get("activity_character"), &errors))
                        (text_input(&Label::new("sector", "Secteur d'activité"), values.get("sector"), &errors, Some("secteurs")))
                        (text_input(&Label::new("employed_from", "Date d'entrée dans l'établissement").hint("jj/mm/aaaa ; la date du jour si vide"), values.get("employed_from"), &errors, None))
                    }
                }
                (datalist("nuisances", &["1-Exposition externe", "2-Exposition interne", "3-Exposition externe et interne"]))
                (datalist("metiers", &["Assistant dentaire", "Chirurgien-dentiste", "Manipulateur en électroradiologie", "Radiologue"]))
                (datalist("domaines", &["100000-Utilisations medicales et veterinaires"]))
                (datalist("secteurs", &["102000-Soins dentaires"]))
                div.actions {
                    button.btn.btn-primary type="submit" { "Valider les modifications" }
                    a.btn.btn-secondary href={ (base) "/modifier" } { "Effacer le formulaire" }
                    a.btn.btn-link href=(base) { "Retour" }
                }
            }
        }
        div.list-actions {
            a.btn.btn-secondary href={ (base) "/importer" } { "Importer une liste" }
            a.btn.btn-secondary href={ "/api/v1/establishments/" (id) "/workers.csv" } download { "Exporter la liste" }
            a.btn.btn-secondary href={ "/etablissements/" (id) "/fractions" } { "Fractionner la liste" }
        }
        div.table-wrap {
            table.table {
                caption { "En cours" }
                thead { tr {
                    th scope="col" { "Opération" } th scope="col" { "Nom" } th scope="col" { "Prénom" }
                    th scope="col" { "RNIPP" } th scope="col" { "N° carte" } th scope="col" { "Supprimer" }
                } }
                tbody {
                    @match done.as_ref().and_then(|d| d.view.as_ref().map(|w| (d, w))) {
                        Some((d, w)) => {
                            @let l = line(w);
                            tr {
                                td { (d.operation) }
                                td { (l.last_name) }
                                td { (l.first_name) }
                                td.nir { (l.nir) " " (l.nir_key) }
                                td { (l.card.unwrap_or("—")) }
                                td {
                                    @if !l.removed {
                                        form.inline method="post" action={ (base) "/modifier" } {
                                            input type="hidden" name="csrf" value=(v.csrf());
                                            input type="hidden" name="operation" value="suppression";
                                            input type="hidden" name="nir" value=(l.nir);
                                            input type="hidden" name="nir_key" value=(l.nir_key);
                                            button.btn.btn-small.btn-danger-outline type="submit" { "Supprimer" }
                                        }
                                    }
                                }
                            }
                        }
                        None => { tr { td.empty colspan="6" { "Aucune opération en cours." } } }
                    }
                }
            }
        }
    }
}

async fn fraction_names(state: &RegistryState, v: &Visitor, id: i64) -> Result<Vec<String>, Fail> {
    Ok(v.ask(state, move |r, who| r.fractions(who, id))
        .await?
        .into_iter()
        .map(|f| f.name)
        .collect())
}

/// `GET /etablissements/{id}/travailleurs/modifier` (`?travailleur=ID` to modify one; after an
/// operation, `?fait=OPERATION&dernier=ID`).
pub(crate) async fn page(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let e = list_editor(&state, &v, id).await?;
    let fractions = fraction_names(&state, &v, id).await?;
    let read = |w: i64| v.try_ask(&state, move |r, who| r.worker(who, id, w));
    let values = match query.get("travailleur").and_then(|w| w.parse::<i64>().ok()) {
        Some(w) => Values::from_worker(&read(w).await.map_err(|r| refused(&v, r))?),
        None => Values::default(),
    };
    let done = match (
        query.get("fait"),
        query.get("dernier").and_then(|w| w.parse::<i64>().ok()),
    ) {
        (Some(op), Some(w)) if ["ajout", "modification", "suppression"].contains(&op.as_str()) => {
            Some(Done {
                operation: op.clone(),
                view: read(w).await.ok(),
            })
        }
        _ => None,
    };
    let body = render(FormPage {
        visitor: &v,
        id,
        name: name_of(&e),
        fractions,
        values,
        errors: Errors::default(),
        done,
    });
    Ok(Page::new("Mise à jour de la liste des travailleurs", Some(&v), body).into_response())
}

/// `POST /etablissements/{id}/travailleurs/modifier`: "Valider les modifications".
pub(crate) async fn submit(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, .. }, form): Posted,
) -> Answer {
    let input = Values::input(&form);
    let outcome = v
        .try_ask(&state, move |r, who| r.apply_worker(who, id, &input))
        .await;
    let (status, errors) = match outcome {
        Ok(applied) => {
            return Ok(redirect(&format!(
                "/etablissements/{id}/travailleurs/modifier?fait={}&dernier={}",
                applied.operation.as_str(),
                applied.worker_id
            )))
        }
        Err(Refusal::Registry(RegistryError::Invalid(fields))) => {
            (StatusCode::UNPROCESSABLE_ENTITY, Errors::new(fields))
        }
        Err(Refusal::Registry(e @ RegistryError::DuplicateNir)) => {
            let mut errors = Errors::default();
            errors.add("nir", e.to_string());
            (StatusCode::CONFLICT, errors)
        }
        // The form stays as typed, the NIR marked: the correspondent checks it and the
        // identity (the operators have the conflict's record).
        Err(Refusal::Registry(e @ RegistryError::IdentityConflict)) => {
            let mut errors = Errors::default();
            errors.add("nir", e.to_string());
            (StatusCode::CONFLICT, errors)
        }
        Err(Refusal::Registry(e @ RegistryError::DuplicateCard)) => {
            let mut errors = Errors::default();
            errors.add("card_number", e.to_string());
            (StatusCode::CONFLICT, errors)
        }
        Err(Refusal::Registry(RegistryError::NotFound)) if v.attached(id) => {
            let mut errors = Errors::default();
            errors.add(
                "card_number",
                "Aucun travailleur de la liste n'a ce numéro de carte ou ce NIR.",
            );
            (StatusCode::NOT_FOUND, errors)
        }
        Err(r) => return Err(refused(&v, r)),
    };
    let e = establishment_of(&state, &v, id).await?;
    let fractions = fraction_names(&state, &v, id).await?;
    let summary = errors.summary(&FIELDS);
    let body = render(FormPage {
        visitor: &v,
        id,
        name: name_of(&e),
        fractions,
        values: Values::from_form(&form),
        errors,
        done: None,
    });
    Ok(
        Page::new("Mise à jour de la liste des travailleurs", Some(&v), body)
            .summary(summary)
            .status(status)
            .into_response(),
    )
}
