//! Seed steps k and m: the summary (*Annexe 1* exactly as it will be signed), the SMS code, the
//! signature, and the signed protocol's number and key name.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::controls::{checkbox, csrf_field, html_id, notice, Input};
use super::forms::Action;
use super::layout::{Errs, Page};
use super::CheckedForm;
use super::{any_draft, blocking, open_draft, redirect, Draft, Step, WizardError};
use crate::pass::{PassError, Status};
use crate::protocol::{Annexe, FieldErrors, ACCEPTANCE};
use crate::web::{client, Peer, PublicState};
use crate::MobileNumber;

/// The document, section by section, line by line, as [`Annexe::text`] writes it.
fn annexe_document(annexe: &Annexe) -> Markup {
    html! {
        article.annexe aria-labelledby="annexe-title" {
            div.annexe-head {
                p.annexe-title #annexe-title { "ANNEXE 1 AU PROTOCOLE D'ACCÈS SÉCURISÉ À SISERI" }
                p.annexe-subtitle { "IDENTIFICATION DE L'EMPLOYEUR ET DE SES ACCÉDANTS AU SYSTÈME SISERI" }
            }
            @for s in &annexe.sections {
                section.annexe-section {
                    h3 { (s.title) }
                    div.annexe-lines {
                        @for line in &s.lines {
                            div.annexe-line {
                                @match line.split_once(" : ") {
                                    Some((k, v)) if !k.trim_start().starts_with('-') => { span.k { (k) } " : " (v) }
                                    _ => { (line) }
                                }
                            }
                        }
                    }
                }
            }
            p.annexe-acceptance { (ACCEPTANCE) }
            p.annexe-hash { "Empreinte SHA-256 du document : " code { (annexe.sha256()) } }
        }
    }
}

fn masked_mobile(draft: &Draft) -> String {
    let l = &draft.view.protocol.legal_representative;
    l.mobile
        .as_deref()
        .and_then(|m| MobileNumber::parse(m, l.mobile_foreign).ok())
        .map(|m| m.masked())
        .unwrap_or_else(|| "portable du représentant légal".to_owned())
}

/// Where an error of the protocol is fixed.
fn fix_link(key: &str) -> String {
    let list = |name: &str| key.strip_prefix(name);
    let row =
        |rest: &str, name: &str| match rest.strip_prefix('[').and_then(|r| r.split(']').next()) {
            Some(i) => format!("#{name}-row-{i}"),
            None => "#liste".to_owned(),
        };
    for (name, step) in [
        ("correspondents", Step::Correspondents),
        ("physicians", Step::Physicians),
        ("pcrs", Step::Pcrs),
    ] {
        if let Some(rest) = list(name) {
            return format!("{}{}", step.path(), row(rest, name));
        }
    }
    let step = if key.starts_with("employer") {
        Step::Employer
    } else if key.starts_with("legal_representative") {
        Step::Representative
    } else if key.starts_with("documents") {
        return Step::Documents.path().to_owned();
    } else {
        Step::Exposure
    };
    format!("{}#{}", step.path(), html_id(key))
}

fn incomplete(errors: &FieldErrors) -> Markup {
    html! {
        (notice("warning", html! {
            h2 { "Le protocole est incomplet" }
            p { "Corrigez les points suivants avant de le signer :" }
            ul {
                @for (key, message) in &errors.0 {
                    li { a href=(fix_link(key)) { (message) } }
                }
            }
        }))
    }
}

enum Summary {
    Ready(Annexe),
    Incomplete(FieldErrors),
}

async fn summary_of(state: &PublicState, draft: &Draft) -> Result<Summary, WizardError> {
    let pass = state.pass.clone();
    let id = draft.id.clone();
    match blocking(move || pass.annexe(&id)).await {
        Ok(a) => Ok(Summary::Ready(a)),
        Err(PassError::Invalid(f)) => Ok(Summary::Incomplete(f)),
        Err(e) => Err(e.into()),
    }
}

