//! Seed step d: the preamble, whose acceptance creates the draft (a renewal's exists already).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;

use super::controls::{checkbox, csrf_field, notice};
use super::layout::{Errs, Page};
use super::start::{current, token_for};
use super::CheckedForm;
use super::{blocking, redirect, redirect_with_cookies, Draft, Step, WizardError};
use crate::pass::{Anonymous, Status};
use crate::web::{client, Peer, PublicState};
use crate::web_cookie;

const PREAMBLE: [&str; 4] = [
    "Le Système d'Information de la Surveillance de l'Exposition aux Rayonnements Ionisants (SISERI) a été mis en place à la demande et avec le soutien de la Direction Générale du Travail.",
    "SISERI permet de centraliser, vérifier et conserver au niveau national l'ensemble des résultats des mesures de la surveillance individuelle des travailleurs exposés aux rayonnements ionisants, obtenus tout au long de leur vie professionnelle. Ces données sont exploitées à des fins statistiques dans une perspective d'optimisation de la radioprotection. SISERI met également à disposition des médecins du travail (MDT) et des personnes compétentes en radioprotection (PCR). Ces acteurs de la radioprotection peuvent ainsi optimiser la surveillance et la protection des travailleurs dont ils ont la charge.",
    "En tant qu'employeur, vous devez enregistrer dans SISERI les informations nécessaires à l'établissement de la carte individuelle de suivi médical pour tout travailleur exposé aux rayonnements ionisants et en tant que besoin.",
    "L'employeur désigne les personnes qui seront autorisées à se connecter à SISERI :",
];

const DESIGNEES: [&str; 3] = [
    "le ou les personnes désignées comme correspondantes SISERI de l'employeur pour l'envoi et la consultation des informations ;",
    "la ou les personnes compétentes en radioprotection pour l'envoi des données de dosimétrie opérationnelle, le cas échéant, et la consultation des données ;",
    "le ou les médecins du travail pour l'envoi des informations requises pour l'édition de la carte de suivi médical, pour la transmission de la dose efficace ou dose équivalente et pour la consultation des données dosimétriques des travailleurs.",
];

const AFTER: [&str; 2] = [
    "SISERI délivre à chacune des personnes sus désignées un certificat électronique d'authentification et de chiffrement des données et un code d'accès confidentiel garantissant la sécurité ainsi que la confidentialité des envois ou des consultations de données. Les conditions de validité du certificat électronique et du code d'accès confidentiel sont définies par SISERI.",
    "Les organismes de dosimétrie transmettent à SISERI les résultats individuels de la dosimétrie passive ou liée à la radioactivité naturelle.",
];

/// The seed's table: who sees what (`DOMAIN.md`).
const ACCESS: [(&str, &str, [bool; 3]); 7] = [
    (
        "Informations administratives",
        "complètes",
        [true, false, false],
    ),
    (
        "Informations administratives",
        "pour suivi dosimétrique",
        [true, true, false],
    ),
    (
        "Informations administratives",
        "carte de suivi médical",
        [false, false, true],
    ),
    ("Données dosimétriques", "passive", [false, false, true]),
    (
        "Données dosimétriques",
        "suivi exposition interne",
        [false, false, true],
    ),
    ("Données dosimétriques", "efficace", [false, true, true]),
    (
        "Données dosimétriques",
        "opérationnelle",
        [false, true, true],
    ),
];

const ACCEPT: &str = "Je reconnais avoir pris connaissance du protocole d'accès sécurisé à SISERI";

