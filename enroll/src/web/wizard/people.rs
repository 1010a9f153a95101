//! Seed steps h (*correspondants*), i (*médecins du travail*) and j (*PCR*): a table of the
//! people designated, each with *Modifier* and *Supprimer*, and a form to add or modify one.
//! Whatever is typed is kept (an incomplete person is listed and flagged), and *Suivant*
//! checks the step's list rules.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};

use super::controls::{checkbox, csrf_field, notice, radios, required_note, step_buttons, Input};
use super::forms::{self, list, list_key, list_mut, Action};
use super::layout::{Errs, Page};
use super::CheckedForm;
use super::{blocking, open_draft, redirect, save_step, Draft, Step, WizardError};
use crate::protocol::{PersonInput, Protocol, ProtocolInput, Role};
use crate::web::PublicState;

fn role_of(uri: &Uri) -> Role {
    match uri.path() {
        p if p == Step::Physicians.path() => Role::Mdt,
        p if p == Step::Pcrs.path() => Role::Pcr,
        _ => Role::Cse,
    }
}

fn step_of(role: Role) -> Step {
    match role {
        Role::Cse => Step::Correspondents,
        Role::Mdt => Step::Physicians,
        Role::Pcr => Step::Pcrs,
    }
}

struct Texts {
    title: &'static str,
    caption: &'static str,
    legend: &'static str,
}

fn texts(role: Role) -> Texts {
    match role {
        Role::Cse => Texts {
            title: "Correspondants SISERI",
            caption: "Liste des correspondants SISERI",
            legend: "Ajouter ou modifier un correspondant",
        },
        Role::Mdt => Texts {
            title: "Médecins du travail",
            caption: "Liste des médecins du travail",
            legend: "Ajouter ou modifier un médecin du travail",
        },
        Role::Pcr => Texts {
            title: "Personnes compétentes en radioprotection",
            caption: "Liste des personnes compétentes en radioprotection",
            legend: "Ajouter ou modifier une personne compétente en radioprotection",
        },
    }
}

fn intro(role: Role) -> Markup {
    match role {
        Role::Cse => html! {
            p {
                "Complétez la liste des correspondants SISERI. Vous pouvez nommer l'employeur et/ou un salarié "
                "et/ou la PCR. Cliquez sur « Ajouter » pour chaque correspondant choisi, puis sur « Suivant »."
            }
        },
        Role::Mdt => html! {
            p {
                "Complétez la liste des médecins du travail. Cliquez sur « Ajouter » pour chaque médecin du travail "
                "choisi, puis sur « Suivant »."
            }
            p { strong { "Vous pouvez cliquer sur suivant sans remplir les informations." } }
        },
        Role::Pcr => html! {
            p {
                "Désignez votre PCR (personne compétente en radioprotection). Son nom est indiqué dans le rapport "
                "du contrôle technique interne ou externe de radioprotection. Cochez « Envoi des informations "
                "dosimétriques » pour la personne qui transmettra la dosimétrie opérationnelle, et indiquez ses "
                "coordonnées si elles diffèrent de celles de l'employeur (PCR externe)."
            }
            (notice("warning", html! {
                p { strong { "Vous devez obligatoirement désigner une personne compétente en radioprotection ou un médecin du travail" } }
            }))
        },
    }
}

/// The person in the add/modify form: `key_index` is the place whose errors it shows;
/// `saved` when the person is already in the list there (the form then modifies it).
struct Editing<'a> {
    person: &'a PersonInput,
    key_index: usize,
    saved: bool,
}

struct View<'a> {
    draft: &'a Draft,
    role: Role,
    reached: Step,
    input: &'a ProtocolInput,
    editing: Editing<'a>,
    flash: Option<&'static str>,
}

