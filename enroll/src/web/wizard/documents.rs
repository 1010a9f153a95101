//! Seed step g: the supporting documents, sent as `multipart/form-data` and recognised by their
//! content by [`crate::pass::Pass::upload`].

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::controls::{csrf_field, html_id, required_mark, size, step_buttons};
use super::forms::{Action, FormData};
use super::layout::{Errs, Page};
use super::{blocking, check_csrf, open_draft, redirect, Draft, Step, WizardError};
use crate::pass::{Anonymous, DocumentKind, DocumentRecord, PassError};
use crate::web::{client, Peer, PublicState};

struct Slot {
    kind: DocumentKind,
    label: &'static str,
    hint: &'static str,
    missing: &'static str,
}

const SLOTS: [Slot; 2] = [
    Slot {
        kind: DocumentKind::Kbis,
        label: "Extrait de l'inscription au registre du commerce et des sociétés (K ou K-bis)",
        hint: "Ou document mentionnant le nom, la dénomination sociale, l'adresse complète et le numéro d'immatriculation au RCS ou au répertoire des métiers ou à une liste ou un tableau d'un ordre professionnel, ou la référence de l'agrément délivré par l'autorité compétente.",
        missing: "Chargez l'extrait K-bis ou le document équivalent.",
    },
    Slot {
        kind: DocumentKind::Identity,
        label: "Copie de la carte nationale d'identité du représentant légal de l'employeur",
        hint: "Recto et verso dans un même fichier si possible.",
        missing: "Chargez la copie de la carte nationale d'identité du représentant légal.",
    },
];

fn key(kind: DocumentKind) -> String {
    format!("documents.{}", kind.as_str())
}

fn media_label(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "document PDF",
        "image/jpeg" => "image JPEG",
        "image/png" => "image PNG",
        _ => "fichier",
    }
}

fn file_field(slot: &Slot, uploaded: Option<&DocumentRecord>, max: &str, errs: &Errs) -> Markup {
    let name = slot.kind.as_str();
    let id = html_id(name);
    let error = errs.take(&key(slot.kind), &id);
    let described = format!(
        "{id}-hint {id}-status{}",
        if error.is_some() {
            format!(" {id}-error")
        } else {
            String::new()
        }
    );
    html! {
        div.field.field-error[error.is_some()] {
            label.label for=(id) { (slot.label) (required_mark()) }
            p.hint #{ (id) "-hint" } { (slot.hint) " Format PDF, JPEG ou PNG, " (max) " au plus." }
            @if let Some(e) = &error {
                p.error-message #{ (id) "-error" } { span.visually-hidden { "Erreur : " } (e) }
            }
            @match uploaded {
                Some(d) => {
                    p.file-status.file-ok #{ (id) "-status" } {
                        span.check aria-hidden="true" { "✓ " }
                        "Déjà chargé : " (media_label(&d.media_type)) ", " (size(d.size))
                        " (empreinte SHA-256 " code { (&d.sha256[..12.min(d.sha256.len())]) "…" } "). "
                        "Choisissez un autre fichier pour le remplacer."
                    }
                }
                None => { p.file-status #{ (id) "-status" } { "Aucun fichier chargé." } }
            }
            input.file #(id) type="file" name=(name) accept="application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
                required[uploaded.is_none()] aria-describedby=(described) aria-invalid=[error.as_ref().map(|_| "true")];
        }
    }
}

fn page(
    state: &PublicState,
    draft: &Draft,
    reached: Step,
    docs: &[DocumentRecord],
    errs: &Errs,
) -> Page {
    let max = format!(
        "{} Mo",
        state.pass.config().document_max_bytes / (1024 * 1024)
    );
    let body = html! {
        h1 { "Pièces justificatives" }
        p { "Chargez les pièces justificatives suivantes puis cliquez sur « Suivant » :" }
        ul {
            li {
                "Extrait de l'inscription au registre du commerce et des sociétés (K ou K-bis) ou document mentionnant "
                "le nom, la dénomination sociale, l'adresse complète et le numéro d'immatriculation au RCS ou au "
                "répertoire des métiers ou à une liste ou un tableau d'un ordre professionnel, ou la référence de "
                "l'agrément délivré par l'autorité compétente ;"
            }
            li { "Copie de la carte nationale d'identité du représentant légal de l'employeur." }
        }
        form.form method="post" action=(Step::Documents.path()) enctype="multipart/form-data" {
            (csrf_field(&draft.csrf))
            fieldset.fieldset {
                legend { "Pièces justificatives" }
                @for slot in &SLOTS {
                    (file_field(slot, docs.iter().find(|d| d.kind == slot.kind), &max, errs))
                }
            }
            (step_buttons(true, "/pass/annuler"))
        }
    };
    Page::new("Pièces justificatives", body)
        .step(Step::Documents, reached)
        .errors(errs)
}

