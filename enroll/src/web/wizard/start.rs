//! Seed section 1 b–c and section 3 g: *Accès PASS* (create a protocol or renew one), and
//! leaving (cancel, finish).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::controls::{csrf_field, notice, Input};
use super::layout::{Errs, Page};
use super::CheckedForm;
use super::{
    any_draft, csrf, open_draft, redirect, redirect_with_cookies, Draft, Step, WizardError,
};
use crate::pass::{PassError, Status};
use crate::web::{blocking, client, Peer, PublicState};
use crate::web_cookie;

/// The cookie's draft, or none when it no longer opens anything (the cookie is then dropped).
pub(super) async fn current(
    state: &PublicState,
    headers: &HeaderMap,
) -> Result<(Option<Draft>, Option<String>), WizardError> {
    match any_draft(state, headers).await {
        Ok(Some(d)) if d.view.status != Status::Cancelled => Ok((Some(d), None)),
        Ok(Some(_)) | Err(WizardError::Pass(PassError::NotFound | PassError::BadToken)) => {
            Ok((None, Some(web_cookie::clear_draft_cookie())))
        }
        Ok(None) => Ok((None, None)),
        Err(e) => Err(e),
    }
}

/// The token for a page that may come before the draft, and the cookie to set for it.
pub(super) fn token_for(
    state: &PublicState,
    headers: &HeaderMap,
    draft: Option<&Draft>,
) -> Result<(String, Option<String>), WizardError> {
    match draft {
        Some(d) => Ok((d.csrf.clone(), None)),
        None => Ok(csrf::pre_token(&state.key, headers)?),
    }
}

/// `GET /pass/`: *Créer un nouveau protocole* or *Renouveler un protocole existant*.
pub(super) async fn show(
    State(state): State<PublicState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, WizardError> {
    let (draft, clear) = current(&state, &headers).await?;
    let (token, set) = token_for(&state, &headers, draft.as_ref())?;
    let abandoned = uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "abandon=1"));
    let form = StartForm::default();
    Ok(
        start_page(draft.as_ref(), &token, &form, &Errs::none(), abandoned)
            .cookie(clear)
            .cookie(set)
            .into_response(),
    )
}

#[derive(Debug, Default)]
struct StartForm {
    choice: Option<String>,
    number: Option<String>,
    key_name: Option<String>,
}

fn start_page(
    draft: Option<&Draft>,
    token: &str,
    form: &StartForm,
    errs: &Errs,
    abandoned: bool,
) -> Page {
    let renew = form.choice.as_deref() == Some("renew");
    // With a draft in progress nothing is pre-selected: abandoning it takes an explicit choice.
    let in_progress = draft.is_some_and(|d| d.view.status == Status::Draft);
    let create =
        form.choice.as_deref() == Some("create") || (form.choice.is_none() && !in_progress);
    let group_error = errs.take("renewal", "renewal-number");
    let body = html! {
        h1 { "Protocole d'accès sécurisé à SISERI" }
        @if abandoned {
            (notice("success", html! { p { "Votre protocole a été abandonné. Les informations saisies ne sont pas conservées." } }))
        }
        @if let Some(d) = draft {
            @if d.view.status == Status::Draft {
                (notice("info", html! {
                    h2 { "Vous avez un protocole en cours" }
                    p { (describe(d)) }
                    p { a.btn.btn-primary href=(d.reached().path()) { "Reprendre votre protocole en cours" } }
                    p.hint { "Vous pouvez aussi recommencer ci-dessous : le protocole en cours sera alors abandonné." }
                }))
            } @else {
                (notice("info", html! {
                    p { "Votre dernier protocole a été signé." }
                    p { a href="/pass/signe" { "Voir le protocole signé et télécharger l'Annexe 1" } }
                }))
            }
        }
        form.form method="post" action="/pass/" {
            (csrf_field(token))
            fieldset.field.field-error[errs.get("choice").is_some()] {
                legend.label.legend-lg { "Vous souhaitez accéder à l'application PASS pour :" }
                @if let Some(e) = errs.take("choice", "choice-create") {
                    p.error-message #choice-error { span.visually-hidden { "Erreur : " } (e) }
                }
                div.choice {
                    input type="radio" id="choice-create" name="choice" value="create" checked[create];
                    label for="choice-create" { "Créer un nouveau protocole" }
                }
                div.choice {
                    input type="radio" id="choice-renew" name="choice" value="renew" checked[renew]
                        aria-describedby="choice-renew-hint";
                    label for="choice-renew" { "Renouveler un protocole existant" }
                }
                div.conditional.field-error[group_error.is_some()] {
                    p.hint #choice-renew-hint {
                        "Dans ce cas, vous devez compléter les informations suivantes. Vous les trouverez dans votre "
                        "compte SISERI, rubrique « Cartes-données admin. », type de données « Établissement de rattachement »."
                    }
                    @if let Some(e) = &group_error { p.error-message #renewal-error { span.visually-hidden { "Erreur : " } (e) } }
                    (Input::new("renewal.number", "Numéro du protocole", form.number.as_deref()).width("w-10").auto("off").render(errs))
                    (Input::new("renewal.key_name", "Nom clé de l'entreprise", form.key_name.as_deref()).width("w-20").auto("off").render(errs))
                    p.hint { "Ces deux informations sont obligatoires pour un renouvellement." }
                }
            }
            div.actions {
                button.btn.btn-primary type="submit" { "Suivant" }
                a.btn.btn-link.btn-cancel href="/" { "Annuler" }
            }
        }
    };
    Page::new("Accès PASS", body).errors(errs)
}

