//! `siseri transmission`: the operators' view of the transmissions of results (issue 16):
//! `list`, `show NUMERO` (with its récépissé and its pending lines), `pending` (lines waiting
//! for their worker to be declared), `missing` (§3: periods without result nor *absence de
//! résultat* 20 days after their end). Every listing is audited (`operator:cli`).

use std::path::PathBuf;
use std::sync::Arc;

use clap::Subcommand;
use registry::{PendingLine, Registry, RegistryError, TransmissionSummary};

use super::services;
use crate::datadir::DataDir;
use crate::error::AppError;

const OPERATOR: &str = "operator:cli";

#[derive(Debug, Subcommand)]
pub(super) enum TransmissionCommand {
    /// Liste les transmissions reçues, les plus récentes d'abord, avec leurs comptes de
    /// lignes acceptées, en attente et refusées.
    List {
        /// Nombre de transmissions listées au plus.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Détail d'une transmission : expéditeur, empreinte, comptes, lignes refusées (d'après son
    /// récépissé) et lignes en attente.
    Show {
        /// Numéro du récépissé (RT-AAAA-NNNNNNNNN).
        numero: String,
        /// Écrit aussi le récépissé signé (DER) dans ce fichier.
        #[arg(long)]
        recepisse: Option<PathBuf>,
    },
    /// Lignes en attente : résultats reçus pour un NIR que l'établissement n'a pas (encore)
    /// déclaré ; ils deviennent des résultats quand il le déclare.
    Pending {
        /// Seulement celles reçues il y a au moins ce nombre de jours (par défaut :
        /// [transmissions] pending_days de config.toml, 30 jours).
        #[arg(long, value_name = "JOURS")]
        older_than: Option<u32>,
    },
    /// Périodes sans résultat ni déclaration d'absence de résultat 20 jours après leur fin
    /// (travailleurs classés A ou B des établissements qui ont désigné un organisme).
    Missing,
}

fn registry_err(e: RegistryError) -> AppError {
    match e {
        RegistryError::NotFound => {
            AppError::DataDir("aucune transmission ne porte ce numéro".into())
        }
        other => AppError::DataDir(other.to_string()),
    }
}

fn summary_line(t: &TransmissionSummary) -> String {
    format!(
        "{}  reçue le {}  {}  {} ligne(s) : {} acceptée(s), {} en attente ({} encore), {} refusée(s)  {}",
        t.number,
        t.received_at,
        super::out::Shown(&t.sender),
        t.lines,
        t.accepted,
        t.pending,
        t.still_pending,
        t.rejected,
        if t.signed { "récépissé signé" } else { "récépissé non signé" }
    )
}

fn pending_line(p: &PendingLine) -> String {
    let state = match p.state.as_str() {
        "pending" => "en attente".to_owned(),
        "attached" => "rattachée".to_owned(),
        _ => format!(
            "refusée : {}",
            super::out::Shown(p.reason.as_deref().unwrap_or(""))
        ),
    };
    format!(
        "{} ligne {}  établissement {}  NIR {}  {} du {} au {}  reçue le {}  {}",
        p.transmission,
        p.line,
        p.establishment,
        p.nir_masked,
        p.kind,
        p.period_start,
        p.period_end,
        p.received_at,
        state
    )
}

pub(super) fn run(dir: &DataDir, command: TransmissionCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let s = services(dir, &config)?;
    let registry = Registry::new(s.pool.clone(), Arc::new(::store::SystemClock));
    match command {
        TransmissionCommand::List { limit } => {
            let all = registry
                .operator_transmissions(OPERATOR, limit)
                .map_err(registry_err)?;
            if all.is_empty() {
                crate::say!("aucune transmission reçue");
            }
            for t in all {
                crate::say!("{}", summary_line(&t));
            }
        }
        TransmissionCommand::Show { numero, recepisse } => {
            let (t, lines, signed) = registry
                .operator_transmission(OPERATOR, numero.trim())
                .map_err(registry_err)?;
            crate::say!("{}", summary_line(&t));
            crate::say!(
                "expéditeur : {} (série {})",
                super::out::Shown(&t.sender_subject),
                t.sender_serial
            );
            crate::say!("SHA-256 du fichier ({}) : {}", t.format, t.sha256);
            if let Some((document, der)) = signed {
                let doc: serde_json::Value = serde_json::from_slice(&document).unwrap_or_default();
                if let Some(rejected) = doc["rejected_lines"].as_array() {
                    for r in rejected {
                        crate::say!(
                            "ligne {} refusée : {}",
                            r["line"],
                            super::out::Shown(r["reason"].as_str().unwrap_or(""))
                        );
                    }
                }
                if let (Some(path), Some(der)) = (recepisse, der) {
                    std::fs::write(&path, der).map_err(|e| AppError::io(&path, e))?;
                    crate::say!("récépissé signé écrit dans {}", path.display());
                }
            }
            for p in lines {
                crate::say!("{}", pending_line(&p));
            }
        }
        TransmissionCommand::Pending { older_than } => {
            let days = older_than.unwrap_or(config.transmissions.pending_days);
            let lines = registry
                .operator_pending(OPERATOR, days)
                .map_err(registry_err)?;
            if lines.is_empty() {
                crate::say!("aucune ligne en attente depuis {days} jour(s) ou plus");
            }
            for p in lines {
                crate::say!("{}", pending_line(&p));
            }
        }
        TransmissionCommand::Missing => {
            let missing = registry.operator_missing(OPERATOR).map_err(registry_err)?;
            if missing.is_empty() {
                crate::say!("aucune période sans résultat");
            }
            for m in missing {
                crate::say!(
                    "établissement {}  travailleur {}  période du {} au {} : ni résultat ni absence de résultat déclarée",
                    m.establishment,
                    m.worker_id,
                    m.period_start.format(&store::date::FRENCH).unwrap_or_default(),
                    m.period_end.format(&store::date::FRENCH).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
