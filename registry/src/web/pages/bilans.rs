//! *Bilans* (issue 15 §4): the menu's entry lists the establishments where the person is PCR or
//! physician; an establishment's bilan shows the distribution of its workers' 12-month
//! effective doses in the national report's bands, as a chart drawn on the server (SVG, no
//! script, with its text alternative) beside its table, and offers it as CSV.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use time::Date;

use super::cartes::establishments;
use super::layout::{text_input, Errors, Label, Page};
use super::workers::french_date;
use super::{establishment_of, name_of, Answer, Visit, Visitor};
use crate::web::RegistryState;
use crate::{Action, Band, BandCounts, Bilan, DataKind};

/// Whether the matrix gives the person the bilan of establishment `id`.
fn offered(v: &Visitor, id: i64) -> bool {
    v.may(id, DataKind::EffectiveDose, Action::Read)
}

/// `GET /bilans`: the establishments whose bilan the person may read.
pub(crate) async fn menu(State(state): State<RegistryState>, v: Visitor) -> Answer {
    let list = establishments(&state, &v).await?;
    let list: Vec<_> = list.into_iter().filter(|e| offered(&v, e.id)).collect();
    let body = html! {
        h1 { "Bilans" }
        p.prose { "La répartition des travailleurs de l'établissement par dose efficace reçue sur 12 mois glissants, tous employeurs confondus, selon les classes du bilan national annuel." }
        @if list.is_empty() {
            div.notice.notice-warning { p { "Les bilans sont réservés aux personnes compétentes en radioprotection et aux médecins du travail : vous ne l'êtes dans aucun de vos établissements." } }
        } @else {
            ul.links {
                @for e in &list {
                    li { a href={ "/etablissements/" (e.id) "/bilans" } { (name_of(e)) " — protocole n° " (e.number) } }
                }
            }
        }
    };
    Ok(Page::new("Bilans", Some(&v), body).into_response())
}

const BAR_WIDTH: u32 = 56;
const STEP: u32 = 92;
const LEFT: u32 = 24;
const BAR_MAX: u32 = 96;
const PANEL: u32 = 168;
const WIDTH: u32 = LEFT * 2 + STEP * 5;

/// The chart of `groups`, one panel per group, one labelled bar per band: every figure is also
/// written as text on the chart, and the whole is described in words for assistive
/// technologies (`role="img"`, `<title>`, `<desc>`); the table beside it has the same figures.
fn chart(id: &str, title: &str, groups: &[BandCounts]) -> Markup {
    let max = groups
        .iter()
        .flat_map(|g| g.counts)
        .max()
        .unwrap_or(0)
        .max(1);
    let height = PANEL
        * u32::try_from(groups.len())
            .unwrap_or(u32::MAX / PANEL)
            .max(1);
    let description: Vec<String> = groups
        .iter()
        .map(|g| {
            let bands: Vec<String> = Band::ALL
                .iter()
                .zip(g.counts)
                .map(|(b, n)| format!("{} : {n}", b.label()))
                .collect();
            format!("{} — {}", g.group, bands.join(", "))
        })
        .collect();
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img"
            aria-labelledby={ (id) "-title " (id) "-desc" }
            viewBox={ "0 0 " (WIDTH) " " (height) } width=(WIDTH) height=(height) {
            title id={ (id) "-title" } { (title) }
            desc id={ (id) "-desc" } { "Nombre de travailleurs par classe de dose. " (description.join(". ")) "." }
            @for (i, g) in groups.iter().enumerate() {
                @let top = PANEL * u32::try_from(i).unwrap_or(0);
                @let base = top + 24 + 18 + BAR_MAX;
                text x=(LEFT) y={ (top + 18) } font-size="15" font-weight="bold" fill="#161616" { (g.group) " (" (g.total()) ")" }
                line x1=(LEFT) y1=(base) x2={ (WIDTH - LEFT) } y2=(base) stroke="#3a3a3a" stroke-width="1" {}
                @for (j, (band, n)) in Band::ALL.iter().zip(g.counts).enumerate() {
                    @let x = LEFT + 18 + STEP * u32::try_from(j).unwrap_or(0);
                    @let h = u32::try_from(u64::from(BAR_MAX) * n / max).unwrap_or(BAR_MAX);
                    rect x=(x) y={ (base - h) } width=(BAR_WIDTH) height=(h) fill="#000091" {}
                    text x={ (x + BAR_WIDTH / 2) } y={ (base - h - 4) } font-size="14" text-anchor="middle" fill="#161616" { (n) }
                    text x={ (x + BAR_WIDTH / 2) } y={ (base + 18) } font-size="13" text-anchor="middle" fill="#161616" { (band.short()) " mSv" }
                }
            }
        }
    }
}

