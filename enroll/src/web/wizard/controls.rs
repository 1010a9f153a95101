//! The form controls every step uses: labels bound to their inputs, hints and error messages
//! referenced by `aria-describedby`, required fields marked, the CSRF field and the buttons.

use maud::{html, Markup};

use super::csrf;
use super::layout::Errs;

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
    use crate::web::wizard::layout::Errs;

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
