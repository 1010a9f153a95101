//! The registry in French HTML, for people with a browser: the access-code page, the
//! *Cartes-données admin.* screen, the workers list and its form, import, export, fractions,
//! doses, the medical follow-up card, the *établissement de rattachement* and its dosimetry
//! bodies.
//!
//! Same rules as the API: each page asks the same service with the same principal, and the
//! service asks the matrix. The matrix is also asked ([`Visitor::may`]) for what to *offer*:
//! a field a role may not see is not rendered, an action it may not do has no button — and is
//! refused by the service anyway. Pages work without JavaScript; every form that changes
//! something carries a CSRF token (HMAC, under the server key, of the session token — or,
//! on the access-code page, of the certificate's serial); search forms use GET and change
//! nothing.

mod alerts;
mod bilans;
mod bodies;
mod cartes;
mod csrf;
mod doses;
mod fractions;
mod import;
mod layout;
mod login;
mod workers;
mod workers_form;

use std::fmt;

use crate::directory::{Establishment, Person};
use crate::policy::allows;
use crate::{Action, DataKind, Principal, Registry, RegistryError};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::directory::{DirectoryError, Holder};
use crate::web::api::Fail;
use crate::web::caller::{path_ids, principal, service, PathTarget, Refusal};
use crate::web::ClientCert;
use crate::web::{access_error, ask, identify, session_of, RegistryState};
use layout::message_page;

/// What a page handler answers: the page, or its refusal.
type Answer = Result<Response, Fail>;

/// The pages' routes.
pub fn routes() -> Router<RegistryState> {
    let e = "/etablissements/{id}";
    Router::new()
        .route("/", get(login::page).post(login::submit))
        .route("/deconnexion", post(login::logout))
        .route(
            web::layout::STYLESHEET_PATH,
            get(|| async { web::layout::stylesheet_response() }),
        )
        .route("/cartes", get(cartes::selector))
        .route("/bilans", get(bilans::menu))
        .route(&format!("{e}/bilans"), get(bilans::page))
        .route(&format!("{e}/bilans.csv"), get(bilans::csv))
        .route(&format!("{e}/rattachement"), get(cartes::establishment))
        .route(
            &format!("{e}/organismes"),
            get(bodies::page).post(bodies::name),
        )
        .route(
            &format!("{e}/organismes/{{oid}}/retirer"),
            post(bodies::remove),
        )
        .route(&format!("{e}/alertes"), get(alerts::page))
        .route(
            &format!("{e}/alertes/{{alert}}/acquitter"),
            post(alerts::acknowledge),
        )
        .route(&format!("{e}/travailleurs"), get(workers::list))
        .route(
            &format!("{e}/travailleurs/modifier"),
            get(workers_form::page).post(workers_form::submit),
        )
        .route(
            &format!("{e}/travailleurs/importer"),
            get(import::page)
                .post(import::submit)
                .layer(DefaultBodyLimit::max(
                    usize::try_from(crate::web::stream::IMPORT_MAX_BYTES).unwrap_or(usize::MAX),
                )),
        )
        .route(&format!("{e}/travailleurs/{{w}}"), get(workers::detail))
        .route(
            &format!("{e}/travailleurs/{{w}}/doses"),
            get(doses::page).post(doses::submit),
        )
        .route(
            &format!("{e}/travailleurs/{{w}}/doses/{{dose}}/historique"),
            get(doses::history),
        )
        .route(
            &format!("{e}/travailleurs/{{w}}/carte"),
            get(doses::card).post(doses::card_submit),
        )
        .route(
            &format!("{e}/travailleurs/{{w}}/grossesse"),
            post(doses::pregnancy_submit),
        )
        .route(
            &format!("{e}/fractions"),
            get(fractions::page).post(fractions::create),
        )
        .route(&format!("{e}/fractions/affecter"), post(fractions::assign))
        .route(
            &format!("{e}/fractions/{{fid}}/renommer"),
            post(fractions::rename),
        )
        .route(
            &format!("{e}/fractions/{{fid}}/supprimer"),
            post(fractions::delete),
        )
}

/// A logged-in person on a page: who, their principal, and their session (for CSRF tokens).
pub(crate) struct Visitor {
    pub person: Person,
    pub principal: Principal,
    session: String,
    key: store::secrets::ServerKey,
}

impl fmt::Debug for Visitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Visitor")
            .field("habilitation", &self.person.habilitation)
            .field("session", &"[elided]")
            .finish_non_exhaustive()
    }
}

impl Visitor {
    /// The CSRF token of this session's forms.
    pub(crate) fn csrf(&self) -> String {
        csrf::session_token(&self.key, &self.session)
    }

    /// Whether a form carries this session's token.
    pub(crate) fn csrf_ok(&self, form: &Form) -> bool {
        csrf::check_session(&self.key, &self.session, form.get("csrf"))
    }

