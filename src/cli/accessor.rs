//! `siseri accessor`: the operator's actions on one person's access (N° habilitation SISERI).

use ca::{Authority, RevocationReason, Serial};
use clap::Subcommand;
use enroll::access::{AccessCodeState, CertificateState, WithdrawalState};

use super::cert::not_valid;
use super::out::Shown;
use super::values::{P12Profile, Reason};
use super::{access_err, now, services};
use crate::datadir::DataDir;
use crate::error::AppError;
use crate::services::Services;

#[derive(Debug, Subcommand)]
pub(super) enum AccessorCommand {
    /// Liste les accédants.
    List,
    /// Rattachements, certificats, retraits et code d'accès d'un accédant.
    Show {
        /// N° habilitation SISERI.
        hab: u32,
    },
    /// Révoque le(s) certificat(s) de l'accédant ; LCR republiée aussitôt.
    Revoke {
        /// N° habilitation SISERI.
        hab: u32,
        /// Motif RFC 5280 (majuscules indifférentes).
        #[arg(long, value_enum, ignore_case = true)]
        reason: Reason,
    },
    /// Nouveau certificat et nouveau retrait ; l'ancien certificat est révoqué dès que le
    /// nouveau est retiré (ou expire).
    Renew {
        /// N° habilitation SISERI.
        hab: u32,
    },
    /// Nouveau retrait et nouveau mot de passe (l'ancien retrait est remplacé) ; avec
    /// --p12-profile compat, un fichier lisible par les systèmes anciens.
    Resend {
        /// N° habilitation SISERI.
        hab: u32,
        /// Protection du fichier .p12 (par défaut, celle de la configuration).
        #[arg(long, value_enum)]
        p12_profile: Option<P12Profile>,
    },
    /// Envoie un nouveau code d'accès et débloque l'accès.
    ResetCode {
        /// N° habilitation SISERI.
        hab: u32,
    },
    /// Remplace l'adresse électronique de l'accédant (un protocole ne la change jamais).
    /// L'ancienne et la nouvelle adresse sont prévenues par e-mail ; le changement est inscrit
    /// au journal d'audit avec les deux adresses et le motif.
    SetEmail {
        /// N° habilitation SISERI.
        hab: u32,
        /// Nouvelle adresse électronique.
        address: String,
        /// Motif du changement (une ligne), inscrit au journal d'audit.
        #[arg(long)]
        reason: String,
    },
}