fn summary_page(
    state: &PublicState,
    draft: &Draft,
    summary: &Summary,
    consent: bool,
    errs: &Errs,
) -> Page {
    let ttl = state.pass.config().code_ttl_minutes;
    let missing = errs.take("documents", "documents-missing");
    let refused = errs.take("code", "demande");
    let body = html! {
        h1 { "Récapitulatif : Annexe 1" }
        @match summary {
            Summary::Incomplete(f) => { (incomplete(f)) }
            Summary::Ready(annexe) => {
                p { "Vérifiez le document ci-dessous : c'est celui que vous allez signer avec le code reçu par SMS." }
                (annexe_document(annexe))
                @if let Some(m) = &missing {
                    div.notice.notice-error #documents-missing tabindex="-1" {
                        p { (m) " " a href=(Step::Documents.path()) { "Charger les pièces justificatives" } }
                    }
                }
                form.form method="post" action=(Step::Summary.path()) {
                    (csrf_field(&draft.csrf))
                    (checkbox(errs, "consent", "consent", ACCEPTANCE, consent, true,
                        Some(&format!("Un code de signature sera envoyé par SMS au {}. Il sera valable {ttl} minutes.", masked_mobile(draft)))))
                    @if let Some(r) = &refused {
                        p.error-message #demande { span.visually-hidden { "Erreur : " } (r) }
                    }
                    div.actions {
                        button.btn.btn-primary type="submit" name="action" value="next" { "Recevoir le code de signature par SMS" }
                        button.btn.btn-secondary.btn-prev type="submit" name="action" value="prev" formnovalidate { "Précédent" }
                        a.btn.btn-link.btn-cancel href="/pass/annuler" { "Annuler" }
                    }
                }
            }
        }
        @if matches!(summary, Summary::Incomplete(_)) {
            div.actions {
                a.btn.btn-secondary href=(Step::Exposure.path()) { "Précédent" }
                a.btn.btn-link.btn-cancel href="/pass/annuler" { "Annuler" }
            }
        }
    };
    Page::new("Récapitulatif", body)
        .step(Step::Summary, draft.reached().max(Step::Summary))
        .errors(errs)
}

/// `GET /pass/recapitulatif` (seed step k).
pub(super) async fn summary(
    State(state): State<PublicState>,
    headers: HeaderMap,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let summary = summary_of(&state, &draft).await?;
    Ok(summary_page(&state, &draft, &summary, false, &Errs::none()).into_response())
}