/// The table of `groups`, the chart's figures.
fn table(caption: &str, first: &str, groups: &[BandCounts]) -> Markup {
    html! {
        div.table-wrap {
            table.table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { (first) }
                    @for b in Band::ALL { th.num scope="col" { (b.label()) } }
                    th.num scope="col" { "Total" }
                } }
                tbody {
                    @for g in groups {
                        tr {
                            th scope="row" { (g.group) }
                            @for n in g.counts { td.num { (n) } }
                            td.num { (g.total()) }
                        }
                    }
                }
            }
        }
    }
}

/// One section: heading, chart, table.
fn section(id: &str, heading: &str, first: &str, groups: &[BandCounts], b: &Bilan) -> Markup {
    let period = format!("du {} au {}", french_date(b.from), french_date(b.to));
    html! {
        section aria-labelledby={ (id) "-h" } {
            h2 id={ (id) "-h" } { (heading) }
            (chart(id, &format!("{heading} : travailleurs par classe de dose efficace sur 12 mois, {period}"), groups))
            (table(&format!("{heading} : nombre de travailleurs par classe de dose efficace sur 12 mois, {period}"), first, groups))
        }
    }
}

/// The last day of the 12 months the query names (`au`, `jj/mm/aaaa`): `Ok(None)` for today,
/// `Err(())` when it is not a date.
fn last_day(query: &HashMap<String, String>) -> Result<Option<Date>, ()> {
    match query.get("au").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(text) => crate::date::parse(text).map(Some).map_err(|_| ()),
    }
}

/// `GET /etablissements/{id}/bilans?au=`.
pub(crate) async fn page(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let e = establishment_of(&state, &v, id).await?;
    let asked = last_day(&query);
    let on = asked.unwrap_or(None);
    let mut errors = Errors::default();
    if asked.is_err() {
        errors.add("au", "La date doit s'écrire jj/mm/aaaa : le bilan ci-dessous porte sur les 12 mois jusqu'à aujourd'hui.");
    }
    let b = v.ask(&state, move |r, who| r.bilan(who, id, on)).await?;
    let shown = query.get("au").cloned().unwrap_or_default();
    let csv_link = match on {
        Some(d) => format!("/etablissements/{id}/bilans.csv?au={}", french_date(d)),
        None => format!("/etablissements/{id}/bilans.csv"),
    };
    let all = std::slice::from_ref(&b.all);
    let body = html! {
        p { a href="/bilans" { "← Bilans" } }
        h1 { "Bilan dosimétrique" }
        p.lead { (name_of(&e)) }
        p.prose {
            "Dose efficace reçue par chaque travailleur de l'établissement sur les 12 mois du "
            (french_date(b.from)) " au " (french_date(b.to))
            ", tous employeurs confondus (dosimétrie passive Hp(10), expositions internes, radon, personnel navigant, doses efficaces déterminées par le médecin ; les résultats corrigés comptent pour leur correction). Classes du bilan national annuel ; 20 mSv, la limite, est dans la classe « de 6 à 20 mSv »."
        }
        form.searchbar method="get" action={ "/etablissements/" (id) "/bilans" } {
            (text_input(&Label::new("au", "Dernier jour des 12 mois").hint("jj/mm/aaaa ; aujourd'hui si vide"), &shown, &errors, None))
            div.actions.actions-inline { button.btn.btn-primary type="submit" { "Afficher" } }
        }
        p { a.btn.btn-secondary href=(csv_link) download { "Télécharger le bilan (CSV)" } }
        (section("ensemble", "Ensemble des travailleurs", "Travailleurs", all, &b))
        (section("categorie", "Par catégorie", "Catégorie", &b.by_category, &b))
        (section("metier", "Par métier", "Métier", &b.by_job, &b))
    };
    let summary = errors.summary(&["au"]);
    Ok(Page::new(
        format!("Bilan dosimétrique — {}", name_of(&e)),
        Some(&v),
        body,
    )
    .summary(summary)
    .into_response())
}

/// `GET /etablissements/{id}/bilans.csv?au=`.
pub(crate) async fn csv(
    State(state): State<RegistryState>,
    Visit { v, id, .. }: Visit,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let on = last_day(&query).unwrap_or(None);
    let b = v.ask(&state, move |r, who| r.bilan(who, id, on)).await?;
    let mut out = Vec::new();
    if let Err(e) = b.write_csv(&mut out) {
        return Err(super::refused(
            &v,
            crate::web::caller::Refusal::Internal(Box::new(e)),
        ));
    }
    Ok(csv_response(id, out))
}

fn csv_response(id: i64, body: Vec<u8>) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"bilan-{id}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
