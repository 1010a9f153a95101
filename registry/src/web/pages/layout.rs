//! The registry's pages in the shell both fronts share ([`web::layout`]): the registry's menu
//! and width, its controls and the collector of a form's errors.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use web::layout::{html_response, Front, Shell};

use super::Visitor;

/// The registry's pages: wide, for tables.
const REGISTRY: Front = Front {
    title_suffix: " — Registre SISERI",
    wide: true,
    footer: "Registre SISERI — accès par certificat AC SISERI et code d'accès.",
};

/// A whole page: its status, title, the person (for the band's menu), and cookies to set.
#[derive(Debug)]
pub(crate) struct Page<'a> {
    status: StatusCode,
    title: String,
    visitor: Option<&'a Visitor>,
    summary: Vec<(String, String)>,
    body: Markup,
    cookies: Vec<HeaderValue>,
}

impl<'a> Page<'a> {
    pub(crate) fn new(
        title: impl Into<String>,
        visitor: Option<&'a Visitor>,
        body: Markup,
    ) -> Self {
        Self {
            status: StatusCode::OK,
            title: title.into(),
            visitor,
            summary: Vec::new(),
            body,
            cookies: Vec::new(),
        }
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// The error summary at the top: `(anchor, message)` in the page's order.
    pub(crate) fn summary(mut self, summary: Vec<(String, String)>) -> Self {
        self.summary = summary;
        self
    }

    pub(crate) fn cookies(mut self, cookies: impl IntoIterator<Item = HeaderValue>) -> Self {
        self.cookies.extend(cookies);
        self
    }

    fn markup(&self) -> Markup {
        let nav = self.visitor.map(|v| {
            html! {
                ul {
                    li { a href="/cartes" { "Cartes-données admin." } }
                    @if v.person.attachments.iter().any(|a| v.may(a.establishment, crate::DataKind::EffectiveDose, crate::Action::Read)) {
                        li { a href="/bilans" { "Bilans" } }
                    }
                    li.who { (v.person.display_name) }
                    li {
                        form.inline method="post" action="/deconnexion" {
                            input type="hidden" name=(web::csrf::FIELD) value=(v.csrf());
                            button.btn.btn-small.btn-logout type="submit" { "Se déconnecter" }
                        }
                    }
                }
            }
        });
        Shell {
            front: &REGISTRY,
            title: &self.title,
            nav,
            before: None,
            summary: &self.summary,
            body: self.body.clone(),
        }
        .render()
    }
}

impl IntoResponse for Page<'_> {
    fn into_response(self) -> Response {
        html_response(self.status, self.markup(), self.cookies)
    }
}

/// A page that only says something went wrong (or was refused).
pub(crate) fn message_page(
    status: StatusCode,
    title: &str,
    message: &str,
    visitor: Option<&Visitor>,
) -> Response {
    let back = visitor.is_some();
    Page::new(
        title,
        visitor,
        html! {
            h1 { (title) }
            div.notice.notice-error role="alert" { p { (message) } }
            @if back {
                p { a href="/cartes" { "Retour aux cartes-données" } }
            } @else {
                p { a href="/" { "Retour à l'authentification" } }
            }
        },
    )
    .status(status)
    .into_response()
}

/// Form errors by field name, shown beside each control and summed up at the top.
#[derive(Debug, Default)]
pub(crate) struct Errors {
    map: BTreeMap<String, String>,
}

impl Errors {
    pub(crate) fn new(map: BTreeMap<String, String>) -> Self {
        Self { map }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.map.get(field).map(String::as_str)
    }

    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.map
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    /// The summary, in the order of `fields` (the page's), then any other message.
    pub(crate) fn summary(&self, fields: &[&str]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = fields
            .iter()
            .filter_map(|f| self.map.get(*f).map(|m| (format!("f-{f}"), m.clone())))
            .collect();
        out.extend(
            self.map
                .iter()
                .filter(|(k, _)| !fields.contains(&k.as_str()))
                .map(|(_, m)| ("contenu".to_owned(), m.clone())),
        );
        out
    }
}

/// What labels a control: its field name (the control's id is `f-NAME`), its text, whether it
/// is required, and a hint.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Label<'a> {
    pub name: &'a str,
    pub text: &'a str,
    pub required: bool,
    pub hint: Option<&'a str>,
}

impl<'a> Label<'a> {
    pub(crate) fn new(name: &'a str, text: &'a str) -> Self {
        Self {
            name,
            text,
            required: false,
            hint: None,
        }
    }

    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(crate) fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// A control with its label, hint and error.
pub(crate) fn labelled(l: &Label<'_>, errors: &Errors, control: Markup) -> Markup {
    let error = errors.get(l.name);
    html! {
        div.field.field-error[error.is_some()] {
            label.label for={ "f-" (l.name) } {
                (l.text)
                @if l.required { " " abbr.required title="obligatoire" { "*" } }
            }
            @if let Some(h) = l.hint { span.hint { (h) } }
            @if let Some(e) = error { p.error-message id={ "e-" (l.name) } { (e) } }
            (control)
        }
    }
}

/// A text input, with the suggestions of datalist `list` when given.
pub(crate) fn text_input(
    l: &Label<'_>,
    value: &str,
    errors: &Errors,
    list: Option<&str>,
) -> Markup {
    let invalid = errors.get(l.name).is_some();
    labelled(
        l,
        errors,
        html! {
            input.input type="text" id={ "f-" (l.name) } name=(l.name) value=(value)
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=[invalid.then(|| format!("e-{}", l.name))]
                list=[list];
        },
    )
}

/// A `<select>` of `(value, text)` options, `selected` chosen.
pub(crate) fn select(
    l: &Label<'_>,
    options: &[(String, String)],
    selected: &str,
    errors: &Errors,
) -> Markup {
    let invalid = errors.get(l.name).is_some();
    labelled(
        l,
        errors,
        html! {
            select.select id={ "f-" (l.name) } name=(l.name)
                aria-invalid=[invalid.then_some("true")] {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        },
    )
}
