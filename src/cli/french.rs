//! Clap's own strings in French: the help's headings and flags, and the usage errors (exit 2).
//! The help and version flags are declared on [`super::Cli`]; the rest is applied here to every
//! command of the tree, so that a new subcommand gets it without a line of its own.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Command, CommandFactory, FromArgMatches};

use super::{out, Cli};

/// Clap's default template with French headings.
const TEMPLATE: &str = "\
{before-help}{about-with-newline}
Utilisation : {usage}

{all-args}{after-help}";

/// The command tree with French headings, recursively.
fn localise(command: Command) -> Command {
    command
        .help_template(TEMPLATE)
        .subcommand_help_heading("Commandes")
        .subcommand_value_name("COMMANDE")
        .next_help_heading("Options")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .mut_subcommands(localise)
}

/// The command line parsed, or the process ended: help and version on stdout (exit 0), a
/// usage error in French on stderr (exit 2).
pub(super) fn parse() -> Cli {
    let mut command = localise(Cli::command());
    let parsed = command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|m| Cli::from_arg_matches(&m));
    match parsed {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            ErrorKind::DisplayVersion => e.exit(),
            ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                use std::io::Write;
                let mut stdout = std::io::stdout();
                let _ = write!(stdout, "{}", annotations(&e.render().to_string()));
                let _ = stdout.flush();
                std::process::exit(if e.kind() == ErrorKind::DisplayHelp {
                    0
                } else {
                    2
                });
            }
            _ => {
                eprintln!("erreur : {}", message(&e));
                eprintln!("Pour l'aide : ajoutez --help à la commande.");
                std::process::exit(2);
            }
        },
    }
}

/// The help's bracketed annotations in French: clap writes them in English whatever the
/// templates say.
fn annotations(help: &str) -> String {
    [
        ("[env: ", "[variable d'environnement : "),
        ("[default: ", "[par défaut : "),
        ("[possible values: ", "[valeurs possibles : "),
        ("[aliases: ", "[alias : "),
        ("[alias: ", "[alias : "),
        ("[short aliases: ", "[alias courts : "),
        ("Possible values:", "Valeurs possibles :"),
    ]
    .iter()
    .fold(help.to_owned(), |text, (en, fr)| text.replace(en, fr))
}

/// The French sentence of a usage error. What the user typed is shown through
/// [`out::Shown`] (control characters escaped), never raw.
fn message(e: &clap::Error) -> String {
    let text = |kind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(v)) => Some(v.join(", ")),
        Some(ContextValue::StyledStr(s)) => Some(s.to_string()),
        _ => None,
    };
    let shown = |s: String| out::Shown(&s).to_string();
    let arg = text(ContextKind::InvalidArg).map(shown).unwrap_or_default();
    let suggestion = text(ContextKind::SuggestedArg)
        .or_else(|| text(ContextKind::SuggestedSubcommand))
        .map(|s| format!(" ; vouliez-vous dire « {} » ?", s.replace(", ", " » ou « ")))
        .unwrap_or_default();
    match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => {
            let value = text(ContextKind::InvalidValue)
                .map(shown)
                .unwrap_or_default();
            let possible = text(ContextKind::ValidValue)
                .map(|v| format!(" [valeurs possibles : {v}]"))
                .unwrap_or_default();
            if value.is_empty() {
                format!("une valeur est attendue pour « {arg} »{possible}")
            } else {
                format!("valeur « {value} » refusée pour « {arg} »{possible}{suggestion}")
            }
        }
        ErrorKind::UnknownArgument => format!("argument inattendu « {arg} »{suggestion}"),
        ErrorKind::InvalidSubcommand => {
            let name = text(ContextKind::InvalidSubcommand)
                .map(shown)
                .unwrap_or_default();
            format!("commande inconnue « {name} »{suggestion}")
        }
        ErrorKind::MissingRequiredArgument => format!("argument obligatoire manquant : {arg}"),
        ErrorKind::MissingSubcommand => "une commande est attendue".to_owned(),
        ErrorKind::ArgumentConflict => {
            let other = text(ContextKind::PriorArg).map(shown).unwrap_or_default();
            format!("« {arg} » ne peut pas être donné avec « {other} »")
        }
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues | ErrorKind::TooFewValues => {
            format!("nombre de valeurs incorrect pour « {arg} »")
        }
        ErrorKind::NoEquals => format!("« {arg} » attend sa valeur après un signe égal"),
        ErrorKind::InvalidUtf8 => "un argument n'est pas du texte UTF-8".to_owned(),
        _ => "ligne de commande invalide".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(args: &[&str]) -> String {
        let e = localise(Cli::command())
            .try_get_matches_from(args)
            .expect_err("a usage error");
        message(&e)
    }

    #[test]
    fn usage_errors_read_in_french() {
        assert_eq!(
            error(&["siseri", "--nimporte"]),
            "argument inattendu « --nimporte »"
        );
        assert_eq!(
            error(&["siseri", "sevre"]),
            "commande inconnue « sevre » ; vouliez-vous dire « restore » ou « serve » ?"
        );
        assert_eq!(
            error(&["siseri", "cert", "revoke", "01", "--reason", "x"]),
            "valeur « x » refusée pour « --reason <REASON> » [valeurs possibles : unspecified, \
             keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, \
             privilegeWithdrawn]"
        );
    }

    #[test]
    fn help_is_in_french_for_every_command() {
        let mut command = localise(Cli::command());
        let help = command.render_help().to_string();
        for french in [
            "Utilisation : ",
            "Commandes:",
            "Options:",
            "Afficher l'aide",
        ] {
            assert!(help.contains(french), "{french} missing:\n{help}");
        }
        let cert = command
            .find_subcommand_mut("cert")
            .expect("cert")
            .render_help()
            .to_string();
        let root = annotations(&command.render_long_help().to_string());
        assert!(
            root.contains("[variable d'environnement : SISERI_DATA")
                && root.contains("[par défaut : siseri-data]"),
            "{root}"
        );
        let revoke = annotations(
            &command
                .find_subcommand_mut("cert")
                .and_then(|c| c.find_subcommand_mut("revoke"))
                .expect("cert revoke")
                .render_long_help()
                .to_string(),
        );
        assert!(revoke.contains("valeurs possibles"), "{revoke}");
        for english in [
            "[env: ",
            "[default: ",
            "[possible values: ",
            "Possible values:",
        ] {
            assert!(
                !root.contains(english) && !revoke.contains(english),
                "{english}"
            );
        }
        for english in ["Usage:", "Print help", "Commands:", "Print version"] {
            assert!(!help.contains(english), "{english}:\n{help}");
            assert!(!cert.contains(english), "{english}:\n{cert}");
        }
    }
}
