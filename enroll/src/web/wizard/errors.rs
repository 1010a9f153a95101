//! What the wizard answers when something fails outside a form's own fields: French pages,
//! never a debug dump; the cause of an internal error goes to the log only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::layout::Page;
use super::redirect;
use crate::pass::PassError;
use crate::web::error::log_internal;
use crate::web_cookie;

/// A failure of a wizard handler.
#[derive(Debug)]
pub(crate) enum WizardError {
    /// From PASS.
    Pass(PassError),
    /// The form's CSRF token is missing or not this browser's: nothing was changed.
    Csrf,
    /// No draft cookie: the person starts from the start page.
    NoSession,
    /// Somewhere else to be (a signed draft's confirmation page).
    Redirect(&'static str),
    /// A body that is not the form we sent.
    BadForm,
}

impl From<PassError> for WizardError {
    fn from(e: PassError) -> Self {
        Self::Pass(e)
    }
}

impl From<store::Error> for WizardError {
    fn from(e: store::Error) -> Self {
        Self::Pass(PassError::Store(e))
    }
}

impl From<ca::Error> for WizardError {
    fn from(e: ca::Error) -> Self {
        Self::Pass(PassError::Ca(e))
    }
}

impl IntoResponse for WizardError {
    fn into_response(self) -> Response {
        match self {
            Self::NoSession => redirect("/pass/"),
            Self::Redirect(to) => redirect(to),
            Self::Csrf => Page::new(
                "Session expirée",
                html! {
                    h1 { "Votre session a expiré, rechargez la page" }
                    p {
                        "Pour votre sécurité, ce formulaire n'a pas été pris en compte : il a été envoyé depuis une page trop ancienne ou depuis un autre site. "
                        "Rechargez la page du formulaire puis recommencez ; rien n'a été modifié."
                    }
                    p { a.btn.btn-primary href="/pass/" { "Revenir à l'accès PASS" } }
                },
            )
            .status(StatusCode::FORBIDDEN)
            .into_response(),
            Self::BadForm => Page::new(
                "Formulaire illisible",
                html! {
                    h1 { "Formulaire illisible" }
                    p { "Le formulaire reçu n'a pas pu être lu. Revenez à la page précédente et recommencez." }
                    p { a.btn.btn-primary href="/pass/" { "Revenir à l'accès PASS" } }
                },
            )
            .status(StatusCode::BAD_REQUEST)
            .into_response(),
            Self::Pass(e) => pass_error_page(e),
        }
    }
}

fn pass_error_page(e: PassError) -> Response {
    match e {
        PassError::NotFound | PassError::BadToken => Page::new(
            "Protocole introuvable",
            html! {
                h1 { "Protocole introuvable ou session expirée" }
                p {
                    "Le protocole demandé n'existe pas, a été abandonné, ou ce navigateur n'y a plus accès. "
                    "Vous pouvez créer un nouveau protocole ou renouveler un protocole existant."
                }
                p { a.btn.btn-primary href="/pass/" { "Revenir à l'accès PASS" } }
            },
        )
        .status(StatusCode::NOT_FOUND)
        .cookie(Some(web_cookie::clear_draft_cookie()))
        .into_response(),
        e if e.is_internal() => {
            log_internal("erreur interne de l'assistant PASS", &e);
            Page::new(
                "Erreur interne",
                html! {
                    h1 { "Le service est momentanément indisponible" }
                    p {
                        "Une erreur interne est survenue. Les informations déjà enregistrées sont conservées : "
                        "réessayez dans quelques instants."
                    }
                    p { a.btn.btn-primary href="/pass/" { "Revenir à l'accès PASS" } }
                },
            )
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .into_response()
        }
        other => {
            let status =
                StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            Page::new(
                "Action impossible",
                html! {
                    h1 { "Action impossible" }
                    p { (other.to_string()) }
                    p { a.btn.btn-primary href="/pass/" { "Revenir à l'accès PASS" } }
                },
            )
            .status(status)
            .into_response()
        }
    }
}
