//! The wizard's cookies, read by hand: one header to split, no crate needed.

use axum::http::{header, HeaderMap};

/// Name of the draft cookie: `<id>.<token>`.
pub const DRAFT_COOKIE: &str = "siseri_pass";

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The draft cookie, split into (id, token).
pub fn draft_cookie(headers: &HeaderMap) -> Option<(String, String)> {
    let value = cookie(headers, DRAFT_COOKIE)?;
    let (id, token) = value.split_once('.')?;
    Some((id.to_owned(), token.to_owned()))
}

/// `Set-Cookie` for the draft: HttpOnly, Secure, SameSite=Strict, a week.
pub fn set_draft_cookie(id: &str, token: &str) -> String {
    format!(
        "{DRAFT_COOKIE}={id}.{token}; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=604800"
    )
}

/// `Set-Cookie` that removes the draft cookie.
pub fn clear_draft_cookie() -> String {
    format!("{DRAFT_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0")
}
