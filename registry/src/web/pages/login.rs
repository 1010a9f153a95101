//! *Authentification SISERI*: the access-code page (seed section 2 d), and logout.

use crate::directory::{AccessCodeState, DirectoryError, Holder};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use maud::{html, Markup};

use super::layout::{message_page, Page};
use super::{csrf, organisme_page, page_fail, redirect, unknown_certificate_page, Answer, Form};
use crate::web::api::Fail;
use crate::web::ClientCert;
use crate::web::{
    ask, check_code, identify, session_clear_cookie, session_cookie, session_of,
    session_set_cookie, LoginRefusal, RegistryState,
};

fn certificate(cert: Option<Extension<ClientCert>>) -> Result<ClientCert, Fail> {
    cert.map(|c| c.0).ok_or_else(|| {
        page_fail(message_page(
            StatusCode::UNAUTHORIZED,
            "Certificat requis",
            "Présentez votre certificat AC SISERI pour accéder au registre.",
            None,
        ))
    })
}

fn form(csrf: &str, cert_name: &str, state: AccessCodeState, error: Option<&str>) -> Markup {
    html! {
        section.login aria-labelledby="titre" {
            h1 #titre { "Authentification SISERI" }
            p { "Certificat présenté : " span.cert-name { (cert_name) } }
            @match state {
                AccessCodeState::Locked => {
                    div.notice.notice-error role="alert" {
                        p { "Accès bloqué après trop de codes erronés : contactez SISERI pour obtenir un nouveau code." }
                    }
                }
                AccessCodeState::AttemptsLeft(n) => {
                    @if let Some(e) = error {
                        div.notice.notice-error role="alert" { p { (e) } }
                    } @else {
                        div.notice.notice-warning { p { "Un code erroné a déjà été saisi : il vous reste " (n) " essai(s)." } }
                    }
                }
                AccessCodeState::Fresh => {}
            }
            @if state != AccessCodeState::Locked {
                form.form method="post" action="/" {
                    input type="hidden" name="csrf" value=(csrf);
                    div.field {
                        label.label for="f-code" { "Code d'accès" }
                        span.hint { "Le code reçu par courriel (« Mot de passe SISERI »)." }
                        input.input #f-code type="password" name="code" inputmode="numeric"
                            autocomplete="off" required maxlength="32" autofocus;
                    }
                    div.actions.actions-inline {
                        button.btn.btn-primary type="submit" { "Entrer" }
                    }
                }
            }
        }
    }
}

/// `GET /`: the access-code page, or the cartes-données when a session is open.
pub(crate) async fn page(
    State(state): State<RegistryState>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
) -> Answer {
    let cert = certificate(cert)?;
    let caller = match identify(&state, &cert).await {
        Ok(Some(Holder::Person(c))) => c,
        Ok(Some(Holder::DosimetryBody { .. })) => return Err(page_fail(organisme_page())),
        Ok(None) => return Err(page_fail(unknown_certificate_page())),
        Err(e) => return Err(page_fail(internal(e))),
    };
    if session_of(&state, &cert, &headers, &caller).is_ok() {
        return Ok(redirect("/cartes"));
    }
    let hab = caller.habilitation;
    let code_state = ask(&state, move |d| d.access_code_state(hab))
        .await
        .map_err(|e| page_fail(internal(e)))?;
    let token = csrf::login_token(&state.key, &cert.serial);
    let status = if code_state == AccessCodeState::Locked {
        StatusCode::LOCKED
    } else {
        StatusCode::OK
    };
    Ok(Page::new(
        "Authentification SISERI",
        None,
        form(&token, &cert.common_name, code_state, None),
    )
    .status(status)
    .into_response())
}

fn internal(e: DirectoryError) -> Response {
    let status = crate::web::access_error(e).status();
    message_page(
        status,
        "Erreur",
        "Erreur interne : réessayez plus tard.",
        None,
    )
}

/// `POST /` with `code`: opens the session and goes to the cartes-données.
pub(crate) async fn submit(
    State(state): State<RegistryState>,
    cert: Option<Extension<ClientCert>>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let cert = certificate(cert)?;
    let form_data = Form::parse(&headers, &body)?;
    if !csrf::check_login(&state.key, &cert.serial, form_data.get("csrf")) {
        return Err(super::csrf_refused(None));
    }
    let code = form_data.get("code").unwrap_or_default().to_owned();
    let token = csrf::login_token(&state.key, &cert.serial);
    match check_code(&state, &cert, code).await {
        Ok((_, session, _)) => {
            let mut r = redirect("/cartes");
            if let Some(v) = session_set_cookie(&session) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            Ok(r)
        }
        Err(LoginRefusal::Organisme) => Err(page_fail(organisme_page())),
        Err(LoginRefusal::UnknownCertificate) => Err(page_fail(unknown_certificate_page())),
        Err(LoginRefusal::Access(e @ DirectoryError::WrongAccessCode { attempts_left })) => {
            Ok(Page::new(
                "Authentification SISERI",
                None,
                form(
                    &token,
                    &cert.common_name,
                    AccessCodeState::AttemptsLeft(attempts_left),
                    Some(&e.to_string()),
                ),
            )
            .status(StatusCode::UNAUTHORIZED)
            .into_response())
        }
        Err(LoginRefusal::Access(DirectoryError::AccessLocked)) => Ok(Page::new(
            "Authentification SISERI",
            None,
            form(&token, &cert.common_name, AccessCodeState::Locked, None),
        )
        .status(StatusCode::LOCKED)
        .into_response()),
        Err(LoginRefusal::Access(e)) => Err(page_fail(internal(e))),
    }
}

/// `POST /deconnexion`: ends the session.
pub(crate) async fn logout(
    State(state): State<RegistryState>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let form_data = Form::parse(&headers, &body)?;
    if let Some(session) = session_cookie(&headers) {
        if session.is_empty() {
            return Ok(redirect("/"));
        }
        if !csrf::check_session(&state.key, &session, form_data.get("csrf")) {
            return Err(super::csrf_refused(None));
        }
        state.sessions.close(&session);
    }
    Ok(Page::new(
        "Déconnexion",
        None,
        html! {
            h1 { "Vous êtes déconnecté" }
            div.notice.notice-success { p { "Votre session est fermée." } }
            p { a.btn.btn-primary href="/" { "S'authentifier à nouveau" } }
        },
    )
    .cookies(session_clear_cookie())
    .into_response())
}
