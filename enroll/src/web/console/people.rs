//! People (search, a person's page and the acts on them) and the operators (administrateurs
//! only). What each role may do is `OperatorRole::may`; every act is the library's, as the
//! CLI's `accessor` and `operator` commands are.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use ca::{P12Profile, RevocationReason, Serial};
use maud::html;
use serde::Deserialize;
use store::text::fold;

use super::Operator;
use super::{
    access_error, csrf_field, csrf_ok, csrf_refused, date_of, done, forbidden, page, run,
    ConsoleState,
};
use crate::access::{
    AccessCodeState, AccessError, CertificateState, Eyes, GuardedAct, OperatorAct, OperatorRole,
    WithdrawalState,
};
use crate::Email;

/// `?q=`.
#[derive(Debug, Deserialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
}

/// `/personnes?q=`: by name (accents and case ignored), N° habilitation, e-mail, or the SIRET
/// of an establishment they are attached to.
pub(super) async fn search(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let q = query.q.trim().to_owned();
    let access = s.access.clone();
    // Fourteen digits that make a SIRET: the people of that establishment.
    let siret = crate::Siret::parse(&q).ok();
    let by_siret = siret.is_some();
    let people = match run(move || match siret {
        Some(siret) => access.accessors_by_siret(&siret),
        None => access.accessors(),
    })
    .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let folded = fold(&q);
    let found: Vec<_> = if q.is_empty() {
        Vec::new()
    } else if by_siret {
        people.into_iter().take(200).collect()
    } else {
        people
            .into_iter()
            .filter(|a| {
                a.habilitation.to_string() == q
                    || a.email.eq_ignore_ascii_case(&q)
                    || fold(&format!("{} {}", a.first_name, a.last_name)).contains(&folded)
                    || fold(&format!("{} {}", a.last_name, a.first_name)).contains(&folded)
            })
            .take(200)
            .collect()
    };
    page(
        StatusCode::OK,
        Some(&op),
        "Personnes",
        html! {
            h1 { "Rechercher une personne" }
            form method="get" action="/personnes" role="search" {
                div.field {
                    label for="q" { "Nom, N° habilitation SISERI, adresse électronique ou SIRET de l'établissement" }
                    input.input type="search" id="q" name="q" value=(q);
                }
                button.btn.btn-primary type="submit" { "Rechercher" }
            }
            @if !q.is_empty() {
                @if found.is_empty() {
                    p role="status" { "Aucune personne ne correspond." }
                } @else {
                    table.table {
                        caption { (found.len()) " personne(s) trouvée(s)" }
                        thead { tr {
                            th scope="col" { "N° habilitation" }
                            th scope="col" { "Nom" }
                            th scope="col" { "Adresse électronique" }
                        } }
                        tbody {
                            @for a in &found {
                                tr {
                                    td { a href={ "/personnes/" (a.habilitation) } { (a.habilitation) } }
                                    td { (a.first_name) " " (a.last_name.to_uppercase()) }
                                    td { (a.email) }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn cert_state(s: CertificateState) -> &'static str {
    match s {
        CertificateState::Preparing => "en préparation",
        CertificateState::Issued => "émis, en attente de retrait",
        CertificateState::Delivered => "retiré par son titulaire",
        CertificateState::Revoked => "révoqué",
    }
}

fn withdrawal_state(s: WithdrawalState) -> &'static str {
    match s {
        WithdrawalState::Preparing => "en préparation",
        WithdrawalState::Pending => "en attente",
        WithdrawalState::Used => "utilisé",
        WithdrawalState::Expired => "expiré",
        WithdrawalState::Locked => "bloqué",
        WithdrawalState::Superseded => "remplacé",
    }
}

/// `/personnes/{hab}`: certificates, attachments, withdrawals, access code (never a secret),
/// and the forms of the acts the operator's role allows.
pub(super) async fn person(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(hab): Path<u32>,
) -> Response {
    let access = s.access.clone();
    let d = match run(move || access.accessor(hab)).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let a = &d.accessor;
    let base = format!("/personnes/{hab}");
    page(
        StatusCode::OK,
        Some(&op),
        &format!("Personne n° {hab}"),
        html! {
            h1 { (a.first_name) " " (a.last_name.to_uppercase()) " — N° habilitation SISERI " (hab) }
            p { "Adresse électronique : " (a.email) }
            h2 { "Rattachements" }
            @if d.attachments.is_empty() { p { "Aucun." } }
            ul {
                @for (att, number) in &d.attachments {
                    li { "Protocole " a href={ "/protocoles/" (number) } { (number) } " : " (att.role.as_str())
                        @if att.sends_dosimetry { " (envoi des données dosimétriques)" }
                        @if att.ended_at.is_some() { " — terminé" } }
                }
            }
            h2 { "Certificats" }
            table.table {
                caption { "Certificats de la personne" }
                thead { tr { th scope="col" { "N° de série" } th scope="col" { "État" } th scope="col" { "Fin de validité" } } }
                tbody {
                    @for c in &d.certificates {
                        tr {
                            td { code { (Serial::from_der_bytes(&c.serial).to_hex()) } }
                            td { (cert_state(c.state)) }
                            td { (c.not_after.map(date_of).unwrap_or_default()) }
                        }
                    }
                }
            }
            h2 { "Retraits" }
            table.table {
                caption { "Liens de retrait envoyés" }
                thead { tr { th scope="col" { "N°" } th scope="col" { "Fichier" } th scope="col" { "État" } th scope="col" { "Codes erronés" } th scope="col" { "Expire le" } } }
                tbody {
                    @for w in &d.withdrawals {
                        tr {
                            td { (w.id) }
                            td { (w.p12_profile) }
                            td { (withdrawal_state(w.status)) }
                            td { (w.failed_attempts) }
                            td { (date_of(w.expires_at)) }
                        }
                    }
                }
            }
            h2 { "Code d'accès" }
            p {
                @match &d.access_code {
                    Some(c) => {
                        @if c.status == AccessCodeState::Locked { "bloqué" } @else { "actif" }
                        " (" (c.failed_attempts) " échec(s) consécutif(s))"
                    }
                    None => "aucun",
                }
            }

            h2 { "Actions" }
            @if op.may(OperatorAct::Resend) {
                form method="post" action={ (base) "/renvoyer" } {
                    (csrf_field(&s.key, &op))
                    div.field {
                        label for="p12_profile" { "Protection du fichier .p12" }
                        select.select id="p12_profile" name="p12_profile" {
                            option value="" { "celle de la configuration" }
                            option value="modern" { "moderne (AES)" }
                            option value="compat" { "compatible (systèmes anciens)" }
                        }
                    }
                    button.btn.btn-primary type="submit" { "Renvoyer un lien de retrait" }
                }
            }
            @if op.may(OperatorAct::ResetCode) {
                form method="post" action={ (base) "/code" } {
                    (csrf_field(&s.key, &op))
                    button.btn.btn-primary type="submit" { "Envoyer un nouveau code d'accès" }
                }
            }
            @if op.may(OperatorAct::SetEmail) {
                form method="post" action={ (base) "/email" } {
                    (csrf_field(&s.key, &op))
                    div.field {
                        label for="address" { "Nouvelle adresse électronique" }
                        input.input type="email" id="address" name="address" required autocomplete="off";
                    }
                    div.field {
                        label for="email-reason" { "Motif du changement" }
                        input.input type="text" id="email-reason" name="reason" required maxlength="200";
                    }
                    button.btn.btn-primary type="submit" { "Changer l'adresse" }
                }
            }
            @if op.may(OperatorAct::Renew) {
                form method="post" action={ (base) "/renouveler" } {
                    (csrf_field(&s.key, &op))
                    button.btn.btn-primary type="submit" { "Renouveler le certificat" }
                }
            }
            @if op.may(OperatorAct::Revoke) {
                form method="post" action={ (base) "/revoquer" } {
                    (csrf_field(&s.key, &op))
                    div.field {
                        label for="revoke-reason" { "Motif de la révocation" }
                        select.select id="revoke-reason" name="reason" {
                            option value="affiliationChanged" { "changement de rattachement" }
                            option value="cessationOfOperation" { "cessation d'activité" }
                            option value="keyCompromise" { "clé compromise" }
                            option value="privilegeWithdrawn" { "droit retiré" }
                            option value="superseded" { "remplacé" }
                            option value="unspecified" { "non précisé" }
                        }
                    }
                    button.btn.btn-danger type="submit" { "Révoquer les certificats" }
                }
            }
        },
    )
}

/// The forms of a person's acts: the token and whatever the act needs.
#[derive(Debug, Deserialize)]
pub(super) struct ActForm {
    #[serde(default)]
    csrf: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    p12_profile: String,
}

/// `POST /personnes/{hab}/{act}`: `revoquer`, `renouveler`, `renvoyer`, `code`, `email`.
pub(super) async fn act(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path((hab, act)): Path<(u32, String)>,
    Form(form): Form<ActForm>,
) -> Response {
    let needs = match act.as_str() {
        "revoquer" => OperatorAct::Revoke,
        "renouveler" => OperatorAct::Renew,
        "renvoyer" => OperatorAct::Resend,
        "code" => OperatorAct::ResetCode,
        "email" => OperatorAct::SetEmail,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if !op.may(needs) {
        return forbidden(&op);
    }
    if !csrf_ok(&s.key, &op, form.csrf.as_deref()) {
        return csrf_refused(&op);
    }
    let (access, authority, actor) = (s.access.clone(), s.authority.clone(), op.actor());
    let outcome: Result<&'static str, Response> = match needs {
        OperatorAct::Revoke => {
            let Ok(reason) = form.reason.parse::<RevocationReason>() else {
                return access_error(&AccessError::ReasonRequired);
            };
            run(move || access.revoke(&authority, hab, reason, &actor))
                .await
                .map(|_| "Certificat(s) révoqué(s) ; la liste de révocation est publiée.")
        }
        OperatorAct::Renew => run(move || access.reissue(&authority, hab, None, &actor))
            .await
            .map(|_| "Nouveau certificat émis ; le lien de retrait est envoyé."),
        OperatorAct::Resend => {
            let profile = match form.p12_profile.as_str() {
                "modern" => Some(P12Profile::Modern),
                "compat" => Some(P12Profile::Compat),
                _ => None,
            };
            run(move || access.reissue(&authority, hab, profile, &actor))
                .await
                .map(|_| "Nouveau lien de retrait envoyé.")
        }
        OperatorAct::ResetCode => run(move || access.reset_code(hab, &actor))
            .await
            .map(|_| "Nouveau code d'accès envoyé ; l'accès est débloqué."),
        _ => {
            let email = match Email::parse(&form.address) {
                Ok(e) => e,
                Err(e) => {
                    return page(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(&op),
                        "Adresse invalide",
                        html! { h1 { "Adresse invalide" } p { (e.to_string()) }
                        p { a href={ "/personnes/" (hab) } { "Retour à la personne" } } },
                    )
                }
            };
            let reason = form.reason.clone();
            run(move || access.set_email(hab, &email, &reason, &actor))
                .await
                .map(|_| "Adresse remplacée ; l'ancienne et la nouvelle adresse sont prévenues.")
        }
    };
    s.outbox.wake();
    match outcome {
        Ok(message) => done(
            &op,
            "Action effectuée",
            html! { p { "Personne n° " (hab) " : " (message) } },
            (&format!("/personnes/{hab}"), "Retour à la personne"),
        ),
        Err(r) => r,
    }
}

/// `/operateurs`: the operators and the form to add one (administrateurs only).
pub(super) async fn operators(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
) -> Response {
    if !op.may(OperatorAct::ManageOperators) {
        return forbidden(&op);
    }
    let access = s.access.clone();
    let list = match run(move || access.operators()).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    page(
        StatusCode::OK,
        Some(&op),
        "Opérateurs",
        html! {
            h1 { "Opérateurs de la console" }
            table.table {
                caption { "Opérateurs et leurs certificats" }
                thead { tr { th scope="col" { "N°" } th scope="col" { "Nom" } th scope="col" { "Rôle" }
                    th scope="col" { "Adresse" } th scope="col" { "État" } th scope="col" { "Action" } } }
                tbody {
                    @for v in &list {
                        @let o = &v.operator;
                        tr {
                            td { (o.id) }
                            td { a href={ "/operateurs/" (o.id) } { (o.name) } }
                            td { (o.role.as_str()) }
                            td { (o.email) }
                            td { @if o.revoked_at.is_some() { "révoqué" } @else { "en fonction" } }
                            td {
                                @if o.revoked_at.is_none() {
                                    form method="post" action={ "/operateurs/" (o.id) "/revoquer" } {
                                        (csrf_field(&s.key, &op))
                                        button.btn.btn-small.btn-danger-outline type="submit" { "Révoquer " span.visually-hidden { (o.name) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 { "Ajouter un opérateur" }
            form method="post" action="/operateurs" {
                (csrf_field(&s.key, &op))
                div.field {
                    label for="name" { "Nom" }
                    input.input type="text" id="name" name="name" required autocomplete="off";
                }
                div.field {
                    label for="email" { "Adresse électronique" }
                    input.input type="email" id="email" name="email" required autocomplete="off";
                }
                div.field {
                    label for="role" { "Rôle" }
                    select.select id="role" name="role" {
                        option value="instructeur" { "instructeur" }
                        option value="administrateur" { "administrateur" }
                    }
                }
                button.btn.btn-primary type="submit" { "Ajouter et envoyer le lien de retrait" }
            }
        },
    )
}

/// `/operateurs/{id}`: one operator, their certificates and withdrawal links (administrateurs
/// only; never a token, code or file).
pub(super) async fn operator(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(id): Path<i64>,
) -> Response {
    if !op.may(OperatorAct::ManageOperators) {
        return forbidden(&op);
    }
    let access = s.access.clone();
    let (view, withdrawals) = match run(move || access.operator_detail(id)).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let o = &view.operator;
    page(
        StatusCode::OK,
        Some(&op),
        &format!("Opérateur n° {id}"),
        html! {
            h1 { "Opérateur n° " (id) " — " (o.name) }
            dl.facts {
                dt { "Rôle" } dd { (o.role.as_str()) }
                dt { "Adresse électronique" } dd { (o.email) }
                dt { "Ajouté le" } dd { (date_of(o.created_at)) " par " (o.created_by) }
                dt { "État" } dd {
                    @match o.revoked_at {
                        Some(t) => { "révoqué le " (date_of(t)) }
                        None => "en fonction",
                    }
                }
            }
            h2 { "Certificats" }
            table.table {
                caption { "Certificats d'opérateur" }
                thead { tr { th scope="col" { "N° de série" } th scope="col" { "État" } th scope="col" { "Fin de validité" } } }
                tbody {
                    @for c in &view.certificates {
                        tr {
                            td { code { (c.serial_hex) } }
                            td { (cert_state(c.state)) }
                            td { (c.not_after.map(date_of).unwrap_or_default()) }
                        }
                    }
                }
            }
            h2 { "Retraits" }
            @if withdrawals.is_empty() {
                p { "Aucun lien de retrait." }
            } @else {
                table.table {
                    caption { "Liens de retrait envoyés" }
                    thead { tr { th scope="col" { "N°" } th scope="col" { "Certificat" } th scope="col" { "État" }
                        th scope="col" { "Codes erronés" } th scope="col" { "Envoyé le" } th scope="col" { "Expire le" } } }
                    tbody {
                        @for w in &withdrawals {
                            tr {
                                td { (w.id) }
                                td { code { (w.serial_hex) } }
                                td { (withdrawal_state(w.state)) }
                                td { (w.failed_attempts) }
                                td { (date_of(w.created_at)) }
                                td { (date_of(w.expires_at)) }
                            }
                        }
                    }
                }
            }
            @if o.revoked_at.is_none() {
                h2 { "Action" }
                form method="post" action={ "/operateurs/" (id) "/revoquer" } {
                    (csrf_field(&s.key, &op))
                    button.btn.btn-danger type="submit" { "Révoquer cet opérateur" }
                }
            }
            p { a href="/operateurs" { "Retour aux opérateurs" } }
        },
    )
}

/// `POST /operateurs`.
pub(super) async fn add_operator(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !op.may(OperatorAct::ManageOperators) {
        return forbidden(&op);
    }
    if !csrf_ok(&s.key, &op, form.get("csrf").map(String::as_str)) {
        return csrf_refused(&op);
    }
    let Some(role) = form.get("role").and_then(|r| OperatorRole::parse(r)) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let name = form.get("name").cloned().unwrap_or_default();
    let email = form.get("email").cloned().unwrap_or_default();
    let (access, authority, actor) = (s.access.clone(), s.authority.clone(), op.actor());
    let added = run(move || access.add_operator(&authority, &name, &email, role, &actor)).await;
    s.outbox.wake();
    match added {
        Ok(o) => done(
            &op,
            "Opérateur ajouté",
            html! { p { "Opérateur n° " (o.id) " (" (o.name) ", " (o.role.as_str())
            ") ajouté ; le lien de retrait est envoyé à " (o.email) "." } },
            ("/operateurs", "Retour aux opérateurs"),
        ),
        Err(r) => r,
    }
}

/// `POST /operateurs/{id}/revoquer`.
pub(super) async fn revoke_operator(
    State(s): State<ConsoleState>,
    Extension(op): Extension<Operator>,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !op.may(OperatorAct::ManageOperators) {
        return forbidden(&op);
    }
    if !csrf_ok(&s.key, &op, form.get("csrf").map(String::as_str)) {
        return csrf_refused(&op);
    }
    let (access, authority, actor, asker) = (
        s.access.clone(),
        s.authority.clone(),
        op.actor(),
        op.asker(),
    );
    let revoked = run(move || {
        access.check_operator_revocable(id)?;
        let subject = format!("operator:{id}");
        if access.four_eyes(GuardedAct::RevokeOperator, &subject, &asker)? == Eyes::FirstRecorded {
            return Ok(false);
        }
        access.revoke_operator(&authority, id, &actor).map(|_| true)
    })
    .await;
    match revoked {
        Ok(false) => done(
            &op,
            "Révocation demandée",
            html! { p { "Votre demande de révocation de l'opérateur n° " (id) " est enregistrée : "
            "un second opérateur doit la confirmer (quatre yeux)." } },
            ("/operateurs", "Retour aux opérateurs"),
        ),
        Ok(true) => done(
            &op,
            "Opérateur révoqué",
            html! { p { "L'opérateur n° " (id) " est révoqué : son certificat n'ouvre plus la console." } },
            ("/operateurs", "Retour aux opérateurs"),
        ),
        Err(r) => r,
    }
}
