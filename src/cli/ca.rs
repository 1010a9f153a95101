//! `siseri ca`: AC SISERI itself (its certificate, a fresh CRL, the subordinate ceremony).

use std::path::PathBuf;

use ca::Authority;
use clap::Subcommand;
use secrecy::ExposeSecret;

use super::now;
use crate::datadir::{self, DataDir};
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum CaCommand {
    /// Affiche le certificat de l'AC, son empreinte et l'état des certificats émis.
    Show,
    /// Signe une nouvelle LCR complète et l'écrit dans FILE (DER ; PEM si FILE finit par
    /// .pem) ; re-signe aussi les LCR de partition manquantes ou périmées. Avec --shard N :
    /// signe la LCR de la partition N et l'écrit dans FILE.
    Crl {
        /// Fichier de sortie.
        #[arg(long)]
        out: PathBuf,
        /// Partition (celle que nomme le point de distribution du certificat).
        #[arg(long)]
        shard: Option<u32>,
    },
    /// Écrit une demande de certificat (CSR) pour la clé de l'AC, à faire signer par une
    /// racine externe (AC subordonnée).
    Csr {
        /// Fichier de sortie (PEM).
        #[arg(long)]
        out: PathBuf,
    },
    /// Installe le certificat de l'AC signé par la racine externe, après avoir vérifié qu'il
    /// correspond à la clé et que c'est un certificat d'AC.
    Import {
        /// Certificat PEM (le premier du fichier est celui de l'AC SISERI).
        cert: PathBuf,
    },
}

pub(super) fn run(dir: &DataDir, command: CaCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    match command {
        CaCommand::Show => {
            let cert = datadir::read(&dir.ca_cert())?;
            let conn = dir.open_db()?;
            let der = ca_der(&cert)?;
            let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der);
            crate::say!("AC SISERI — {}", dir.ca_cert().display());
            crate::say!(
                "empreinte SHA-256 : {}",
                hex::encode_upper(fingerprint.as_ref())
            );
            for (status, n) in ca::counts(&conn)? {
                crate::say!("certificats {status} : {n}");
            }
            let unsigned = ca::unsigned_serials(&conn)?;
            if !unsigned.is_empty() {
                crate::say!(
                    "émissions interrompues avant signature (aucun certificat publié) : {}",
                    unsigned.len()
                );
            }
            if let Some(crl) = Authority::latest_crl_info(&conn)? {
                crate::say!(
                    "LCR complète n° {} : {} entrée(s), prochaine mise à jour {}",
                    crl.number,
                    crl.entries,
                    crl.next_update
                );
            }
            let shards = Authority::shard_crls_info(&conn)?;
            if !shards.is_empty() {
                crate::say!(
                    "LCR de partition : {} partition(s), {} entrée(s) en tout, la plus grande {}",
                    shards.len(),
                    shards.iter().map(|s| s.entries).sum::<i64>(),
                    shards.iter().map(|s| s.entries).max().unwrap_or(0)
                );
            }
            crate::say!("{}", cert.trim_end());
            Ok(())
        }
        CaCommand::Crl { out, shard } => {
            datadir::check_writable(&out, true)?;
            let authority = dir.load_authority(&config)?;
            let mut conn = dir.open_db()?;
            let crl = match shard {
                Some(shard) => authority.publish_shard(&mut conn, shard, "operator:cli", now())?,
                None => {
                    let day = time::Duration::days(1);
                    authority.refresh_shard_crls(&mut conn, "operator:cli", now(), day)?;
                    authority.publish_crl(&mut conn, "operator:cli", now())?
                }
            };
            dir.write_crl(&crl)?;
            let bytes = if out.extension().is_some_and(|e| e == "pem") {
                ca::to_pem("X509 CRL", &crl.der).into_bytes()
            } else {
                crl.der.clone()
            };
            datadir::write_atomic(&out, &bytes, 0o644)?;
            crate::say!(
                "{} ({} entrée(s)) écrite dans {}",
                super::cert::published(std::slice::from_ref(&crl)),
                crl.entries,
                out.display()
            );
            Ok(())
        }
        CaCommand::Csr { out } => {
            let csr = match config.ca.token() {
                Some(token) => {
                    let key = ca::TokenKey::open(&token, datadir::token_pin()?.expose_secret())?;
                    Authority::create_subordinate_in_token(&key, &config.policy(), now())?
                }
                None => Authority::csr_for_key(
                    &datadir::read(&dir.ca_key())?,
                    dir.passphrase()?.expose_secret(),
                    &config.policy(),
                    now(),
                )?,
            };
            datadir::write_atomic(&out, csr.as_bytes(), 0o644)?;
            crate::say!(
                "demande de certificat de l'AC écrite dans {}",
                out.display()
            );
            Ok(())
        }
        CaCommand::Import { cert } => {
            let pem = datadir::read(&cert)?;
            let der = match config.ca.token() {
                // The certificate must be the token key's: checked by loading it.
                Some(token) => {
                    let key = ca::TokenKey::open(&token, datadir::token_pin()?.expose_secret())?;
                    Authority::load_token(&pem, key, config.policy())?
                        .certificate_der()
                        .to_vec()
                }
                None => Authority::check_import(
                    &pem,
                    &datadir::read(&dir.ca_key())?,
                    dir.passphrase()?.expose_secret(),
                )?,
            };
            // Keep the whole file: AC SISERI first, then its issuers for the chain.
            datadir::write_atomic(&dir.ca_cert(), pem.as_bytes(), 0o644)?;
            // A key ceremony: the key (or the token's session) is held here.
            let authority = dir.hold_authority(&config)?;
            let mut conn = dir.open_db()?;
            datadir::install(dir, &config, &authority, &mut conn, now())?;
            crate::say!(
                "certificat de l'AC installé ({} octets) ; certificat TLS et LCR émis",
                der.len()
            );
            Ok(())
        }
    }
}

/// The first certificate of the CA's file: AC SISERI itself (its issuers may follow).
fn ca_der(text: &str) -> Result<Vec<u8>, AppError> {
    pem::parse_many(text)
        .ok()
        .and_then(|blocks| blocks.into_iter().find(|b| b.tag() == "CERTIFICATE"))
        .map(pem::Pem::into_contents)
        .ok_or_else(|| AppError::DataDir("certificat de l'AC illisible".into()))
}
