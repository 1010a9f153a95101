//! *Annexe 1 au protocole d'accès sécurisé*: the document the legal representative signs.
//! Its canonical text is what the SMS code is bound to (SHA-256), what the summary page
//! shows, and what the PDF prints.

use ring::digest::{digest, SHA256};

use super::model::{Address, Designee, Domain, Protocol, Role};

/// The acceptance sentence the legal representative ticks (seed step m).
pub const ACCEPTANCE: &str = "Le représentant légal de l'entreprise reconnaît avoir pris connaissance du protocole d'accès au système d'information SISERI et déclare l'avoir accepté.";

/// One section of the document: a title and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// `label : value` lines.
    pub lines: Vec<String>,
}

/// The document, before signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annexe {
    /// Sections in order.
    pub sections: Vec<Section>,
}

impl Annexe {
    /// Renders `protocol` (and, for a renewal, the protocol number it renews).
    pub fn of(protocol: &Protocol, renews: Option<&str>) -> Self {
        let e = &protocol.employer;
        let mut employer = vec![format!("Raison sociale ou nom : {}", e.address.name)];
        employer.push(format!(
            "N° SIRET : {}",
            e.siret.as_ref().map(|s| s.as_str()).unwrap_or("")
        ));
        employer.extend(address_lines(&e.address));
        employer.push(format!(
            "Téléphone : {}",
            e.phone.as_ref().map(|p| p.e164()).unwrap_or("")
        ));
        employer.push(format!(
            "Télécopie : {}",
            e.fax.as_ref().map(|p| p.e164()).unwrap_or("")
        ));
        let l = &protocol.legal_representative;
        let representative = vec![
            format!("Nom : {}", l.last_name.as_str()),
            format!("Prénom : {}", l.first_name.as_str()),
            format!(
                "Date de naissance : {}",
                l.birth_date
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
            format!("Téléphone portable : {}", l.mobile.masked()),
        ];
        let x = &protocol.exposure;
        let exposure = vec![
            format!(
                "Travailleurs exposés au sein de l'établissement : {}",
                yes_no(x.exposed_in_establishment)
            ),
            format!("Installation nucléaire de base (INB) : {}", yes_no(x.inb)),
            format!(
                "Domaine : {}",
                match x.domain {
                    Domain::Civil => "civil",
                    Domain::Military => "militaire",
                }
            ),
            format!("Activité principale : {}", x.activity.label()),
        ];
        let mut sections = vec![
            Section {
                title: "EMPLOYEUR".into(),
                lines: employer,
            },
            Section {
                title: "REPRÉSENTANT LÉGAL".into(),
                lines: representative,
            },
        ];
        for (role, list) in [
            (Role::Cse, &protocol.correspondents),
            (Role::Mdt, &protocol.physicians),
            (Role::Pcr, &protocol.pcrs),
        ] {
            let title = match role {
                Role::Cse => "CORRESPONDANTS SISERI",
                Role::Mdt => "MÉDECINS DU TRAVAIL",
                Role::Pcr => "PERSONNES COMPÉTENTES EN RADIOPROTECTION",
            };
            let lines = if list.is_empty() {
                vec!["(aucun)".to_owned()]
            } else {
                list.iter().flat_map(designee_lines).collect()
            };
            sections.push(Section {
                title: title.into(),
                lines,
            });
        }
        sections.push(Section {
            title: "EXPOSITION".into(),
            lines: exposure,
        });
        if let Some(number) = renews {
            sections.insert(
                0,
                Section {
                    title: "RENOUVELLEMENT".into(),
                    lines: vec![format!("Protocole renouvelé : {number}")],
                },
            );
        }
        Self { sections }
    }

    /// The canonical text: title line, then each section; `\n` line ends, UTF-8.
    pub fn text(&self) -> String {
        let mut out = String::from(
            "ANNEXE 1 AU PROTOCOLE D'ACCÈS SÉCURISÉ À SISERI\nIDENTIFICATION DE L'EMPLOYEUR ET DE SES ACCÉDANTS AU SYSTÈME SISERI\n",
        );
        for s in &self.sections {
            out.push('\n');
            out.push_str(&s.title);
            out.push('\n');
            for l in &s.lines {
                out.push_str(l);
                out.push('\n');
            }
        }
        out.push('\n');
        out.push_str(ACCEPTANCE);
        out.push('\n');
        out
    }

    /// Reads back a canonical text written by [`Annexe::text`] (a signed version keeps its
    /// text, so that what is printed later is exactly what was signed).
    pub fn from_text(text: &str) -> Self {
        let mut blocks = text.split("\n\n");
        blocks.next(); // the two title lines
        let sections = blocks
            .filter_map(|block| {
                let mut lines = block.lines();
                let title = lines.next()?.to_owned();
                (title != ACCEPTANCE).then(|| Section {
                    title,
                    lines: lines.map(str::to_owned).collect(),
                })
            })
            .collect();
        Self { sections }
    }

    /// SHA-256 of the canonical text, hex: what the signature code is bound to.
    pub fn sha256(&self) -> String {
        hex::encode(digest(&SHA256, self.text().as_bytes()))
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "oui"
    } else {
        "non"
    }
}

fn address_lines(a: &Address) -> Vec<String> {
    vec![
        format!("Adresse : {}", a.address),
        format!(
            "Code postal : {}   Ville : {}{}",
            a.postal_code,
            a.town,
            a.cedex
                .as_ref()
                .map(|c| format!(" CEDEX {c}"))
                .unwrap_or_default()
        ),
        format!("Pays : {}", a.country),
    ]
}

fn designee_lines(d: &Designee) -> Vec<String> {
    let mut head = format!(
        "- {} {} — {}",
        d.last_name.as_str().to_uppercase(),
        d.first_name.as_str(),
        d.email.as_str()
    );
    match (&d.habilitation, &d.identity) {
        (Some(h), _) => head.push_str(&format!(" — N° habilitation SISERI {}", h.get())),
        (None, Some(i)) => head.push_str(&format!(
            " — {} né(e) le {} ({})",
            i.civility.as_str(),
            i.birth_date,
            i.birth_departement.as_str()
        )),
        (None, None) => {}
    }
    if d.role == Role::Pcr {
        head.push_str(if d.sends_dosimetry {
            " — envoi des informations dosimétriques : oui"
        } else {
            " — envoi des informations dosimétriques : non"
        });
    }
    let mut lines = vec![head];
    if let Some(a) = &d.address {
        lines.push(format!("  Coordonnées : {}", a.name));
        lines.extend(address_lines(a).into_iter().map(|l| format!("  {l}")));
    }
    lines
}
