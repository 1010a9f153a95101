//! Seed steps e (*Employeur*), e' (*Représentant légal*) and f (*Vérification*).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::controls::{checkbox, csrf_field, notice, required_note, step_buttons, Input};
use super::forms::{self, FormData};
use super::layout::{Errs, Page};
use super::CheckedForm;
use super::{open_draft, save_step, Draft, Step, WizardError};
use crate::protocol::{EmployerInput, LegalRepresentativeInput, ProtocolInput};
use crate::web::PublicState;

const EMPLOYER: &[&str] = &["employer"];
const REPRESENTATIVE: &[&str] = &["legal_representative"];
const BOTH: &[&str] = &["employer", "legal_representative"];

fn employer_fields(errs: &Errs, e: &EmployerInput) -> Markup {
    html! {
        fieldset.fieldset {
            legend { "Employeur (établissement siège ou principal) ou organisme agréé" }
            (Input::new("employer.name", "Raison sociale ou nom", e.name.as_deref()).required().auto("organization").render(errs))
            (Input::new("employer.siret", "Numéro SIRET", e.siret.as_deref())
                .hint("14 chiffres, avec ou sans espaces.").numeric().width("w-20").auto("off").render(errs))
            (Input::new("employer.address", "Adresse postale", e.address.as_deref()).required().auto("address-line1").render(errs))
            div.row {
                (Input::new("employer.postal_code", "Code postal", e.postal_code.as_deref())
                    .required().numeric().width("w-5").auto("postal-code").render(errs))
                (Input::new("employer.town", "Ville", e.town.as_deref()).required().width("w-20").auto("address-level2").render(errs))
                (Input::new("employer.cedex", "Cedex", e.cedex.as_deref()).width("w-5").render(errs))
            }
            (Input::new("employer.country", "Pays", Some(e.country.as_deref().unwrap_or("FRANCE")))
                .required().width("w-20").auto("country-name").render(errs))
            div.row {
                (Input::new("employer.phone", "Téléphone", e.phone.as_deref()).kind("tel").width("w-10").auto("tel").render(errs))
                (Input::new("employer.fax", "Télécopie", e.fax.as_deref()).kind("tel").width("w-10").render(errs))
            }
            (checkbox(errs, "employer.phone_foreign", "employer.phone_foreign", "Étranger", e.phone_foreign, false,
                Some("Cochez cette case pour des numéros hors de France, au format international (+…).")))
        }
    }
}

fn representative_fields(errs: &Errs, l: &LegalRepresentativeInput) -> Markup {
    html! {
        fieldset.fieldset {
            legend { "Représentant légal de l'entreprise" }
            div.row {
                (Input::new("legal_representative.last_name", "Nom", l.last_name.as_deref())
                    .required().width("w-20").auto("family-name").render(errs))
                (Input::new("legal_representative.first_name", "Prénom", l.first_name.as_deref())
                    .required().width("w-20").auto("given-name").render(errs))
            }
            (Input::new("legal_representative.birth_date", "Date de naissance (jj/mm/aaaa)", l.birth_date.as_deref())
                .hint("Par exemple : 12/03/1970").width("w-10").auto("bday").maxlength(10).render(errs))
            (Input::new("legal_representative.mobile", "Téléphone portable", l.mobile.as_deref())
                .required().kind("tel").width("w-10").auto("tel")
                .hint("Ce numéro sera utilisé pour vous communiquer votre code de validation par SMS.")
                .render(errs))
            (checkbox(errs, "legal_representative.mobile_foreign", "legal_representative.mobile_foreign", "Étranger",
                l.mobile_foreign, false, Some("Cochez cette case pour un portable hors de France, au format international (+…).")))
        }
    }
}

fn page(draft: &Draft, step: Step, reached: Step, input: &ProtocolInput, errs: &Errs) -> Page {
    let (title, fields) = match step {
        Step::Employer => ("Employeur", employer_fields(errs, &input.employer)),
        Step::Representative => (
            "Représentant légal de l'entreprise",
            representative_fields(errs, &input.legal_representative),
        ),
        _ => (
            "Vérification des informations",
            html! {
                (notice("warning", html! {
                    p { strong { "Vous devez prendre connaissance des informations ci-dessous et les rectifier au besoin." } }
                }))
                (employer_fields(errs, &input.employer))
                (representative_fields(errs, &input.legal_representative))
            },
        ),
    };
    let body = html! {
        h1 { (title) }
        (required_note())
        form.form method="post" action=(step.path()) {
            (csrf_field(&draft.csrf))
            (fields)
            (step_buttons(true, "/pass/annuler"))
        }
    };
    Page::new(title, body).step(step, reached).errors(errs)
}

async fn show(state: PublicState, headers: HeaderMap, step: Step) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let reached = draft.reached();
    Ok(page(&draft, step, reached, &draft.view.protocol, &Errs::none()).into_response())
}

async fn save(
    state: PublicState,
    headers: HeaderMap,
    form: FormData,
    step: Step,
) -> Result<Response, WizardError> {
    let draft = open_draft(&state, &headers).await?;
    let mut input = draft.view.protocol.clone();
    let prefixes = match step {
        Step::Employer => {
            input.employer = forms::employer(&form);
            EMPLOYER
        }
        Step::Representative => {
            input.legal_representative = forms::representative(&form);
            REPRESENTATIVE
        }
        _ => {
            input.employer = forms::employer(&form);
            input.legal_representative = forms::representative(&form);
            BOTH
        }
    };
    match save_step(&state, &draft, step, form.action(), input.clone(), prefixes).await? {
        Ok(done) => Ok(done),
        Err(errors) => Ok(page(&draft, step, step, &input, &Errs::of(&errors)).into_response()),
    }
}

pub(super) async fn employer(
    State(s): State<PublicState>,
    h: HeaderMap,
) -> Result<Response, WizardError> {
    show(s, h, Step::Employer).await
}

pub(super) async fn representative(
    State(s): State<PublicState>,
    h: HeaderMap,
) -> Result<Response, WizardError> {
    show(s, h, Step::Representative).await
}

pub(super) async fn verification(
    State(s): State<PublicState>,
    h: HeaderMap,
) -> Result<Response, WizardError> {
    show(s, h, Step::Verification).await
}

pub(super) async fn save_employer(
    State(s): State<PublicState>,
    h: HeaderMap,
    CheckedForm(f): CheckedForm,
) -> Result<Response, WizardError> {
    save(s, h, f, Step::Employer).await
}

pub(super) async fn save_representative(
    State(s): State<PublicState>,
    h: HeaderMap,
    CheckedForm(f): CheckedForm,
) -> Result<Response, WizardError> {
    save(s, h, f, Step::Representative).await
}

pub(super) async fn save_verification(
    State(s): State<PublicState>,
    h: HeaderMap,
    CheckedForm(f): CheckedForm,
) -> Result<Response, WizardError> {
    save(s, h, f, Step::Verification).await
}
