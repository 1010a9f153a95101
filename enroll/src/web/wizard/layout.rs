//! The page shell (header band, step indicator, error summary) and the form controls every step
//! uses: labels bound to their inputs, hints and error messages referenced by
//! `aria-describedby`, required fields marked.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::{add_cookies, csrf, Step};
use crate::protocol::FieldErrors;

/// A whole HTML page, with its status and cookies.
#[derive(Debug)]
pub(crate) struct Page {
    title: String,
    steps: Option<(Step, Step)>,
    summary: Vec<(String, String)>,
    body: Markup,
    status: StatusCode,
    cookies: Vec<String>,
}

impl Page {
    pub(crate) fn new(title: impl Into<String>, body: Markup) -> Self {
        Self {
            title: title.into(),
            steps: None,
            summary: Vec::new(),
            body,
            status: StatusCode::OK,
            cookies: Vec::new(),
        }
    }

    /// Shows the step indicator: `current`, with every step up to `reached` as a link.
    pub(crate) fn step(mut self, current: Step, reached: Step) -> Self {
        self.steps = Some((current, reached));
        self
    }

    /// The error summary of what the page's fields showed; a page with errors answers 422
    /// unless another status was set.
    pub(crate) fn errors(mut self, errs: &Errs) -> Self {
        self.summary = errs.summary();
        if !self.summary.is_empty() && self.status == StatusCode::OK {
            self.status = StatusCode::UNPROCESSABLE_ENTITY;
        }
        self
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub(crate) fn cookie(mut self, cookie: Option<String>) -> Self {
        self.cookies.extend(cookie);
        self
    }

    fn markup(&self) -> Markup {
        let failed = !self.summary.is_empty();
        html! {
            (DOCTYPE)
            html lang="fr" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title {
                        @if failed { "Erreur : " }
                        (self.title) " — PASS — SISERI"
                    }
                    link rel="stylesheet" href="/assets/siseri.css";
                }
                body {
                    a.skip-link href="#contenu" { "Aller au contenu" }
                    header.band {
                        div.container.band-inner {
                            a.brand href="/" {
                                span.brand-name { "SISERI" }
                                span.brand-long {
                                    "Système d'Information de la Surveillance de l'Exposition aux Rayonnements Ionisants"
                                }
                            }
                            nav.top-nav aria-label="Navigation principale" {
                                ul {
                                    li { a href="/" { "Accueil" } }
                                    li { a href="/pass/" { "Accès PASS" } }
                                }
                            }
                        }
                    }
                    main #contenu .container tabindex="-1" {
                        @if let Some((current, reached)) = self.steps {
                            (step_indicator(current, reached))
                        }
                        @if failed {
                            (error_summary(&self.summary))
                        }
                        (self.body)
                    }
                    footer.footer {
                        div.container {
                            p { "Les informations contenues sur ce site sont confidentielles." }
                            p { "PASS — protocole d'accès sécurisé à SISERI." }
                        }
                    }
                }
            }
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            self.markup().into_string(),
        )
            .into_response();
        add_cookies(&mut response, &self.cookies);
        response
    }
}

fn step_indicator(current: Step, reached: Step) -> Markup {
    html! {
        nav.steps aria-label="Étapes du protocole" {
            p.steps-count { "Étape " (current.number()) " sur " (Step::ALL.len()) }
            ol.steps-list {
                @for s in Step::ALL {
                    @if s == current {
                        li.step.step-current aria-current="step" {
                            span.step-num aria-hidden="true" { (s.number()) }
                            span.step-label { (s.label()) }
                        }
                    } @else if s <= reached {
                        li.step.step-done {
                            a href=(s.path()) {
                                span.step-num aria-hidden="true" { (s.number()) }
                                span.step-label { (s.label()) }
                            }
                        }
                    } @else {
                        li.step {
                            span.step-num aria-hidden="true" { (s.number()) }
                            span.step-label { (s.label()) }
                        }
                    }
                }
            }
        }
    }
}

