//! Seed step l: exposure of the workers and the main activity.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::controls::{csrf_field, html_id, radios, required_mark, required_note, step_buttons};
use super::forms::{self};
use super::layout::{Errs, Page};
use super::CheckedForm;
use super::{open_draft, save_step, Draft, Step, WizardError};
use crate::protocol::{Activity, ExposureInput};
use crate::web::PublicState;

const YES_NO: &[(&str, &str)] = &[("oui", "Oui"), ("non", "Non")];

fn yes_no(b: Option<bool>) -> Option<&'static str> {
    b.map(|b| if b { "oui" } else { "non" })
}

fn page(draft: &Draft, reached: Step, x: &ExposureInput, errs: &Errs) -> Page {
    let chosen = x.activity.as_deref().and_then(Activity::parse);
    let domain = x
        .domain
        .as_deref()
        .map(|d| match d.to_lowercase().as_str() {
            "military" | "militaire" => "military",
            _ => "civil",
        });
    let body = html! {
        h1 { "Exposition aux rayonnements ionisants" }
        (required_note())
        form.form method="post" action=(Step::Exposure.path()) {
            (csrf_field(&draft.csrf))
            fieldset.fieldset {
                legend { "Exposition des travailleurs" }
                (radios(errs, "exposure.exposed_in_establishment", "exposure.exposed_in_establishment",
                    html! { "Les travailleurs de votre établissement sont exposés aux rayonnements ionisants au sein de votre établissement" },
                    YES_NO, yes_no(x.exposed_in_establishment), true))
                (radios(errs, "exposure.inb", "exposure.inb",
                    html! { "Si oui, votre établissement est une INB " span.legend-hint { "(installation nucléaire de base)" } },
                    YES_NO, yes_no(x.inb), false))
            }
            fieldset.fieldset {
                legend { "Activités entraînant une exposition aux rayonnements de vos travailleurs" }
                (radios(errs, "exposure.domain", "exposure.domain", html! { "Domaine" },
                    &[("civil", "Domaine civil"), ("military", "Domaine militaire")], domain, true))
                (activity_select(errs, chosen))
            }
            (step_buttons(true, "/pass/annuler"))
        }
    };
    Page::new("Exposition", body)
        .step(Step::Exposure, reached)
        .errors(errs)
}

/// The main activity, grouped as in the seed: the medical and veterinary uses first.
fn activity_select(errs: &Errs, chosen: Option<Activity>) -> Markup {
    let id = html_id("exposure.activity");
    let error = errs.take("exposure.activity", &id);
    let (medical, others): (Vec<Activity>, Vec<Activity>) =
        Activity::ALL.into_iter().partition(|a| a.is_medical());
    html! {
        div.field.field-error[error.is_some()] {
            label.label for=(id) { "Activité principale" (required_mark()) }
            p.hint #exposure-activity-hint { "Choisissez l'activité principale dans la liste." }
            @if let Some(e) = &error {
                p.error-message #exposure-activity-error { span.visually-hidden { "Erreur : " } (e) }
            }
            select.select #(id) name="exposure.activity" required
                aria-describedby={ "exposure-activity-hint" @if error.is_some() { " exposure-activity-error" } }
                aria-invalid=[error.as_ref().map(|_| "true")] {
                option value="" selected[chosen.is_none()] { "— Choisissez l'activité principale —" }
                optgroup label="Utilisations médicales et vétérinaires" {
                    @for a in &medical {
                        option value=(a.code()) selected[chosen == Some(*a)] { (a.label()) }
                    }
                }
                @for a in &others {
                    option value=(a.code()) selected[chosen == Some(*a)] { (a.label()) }
                }
            }
        }
    }
}

/// `GET /pass/exposition`.
pub(super) async fn show(
    State(state): State<PublicState>,
    headers: HeaderMap,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let reached = draft.reached();
    Ok(page(
        &draft,
        reached,
        &draft.view.protocol.exposure,
        &Errs::none(),
    )
    .into_response())
}

/// `POST /pass/exposition`.
pub(super) async fn submit(
    State(state): State<PublicState>,
    headers: HeaderMap,
    CheckedForm(form): CheckedForm,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let mut input = draft.view.protocol.clone();
    input.exposure = forms::exposure(&form);
    match save_step(
        &state,
        &draft,
        Step::Exposure,
        form.action(),
        input.clone(),
        &["exposure"],
    )
    .await?
    {
        Ok(done) => Ok(done),
        Err(errors) => {
            Ok(page(&draft, Step::Exposure, &input.exposure, &Errs::of(&errors)).into_response())
        }
    }
}
