//! `siseri registry`: the operator's acts on the registry. For now the dosimetry bodies an
//! establishment has named (`organisme add|remove|list|clients`), the same relation the
//! correspondent keeps on the registry's pages; every change is audited (`operator:cli`).

use std::sync::Arc;

use ca::Authority;
use clap::Subcommand;
use registry::{NamedBody, Registry, RegistryError};

use super::{access_err, now, services};
use crate::datadir::DataDir;
use crate::error::AppError;

const OPERATOR: &str = "operator:cli";

#[derive(Debug, Subcommand)]
pub(super) enum RegistryCommand {
    /// Organismes de dosimétrie désignés par les établissements : seuls ceux-là peuvent
    /// transmettre des résultats pour un établissement.
    #[command(subcommand)]
    Organisme(OrganismeCommand),
    /// Déclarations d'un NIR déjà connu sous une autre identité (nom, prénom, date de
    /// naissance), non appliquées à la personne : à examiner avec les établissements.
    Conflicts,
}

#[derive(Debug, Subcommand)]
pub(super) enum OrganismeCommand {
    /// Désigne un organisme de dosimétrie pour un établissement (nom du certificat de
    /// l'organisme, majuscules et accents indifférents ; il doit détenir un certificat valide).
    Add {
        /// Identifiant de l'établissement (celui de son protocole).
        establishment: i64,
        /// Nom de l'organisme, tel que dans son certificat.
        name: String,
    },
    /// Retire un organisme de dosimétrie d'un établissement : il ne peut plus rien y transmettre.
    Remove {
        /// Identifiant de l'établissement (celui de son protocole).
        establishment: i64,
        /// Nom de l'organisme.
        name: String,
    },
    /// Liste les organismes de dosimétrie désignés par un établissement.
    List {
        /// Identifiant de l'établissement (celui de son protocole).
        establishment: i64,
    },
    /// Liste les établissements qui ont désigné un organisme (nom exact de son certificat).
    Clients {
        /// Nom de l'organisme.
        name: String,
    },
}

/// A refusal of the registry as one French line: a form's field messages rather than its
/// generic sentence.
fn registry_err(e: RegistryError) -> AppError {
    let message = match e.fields() {
        Some(fields) if !fields.is_empty() => fields.into_values().collect::<Vec<_>>().join(" "),
        _ => match e {
            RegistryError::NotFound => {
                "cet organisme n'est pas désigné par cet établissement".into()
            }
            other => other.to_string(),
        },
    };
    AppError::DataDir(message)
}

/// One named body, its stored texts escaped (a certificate's name may hold anything).
fn line(b: &NamedBody) -> String {
    format!(
        "{}  établissement {}  {}  désigné le {} par {}",
        b.id,
        b.establishment,
        super::out::Shown(&b.name),
        b.declared_at,
        super::out::Shown(&b.declared_by)
    )
}

pub(super) fn run(dir: &DataDir, command: RegistryCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let s = services(dir, &config)?;
    let registry = Registry::new(s.pool.clone(), Arc::new(::store::SystemClock));
    let command = match command {
        RegistryCommand::Organisme(command) => command,
        RegistryCommand::Conflicts => {
            let conflicts = registry
                .operator_identity_conflicts(OPERATOR)
                .map_err(registry_err)?;
            if conflicts.is_empty() {
                crate::say!("aucun conflit d'identité en attente");
            }
            for c in conflicts {
                crate::say!(
                    "{}  personne {} ({})  connue : {}  déclarée par l'établissement {} : {}  \
                     ({}, {}, le {})",
                    c.id,
                    c.person_id,
                    c.nir_masked,
                    super::out::Shown(&c.known),
                    c.establishment,
                    super::out::Shown(&c.declared),
                    c.source,
                    super::out::Shown(&c.declared_by),
                    c.declared_at
                );
            }
            return Ok(());
        }
    };
    let exists = |id: i64| -> Result<(), AppError> {
        match s.access.establishment(id).map_err(access_err)? {
            Some(_) => Ok(()),
            None => Err(AppError::DataDir(format!(
                "aucun établissement n° {id} n'a de protocole en vigueur"
            ))),
        }
    };
    match command {
        OrganismeCommand::Add {
            establishment,
            name,
        } => {
            exists(establishment)?;
            let known = Authority::organisme_names(&*s.pool.get()?, now())?;
            let (body, added) = registry
                .operator_name_dosimetry_body(OPERATOR, establishment, &name, &known)
                .map_err(registry_err)?;
            if added {
                crate::say!("organisme désigné : {}", line(&body));
            } else {
                crate::say!("organisme déjà désigné : {}", line(&body));
            }
        }
        OrganismeCommand::Remove {
            establishment,
            name,
        } => {
            let body = registry
                .operator_remove_dosimetry_body(OPERATOR, establishment, &name)
                .map_err(registry_err)?;
            crate::say!("organisme retiré : {}", line(&body));
        }
        OrganismeCommand::List { establishment } => {
            exists(establishment)?;
            let bodies = registry
                .operator_dosimetry_bodies(establishment)
                .map_err(registry_err)?;
            if bodies.is_empty() {
                crate::say!("aucun organisme de dosimétrie désigné");
            }
            for b in bodies {
                crate::say!("{}", line(&b));
            }
        }
        OrganismeCommand::Clients { name } => {
            let clients = registry.operator_clients(&name).map_err(registry_err)?;
            if clients.is_empty() {
                crate::say!("aucun établissement n'a désigné cet organisme");
            }
            for b in clients {
                crate::say!("{}", line(&b));
            }
        }
    }
    Ok(())
}
