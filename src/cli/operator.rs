//! `siseri operator`: the operators of the console (instructeurs, administrateurs), their
//! certificates (AC SISERI, profile `operator`) sent by one-shot withdrawal. The first
//! administrator is added here, on the machine; later ones from here or from the console.

use clap::{Subcommand, ValueEnum};
use enroll::access::{CertificateState, Eyes, GuardedAct, OperatorRole};

use super::out::Shown;
use super::{access_err, services};
use crate::datadir::DataDir;
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum OperatorCommand {
    /// Ajoute un opérateur et lui envoie par e-mail le lien de retrait de son certificat,
    /// le code de retrait et le mot de passe du fichier .p12.
    Add {
        /// Nom de l'opérateur (le nom commun de son certificat).
        #[arg(long)]
        name: String,
        /// Adresse électronique où envoyer le retrait.
        #[arg(long)]
        email: String,
        /// Rôle dans la console.
        #[arg(long, value_enum)]
        role: Role,
    },
    /// Liste les opérateurs et leurs certificats.
    List,
    /// Révoque un opérateur : tous ses certificats (motif privilegeWithdrawn), LCR republiée.
    Revoke {
        /// Numéro de l'opérateur (voir « siseri operator list »).
        id: i64,
    },
}

/// `--role`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Role {
    /// Examine, valide et refuse les protocoles ; renvoie, réinitialise les codes, change l'e-mail.
    Instructeur,
    /// Tout cela, et révoque, renouvelle, gère les opérateurs.
    Administrateur,
}

impl From<Role> for OperatorRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Instructeur => Self::Instructeur,
            Role::Administrateur => Self::Administrateur,
        }
    }
}

pub(super) fn run(dir: &DataDir, command: OperatorCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let s = services(dir, &config)?;
    match command {
        OperatorCommand::Add { name, email, role } => {
            let authority = dir.load_authority(&config)?;
            let operator = s
                .access
                .add_operator(&authority, &name, &email, role.into(), "operator:cli")
                .map_err(access_err)?;
            crate::services::flush_outbox(dir, &config);
            crate::say!(
                "opérateur n° {} ({}, {}) ajouté ; lien de retrait, code et mot de passe \
                 envoyés à {}",
                operator.id,
                Shown(&operator.name),
                operator.role.as_str(),
                Shown(&operator.email)
            );
            Ok(())
        }
        OperatorCommand::List => {
            for v in s.access.operators().map_err(access_err)? {
                let o = &v.operator;
                crate::say!(
                    "{}  {}  {}  {}{}",
                    o.id,
                    Shown(&o.name),
                    o.role.as_str(),
                    Shown(&o.email),
                    if o.revoked_at.is_some() {
                        "  — révoqué"
                    } else {
                        ""
                    }
                );
                for c in &v.certificates {
                    crate::say!("    {} : {}", c.serial_hex, french_state(c.state));
                }
            }
            Ok(())
        }
        OperatorCommand::Revoke { id } => {
            s.access.check_operator_revocable(id).map_err(access_err)?;
            let eyes = s
                .access
                .four_eyes(
                    GuardedAct::RevokeOperator,
                    &format!("operator:{id}"),
                    &super::protocol::cli_asker(),
                )
                .map_err(access_err)?;
            if eyes == Eyes::FirstRecorded {
                crate::say!(
                    "opérateur n° {id} : révocation enregistrée ; un second opérateur doit la \
                     confirmer depuis la console (quatre yeux)"
                );
                return Ok(());
            }
            let authority = dir.load_authority(&config)?;
            let crls = s
                .access
                .revoke_operator(&authority, id, "operator:cli")
                .map_err(access_err)?;
            for crl in &crls {
                dir.write_crl(crl)?;
            }
            crate::say!(
                "opérateur n° {id} révoqué ; {}",
                super::cert::published(&crls)
            );
            Ok(())
        }
    }
}

fn french_state(s: CertificateState) -> &'static str {
    match s {
        CertificateState::Preparing => "en préparation",
        CertificateState::Issued => "émis, en attente de retrait",
        CertificateState::Delivered => "retiré",
        CertificateState::Revoked => "révoqué",
    }
}
