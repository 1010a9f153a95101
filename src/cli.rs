//! The command line: `siseri <command>`. Errors are one French line on stderr; exit 1 at run
//! time, 2 for a usage error (clap's own).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use ca::{Authority, GeneratedKey, IssueRequest, P12Options, RevocationReason, Serial, SubjectKey};
use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;

use crate::datadir::{self, DataDir};
use crate::error::AppError;

/// AC SISERI : autorité de certification, inscription PASS et frontal du registre SISERI.
///
/// Toutes les commandes travaillent sur un répertoire de données (--data, ou $SISERI_DATA,
/// sinon ./siseri-data) qui contient la configuration, la base SQLite, l'AC et ses clés.
#[derive(Debug, Parser)]
#[command(name = "siseri", version, propagate_version = true)]
pub struct Cli {
    /// Répertoire de données.
    #[arg(
        long,
        global = true,
        env = "SISERI_DATA",
        default_value = "siseri-data"
    )]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Crée le répertoire de données : base, AC SISERI (clé chiffrée), certificat TLS, secrets,
    /// config.toml. Refuse un répertoire existant non vide.
    ///
    /// La phrase secrète de la clé de l'AC vient de SISERI_CA_PASSPHRASE ; sans elle, une
    /// phrase est générée dans ca/passphrase (droits 0600) et un avertissement l'indique.
    Init,
    /// Lance le service (initialise d'abord un répertoire vide) : écoute publique TLS
    /// (publication de l'AC et de la LCR, /healthz). Les adresses réellement ouvertes sont
    /// écrites dans listening.json.
    Serve,
    /// L'autorité de certification elle-même.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Certificats émis par l'AC.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Journal d'audit infalsifiable.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copie cohérente de la base, service en marche.
    Backup {
        /// Fichier de destination (ne doit pas exister).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum CaCommand {
    /// Affiche le certificat de l'AC, son empreinte et l'état des certificats émis.
    Show,
    /// Signe une nouvelle LCR et l'écrit dans FILE (DER ; PEM si FILE finit par .pem).
    Crl {
        /// Fichier de sortie.
        #[arg(long)]
        out: PathBuf,
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

#[derive(Debug, Subcommand)]
enum CertCommand {
    /// Émet un certificat de client machine (organisme de dosimétrie). Sans --csr, la clé est
    /// générée ici et le fichier est un PKCS#12 dont le mot de passe est affiché une seule
    /// fois ; avec --csr, le fichier est la chaîne de certificats PEM.
    Issue(IssueArgs),
    /// Révoque un certificat et publie aussitôt une nouvelle LCR.
    Revoke {
        /// Numéro de série (hexadécimal, avec ou sans « : »).
        serial: String,
        /// Motif RFC 5280 : unspecified, keyCompromise, cACompromise, affiliationChanged,
        /// superseded, cessationOfOperation, privilegeWithdrawn.
        #[arg(long)]
        reason: String,
    },
    /// Liste les derniers certificats enregistrés.
    List {
        /// Nombre maximal de lignes.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Args)]
struct IssueArgs {
    /// Profil : seul « organisme » s'émet directement (les personnes passent par PASS).
    #[arg(long)]
    profile: String,
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

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Vérifie toute la chaîne du journal ; code de sortie non nul à la première rupture.
    Verify,
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erreur : {e}");
            ExitCode::FAILURE
        }
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn execute(cli: Cli) -> Result<(), AppError> {
    let dir = DataDir::new(cli.data);
    match cli.command {
        Command::Init => init(&dir),
        Command::Serve => {
            crate::logging::init(&dir);
            if dir.is_empty() {
                init(&dir)?;
            }
            crate::serve::run(dir)
        }
        Command::Ca(c) => ca_command(&dir, c),
        Command::Cert(c) => cert_command(&dir, c),
        Command::Audit(AuditCommand::Verify) => {
            dir.load_config()?;
            let conn = dir.open_db()?;
            let v = ca::audit::verify(&conn)?;
            println!(
                "journal d'audit intègre : {} entrées, empreinte de tête {}",
                v.entries, v.head
            );
            Ok(())
        }
        Command::Backup { out } => {
            dir.load_config()?;
            if out.exists() {
                return Err(AppError::DataDir(format!("{} existe déjà", out.display())));
            }
            let conn = dir.open_db()?;
            conn.execute("VACUUM INTO ?1", [out.to_string_lossy()])?;
            println!("copie écrite dans {}", out.display());
            Ok(())
        }
    }
}

fn init(dir: &DataDir) -> Result<(), AppError> {
    let report = datadir::init(dir, now())?;
    println!("répertoire de données créé : {}", dir.root().display());
    if let Some(p) = report.generated_passphrase {
        eprintln!(
            "attention : SISERI_CA_PASSPHRASE n'est pas définie ; une phrase secrète a été générée dans {} (0600). \
             Conservez-la hors de cette machine et définissez SISERI_CA_PASSPHRASE en production.",
            p.display()
        );
    }
    if let Some(csr) = report.csr {
        println!(
            "AC subordonnée : faites signer {} par la racine, puis « siseri ca import CERT ».",
            csr.display()
        );
    }
    Ok(())
}

fn ca_command(dir: &DataDir, command: CaCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    match command {
        CaCommand::Show => {
            let cert = datadir::read(&dir.ca_cert())?;
            let conn = dir.open_db()?;
            let der = ca_der(&cert)?;
            let fingerprint = ring::digest::digest(&ring::digest::SHA256, &der);
            println!("AC SISERI — {}", dir.ca_cert().display());
            println!(
                "empreinte SHA-256 : {}",
                hex::encode_upper(fingerprint.as_ref())
            );
            for (status, n) in ca::counts(&conn)? {
                println!("certificats {status} : {n}");
            }
            let unsigned = ca::unsigned_serials(&conn)?;
            if !unsigned.is_empty() {
                println!(
                    "émissions interrompues avant signature (aucun certificat publié) : {}",
                    unsigned.len()
                );
            }
            if let Some(crl) = Authority::latest_crl(&conn)? {
                println!(
                    "LCR n° {} : {} entrée(s), prochaine mise à jour {}",
                    crl.number, crl.entries, crl.next_update
                );
            }
            print!("{cert}");
            Ok(())
        }
        CaCommand::Crl { out } => {
            datadir::check_writable(&out, true)?;
            let authority = dir.load_authority(&config)?;
            let mut conn = dir.open_db()?;
            let crl = authority.publish_crl(&mut conn, "operator:cli", now())?;
            dir.write_crl(&crl.der)?;
            let bytes = if out.extension().is_some_and(|e| e == "pem") {
                ca::to_pem("X509 CRL", &crl.der).into_bytes()
            } else {
                crl.der.clone()
            };
            datadir::write_atomic(&out, &bytes, 0o644)?;
            println!(
                "LCR n° {} ({} entrée(s)) écrite dans {}",
                crl.number,
                crl.entries,
                out.display()
            );
            Ok(())
        }
        CaCommand::Csr { out } => {
            let key = datadir::read(&dir.ca_key())?;
            let csr = Authority::csr_for_key(&key, &dir.passphrase()?, &config.policy(), now())?;
            datadir::write_atomic(&out, csr.as_bytes(), 0o644)?;
            println!(
                "demande de certificat de l'AC écrite dans {}",
                out.display()
            );
            Ok(())
        }
        CaCommand::Import { cert } => {
            let pem = datadir::read(&cert)?;
            let key = datadir::read(&dir.ca_key())?;
            let der = Authority::check_import(&pem, &key, &dir.passphrase()?)?;
            // Keep the whole file: AC SISERI first, then its issuers for the chain.
            datadir::write_atomic(&dir.ca_cert(), pem.as_bytes(), 0o644)?;
            let authority = dir.load_authority(&config)?;
            let mut conn = dir.open_db()?;
            datadir::install(dir, &config, &authority, &mut conn, now())?;
            println!(
                "certificat de l'AC installé ({} octets) ; certificat TLS et LCR émis",
                der.len()
            );
            Ok(())
        }
    }
}

fn ca_der(pem: &str) -> Result<Vec<u8>, AppError> {
    use base64::Engine as _;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| AppError::DataDir("certificat de l'AC illisible".into()))
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

fn cert_command(dir: &DataDir, command: CertCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    match command {
        CertCommand::Issue(args) => {
            if args.profile != "organisme" {
                return Err(AppError::DataDir(format!(
                    "profil « {} » : seul le profil « organisme » s'émet par cette commande \
                     (les personnes reçoivent leur certificat par PASS)",
                    args.profile
                )));
            }
            datadir::check_writable(&args.out, false)?;
            // Read and check the CSR before touching the CA: a bad one changes nothing.
            let from_csr = match &args.csr {
                Some(path) => Some(SubjectKey::from_csr_pem(&datadir::read(path)?)?),
                None => None,
            };
            let authority = dir.load_authority(&config)?;
            let mut conn = dir.open_db()?;
            let subject = ca::Subject::Organisme {
                name: args.cn.clone(),
            };
            match from_csr {
                Some(key) => {
                    let issued = authority.issue(
                        &mut conn,
                        &IssueRequest {
                            subject,
                            key: &key,
                            requester: "operator:cli",
                        },
                        now(),
                    )?;
                    let chain = format!("{}{}", issued.pem(), authority.certificate_pem());
                    keep_or_revoke(
                        &authority,
                        &mut conn,
                        &issued.serial,
                        datadir::write_atomic(&args.out, chain.as_bytes(), 0o644),
                    )?;
                    println!(
                        "certificat {} émis pour {} : {}",
                        issued.serial,
                        args.cn,
                        args.out.display()
                    );
                }
                None => {
                    let key = GeneratedKey::generate(config.issuance.key_algorithm)?;
                    let issued = authority.issue(
                        &mut conn,
                        &IssueRequest {
                            subject,
                            key: key.public(),
                            requester: "operator:cli",
                        },
                        now(),
                    )?;
                    let password = ca::secret::p12_password()?;
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
            let reason: RevocationReason = reason.parse()?;
            let authority = dir.load_authority(&config)?;
            let mut conn = dir.open_db()?;
            let crl = authority.revoke(&mut conn, &serial, reason, "operator:cli", now())?;
            dir.write_crl(&crl.der)?;
            println!(
                "certificat {serial} révoqué ({reason}) ; LCR n° {} publiée",
                crl.number
            );
            Ok(())
        }
        CertCommand::List { limit } => {
            let conn = dir.open_db()?;
            let t = now();
            for r in Authority::list(&conn, limit)? {
                let status = match r.status {
                    ca::CertificateStatus::Unsigned => "non signé".to_owned(),
                    ca::CertificateStatus::Issued if r.is_expired(t) => "expiré".to_owned(),
                    ca::CertificateStatus::Issued => "valide".to_owned(),
                    ca::CertificateStatus::Revoked { reason, .. } => format!("révoqué ({reason})"),
                };
                println!(
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
