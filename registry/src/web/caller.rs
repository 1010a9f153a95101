//! Who the registry's service sees: the holder of the connection's certificate as a
//! [`crate::Principal`], the API's [`Caller`] on the establishment of its path, and the calls
//! to the service, off the reactor.

use crate::{Identity, Principal, Registry, RegistryError};
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::api::{not_found, Fail};
use super::{access_error, ask, cert_of, identify, logged_in, unknown_certificate, RegistryState};
use crate::directory::Holder;
use crate::web::ClientCert;

/// The one mapping from a certificate's holder to the principal the service checks.
///
/// - A person (profile `person`, known to `enroll`): their N° habilitation and every
///   establishment they are attached to, with the role held there (CSE, PCR, MDT). Whatever
///   establishment the request names, the principal is the same: the service answers "not
///   found" for one they are not attached to.
/// - A dosimetry body (profile `organisme`): attached, as [`Role::DosimetryBody`], to the
///   establishment of the request alone, and only when that establishment exists (it has an
///   approved protocol); `existing_establishment` is that id, checked by the caller.
///
/// Being attached is not enough for a body: the service lets it in only where the
/// establishment has *named* it as its dosimetry body ([`crate::policy::admits`],
/// [`Registry::admit`]), which the correspondent declares in the registry (or an operator from
/// the CLI). The employer chooses (and changes) its laboratory without a new protocol, hence a
/// relation kept in the registry rather than in the protocol. Where it is named, the matrix
/// still lets a body send passive dosimetry results and nothing else — it reads nothing, not
/// even what it sent, and it never has an access code or a session: its certificate alone
/// identifies it.
pub fn principal(identity: &Holder, existing_establishment: Option<i64>) -> Principal {
    match identity {
        Holder::Person(caller) => Principal::accessor(
            caller.habilitation.to_string(),
            caller.attachments.iter().map(|a| (a.establishment, a.role)),
        ),
        Holder::DosimetryBody { name } => {
            Principal::dosimetry_body(name.clone(), existing_establishment)
        }
    }
}

/// The caller of an API request on `establishment`: a logged-in person (certificate and
/// session), or a dosimetry body (certificate alone).
async fn api_principal(
    state: &RegistryState,
    cert: &ClientCert,
    headers: &HeaderMap,
    establishment: i64,
) -> Result<Principal, Box<Response>> {
    let identity = identify(state, cert)
        .await
        .map_err(|e| Box::new(access_error(e)))?;
    match identity {
        Some(Holder::Person(caller)) => {
            let caller = logged_in(state, cert, headers, caller)?;
            Ok(principal(&Holder::Person(caller), None))
        }
        Some(body @ Holder::DosimetryBody { .. }) => {
            let exists = ask(state, move |d| d.establishment(establishment))
                .await
                .map_err(|e| Box::new(access_error(e)))?
                .is_some();
            Ok(principal(&body, exists.then_some(establishment)))
        }
        None => Err(Box::new(unknown_certificate())),
    }
}

/// What a path names after its establishment `{id}`: nothing (`()`), the id of a worker or
/// a fraction (`i64`), or a worker and one of their results (`(i64, i64)`).
pub(crate) trait PathTarget: Sized {
    /// The target, from the path's other ids in their order; `None` when the path has not
    /// such ids.
    fn from_ids(ids: &[i64]) -> Option<Self>;
}

impl PathTarget for () {
    fn from_ids(_: &[i64]) -> Option<Self> {
        Some(())
    }
}

impl PathTarget for i64 {
    fn from_ids(ids: &[i64]) -> Option<Self> {
        ids.last().copied()
    }
}

impl PathTarget for (i64, i64) {
    fn from_ids(ids: &[i64]) -> Option<Self> {
        match ids {
            [a, b] => Some((*a, *b)),
            _ => None,
        }
    }
}

/// The establishment `{id}` of the path and the target after it, or `Ok(None)` when either is
/// not an id (then the path names nothing); `Err` when the path itself is unreadable.
pub(crate) async fn path_ids<T: PathTarget>(
    parts: &mut Parts,
) -> Result<Option<(i64, T)>, Box<Response>> {
    let params = RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|e| Box::new(e.into_response()))?;
    let id = |value: &str| value.parse::<i64>().ok().filter(|n| *n > 0);
    let (mut establishment, mut others) = (None, Vec::new());
    for (name, value) in &params {
        let Some(value) = id(value) else {
            return Ok(None);
        };
        if name == "id" {
            establishment = Some(value);
        } else {
            others.push(value);
        }
    }
    Ok(establishment.zip(T::from_ids(&others)))
}