    /// The form posted by this person: read, and its CSRF token checked.
    pub(crate) fn form(&self, headers: &HeaderMap, body: &Bytes) -> Result<Form, Fail> {
        let form = Form::parse(headers, body)?;
        if !self.csrf_ok(&form) {
            return Err(csrf_refused(Some(self)));
        }
        Ok(form)
    }

    /// What the matrix lets the person do on `kind` in establishment `id`: for what to offer
    /// on a page (the service checks again whatever is done).
    pub(crate) fn may(&self, id: i64, kind: DataKind, action: Action) -> bool {
        self.principal
            .roles_in(id)
            .into_iter()
            .any(|role| allows(role, kind, action))
    }

    /// Whether they are attached to establishment `id` at all.
    pub(crate) fn attached(&self, id: i64) -> bool {
        !self.principal.roles_in(id).is_empty()
    }

    /// Asks the service, as this person, off the reactor; a refusal is its page.
    pub(crate) async fn ask<R, F>(&self, state: &RegistryState, f: F) -> Result<R, Fail>
    where
        R: Send + 'static,
        F: FnOnce(&Registry, &Principal) -> crate::Result<R> + Send + 'static,
    {
        self.try_ask(state, f).await.map_err(|r| refused(self, r))
    }

    /// Asks the service, as this person, off the reactor; the refusal is the caller's to show.
    pub(crate) async fn try_ask<R, F>(&self, state: &RegistryState, f: F) -> Result<R, Refusal>
    where
        R: Send + 'static,
        F: FnOnce(&Registry, &Principal) -> crate::Result<R> + Send + 'static,
    {
        let who = self.principal.clone();
        service(state, move |r| f(r, &who)).await
    }

    /// Their roles in `id`, as French labels.
    pub(crate) fn roles_label(&self, id: i64) -> String {
        let mut labels: Vec<&str> = self
            .person
            .attachments
            .iter()
            .filter(|a| a.establishment == id)
            .map(|a| a.role.label())
            .collect();
        labels.dedup();
        labels.join(", ")
    }
}

/// The logged-in person of a page request; without a session, the way to the access-code page.
impl FromRequestParts<RegistryState> for Visitor {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &RegistryState) -> Result<Self, Fail> {
        let Some(cert) = parts.extensions.get::<ClientCert>().cloned() else {
            return Err(page_fail(message_page(
                StatusCode::UNAUTHORIZED,
                "Certificat requis",
                "Présentez votre certificat AC SISERI pour accéder au registre.",
                None,
            )));
        };
        let identity = identify(state, &cert)
            .await
            .map_err(|e| page_fail(access_error_page(e)))?;
        let caller = match identity {
            Some(Holder::Person(c)) => c,
            Some(Holder::DosimetryBody { .. }) => return Err(page_fail(organisme_page())),
            None => return Err(page_fail(unknown_certificate_page())),
        };
        match session_of(state, &cert, &parts.headers, &caller) {
            Ok(session) => Ok(Visitor {
                principal: principal(&Holder::Person(caller.clone()), None),
                person: caller,
                session,
                key: state.key.clone(),
            }),
            Err(_) => Err(page_fail(redirect("/"))),
        }
    }
}

/// A visitor on the establishment of the path, and the worker or fraction the path names after
/// it (`Visit<i64>`). The visitor is checked first (without a session, the access-code page);
/// then the path, a page that does not exist when it names nothing.
#[derive(Debug)]
pub(crate) struct Visit<T = ()> {
    pub v: Visitor,
    /// The establishment `{id}` of the path.
    pub id: i64,
    /// What the path names after it.
    pub target: T,
}

impl<T: PathTarget + Send> FromRequestParts<RegistryState> for Visit<T> {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &RegistryState) -> Result<Self, Fail> {
        let v = Visitor::from_request_parts(parts, state).await?;
        match path_ids(parts).await? {
            Some((id, target)) => Ok(Self { v, id, target }),
            None => Err(no_such_page(Some(&v))),
        }
    }
}

/// A form posted on a page of the establishment of the path: the [`Visit`], then the form read
/// by [`Visitor::form`] (its CSRF token checked).
#[derive(Debug)]
pub(crate) struct Posted<T = ()>(pub Visit<T>, pub Form);

impl<T: PathTarget + Send> FromRequest<RegistryState> for Posted<T> {
    type Rejection = Fail;

    async fn from_request(req: Request, state: &RegistryState) -> Result<Self, Fail> {
        let (mut parts, body) = req.into_parts();
        let visit = Visit::from_request_parts(&mut parts, state).await?;
        let headers = parts.headers.clone();
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| page_fail(e.into_response()))?;
        let form = visit.v.form(&headers, &body)?;
        Ok(Self(visit, form))
    }
}

pub(crate) fn page_fail(r: Response) -> Fail {
    Fail::from(Box::new(r))
}