fn page(v: &View<'_>, errs: &Errs, failed: bool) -> Page {
    let step = step_of(v.role);
    let t = texts(v.role);
    let people = list(v.input, v.role);
    let key = list_key(v.role);
    let list_error = errs.take(key, "liste");
    // Rows with errors, other than the one in the form.
    let row_errors: Vec<Vec<String>> = (0..people.len())
        .map(|i| {
            if v.editing.saved && i == v.editing.key_index {
                return Vec::new();
            }
            errs.keys_under(&format!("{key}[{i}]."))
                .iter()
                .filter_map(|k| errs.take(k, &format!("{key}-row-{i}")))
                .collect()
        })
        .collect();
    let body = html! {
        h1 { (t.title) }
        (intro(v.role))
        @if let Some(flash) = v.flash { (notice("success", html! { p { (flash) } })) }
        div.field-error[list_error.is_some()] #liste tabindex="-1" {
            @if let Some(e) = &list_error { p.error-message { span.visually-hidden { "Erreur : " } (e) } }
            (table(v, &t, people, &row_errors))
        }
        (required_note())
        form.form method="post" action=(step.path()) novalidate {
            (csrf_field(&v.draft.csrf))
            (person_form(v, &t, errs))
            (step_buttons(true, "/pass/annuler"))
        }
    };
    let page = Page::new(t.title, body).step(step, v.reached);
    if failed {
        page.errors(errs)
    } else {
        page
    }
}

