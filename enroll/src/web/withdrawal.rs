//! `/retrait/{token}`: the one-shot withdrawal of a person's certificate. A French page asks
//! for the withdrawal code; scripts may POST JSON. The `.p12` is handed out once.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::error::log_internal;
use super::wizard::csrf;
use super::wizard::layout::Page;
use super::Peer;
use crate::access::{Access, AccessError, Withdrawn};
use store::secrets::ServerKey;

/// State of the withdrawal routes.
#[derive(Debug, Clone)]
pub struct WithdrawalState {
    /// The access life cycle.
    pub access: Arc<Access>,
    /// AC SISERI (a CSR-mode withdrawal issues a certificate).
    pub authority: Arc<ca::Authority>,
    /// For the form's CSRF token.
    pub key: ServerKey,
}

/// `GET` and `POST /retrait/{token}`.
pub fn router(state: WithdrawalState) -> Router {
    Router::new()
        .route("/retrait/{token}", get(page).post(take))
        .with_state(state)
}

#[derive(Deserialize, Default)]
struct TakeBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csr: Option<String>,
    #[serde(default)]
    csrf: Option<String>,
}

async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AccessError> + Send + 'static,
) -> Result<T, AccessError> {
    tokio::task::spawn_blocking(f).await?
}

/// The form posts back to the page's own URL, so the token is never written into the page.
fn form(
    csrf_token: &str,
    error: Option<&str>,
    info: Option<&crate::access::WithdrawalInfo>,
) -> maud::Markup {
    html! {
        h1 { "Retrait de votre certificat SISERI" }
        @if let Some(i) = info {
            p { "À l'attention de " strong { (i.display_name) }
                @if let Some(hab) = i.habilitation { " (N° habilitation SISERI " (hab) ")" }
                @else { " (certificat d'opérateur de la console)" }
                "." }
            p.hint { "Ce lien est valable jusqu'au " (french_date(i.expires_at.date())) " et pour un seul téléchargement. "
                "Il vous reste " (i.attempts_left) " essai(s) pour saisir le code de retrait." }
        }
        @if let Some(e) = error {
            div.error-summary role="alert" { p { (e) } }
        }
        form method="post" {
            input type="hidden" name="csrf" value=(csrf_token);
            div.field {
                label.label for="code" { "Code de retrait " span.required aria-hidden="true" { "*" } }
                p.hint id="code-hint" { "Le code de 9 caractères indiqué dans l'e-mail, par exemple Q835FFRY1." }
                input #code .input type="text" name="code" required autocomplete="off" autocapitalize="characters"
                    spellcheck="false" aria-describedby="code-hint" maxlength="20";
            }
            details {
                summary { "Utilisateur averti : j'ai créé ma propre clé (demande PKCS#10)" }
                div.field {
                    label.label for="csr" { "Demande de certificat (PEM)" }
                    p.hint id="csr-hint" { "Collez ici votre demande « -----BEGIN CERTIFICATE REQUEST----- ». "
                        "Vous recevrez le certificat pour votre clé ; aucun fichier .p12 ne sera conservé." }
                    textarea #csr .input name="csr" rows="8" aria-describedby="csr-hint" {}
                }
            }
            div.actions {
                button.btn.btn-primary type="submit" { "Télécharger le certificat" }
            }
        }
        h2 { "Ensuite" }
        ol {
            li { "Enregistrez le fichier .p12 sur votre poste." }
            li { "Ouvrez-le (ou importez-le dans votre navigateur) avec le mot de passe reçu dans le même e-mail." }
            li { "Connectez-vous au registre SISERI : votre navigateur présentera le certificat, puis saisissez votre code d'accès." }
        }
    }
}

/// `28/01/2027`, as people here write dates.
fn french_date(d: time::Date) -> String {
    store::date::french(d)
}

async fn page(
    State(state): State<WithdrawalState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let access = state.access.clone();
    let t = token.clone();
    let info = run(move || access.withdrawal_info(&t)).await;
    let (csrf_token, cookie) = match csrf::pre_token(&state.key, &headers) {
        Ok(v) => v,
        Err(e) => return error_page(&AccessError::Store(e)),
    };
    match info {
        Ok(info) => Page::new(
            "Retrait du certificat",
            form(&csrf_token, None, Some(&info)),
        )
        .cookie(cookie)
        .into_response(),
        Err(e) => error_page(&e),
    }
}

const INTERNAL_MESSAGE: &str = "Erreur interne : réessayez plus tard.";

