//! CSRF tokens of the registry's forms ([`web::csrf`]): bound to the session token (which only
//! the browser's HttpOnly cookie holds); on the access-code page, before any session, to the
//! certificate's serial — so that another site cannot make the browser (which presents the
//! certificate by itself) spend the person's five attempts.

use store::secrets::ServerKey;

const SESSION_PURPOSE: &str = "registre-csrf";
const LOGIN_PURPOSE: &str = "registre-connexion";

/// The token of a session's forms.
pub(crate) fn session_token(key: &ServerKey, session: &str) -> String {
    web::csrf::token(key, SESSION_PURPOSE, session)
}

/// Whether `token` belongs to `session`.
pub(crate) fn check_session(key: &ServerKey, session: &str, token: Option<&str>) -> bool {
    web::csrf::check(key, SESSION_PURPOSE, session, token)
}

/// The token of the access-code form shown to the holder of certificate `serial`.
pub(crate) fn login_token(key: &ServerKey, serial: &[u8]) -> String {
    web::csrf::token(key, LOGIN_PURPOSE, &hex::encode(serial))
}

/// Whether `token` is the access-code form's for certificate `serial`.
pub(crate) fn check_login(key: &ServerKey, serial: &[u8], token: Option<&str>) -> bool {
    web::csrf::check(key, LOGIN_PURPOSE, &hex::encode(serial), token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_token_is_not_a_session_token_even_for_the_same_text() {
        let key = ServerKey::new(&[7u8; 32]);
        let l = login_token(&key, &[1, 2, 3]);
        assert!(check_login(&key, &[1, 2, 3], Some(&l)));
        assert!(!check_login(&key, &[1, 2, 4], Some(&l)));
        assert!(!check_session(&key, "010203", Some(&l)));
        let t = session_token(&key, "session-a");
        assert!(check_session(&key, "session-a", Some(&t)));
        assert!(!check_session(&key, "session-b", Some(&t)));
    }
}
