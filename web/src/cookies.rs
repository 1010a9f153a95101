//! Cookies, read and written with the `cookie` crate. Every cookie we set is `HttpOnly`,
//! `Secure`, `SameSite=Strict` and scoped to the whole site: both fronts are HTTPS only and no
//! script of ours reads a cookie.

use axum::http::{header, HeaderMap, HeaderValue};
use cookie::{Cookie, SameSite};
use time::Duration;

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The `Set-Cookie` text of cookie `name` = `value`, kept `max_age` (a session cookie when
/// `None`).
pub fn set_string(name: &str, value: &str, max_age: Option<Duration>) -> String {
    let mut c = Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict);
    if let Some(age) = max_age {
        c = c.max_age(age);
    }
    c.build().to_string()
}

/// [`set_string`] as a header value (`None` when `value` cannot be one, which tokens we make
/// never are).
pub fn set(name: &str, value: &str, max_age: Option<Duration>) -> Option<HeaderValue> {
    HeaderValue::from_str(&set_string(name, value, max_age)).ok()
}

/// The `Set-Cookie` text that removes cookie `name`.
pub fn clear_string(name: &str) -> String {
    set_string(name, "", Some(Duration::ZERO))
}

/// [`clear_string`] as a header value.
pub fn clear(name: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(&clear_string(name)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_set_with_every_protection() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; siseri_pass=abc.tok; b=2"),
        );
        assert_eq!(get(&h, "siseri_pass").as_deref(), Some("abc.tok"));
        assert_eq!(get(&h, "absent"), None);
        let s = set_string("siseri_pass", "abc.tok", Some(Duration::weeks(1)));
        for part in [
            "siseri_pass=abc.tok",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=604800",
        ] {
            assert!(s.contains(part), "{s}");
        }
        assert!(clear_string("siseri_pass").contains("Max-Age=0"));
        assert!(!set_string("s", "v", None).contains("Max-Age"));
    }
}
