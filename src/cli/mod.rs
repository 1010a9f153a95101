//! The command line: `siseri <command>`. Errors are one French line on stderr; exit 1 at run
//! time, 2 for a usage error (clap's own, a value outside a closed set included: see
//! [`values`]). The clap tree and the dispatch are here, each command group in its own file.

mod accessor;
mod archive;
mod audit;
mod backup;
mod ca;
mod cert;
mod french;
mod operator;
pub(crate) mod out;
mod outbox;
mod owner_only;
mod protocol;
mod recepisse;
mod registry;
mod restore;
mod transmission;
mod values;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use time::OffsetDateTime;

use crate::datadir::{self, DataDir};
use crate::error::AppError;
use crate::services::Services;

use self::accessor::AccessorCommand;
use self::audit::AuditCommand;
use self::ca::CaCommand;
use self::cert::CertCommand;
use self::operator::OperatorCommand;
use self::outbox::OutboxCommand;
use self::protocol::ProtocolCommand;
use self::recepisse::RecepisseCommand;
use self::registry::RegistryCommand;
use self::transmission::TransmissionCommand;

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
    /// Format des journaux du service : « text » (lisible) ou « json » (un objet par ligne, pour
    /// un collecteur). Par défaut, [log] format de config.toml.
    #[arg(long, global = true, env = "SISERI_LOG_FORMAT", value_enum)]
    log_format: Option<crate::config::LogFormat>,
    /// Afficher l'aide (--help : détaillée).
    #[arg(short, long, global = true, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Afficher la version.
    #[arg(short = 'V', long, action = clap::ArgAction::Version)]
    version: Option<bool>,
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
    /// Signataire de l'AC : le seul processus qui déchiffre et détient la clé d'AC SISERI.
    /// Il écoute sur un socket Unix et ne signe que ce qui passe ses contrôles (profil,
    /// enregistrement préalable du numéro de série), en journalisant chaque signature dans
    /// ca/signer-audit.db. « siseri serve » en lance un lui-même, sauf si [signer] socket
    /// désigne un signataire lancé à part (service systemd sous son propre utilisateur).
    Signer {
        /// Socket d'écoute (par défaut : [signer] socket, sinon DATA/run/signer.sock).
        #[arg(long)]
        socket: Option<PathBuf>,
        /// S'arrêter quand l'entrée standard se ferme (signataire enfant d'un autre processus).
        #[arg(long, hide = true)]
        tied: bool,
        /// Sans la clé des récépissés (signataire éphémère d'une commande, qui n'en signe pas).
        #[arg(long, hide = true)]
        no_receipts: bool,
    },
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
    /// Opérateurs de la console (instructeurs, administrateurs) : ajout, liste, révocation.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Registre : organismes de dosimétrie désignés par les établissements.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Transmissions de résultats reçues : liste, détail, lignes en attente, périodes sans
    /// résultat.
    #[command(subcommand)]
    Transmission(TransmissionCommand),
    /// Récépissés de transmission signés par AC SISERI : vérification hors ligne.
    #[command(subcommand)]
    Recepisse(RecepisseCommand),
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
    /// Sauvegarde complète et cohérente, service en marche : une archive (0600) avec la base,
    /// les pièces justificatives, config.toml, le certificat et la clé CHIFFRÉE de l'AC, la LCR,
    /// les fichiers TLS et la clé des empreintes, plus un manifeste (versions, SHA-256). La
    /// phrase secrète de l'AC n'y est jamais : conservez-la à part.
    Backup {
        /// Fichier de destination (ne doit pas exister).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restaure une archive de « siseri backup » dans --data, répertoire vide ou inexistant :
    /// toute l'archive est vérifiée (manifeste, empreintes, version du schéma) avant d'écrire
    /// quoi que ce soit, puis la base est ouverte et son journal d'audit vérifié.
    Restore {
        /// Archive écrite par « siseri backup ».
        archive: PathBuf,
    },
}

/// Parses the command line and runs it.
pub fn run() -> ExitCode {
    let cli = french::parse();
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of a pipe has what it wanted (`| head -1`): a normal end (see `out`).
        Err(AppError::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erreur : {}", out::Shown(&e.to_string()));
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
            // Before anything else: this may run the daemon again with its arenas bounded.
            crate::arenas::bound();
            crate::logging::init(&dir, cli.log_format);
            if dir.is_empty() {
                // The key ceremony in a process of its own: the daemon never holds the key.
                init_in_child(&dir)?;
            }
            crate::serve::run(dir)
        }
        Command::Signer {
            socket,
            tied,
            no_receipts,
        } => {
            crate::logging::init(&dir, cli.log_format);
            crate::signer::run(&dir, socket, tied, !no_receipts)
        }
        Command::Ca(c) => ca::run(&dir, c),
        Command::Cert(c) => cert::run(&dir, c),
        Command::Audit(c) => audit::run(&dir, c),
        Command::Demo { r#in } => crate::demo::run(r#in.as_deref()),
        Command::Protocol(c) => protocol::run(&dir, c),
        Command::Accessor(c) => accessor::run(&dir, c),
        Command::Operator(c) => operator::run(&dir, c),
        Command::Outbox(c) => outbox::run(&dir, c),
        Command::Registry(c) => registry::run(&dir, c),
        Command::Transmission(c) => transmission::run(&dir, c),
        Command::Recepisse(c) => recepisse::run(&dir, c),
        Command::Backup { out } => backup::run(&dir, &out),
        Command::Restore { archive } => restore::run(&dir, &archive),
    }
}

fn init(dir: &DataDir) -> Result<(), AppError> {
    let report = datadir::init(dir, now())?;
    crate::say!("répertoire de données créé : {}", dir.root().display());
    if let Some(p) = report.generated_passphrase {
        eprintln!(
            "attention : SISERI_CA_PASSPHRASE n'est pas définie ; une phrase secrète a été générée dans {} (0600). \
             Conservez-la hors de cette machine et définissez SISERI_CA_PASSPHRASE en production.",
            p.display()
        );
    }
    if let Some(csr) = report.csr {
        crate::say!(
            "AC subordonnée : faites signer {} par la racine, puis « siseri ca import CERT ».",
            csr.display()
        );
    }
    Ok(())
}

/// `siseri init` run as a child process, for `serve` on an empty directory.
fn init_in_child(dir: &DataDir) -> Result<(), AppError> {
    let exe =
        std::env::current_exe().map_err(|e| AppError::io(std::path::Path::new("siseri"), e))?;
    let status = std::process::Command::new(exe)
        .arg("--data")
        .arg(dir.root())
        .arg("init")
        .status()
        .map_err(|e| AppError::io(std::path::Path::new("siseri init"), e))?;
    if status.success() {
        Ok(())
    } else {
        Err(AppError::DataDir(format!(
            "la création du répertoire de données a échoué ({status})"
        )))
    }
}

fn services(dir: &DataDir, config: &crate::config::Config) -> Result<Services, AppError> {
    Services::open(dir, config, std::sync::Arc::new(::store::SystemClock))
}

/// The message of an access error for the operator: refusals say what and who is at fault
/// (an approval's pre-flight names each person and field); an internal failure adds its cause,
/// since the operator, on the machine, is the one who can act on it.
fn access_err(e: enroll::access::AccessError) -> AppError {
    if e.is_internal() {
        return AppError::DataDir(web::error_chain(&e));
    }
    AppError::DataDir(e.to_string())
}