fn describe(d: &Draft) -> Markup {
    let name = d
        .view
        .protocol
        .employer
        .name
        .as_deref()
        .unwrap_or("employeur non renseigné");
    html! {
        @if let Some(n) = &d.view.number {
            "Renouvellement du protocole n° " strong { (n) } " — " (name) ". "
        } @else {
            "Nouveau protocole — " (name) ". "
        }
        "Étape atteinte : " (d.reached().label()) "."
    }
}

/// `POST /pass/`: start a new protocol (at the preamble) or a renewal.
pub(super) async fn submit(
    State(state): State<PublicState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm,
) -> Result<Response, WizardError> {
    let (draft, _) = current(&state, &headers).await?;
    let typed = StartForm {
        choice: form.get("choice"),
        number: form.get("renewal.number"),
        key_name: form.get("renewal.key_name"),
    };
    let mut errs = Errs::none();
    match typed.choice.as_deref() {
        Some("create") => {
            abandon(&state, draft.as_ref()).await?;
            return Ok(redirect_with_cookies(
                Step::Preamble.path(),
                &[web_cookie::clear_draft_cookie()],
            ));
        }
        Some("renew") => {
            if typed.number.is_none() {
                errs.add("renewal.number", "Le numéro du protocole est obligatoire.");
            }
            if typed.key_name.is_none() {
                errs.add(
                    "renewal.key_name",
                    "Le nom clé de l'entreprise est obligatoire.",
                );
            }
        }
        _ => errs.add(
            "choice",
            "Choisissez de créer un nouveau protocole ou d'en renouveler un.",
        ),
    }
    let (token, set) = token_for(&state, &headers, draft.as_ref())?;
    if !errs.is_empty() {
        return Ok(start_page(draft.as_ref(), &token, &typed, &errs, false)
            .cookie(set)
            .into_response());
    }
    let (number, key_name) = (
        typed.number.clone().unwrap_or_default(),
        typed.key_name.clone().unwrap_or_default(),
    );
    let who = client(&headers, peer);
    let pass = state.pass.clone();
    match blocking(move || pass.start_renewal(&number, &key_name, &who)).await {
        Ok(new) => {
            abandon(&state, draft.as_ref()).await?;
            Ok(redirect_with_cookies(
                Step::Preamble.path(),
                &[web_cookie::set_draft_cookie(&new.id, &new.token)],
            ))
        }
        Err(
            e @ (PassError::RenewalRefused
            | PassError::TooManyRequests { .. }
            | PassError::NothingInForce),
        ) => {
            let status =
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            let status = if status == StatusCode::NOT_FOUND {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                status
            };
            errs.add("renewal", e.to_string());
            Ok(start_page(draft.as_ref(), &token, &typed, &errs, false)
                .status(status)
                .cookie(set)
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Abandons the draft in progress, if any, when the person starts something else.
async fn abandon(state: &PublicState, draft: Option<&Draft>) -> Result<(), WizardError> {
    if let Some(d) = draft.filter(|d| d.view.status == Status::Draft) {
        let pass = state.pass.clone();
        let id = d.id.clone();
        match blocking(move || pass.cancel(&id)).await {
            Ok(()) | Err(PassError::NotDraft) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `GET /pass/annuler`: asks before abandoning.
pub(super) async fn cancel_page(
    State(state): State<PublicState>,
    headers: HeaderMap,
) -> Result<Response, WizardError> {
    let draft = match open_draft(&state, &headers).await {
        Err(WizardError::NoSession) => return Ok(redirect("/")),
        other => other?,
    };
    let back = draft.reached().path();
    Ok(Page::new(
        "Abandonner le protocole",
        html! {
            h1 { "Abandonner le protocole ?" }
            p {
                "Les informations saisies et les pièces justificatives chargées ne seront pas conservées. "
                "Cette action est définitive."
            }
            form.form method="post" action="/pass/annuler" {
                (csrf_field(&draft.csrf))
                div.actions {
                    button.btn.btn-danger type="submit" { "Oui, abandonner ce protocole" }
                    a.btn.btn-secondary href=(back) { "Non, revenir au protocole" }
                }
            }
        },
    )
    .into_response())
}

/// `POST /pass/annuler`.
pub(super) async fn cancel(
    State(state): State<PublicState>,
    headers: HeaderMap,
    CheckedForm(_form): CheckedForm,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let pass = state.pass.clone();
    blocking(move || pass.cancel(&draft.id)).await?;
    Ok(redirect_with_cookies(
        "/pass/?abandon=1",
        &[web_cookie::clear_draft_cookie()],
    ))
}

/// `POST /pass/terminer`: forgets the draft cookie on this browser (after signing).
pub(super) async fn finish(
    State(_state): State<PublicState>,
    _headers: HeaderMap,
    CheckedForm(_form): CheckedForm,
) -> Result<Response, WizardError> {
    Ok(redirect_with_cookies(
        "/",
        &[web_cookie::clear_draft_cookie()],
    ))
}
