//! Transmissions of results (issue 16) as the operators watch them: the files received, newest
//! first, with their counts; one transmission with its pending lines and its signed récépissé;
//! the lines still pending after the configured delay (the employer has not declared the
//! worker). The same `registry::Registry` functions as `siseri transmission list|show|pending`,
//! audited with the operator as actor. NIRs are masked there already; every operator reads it.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};
use registry::{PendingLine, RegistryError, TransmissionSummary};
use serde::Deserialize;

use super::Operator;
use super::{page, ConsoleState};

/// Transmissions listed at most.
const LISTED: u32 = 200;

/// `?jours=`: the age from which a pending line is listed.
#[derive(Debug, Deserialize)]
pub(super) struct PendingQuery {
    #[serde(default)]
    jours: Option<String>,
}

/// Days of waiting after which a pending line is shown, as `[transmissions] pending_days`
/// defaults it; `?jours=` changes it (0 to 3650).
const DEFAULT_DAYS: u32 = 30;

fn days(query: &PendingQuery) -> u32 {
    query
        .jours
        .as_deref()
        .and_then(|d| d.trim().parse::<u32>().ok())
        .filter(|d| *d <= 3650)
        .unwrap_or(DEFAULT_DAYS)
}

async fn call<T: Send + 'static>(
    s: &ConsoleState,
    f: impl FnOnce(&registry::Registry) -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, Result<RegistryError, Response>> {
    let registry = s.registry.clone();
    match web::blocking(move || f(&registry)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Ok(e)),
        Err(e) => Err(Err(super::internal(&e))),
    }
}

/// `/transmissions?jours=`: the files received and the lines still pending.
pub(super) async fn list(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Query(query): Query<PendingQuery>,
) -> Response {
    let days = days(&query);
    let actor = op.actor();
    let loaded = call(&s, move |r| {
        Ok((
            r.operator_transmissions(&actor, LISTED)?,
            r.operator_pending(&actor, days)?,
        ))
    })
    .await;
    let (transmissions, pending) = match loaded {
        Ok(v) => v,
        Err(Ok(e)) => return super::internal(&e),
        Err(Err(r)) => return r,
    };
    page(
        StatusCode::OK,
        Some(&op),
        "Transmissions de résultats",
        render_list(&transmissions, &pending, days),
    )
}

fn render_list(
    transmissions: &[TransmissionSummary],
    pending: &[PendingLine],
    days: u32,
) -> Markup {
    html! {
        h1 { "Transmissions de résultats" }
        p { "Les fichiers de résultats reçus des organismes de dosimétrie, des PCR et des médecins du "
            "travail, du plus récent au plus ancien (" (LISTED) " au plus), avec leur récépissé." }
        @if transmissions.is_empty() {
            p { "Aucune transmission reçue." }
        } @else {
            table.table {
                caption { "Transmissions reçues, de la plus récente à la plus ancienne" }
                thead { tr {
                    th scope="col" { "Récépissé" } th scope="col" { "Reçue le" }
                    th scope="col" { "Expéditeur" } th scope="col" { "Lignes" }
                    th scope="col" { "Acceptées" } th scope="col" { "En attente" }
                    th scope="col" { "Rejetées" }
                } }
                tbody {
                    @for t in transmissions {
                        tr {
                            td { a href={ "/transmissions/" (t.number) } { (t.number) } }
                            td { (t.received_at) }
                            td { (t.sender_subject) }
                            td { (t.lines) }
                            td { (t.accepted) }
                            td { (t.still_pending) " (" (t.pending) " à la réception)" }
                            td { (t.rejected) }
                        }
                    }
                }
            }
        }
        h2 { "Lignes en attente depuis " (days) " jours ou plus" }
        p { "Des résultats reçus pour un travailleur que l'employeur n'a pas encore déclaré : ils "
            "seront rattachés à sa déclaration. Au-delà du délai, l'employeur est à relancer." }
        form method="get" action="/transmissions" {
            label for="jours" { "Attente d'au moins (jours)" }
            " "
            input.input #jours name="jours" type="number" min="0" max="3650" value=(days);
            " "
            button.btn.btn-primary type="submit" { "Afficher" }
        }
        (pending_table(pending, "Lignes en attente, des plus anciennes aux plus récentes (NIR masqués)"))
    }
}

