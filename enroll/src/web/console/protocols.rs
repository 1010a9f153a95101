//! The protocols awaiting a decision: the queue, a protocol's review (every field, the
//! supporting documents in the page, the signature evidence, the differences with the version
//! in force, the people already known), approval and rejection.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::html;
use serde::Deserialize;

use super::Operator;
use super::{
    access_error, csrf_field, csrf_ok, csrf_refused, done, forbidden, page, run, ConsoleState,
};
use crate::access::{AccessError, Eyes, FoundBy, GuardedAct, IdentityField, OperatorAct};
use crate::pass::DocumentKind;

/// `/`: the signed versions awaiting a decision, oldest first, with their age.
pub(super) async fn queue(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
) -> Response {
    let access = s.access.clone();
    let versions = match run(move || access.versions(Some("signed"))).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let now = s.clock.now();
    page(
        StatusCode::OK,
        Some(&op),
        "Protocoles à décider",
        html! {
            h1 { "Protocoles signés en attente de décision" }
            @if versions.is_empty() {
                p { "Aucun protocole n'attend de décision." }
            } @else {
                table.table {
                    caption { (versions.len()) " protocole(s), du plus ancien au plus récent" }
                    thead { tr {
                        th scope="col" { "N° protocole" }
                        th scope="col" { "Version" }
                        th scope="col" { "Employeur" }
                        th scope="col" { "Signé le" }
                        th scope="col" { "Attente" }
                    } }
                    tbody {
                        @for v in &versions {
                            tr {
                                td { a href={ "/protocoles/" (v.number) } { (v.number) } }
                                td { (v.version) }
                                td { (v.employer) }
                                td { (store::date::french(v.signed_at.date())) }
                                td { ((now - v.signed_at).whole_days()) " jour(s)" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// `/protocoles/{number}`: everything the operator needs to decide.
pub(super) async fn review(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(number): Path<String>,
) -> Response {
    let (access, pass, n) = (s.access.clone(), s.pass.clone(), number.clone());
    let loaded = run(move || {
        let detail = access.version_detail(&n)?;
        let known = access.compare_designees(&n);
        let documents = pass
            .documents(&detail.version_id)
            .map_err(|e| AccessError::InvalidProtocol(e.to_string()))?;
        let first = match access.approval_subject(&n) {
            Ok(subject) => access.four_eyes_pending(GuardedAct::Approve, &subject)?,
            Err(_) => None,
        };
        Ok((detail, known, documents, first))
    })
    .await;
    let (d, known, documents, first) = match loaded {
        Ok(v) => v,
        Err(r) => return r,
    };
    let awaiting = d.summary.status.as_str() == "signed";
    let evidence = [
        ("signed_at", "Signé le"),
        ("method", "Méthode"),
        ("document_sha256", "Empreinte SHA-256 de l'Annexe 1"),
        ("phone", "Téléphone du signataire"),
        ("ip", "Adresse IP"),
        ("user_agent", "Navigateur"),
        ("consent_at", "Consentement le"),
    ];
    let base = format!("/protocoles/{}", d.summary.number);
    page(
        StatusCode::OK,
        Some(&op),
        &format!("Protocole n° {}", d.summary.number),
        html! {
            h1 { "Protocole n° " (d.summary.number) " — version " (d.summary.version) }
            p { "Employeur : " strong { (d.summary.employer) } " — état : " (d.summary.status.as_str())
                " — signé le " (store::date::french(d.summary.signed_at.date())) }
            @if let Some(r) = &d.reject_reason { p { "Motif du refus : " (r) } }
            @if let Some(by) = &d.decided_by { p { "Décidé par : " (by) } }

            h2 { "Contenu signé (Annexe 1)" }
            p { a href={ (base) "/annexe" } { "Annexe 1 signée (PDF)" } }
            pre.annexe { (d.annexe_text) }

            h2 { "Différences avec la version en vigueur" }
            @if d.diff.is_empty() {
                p { "Aucune version antérieure validée, ou aucune différence." }
            } @else {
                ul.diff {
                    @for l in &d.diff {
                        li { (l) }
                    }
                }
            }

            h2 { "Personnes déjà connues du registre nommées par ce protocole" }
            @match &known {
                Err(e) => p { "Comparaison impossible : " (e.to_string()) }
                Ok(k) if k.is_empty() => p { "Aucune." }
                Ok(k) => {
                    table.table {
                        caption { "Personnes nommées et ce qui diffère de ce que sait le registre" }
                        thead { tr {
                            th scope="col" { "Personne" }
                            th scope="col" { "N° habilitation" }
                            th scope="col" { "Reconnue" }
                            th scope="col" { "Différences" }
                        } }
                        tbody {
                            @for p in k {
                                tr {
                                    td { (p.designee) }
                                    td { a href={ "/personnes/" (p.habilitation) } { (p.habilitation) } }
                                    td {
                                        @match p.found_by {
                                            FoundBy::Habilitation => "par son numéro",
                                            FoundBy::NameAndBirth => "par son nom et sa naissance (à confirmer)",
                                        }
                                        @if p.attached_here { " — déjà rattachée" }
                                    }
                                    td {
                                        @if p.differences.is_empty() { "aucune" }
                                        ul {
                                            @for f in &p.differences {
                                                li { (f.field.label()) " : registre « "
                                                    (f.registry.as_deref().unwrap_or("(vide)"))
                                                    " », protocole « "
                                                    (f.protocol.as_deref().unwrap_or("(vide)")) " »"
                                                    @if f.field == IdentityField::Email { " (l'adresse du registre est conservée)" }
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

            h2 { "Pièces justificatives" }
            @for doc in &documents {
                section.document {
                    h3 { (doc.kind.label()) }
                    p { (doc.media_type) ", " (doc.size) " octets, SHA-256 " code { (doc.sha256) } }
                    @let url = format!("{base}/pieces/{}", doc.kind.as_str());
                    @if doc.media_type == "application/pdf" {
                        iframe src=(url) title={ (doc.kind.label()) " (PDF)" } width="100%" height="600" {}
                    } @else {
                        img src=(url) alt={ (doc.kind.label()) " déposée par l'employeur" };
                    }
                    p { a href=(url) { "Ouvrir " (doc.kind.label()) } }
                }
            }

            h2 { "Preuve de signature" }
            table.table {
                caption { "Éléments enregistrés à la signature" }
                tbody {
                    @for (k, label) in evidence {
                        tr {
                            th scope="row" { (label) }
                            td { (d.evidence[k].as_str().map(str::to_owned).unwrap_or_else(|| d.evidence[k].to_string())) }
                        }
                    }
                }
            }

            @if awaiting && op.may(OperatorAct::Decide) {
                h2 { "Décision" }
                @if let Some(first) = &first {
                    p.notice { "Validation déjà demandée par " (first)
                        " : un second opérateur doit la confirmer (quatre yeux)." }
                }
                form method="post" action={ (base) "/valider" } {
                    (csrf_field(&s.key, &op))
                    @if let Ok(k) = &known {
                        @let to_confirm: Vec<_> = k.iter().filter(|p| p.found_by == FoundBy::NameAndBirth && !p.attached_here).collect();
                        @if !to_confirm.is_empty() {
                            fieldset {
                                legend { "Personnes reconnues sans numéro : confirmez qu'il s'agit bien d'elles" }
                                @for p in to_confirm {
                                    div.field {
                                        input type="checkbox" name="confirm" value=(p.habilitation) id={ "confirm-" (p.habilitation) };
                                        label for={ "confirm-" (p.habilitation) } { (p.designee) " est la personne n° " (p.habilitation) }
                                    }
                                }
                            }
                        }
                    }
                    button.btn.btn-primary type="submit" { "Valider le protocole" }
                }
                form method="post" action={ (base) "/refuser" } {
                    (csrf_field(&s.key, &op))
                    div.field {
                        label for="reason" { "Motif du refus (obligatoire)" }
                        input.input type="text" id="reason" name="reason" required maxlength="200";
                    }
                    button.btn.btn-danger-outline type="submit" { "Refuser le protocole" }
                }
            }
        },
    )
}

/// `/protocoles/{number}/pieces/{kind}`: a supporting document of the version under review,
/// inline, with headers that keep it inert: its recognised type only (`nosniff`), a sandbox
/// CSP (no script, no form, no same-origin rights, even in a PDF viewer), framed only by the
/// console itself.
pub(super) async fn document(
    State(s): State<ConsoleState>,
    Extension(_op): Extension<Operator>,
    Path((number, kind)): Path<(String, String)>,
) -> Response {
    let Some(kind) = DocumentKind::parse(&kind) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (access, pass) = (s.access.clone(), s.pass.clone());
    let found = run(move || {
        let detail = access.version_detail(&number)?;
        let documents = pass
            .documents(&detail.version_id)
            .map_err(|e| AccessError::InvalidProtocol(e.to_string()))?;
        let Some(doc) = documents.into_iter().find(|d| d.kind == kind) else {
            return Ok(None);
        };
        let path = pass.document_path(&doc.sha256);
        let bytes = std::fs::read(&path)
            .map_err(|e| AccessError::InvalidProtocol(format!("pièce illisible : {e}")))?;
        Ok(Some((doc.media_type, bytes, number, kind)))
    })
    .await;
    let (media_type, bytes, number, kind) = match found {
        Ok(Some(v)) => v,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(r) => return r,
    };
    // Only the three types recognised at upload are ever served; anything else as bytes.
    let media_type = match media_type.as_str() {
        "application/pdf" | "image/png" | "image/jpeg" => media_type,
        _ => "application/octet-stream".to_owned(),
    };
    let ext = match media_type.as_str() {
        "application/pdf" => "pdf",
        "image/png" => "png",
        "image/jpeg" => "jpg",
        _ => "bin",
    };
    inert(
        &media_type,
        &format!("{}-{}.{ext}", safe_name(&number), kind.as_str()),
        bytes,
    )
}

/// `/protocoles/{number}/annexe`: the signed Annexe 1 of the version under review, as the
/// employer downloaded it, inline and inert.
pub(super) async fn annexe(
    State(s): State<ConsoleState>,
    Extension(_op): Extension<Operator>,
    Path(number): Path<String>,
) -> Response {
    let (access, pass, n) = (s.access.clone(), s.pass.clone(), number.clone());
    let pdf = run(move || {
        let detail = access.version_detail(&n)?;
        pass.annexe_pdf(&detail.version_id)
            .map_err(|e| AccessError::InvalidProtocol(e.to_string()))
    })
    .await;
    match pdf {
        Ok(bytes) => inert(
            "application/pdf",
            &format!("{}-annexe1.pdf", safe_name(&number)),
            bytes,
        ),
        Err(r) => r,
    }
}

/// The protocol number is digits, letters and dashes; anything else is dropped from a file
/// name.
fn safe_name(number: &str) -> String {
    number
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// A file shown in the console's pages, kept inert: its type only (`nosniff`), inline, a
/// sandbox CSP (no script, no form, no same-origin rights, even in a PDF viewer), framed only
/// by the console itself, never cached.
fn inert(media_type: &str, file_name: &str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, media_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file_name}\""),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; \
                 frame-ancestors 'self'"
                    .to_owned(),
            ),
            (header::X_FRAME_OPTIONS, "SAMEORIGIN".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// The approval form: its token and the people the operator confirmed.
#[derive(Debug, Deserialize)]
pub(super) struct ApproveForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    confirm: Vec<u32>,
}

/// `POST /protocoles/{number}/valider`.
pub(super) async fn approve(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(number): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let form: ApproveForm = match parse_form(&body) {
        Some(f) => f,
        None => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    };
    if !op.may(OperatorAct::Decide) {
        return forbidden(&op);
    }
    if !csrf_ok(&s.key, &op, form.csrf.as_deref()) {
        return csrf_refused(&op);
    }
    let (access, n) = (s.access.clone(), number.clone());
    let asker = op.asker();
    let eyes = run(move || {
        let subject = access.approval_subject(&n)?;
        access.four_eyes(GuardedAct::Approve, &subject, &asker)
    })
    .await;
    match eyes {
        Ok(Eyes::FirstRecorded) => done(
            &op,
            "Validation demandée",
            html! { p { "Votre validation du protocole n° " (number) " est enregistrée : un "
            "second opérateur doit la confirmer (quatre yeux)." } },
            ("/", "Retour aux protocoles à décider"),
        ),
        Ok(_) => {
            // Many people make a long approval: it runs in the background, the progress page
            // follows it.
            super::approvals::start(&s, &number, op.actor(), form.confirm);
            see_other(&format!("/protocoles/{}/validation", safe_name(&number)))
        }
        Err(r) => r,
    }
}

/// `303 See Other` to `location` (a path of the console).
fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = axum::http::HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The rejection form.
#[derive(Debug, Deserialize)]
pub(super) struct RejectForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `POST /protocoles/{number}/refuser`.
pub(super) async fn reject(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(number): Path<String>,
    Form(form): Form<RejectForm>,
) -> Response {
    if !op.may(OperatorAct::Decide) {
        return forbidden(&op);
    }
    if !csrf_ok(&s.key, &op, form.csrf.as_deref()) {
        return csrf_refused(&op);
    }
    let reason = match store::text::label(&form.reason, 200) {
        Ok(r) if !r.is_empty() => r,
        _ => return access_error(&AccessError::ReasonRequired),
    };
    let (access, actor, n) = (s.access.clone(), op.actor(), number.clone());
    if let Err(r) = run(move || access.reject(&n, &reason, &actor)).await {
        return r;
    }
    s.outbox.wake();
    done(
        &op,
        "Protocole refusé",
        html! { p { "Le protocole n° " (number) " est refusé ; l'employeur en est informé." } },
        ("/", "Retour aux protocoles à décider"),
    )
}

/// `application/x-www-form-urlencoded` with repeated keys (`confirm=1&confirm=2`), which
/// axum's `Form` (serde_urlencoded) does not gather into a list.
fn parse_form(body: &[u8]) -> Option<ApproveForm> {
    let mut form = ApproveForm {
        csrf: None,
        confirm: Vec::new(),
    };
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "csrf" => form.csrf = Some(v.into_owned()),
            "confirm" => form.confirm.push(v.parse().ok()?),
            _ => {}
        }
    }
    Some(form)
}
