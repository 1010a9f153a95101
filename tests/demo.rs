//! `siseri demo` tells the whole story and leaves a working `.p12` behind.

mod common;

use std::process::Command;

use common::{require_tool, run_ok, Sandbox};

#[test]
fn the_demo_tells_the_whole_story_and_leaves_a_p12_that_openssl_opens() {
    let sb = Sandbox::new();
    let parent = sb.path("demos");
    let mut cmd = sb.siseri(["demo", "--in"]);
    cmd.arg(&parent).env_remove("SISERI_CA_PASSPHRASE");
    let out = run_ok(&mut cmd);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    for needle in [
        "1. Création du répertoire de données",
        "protocole n° ",
        "3 certificat(s) émis",
        "6 e-mails",
        "second essai : Ce lien de retrait n'est plus valide",
        "serve",
        "/api/v1/session",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let line = text
        .lines()
        .find(|l| l.contains(".p12 (mot de passe "))
        .expect("the .p12 line");
    let path = line
        .split("fichier : ")
        .nth(1)
        .unwrap()
        .split(" (")
        .next()
        .unwrap();
    let password = line
        .split("mot de passe ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')');
    let ok = Command::new(require_tool("openssl"))
        .args(["pkcs12", "-noout", "-in", path, "-passin"])
        .arg(format!("pass:{password}"))
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}
