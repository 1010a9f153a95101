//! The page shell: header band, step indicator, error summary, and the collector of the errors
//! a page shows.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::{add_cookies, Step};
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
                                span.visually-hidden { " — " }
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
    pub(crate) fn summary(&self) -> Vec<(String, String)> {
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
