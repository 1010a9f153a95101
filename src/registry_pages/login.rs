//! *Authentification SISERI*: the access-code page (seed section 2 d), and logout.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use enroll::access::AccessError;
use maud::{html, Markup};

use super::layout::{message_page, Page};
use super::{csrf, organisme_page, page_fail, redirect, unknown_certificate_page, Form};
use crate::mtls::ClientCert;
use crate::registry_web::api::Fail;
use crate::registry_web::{
    blocking, check_code, identify, session_cookie, session_of, session_set_cookie, Identity,
    LoginRefusal, RegistryState, SESSION_CLEAR_COOKIE,
};

type Answer = Result<Response, Fail>;

/// Where the access code stands for the holder: tries left, or locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeState {
    Fresh,
    AttemptsLeft(u32),
    Locked,
}

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

fn form(csrf: &str, cert_name: &str, state: CodeState, error: Option<&str>) -> Markup {
    html! {
        section.login aria-labelledby="titre" {
            h1 #titre { "Authentification SISERI" }
            p { "Certificat présenté : " span.cert-name { (cert_name) } }
            @match state {
                CodeState::Locked => {
                    div.notice.notice-error role="alert" {
                        p { "Accès bloqué après trop de codes erronés : contactez SISERI pour obtenir un nouveau code." }
                    }
                }
                CodeState::AttemptsLeft(n) => {
                    @if let Some(e) = error {
                        div.notice.notice-error role="alert" { p { (e) } }
                    } @else {
                        div.notice.notice-warning { p { "Un code erroné a déjà été saisi : il vous reste " (n) " essai(s)." } }
                    }
                }
                CodeState::Fresh => {}
            }
            @if state != CodeState::Locked {
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
        Ok(Some(Identity::Person(c))) => c,
        Ok(Some(Identity::Organisme { .. })) => return Err(page_fail(organisme_page())),
        Ok(None) => return Err(page_fail(unknown_certificate_page())),
        Err(e) => return Err(page_fail(internal(e))),
    };
    if session_of(&state, &cert, &headers, &caller).is_ok() {
        return Ok(redirect("/cartes"));
    }
    let access = state.access.clone();
    let hab = caller.habilitation;
    let code = blocking(move || access.accessor(hab).map(|d| d.access_code))
        .await
        .map_err(|e| page_fail(internal(e)))?;
    let code_state = match code {
        None => CodeState::Locked,
        Some(c) if c.status == "locked" => CodeState::Locked,
        Some(c) if c.failed_attempts > 0 => CodeState::AttemptsLeft(
            u32::try_from(i64::from(state.access_code_attempts) - c.failed_attempts).unwrap_or(0),
        ),
        Some(_) => CodeState::Fresh,
    };
    let token = csrf::login_token(&state.key, &cert.serial);
    let status = if code_state == CodeState::Locked {
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

fn internal(e: AccessError) -> Response {
    let status = crate::registry_web::access_error(e).status();
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
        Err(LoginRefusal::Access(e @ AccessError::WrongAccessCode { attempts_left })) => {
            Ok(Page::new(
                "Authentification SISERI",
                None,
                form(
                    &token,
                    &cert.common_name,
                    CodeState::AttemptsLeft(attempts_left),
                    Some(&e.to_string()),
                ),
            )
            .status(StatusCode::UNAUTHORIZED)
            .into_response())
        }
        Err(LoginRefusal::Access(AccessError::AccessLocked)) => Ok(Page::new(
            "Authentification SISERI",
            None,
            form(&token, &cert.common_name, CodeState::Locked, None),
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
    .cookie(HeaderValue::from_static(SESSION_CLEAR_COOKIE))
    .into_response())
}