/// `GET /pass/pieces`.
pub(super) async fn show(
    State(state): State<PublicState>,
    headers: HeaderMap,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let reached = draft.reached();
    Ok(page(
        &state,
        &draft,
        reached,
        &draft.view.documents,
        &Errs::none(),
    )
    .into_response())
}

/// What the multipart form held.
#[derive(Default)]
struct Upload {
    fields: Vec<(String, String)>,
    files: Vec<(DocumentKind, Vec<u8>)>,
}

/// Reads the whole form; `Err(status)` when the body is too large or malformed.
async fn read(mut multipart: Multipart) -> Result<Upload, StatusCode> {
    let mut out = Upload::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(out),
            Err(e) => return Err(e.status()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        match DocumentKind::parse(&name) {
            Some(kind) => {
                let chosen = field.file_name().is_some_and(|n| !n.is_empty());
                let bytes = field.bytes().await.map_err(|e| e.status())?;
                // A file input left empty still sends an empty part.
                if chosen || !bytes.is_empty() {
                    out.files.push((kind, bytes.to_vec()));
                }
            }
            None => out.fields.push((name, bounded_text(field).await?)),
        }
    }
}

/// The text of a form field other than a file, refused beyond [`FIELD_MAX_BYTES`] before it
/// is all read.
async fn bounded_text(field: axum::extract::multipart::Field<'_>) -> Result<String, StatusCode> {
    web::form::field_text(field, FIELD_MAX_BYTES)
        .await
        .map_err(|e| match e {
            web::form::FieldError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            web::form::FieldError::Unreadable => StatusCode::BAD_REQUEST,
        })
}

/// Largest text field of the documents form (the CSRF token and the button's name).
const FIELD_MAX_BYTES: usize = 4 * 1024;

/// `POST /pass/pieces`: stores the chosen files, then goes on when both documents are there.
pub(super) async fn submit(
    State(state): State<PublicState>,
    headers: HeaderMap,
    Peer(peer): Peer,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, WizardError> {
    let multipart = multipart.map_err(|_| WizardError::BadForm)?;
    let upload = match read(multipart).await {
        Ok(u) => u,
        Err(StatusCode::PAYLOAD_TOO_LARGE) => {
            // Nothing was stored; the page says why.
            let draft = open_draft(&state, &headers).await?;
            let mut errs = Errs::none();
            let max = state.pass.config().document_max_bytes / (1024 * 1024);
            errs.add(
                "documents",
                format!(
                    "Les fichiers envoyés sont trop volumineux : {max} Mo au plus par fichier."
                ),
            );
            let reached = draft.reached();
            return Ok(page(&state, &draft, reached, &draft.view.documents, &errs)
                .status(StatusCode::PAYLOAD_TOO_LARGE)
                .into_response());
        }
        Err(_) => return Err(WizardError::BadForm),
    };
    let form = FormData::new(upload.fields);
    check_csrf(&state, &headers, &form)?;
    let draft = open_draft(&state, &headers).await?;
    if form.action() == Action::Prev {
        return Ok(redirect(Step::Documents.prev().path()));
    }
    let mut errs = Errs::none();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    for (kind, bytes) in upload.files {
        let pass = state.pass.clone();
        let id = draft.id.clone();
        let who = client(&headers, peer);
        let stored = blocking(move || {
            pass.admit(Anonymous::Upload, &who)?;
            pass.upload(&id, kind, &bytes)
        });
        match stored.await {
            Ok(_) => {}
            Err(e @ (PassError::DocumentTooLarge { .. } | PassError::DocumentType)) => {
                if errs.is_empty() {
                    status = StatusCode::from_u16(e.status()).unwrap_or(status);
                }
                errs.add(&key(kind), e.to_string());
            }
            Err(e) => return Err(e.into()),
        }
    }
    let pass = state.pass.clone();
    let id = draft.id.clone();
    let docs = blocking(move || pass.documents(&id)).await?;
    for slot in &SLOTS {
        if !docs.iter().any(|d| d.kind == slot.kind) {
            errs.add(&key(slot.kind), slot.missing);
        }
    }
    let pass = state.pass.clone();
    let id = draft.id.clone();
    if errs.is_empty() {
        let next = draft.advance_to(Step::Documents.next()).key();
        blocking(move || pass.set_step(&id, next)).await?;
        return Ok(redirect(Step::Documents.next().path()));
    }
    blocking(move || pass.set_step(&id, Step::Documents.key())).await?;
    Ok(page(&state, &draft, Step::Documents, &docs, &errs)
        .status(status)
        .into_response())
}
