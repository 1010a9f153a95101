//! `siseri audit`: the tamper-evident audit log.

use clap::Subcommand;

use crate::datadir::DataDir;
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Vérifie toute la chaîne du journal, puis celle du journal des signatures du signataire
    /// (ca/signer-audit.db) s'il existe ; code de sortie non nul à la première rupture.
    Verify,
}

pub(super) fn run(dir: &DataDir, command: AuditCommand) -> Result<(), AppError> {
    match command {
        AuditCommand::Verify => {
            dir.load_config()?;
            let conn = dir.open_db()?;
            let v = store::audit::verify(&conn)?;
            crate::say!(
                "journal d'audit intègre : {} entrées, empreinte de tête {}",
                v.entries,
                v.head
            );
            let signer = dir.signer_audit();
            if signer.exists() {
                let conn = rusqlite::Connection::open(&signer)?;
                let v = store::audit::verify(&conn)?;
                crate::say!(
                    "journal des signatures intègre : {} entrées, empreinte de tête {}",
                    v.entries,
                    v.head
                );
            }
            Ok(())
        }
    }
}
