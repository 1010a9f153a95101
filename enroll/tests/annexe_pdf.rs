//! The signed *Annexe 1* as a PDF, read back with poppler's `pdftotext` and `pdfinfo`.

use std::path::Path;
use std::process::Command;

use enroll::protocol::{annexe_pdf, Annexe, Protocol, ProtocolInput, SignatureEvidence};
use time::macros::datetime;

#[path = "data/fixtures.rs"]
mod fixtures;

fn seed() -> ProtocolInput {
    serde_json::from_str(fixtures::PROTOCOL).expect("from_str failed")
}

fn evidence(annexe: &Annexe) -> SignatureEvidence {
    SignatureEvidence {
        protocol_number: "2026-004217".into(),
        key_name: "CABDURAND67".into(),
        version: 2,
        signed_at: datetime!(2026-11-29 11:42 +01:00),
        document_sha256: annexe.sha256(),
        phone_masked: "+33 7 ** ** ** 41".into(),
    }
}

/// Runs a poppler tool; a missing tool fails the test with how to install it.
fn poppler(tool: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "`{tool}` could not be run ({e}): these tests need poppler-utils \
                 (apt-get install poppler-utils, or scripts/install-test-deps.sh)"
            )
        });
    assert!(
        out.status.success(),
        "{tool} failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("String::from_utf8 failed")
}

/// Writes the PDF to a temporary directory; returns its text (`pdftotext -layout`) and page count.
fn render(annexe: &Annexe, evidence: &SignatureEvidence) -> (String, usize, String) {
    let pdf = annexe_pdf(annexe, evidence);
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().expect("tempdir failed");
    let file = dir.path().join("annexe1.pdf");
    std::fs::write(&file, &pdf).expect("write failed");
    let text = poppler("pdftotext", &["-layout"], &file);
    let info = poppler("pdfinfo", &[], &file);
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap_or_else(|| panic!("no page count in pdfinfo's output:\n{info}"))
        .trim()
        .parse()
        .expect("parse failed");
    (text, pages, info)
}

fn squeezed(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn the_pdf_of_the_seeds_example_reads_back_with_its_accents_and_its_signature() {
    let annexe = Annexe::of(&Protocol::parse(&seed()).unwrap(), None);
    let e = evidence(&annexe);
    let (text, pages, info) = render(&annexe, &e);
    for needle in [
        "ANNEXE 1 AU PROTOCOLE D'ACCÈS SÉCURISÉ À SISERI",
        "IDENTIFICATION DE L'EMPLOYEUR ET DE SES ACCÉDANTS AU SYSTÈME SISERI",
        "Cabinet dentaire du Dr DURAND Vincent",
        "DILLENSEGER",
        "MARTIN Claire",
        "Soins dentaires",
        "Service de santé au travail d'Alsace",
        "REPRÉSENTANT LÉGAL",
        "MÉDECINS DU TRAVAIL",
        "—",
        "SIGNATURE ÉLECTRONIQUE",
        "Protocole n° 2026-004217",
        "Nom clé : CABDURAND67",
        "Version : 2",
        "Signé le 29/11/2026 à 10:42 UTC par code SMS envoyé au +33 7 ** ** ** 41",
        "page 1/1",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(
        squeezed(&text).contains(&squeezed(enroll::protocol::ACCEPTANCE)),
        "the acceptance sentence is missing from:\n{text}"
    );
    assert!(
        squeezed(&text).contains(&e.document_sha256),
        "the fingerprint is missing from:\n{text}"
    );
    assert!(!text.contains("+33712123241"), "the mobile is masked");
    assert_eq!(pages, 1, "{info}");
    assert!(info.contains("A4"), "{info}");
    assert!(
        info.contains("Title:") && info.contains("Annexe 1 au protocole d'accès sécurisé à SISERI"),
        "{info}"
    );
}

#[test]
fn the_same_annexe_and_signature_give_the_same_bytes() {
    let annexe = Annexe::of(&Protocol::parse(&seed()).unwrap(), None);
    let e = evidence(&annexe);
    assert_eq!(annexe_pdf(&annexe, &e), annexe_pdf(&annexe, &e));
    let mut later = e.clone();
    later.signed_at = datetime!(2026-11-29 10:43 UTC);
    assert_ne!(annexe_pdf(&annexe, &e), annexe_pdf(&annexe, &later));
}

#[test]
fn a_protocol_with_forty_pcr_runs_over_several_numbered_pages_and_names_everyone() {
    const NAMES: [&str; 40] = [
        "BERNARD",
        "THOMAS",
        "PETIT",
        "ROBERT",
        "RICHARD",
        "DUBOIS",
        "MOREAU",
        "LAURENT",
        "SIMON",
        "MICHEL",
        "LEFEBVRE",
        "LEROY",
        "ROUX",
        "DAVID",
        "BERTRAND",
        "MOREL",
        "FOURNIER",
        "GIRARD",
        "BONNET",
        "DUPONT",
        "LAMBERT",
        "FONTAINE",
        "ROUSSEAU",
        "VINCENT",
        "MULLER",
        "LEFÈVRE",
        "FAURE",
        "ANDRÉ",
        "MERCIER",
        "BLANC",
        "GUÉRIN",
        "BOYER",
        "GARNIER",
        "CHEVALIER",
        "FRANÇOIS",
        "LEGRAND",
        "GAUTHIER",
        "GARCIA",
        "PERRIN",
        "ROBIN",
    ];
    let mut input = seed();
    let model = input.pcrs[0].clone();
    input.pcrs = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut p = model.clone();
            p.last_name = Some((*name).into());
            p.first_name = Some("Hélène".into());
            p.email = Some(format!("pcr{i}@radioprotection-alsace.example"));
            p
        })
        .collect();
    let annexe = Annexe::of(&Protocol::parse(&input).unwrap(), None);
    let e = evidence(&annexe);
    let (text, pages, info) = render(&annexe, &e);
    assert!(pages > 1, "{info}");
    for name in NAMES {
        assert!(
            text.contains(&format!("{name} Hélène")),
            "{name} missing from:\n{text}"
        );
    }
    assert!(!text.contains("DILLENSEGER"), "the seed's PCR was replaced");
    for needle in [
        "MARTIN Claire",
        "Cabinet dentaire du Dr DURAND Vincent",
        "SIGNATURE ÉLECTRONIQUE",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(
        text.contains("(suite)"),
        "a section cut by a page says so:\n{text}"
    );
    for page in 1..=pages {
        assert!(
            text.contains(&format!("page {page}/{pages}")),
            "page {page}:\n{text}"
        );
    }
    assert!(text.contains("+33 7 ** ** ** 41"));
    assert!(squeezed(&text).contains(&e.document_sha256));
}
