//! CSRF tokens of the registry's forms: the HMAC, under the server key, of the session token
//! (which only the browser's HttpOnly cookie holds); on the access-code page, before any
//! session, of the certificate's serial — so that another site cannot make the browser (which
//! presents the certificate by itself) spend the person's five attempts. Nothing is stored;
//! comparisons are constant-time.

use enroll::secrets::ServerKey;

const SESSION_PURPOSE: &str = "registre-csrf";
const LOGIN_PURPOSE: &str = "registre-connexion";

/// The token of a session's forms.
pub(crate) fn session_token(key: &ServerKey, session: &str) -> String {
    hex::encode(key.hash(SESSION_PURPOSE, session))
}

/// Whether `token` belongs to `session`.
pub(crate) fn check_session(key: &ServerKey, session: &str, token: Option<&str>) -> bool {
    check(key, SESSION_PURPOSE, session, token)
}

/// The token of the access-code form shown to the holder of certificate `serial`.
pub(crate) fn login_token(key: &ServerKey, serial: &[u8]) -> String {
    hex::encode(key.hash(LOGIN_PURPOSE, &hex::encode(serial)))
}

/// Whether `token` is the access-code form's for certificate `serial`.
pub(crate) fn check_login(key: &ServerKey, serial: &[u8], token: Option<&str>) -> bool {
    check(key, LOGIN_PURPOSE, &hex::encode(serial), token)
}

fn check(key: &ServerKey, purpose: &str, secret: &str, token: Option<&str>) -> bool {
    token
        .and_then(|t| hex::decode(t.trim()).ok())
        .is_some_and(|raw| key.verify(purpose, secret, &raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_passes_for_its_own_session_or_certificate_only() {
        let key = ServerKey::new(&[7u8; 32]);
        let t = session_token(&key, "session-a");
        assert!(check_session(&key, "session-a", Some(&t)));
        assert!(!check_session(&key, "session-b", Some(&t)));
        assert!(!check_session(&key, "session-a", None));
        assert!(!check_session(&key, "session-a", Some("zz")));
        let l = login_token(&key, &[1, 2, 3]);
        assert!(check_login(&key, &[1, 2, 3], Some(&l)));
        assert!(!check_login(&key, &[1, 2, 4], Some(&l)));
        // A login token is not a session token, even for the same text.
        assert!(!check_session(&key, "010203", Some(&l)));
    }
}