pub(super) fn run(dir: &DataDir, command: AccessorCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let s = services(dir, &config)?;
    match command {
        AccessorCommand::List => {
            for a in s.access.accessors().map_err(access_err)? {
                crate::say!(
                    "{}  {} {}  {}",
                    a.habilitation,
                    Shown(&a.last_name.to_uppercase()),
                    Shown(&a.first_name),
                    Shown(&a.email)
                );
            }
            Ok(())
        }
        AccessorCommand::Show { hab } => {
            let d = s.access.accessor(hab).map_err(access_err)?;
            let conn = dir.open_db()?;
            let a = &d.accessor;
            crate::say!(
                "N° habilitation SISERI {} — {} {} — {}",
                a.habilitation,
                Shown(&a.first_name),
                Shown(&a.last_name.to_uppercase()),
                Shown(&a.email)
            );
            crate::say!("RATTACHEMENTS");
            for (att, number) in &d.attachments {
                crate::say!(
                    "- protocole {} : {}{}{}",
                    Shown(number),
                    att.role.as_str(),
                    if att.sends_dosimetry {
                        " (envoi des données dosimétriques)"
                    } else {
                        ""
                    },
                    if att.ended_at.is_some() {
                        " — terminé"
                    } else {
                        ""
                    }
                );
            }
            crate::say!("CERTIFICATS");
            for c in &d.certificates {
                let serial = Serial::from_der_bytes(&c.serial);
                let ca_status = match Authority::find(&conn, &serial)? {
                    Some(r) => not_valid(&r, now())
                        .unwrap_or_else(|| format!("valide jusqu'au {}", r.not_after.date())),
                    None => "inconnu de l'AC".to_owned(),
                };
                crate::say!("- {serial} : {} — {ca_status}", french_cert_state(c.state));
            }
            crate::say!("RETRAITS");
            for w in &d.withdrawals {
                crate::say!(
                    "- n° {} ({}) : {} — {} code(s) erroné(s) — expire le {}{}",
                    w.id,
                    Shown(&w.p12_profile.to_string()),
                    french_withdrawal(w.status),
                    w.failed_attempts,
                    time::OffsetDateTime::from_unix_timestamp(w.expires_at)
                        .map(|t| t.date().to_string())
                        .unwrap_or_default(),
                    if w.has_p12 {
                        " — fichier .p12 conservé"
                    } else {
                        ""
                    }
                );
            }
            match &d.access_code {
                Some(c) => crate::say!(
                    "CODE D'ACCÈS : {} ({} échec(s) consécutif(s))",
                    if c.status == AccessCodeState::Locked {
                        "bloqué"
                    } else {
                        "actif"
                    },
                    c.failed_attempts
                ),
                None => crate::say!("CODE D'ACCÈS : aucun"),
            }
            Ok(())
        }
        AccessorCommand::Revoke { hab, reason } => {
            let reason = RevocationReason::from(reason);
            let authority = dir.load_authority(&config)?;
            let crls = s
                .access
                .revoke(&authority, hab, reason, "operator:cli")
                .map_err(access_err)?;
            for crl in &crls {
                dir.write_crl(crl)?;
            }
            crate::say!(
                "accédant {hab} : certificat(s) révoqué(s) ({reason}) ; {} publiée(s)",
                super::cert::published(&crls)
            );
            Ok(())
        }
        AccessorCommand::Renew { hab } => reissue(dir, &config, &s, hab, None, "renouvellement"),
        AccessorCommand::Resend { hab, p12_profile } => {
            let profile = p12_profile.map(ca::P12Profile::from);
            reissue(dir, &config, &s, hab, profile, "nouvel envoi")
        }
        AccessorCommand::ResetCode { hab } => {
            s.access
                .reset_code(hab, "operator:cli")
                .map_err(access_err)?;
            crate::services::flush_outbox(dir, &config);
            crate::say!("accédant {hab} : nouveau code d'accès envoyé, accès débloqué");
            Ok(())
        }
        AccessorCommand::SetEmail {
            hab,
            address,
            reason,
        } => {
            let email = enroll::Email::parse(&address)
                .map_err(|e| AppError::DataDir(format!("adresse électronique : {e}")))?;
            s.access
                .set_email(hab, &email, &reason, "operator:cli")
                .map_err(access_err)?;
            crate::services::flush_outbox(dir, &config);
            crate::say!(
                "accédant {hab} : adresse électronique remplacée par {} ; l'ancienne et la \
                 nouvelle adresse sont prévenues",
                super::out::Shown(email.as_str())
            );
            Ok(())
        }
    }
}

fn reissue(
    dir: &DataDir,
    config: &crate::config::Config,
    s: &Services,
    hab: u32,
    profile: Option<ca::P12Profile>,
    what: &str,
) -> Result<(), AppError> {
    let authority = dir.load_authority(config)?;
    let crl = s
        .access
        .reissue(&authority, hab, profile, "operator:cli")
        .map_err(access_err)?;
    for crl in &crl {
        dir.write_crl(crl)?;
    }
    crate::services::flush_outbox(dir, config);
    crate::say!("accédant {hab} : {what} — nouveau certificat et nouveau lien de retrait envoyés");
    Ok(())
}

fn french_cert_state(s: CertificateState) -> &'static str {
    match s {
        CertificateState::Preparing => "en préparation",
        CertificateState::Issued => "émis, en attente de retrait",
        CertificateState::Delivered => "retiré par son titulaire",
        CertificateState::Revoked => "révoqué",
    }
}

fn french_withdrawal(s: WithdrawalState) -> &'static str {
    match s {
        WithdrawalState::Preparing => "en préparation",
        WithdrawalState::Pending => "en attente",
        WithdrawalState::Used => "utilisé",
        WithdrawalState::Expired => "expiré",
        WithdrawalState::Locked => "bloqué",
        WithdrawalState::Superseded => "remplacé",
    }
}
