//! A worker's doses (the kinds the role may read, the rolling 12-month effective dose and its
//! 20 mSv flag, and the form for the kinds it may send) and the medical follow-up card.

use std::collections::HashMap;
use std::ops::ControlFlow;

use crate::{
    Action, CardInput, DataKind, DoseInput, DoseKind, DoseQuery, DoseRecord, Fitness, MedicalCard,
    Organ, PregnancyInput, RegistryError, RollingDose, WorkerRef, WorkerView,
};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::layout::{labelled, select, text_input, Errors, Label, Page};
use super::workers::{facts, french_date, line};
use super::Posted;
use super::{decimal, redirect, refused, Answer, Form, Visit, Visitor};
use crate::web::api::{dose_kind, Fail};
use crate::web::caller::Refusal;
use crate::web::RegistryState;

const DOSE_FIELDS: [&str; 13] = [
    "kind",
    "period_start",
    "period_end",
    "hp10_msv",
    "hp007_msv",
    "e_msv",
    "extremity_msv",
    "hp3_msv",
    "organ",
    "h_msv",
    "radon_bqhm3",
    "siret",
    "replaces",
];
const CARD_FIELDS: [&str; 6] = [
    "last_visit",
    "fitness",
    "next_visit",
    "notes",
    "declared_on",
    "ends_on",
];

fn kind_label(k: DoseKind) -> &'static str {
    k.label()
}

/// The quantities of a record beyond Hp(10), Hp(0.07) and E, in words.
fn other_quantities(r: &DoseRecord) -> String {
    let mut parts = Vec::new();
    if let Some(v) = r.extremity_msv {
        parts.push(format!("Extrémités Hp(0,07) {} mSv", msv(Some(v))));
    }
    if let Some(v) = r.hp3_msv {
        parts.push(format!("Cristallin Hp(3) {} mSv", msv(Some(v))));
    }
    if let (Some(o), Some(v)) = (r.organ, r.h_msv) {
        parts.push(format!("H {} {} mSv", o.label(), msv(Some(v))));
    }
    if let Some(v) = r.radon_bqhm3 {
        parts.push(format!("Exposition {v} Bq·h·m⁻³"));
    }
    if let Some(s) = &r.siret {
        parts.push(format!("SIRET {s}"));
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" ; ")
    }
}

fn organs() -> Vec<(String, String)> {
    let mut all = vec![(String::new(), "—".to_owned())];
    all.extend(
        Organ::ALL
            .into_iter()
            .map(|o| (o.as_str().to_owned(), o.label().to_owned())),
    );
    all
}

fn msv(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}").replace('.', ","))
        .unwrap_or_else(|| "—".into())
}

fn rolling_box(r: &RollingDose) -> Markup {
    html! {
        div.rolling.rolling-over[r.exceeds_limit] role=[r.exceeds_limit.then_some("alert")] {
            p {
                "Dose efficace sur 12 mois glissants, du " (french_date(r.from)) " au " (french_date(r.to)) " : "
                strong { (msv(Some(r.effective_msv))) " mSv" }
                " (limite " (msv(Some(r.limit_msv))) " mSv, " (r.records) " résultat(s))."
            }
            @if r.exceeds_limit {
                p { strong { "Limite réglementaire de 20 mSv sur 12 mois consécutifs dépassée." } }
            }
        }
    }
}

/// The worker's name, when the role may see the worker (for the heading).
async fn name(state: &RegistryState, v: &Visitor, id: i64, w: i64) -> Option<String> {
    let view: WorkerView = v
        .try_ask(state, move |r, who| r.worker(who, id, w))
        .await
        .ok()?;
    let l = line(&view);
    Some(format!("{} {}", l.last_name, l.first_name))
}

struct DosesPage<'a> {
    v: &'a Visitor,
    id: i64,
    w: i64,
    /// The kind the list shows, every kind the visitor may read when `None`.
    kind: Option<DoseKind>,
    errors: Errors,
    form: Option<&'a Form>,
    status: StatusCode,
    done: bool,
}