fn preamble_page(draft: Option<&Draft>, token: &str, accepted: bool, errs: &Errs) -> Page {
    let reached = draft.map(Draft::reached).unwrap_or(Step::Preamble);
    let cancel = if draft.is_some() {
        "/pass/annuler"
    } else {
        "/"
    };
    let body = html! {
        h1 { "Préambule" }
        @if let Some(n) = draft.and_then(|d| d.view.number.as_deref()) {
            (notice("info", html! {
                p {
                    "Renouvellement du protocole n° " strong { (n) } " : les informations du protocole en vigueur "
                    "sont reprises. Indiquez les changements (médecin du travail, correspondant, PCR, adresse de "
                    "l'établissement) en suivant les différentes étapes, puis signez la nouvelle version."
                }
            }))
        }
        div.prose {
            @for p in &PREAMBLE[..] { p { (p) } }
            ul { @for d in DESIGNEES { li { (d) } } }
            @for p in AFTER { p { (p) } }
        }
        table.table.access-table {
            caption { "Qui consulte quoi dans la base de données SISERI, registre national des données dosimétriques" }
            thead { tr { th scope="col" { "Données" } th scope="col" { "Employeur (CSE)" } th scope="col" { "PCR" } th scope="col" { "MDT" } } }
            tbody {
                @for (group, what, who) in ACCESS {
                    tr {
                        th scope="row" { (group) " — " (what) }
                        @for yes in who {
                            td.center {
                            @if yes {
                                span aria-hidden="true" { "✓" } span.visually-hidden { "oui" }
                            } @else {
                                span aria-hidden="true" { "–" } span.visually-hidden { "non" }
                            }
                        }
                        }
                    }
                }
            }
        }
        form.form method="post" action=(Step::Preamble.path()) {
            (csrf_field(token))
            (checkbox(errs, "accept", "accept", ACCEPT, accepted, true, None))
            div.actions {
                button.btn.btn-primary type="submit" name="action" value="next" { "Suivant" }
                a.btn.btn-secondary.btn-prev href="/pass/" { "Précédent" }
                a.btn.btn-link.btn-cancel href=(cancel) { "Annuler" }
            }
        }
    };
    Page::new("Préambule", body)
        .step(Step::Preamble, reached)
        .errors(errs)
}

/// `GET /pass/preambule` (seed step d).
pub(super) async fn show(
    State(state): State<PublicState>,
    headers: HeaderMap,
) -> Result<Response, WizardError> {
    let (draft, clear) = current(&state, &headers).await?;
    if draft
        .as_ref()
        .is_some_and(|d| d.view.status != Status::Draft)
    {
        return Ok(redirect("/pass/signe"));
    }
    let (token, set) = token_for(&state, &headers, draft.as_ref())?;
    let accepted = draft.is_some();
    Ok(
        preamble_page(draft.as_ref(), &token, accepted, &Errs::none())
            .cookie(clear)
            .cookie(set)
            .into_response(),
    )
}

/// `POST /pass/preambule`: the draft is created here (a renewal's already exists).
pub(super) async fn accept(
    State(state): State<PublicState>,
    headers: HeaderMap,
    Peer(peer): Peer,
    CheckedForm(form): CheckedForm,
) -> Result<Response, WizardError> {
    let (draft, _) = current(&state, &headers).await?;
    let draft = draft.filter(|d| d.view.status == Status::Draft);
    if !form.checked("accept") {
        let mut errs = Errs::none();
        errs.add("accept", "Cochez la case pour reconnaître avoir pris connaissance du protocole d'accès sécurisé à SISERI.");
        let (token, set) = token_for(&state, &headers, draft.as_ref())?;
        return Ok(preamble_page(draft.as_ref(), &token, false, &errs)
            .cookie(set)
            .into_response());
    }
    let pass = state.pass.clone();
    match draft {
        Some(d) => {
            let step = d.advance_to(Step::Employer).key();
            blocking(move || pass.set_step(&d.id, step)).await?;
            Ok(redirect(Step::Employer.path()))
        }
        None => {
            let who = client(&headers, peer);
            let new = blocking(move || {
                pass.admit(Anonymous::NewDraft, &who)?;
                let new = pass.create(&Default::default())?;
                pass.set_step(&new.id, Step::Employer.key())?;
                Ok(new)
            })
            .await?;
            Ok(redirect_with_cookies(
                Step::Employer.path(),
                &[web_cookie::set_draft_cookie(&new.id, &new.token)],
            ))
        }
    }
}
