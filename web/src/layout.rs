//! The page shell of both fronts: the blue band with the SISERI brand, the skip link, the error
//! summary, the main column and the footer, in French and to RGAA (WCAG 2.1 AA). Each front
//! brings its own menu, width and footer line ([`Front`]); the stylesheet is one.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

/// The one stylesheet of both fronts, served at [`STYLESHEET_PATH`].
pub const STYLESHEET: &str = include_str!("../assets/siseri.css");
/// Where each front serves [`STYLESHEET`].
pub const STYLESHEET_PATH: &str = "/assets/siseri.css";

/// What sets a front's pages apart.
#[derive(Debug, Clone, Copy)]
pub struct Front {
    /// Appended to every title: `" — PASS — SISERI"`.
    pub title_suffix: &'static str,
    /// Wide screens (tables) rather than the wizard's reading column.
    pub wide: bool,
    /// The footer's second line.
    pub footer: &'static str,
}

/// One page, before it is rendered.
#[derive(Debug)]
pub struct Shell<'a> {
    /// Whose page.
    pub front: &'a Front,
    /// The page's title (without the front's suffix).
    pub title: &'a str,
    /// The front's menu in the band, if the page shows one.
    pub nav: Option<Markup>,
    /// What comes first in the main column (the wizard's step indicator).
    pub before: Option<Markup>,
    /// The error summary: `(anchor, message)` in the page's order; "Erreur : " prefixes the
    /// title when it is not empty.
    pub summary: &'a [(String, String)],
    /// The page itself.
    pub body: Markup,
}

impl Shell<'_> {
    /// The whole HTML document.
    pub fn render(self) -> Markup {
        let failed = !self.summary.is_empty();
        let container = if self.front.wide {
            "container wide"
        } else {
            "container"
        };
        html! {
            (DOCTYPE)
            html lang="fr" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="robots" content="noindex";
                    title {
                        @if failed { "Erreur : " }
                        (self.title) (self.front.title_suffix)
                    }
                    link rel="stylesheet" href=(STYLESHEET_PATH);
                }
                body {
                    a.skip-link href="#contenu" { "Aller au contenu" }
                    header.band {
                        div class={ (container) " band-inner" } {
                            a.brand href="/" {
                                span.brand-name { "SISERI" }
                                span.visually-hidden { " — " }
                                span.brand-long {
                                    "Système d'Information de la Surveillance de l'Exposition aux Rayonnements Ionisants"
                                }
                            }
                            @if let Some(nav) = self.nav {
                                nav.top-nav aria-label="Navigation principale" { (nav) }
                            }
                        }
                    }
                    main #contenu class=(container) tabindex="-1" {
                        @if let Some(before) = self.before { (before) }
                        @if failed { (error_summary(self.summary)) }
                        (self.body)
                    }
                    footer.footer {
                        div class=(container) {
                            p { "Les informations contenues sur ce site sont confidentielles." }
                            p { (self.front.footer) }
                        }
                    }
                }
            }
        }
    }
}

/// The list of a form's errors at the top of the page, each a link to its control.
pub fn error_summary(entries: &[(String, String)]) -> Markup {
    html! {
        div.error-summary role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus {
            h2 #error-summary-title { "Le formulaire contient des erreurs" }
            ul {
                @for (id, message) in entries {
                    li { a href={ "#" (id) } { (message) } }
                }
            }
        }
    }
}

/// An HTML response: `status`, the document, `cookies` to set. Pages carry personal data or
/// form tokens: no cache keeps them.
pub fn html_response(
    status: StatusCode,
    document: Markup,
    cookies: impl IntoIterator<Item = HeaderValue>,
) -> Response {
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        document.into_string(),
    )
        .into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The stylesheet (embedded: no external font nor CDN), cached an hour.
pub fn stylesheet_response() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        STYLESHEET,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRONT: Front = Front {
        title_suffix: " — Essai",
        wide: true,
        footer: "Pied de page.",
    };

    #[test]
    fn a_page_with_errors_says_so_in_its_title_and_links_each_error() {
        let summary = vec![("f-nom".to_owned(), "Le nom est obligatoire.".to_owned())];
        let page = Shell {
            front: &FRONT,
            title: "Formulaire",
            nav: Some(html! { ul { li { "Menu" } } }),
            before: None,
            summary: &summary,
            body: html! { p { "<b>" } },
        }
        .render()
        .into_string();
        assert!(
            page.contains("<title>Erreur : Formulaire — Essai</title>"),
            "{page}"
        );
        assert!(page.contains(r##"<a href="#f-nom">Le nom est obligatoire.</a>"##));
        assert!(page.contains("&lt;b&gt;"), "text is escaped");
        assert!(page.contains(r#"<html lang="fr">"#));
        assert!(page.contains("Pied de page."));
    }
}
