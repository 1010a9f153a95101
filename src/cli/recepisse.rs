//! `siseri recepisse`: the récépissés de transmission signed by AC SISERI's receipt key.

use std::path::PathBuf;

use clap::Subcommand;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use time::OffsetDateTime;

use super::out::Shown;
use crate::datadir::DataDir;
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum RecepisseCommand {
    /// Vérifie un récépissé signé (CMS, DER ou PEM), hors ligne : signature, empreinte du
    /// contenu, certificat des récépissés émis par AC SISERI et valide à la date de signature,
    /// puis affiche ce qu'il atteste. Code de sortie 0 s'il est valide, 1 sinon.
    Verify {
        /// Le récépissé (par exemple RT-2026-000000042.p7m).
        fichier: PathBuf,
        /// Certificat d'AC SISERI (PEM ou DER) ; par défaut, ca/ac-siseri.pem du répertoire de
        /// données.
        #[arg(long, value_name = "AC_PEM")]
        ca: Option<PathBuf>,
    },
}

pub(super) fn run(dir: &DataDir, command: RecepisseCommand) -> Result<(), AppError> {
    match command {
        RecepisseCommand::Verify { fichier, ca } => verify(dir, &fichier, ca),
    }
}

fn verify(dir: &DataDir, file: &std::path::Path, ca: Option<PathBuf>) -> Result<(), AppError> {
    let ca_path = ca.unwrap_or_else(|| dir.ca_cert());
    let ca_der = read_file(&ca_path)?;
    let ca_der = match CertificateDer::from_pem_slice(&ca_der) {
        Ok(der) => der.to_vec(),
        Err(_) => ca_der,
    };
    let receipt = read_file(file)?;
    let receipt = match pem::parse(&receipt) {
        Ok(block) if matches!(block.tag(), "PKCS7" | "CMS") => block.contents().to_vec(),
        _ => receipt,
    };
    let verified = ca::verify_receipt_signed(&receipt, &ca_der).map_err(|e| {
        AppError::DataDir(format!(
            "{} n'est pas un récépissé valide : {e}",
            file.display()
        ))
    })?;
    let r = &verified.recepisse;
    crate::say!("récépissé valide : {}", r.number);
    crate::say!("reçu le {}", when(r.received_at));
    crate::say!("signé le {}", when(verified.signed_at));
    crate::say!("fichier reçu (SHA-256) : {}", r.file_sha256);
    crate::say!(
        "expéditeur : {} (certificat n° {})",
        Shown(&r.sender.subject),
        r.sender.serial
    );
    crate::say!("lignes acceptées : {}", r.accepted);
    crate::say!("lignes en attente : {}", r.pending);
    crate::say!("lignes refusées : {}", r.rejected);
    for line in &r.rejected_lines {
        crate::say!("  ligne {} : {}", line.line, Shown(&line.reason));
    }
    crate::say!(
        "signé par le certificat des récépissés n° {} d'AC SISERI (valide jusqu'au {})",
        verified.certificate_serial,
        when(verified.certificate_not_after)
    );
    Ok(())
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, AppError> {
    std::fs::read(path).map_err(|e| AppError::io(path, e))
}

/// `06/12/2026 à 12:00:00 UTC`.
fn when(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{} à {:02}:{:02}:{:02} UTC",
        store::date::french(at.date()),
        at.hour(),
        at.minute(),
        at.second()
    )
}
