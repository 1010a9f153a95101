//! The PASS wizard: server-rendered HTML in French, one page per step of the seed (section 1,
//! steps a to m, and section 3 for renewal), working without JavaScript.
//!
//! Every POST is checked against a CSRF token ([`csrf`]); every step saves what was typed
//! through [`crate::pass::Pass`] (off the reactor, with [`blocking`]) before showing the errors
//! of that step only; a step that passes redirects (303) to the next one.

mod controls;
pub(crate) mod csrf;
mod documents;
mod errors;
mod exposure;
mod forms;
mod home;
mod identity;
pub(crate) mod layout;
mod people;
mod preamble;
mod signature;
mod start;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{blocking, PublicState};
use crate::pass::{DraftView, Status};
use crate::protocol::{FieldErrors, Protocol, ProtocolInput};
use crate::web_cookie;
pub(crate) use errors::WizardError;

/// Largest body of a wizard form other than the documents step's: the widest step (the
/// employer's) at every field's maximum length, percent-encoded, stays well below it.
const FORM_MAX_BYTES: usize = 64 * 1024;

/// `/`, `/pass/…` and `/assets/siseri.css`.
pub fn router(state: PublicState) -> Router {
    // Room for both documents and the form's other fields; each file is then checked by Pass.
    let documents_limit = 2 * state.pass.config().document_max_bytes + 256 * 1024;
    let pages = Router::new()
        .route("/", get(home::home))
        .route("/pass", get(|| async { redirect("/pass/") }))
        .route("/pass/", get(start::show).post(start::submit))
        .route(
            "/pass/preambule",
            get(preamble::show).post(preamble::accept),
        )
        .route("/pass/annuler", get(start::cancel_page).post(start::cancel))
        .route("/pass/terminer", axum::routing::post(start::finish))
        .route("/pass/signe", get(signature::signed));
    // One page per step of the seed, each shown by GET and saved by POST.
    let steps = [
        (
            Step::Employer,
            get(identity::employer).post(identity::save_employer),
        ),
        (
            Step::Representative,
            get(identity::representative).post(identity::save_representative),
        ),
        (
            Step::Verification,
            get(identity::verification).post(identity::save_verification),
        ),
        (
            Step::Documents,
            get(documents::show)
                .post(documents::submit)
                .layer(DefaultBodyLimit::max(documents_limit)),
        ),
        (Step::Correspondents, get(people::show).post(people::submit)),
        (Step::Physicians, get(people::show).post(people::submit)),
        (Step::Pcrs, get(people::show).post(people::submit)),
        (Step::Exposure, get(exposure::show).post(exposure::submit)),
        (
            Step::Summary,
            get(signature::summary).post(signature::request_code),
        ),
        (Step::Signature, get(signature::show).post(signature::sign)),
    ];
    let pages = steps
        .into_iter()
        .fold(pages, |pages, (step, route)| {
            pages.route(step.path(), route)
        })
        // Every other form is a few fields of at most a few hundred characters: a body over this
        // is refused before it is read, and so never kept in a draft (the documents step's own
        // limit, set nearer the handler, wins there).
        .layer(DefaultBodyLimit::max(FORM_MAX_BYTES))
        .with_state(state);
    pages.route(
        web::layout::STYLESHEET_PATH,
        get(|| async { web::layout::stylesheet_response() }),
    )
}

/// The steps of the seed, in order (section 1, d to m).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Step {
    Preamble,
    Employer,
    Representative,
    Verification,
    Documents,
    Correspondents,
    Physicians,
    Pcrs,
    Exposure,
    Summary,
    Signature,
}

impl Step {
    pub(crate) const ALL: [Step; 11] = [
        Self::Preamble,
        Self::Employer,
        Self::Representative,
        Self::Verification,
        Self::Documents,
        Self::Correspondents,
        Self::Physicians,
        Self::Pcrs,
        Self::Exposure,
        Self::Summary,
        Self::Signature,
    ];

    /// Stored in the draft's `wizard_step`.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Preamble => "preamble",
            Self::Employer => "employer",
            Self::Representative => "representative",
            Self::Verification => "verification",
            Self::Documents => "documents",
            Self::Correspondents => "correspondents",
            Self::Physicians => "physicians",
            Self::Pcrs => "pcrs",
            Self::Exposure => "exposure",
            Self::Summary => "summary",
            Self::Signature => "signature",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    pub(crate) fn path(self) -> &'static str {
        match self {
            Self::Preamble => "/pass/preambule",
            Self::Employer => "/pass/employeur",
            Self::Representative => "/pass/representant",
            Self::Verification => "/pass/verification",
            Self::Documents => "/pass/pieces",
            Self::Correspondents => "/pass/correspondants",
            Self::Physicians => "/pass/medecins",
            Self::Pcrs => "/pass/pcr",
            Self::Exposure => "/pass/exposition",
            Self::Summary => "/pass/recapitulatif",
            Self::Signature => "/pass/signature",
        }
    }

    /// Short name, for the step indicator.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Preamble => "Préambule",
            Self::Employer => "Employeur",
            Self::Representative => "Représentant légal",
            Self::Verification => "Vérification",
            Self::Documents => "Pièces justificatives",
            Self::Correspondents => "Correspondants",
            Self::Physicians => "Médecins du travail",
            Self::Pcrs => "PCR",
            Self::Exposure => "Exposition",
            Self::Summary => "Récapitulatif",
            Self::Signature => "Signature",
        }
    }

    pub(crate) fn number(self) -> usize {
        self as usize + 1
    }

    pub(crate) fn next(self) -> Self {
        Self::ALL.get(self as usize + 1).copied().unwrap_or(self)
    }

    pub(crate) fn prev(self) -> Self {
        (self as usize)
            .checked_sub(1)
            .and_then(|i| Self::ALL.get(i).copied())
            .unwrap_or(self)
    }
}

