//! CSRF tokens of the wizard's forms ([`web::csrf`]). Once a draft exists the token is bound to
//! it (the HMAC of its id, which only its cookie holder knows); before, to a random pre-session
//! cookie. Either way the server stores nothing and compares in constant time.

use axum::http::HeaderMap;

use crate::web_cookie;
use store::secrets::ServerKey;

/// Name of the pre-session cookie.
pub(crate) const PRE_COOKIE: &str = "siseri_csrf";
/// Name of the hidden field.
pub(crate) const FIELD: &str = web::csrf::FIELD;

const DRAFT_PURPOSE: &str = "csrf";
const PRE_PURPOSE: &str = "csrf-pre";

/// The token of a draft's forms.
pub(crate) fn draft_token(key: &ServerKey, draft_id: &str) -> String {
    web::csrf::token(key, DRAFT_PURPOSE, draft_id)
}

/// The token of a page shown before a draft exists, and the `Set-Cookie` to send when the
/// browser has no pre-session cookie yet.
pub(crate) fn pre_token(
    key: &ServerKey,
    headers: &HeaderMap,
) -> Result<(String, Option<String>), store::Error> {
    if let Some(value) = pre_cookie(headers) {
        return Ok((web::csrf::token(key, PRE_PURPOSE, &value), None));
    }
    let value = hex::encode(store::random::random_bytes::<32>()?);
    let token = web::csrf::token(key, PRE_PURPOSE, &value);
    Ok((
        token,
        Some(web::cookies::set_string(PRE_COOKIE, &value, None)),
    ))
}

/// A well-formed pre-session cookie (64 hex digits), if any.
fn pre_cookie(headers: &HeaderMap) -> Option<String> {
    web_cookie::cookie(headers, PRE_COOKIE)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `token` was issued to this browser: for the draft of its cookie, or for its
/// pre-session cookie.
pub(crate) fn check(key: &ServerKey, headers: &HeaderMap, token: Option<&str>) -> bool {
    let for_draft = web_cookie::draft_cookie(headers)
        .is_some_and(|(id, _)| web::csrf::check(key, DRAFT_PURPOSE, &id, token));
    let for_pre =
        pre_cookie(headers).is_some_and(|c| web::csrf::check(key, PRE_PURPOSE, &c, token));
    for_draft || for_pre
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, HeaderValue};

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn a_draft_token_passes_only_with_its_own_draft_cookie() {
        let key = ServerKey::new(&[1u8; 32]);
        let token = draft_token(&key, "abc");
        assert!(check(&key, &headers("siseri_pass=abc.tok"), Some(&token)));
        assert!(!check(&key, &headers("siseri_pass=abd.tok"), Some(&token)));
        assert!(!check(&key, &HeaderMap::new(), Some(&token)));
        assert!(!check(&key, &headers("siseri_pass=abc.tok"), None));
        assert!(!check(&key, &headers("siseri_pass=abc.tok"), Some("zz")));
    }

    #[test]
    fn a_pre_session_token_is_bound_to_its_cookie() {
        let key = ServerKey::new(&[1u8; 32]);
        let (token, set) = pre_token(&key, &HeaderMap::new()).unwrap();
        let set = set.unwrap();
        assert!(
            set.contains("HttpOnly") && set.contains("Secure") && set.contains("SameSite=Strict")
        );
        let value = set.split(';').next().unwrap();
        let h = headers(value);
        assert!(check(&key, &h, Some(&token)));
        let (again, none) = pre_token(&key, &h).unwrap();
        assert_eq!((again.as_str(), none), (token.as_str(), None));
        let other = headers(&format!("{PRE_COOKIE}={}", "0".repeat(64)));
        assert!(!check(&key, &other, Some(&token)));
    }
}
