//! `siseri protocol`: the operator's review of signed protocols.

use std::path::PathBuf;

use clap::Subcommand;

use super::values::ProtocolStatus;
use super::{access_err, services};
use crate::datadir::DataDir;
use crate::error::AppError;
use crate::services::Services;

#[derive(Debug, Subcommand)]
pub(super) enum ProtocolCommand {
    /// Liste les versions signées (et décidées) des protocoles.
    List {
        /// Filtre : signed (en attente), approved, rejected, superseded.
        #[arg(long, value_enum)]
        status: Option<ProtocolStatus>,
    },
    /// Affiche la dernière version d'un protocole : champs, pièces, preuve de signature et,
    /// pour un renouvellement, les différences avec la version en vigueur.
    Show {
        /// Numéro du protocole (ex. 2026-000001).
        number: String,
    },
    /// Valide la version signée : certificats, retraits et e-mails pour chaque personne
    /// nommée ; les personnes retirées perdent leur rattachement. Reprend sans doublon une
    /// validation interrompue.
    Approve {
        /// Numéro du protocole.
        number: String,
    },
    /// Refuse la version signée ; les correspondants sont prévenus par e-mail.
    Reject {
        /// Numéro du protocole.
        number: String,
        /// Motif, communiqué à l'employeur.
        #[arg(long)]
        reason: String,
    },
    /// Extrait les pièces justificatives de la dernière version dans DIR.
    Documents {
        /// Numéro du protocole.
        number: String,
        /// Répertoire de sortie (créé au besoin).
        #[arg(long)]
        out: PathBuf,
    },
}

pub(super) fn run(dir: &DataDir, command: ProtocolCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let s = services(dir, &config)?;
    match command {
        ProtocolCommand::List { status } => {
            let versions = s
                .access
                .versions(status.map(ProtocolStatus::as_str))
                .map_err(access_err)?;
            if versions.is_empty() {
                println!("aucun protocole");
            }
            for v in versions {
                println!(
                    "{}  v{}  {:<10}  signé le {}  {}",
                    v.number,
                    v.version,
                    v.status,
                    v.signed_at.date(),
                    v.employer
                );
            }
            Ok(())
        }
        ProtocolCommand::Show { number } => {
            let d = s.access.version_detail(&number).map_err(access_err)?;
            println!(
                "Protocole n° {} — version {} — {} — nom clé {}",
                d.summary.number, d.summary.version, d.summary.status, d.key_name
            );
            if let Some(r) = &d.reject_reason {
                println!("Motif du refus : {r}");
            }
            if let Some(by) = &d.decided_by {
                println!("Décidé par : {by}");
            }
            println!();
            print!("{}", d.annexe_text);
            println!();
            println!("PIÈCES JUSTIFICATIVES (siseri protocol documents {number} --out DIR)");
            for doc in documents(&s, &d.version_id)? {
                println!(
                    "- {} : {} ({} octets), SHA-256 {}",
                    doc.kind.label(),
                    doc.media_type,
                    doc.size,
                    doc.sha256
                );
            }
            println!();
            println!("PREUVE DE SIGNATURE");
            let e = &d.evidence;
            for k in [
                "signed_at",
                "method",
                "document_sha256",
                "phone",
                "ip",
                "user_agent",
                "consent_at",
            ] {
                println!(
                    "- {k} : {}",
                    e[k].as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| e[k].to_string())
                );
            }
            if !d.diff.is_empty() {
                println!();
                println!("DIFFÉRENCES AVEC LA VERSION EN VIGUEUR");
                for l in &d.diff {
                    println!("{l}");
                }
            }
            Ok(())
        }
        ProtocolCommand::Approve { number } => {
            let authority = dir.load_authority(&config)?;
            let mut progress = |i: usize, n: usize, who: &str| {
                if i < n {
                    eprintln!("[{}/{n}] {who}", i + 1);
                }
            };
            let report = s
                .access
                .approve(&authority, &number, "operator:cli", &mut progress)
                .map_err(access_err)?;
            for crl in &report.crl {
                dir.write_crl(crl)?;
            }
            crate::services::flush_outbox(dir, &config);
            println!(
                "protocole {} version {} validé : {} certificat(s) émis, {} rattachement(s) \
                 ajouté(s) à un certificat existant, {} rattachement(s) retiré(s), {} certificat(s) révoqué(s)",
                report.number,
                report.version,
                report.issued.len(),
                report.attached.len(),
                report.detached.len(),
                report.revoked.len()
            );
            Ok(())
        }
        ProtocolCommand::Reject { number, reason } => {
            if reason.trim().is_empty() {
                return Err(AppError::DataDir(
                    "le motif du refus est obligatoire".into(),
                ));
            }
            s.access
                .reject(&number, reason.trim(), "operator:cli")
                .map_err(access_err)?;
            crate::services::flush_outbox(dir, &config);
            println!("protocole {number} refusé ; les correspondants sont prévenus");
            Ok(())
        }
        ProtocolCommand::Documents { number, out } => {
            let d = s.access.version_detail(&number).map_err(access_err)?;
            std::fs::create_dir_all(&out).map_err(|e| AppError::io(&out, e))?;
            for doc in documents(&s, &d.version_id)? {
                let ext = match doc.media_type.as_str() {
                    "application/pdf" => "pdf",
                    "image/jpeg" => "jpg",
                    _ => "png",
                };
                let target = out.join(format!("{}-{}.{ext}", number, doc.kind.as_str()));
                let source = s.pass.document_path(&doc.sha256);
                std::fs::copy(&source, &target).map_err(|e| AppError::io(&source, e))?;
                println!("{}", target.display());
            }
            Ok(())
        }
    }
}

fn documents(
    s: &Services,
    version_id: &str,
) -> Result<Vec<enroll::pass::DocumentRecord>, AppError> {
    s.pass
        .documents(version_id)
        .map_err(|e| AppError::DataDir(e.to_string()))
}