/// The status and the French message of a failed withdrawal; an internal cause is logged here
/// and never shown.
fn answer(e: &AccessError) -> (StatusCode, String) {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if e.is_internal() {
        log_internal("retrait", e);
        return (status, INTERNAL_MESSAGE.to_owned());
    }
    (status, e.to_string())
}

fn error_page(e: &AccessError) -> Response {
    let (status, message) = answer(e);
    let page = Page::new(
        "Retrait du certificat",
        html! {
            h1 { "Retrait de votre certificat SISERI" }
            div.error-summary role="alert" { p { (message) } }
            p { "Si vous avez besoin d'un nouveau lien de retrait, contactez le support SISERI." }
        },
    )
    .status(status)
    .into_response();
    with_retry_after(e, page)
}

fn json_error(e: &AccessError) -> Response {
    let (status, message) = answer(e);
    let mut body = json!({"error": e.code(), "message": message, "fields": {}});
    if let AccessError::WrongWithdrawalCode { attempts_left } = e {
        body["attempts_left"] = json!(attempts_left);
    }
    with_retry_after(e, (status, Json(body)).into_response())
}

/// `Retry-After` on a refusal for too many attempts.
fn with_retry_after(e: &AccessError, mut response: Response) -> Response {
    if let AccessError::TooManyAttempts {
        retry_after_minutes,
    } = e
    {
        if let Ok(v) = header::HeaderValue::from_str(&(retry_after_minutes * 60).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

async fn take(
    State(state): State<WithdrawalState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Peer(peer): Peer,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let parsed: Result<TakeBody, String> = if is_json {
        serde_json::from_slice(&body).map_err(|e| {
            format!(
                "Corps JSON illisible (ligne {}, colonne {}).",
                e.line(),
                e.column()
            )
        })
    } else {
        serde_urlencoded_form(&body)
    };
    let req = match parsed {
        Ok(r) => r,
        Err(m) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": "bad_request", "message": m, "fields": {}})),
            )
                .into_response()
        }
    };
    // Forms carry a CSRF token; JSON cannot be sent cross-site without CORS, and the token in
    // the URL is itself the secret.
    if !is_json && !csrf::check(&state.key, &headers, req.csrf.as_deref()) {
        return Page::new(
            "Session expirée",
            html! { h1 { "Votre session a expiré" } p { "Rechargez la page du lien de retrait et recommencez." } },
        )
        .status(StatusCode::FORBIDDEN)
        .into_response();
    }
    let csr = req.csr.filter(|c| !c.trim().is_empty());
    let access = state.access.clone();
    let authority = state.authority.clone();
    let t = token.clone();
    let code = req.code;
    let ip = super::client(&headers, peer).ip;
    let outcome = run(move || {
        access.admit_withdrawal_attempt(&ip)?;
        access.withdraw(&authority, &t, &code, csr.as_deref())
    })
    .await;
    match outcome {
        Ok(Withdrawn::P12 {
            habilitation,
            bytes,
        }) => (
            [
                (header::CONTENT_TYPE, "application/x-pkcs12".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{habilitation}.p12\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            bytes.to_vec(),
        )
            .into_response(),
        Ok(Withdrawn::OperatorP12 { bytes }) => (
            [
                (header::CONTENT_TYPE, "application/x-pkcs12".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"operateur-siseri.p12\"".to_owned(),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            bytes.to_vec(),
        )
            .into_response(),
        Ok(Withdrawn::Chain { habilitation, pem }) => (
            [
                (header::CONTENT_TYPE, "application/x-pem-file".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{habilitation}.pem\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            pem,
        )
            .into_response(),
        Err(e) if is_json => json_error(&e),
        Err(e @ AccessError::WrongWithdrawalCode { .. }) | Err(e @ AccessError::BadCsr(_)) => {
            let access = state.access.clone();
            let info = run(move || access.withdrawal_info(&token)).await.ok();
            let (csrf_token, cookie) = csrf::pre_token(&state.key, &headers).unwrap_or_default();
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN);
            Page::new(
                "Retrait du certificat",
                form(&csrf_token, Some(&e.to_string()), info.as_ref()),
            )
            .status(status)
            .cookie(cookie)
            .into_response()
        }
        Err(e) => error_page(&e),
    }
}

/// `application/x-www-form-urlencoded`, parsed with the `form_urlencoded` rules axum uses.
fn serde_urlencoded_form(body: &[u8]) -> Result<TakeBody, String> {
    let mut out = TakeBody::default();
    for (k, v) in url_pairs(body) {
        match k.as_str() {
            "code" => out.code = v,
            "csr" => out.csr = Some(v),
            "csrf" => out.csrf = Some(v),
            _ => {}
        }
    }
    Ok(out)
}

fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}
