//! Secrets from files: the CA passphrase given by `SISERI_CA_PASSPHRASE_FILE` or by systemd's
//! `LoadCredential=` (`$CREDENTIALS_DIRECTORY/ca-passphrase`) instead of the environment.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{one_line, run_fail, run_ok, Sandbox, Server};

/// Not the test suite's usual passphrase: nothing else could have opened the key.
const FILE_PASSPHRASE: &str = "phrase secrète lue dans un fichier 7Qz";

/// `siseri ARGS` without any passphrase in the environment, with `env` added.
fn without_passphrase(s: &Sandbox, args: &[&str], env: &[(&str, &Path)]) -> Command {
    let mut cmd = s.siseri(args);
    cmd.env_remove("SISERI_CA_PASSPHRASE")
        .env_remove("CREDENTIALS_DIRECTORY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// `init` then `serve` with only `env` giving the passphrase: the daemon listens, no passphrase
/// file was generated and the passphrase is in no output.
fn init_and_serve(s: &Sandbox, env: &[(&str, &Path)]) {
    let init = run_ok(&mut without_passphrase(s, &["init"], env));
    assert!(
        !s.data_file("ca/passphrase").exists(),
        "a passphrase was generated although one was given"
    );
    let mut cmd = without_passphrase(s, &["serve"], env);
    common::on_free_ports(&mut cmd).env("RUST_LOG", "debug");
    let mut server = Server::start(cmd, s.data(), s.path("serve.log"));
    // A liveness bound on a loaded machine, not a performance check.
    server.wait_listening(Duration::from_secs(60));
    assert!(server.terminate().success(), "{}", server.log());
    for shown in [
        server.log(),
        String::from_utf8_lossy(&init.stdout).into_owned(),
        String::from_utf8_lossy(&init.stderr).into_owned(),
    ] {
        assert!(!shown.contains(FILE_PASSPHRASE), "{shown}");
    }
}

#[test]
fn the_daemon_starts_with_the_passphrase_only_in_a_file() {
    let s = Sandbox::new();
    let file = s.path("passphrase");
    fs::write(&file, format!("{FILE_PASSPHRASE}\n")).unwrap();
    init_and_serve(&s, &[("SISERI_CA_PASSPHRASE_FILE", &file)]);
}

#[test]
fn the_daemon_starts_with_the_passphrase_only_from_systemd_credentials() {
    let s = Sandbox::new();
    let creds = s.path("credentials");
    fs::create_dir(&creds).unwrap();
    fs::write(creds.join("ca-passphrase"), FILE_PASSPHRASE).unwrap();
    init_and_serve(&s, &[("CREDENTIALS_DIRECTORY", &creds)]);
}

#[test]
fn a_missing_or_empty_passphrase_file_is_a_french_error_naming_the_file() {
    let s = Sandbox::initialised();
    let missing = s.path("absent");
    let empty = s.path("vide");
    fs::write(&empty, "\n").unwrap();
    for (file, why) in [
        (&missing, "fichier ou répertoire introuvable"),
        (&empty, "fichier vide"),
    ] {
        let (code, stderr) = run_fail(&mut without_passphrase(
            &s,
            &["serve"],
            &[("SISERI_CA_PASSPHRASE_FILE", file)],
        ));
        assert_eq!(code, 1, "{stderr}");
        let line = one_line(&stderr);
        assert!(line.starts_with("erreur : "), "{line}");
        assert!(line.contains(&file.display().to_string()), "{line}");
        assert!(line.contains("SISERI_CA_PASSPHRASE_FILE"), "{line}");
        assert!(line.contains(why), "{line}");
    }
}

#[test]
fn a_wrong_passphrase_in_a_file_does_not_show_it() {
    let s = Sandbox::initialised();
    let file = s.path("passphrase");
    fs::write(&file, FILE_PASSPHRASE).unwrap();
    let (code, stderr) = run_fail(&mut without_passphrase(
        &s,
        &["serve"],
        &[("SISERI_CA_PASSPHRASE_FILE", &file)],
    ));
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains(FILE_PASSPHRASE), "{stderr}");
}

#[test]
fn an_unreadable_smtp_password_file_stops_the_daemon_with_its_name() {
    let s = Sandbox::initialised();
    let missing = s.path("mot-de-passe-smtp");
    let mut cmd = s.siseri(["serve"]);
    cmd.env("SISERI_MAIL_TRANSPORT", "smtp")
        .env("SISERI_MAIL_SMTP_USERNAME", "siseri")
        .env("SISERI_MAIL_SMTP_PASSWORD_FILE", &missing);
    let (code, stderr) = run_fail(&mut cmd);
    assert_eq!(code, 1, "{stderr}");
    let line = one_line(&stderr);
    assert!(line.contains(&missing.display().to_string()), "{line}");
    assert!(line.contains("SISERI_MAIL_SMTP_PASSWORD_FILE"), "{line}");
}
