//! National statistics, in the form of the annual report (`registry::statistics`): workers
//! followed per year, the year's effective doses by band, by sector and by métier. Each chart
//! is an SVG drawn here (no script), named by its title and described by a sentence for
//! assistive technologies, with its table beside it; the CSV holds the same tables. Read-only
//! and aggregated, without a name: every operator sees it.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use registry::statistics::{
    annual_report, followed_per_year, group_label, msv, to_csv, AnnualReport, BandCounts, DoseBand,
    GroupRow, YearFollowed,
};
use serde::Deserialize;

use super::supervision::read;
use super::Operator;
use super::{page, ConsoleState};

/// `?annee=`.
#[derive(Debug, Deserialize)]
pub(super) struct YearQuery {
    #[serde(default)]
    annee: Option<String>,
}

/// At most this many sectors or métiers drawn (all are in the table and the CSV).
const CHART_ROWS: usize = 15;

/// The year asked for, or the last one with results, or the current one.
fn year_of(query: &YearQuery, years: &[YearFollowed], now: time::OffsetDateTime) -> i32 {
    query
        .annee
        .as_deref()
        .and_then(|y| y.trim().parse::<i32>().ok())
        .filter(|y| (1900..=2999).contains(y))
        .or_else(|| years.last().map(|y| y.year))
        .unwrap_or(now.year())
}

async fn load(
    s: &ConsoleState,
    query: &YearQuery,
) -> Result<(Vec<YearFollowed>, AnnualReport), Response> {
    let years = read(s, |conn| followed_per_year(conn).map_err(|e| e.to_string())).await?;
    let year = year_of(query, &years, s.clock.now());
    let report = read(s, move |conn| {
        annual_report(conn, year).map_err(|e| e.to_string())
    })
    .await?;
    Ok((years, report))
}

/// `/statistiques?annee=`.
pub(super) async fn statistics(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Query(query): Query<YearQuery>,
) -> Response {
    let (years, report) = match load(&s, &query).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        Some(&op),
        "Statistiques nationales",
        render(&years, &report),
    )
}

/// `/statistiques/export.csv?annee=`: the same tables, for a spreadsheet.
pub(super) async fn export(
    State(s): State<ConsoleState>,
    Extension(_op): Extension<Operator>,
    Query(query): Query<YearQuery>,
) -> Response {
    let (years, report) = match load(&s, &query).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"siseri-statistiques-{}.csv\"",
                    report.national.year
                ),
            ),
        ],
        to_csv(&report, &years),
    )
        .into_response()
}

fn bands_of(bands: &BandCounts) -> Vec<(String, u64)> {
    DoseBand::ALL
        .iter()
        .map(|b| (b.label().to_owned(), bands.get(*b)))
        .collect()
}

fn groups_of(rows: &[GroupRow]) -> Vec<(String, u64)> {
    rows.iter()
        .take(CHART_ROWS)
        .map(|r| (group_label(r.name.as_deref()).to_owned(), r.followed))
        .collect()
}

/// The page's body.
pub(super) fn render(years: &[YearFollowed], report: &AnnualReport) -> Markup {
    let n = &report.national;
    let year = n.year;
    let per_year: Vec<(String, u64)> = years
        .iter()
        .map(|y| (y.year.to_string(), y.followed))
        .collect();
    html! {
        h1 { "Statistiques nationales " (year) }
        p { "Sous la forme du bilan annuel de l'exposition des travailleurs aux rayonnements "
            "ionisants : travailleurs suivis (au moins un résultat de dosimétrie passive, "
            "d'exposition interne ou de dose efficace dans l'année), répartis selon leur dose "
            "efficace de l'année civile (somme de tous leurs employeurs ; la dosimétrie "
            "opérationnelle n'est pas comptée). Par secteur et par métier, un travailleur "
            "employé dans plusieurs secteurs est compté dans chacun, avec la dose qu'il y a reçue." }
        form.inline-form method="get" action="/statistiques" {
            label for="annee" { "Année" }
            select.select id="annee" name="annee" {
                @if !years.iter().any(|y| y.year == year) {
                    option value=(year) selected { (year) }
                }
                @for y in years {
                    @if y.year == year {
                        option value=(y.year) selected { (y.year) }
                    } @else {
                        option value=(y.year) { (y.year) }
                    }
                }
            }
            button.btn.btn-primary type="submit" { "Afficher" }
        }
        p { a href={ "/statistiques/export.csv?annee=" (year) } download {
            "Télécharger les tableaux de " (year) " (CSV)" } }

        h2 { "Travailleurs suivis par année" }
        @if years.is_empty() {
            p { "Le registre ne contient encore aucun résultat." }
        } @else {
            (chart("annees", "Travailleurs suivis par année", &per_year))
            table.table {
                caption { "Travailleurs suivis et dose collective, par année" }
                thead { tr {
                    th scope="col" { "Année" }
                    th scope="col" { "Travailleurs suivis" }
                    th scope="col" { "Dose collective (mSv)" }
                } }
                tbody {
                    @for y in years {
                        tr {
                            th scope="row" { (y.year) }
                            td.num { (y.followed) }
                            td.num { (msv(y.collective_usv)) }
                        }
                    }
                }
            }
        }

        h2 { "Répartition par classe de dose en " (year) }
        p { (n.followed) " travailleur(s) suivi(s), dose collective " (msv(n.collective_usv)) " mSv." }
        (chart("classes", &format!("Travailleurs par classe de dose efficace, {year}"), &bands_of(&n.bands)))
        (band_table(&format!("Travailleurs par classe de dose efficace, {year}"), "Ensemble", &[GroupRow {
            name: Some("France entière".to_owned()),
            followed: n.followed,
            bands: n.bands,
            collective_usv: n.collective_usv,
        }]))

        h2 { "Par secteur d'activité en " (year) }
        @if report.by_sector.is_empty() {
            p { "Aucun résultat cette année." }
        } @else {
            (chart("secteurs", &format!("Travailleurs suivis par secteur, {year}"), &groups_of(&report.by_sector)))
            (band_table(&format!("Travailleurs par secteur et classe de dose, {year}"), "Secteur", &report.by_sector))
        }

        h2 { "Par métier en " (year) }
        @if report.by_job.is_empty() {
            p { "Aucun résultat cette année." }
        } @else {
            (chart("metiers", &format!("Travailleurs suivis par métier, {year}"), &groups_of(&report.by_job)))
            (band_table(&format!("Travailleurs par métier et classe de dose, {year}"), "Métier", &report.by_job))
        }
    }
}

