//! CSRF tokens: the HMAC, under the server key and in a named purpose, of a value only the
//! legitimate browser knows (a session token or draft id behind an HttpOnly cookie, a
//! certificate's serial). Nothing is stored; checks are constant-time. What a token is bound to
//! is each front's choice; the making and checking are here, once.

use store::secrets::ServerKey;

/// The name of the hidden field that carries the token in every form.
pub const FIELD: &str = "csrf";

/// The token for `bound_to`, in `purpose` (so that a token of one kind never passes for another).
pub fn token(key: &ServerKey, purpose: &str, bound_to: &str) -> String {
    hex::encode(key.hash(purpose, bound_to))
}

/// Whether `token` (as the form sent it, if it did) is the one for `bound_to` in `purpose`.
pub fn check(key: &ServerKey, purpose: &str, bound_to: &str, token: Option<&str>) -> bool {
    token
        .and_then(|t| hex::decode(t.trim()).ok())
        .is_some_and(|raw| key.verify(purpose, bound_to, &raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_passes_for_its_own_value_and_purpose_only() {
        let key = ServerKey::new(&[7u8; 32]);
        let t = token(&key, "p", "session-a");
        assert!(check(&key, "p", "session-a", Some(&t)));
        assert!(!check(&key, "p", "session-b", Some(&t)));
        assert!(!check(&key, "q", "session-a", Some(&t)));
        assert!(!check(&key, "p", "session-a", None));
        assert!(!check(&key, "p", "session-a", Some("zz")));
    }
}