async fn render_doses(state: &RegistryState, p: DosesPage<'_>) -> Answer {
    let DosesPage {
        v,
        id,
        w,
        kind,
        errors,
        form,
        status,
        done,
    } = p;
    let q = DoseQuery {
        kind,
        ..DoseQuery::default()
    };
    let records = v.ask(state, move |r, who| r.doses(who, id, w, &q)).await?;
    let worker = name(state, v, id, w)
        .await
        .unwrap_or_else(|| format!("Travailleur n° {w}"));
    let rolling = if v.may(id, DataKind::EffectiveDose, Action::Read) {
        Some(
            v.ask(state, move |r, who| r.effective_dose(who, id, w, None))
                .await?,
        )
    } else {
        None
    };
    let readable: Vec<DoseKind> = DoseKind::ALL
        .into_iter()
        .filter(|k| v.may(id, k.data_kind(), Action::Read))
        .collect();
    let writable: Vec<DoseKind> = DoseKind::ALL
        .into_iter()
        .filter(|k| v.may(id, k.data_kind(), Action::Write))
        .collect();
    let mut filter = vec![(
        String::new(),
        "Tous les types que vous pouvez consulter".to_owned(),
    )];
    filter.extend(
        readable
            .iter()
            .map(|k| (k.as_str().to_owned(), kind_label(*k).to_owned())),
    );
    let kinds: Vec<(String, String)> = writable
        .iter()
        .map(|k| (k.as_str().to_owned(), kind_label(*k).to_owned()))
        .collect();
    let value = |name: &str| {
        form.and_then(|f| f.get(name))
            .unwrap_or_default()
            .to_owned()
    };
    let base = format!("/etablissements/{id}/travailleurs/{w}");
    // Only the quantities of the kinds the visitor sends.
    let sends = |kinds: &[DoseKind]| kinds.iter().any(|k| writable.contains(k));
    let summary = errors.summary(&DOSE_FIELDS);
    let body = html! {
        p { a href={ "/etablissements/" (id) "/travailleurs?vue=doses" } { "← Liste des travailleurs" } }
        h1 { "Doses — " (worker) }
        @if done { div.notice.notice-success role="status" { p { "Résultat enregistré." } } }
        @if let Some(r) = &rolling { (rolling_box(r)) }
        form.searchbar method="get" action={ (base) "/doses" } {
            (select(&Label::new("kind", "Type de résultat"), &filter, kind.map_or("", DoseKind::as_str), &Errors::default()))
            div.actions.actions-inline { button.btn.btn-primary type="submit" { "Afficher" } }
        }
        div.table-wrap {
            table.table {
                caption { "Résultats (" (records.len()) ")" }
                thead { tr {
                    th scope="col" { "Type" } th scope="col" { "Période" }
                    th.num scope="col" { "Hp(10) mSv" } th.num scope="col" { "Hp(0,07) mSv" } th.num scope="col" { "E mSv" }
                    th scope="col" { "Autres grandeurs" }
                    th scope="col" { "Employeur" } th scope="col" { "Émetteur" } th scope="col" { "Enregistré le" }
                } }
                tbody {
                    @if records.is_empty() { tr { td.empty colspan="9" { "Aucun résultat." } } }
                    @for r in &records {
                        tr {
                            td {
                                "n° " (r.id) " — " (kind_label(r.kind))
                                @if r.replaces_id.is_some() {
                                    br;
                                    "Corrigé — "
                                    a href={ (base) "/doses/" (r.id) "/historique" } { "historique du résultat n° " (r.id) }
                                }
                            }
                            td { (french_date(r.period_start)) " – " (french_date(r.period_end)) }
                            td.num { (msv(r.hp10_msv)) }
                            td.num { (msv(r.hp007_msv)) }
                            td.num { (msv(r.e_msv)) }
                            td { (other_quantities(r)) }
                            // The physician's view holds the whole career, every employer.
                            td { @if r.establishment_id == id { "Cet établissement" } @else { "Autre employeur (n° " (r.establishment_id) ")" } }
                            td { (r.sender.label()) " (" (r.source) ")" }
                            td { (r.recorded_at) }
                        }
                    }
                }
            }
        }
        @if !kinds.is_empty() {
            form.form method="post" action={ (base) "/doses" } novalidate {
                input type="hidden" name="csrf" value=(v.csrf());
                fieldset.fieldset {
                    legend { "Transmettre un résultat" }
                    div.form-grid {
                        div {
                            (select(&Label::new("kind", "Type de résultat").required(), &kinds, &value("kind"), &errors))
                            (text_input(&Label::new("period_start", "Début de la période").required().hint("jj/mm/aaaa"), &value("period_start"), &errors, None))
                            (text_input(&Label::new("period_end", "Fin de la période").required().hint("jj/mm/aaaa"), &value("period_end"), &errors, None))
                        }
                        div {
                            @if sends(&[DoseKind::Passive, DoseKind::Operational]) {
                                (text_input(&Label::new("hp10_msv", "Hp(10) en mSv").hint("dosimétrie opérationnelle ou passive"), &value("hp10_msv"), &errors, None))
                                (text_input(&Label::new("hp007_msv", "Hp(0,07) en mSv").hint("dosimétrie opérationnelle ou passive"), &value("hp007_msv"), &errors, None))
                            }
                            @if sends(&[DoseKind::Internal, DoseKind::Effective, DoseKind::Radon, DoseKind::Aircrew]) {
                                (text_input(&Label::new("e_msv", "E en mSv").hint("exposition interne, dose efficace, radon, personnel navigant"), &value("e_msv"), &errors, None))
                            }
                            @if sends(&[DoseKind::Passive]) {
                                (text_input(&Label::new("extremity_msv", "Hp(0,07) extrémités en mSv").hint("dosimétrie passive"), &value("extremity_msv"), &errors, None))
                                (text_input(&Label::new("hp3_msv", "Hp(3) cristallin en mSv").hint("dosimétrie passive"), &value("hp3_msv"), &errors, None))
                            }
                        }
                        div {
                            @if sends(&[DoseKind::Equivalent]) {
                                (select(&Label::new("organ", "Organe").hint("dose équivalente"), &organs(), &value("organ"), &errors))
                                (text_input(&Label::new("h_msv", "Dose équivalente H en mSv").hint("dose équivalente"), &value("h_msv"), &errors, None))
                            }
                            @if sends(&[DoseKind::Radon]) {
                                (text_input(&Label::new("radon_bqhm3", "Exposition au radon en Bq·h·m⁻³").hint("radon"), &value("radon_bqhm3"), &errors, None))
                            }
                            (text_input(&Label::new("siret", "SIRET de l'établissement concerné").hint("14 chiffres, facultatif"), &value("siret"), &errors, None))
                            (text_input(&Label::new("replaces", "Numéro du résultat corrigé").hint("seulement pour une correction"), &value("replaces"), &errors, None))
                        }
                    }
                    div.actions.actions-inline { button.btn.btn-primary type="submit" { "Enregistrer le résultat" } }
                }
            }
        }
    };
    Ok(Page::new(format!("Doses — {worker}"), Some(v), body)
        .summary(summary)
        .status(status)
        .into_response())
}

