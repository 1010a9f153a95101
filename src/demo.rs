//! `siseri demo`: the whole life of a protocol, scripted on a fresh data directory and narrated
//! step by step, through the same services the pages, the API and the CLI use. It ends with the
//! commands a person can type to try the registry with the issued `.p12`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use enroll::access::Withdrawn;
use enroll::pass::{Client, DocumentKind};
use enroll::protocol::ProtocolInput;

use crate::datadir::{self, DataDir};
use crate::error::AppError;
use crate::services::{flush_outbox, Services};

const SEED: &str = include_str!("../enroll/tests/data/protocol.json");

fn step(n: u32, text: &str) {
    println!("\n{n}. {text}");
}

fn detail(text: impl AsRef<str>) {
    println!("   {}", text.as_ref());
}

fn between<'a>(text: &'a str, before: &str, after: &str) -> Option<&'a str> {
    let start = text.find(before)? + before.len();
    let rest = &text[start..];
    Some(&rest[..rest.find(after).unwrap_or(rest.len())])
}

fn pending_bodies(dir: &DataDir, channel: &str) -> Result<Vec<(String, String)>, AppError> {
    let conn = store::pool::open(&dir.database())?;
    let mut stmt = conn.prepare(
        "SELECT recipient, body FROM enroll_outbox WHERE channel = ?1 AND body IS NOT NULL ORDER BY id",
    )?;
    let rows = stmt.query_map([channel], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::DataDir(e.to_string())
}

/// Runs the demo in a new directory under `parent` (the system's temporary directory when
/// `None`), which is kept so that its commands can be tried.
pub fn run(parent: Option<&Path>) -> Result<(), AppError> {
    let started = Instant::now();
    let base = match parent {
        Some(p) => p.to_owned(),
        None => std::env::temp_dir(),
    };
    std::fs::create_dir_all(&base).map_err(|e| AppError::io(&base, e))?;
    let root = tempfile::Builder::new()
        .prefix("siseri-demo-")
        .tempdir_in(&base)
        .map_err(|e| AppError::io(&base, e))?
        .keep();
    let dir = DataDir::new(root.join("data"));
    println!("Démonstration SISERI : la vie d'un protocole d'accès, de la signature au registre.");

    step(1, "Création du répertoire de données et de l'AC SISERI");
    let report = datadir::init(&dir, time::OffsetDateTime::now_utc())?;
    detail(format!("répertoire : {}", dir.root().display()));
    if let Some(p) = report.generated_passphrase {
        detail(format!(
            "phrase secrète de la clé de l'AC générée dans {}",
            p.display()
        ));
    }
    let config = dir.load_config()?;
    let authority = dir.load_authority(&config)?;
    let s = Services::open(&dir, &config, Arc::new(store::SystemClock))?;

    step(
        2,
        "Le représentant légal remplit le protocole PASS (l'exemple du guide)",
    );
    let input: ProtocolInput = serde_json::from_str(SEED).map_err(internal)?;
    let draft = s.pass.create(&input).map_err(internal)?;
    detail("employeur : Cabinet dentaire du Dr DURAND Vincent, 67000 STRASBOURG (SIRET 73282932000074)");
    detail("correspondant : Vincent DURAND ; médecin du travail : Claire MARTIN ; PCR : Pierre DILLENSEGER (ALARA EXPERTISE)");

    step(
        3,
        "Il charge le K-bis et sa carte d'identité (types reconnus par leur contenu)",
    );
    for (kind, bytes) in [
        (
            DocumentKind::Kbis,
            &b"%PDF-1.4\n% extrait K-bis de demonstration\n"[..],
        ),
        (
            DocumentKind::Identity,
            &b"\x89PNG\r\n\x1a\n carte d'identite de demonstration"[..],
        ),
    ] {
        let d = s.pass.upload(&draft.id, kind, bytes).map_err(internal)?;
        detail(format!(
            "{} : {} ({} octets)",
            kind.label(),
            d.media_type,
            d.size
        ));
    }

    step(
        4,
        "Il accepte le protocole et reçoit le code de signature par SMS",
    );
    let sent = s.pass.request_code(&draft.id, true).map_err(internal)?;
    let sms = pending_bodies(&dir, "sms")?;
    let code = sms
        .last()
        .and_then(|(_, b)| between(b, "protocole d'accès est ", "."))
        .ok_or_else(|| internal("SMS introuvable"))?
        .to_owned();
    flush_outbox(&dir, &config);
    detail(format!(
        "SMS envoyé au {} (boîte d'envoi : {})",
        sent.phone,
        dir.outbox().join("sms").display()
    ));

    step(
        5,
        "Il signe : le protocole reçoit son numéro et son nom clé",
    );
    let signed = s
        .pass
        .sign(
            &draft.id,
            &code,
            &Client {
                ip: "127.0.0.1".into(),
                user_agent: "siseri demo".into(),
            },
        )
        .map_err(internal)?;
    let pdf = s.pass.annexe_pdf(&draft.id).map_err(internal)?;
    let pdf_path = root.join("annexe1.pdf");
    datadir::write_atomic(&pdf_path, &pdf, 0o644)?;
    detail(format!(
        "protocole n° {}, nom clé {}",
        signed.number, signed.key_name
    ));
    detail(format!(
        "Annexe 1 signée : {} (SHA-256 {})",
        pdf_path.display(),
        signed.document_sha256
    ));

    step(6, "L'opérateur revoit le protocole et le valide");
    let mut progress = |i: usize, n: usize, who: &str| {
        if i < n {
            detail(format!("[{}/{n}] {who}", i + 1));
        }
    };
    let approval = s
        .access
        .approve(
            &authority,
            &signed.number,
            "operator:demo",
            &[],
            &mut progress,
        )
        .map_err(internal)?;
    detail(format!(
        "{} certificat(s) émis par l'AC SISERI, chacun avec son lien de retrait et son code d'accès",
        approval.issued.len()
    ));

    step(
        7,
        "Chaque personne reçoit deux e-mails : le retrait du certificat, puis le code d'accès",
    );
    let mails = pending_bodies(&dir, "mail")?;
    let durand = "v.durand@cabinet-durand.example";
    let withdrawal = mails
        .iter()
        .find(|(to, b)| to == durand && b.contains("/retrait/"))
        .map(|(_, b)| b.clone())
        .ok_or_else(|| internal("e-mail de retrait introuvable"))?;
    let access_mail = mails
        .iter()
        .find(|(to, b)| to == durand && b.contains("Mot de passe SISERI"))
        .map(|(_, b)| b.clone())
        .ok_or_else(|| internal("e-mail du code d'accès introuvable"))?;
    flush_outbox(&dir, &config);
    detail(format!(
        "{} e-mails dans {}",
        mails.len(),
        dir.outbox().join("mail").display()
    ));
    let token = between(&withdrawal, "/retrait/", " ")
        .unwrap_or_default()
        .to_owned();
    let wcode = between(&withdrawal, "code de retrait ", " ")
        .unwrap_or_default()
        .to_owned();
    let password = between(&withdrawal, "mot de passe ", " ")
        .unwrap_or_default()
        .to_owned();
    let access_code = between(&access_mail, "Mot de passe SISERI : ", "\n")
        .unwrap_or_default()
        .trim()
        .to_owned();

    step(
        8,
        "Vincent DURAND retire son certificat avec le code de retrait (une seule fois)",
    );
    let (hab, bytes) = match s
        .access
        .withdraw(&authority, &token, &wcode, None)
        .map_err(internal)?
    {
        Withdrawn::P12 {
            habilitation,
            bytes,
        } => (habilitation, bytes),
        Withdrawn::Chain { .. } | Withdrawn::OperatorP12 { .. } => {
            return Err(internal("retrait inattendu"))
        }
    };
    let p12 = root.join(format!("{hab}.p12"));
    datadir::write_atomic(&p12, &bytes, 0o600)?;
    detail(format!(
        "fichier : {} (mot de passe {password})",
        p12.display()
    ));
    let again = s.access.withdraw(&authority, &token, &wcode, None);
    detail(format!(
        "second essai : {}",
        again.err().map(|e| e.to_string()).unwrap_or_default()
    ));

    step(
        9,
        "Le registre reconnaîtra son certificat, puis lui demandera son code d'accès",
    );
    detail(format!("code d'accès de Vincent DURAND : {access_code}"));
    detail(format!(
        "terminé en {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    let ca = dir.ca_cert();
    let data = dir.root().display().to_string();
    println!("\nPour essayer vous-même (dans un autre terminal pour la première commande) :\n");
    println!("  siseri --data {data} serve");
    println!(
        "  curl --cacert {} --cert {}:{password} --cert-type P12 \\\n       -H 'Content-Type: application/json' -d '{{\"access_code\":\"{access_code}\"}}' -c {jar} \\\n       https://localhost:9443/api/v1/session",
        ca.display(),
        p12.display(),
        jar = root.join("cookies").display()
    );
    println!(
        "  curl --cacert {} --cert {}:{password} --cert-type P12 -b {jar} \\\n       https://localhost:9443/api/v1/establishments",
        ca.display(),
        p12.display(),
        jar = root.join("cookies").display()
    );
    println!("  siseri --data {data} accessor show {hab}");
    println!("  siseri --data {data} audit verify");
    println!("\nL'assistant PASS : https://localhost:8443/pass/ (certificat du serveur émis par l'AC SISERI : {}).", ca.display());
    Ok(())
}