/// `303 See Other` to `to`.
pub(crate) fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(crate) fn organisme_page() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "Certificat d'organisme de dosimétrie",
        "Ce certificat est celui d'un organisme de dosimétrie : il transmet les résultats de dosimétrie passive par l'API du registre (POST /api/v1/establishments/{id}/doses/passive), sans code d'accès, et ne consulte aucune donnée.",
        None,
    )
}

pub(crate) fn unknown_certificate_page() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        "Accès refusé",
        "Ce certificat n'ouvre aucun accès au registre.",
        None,
    )
}

pub(crate) fn access_error_page(e: DirectoryError) -> Response {
    // The JSON refusal logs internal causes; the page says the same thing in HTML.
    let status = access_error(e).status();
    message_page(
        status,
        "Erreur",
        "Erreur interne : réessayez plus tard.",
        None,
    )
}

/// The service's refusal as a page.
pub(crate) fn refused(visitor: &Visitor, r: Refusal) -> Fail {
    let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let title = match status.as_u16() {
        403 => "Accès refusé",
        404 => "Introuvable",
        409 => "Conflit",
        422 => "Informations à corriger",
        _ => "Erreur",
    };
    page_fail(message_page(status, title, &r.message(), Some(visitor)))
}

/// A form whose CSRF token is missing or wrong: nothing was done.
pub(crate) fn csrf_refused(visitor: Option<&Visitor>) -> Fail {
    page_fail(message_page(
        StatusCode::FORBIDDEN,
        "Formulaire refusé",
        "Le jeton de sécurité du formulaire est absent ou invalide : rien n'a été modifié. Rechargez la page et recommencez.",
        visitor,
    ))
}

/// The establishment `id` for a person attached to it (else "not found").
pub(crate) async fn establishment_of(
    state: &RegistryState,
    visitor: &Visitor,
    id: i64,
) -> Result<Establishment, Fail> {
    let not_found = || {
        page_fail(message_page(
            StatusCode::NOT_FOUND,
            "Introuvable",
            "Établissement introuvable.",
            Some(visitor),
        ))
    };
    if !visitor.attached(id) {
        return Err(not_found());
    }
    match ask(state, move |d| d.establishment(id)).await {
        Ok(Some(e)) => Ok(e),
        Ok(None) => Err(not_found()),
        Err(e) => Err(page_fail(access_error_page(e))),
    }
}

/// The establishment `id` for a person who may change its list (else "not found", or "access
/// refused" for one attached to it in another role).
pub(crate) async fn list_editor(
    state: &RegistryState,
    visitor: &Visitor,
    id: i64,
) -> Result<Establishment, Fail> {
    let e = establishment_of(state, visitor, id).await?;
    if !visitor.may(id, DataKind::AdminComplete, Action::Write) {
        return Err(page_fail(message_page(
            StatusCode::FORBIDDEN,
            "Accès refusé",
            &RegistryError::Forbidden {
                kind: DataKind::AdminComplete,
                action: Action::Write,
            }
            .to_string(),
            Some(visitor),
        )));
    }
    Ok(e)
}

/// The establishment's name, or its protocol number when it has none.
pub(crate) fn name_of(e: &Establishment) -> String {
    e.name()
}

/// An id of the path or of a form; anything else is a page that does not exist.
pub(crate) fn path_id(text: &str, visitor: Option<&Visitor>) -> Result<i64, Fail> {
    text.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| no_such_page(visitor))
}

fn no_such_page(visitor: Option<&Visitor>) -> Fail {
    page_fail(message_page(
        StatusCode::NOT_FOUND,
        "Introuvable",
        "Cette page n'existe pas.",
        visitor,
    ))
}

/// A posted form (`application/x-www-form-urlencoded`), every pair in order.
#[derive(Debug, Default)]
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub(crate) fn parse(headers: &HeaderMap, body: &Bytes) -> Result<Self, Fail> {
        let media = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if media != "application/x-www-form-urlencoded" {
            return Err(page_fail(message_page(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Formulaire illisible",
                "Ce formulaire doit être envoyé par le navigateur (application/x-www-form-urlencoded).",
                None,
            )));
        }
        Ok(Self {
            pairs: form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        })
    }

    /// A form of one field.
    pub(crate) fn single(name: &str, value: &str) -> Self {
        Self {
            pairs: vec![(name.to_owned(), value.to_owned())],
        }
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`, trimmed, when not empty.
    pub(crate) fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// Every value of `name` (checkboxes).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A decimal number typed in French or English (`0,25`, `0.25`); a number that does not read
/// becomes NaN, so that the service refuses it with its own French message.
pub(crate) fn decimal(text: Option<String>) -> Option<f64> {
    text.map(|t| t.replace(',', ".").parse::<f64>().unwrap_or(f64::NAN))
}

/// `%`-encodes a query value.
pub(crate) fn q(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
