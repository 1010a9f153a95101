//! `siseri cert`: certificates issued directly by the operator (dosimetry bodies), revocation,
//! the CA's list.

use std::io::Write;
use std::path::PathBuf;

use ca::{
    Authority, CertificateRecord, CertificateStatus, GeneratedKey, IssueRequest, P12Options,
    RevocationReason, Serial, SubjectKey,
};
use clap::{Args, Subcommand};
use time::OffsetDateTime;

use super::now;
use super::values::{CertProfile, Reason};
use crate::datadir::{self, DataDir};
use crate::error::AppError;

#[derive(Debug, Subcommand)]
pub(super) enum CertCommand {
    /// Émet un certificat de client machine (organisme de dosimétrie). Sans --csr, la clé est
    /// générée ici et le fichier est un PKCS#12 dont le mot de passe est affiché une seule
    /// fois ; avec --csr, le fichier est la chaîne de certificats PEM.
    Issue(IssueArgs),
    /// Révoque un certificat et publie aussitôt la LCR qui le couvre (celle de sa partition).
    Revoke {
        /// Numéro de série (hexadécimal, avec ou sans « : »).
        serial: String,
        /// Motif RFC 5280 (majuscules indifférentes).
        #[arg(long, value_enum, ignore_case = true)]
        reason: Reason,
    },
    /// Liste les derniers certificats enregistrés.
    List {
        /// Nombre maximal de lignes.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
pub(super) struct IssueArgs {
    /// Profil : seul « organisme » s'émet directement (les personnes passent par PASS).
    #[arg(long, value_enum)]
    profile: CertProfile,
    /// Nom de l'organisme (CN).
    #[arg(long)]
    cn: String,
    /// Demande PKCS#10 (PEM) : la clé reste chez l'organisme.
    #[arg(long)]
    csr: Option<PathBuf>,
    /// Fichier de sortie (.p12 sans --csr, .pem avec).
    #[arg(long)]
    out: PathBuf,
}

/// What was published, for the operator: `LCR de la partition 17 n° 42, LCR complète n° 9`.
pub(super) fn published(crls: &[ca::PublishedCrl]) -> String {
    let each: Vec<String> = crls
        .iter()
        .map(|c| match c.shard {
            Some(shard) => format!("LCR de la partition {shard} n° {}", c.number),
            None => format!("LCR complète n° {}", c.number),
        })
        .collect();
    if each.is_empty() {
        "aucune LCR".into()
    } else {
        each.join(", ")
    }
}

/// A certificate whose file could not be written is revoked at once: its key is lost (or
/// never reached its holder), so it must not stay valid.
fn keep_or_revoke(
    authority: &Authority,
    conn: &mut rusqlite::Connection,
    serial: &Serial,
    written: Result<(), AppError>,
) -> Result<(), AppError> {
    let Err(e) = written else {
        return Ok(());
    };
    match authority.revoke(conn, serial, RevocationReason::CessationOfOperation, "operator:cli", now()) {
        Ok(_) => Err(AppError::DataDir(format!(
            "{e} ; le certificat {serial} émis a été révoqué aussitôt"
        ))),
        Err(r) => Err(AppError::DataDir(format!(
            "{e} ; le certificat {serial} n'a pas pu être révoqué ({r}) : révoquez-le avec « siseri cert revoke »"
        ))),
    }
}

pub(super) fn run(dir: &DataDir, command: CertCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    match command {
        CertCommand::Issue(args) => {
            // The only profile there is: people get their certificates through PASS.
            let CertProfile::Organisme = args.profile;
            datadir::check_writable(&args.out, false)?;
            // Read and check the CSR before touching the CA: a bad one changes nothing.
            let from_csr = match &args.csr {
                Some(path) => Some(SubjectKey::from_csr_pem(&datadir::read(path)?)?),
                None => None,
            };
            let authority = dir.load_authority(&config)?;
            let mut conn = dir.open_db()?;
            let issue = |conn: &mut rusqlite::Connection, key: &SubjectKey| {
                let subject = ca::Subject::Organisme {
                    name: args.cn.clone(),
                };
                let requester = "operator:cli";
                authority.issue(
                    conn,
                    &IssueRequest {
                        subject,
                        key,
                        requester,
                    },
                    now(),
                )
            };
            match from_csr {
                Some(key) => {
                    let issued = issue(&mut conn, &key)?;
                    let chain = format!("{}{}", issued.pem(), authority.certificate_pem());
                    keep_or_revoke(
                        &authority,
                        &mut conn,
                        &issued.serial,
                        datadir::write_atomic(&args.out, chain.as_bytes(), 0o644),
                    )?;
                    crate::say!(
                        "certificat {} émis pour {} : {}",
                        issued.serial,
                        args.cn,
                        args.out.display()
                    );
                }
                None => {
                    let key = GeneratedKey::generate(config.issuance.key_algorithm)?;
                    let issued = issue(&mut conn, key.public())?;
                    let password = store::random::p12_password()?;
                    let p12 = ca::build_p12(
                        key,
                        &issued.der,
                        authority.certificate_der(),
                        &args.cn,
                        &password,
                        P12Options {
                            profile: config.issuance.p12_profile,
                            iterations: config.issuance.p12_iterations,
                        },
                    )?;
                    keep_or_revoke(
                        &authority,
                        &mut conn,
                        &issued.serial,
                        datadir::write_atomic(&args.out, &p12, 0o600),
                    )?;
                    eprintln!(
                        "certificat {} émis pour {} : {} (mot de passe ci-dessous, affiché une seule fois)",
                        issued.serial,
                        args.cn,
                        args.out.display()
                    );
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{}", password.as_str())
                        .map_err(|e| AppError::io(std::path::Path::new("stdout"), e))?;
                }
            }
            Ok(())
        }
        CertCommand::Revoke { serial, reason } => {
            let serial: Serial = serial.parse()?;
            let reason = RevocationReason::from(reason);
            let authority = dir.load_authority(&config)?;
            let mut conn = dir.open_db()?;
            let crl = authority.revoke(&mut conn, &serial, reason, "operator:cli", now())?;
            dir.write_crl(&crl)?;
            crate::say!(
                "certificat {serial} révoqué ({reason}) ; {} publiée",
                published(std::slice::from_ref(&crl))
            );
            Ok(())
        }
        CertCommand::List { limit } => {
            let conn = dir.open_db()?;
            let t = now();
            for r in Authority::list(&conn, limit)? {
                let status = not_valid(&r, t).unwrap_or_else(|| "valide".to_owned());
                crate::say!(
                    "{}  {:<10}  {:<18}  {}  jusqu'au {}",
                    r.serial,
                    r.profile,
                    status,
                    r.subject,
                    r.not_after.date()
                );
            }
            Ok(())
        }
    }
}

/// Why the CA does not hold `r` valid at `now`, in French; `None` when it does.
pub(super) fn not_valid(r: &CertificateRecord, now: OffsetDateTime) -> Option<String> {
    match r.status {
        CertificateStatus::Unsigned => Some("non signé".to_owned()),
        CertificateStatus::Issued if r.is_expired(now) => Some("expiré".to_owned()),
        CertificateStatus::Issued => None,
        CertificateStatus::Revoked { reason, .. } => Some(format!("révoqué ({reason})")),
    }
}