/// A table of groups by dose band.
fn band_table(caption: &str, first: &str, rows: &[GroupRow]) -> Markup {
    html! {
        table.table {
            caption { (caption) }
            thead { tr {
                th scope="col" { (first) }
                th scope="col" { "Suivis" }
                @for b in DoseBand::ALL { th scope="col" { (b.label()) } }
                th scope="col" { "Dose collective (mSv)" }
            } }
            tbody {
                @for r in rows {
                    tr {
                        th scope="row" { (group_label(r.name.as_deref())) }
                        td.num { (r.followed) }
                        @for b in DoseBand::ALL { td.num { (r.bands.get(b)) } }
                        td.num { (msv(r.collective_usv)) }
                    }
                }
            }
        }
    }
}

/// A horizontal bar chart, drawn on the server: an `img` for assistive technologies, named by
/// its title and described by the values in a sentence (the table that follows holds them
/// too). Labels longer than the margin are shortened in the drawing only.
pub(super) fn chart(id: &str, title: &str, rows: &[(String, u64)]) -> Markup {
    const LABEL_W: u64 = 260;
    const BAR_W: u64 = 380;
    const ROW_H: u64 = 26;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let height = ROW_H * rows.len() as u64 + 10;
    let width = LABEL_W + BAR_W + 70;
    let description = rows
        .iter()
        .map(|(label, v)| format!("{label} : {v}"))
        .collect::<Vec<_>>()
        .join(" ; ");
    let (title_id, desc_id) = (format!("{id}-titre"), format!("{id}-desc"));
    html! {
        svg.chart xmlns="http://www.w3.org/2000/svg" role="img"
            aria-labelledby={ (title_id) " " (desc_id) }
            viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height) {
            title id=(title_id) { (title) }
            desc id=(desc_id) { (description) "." }
            line.axis x1=(LABEL_W) y1="0" x2=(LABEL_W) y2=(height) {}
            @for (i, (label, value)) in rows.iter().enumerate() {
                @let y = ROW_H * i as u64 + 5;
                @let w = (BAR_W * value).div_ceil(max);
                @let shown: String = if label.chars().count() > 38 {
                    label.chars().take(37).chain(std::iter::once('…')).collect()
                } else {
                    label.clone()
                };
                text x=(LABEL_W - 6) y=(y + 16) text-anchor="end" aria-hidden="true" { (shown) }
                rect.bar x=(LABEL_W) y=(y) width=(w) height=(ROW_H - 6) {}
                text x=(LABEL_W + w + 6) y=(y + 16) aria-hidden="true" { (value) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_an_image_named_and_described_by_its_values() {
        let svg = chart(
            "classes",
            "Travailleurs par classe",
            &[("0 mSv".into(), 4), ("< 1 mSv".into(), 2)],
        )
        .into_string();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains(r#"role="img""#), "{svg}");
        assert!(
            svg.contains(r#"aria-labelledby="classes-titre classes-desc""#),
            "{svg}"
        );
        assert!(svg.contains("<title id=\"classes-titre\">Travailleurs par classe</title>"));
        assert!(svg.contains("0 mSv : 4 ; &lt; 1 mSv : 2."), "{svg}");
        // The longest bar fills the width, the other half of it.
        assert!(
            svg.contains(r#"width="380""#) && svg.contains(r#"width="190""#),
            "{svg}"
        );
        assert!(
            !svg.contains("style="),
            "the console's CSP refuses inline styles"
        );
    }
}