/// `POST /pass/recapitulatif`: *Recevoir le code de signature par SMS*.
pub(super) async fn request_code(
    State(state): State<PublicState>,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    if form.action() == Action::Prev {
        return Ok(redirect(Step::Summary.prev().path()));
    }
    let consent = form.checked("consent");
    let pass = state.pass.clone();
    let id = draft.id.clone();
    let mut errs = Errs::none();
    let status = match blocking(move || {
        pass.request_code(&id, consent)?;
        pass.set_step(&id, Step::Signature.key())
    })
    .await
    {
        Ok(()) => {
            // The SMS is queued: the worker sends it now rather than at its next round.
            state.outbox.wake();
            return Ok(redirect(Step::Signature.path()));
        }
        Err(PassError::NotDraft) => return Ok(redirect("/pass/signe")),
        Err(e @ PassError::ConsentRequired) => {
            errs.add("consent", e.to_string());
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e @ PassError::MissingDocuments(_)) => {
            errs.add("documents", e.to_string());
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e @ PassError::TooManyRequests { .. }) => {
            errs.add("code", e.to_string());
            StatusCode::TOO_MANY_REQUESTS
        }
        Err(PassError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        Err(e) => return Err(e.into()),
    };
    let summary = summary_of(&state, &draft).await?;
    Ok(summary_page(&state, &draft, &summary, consent, &errs)
        .status(status)
        .into_response())
}

fn signature_page(state: &PublicState, draft: &Draft, annexe: &Annexe, errs: &Errs) -> Page {
    let ttl = state.pass.config().code_ttl_minutes;
    let body = html! {
        h1 { "Signature électronique" }
        (notice("info", html! {
            p {
                "Un code de signature a été envoyé par SMS au " strong { (masked_mobile(draft)) } ". "
                "Il est valable " (ttl) " minutes."
            }
            p { "Vous n'avez rien reçu, ou le code a expiré ? " a href=(Step::Summary.path()) { "Demander un nouveau code" } }
        }))
        p {
            "Le document à signer est l'Annexe 1 présentée au récapitulatif (empreinte SHA-256 "
            code.break { (annexe.sha256()) } ")."
        }
        details.annexe-details {
            summary { "Présentation du document à signer" }
            (annexe_document(annexe))
        }
        form.form method="post" action=(Step::Signature.path()) {
            (csrf_field(&draft.csrf))
            (Input::new("code", "Veuillez saisir le code de signature reçu par SMS", None)
                .required().numeric().width("w-5").maxlength(6).auto("one-time-code")
                .hint("6 chiffres.").render(errs))
            div.actions {
                button.btn.btn-primary type="submit" { "Ajouter la signature électronique" }
                a.btn.btn-secondary.btn-prev href=(Step::Summary.path()) { "Précédent" }
                a.btn.btn-link.btn-cancel href="/pass/annuler" { "Annuler" }
            }
        }
    };
    Page::new("Signature", body)
        .step(Step::Signature, Step::Signature)
        .errors(errs)
}

/// `GET /pass/signature` (seed step m).
pub(super) async fn show(
    State(state): State<PublicState>,
    headers: HeaderMap,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    if draft.reached() < Step::Signature {
        // No code was asked for yet: that happens on the summary.
        return Ok(redirect(Step::Summary.path()));
    }
    match summary_of(&state, &draft).await? {
        Summary::Ready(annexe) => {
            Ok(signature_page(&state, &draft, &annexe, &Errs::none()).into_response())
        }
        Summary::Incomplete(_) => Ok(redirect(Step::Summary.path())),
    }
}

/// `POST /pass/signature`: *Ajouter la signature électronique*.
pub(super) async fn sign(
    State(state): State<PublicState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let mut errs = Errs::none();
    let status = match form.get("code") {
        None => {
            errs.add("code", "Saisissez le code de signature reçu par SMS.");
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Some(code) => {
            let who = client(&headers, peer);
            let pass = state.pass.clone();
            let id = draft.id.clone();
            match blocking(move || pass.sign(&id, &code, &who)).await {
                Ok(_) | Err(PassError::NotDraft) => return Ok(redirect("/pass/signe")),
                Err(PassError::Invalid(_)) => return Ok(redirect(Step::Summary.path())),
                Err(
                    e @ (PassError::WrongCode { .. }
                    | PassError::CodeLocked
                    | PassError::CodeExpired
                    | PassError::CodeVoided
                    | PassError::NoPendingCode),
                ) => {
                    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN);
                    let advice = match e {
                        PassError::WrongCode { .. } => "",
                        _ => " Utilisez le lien « Demander un nouveau code » ci-dessus.",
                    };
                    errs.add("code", format!("{e}{advice}"));
                    status
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    match summary_of(&state, &draft).await? {
        Summary::Ready(annexe) => Ok(signature_page(&state, &draft, &annexe, &errs)
            .status(status)
            .into_response()),
        Summary::Incomplete(_) => Ok(redirect(Step::Summary.path())),
    }
}

/// `GET /pass/signe`: the number and key name, the PDF, what happens next.
pub(super) async fn signed(
    State(state): State<PublicState>,
    headers: HeaderMap,
) -> Result<Response, WizardError> {
    let draft = any_draft(&state, &headers)
        .await?
        .ok_or(WizardError::NoSession)?;
    let v = &draft.view;
    match v.status {
        Status::Draft => return Ok(redirect(draft.reached().path())),
        Status::Cancelled => return Err(PassError::NotFound.into()),
        _ => {}
    }
    let number = v.number.as_deref().unwrap_or("");
    let key_name = v.key_name.as_deref().unwrap_or("");
    let pdf = format!("/api/v1/protocols/{}/annexe1.pdf", draft.id);
    let body = html! {
        (notice("success", html! {
            h1 { "Protocole signé" }
            p { "Votre protocole d'accès sécurisé à SISERI a été signé électroniquement." }
        }))
        dl.keyfacts {
            div { dt { "Numéro de protocole" } dd #numero { (number) } }
            div { dt { "Nom clé de l'entreprise" } dd #nom-cle { (key_name) } }
        }
        p.keyfacts-more {
            @if let Some(version) = v.version { "Version " (version) " — " }
            "état : " (v.status.label()) "."
        }
        (notice("warning", html! {
            p {
                strong { "Conservez précieusement le numéro de protocole et le nom clé." }
                " Ils vous seront demandés pour renouveler votre protocole, notamment en cas de changement de "
                "médecin du travail, de correspondant SISERI, de PCR ou d'adresse."
            }
        }))
        h2 { "Annexe 1 signée" }
        p { a.btn.btn-primary href=(pdf) download="annexe1.pdf" { "Télécharger l'Annexe 1 (PDF)" } }
        p { "Nous vous conseillons d'enregistrer ce document sur votre ordinateur." }
        @if let Some(sha) = &v.document_sha256 {
            p.hint { "Empreinte SHA-256 du document signé : " code.break { (sha) } }
        }
        h2 { "Et ensuite ?" }
        ol.next-steps {
            li { "Les services de SISERI examinent votre protocole et les pièces justificatives." }
            li {
                "Après validation, chaque personne désignée (correspondants SISERI, médecins du travail, "
                "personnes compétentes en radioprotection) reçoit deux courriels : l'un pour retirer son "
                "certificat électronique (adresse de retrait valable 60 jours, pour un seul téléchargement), "
                "l'autre avec son code d'accès confidentiel à SISERI."
            }
            li { "Une fois le certificat installé dans son navigateur, chacun se connecte à SISERI avec son code d'accès." }
        }
        form.form method="post" action="/pass/terminer" {
            (csrf_field(&draft.csrf))
            p.hint { "Sur un ordinateur partagé, terminez la session une fois l'Annexe 1 enregistrée." }
            div.actions { button.btn.btn-secondary type="submit" { "Terminer" } }
        }
    };
    Ok(Page::new("Protocole signé", body).into_response())
}
