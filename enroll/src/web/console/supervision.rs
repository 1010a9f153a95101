//! What administrateurs watch: the outbox (messages not yet delivered, their last error, a
//! retry), the audit log (filtered by actor, subject, days; the chain verified), and AC
//! SISERI (its certificate, the CRLs in force, certificates by state).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;

use super::Operator;
use super::{csrf_field, csrf_ok, csrf_refused, done, forbidden, page, ConsoleState};
use crate::access::OperatorAct;
use crate::outbox::OutboxId;

/// Runs a read of the database off the reactor; a failure is logged and shown as a 500.
pub(super) async fn read<T: Send + 'static>(
    s: &ConsoleState,
    f: impl FnOnce(&rusqlite::Connection) -> Result<T, String> + Send + 'static,
) -> Result<T, Response> {
    let pool = s.pool.clone();
    let done = web::blocking(move || {
        let conn = pool.get().map_err(|e| e.to_string())?;
        f(&conn)
    })
    .await;
    match done {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(super::internal(&e)),
        Err(e) => Err(super::internal(&e)),
    }
}

/// `/envois`: pending messages, oldest first, with their attempts and last error.
pub(super) async fn outbox(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
) -> Response {
    if !op.may(OperatorAct::Supervise) {
        return forbidden(&op);
    }
    let loaded = read(&s, |conn| {
        Ok((
            crate::outbox::pending(conn, 500).map_err(|e| e.to_string())?,
            crate::outbox::counts(conn).map_err(|e| e.to_string())?,
        ))
    })
    .await;
    let (pending, counts) = match loaded {
        Ok(v) => v,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        Some(&op),
        "File d'envoi",
        html! {
            h1 { "File d'envoi des e-mails et SMS" }
            p { (counts.pending) " message(s) en attente, dont " (counts.retrying)
                " en échec à relancer ; " (counts.delivered) " remis." }
            @if pending.is_empty() {
                p { "Aucun message en attente." }
            } @else {
                table.table {
                    caption { "Messages en attente, du plus ancien au plus récent (destinataires masqués)" }
                    thead { tr {
                        th scope="col" { "N°" } th scope="col" { "Canal" } th scope="col" { "Destinataire" }
                        th scope="col" { "Objet" } th scope="col" { "Essais" } th scope="col" { "Dernière erreur" }
                        th scope="col" { "Action" }
                    } }
                    tbody {
                        @for m in &pending {
                            tr {
                                td { (m.id.0) }
                                td { (m.channel.as_str()) }
                                td { (m.recipient) }
                                td { (m.subject.as_deref().unwrap_or("")) }
                                td { (m.attempts) }
                                td { (m.last_error.as_deref().unwrap_or("")) }
                                td {
                                    form method="post" action={ "/envois/" (m.id.0) "/relancer" } {
                                        (csrf_field(&s.key, &op))
                                        button.btn.btn-primary type="submit" { "Relancer " span.visually-hidden { "le message " (m.id.0) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `POST /envois/{id}/relancer`: due now, the worker woken.
pub(super) async fn retry(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(id): Path<i64>,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    if !op.may(OperatorAct::Supervise) {
        return forbidden(&op);
    }
    if !csrf_ok(&s.key, &op, form.get("csrf").map(String::as_str)) {
        return csrf_refused(&op);
    }
    let (pool, now, actor) = (s.pool.clone(), s.clock.now(), op.actor());
    let retried = web::blocking(move || {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        crate::outbox::retry_now(&mut conn, OutboxId(id), now, &actor).map_err(|e| e.to_string())
    })
    .await;
    match retried {
        Ok(Ok(true)) => {
            s.outbox.wake();
            done(
                &op,
                "Message relancé",
                html! { p { "Le message n° " (id) " est relancé." } },
                ("/envois", "Retour à la file d'envoi"),
            )
        }
        Ok(Ok(false)) => page(
            StatusCode::NOT_FOUND,
            Some(&op),
            "Message introuvable",
            html! { h1 { "Message introuvable" } p { "Aucun message n° " (id) " en attente." } },
        ),
        Ok(Err(e)) => super::internal(&e),
        Err(e) => super::internal(&e),
    }
}

/// `?acteur=&sujet=&du=&au=&verifier=`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditQuery {
    #[serde(default)]
    acteur: String,
    #[serde(default)]
    sujet: String,
    #[serde(default)]
    du: String,
    #[serde(default)]
    au: String,
    #[serde(default)]
    verifier: String,
}

fn day(s: &str) -> Option<String> {
    let s = s.trim();
    time::Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
        .ok()
        .map(|_| s.to_owned())
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// `/journal`: the audit log, newest first, filtered; the chain verified on demand.
pub(super) async fn audit(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Query(q): Query<AuditQuery>,
) -> Response {
    if !op.may(OperatorAct::Supervise) {
        return forbidden(&op);
    }
    let filter = store::audit::Filter {
        actor: some(&q.acteur),
        target: some(&q.sujet),
        from: day(&q.du),
        to: day(&q.au),
    };
    let verify = !q.verifier.is_empty();
    let f = filter.clone();
    let loaded = read(&s, move |conn| {
        let lines = store::audit::search(conn, &f, 500).map_err(|e| e.to_string())?;
        let verified = verify.then(|| store::audit::verify(conn).map_err(|e| e.to_string()));
        Ok((lines, verified))
    })
    .await;
    let (lines, verified) = match loaded {
        Ok(v) => v,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        Some(&op),
        "Journal d'audit",
        html! {
            h1 { "Journal d'audit" }
            @if let Some(v) = &verified {
                div.notice role="status" {
                    @match v {
                        Ok(v) => { "Chaîne intègre : " (v.entries) " entrées, empreinte de tête " code { (v.head) } "." }
                        Err(e) => { "Chaîne rompue : " (e) }
                    }
                }
            }
            form method="get" action="/journal" {
                div.field {
                    label for="acteur" { "Acteur (contient)" }
                    input.input type="text" id="acteur" name="acteur" value=(q.acteur);
                }
                div.field {
                    label for="sujet" { "Sujet (contient)" }
                    input.input type="text" id="sujet" name="sujet" value=(q.sujet);
                }
                div.field {
                    label for="du" { "Du (AAAA-MM-JJ)" }
                    input.input type="date" id="du" name="du" value=(q.du);
                }
                div.field {
                    label for="au" { "Au (AAAA-MM-JJ)" }
                    input.input type="date" id="au" name="au" value=(q.au);
                }
                button.btn.btn-primary type="submit" { "Filtrer" }
            }
            form method="get" action="/journal" {
                input type="hidden" name="verifier" value="1";
                button.btn.btn-primary type="submit" { "Vérifier la chaîne" }
            }
            table.table {
                caption { (lines.len()) " entrée(s), de la plus récente à la plus ancienne (500 au plus)" }
                thead { tr {
                    th scope="col" { "N°" } th scope="col" { "Date" } th scope="col" { "Acteur" }
                    th scope="col" { "Action" } th scope="col" { "Sujet" } th scope="col" { "Détails" }
                } }
                tbody {
                    @for l in &lines {
                        tr {
                            td { (l.seq) } td { (l.at) } td { (l.actor) }
                            td { (l.action) } td { (l.target) } td { code { (l.details) } }
                        }
                    }
                }
            }
        },
    )
}

/// `/ac`: AC SISERI's certificate, the CRLs in force, certificates by state.
pub(super) async fn authority(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
) -> Response {
    if !op.may(OperatorAct::Supervise) {
        return forbidden(&op);
    }
    let loaded = read(&s, |conn| {
        let e = |e: ca::Error| e.to_string();
        Ok((
            ca::counts(conn).map_err(e)?,
            ca::Authority::latest_crl_info(conn).map_err(e)?,
            ca::Authority::shard_crls_info(conn).map_err(e)?,
        ))
    })
    .await;
    let (counts, crl, shards) = match loaded {
        Ok(v) => v,
        Err(r) => return r,
    };
    let fingerprint = ring::digest::digest(&ring::digest::SHA256, s.authority.certificate_der());
    let state = |s: &str| match s {
        "issued" => "émis",
        "revoked" => "révoqués",
        "unsigned" => "émissions interrompues avant signature",
        _ => "autres",
    };
    page(
        StatusCode::OK,
        Some(&op),
        "AC SISERI",
        html! {
            h1 { "AC SISERI" }
            p { "Empreinte SHA-256 : " code { (hex::encode_upper(fingerprint.as_ref())) } }
            table.table {
                caption { "Certificats par état" }
                thead { tr { th scope="col" { "État" } th scope="col" { "Nombre" } } }
                tbody {
                    @for (status, n) in &counts {
                        tr { td { (state(status)) } td { (n) } }
                    }
                }
            }
            h2 { "Listes de révocation en vigueur" }
            @match &crl {
                Some(c) => p { "LCR complète n° " (c.number) " : " (c.entries) " entrée(s), émise le "
                    (store::date::french(c.this_update.date())) ", prochaine mise à jour le "
                    (store::date::french(c.next_update.date())) "." }
                None => p { "Aucune LCR complète publiée." }
            }
            @if !shards.is_empty() {
                table.table {
                    caption { "LCR de partition" }
                    thead { tr { th scope="col" { "Partition" } th scope="col" { "N°" }
                        th scope="col" { "Entrées" } th scope="col" { "Prochaine mise à jour" } } }
                    tbody {
                        @for sh in &shards {
                            tr { td { (sh.shard) } td { (sh.number) } td { (sh.entries) }
                                td { (store::date::french(sh.next_update.date())) } }
                        }
                    }
                }
            }
            h2 { "Certificat" }
            pre { (s.authority.certificate_pem()) }
        },
    )
}