/// `GET /etablissements/{id}/travailleurs/{w}/doses?kind=`.
pub(crate) async fn page(
    State(state): State<RegistryState>,
    Visit { v, id, target: w }: Visit<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let kind = query.get("kind").and_then(|k| dose_kind(k));
    render_doses(
        &state,
        DosesPage {
            v: &v,
            id,
            w,
            kind,
            errors: Errors::default(),
            form: None,
            status: StatusCode::OK,
            done: query.contains_key("fait"),
        },
    )
    .await
}

/// `POST /etablissements/{id}/travailleurs/{w}/doses`: records a result.
pub(crate) async fn submit(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, target: w }, form): Posted<i64>,
) -> Answer {
    let mut errors = Errors::default();
    let kind = form.get("kind").and_then(dose_kind);
    if let Some(kind) = kind {
        let input = DoseInput {
            kind,
            period_start: form.text("period_start").unwrap_or_default(),
            period_end: form.text("period_end").unwrap_or_default(),
            hp10_msv: decimal(form.text("hp10_msv")),
            hp007_msv: decimal(form.text("hp007_msv")),
            e_msv: decimal(form.text("e_msv")),
            extremity_msv: decimal(form.text("extremity_msv")),
            hp3_msv: decimal(form.text("hp3_msv")),
            organ: form.get("organ").and_then(Organ::from_form),
            h_msv: decimal(form.text("h_msv")),
            radon_bqhm3: decimal(form.text("radon_bqhm3")),
            siret: form.text("siret"),
            replaces: None,
        };
        let replaces = form.text("replaces");
        let input = match replaces.as_deref().map(str::parse::<i64>) {
            None => input,
            Some(Ok(n)) => DoseInput {
                replaces: Some(n),
                ..input
            },
            Some(Err(_)) => DoseInput {
                replaces: Some(0),
                ..input
            },
        };
        let input = crate::web::api::with_establishment_siret(&state, id, input).await;
        let recorded = v
            .try_ask(&state, move |r, who| {
                r.record_dose(who, id, &WorkerRef::Id(w), &input)
            })
            .await;
        match saved(&v, recorded, (id, w), "doses")? {
            ControlFlow::Break(back) => return Ok(back),
            ControlFlow::Continue(fields) => errors = fields,
        }
    } else {
        errors.add("kind", "Choisissez le type de résultat.");
    }
    render_doses(
        &state,
        DosesPage {
            v: &v,
            id,
            w,
            kind: None,
            errors,
            form: Some(&form),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            done: false,
        },
    )
    .await
}

