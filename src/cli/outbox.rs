//! `siseri outbox`: what the durable outbox of e-mails and SMS holds.

use clap::Subcommand;

use super::out::ShownJson;
use crate::datadir::DataDir;
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum OutboxCommand {
    /// Les derniers messages (destinataire masqué ; jamais le contenu).
    List {
        /// Nombre maximal de lignes.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Un message : état, tentatives, Message-ID et fichier du transport fichier.
    Show {
        /// Identifiant.
        id: i64,
    },
}

pub(super) fn run(dir: &DataDir, command: OutboxCommand) -> Result<(), AppError> {
    dir.load_config()?;
    let conn = dir.open_db()?;
    let err = |e: enroll::outbox::OutboxError| AppError::DataDir(e.to_string());
    match command {
        OutboxCommand::List { limit } => {
            for m in enroll::outbox::list(&conn, limit).map_err(err)? {
                let json = serde_json::to_string(&m).unwrap_or_default();
                crate::say!("{}", ShownJson(&json));
            }
            Ok(())
        }
        OutboxCommand::Show { id } => {
            let m = enroll::outbox::show(&conn, enroll::outbox::OutboxId(id))
                .map_err(err)?
                .ok_or_else(|| AppError::DataDir(format!("aucun message n° {id}")))?;
            let json = serde_json::to_string_pretty(&m).unwrap_or_default();
            crate::say!("{}", ShownJson(&json));
            Ok(())
        }
    }
}
