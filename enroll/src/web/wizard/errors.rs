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
            Self::Csrf => notice(
                StatusCode::FORBIDDEN,
                ("Session expirée", "Votre session a expiré, rechargez la page"),
                html! {
                    p {
                        "Pour votre sécurité, ce formulaire n'a pas été pris en compte : il a été envoyé depuis une page trop ancienne ou depuis un autre site. "
                        "Rechargez la page du formulaire puis recommencez ; rien n'a été modifié."
                    }
                },
            )
            .into_response(),
            Self::BadForm => notice(
                StatusCode::BAD_REQUEST,
                ("Formulaire illisible", "Formulaire illisible"),
                html! { p { "Le formulaire reçu n'a pas pu être lu. Revenez à la page précédente et recommencez." } },
            )
            .into_response(),
            Self::Pass(e) => pass_error_page(e),
        }
    }
}

fn pass_error_page(e: PassError) -> Response {
    match e {
        PassError::NotFound | PassError::BadToken => notice(
            StatusCode::NOT_FOUND,
            ("Protocole introuvable", "Protocole introuvable ou session expirée"),
            html! {
                p {
                    "Le protocole demandé n'existe pas, a été abandonné, ou ce navigateur n'y a plus accès. "
                    "Vous pouvez créer un nouveau protocole ou renouveler un protocole existant."
                }
            },
        )
        .cookie(Some(web_cookie::clear_draft_cookie()))
        .into_response(),
        e if e.is_internal() => {
            log_internal("erreur interne de l'assistant PASS", &e);
            notice(
                StatusCode::INTERNAL_SERVER_ERROR,
                ("Erreur interne", "Le service est momentanément indisponible"),
                html! {
                    p {
                        "Une erreur interne est survenue. Les informations déjà enregistrées sont conservées : "
                        "réessayez dans quelques instants."
                    }
                },
            )
            .into_response()
        }
        other => {
            let status =
                StatusCode::from_u16(other.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            notice(
                status,
                ("Action impossible", "Action impossible"),
                html! { p { (other.to_string()) } },
            )
            .into_response()
        }
    }
}

/// A page that only says what happened (`title`, `heading`, then `text`), with the way back to
/// the start of PASS.
fn notice(status: StatusCode, (title, heading): (&str, &str), text: maud::Markup) -> Page {
    Page::new(
        title,
        html! {
            h1 { (heading) }
            (text)
            p { a.btn.btn-primary href="/pass/" { "Revenir à l'accès PASS" } }
        },
    )
    .status(status)
}
