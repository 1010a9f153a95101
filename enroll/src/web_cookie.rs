//! The wizard's cookies (the `cookie` crate, through [`web::cookies`]).

use axum::http::HeaderMap;

/// Name of the draft cookie: `<id>.<token>`.
pub const DRAFT_COOKIE: &str = "siseri_pass";

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    web::cookies::get(headers, name)
}

/// The draft cookie, split into (id, token).
pub fn draft_cookie(headers: &HeaderMap) -> Option<(String, String)> {
    let value = cookie(headers, DRAFT_COOKIE)?;
    let (id, token) = value.split_once('.')?;
    Some((id.to_owned(), token.to_owned()))
}

/// `Set-Cookie` for the draft: HttpOnly, Secure, SameSite=Strict, a week.
pub fn set_draft_cookie(id: &str, token: &str) -> String {
    web::cookies::set_string(
        DRAFT_COOKIE,
        &format!("{id}.{token}"),
        Some(time::Duration::weeks(1)),
    )
}

/// `Set-Cookie` that removes the draft cookie.
pub fn clear_draft_cookie() -> String {
    web::cookies::clear_string(DRAFT_COOKIE)
}
