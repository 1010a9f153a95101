//! The web toolkit both fronts share: the public listener's PASS wizard and withdrawal pages
//! (`enroll::web`) and the registry's pages and API (`registry::web`). One page shell and one
//! stylesheet ([`layout`]), one way to make and check CSRF tokens ([`csrf`]), cookies through
//! the `cookie` crate ([`cookies`]), blocking calls off the reactor ([`blocking`]), and the
//! cause chain of an internal error for the log ([`error_chain`]).
//!
//! What differs between the two fronts (their menus, their routes, what a CSRF token is bound
//! to) stays in their crates.
#![forbid(unsafe_code)]

pub mod cookies;
pub mod csrf;
pub mod form;
pub mod layout;

use std::error::Error;
use std::fmt::Write as _;

pub use tokio::task::JoinError;

/// Runs `f` on the blocking pool (SQLite, PBKDF2, key generation never run on the reactor).
/// A panic in `f` comes back as the [`JoinError`]: the caller answers 500 and the listener
/// keeps serving.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, JoinError> {
    tokio::task::spawn_blocking(f).await
}

/// `error: its cause: the cause's cause…`, for the log line of an internal error (which the
/// client only sees as a generic French 500).
pub fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("lecture du fichier")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_chain_names_every_cause() {
        let e = Outer(std::io::Error::other("disque plein"));
        assert_eq!(error_chain(&e), "lecture du fichier: disque plein");
    }

    #[tokio::test]
    async fn a_panic_in_a_blocking_call_is_an_error_not_a_crash() {
        assert_eq!(blocking(|| 2 + 2).await.ok(), Some(4));
        assert!(blocking(|| -> u8 { panic!("boom") }).await.is_err());
    }
}