fn error_summary(entries: &[(String, String)]) -> Markup {
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

/// The errors of one page: each control takes the message of its field as it renders, so that
/// the summary lists them in the page's order and links to the control that shows them.
#[derive(Debug, Default)]
pub(crate) struct Errs {
    map: BTreeMap<String, String>,
    shown: RefCell<Vec<(String, String)>>,
    used: RefCell<BTreeSet<String>>,
}

impl Errs {
    pub(crate) fn none() -> Self {
        Self::default()
    }

    pub(crate) fn of(errors: &FieldErrors) -> Self {
        Self {
            map: errors.0.clone(),
            ..Self::default()
        }
    }

    /// Adds a message (when the field has none yet).
    pub(crate) fn add(&mut self, key: &str, message: impl Into<String>) {
        self.map
            .entry(key.to_owned())
            .or_insert_with(|| message.into());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// The keys that start with `prefix`.
    pub(crate) fn keys_under(&self, prefix: &str) -> Vec<String> {
        self.map
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The message of `key`, recorded for the summary as shown at `#id`.
    pub(crate) fn take(&self, key: &str, id: &str) -> Option<String> {
        let message = self.map.get(key)?.clone();
        if self.used.borrow_mut().insert(key.to_owned()) {
            self.shown
                .borrow_mut()
                .push((id.to_owned(), message.clone()));
        }
        Some(message)
    }

    /// Every message: those shown beside a control first, in page order, then any other.
    fn summary(&self) -> Vec<(String, String)> {
        let mut out = self.shown.borrow().clone();
        let used = self.used.borrow();
        out.extend(
            self.map
                .iter()
                .filter(|(k, _)| !used.contains(*k))
                .map(|(_, m)| ("contenu".to_owned(), m.clone())),
        );
        out
    }
}

/// `employer.name` → `employer-name`: ids that need no escaping in a URL fragment.
pub(crate) fn html_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    id.trim_end_matches('-').to_owned()
}

/// A text input and everything around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Input<'a> {
    key: &'a str,
    name: &'a str,
    label: &'a str,
    value: Option<&'a str>,
    required: bool,
    hint: Option<&'a str>,
    kind: &'a str,
    autocomplete: Option<&'a str>,
    inputmode: Option<&'a str>,
    width: &'a str,
    maxlength: Option<usize>,
}

impl<'a> Input<'a> {
    /// A field whose error key is its name.
    pub(crate) fn new(name: &'a str, label: &'a str, value: Option<&'a str>) -> Self {
        Self {
            key: name,
            name,
            label,
            value,
            required: false,
            hint: None,
            kind: "text",
            autocomplete: None,
            inputmode: None,
            width: "w-full",
            maxlength: None,
        }
    }

    /// The error key, when it differs from the name (a person's fields).
    pub(crate) fn key(mut self, key: &'a str) -> Self {
        self.key = key;
        self
    }

    pub(crate) fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub(crate) fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub(crate) fn kind(mut self, kind: &'a str) -> Self {
        self.kind = kind;
        self
    }

    pub(crate) fn auto(mut self, autocomplete: &'a str) -> Self {
        self.autocomplete = Some(autocomplete);
        self
    }

    pub(crate) fn numeric(mut self) -> Self {
        self.inputmode = Some("numeric");
        self
    }

    /// `w-full`, `w-20` (a name), `w-10` (a phone), `w-5` (a code), `w-2` (two digits).
    pub(crate) fn width(mut self, width: &'a str) -> Self {
        self.width = width;
        self
    }

    pub(crate) fn maxlength(mut self, n: usize) -> Self {
        self.maxlength = Some(n);
        self
    }

    pub(crate) fn render(self, errs: &Errs) -> Markup {
        let id = html_id(self.name);
        let error = errs.take(self.key, &id);
        let hint_id = format!("{id}-hint");
        let error_id = format!("{id}-error");
        let described = described_by(
            self.hint.map(|_| hint_id.as_str()),
            error.as_ref().map(|_| error_id.as_str()),
        );
        html! {
            div.field.field-error[error.is_some()] {
                label.label for=(id) { (self.label) @if self.required { (required_mark()) } }
                @if let Some(hint) = self.hint { p.hint #(hint_id) { (hint) } }
                @if let Some(e) = &error { (error_message(&error_id, e)) }
                input class={ "input " (self.width) } type=(self.kind) id=(id) name=(self.name)
                    value=[self.value] required[self.required] autocomplete=[self.autocomplete]
                    inputmode=[self.inputmode] maxlength=[self.maxlength]
                    aria-describedby=[described] aria-invalid=[error.as_ref().map(|_| "true")];
            }
        }
    }
}

fn described_by(hint: Option<&str>, error: Option<&str>) -> Option<String> {
    let ids: Vec<&str> = hint.into_iter().chain(error).collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

pub(crate) fn required_mark() -> Markup {
    html! { " " abbr.required title="obligatoire" { "*" } }
}

fn error_message(id: &str, message: &str) -> Markup {
    html! { p.error-message #(id) { span.visually-hidden { "Erreur : " } (message) } }
}

/// A single checkbox with its label on the right.
#[allow(clippy::too_many_arguments)]
pub(crate) fn checkbox(
    errs: &Errs,
    key: &str,
    name: &str,
    label: &str,
    checked: bool,
    required: bool,
    hint: Option<&str>,
) -> Markup {
    let id = html_id(name);
    let error = errs.take(key, &id);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = described_by(
        hint.map(|_| hint_id.as_str()),
        error.as_ref().map(|_| error_id.as_str()),
    );
    html! {
        div.field.field-error[error.is_some()] {
            @if let Some(e) = &error { (error_message(&error_id, e)) }
            div.choice {
                input type="checkbox" id=(id) name=(name) value="on" checked[checked] required[required]
                    aria-describedby=[described] aria-invalid=[error.as_ref().map(|_| "true")];
                label for=(id) { (label) @if required { (required_mark()) } }
            }
            @if let Some(hint) = hint { p.hint.choice-hint #(hint_id) { (hint) } }
        }
    }
}

/// A group of radio buttons in a fieldset whose legend is the question.
pub(crate) fn radios(
    errs: &Errs,
    key: &str,
    name: &str,
    legend: Markup,
    options: &[(&str, &str)],
    selected: Option<&str>,
    required: bool,
) -> Markup {
    let id = html_id(name);
    let first = options
        .first()
        .map(|(v, _)| format!("{id}-{v}"))
        .unwrap_or_else(|| id.clone());
    let error = errs.take(key, &first);
    let error_id = format!("{id}-error");
    html! {
        fieldset.field.field-error[error.is_some()] aria-describedby=[error.as_ref().map(|_| error_id.as_str())] {
            legend.label { (legend) @if required { (required_mark()) } }
            @if let Some(e) = &error { (error_message(&error_id, e)) }
            div.choices-inline {
                @for (value, label) in options {
                    @let rid = format!("{id}-{value}");
                    div.choice {
                        input type="radio" id=(rid) name=(name) value=(value)
                            checked[selected == Some(*value)] required[required];
                        label for=(rid) { (label) }
                    }
                }
            }
        }
    }
}

/// The hidden CSRF field.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(csrf::FIELD) value=(token); }
}

/// *Précédent*, *Suivant*, *Annuler*. *Suivant* comes first in the document so that the
/// Enter key submits it; the stylesheet shows *Précédent* on its left.
pub(crate) fn step_buttons(previous: bool, cancel_href: &str) -> Markup {
    html! {
        div.actions {
            button.btn.btn-primary type="submit" name="action" value="next" { "Suivant" }
            @if previous {
                button.btn.btn-secondary.btn-prev type="submit" name="action" value="prev" formnovalidate {
                    "Précédent"
                }
            }
            a.btn.btn-link.btn-cancel href=(cancel_href) { "Annuler" }
        }
    }
}

pub(crate) fn required_note() -> Markup {
    html! {
        p.required-note {
            "Les champs marqués d'un astérisque (" abbr.required title="obligatoire" { "*" } ") sont obligatoires."
        }
    }
}

/// A notice box: `info`, `success` or `warning`.
pub(crate) fn notice(kind: &str, body: Markup) -> Markup {
    html! { div class={ "notice notice-" (kind) } { (body) } }
}

/// `12,3 Ko`, `1,2 Mo`.
pub(crate) fn size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    let (v, unit) = if b >= 1024.0 * 1024.0 {
        (b / (1024.0 * 1024.0), "Mo")
    } else if b >= 1024.0 {
        (b / 1024.0, "Ko")
    } else {
        return format!("{bytes} octets");
    };
    format!("{v:.1} {unit}").replace('.', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_fragment_safe() {
        assert_eq!(html_id("employer.name"), "employer-name");
        assert_eq!(html_id("pcrs[0].address.town"), "pcrs-0--address-town");
        assert_eq!(size(12_600), "12,3 Ko");
        assert_eq!(size(10 * 1024 * 1024), "10,0 Mo");
        assert_eq!(size(9), "9 octets");
    }

    #[test]
    fn values_are_escaped_and_errors_are_bound_to_their_field() {
        let mut errs = Errs::none();
        errs.add(
            "employer.name",
            "La raison sociale ou le nom est obligatoire.",
        );
        let html = Input::new(
            "employer.name",
            "Raison sociale ou nom",
            Some("<b>\"x\"</b>"),
        )
        .required()
        .render(&errs)
        .into_string();
        assert!(html.contains("&lt;b&gt;&quot;x&quot;&lt;/b&gt;"), "{html}");
        assert!(html.contains(r#"for="employer-name""#) && html.contains(r#"id="employer-name""#));
        assert!(
            html.contains(r#"aria-describedby="employer-name-error""#),
            "{html}"
        );
        assert!(html.contains("required"));
        assert_eq!(
            errs.summary(),
            vec![(
                "employer-name".to_owned(),
                "La raison sociale ou le nom est obligatoire.".to_owned()
            )]
        );
    }
}