/// An open draft: the cookie's id, checked against its token, and what it holds.
#[derive(Debug)]
pub(crate) struct Draft {
    pub(crate) id: String,
    pub(crate) view: DraftView,
    /// The CSRF token of this draft's forms.
    pub(crate) csrf: String,
}

impl Draft {
    /// The furthest step recorded, for the step indicator and to resume.
    pub(crate) fn reached(&self) -> Step {
        Step::from_key(&self.view.wizard_step).unwrap_or(Step::Preamble)
    }

    /// The step to record when leaving for `next`: never behind what was reached, so that a
    /// person who went back to fix something resumes where they were.
    pub(crate) fn advance_to(&self, next: Step) -> Step {
        next.max(self.reached())
    }
}

/// The draft of the cookie, whatever its status; `None` without a cookie.
pub(crate) async fn any_draft(
    state: &PublicState,
    headers: &HeaderMap,
) -> Result<Option<Draft>, WizardError> {
    let Some((id, token)) = web_cookie::draft_cookie(headers) else {
        return Ok(None);
    };
    let pass = state.pass.clone();
    let view = {
        let id = id.clone();
        blocking(move || {
            pass.authorize(&id, &token)?;
            pass.view(&id)
        })
        .await?
    };
    let csrf = csrf::draft_token(&state.key, &id);
    Ok(Some(Draft { id, view, csrf }))
}

/// The draft being written: without a cookie the person is sent to the start page, with a
/// signed one to its confirmation page.
pub(crate) async fn open_draft(
    state: &PublicState,
    headers: &HeaderMap,
) -> Result<Draft, WizardError> {
    let draft = any_draft(state, headers)
        .await?
        .ok_or(WizardError::NoSession)?;
    match draft.view.status {
        Status::Draft => Ok(draft),
        Status::Cancelled => Err(WizardError::Pass(crate::pass::PassError::NotFound)),
        _ => Err(WizardError::Redirect("/pass/signe")),
    }
}

/// 303 See Other: the browser follows with a GET (post-redirect-get).
pub(crate) fn redirect(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

/// 303 with `Set-Cookie` headers.
pub(crate) fn redirect_with_cookies(to: &str, cookies: &[String]) -> Response {
    let mut r = redirect(to);
    add_cookies(&mut r, cookies);
    r
}

pub(crate) fn add_cookies(response: &mut Response, cookies: &[String]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

/// The errors of one step: those of the whole protocol under the step's paths.
pub(crate) fn step_errors(input: &ProtocolInput, prefixes: &[&str]) -> FieldErrors {
    match Protocol::parse(input) {
        Ok(_) => FieldErrors::default(),
        Err(all) => FieldErrors(prefixes.iter().flat_map(|p| all.under(p).0).collect()),
    }
}

/// Saves what a step's form holds, valid or not. *Précédent* goes back; *Suivant* goes on
/// when the step has no error, otherwise the errors come back for the page to show.
pub(crate) async fn save_step(
    state: &PublicState,
    draft: &Draft,
    step: Step,
    action: forms::Action,
    input: ProtocolInput,
    prefixes: &[&str],
) -> Result<Result<Response, FieldErrors>, WizardError> {
    let pass = state.pass.clone();
    let id = draft.id.clone();
    if action == forms::Action::Prev {
        blocking(move || pass.update(&id, &input, None)).await?;
        return Ok(Ok(redirect(step.prev().path())));
    }
    let errors = step_errors(&input, prefixes);
    if errors.is_empty() {
        let next = draft.advance_to(step.next()).key();
        blocking(move || pass.update(&id, &input, Some(next))).await?;
        Ok(Ok(redirect(step.next().path())))
    } else {
        blocking(move || pass.update(&id, &input, Some(step.key()))).await?;
        Ok(Err(errors))
    }
}

/// Checks the CSRF token of a form, before anything else is done with it.
/// A posted wizard form whose CSRF token is this browser's: read as the handler's last argument,
/// before anything else is done (an unreadable form, then a foreign one, changes nothing).
pub(crate) struct CheckedForm(pub(crate) forms::FormData);

impl axum::extract::FromRequest<PublicState> for CheckedForm {
    type Rejection = WizardError;

    async fn from_request(
        request: axum::extract::Request,
        state: &PublicState,
    ) -> Result<Self, WizardError> {
        let headers = request.headers().clone();
        let form = forms::FormData::extract(
            axum::Form::<Vec<(String, String)>>::from_request(request, state).await,
        )?;
        check_csrf(state, &headers, &form)?;
        Ok(Self(form))
    }
}

pub(crate) fn check_csrf(
    state: &PublicState,
    headers: &HeaderMap,
    form: &forms::FormData,
) -> Result<(), WizardError> {
    if csrf::check(&state.key, headers, form.csrf()) {
        Ok(())
    } else {
        Err(WizardError::Csrf)
    }
}
