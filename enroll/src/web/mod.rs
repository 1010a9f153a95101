//! The public front of PASS over HTTP: the JSON API for scripts and the HTML wizard for people.
//! Handlers hold no SQL and no rule: they call [`crate::pass::Pass`] off the async reactor.

mod api;
pub mod console;
mod error;
pub mod withdrawal;
pub mod wizard;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::Router;

pub use error::ApiError;

use crate::pass::{Client, Pass};

/// Shared state of the public handlers.
#[derive(Debug, Clone)]
pub struct PublicState {
    /// PASS.
    pub pass: Arc<Pass>,
    /// Server key, for CSRF tokens.
    pub key: store::secrets::ServerKey,
    /// Wakes the outbox worker after a message was queued.
    pub outbox: crate::outbox::WorkerSignal,
}

/// `/api/v1/protocols…`, and the wizard's pages (`/`, `/pass/…`, `/assets/siseri.css`).
pub fn router(state: PublicState) -> Router {
    api::router(state.clone()).merge(wizard::router(state))
}

/// Runs blocking work (SQLite, hashing) on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::pass::PassError> + Send + 'static,
) -> Result<T, crate::pass::PassError> {
    tokio::task::spawn_blocking(f).await?
}

/// The peer address, which the daemon inserts per connection as `ConnectInfo`.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// Who is calling: the peer address (set per connection by the daemon) and the user agent.
pub(crate) fn client(headers: &HeaderMap, peer: Option<SocketAddr>) -> Client {
    Client {
        ip: peer.map(|p| p.ip().to_string()).unwrap_or_default(),
        user_agent: headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .take(300)
            .collect(),
    }
}
