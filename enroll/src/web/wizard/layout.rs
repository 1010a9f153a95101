//! The page shell: header band, step indicator, error summary, and the collector of the errors
//! a page shows.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use web::layout::{html_response, Front, Shell};

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

    fn markup(self) -> (StatusCode, Markup, Vec<String>) {
        let nav = html! {
            ul {
                li { a href="/" { "Accueil" } }
                li { a href="/pass/" { "Accès PASS" } }
            }
        };
        let document = Shell {
            front: &PASS,
            title: &self.title,
            nav: Some(nav),
            before: self
                .steps
                .map(|(current, reached)| step_indicator(current, reached)),
            summary: &self.summary,
            body: self.body,
        }
        .render();
        (self.status, document, self.cookies)
    }
}

/// The PASS pages: the wizard's reading column.
const PASS: Front = Front {
    title_suffix: " — PASS — SISERI",
    wide: false,
    footer: "PASS — protocole d'accès sécurisé à SISERI.",
};

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let (status, document, cookies) = self.markup();
        let mut response = html_response(status, document, []);
        add_cookies(&mut response, &cookies);
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