/// The caller of an API request on the establishment of its path, and the worker or fraction
/// the path names after it (`Caller<i64>`).
///
/// The path is read first, so that a path naming nothing is "not found" whoever asks; then the
/// certificate and, for a person, the session. Refusals are the API's JSON errors.
#[derive(Debug)]
pub(crate) struct Caller<T = ()> {
    /// Who the service checks.
    pub principal: Principal,
    /// The establishment `{id}` of the path.
    pub establishment: i64,
    /// What the path names after it.
    pub target: T,
    /// The state the service is asked through.
    pub state: RegistryState,
}

impl<T: PathTarget + Send> FromRequestParts<RegistryState> for Caller<T> {
    type Rejection = Fail;

    async fn from_request_parts(parts: &mut Parts, state: &RegistryState) -> Result<Self, Fail> {
        let (establishment, target) = path_ids(parts).await?.ok_or_else(not_found)?;
        let cert = cert_of(parts.extensions.get::<ClientCert>())?;
        let principal = api_principal(state, &cert, &parts.headers, establishment).await?;
        if matches!(principal.identity, Identity::DosimetryBody { .. }) {
            // Before the body of the request is even read: one answer for a body that this
            // establishment has not named, whatever it sends.
            let who = principal.clone();
            service(state, move |r| r.admit(&who, establishment)).await?;
        }
        Ok(Self {
            principal,
            establishment,
            target,
            state: state.clone(),
        })
    }
}

impl<T> Caller<T> {
    /// Asks the service, as this caller, off the reactor.
    pub(crate) async fn ask<R, F>(self, f: F) -> Result<R, Refusal>
    where
        R: Send + 'static,
        F: FnOnce(&Registry, &Principal) -> crate::Result<R> + Send + 'static,
    {
        let who = self.principal;
        service(&self.state, move |r| f(r, &who)).await
    }
}

/// Why a call to the service gave no answer.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The service's own refusal or failure.
    Registry(RegistryError),
    /// The blocking task died (details in the log only).
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl From<RegistryError> for Refusal {
    fn from(e: RegistryError) -> Self {
        Self::Registry(e)
    }
}

impl Refusal {
    /// HTTP status.
    pub(crate) fn status(&self) -> u16 {
        match self {
            Self::Registry(e) => e.status(),
            Self::Internal(_) => 500,
        }
    }

    /// The French message for the person; internal failures say nothing of their cause, which
    /// goes to the log (with its chain) here.
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Registry(e) if e.status() < 500 => e.to_string(),
            Self::Registry(e) => {
                tracing::error!(cause = %web::error_chain(e), "registre : erreur interne");
                e.to_string()
            }
            Self::Internal(cause) => {
                tracing::error!(cause = %web::error_chain(cause.as_ref()), "registre : tâche interrompue");
                "Erreur interne : réessayez plus tard.".to_owned()
            }
        }
    }
}

/// Runs a call to the service on the blocking pool (SQLite blocks).
pub(crate) async fn service<T, F>(state: &RegistryState, f: F) -> Result<T, Refusal>
where
    T: Send + 'static,
    F: FnOnce(&Registry) -> crate::Result<T> + Send + 'static,
{
    let registry = state.registry.clone();
    match web::blocking(move || f(&registry)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Refusal::Registry(e)),
        Err(e) => Err(Refusal::Internal(Box::new(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::{Attachment, Person};
    use crate::Role;

    #[test]
    fn a_persons_roles_come_from_their_attachments() {
        let caller = Person {
            habilitation: 42003,
            display_name: "Pierre DILLENSEGER".into(),
            attachments: vec![
                Attachment {
                    establishment: 1,
                    role: Role::Pcr,
                    sends_dosimetry: true,
                },
                Attachment {
                    establishment: 2,
                    role: Role::Cse,
                    sends_dosimetry: false,
                },
            ],
        };
        let p = principal(&Holder::Person(caller), Some(3));
        assert_eq!(
            p,
            Principal::accessor("42003", [(1, Role::Pcr), (2, Role::Cse)])
        );
        assert!(p.roles_in(3).is_empty());
    }

    #[test]
    fn a_dosimetry_body_is_attached_to_the_existing_establishment_it_names_only() {
        let body = Holder::DosimetryBody {
            name: "LANDAUER".into(),
        };
        let p = principal(&body, Some(7));
        assert_eq!(
            p.roles_in(7).into_iter().collect::<Vec<_>>(),
            [Role::DosimetryBody]
        );
        assert!(p.roles_in(8).is_empty());
        assert!(principal(&body, None).attachments.is_empty());
    }
}
