//! `siseri protocol`: the operator's review of signed protocols.

use std::path::PathBuf;

use clap::Subcommand;
use enroll::access::{Eyes, GuardedAct};
use enroll::access::{FoundBy, IdentityField, KnownDesignee};

use super::out::Shown;
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
    /// validation interrompue. Affiche d'abord les personnes déjà connues que le protocole
    /// nomme et ce qu'il en dit d'autre que le registre ; une personne reconnue à son seul nom
    /// et à sa naissance n'est rattachée qu'avec --confirm-match.
    Approve {
        /// Numéro du protocole.
        number: String,
        /// Confirme qu'une personne nommée sans N° habilitation (reconnue à son nom, sa date
        /// et son département de naissance) est bien la personne enregistrée sous ce N°
        /// habilitation SISERI. Une fois par personne.
        #[arg(long = "confirm-match", value_name = "HAB")]
        confirm_match: Vec<u32>,
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
                crate::say!("aucun protocole");
            }
            for v in versions {
                crate::say!(
                    "{}  v{}  {:<10}  signé le {}  {}",
                    v.number,
                    v.version,
                    v.status,
                    v.signed_at.date(),
                    Shown(&v.employer)
                );
            }
            Ok(())
        }
        ProtocolCommand::Show { number } => {
            let d = s.access.version_detail(&number).map_err(access_err)?;
            crate::say!(
                "Protocole n° {} — version {} — {} — nom clé {}",
                Shown(&d.summary.number),
                d.summary.version,
                d.summary.status,
                Shown(&d.key_name)
            );
            if let Some(r) = &d.reject_reason {
                crate::say!("Motif du refus : {}", Shown(r));
            }
            if let Some(by) = &d.decided_by {
                crate::say!("Décidé par : {}", Shown(by));
            }
            crate::say!();
            // Line by line: the text's own line ends kept, any other control (a CR too)
            // escaped.
            for line in d.annexe_text.trim_end_matches('\n').split('\n') {
                crate::say!("{}", Shown(line));
            }
            crate::say!();
            match s.access.compare_designees(&number) {
                Ok(known) => print_known(&known)?,
                // What was signed is shown above even when it cannot be read as a protocol.
                Err(e) => crate::say!(
                    "PERSONNES DÉJÀ CONNUES : comparaison impossible ({})",
                    Shown(&e.to_string())
                ),
            }
            crate::say!();
            crate::say!("PIÈCES JUSTIFICATIVES (siseri protocol documents {number} --out DIR)");
            for doc in documents(&s, &d.version_id)? {
                crate::say!(
                    "- {} : {} ({} octets), SHA-256 {}",
                    doc.kind.label(),
                    Shown(&doc.media_type),
                    doc.size,
                    doc.sha256
                );
            }
            crate::say!();
            crate::say!("PREUVE DE SIGNATURE");
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
                let value = e[k]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| e[k].to_string());
                crate::say!("- {k} : {}", Shown(&value));
            }
            if !d.diff.is_empty() {
                crate::say!();
                crate::say!("DIFFÉRENCES AVEC LA VERSION EN VIGUEUR");
                for l in &d.diff {
                    crate::say!("{}", Shown(l));
                }
            }
            Ok(())
        }
        ProtocolCommand::Approve {
            number,
            confirm_match,
        } => {
            let authority = dir.load_authority(&config)?;
            // A protocol that cannot be compared cannot be approved either: the approval
            // below then says precisely why (which person, which field).
            if let Ok(known) = s.access.compare_designees(&number) {
                print_known(&known)?;
            }
            let mut progress = |i: usize, n: usize, who: &str| {
                if i < n {
                    eprintln!("[{}/{n}] {who}", i + 1);
                }
            };
            let subject = s.access.approval_subject(&number).map_err(access_err)?;
            let eyes = s
                .access
                .four_eyes(GuardedAct::Approve, &subject, &cli_asker())
                .map_err(access_err)?;
            if eyes == Eyes::FirstRecorded {
                crate::say!(
                    "protocole {number} : validation enregistrée ; un second opérateur doit la \
                     confirmer depuis la console (quatre yeux)"
                );
                return Ok(());
            }
            let report = s
                .access
                .approve(
                    &authority,
                    &number,
                    "operator:cli",
                    &confirm_match,
                    &mut progress,
                )
                .map_err(access_err)?;
            for crl in &report.crl {
                dir.write_crl(crl)?;
            }
            crate::services::flush_outbox(dir, &config);
            crate::say!(
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
            crate::say!("protocole {number} refusé ; les correspondants sont prévenus");
            Ok(())
        }
        ProtocolCommand::Documents { number, out } => {
            let d = s.access.version_detail(&number).map_err(access_err)?;
            // Identity cards and K-bis: 0700 directory, 0600 files, whatever the umask.
            super::owner_only::ensure_dir(&out)?;
            for doc in documents(&s, &d.version_id)? {
                let ext = match doc.media_type.as_str() {
                    "application/pdf" => "pdf",
                    "image/jpeg" => "jpg",
                    _ => "png",
                };
                let target = out.join(format!("{}-{}.{ext}", number, doc.kind.as_str()));
                let source = s.pass.document_path(&doc.sha256);
                let mut from =
                    std::fs::File::open(&source).map_err(|e| AppError::io(&source, e))?;
                let mut to = super::owner_only::replace_file(&target)?;
                std::io::copy(&mut from, &mut to).map_err(|e| AppError::io(&target, e))?;
                crate::say!("{}", Shown(&target.display().to_string()));
            }
            Ok(())
        }
    }
}

/// The people the protocol names whom the registry already knows, and what the protocol says
/// of them otherwise than the registry.
fn print_known(known: &[KnownDesignee]) -> Result<(), AppError> {
    crate::say!("PERSONNES DÉJÀ CONNUES DU REGISTRE NOMMÉES PAR CE PROTOCOLE");
    if known.is_empty() {
        crate::say!("- aucune");
    }
    for k in known {
        crate::say!(
            "- {} : N° habilitation SISERI {}, {}{}",
            Shown(&k.designee),
            k.habilitation,
            match k.found_by {
                FoundBy::Habilitation => "désigné(e) par ce numéro",
                FoundBy::NameAndBirth =>
                    "reconnu(e) à son nom et à sa naissance, sans numéro (à confirmer : --confirm-match)",
            },
            if k.attached_here {
                " — déjà rattaché(e) à ce protocole"
            } else {
                ""
            }
        );
        for diff in &k.differences {
            crate::say!(
                "    {} : registre « {} », protocole « {} »{}",
                diff.field.label(),
                Shown(diff.registry.as_deref().unwrap_or("(vide)")),
                Shown(diff.protocol.as_deref().unwrap_or("(vide)")),
                if diff.field == IdentityField::Email {
                    " (l'adresse du registre est conservée)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

fn documents(
    s: &Services,
    version_id: &str,
) -> Result<Vec<enroll::pass::DocumentRecord>, AppError> {
    s.pass
        .documents(version_id)
        .map_err(|e| AppError::DataDir(e.to_string()))
}

/// The CLI as one operator for the four-eyes gate: two CLI requests are the same operator's.
pub(super) fn cli_asker() -> enroll::access::Asker {
    enroll::access::Asker {
        id: "operator:cli".into(),
        actor: "operator:cli".into(),
    }
}