fn pending_table(pending: &[PendingLine], caption: &str) -> Markup {
    html! {
        @if pending.is_empty() {
            p { "Aucune ligne en attente." }
        } @else {
            table.table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Transmission" } th scope="col" { "Ligne" }
                    th scope="col" { "Établissement" } th scope="col" { "NIR" }
                    th scope="col" { "Nature" } th scope="col" { "Période" }
                    th scope="col" { "Reçue le" } th scope="col" { "État" }
                } }
                tbody {
                    @for p in pending {
                        tr {
                            td { a href={ "/transmissions/" (p.transmission) } { (p.transmission) } }
                            td { (p.line) }
                            td { (p.establishment) }
                            td { (p.nir_masked) }
                            td { (p.kind) }
                            td { (p.period_start) " au " (p.period_end) }
                            td { (p.received_at) }
                            td {
                                (state_label(&p.state))
                                @if let Some(reason) = &p.reason { " : " (reason) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn state_label(state: &str) -> &'static str {
    match state {
        "pending" => "en attente",
        "attached" => "rattachée",
        "refused" => "refusée à la déclaration",
        _ => "inconnu",
    }
}

/// Récépissé numbers look like `RT-2026-000000042`: anything else is not looked up.
fn valid_number(number: &str) -> bool {
    (4..=32).contains(&number.len())
        && number.starts_with("RT-")
        && number[3..].bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

/// `/transmissions/{numero}`: one transmission, its pending lines, its récépissé.
pub(super) async fn show(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(number): Path<String>,
) -> Response {
    let loaded = load(&s, &op, number, |r, actor, number| {
        r.operator_transmission(actor, number)
    });
    let (summary, lines, document) = match loaded.await {
        Ok(v) => v,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        Some(&op),
        &format!("Transmission {}", summary.number),
        html! {
            h1 { "Transmission " (summary.number) }
            p { a href="/transmissions" { "Toutes les transmissions" } }
            dl {
                dt { "Reçue le" } dd { (summary.received_at) }
                dt { "Expéditeur" } dd { (summary.sender_subject) " (certificat n° " (summary.sender_serial) ")" }
                dt { "Format" } dd { (summary.format) }
                dt { "Empreinte SHA-256 du fichier" } dd { code { (summary.sha256) } }
                dt { "Lignes" } dd { (summary.lines) " : " (summary.accepted) " acceptée(s), "
                    (summary.pending) " en attente à la réception (" (summary.still_pending)
                    " encore), " (summary.rejected) " rejetée(s)" }
                dt { "Récépissé" } dd {
                    @if document.as_ref().is_some_and(|(_, der)| der.is_some()) {
                        a href={ "/transmissions/" (summary.number) "/recepisse.p7m" } {
                            "Télécharger le récépissé signé (CMS, " (summary.number) ".p7m)"
                        }
                        " — vérifiable par " code { "siseri recepisse verify" } " ou "
                        code { "openssl cms -verify" } "."
                    } @else {
                        "pas encore signé"
                    }
                }
            }
            h2 { "Lignes mises en attente" }
            (pending_table(&lines, "Lignes de cette transmission mises en attente (NIR masqués)"))
        },
    )
}

/// `/transmissions/{numero}/recepisse.p7m`: the signed récépissé, as its sender got it.
pub(super) async fn receipt(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(number): Path<String>,
) -> Response {
    // The récépissé alone: not the transmission's pending lines.
    let loaded = load(&s, &op, number.clone(), |r, actor, number| {
        r.operator_receipt(actor, number)
    });
    let der = match loaded.await {
        Ok(Some(der)) => der,
        Ok(None) => return not_found(&op),
        Err(r) => return r,
    };
    let disposition = format!("attachment; filename=\"{number}.p7m\"");
    let mut response = (StatusCode::OK, der).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pkcs7-mime"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// What `f` reads of transmission `number` for the operator, or the page to answer instead: a
/// number of the wrong shape or one no transmission bears is « Transmission inconnue ».
async fn load<T: Send + 'static>(
    s: &ConsoleState,
    op: &Operator,
    number: String,
    f: impl FnOnce(&registry::Registry, &str, &str) -> Result<T, RegistryError> + Send + 'static,
) -> Result<T, Response> {
    if !valid_number(&number) {
        return Err(not_found(op));
    }
    let actor = op.actor();
    match call(s, move |r| f(r, &actor, &number)).await {
        Ok(v) => Ok(v),
        Err(Ok(RegistryError::NotFound)) => Err(not_found(op)),
        Err(Ok(e)) => Err(super::internal(&e)),
        Err(Err(r)) => Err(r),
    }
}

fn not_found(op: &Operator) -> Response {
    page(
        StatusCode::NOT_FOUND,
        Some(op),
        "Transmission inconnue",
        html! {
            h1 { "Transmission inconnue" }
            p { "Aucune transmission ne porte ce numéro. " a href="/transmissions" { "Toutes les transmissions" } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_receipt_numbers_are_looked_up() {
        assert!(valid_number("RT-2026-000000042"));
        for bad in [
            "",
            "RT-",
            "42",
            "RT-2026-0000'; --",
            "RT-2026-<script>",
            "../etc",
        ] {
            assert!(!valid_number(bad), "{bad}");
        }
    }

    #[test]
    fn the_delay_is_bounded_and_defaults_to_thirty_days() {
        let q = |v: &str| PendingQuery {
            jours: Some(v.into()),
        };
        assert_eq!(days(&PendingQuery { jours: None }), 30);
        assert_eq!(days(&q("7")), 7);
        assert_eq!(days(&q("0")), 0);
        assert_eq!(days(&q("99999")), 30);
        assert_eq!(days(&q("-3")), 30);
        assert_eq!(days(&q("sept")), 30);
    }
}