/// `GET /etablissements/{id}/travailleurs/{w}/doses/{dose}/historique`: the chain of
/// corrections of a result, the current one first.
pub(crate) async fn history(
    State(state): State<RegistryState>,
    Visit {
        v,
        id,
        target: (w, dose),
    }: Visit<(i64, i64)>,
) -> Answer {
    let chain = v
        .ask(&state, move |r, who| r.dose_history(who, id, w, dose))
        .await?;
    let worker = name(&state, &v, id, w)
        .await
        .unwrap_or_else(|| format!("Travailleur n° {w}"));
    let title = format!("Historique du résultat n° {dose} — {worker}");
    let body = html! {
        p { a href={ "/etablissements/" (id) "/travailleurs/" (w) "/doses" } { "← Doses du travailleur" } }
        h1 { (title) }
        p { "Un résultat n'est jamais modifié : une correction est un nouveau résultat qui remplace le précédent. Seul le résultat en vigueur compte dans les cumuls et les limites." }
        div.table-wrap {
            table.table {
                caption { "Résultats de la chaîne de corrections, du plus récent au plus ancien (" (chain.len()) ")" }
                thead { tr {
                    th scope="col" { "Résultat" } th scope="col" { "État" } th scope="col" { "Période" }
                    th.num scope="col" { "Hp(10) mSv" } th.num scope="col" { "Hp(0,07) mSv" } th.num scope="col" { "E mSv" }
                    th scope="col" { "Autres grandeurs" } th scope="col" { "Émetteur" } th scope="col" { "Enregistré le" }
                } }
                tbody {
                    @for r in &chain {
                        tr {
                            th scope="row" { "n° " (r.id) " — " (kind_label(r.kind)) }
                            td {
                                @match r.replaced_by {
                                    None => "En vigueur",
                                    Some(by) => { "Remplacé par le n° " (by) },
                                }
                            }
                            td { (french_date(r.period_start)) " – " (french_date(r.period_end)) }
                            td.num { (msv(r.hp10_msv)) }
                            td.num { (msv(r.hp007_msv)) }
                            td.num { (msv(r.e_msv)) }
                            td { (other_quantities(r)) }
                            td { (r.sender.label()) " (" (r.source) ")" }
                            td { (r.recorded_at) }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::new(title, Some(&v), body).into_response())
}

/// `POST /etablissements/{id}/travailleurs/{w}/grossesse`: the physician declares a pregnancy.
pub(crate) async fn pregnancy_submit(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, target: w }, form): Posted<i64>,
) -> Answer {
    let input = PregnancyInput {
        declared_on: form.text("declared_on").unwrap_or_default(),
        ends_on: form.text("ends_on").unwrap_or_default(),
    };
    let declared = v
        .try_ask(&state, move |r, who| {
            r.declare_pregnancy(who, id, w, &input)
        })
        .await;
    let errors = match saved(&v, declared, (id, w), "carte")? {
        ControlFlow::Break(back) => return Ok(back),
        ControlFlow::Continue(fields) => fields,
    };
    let card = read_card(&state, &v, id, w).await?;
    Ok(render_card(CardPage {
        v: &v,
        id,
        w,
        card,
        errors,
        form: Some(&form),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        done: false,
    }))
}

/// What the save of a form of worker `w`'s `page` gave: `Break` with the way back to the page
/// and its notice when saved, `Continue` with the service's field errors to show on the form
/// again, or its refusal as a page.
fn saved<T>(
    v: &Visitor,
    outcome: Result<T, Refusal>,
    (id, w): (i64, i64),
    page: &str,
) -> Result<ControlFlow<Response, Errors>, Fail> {
    match outcome {
        Ok(_) => Ok(ControlFlow::Break(redirect(&format!(
            "/etablissements/{id}/travailleurs/{w}/{page}?fait=1"
        )))),
        Err(Refusal::Registry(RegistryError::Invalid(fields))) => {
            Ok(ControlFlow::Continue(Errors::new(fields)))
        }
        Err(r) => Err(refused(v, r)),
    }
}

fn fitness_value(f: Option<Fitness>) -> &'static str {
    match f {
        None => "",
        Some(Fitness::Fit) => "fit",
        Some(Fitness::FitWithRestrictions) => "fit_with_restrictions",
        Some(Fitness::Unfit) => "unfit",
    }
}

struct CardPage<'a> {
    v: &'a Visitor,
    id: i64,
    w: i64,
    card: MedicalCard,
    errors: Errors,
    form: Option<&'a Form>,
    status: StatusCode,
    done: bool,
}

fn render_card(p: CardPage<'_>) -> Response {
    let CardPage {
        v,
        id,
        w,
        card,
        errors,
        form,
        status,
        done,
    } = p;
    let follow = &card.follow_up;
    let view = WorkerView::Dosimetry(card.worker.clone());
    let l = line(&view);
    let edit = v.may(id, DataKind::MedicalCard, Action::Write);
    let stored = |d: Option<time::Date>| d.map(french_date).unwrap_or_default();
    let value = |name: &str, current: String| match form {
        Some(f) => f.get(name).unwrap_or_default().to_owned(),
        None => current,
    };
    let fitness = options_fitness();
    let summary = errors.summary(&CARD_FIELDS);
    let body = html! {
        p { a href={ "/etablissements/" (id) "/travailleurs?vue=carte" } { "← Liste des travailleurs" } }
        h1 { "Carte de suivi médical — " (l.last_name) " " (l.first_name) }
        @if done { div.notice.notice-success role="status" { p { "Carte enregistrée." } } }
        h2 { "Identité" }
        (facts(&l))
        h2 { "Suivi médical" }
        dl.facts {
            dt { "Dernière visite" } dd { (follow.last_visit.map(french_date).unwrap_or_else(|| "—".into())) }
            dt { "Aptitude" } dd { (follow.fitness.map_or("—", Fitness::label)) }
            dt { "Prochaine visite" } dd { (follow.next_visit.map(french_date).unwrap_or_else(|| "—".into())) }
            dt { "Notes" } dd { (follow.notes.as_deref().unwrap_or("—")) }
            @if let (Some(by), Some(at)) = (&follow.updated_by, &follow.updated_at) {
                dt { "Mise à jour" } dd { (at) " par " (by) }
            }
        }
        @if let Some(d) = &card.doses {
            h2 { "Doses sur 12 mois" }
            (rolling_box(&d.rolling))
            div.table-wrap {
                table.table {
                    thead { tr { th scope="col" { "Type" } th.num scope="col" { "Somme (mSv)" } } }
                    tbody {
                        tr { td { "Dosimétrie passive Hp(10)" } td.num { (msv(Some(d.passive_hp10_msv))) } }
                        tr { td { "Dosimétrie passive Hp(0,07)" } td.num { (msv(Some(d.passive_hp007_msv))) } }
                        tr { td { "Dosimétrie opérationnelle Hp(10)" } td.num { (msv(Some(d.operational_hp10_msv))) } }
                        tr { td { "Exposition interne E" } td.num { (msv(Some(d.internal_e_msv))) } }
                        tr { td { "Dose efficace E (déterminée par le médecin)" } td.num { (msv(Some(d.effective_e_msv))) } }
                        tr { td { "Peau : Hp(0,07) passive et doses équivalentes" } td.num { (msv(Some(d.skin_msv))) } }
                        tr { td { "Extrémités : Hp(0,07) passive et doses équivalentes" } td.num { (msv(Some(d.extremities_msv))) } }
                        tr { td { "Cristallin : Hp(3) passive et doses équivalentes" } td.num { (msv(Some(d.lens_msv))) } }
                    }
                }
            }
            p { a href={ "/etablissements/" (id) "/travailleurs/" (w) "/doses" } { "Tous les résultats de dose" } }
        }
        @if edit {
            form.form method="post" action={ "/etablissements/" (id) "/travailleurs/" (w) "/carte" } novalidate {
                input type="hidden" name="csrf" value=(v.csrf());
                fieldset.fieldset {
                    legend { "Mettre à jour la carte" }
                    div.form-grid {
                        div {
                            (text_input(&Label::new("last_visit", "Date de la dernière visite").hint("jj/mm/aaaa"), &value("last_visit", stored(follow.last_visit)), &errors, None))
                            (select(&Label::new("fitness", "Aptitude"), &fitness, &value("fitness", fitness_value(follow.fitness).to_owned()), &errors))
                            (text_input(&Label::new("next_visit", "Prochaine visite").hint("jj/mm/aaaa"), &value("next_visit", stored(follow.next_visit)), &errors, None))
                        }
                        div {
                            (labelled(&Label::new("notes", "Notes"), &errors, html! {
                                textarea.input #f-notes name="notes" rows="6" { (value("notes", follow.notes.clone().unwrap_or_default())) }
                            }))
                        }
                    }
                    div.actions.actions-inline { button.btn.btn-primary type="submit" { "Enregistrer la carte" } }
                }
            }
            h2 { "Grossesse déclarée" }
            @if card.pregnancies.is_empty() {
                p { "Aucune grossesse déclarée." }
            } @else {
                ul { @for p in &card.pregnancies {
                    li { "Déclarée le " (french_date(p.declared_on)) ", fin déclarée le " (french_date(p.ends_on)) }
                } }
            }
            form.form method="post" action={ "/etablissements/" (id) "/travailleurs/" (w) "/grossesse" } novalidate {
                input type="hidden" name="csrf" value=(v.csrf());
                fieldset.fieldset {
                    legend { "Déclarer une grossesse (dose à l'enfant à naître limitée à 1 mSv)" }
                    div.form-grid {
                        div { (text_input(&Label::new("declared_on", "Date de la déclaration").required().hint("jj/mm/aaaa"), &value("declared_on", String::new()), &errors, None)) }
                        div { (text_input(&Label::new("ends_on", "Fin déclarée de la grossesse").required().hint("jj/mm/aaaa"), &value("ends_on", String::new()), &errors, None)) }
                    }
                    div.actions.actions-inline { button.btn.btn-primary type="submit" { "Enregistrer la déclaration" } }
                }
            }
        }
    };
    Page::new(
        format!("Carte de suivi médical — {} {}", l.last_name, l.first_name),
        Some(v),
        body,
    )
    .summary(summary)
    .status(status)
    .into_response()
}

fn options_fitness() -> Vec<(String, String)> {
    [
        ("", "—"),
        ("fit", "Apte"),
        ("fit_with_restrictions", "Apte avec restrictions"),
        ("unfit", "Inapte"),
    ]
    .iter()
    .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
    .collect()
}

async fn read_card(
    state: &RegistryState,
    v: &Visitor,
    id: i64,
    w: i64,
) -> Result<MedicalCard, Fail> {
    v.ask(state, move |r, who| r.medical_card(who, id, w, None))
        .await
}

/// `GET /etablissements/{id}/travailleurs/{w}/carte`.
pub(crate) async fn card(
    State(state): State<RegistryState>,
    Visit { v, id, target: w }: Visit<i64>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let card = read_card(&state, &v, id, w).await?;
    Ok(render_card(CardPage {
        v: &v,
        id,
        w,
        card,
        errors: Errors::default(),
        form: None,
        status: StatusCode::OK,
        done: query.contains_key("fait"),
    }))
}

/// `POST /etablissements/{id}/travailleurs/{w}/carte`: the physician's part of the card.
pub(crate) async fn card_submit(
    State(state): State<RegistryState>,
    Posted(Visit { v, id, target: w }, form): Posted<i64>,
) -> Answer {
    let mut errors = Errors::default();
    let fitness = match form.get("fitness").unwrap_or_default() {
        "" => None,
        "fit" => Some(Fitness::Fit),
        "fit_with_restrictions" => Some(Fitness::FitWithRestrictions),
        "unfit" => Some(Fitness::Unfit),
        _ => {
            errors.add("fitness", "Choisissez l'aptitude dans la liste.");
            None
        }
    };
    if errors.get("fitness").is_none() {
        let input = CardInput {
            last_visit: form.text("last_visit"),
            fitness,
            next_visit: form.text("next_visit"),
            notes: form.get("notes").map(str::to_owned),
        };
        let updated = v
            .try_ask(&state, move |r, who| {
                r.update_medical_card(who, id, w, &input)
            })
            .await;
        match saved(&v, updated, (id, w), "carte")? {
            ControlFlow::Break(back) => return Ok(back),
            ControlFlow::Continue(fields) => errors = fields,
        }
    }
    let card = read_card(&state, &v, id, w).await?;
    Ok(render_card(CardPage {
        v: &v,
        id,
        w,
        card,
        errors,
        form: Some(&form),
        status: StatusCode::UNPROCESSABLE_ENTITY,
        done: false,
    }))
}
