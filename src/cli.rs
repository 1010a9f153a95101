//! The command line: `siseri <command>`. Errors are one French line on stderr; exit 1 at run
//! time, 2 for a usage error (clap's own).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use ca::{Authority, GeneratedKey, IssueRequest, P12Options, RevocationReason, Serial, SubjectKey};
use clap::{Args, Parser, Subcommand};
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::datadir::{self, DataDir};
use crate::error::AppError;
use crate::services::Services;

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
    /// Revue des protocoles d'accès signés : liste, détail, validation, refus.
    #[command(subcommand)]
    Protocol(ProtocolCommand),
    /// Accédants (N° habilitation SISERI) : détail, révocation, renouvellement, renvoi, code.
    #[command(subcommand)]
    Accessor(AccessorCommand),
    /// File d'envoi des e-mails et SMS (transport fichier par défaut : DATA/outbox/).
    #[command(subcommand)]
    Outbox(OutboxCommand),
    /// Démonstration commentée : un protocole signé, validé, un certificat retiré, sur un
    /// répertoire temporaire conservé ; se termine par les commandes pour essayer le registre.
    Demo {
        /// Répertoire parent du répertoire de démonstration (par défaut, le répertoire temporaire).
        #[arg(long)]
        r#in: Option<PathBuf>,
    },
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
enum ProtocolCommand {
    /// Liste les versions signées (et décidées) des protocoles.
    List {
        /// Filtre : signed (en attente), approved, rejected, superseded.
        #[arg(long)]
        status: Option<String>,
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

#[derive(Debug, Subcommand)]
enum AccessorCommand {
    /// Liste les accédants.
    List,
    /// Rattachements, certificats, retraits et code d'accès d'un accédant.
    Show {
        /// N° habilitation SISERI.
        hab: u32,
    },
    /// Révoque le(s) certificat(s) de l'accédant ; LCR republiée aussitôt.
    Revoke {
        /// N° habilitation SISERI.
        hab: u32,
        /// Motif RFC 5280 (keyCompromise, affiliationChanged, cessationOfOperation…).
        #[arg(long)]
        reason: String,
    },
    /// Nouveau certificat et nouveau retrait ; l'ancien certificat est révoqué dès que le
    /// nouveau est retiré (ou expire).
    Renew {
        /// N° habilitation SISERI.
        hab: u32,
    },
    /// Nouveau retrait et nouveau mot de passe (l'ancien retrait est remplacé) ; avec
    /// --p12-profile compat, un fichier lisible par les systèmes anciens.
    Resend {
        /// N° habilitation SISERI.
        hab: u32,
        /// modern ou compat.
        #[arg(long)]
        p12_profile: Option<String>,
    },
    /// Envoie un nouveau code d'accès et débloque l'accès.
    ResetCode {
        /// N° habilitation SISERI.
        hab: u32,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
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
        Command::Demo { r#in } => crate::demo::run(r#in.as_deref()),
        Command::Protocol(c) => protocol_command(&dir, c),
        Command::Accessor(c) => accessor_command(&dir, c),
        Command::Outbox(c) => outbox_command(&dir, c),
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
            let csr = Authority::csr_for_key(
                &key,
                dir.passphrase()?.expose_secret(),
                &config.policy(),
                now(),
            )?;
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
            let der = Authority::check_import(&pem, &key, dir.passphrase()?.expose_secret())?;
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

/// The first certificate of the CA's file: AC SISERI itself (its issuers may follow).
fn ca_der(text: &str) -> Result<Vec<u8>, AppError> {
    pem::parse_many(text)
        .ok()
        .and_then(|blocks| blocks.into_iter().find(|b| b.tag() == "CERTIFICATE"))
        .map(pem::Pem::into_contents)
        .ok_or_else(|| AppError::DataDir("certificat de l'AC illisible".into()))
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

fn services(dir: &DataDir, config: &crate::config::Config) -> Result<Services, AppError> {
    Services::open(dir, config, std::sync::Arc::new(ca::SystemClock))
}

fn access_err(e: enroll::access::AccessError) -> AppError {
    AppError::DataDir(e.to_string())
}

fn protocol_command(dir: &DataDir, command: ProtocolCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let s = services(dir, &config)?;
    match command {
        ProtocolCommand::List { status } => {
            if let Some(st) = &status {
                if !["signed", "approved", "rejected", "superseded"].contains(&st.as_str()) {
                    return Err(AppError::DataDir(format!(
                        "statut « {st} » inconnu : signed, approved, rejected ou superseded"
                    )));
                }
            }
            let versions = s.access.versions(status.as_deref()).map_err(access_err)?;
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
            for doc in s
                .pass
                .documents(&d.version_id)
                .map_err(|e| AppError::DataDir(e.to_string()))?
            {
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
            if let Some(crl) = &report.crl {
                dir.write_crl(&crl.der)?;
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
            for doc in s
                .pass
                .documents(&d.version_id)
                .map_err(|e| AppError::DataDir(e.to_string()))?
            {
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

fn accessor_command(dir: &DataDir, command: AccessorCommand) -> Result<(), AppError> {
    let config = dir.load_config()?;
    let s = services(dir, &config)?;
    match command {
        AccessorCommand::List => {
            for a in s.access.accessors().map_err(access_err)? {
                println!(
                    "{}  {} {}  {}",
                    a.habilitation,
                    a.last_name.to_uppercase(),
                    a.first_name,
                    a.email
                );
            }
            Ok(())
        }
        AccessorCommand::Show { hab } => {
            let d = s.access.accessor(hab).map_err(access_err)?;
            let conn = dir.open_db()?;
            let a = &d.accessor;
            println!(
                "N° habilitation SISERI {} — {} {} — {}",
                a.habilitation,
                a.first_name,
                a.last_name.to_uppercase(),
                a.email
            );
            println!("RATTACHEMENTS");
            for (att, number) in &d.attachments {
                println!(
                    "- protocole {number} : {}{}{}",
                    att.role.as_str(),
                    if att.sends_dosimetry {
                        " (envoi des données dosimétriques)"
                    } else {
                        ""
                    },
                    if att.ended_at.is_some() {
                        " — terminé"
                    } else {
                        ""
                    }
                );
            }
            println!("CERTIFICATS");
            for c in &d.certificates {
                let serial = Serial::from_der_bytes(&c.serial);
                let ca_status = match Authority::find(&conn, &serial)? {
                    Some(r) => match r.status {
                        ca::CertificateStatus::Unsigned => "non signé".to_owned(),
                        ca::CertificateStatus::Issued if r.is_expired(now()) => "expiré".to_owned(),
                        ca::CertificateStatus::Issued => {
                            format!("valide jusqu'au {}", r.not_after.date())
                        }
                        ca::CertificateStatus::Revoked { reason, .. } => {
                            format!("révoqué ({reason})")
                        }
                    },
                    None => "inconnu de l'AC".to_owned(),
                };
                println!("- {serial} : {} — {ca_status}", french_cert_state(&c.state));
            }
            println!("RETRAITS");
            for w in &d.withdrawals {
                println!(
                    "- n° {} ({}) : {} — {} code(s) erroné(s) — expire le {}{}",
                    w.id,
                    w.p12_profile,
                    french_withdrawal(&w.status),
                    w.failed_attempts,
                    time::OffsetDateTime::from_unix_timestamp(w.expires_at)
                        .map(|t| t.date().to_string())
                        .unwrap_or_default(),
                    if w.has_p12 {
                        " — fichier .p12 conservé"
                    } else {
                        ""
                    }
                );
            }
            match &d.access_code {
                Some(c) => println!(
                    "CODE D'ACCÈS : {} ({} échec(s) consécutif(s))",
                    if c.status == "locked" {
                        "bloqué"
                    } else {
                        "actif"
                    },
                    c.failed_attempts
                ),
                None => println!("CODE D'ACCÈS : aucun"),
            }
            Ok(())
        }
        AccessorCommand::Revoke { hab, reason } => {
            let reason: RevocationReason = reason.parse()?;
            let authority = dir.load_authority(&config)?;
            let crl = s
                .access
                .revoke(&authority, hab, reason, "operator:cli")
                .map_err(access_err)?;
            dir.write_crl(&crl.der)?;
            println!(
                "accédant {hab} : certificat(s) révoqué(s) ({reason}) ; LCR n° {} publiée",
                crl.number
            );
            Ok(())
        }
        AccessorCommand::Renew { hab } => reissue(dir, &config, &s, hab, None, "renouvellement"),
        AccessorCommand::Resend { hab, p12_profile } => {
            let profile = p12_profile
                .map(|p| p.parse::<ca::P12Profile>())
                .transpose()?;
            reissue(dir, &config, &s, hab, profile, "nouvel envoi")
        }
        AccessorCommand::ResetCode { hab } => {
            s.access
                .reset_code(hab, "operator:cli")
                .map_err(access_err)?;
            crate::services::flush_outbox(dir, &config);
            println!("accédant {hab} : nouveau code d'accès envoyé, accès débloqué");
            Ok(())
        }
    }
}

fn reissue(
    dir: &DataDir,
    config: &crate::config::Config,
    s: &Services,
    hab: u32,
    profile: Option<ca::P12Profile>,
    what: &str,
) -> Result<(), AppError> {
    let authority = dir.load_authority(config)?;
    let crl = s
        .access
        .reissue(&authority, hab, profile, "operator:cli")
        .map_err(access_err)?;
    if let Some(crl) = crl {
        dir.write_crl(&crl.der)?;
    }
    crate::services::flush_outbox(dir, config);
    println!("accédant {hab} : {what} — nouveau certificat et nouveau lien de retrait envoyés");
    Ok(())
}

fn french_cert_state(s: &str) -> &'static str {
    match s {
        "preparing" => "en préparation",
        "issued" => "émis, en attente de retrait",
        "delivered" => "retiré par son titulaire",
        _ => "révoqué",
    }
}

fn french_withdrawal(s: &str) -> &'static str {
    match s {
        "preparing" => "en préparation",
        "pending" => "en attente",
        "used" => "utilisé",
        "expired" => "expiré",
        "locked" => "bloqué",
        _ => "remplacé",
    }
}

fn outbox_command(dir: &DataDir, command: OutboxCommand) -> Result<(), AppError> {
    dir.load_config()?;
    let conn = dir.open_db()?;
    let err = |e: enroll::outbox::OutboxError| AppError::DataDir(e.to_string());
    match command {
        OutboxCommand::List { limit } => {
            for m in enroll::outbox::list(&conn, limit).map_err(err)? {
                println!("{}", serde_json::to_string(&m).unwrap_or_default());
            }
            Ok(())
        }
        OutboxCommand::Show { id } => {
            let m = enroll::outbox::show(&conn, enroll::outbox::OutboxId(id))
                .map_err(err)?
                .ok_or_else(|| AppError::DataDir(format!("aucun message n° {id}")))?;
            println!("{}", serde_json::to_string_pretty(&m).unwrap_or_default());
            Ok(())
        }
    }
}