fn table(v: &View<'_>, t: &Texts, people: &[PersonInput], row_errors: &[Vec<String>]) -> Markup {
    let step = step_of(v.role);
    let columns = 5 + usize::from(v.role != Role::Cse) + usize::from(v.role == Role::Pcr);
    html! {
        h2.table-title #liste-titre { (t.caption) }
        div.table-wrap {
            table.table aria-labelledby="liste-titre" {
                thead {
                    tr {
                        th scope="col" { "Nom" }
                        th scope="col" { "Prénom" }
                        th scope="col" { "N° habilitation SISERI" }
                        th scope="col" { "Courriel" }
                        @if v.role != Role::Cse { th scope="col" { "Coordonnées" } }
                        @if v.role == Role::Pcr { th scope="col" { "Envoi" } }
                        th scope="col" { span.visually-hidden { "Actions" } }
                    }
                }
                tbody {
                    @if people.is_empty() {
                        tr { td.empty colspan=(columns) { "Le tableau ne contient aucune donnée" } }
                    }
                    @for (i, p) in people.iter().enumerate() {
                        @let name = format!("{} {}", p.last_name.as_deref().unwrap_or(""), p.first_name.as_deref().unwrap_or(""));
                        @let errors = row_errors.get(i).map(Vec::as_slice).unwrap_or(&[]);
                        tr.row-error[!errors.is_empty()].row-editing[v.editing.saved && v.editing.key_index == i] #{ (list_key(v.role)) "-row-" (i) } {
                            td { (p.last_name.as_deref().unwrap_or("")) }
                            td { (p.first_name.as_deref().unwrap_or("")) }
                            td { (p.habilitation.as_deref().unwrap_or("")) }
                            td.break { (p.email.as_deref().unwrap_or("")) }
                            @if v.role != Role::Cse {
                                td {
                                    @match &p.address {
                                        Some(a) => { (a.name.as_deref().unwrap_or("")) br; (a.postal_code.as_deref().unwrap_or("")) " " (a.town.as_deref().unwrap_or("")) }
                                        None => { span.muted { "Celles de l'employeur" } }
                                    }
                                }
                            }
                            @if v.role == Role::Pcr {
                                td { @if p.sends_dosimetry == Some(true) { "Oui" } @else { "Non" } }
                            }
                            td.row-actions {
                                a.btn.btn-small.btn-secondary href={ (step.path()) "?modifier=" (i) "#personne" } aria-label={ "Modifier " (name) } { "Modifier" }
                                form.inline method="post" action=(step.path()) {
                                    (csrf_field(&v.draft.csrf))
                                    button.btn.btn-small.btn-danger-outline type="submit" name="action" value={ "delete:" (i) } aria-label={ "Supprimer " (name) } { "Supprimer" }
                                }
                            }
                        }
                        @if !errors.is_empty() {
                            tr.row-error-detail {
                                td colspan=(columns) {
                                    p.error-message { "À compléter (cliquez sur « Modifier ») : " (errors.join(" ")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn person_form(v: &View<'_>, t: &Texts, errs: &Errs) -> Markup {
    let p = v.editing.person;
    let k = |field: &str| format!("{}[{}].{field}", list_key(v.role), v.editing.key_index);
    let (last, first, hab, email, civ, birth, dep) = (
        k("last_name"),
        k("first_name"),
        k("habilitation"),
        k("email"),
        k("civility"),
        k("birth_date"),
        k("birth_departement"),
    );
    let a = p.address.clone().unwrap_or_default();
    let ka = |field: &str| k(&format!("address.{field}"));
    let (aname, aaddr, apc, atown, acedex, acountry) = (
        ka("name"),
        ka("address"),
        ka("postal_code"),
        ka("town"),
        ka("cedex"),
        ka("country"),
    );
    let civility = p.civility.as_deref().map(|c| {
        if c.to_lowercase().starts_with("mme") {
            "Mme"
        } else {
            "M"
        }
    });
    let step = step_of(v.role);
    html! {
        fieldset.fieldset #personne {
            legend { (t.legend) }
            @if v.editing.saved { input type="hidden" name="index" value=(v.editing.key_index); }
            div.row {
                (Input::new("person.last_name", "Nom", p.last_name.as_deref()).key(&last).required().width("w-20").auto("off").render(errs))
                (Input::new("person.first_name", "Prénom", p.first_name.as_deref()).key(&first).required().width("w-20").auto("off").render(errs))
            }
            div.row {
                (Input::new("person.habilitation", "N° habilitation SISERI", p.habilitation.as_deref()).key(&hab)
                    .numeric().width("w-10").auto("off").hint("S'il est connu (par exemple 42003).").render(errs))
                (Input::new("person.email", "Courriel", p.email.as_deref()).key(&email).required().kind("email").auto("off")
                    .hint("Les courriels de retrait du certificat et du code d'accès y seront envoyés.").render(errs))
            }
            fieldset.subfieldset {
                legend { "Informations à remplir en l'absence du N° habilitation SISERI" }
                (radios(errs, &civ, "person.civility", html! { "Civilité" }, &[("M", "M."), ("Mme", "Mme")], civility, false))
                div.row {
                    (Input::new("person.birth_date", "Date de naissance (jj/mm/aaaa)", p.birth_date.as_deref()).key(&birth)
                        .width("w-10").maxlength(10).auto("off").render(errs))
                    (Input::new("person.birth_departement", "Département de naissance", p.birth_departement.as_deref()).key(&dep)
                        .hint("01 à 99 (2A, 2B pour la Corse, 99 pour l'étranger)").width("w-dep").maxlength(3).auto("off").render(errs))
                }
            }
            @if v.role == Role::Pcr {
                (checkbox(errs, &k("sends_dosimetry"), "person.sends_dosimetry", "Envoi des informations dosimétriques",
                    p.sends_dosimetry == Some(true), false, None))
            }
            @if v.role != Role::Cse {
                fieldset.subfieldset {
                    legend { "Coordonnées (si différentes de celles de l'employeur)" }
                    (Input::new("address.name", "Raison sociale ou nom", a.name.as_deref()).key(&aname).auto("off").render(errs))
                    (Input::new("address.address", "Adresse postale", a.address.as_deref()).key(&aaddr).auto("off").render(errs))
                    div.row {
                        (Input::new("address.postal_code", "Code postal", a.postal_code.as_deref()).key(&apc).numeric().width("w-5").auto("off").render(errs))
                        (Input::new("address.town", "Ville", a.town.as_deref()).key(&atown).width("w-20").auto("off").render(errs))
                        (Input::new("address.cedex", "Cedex", a.cedex.as_deref()).key(&acedex).width("w-5").auto("off").render(errs))
                    }
                    (Input::new("address.country", "Pays", Some(a.country.as_deref().unwrap_or("FRANCE"))).key(&acountry).width("w-20").auto("off").render(errs))
                }
            }
            div.actions.actions-inline {
                button.btn.btn-secondary type="submit" name="action" value="add" {
                    @if v.editing.saved { "Enregistrer les modifications" } @else { "Ajouter" }
                }
                @if v.editing.saved { a.btn.btn-link href=(step.path()) { "Annuler la modification" } }
            }
        }
    }
}

fn query_value<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `GET /pass/correspondants`, `/pass/medecins`, `/pass/pcr` (`?modifier=N` fills the form).
pub(super) async fn show(
    State(state): State<PublicState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, WizardError> {
    let role = role_of(&uri);
    let draft = open_draft(&state, &headers).await?;
    let people = list(&draft.view.protocol, role);
    let empty = PersonInput::default();
    let modify = query_value(&uri, "modifier")
        .and_then(|i| i.parse::<usize>().ok())
        .filter(|i| *i < people.len());
    let editing = match modify {
        Some(i) => Editing {
            person: &people[i],
            key_index: i,
            saved: true,
        },
        None => Editing {
            person: &empty,
            key_index: people.len(),
            saved: false,
        },
    };
    let flash = match query_value(&uri, "ok") {
        Some("ajout") => Some("La personne a été ajoutée à la liste."),
        Some("modif") => Some("Les modifications ont été enregistrées."),
        Some("suppr") => Some("La personne a été retirée de la liste."),
        _ => None,
    };
    // The errors of the saved people: an incomplete one is flagged in the table, or shown
    // beside the fields when it is the one being modified.
    let errs = match Protocol::parse(&draft.view.protocol) {
        Ok(_) => Errs::none(),
        Err(all) => Errs::of(&all.under(&format!("{}[", list_key(role)))),
    };
    let view = View {
        draft: &draft,
        role,
        reached: draft.reached(),
        input: &draft.view.protocol,
        editing,
        flash,
    };
    // Flags are not failures: the page keeps its 200 and shows no summary.
    Ok(page(&view, &errs, false).into_response())
}

/// The errors of the person at `index` of the role's list.
fn person_errors(input: &ProtocolInput, role: Role, index: usize) -> crate::protocol::FieldErrors {
    match Protocol::parse(input) {
        Ok(_) => Default::default(),
        Err(all) => all.under(&format!("{}[{index}].", list_key(role))),
    }
}

/// Puts the typed person in the list (replacing the one being modified); returns its index.
fn place(
    input: &mut ProtocolInput,
    role: Role,
    index: Option<usize>,
    person: PersonInput,
) -> usize {
    let people = list_mut(input, role);
    match index.filter(|i| *i < people.len()) {
        Some(i) => {
            people[i] = person;
            i
        }
        None => {
            people.push(person);
            people.len() - 1
        }
    }
}

/// `POST` of the three people steps.
pub(super) async fn submit(
    State(state): State<PublicState>,
    headers: HeaderMap,
    uri: Uri,
    CheckedForm(form): CheckedForm,
) -> Result<Response, WizardError> {
    let role = role_of(&uri);
    let step = step_of(role);
    let draft = open_draft(&state, &headers).await?;
    let mut input = draft.view.protocol.clone();
    let typed = forms::person(&form, role);
    let index = form.index();
    let action = form.action();
    let render = |input: &ProtocolInput,
                  person: &PersonInput,
                  key_index: usize,
                  saved: bool,
                  errs: &Errs| {
        let view = View {
            draft: &draft,
            role,
            reached: step,
            input,
            editing: Editing {
                person,
                key_index,
                saved,
            },
            flash: None,
        };
        page(&view, errs, true).into_response()
    };
    match action {
        Action::Delete(i) => {
            let people = list_mut(&mut input, role);
            if i < people.len() {
                people.remove(i);
            }
            update(&state, &draft, input).await?;
            Ok(redirect(&format!("{}?ok=suppr", step.path())))
        }
        Action::Add => {
            let Some(person) = typed else {
                // Nothing typed: show what is required, save nothing.
                let at = list(&input, role).len();
                let mut probe = input.clone();
                list_mut(&mut probe, role).push(PersonInput::default());
                let errs = Errs::of(&person_errors(&probe, role, at));
                return Ok(render(&input, &PersonInput::default(), at, false, &errs));
            };
            let modified = index.is_some_and(|i| i < list(&input, role).len());
            let at = place(&mut input, role, index, person.clone());
            let errors = person_errors(&input, role, at);
            update(&state, &draft, input.clone()).await?;
            if errors.is_empty() {
                let ok = if modified { "modif" } else { "ajout" };
                Ok(redirect(&format!("{}?ok={ok}", step.path())))
            } else {
                Ok(render(&input, &person, at, true, &Errs::of(&errors)))
            }
        }
        Action::Next | Action::Prev => {
            let at = typed.clone().map(|p| place(&mut input, role, index, p));
            match save_step(
                &state,
                &draft,
                step,
                action,
                input.clone(),
                &[list_key(role)],
            )
            .await?
            {
                Ok(done) => Ok(done),
                Err(errors) => {
                    let empty = PersonInput::default();
                    let errs = Errs::of(&errors);
                    Ok(match (at, typed.as_ref()) {
                        (Some(at), Some(person)) => render(&input, person, at, true, &errs),
                        _ => render(&input, &empty, list(&input, role).len(), false, &errs),
                    })
                }
            }
        }
    }
}

async fn update(
    state: &PublicState,
    draft: &Draft,
    input: ProtocolInput,
) -> Result<(), WizardError> {
    let pass = state.pass.clone();
    let id = draft.id.clone();
    blocking(move || pass.update(&id, &input, None)).await?;
    Ok(())
}
