//! The PASS wizard against the real daemon (`siseri serve` on a temporary data directory),
//! driven by curl like a browser without JavaScript: form posts with the CSRF token scraped from
//! each page, cookies kept in a jar, files sent as `multipart/form-data`, and the SMS code read
//! from the file outbox the daemon's worker writes.

mod common;

use std::cell::Cell;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::fixtures::{PDF, PNG};
use common::*;

/// A running daemon and a browser-like curl with its own cookie jar.
struct Site {
    sandbox: Sandbox,
    _server: Server,
    base: String,
    ca: PathBuf,
    jar: PathBuf,
    n: Cell<u32>,
}

struct Reply {
    status: u16,
    location: String,
    headers: String,
    body: String,
}

impl Reply {
    fn csrf(&self) -> String {
        let prefix = r#"name="csrf" value=""#;
        let start = self
            .body
            .find(prefix)
            .unwrap_or_else(|| panic!("no CSRF field in:\n{}", self.body))
            + prefix.len();
        let end = start + self.body[start..].find('"').expect("find gave nothing");
        self.body[start..end].to_owned()
    }

    fn redirects_to(&self, path: &str) {
        assert_eq!(
            (self.status, self.location.as_str()),
            (303, path),
            "{}",
            self.body
        );
    }

    /// The page's text, tags removed and entities decoded.
    fn text(&self) -> String {
        let mut out = String::new();
        let mut inside = false;
        for c in self.body.chars() {
            match c {
                '<' => inside = true,
                '>' => inside = false,
                c if !inside => out.push(c),
                _ => {}
            }
        }
        out.replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }

    /// The text inside `<dd id="…">`.
    fn dd(&self, id: &str) -> String {
        let start = self
            .body
            .find(&format!(r#"<dd id="{id}">"#))
            .expect("find gave nothing");
        let start = start + self.body[start..].find('>').expect("find gave nothing") + 1;
        let end = start + self.body[start..].find("</dd>").expect("find gave nothing");
        self.body[start..end].to_owned()
    }
}

fn site() -> Site {
    require_tool("curl");
    let sandbox = Sandbox::new();
    let (server, listening) = sandbox.serve("serve.log", &[]);
    let base = format!("https://{}", listening_addr(&listening, "public"));
    Site {
        ca: sandbox.data_file("ca/ac-siseri.pem"),
        jar: sandbox.path("cookies.txt"),
        sandbox,
        _server: server,
        base,
        n: Cell::new(0),
    }
}

impl Site {
    fn curl(&self, method: &str, path: &str, args: &[String]) -> Reply {
        let n = self.n.get() + 1;
        self.n.set(n);
        let mut extra = vec![
            "-b".to_owned(),
            self.jar.display().to_string(),
            "-c".into(),
            self.jar.display().to_string(),
        ];
        extra.extend_from_slice(args);
        let url = format!("{}{path}", self.base);
        let reply = daemon::curl(&self.sandbox, &self.ca, n, method, &url, &extra, None);
        assert_eq!(reply.exit, 0, "curl {path}: {}", reply.stderr);
        Reply {
            status: reply.status,
            location: reply.redirect.trim_start_matches(&self.base).to_owned(),
            headers: reply.headers,
            body: String::from_utf8(reply.body).unwrap_or_default(),
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.curl("GET", path, &[])
    }

    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let mut args = Vec::new();
        for (k, v) in fields {
            args.push("--data-urlencode".to_owned());
            args.push(format!("{k}={v}"));
        }
        if fields.is_empty() {
            args.extend(["--data".to_owned(), String::new()]);
        }
        self.curl("POST", path, &args)
    }

    /// GETs the form's page for its token, then posts `fields` with it.
    fn submit(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let token = self.get(path).csrf();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all)
    }

    fn upload(&self, files: &[(&str, &Path, &str)]) -> Reply {
        let token = self.get("/pass/pieces").csrf();
        let mut args = vec![
            "--form-string".to_owned(),
            format!("csrf={token}"),
            "--form-string".to_owned(),
            "action=next".to_owned(),
        ];
        for (name, file, media_type) in files {
            args.push("-F".to_owned());
            args.push(format!("{name}=@{};type={media_type}", file.display()));
        }
        self.curl("POST", "/pass/pieces", &args)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.sandbox.path(name);
        fs::write(&path, bytes).expect("write failed");
        path
    }

    /// Waits for the worker to write the SMS and returns its code.
    fn sms_code(&self) -> String {
        let dir = self.sandbox.data_file("outbox/sms");
        let start = Instant::now();
        loop {
            let files: Vec<_> = fs::read_dir(&dir)
                .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
                .unwrap_or_default();
            if let Some(file) = files
                .iter()
                .find(|p| p.extension().is_some_and(|e| e == "json"))
            {
                let sms: serde_json::Value =
                    serde_json::from_str(&fs::read_to_string(file).expect("read_to_string failed"))
                        .expect("from_str failed");
                assert_eq!(sms["to"], "+33712123241");
                let text = sms["text"].as_str().expect("as_str gave nothing");
                let digits: String = text
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() == 6)
                    .unwrap_or_else(|| panic!("no 6-digit code in {text}"))
                    .to_owned();
                return digits;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no SMS in {}",
                dir.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn start_new(&self) {
        let start = self.get("/pass/");
        assert!(start.body.contains("Créer un nouveau protocole"));
        assert!(start.body.contains("Renouveler un protocole existant"));
        self.submit("/pass/", &[("choice", "create")])
            .redirects_to("/pass/preambule");
        self.submit("/pass/preambule", &[("accept", "on"), ("action", "next")])
            .redirects_to("/pass/employeur");
    }
}

const EMPLOYER: &[(&str, &str)] = &[
    ("employer.name", "Cabinet dentaire du Dr DURAND Vincent"),
    ("employer.siret", "73282932000074"),
    ("employer.address", "8, Avenue de la gloire"),
    ("employer.postal_code", "67000"),
    ("employer.town", "STRASBOURG"),
    ("employer.country", "FRANCE"),
];

const REPRESENTATIVE: &[(&str, &str)] = &[
    ("legal_representative.last_name", "DURAND"),
    ("legal_representative.first_name", "Vincent"),
    ("legal_representative.birth_date", "12/03/1970"),
    ("legal_representative.mobile", "07 12 12 32 41"),
];

fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(extra).copied().collect()
}

#[test]
fn the_wizard_walked_through_html_forms_signs_the_seeds_protocol() {
    let site = site();
    let home = site.get("/");
    assert_eq!(home.status, 200);
    assert!(home.text().contains("Accès PASS"));
    let h = home.headers.to_lowercase();
    assert!(
        h.contains("content-security-policy: default-src 'self';")
            && h.contains("frame-ancestors 'none'"),
        "{h}"
    );
    assert!(h.contains("x-content-type-options: nosniff") && h.contains("cache-control: no-store"));
    assert_eq!(site.get("/assets/siseri.css").status, 200);

    site.start_new();
    site.submit("/pass/employeur", &with(EMPLOYER, &[("action", "next")]))
        .redirects_to("/pass/representant");
    site.submit(
        "/pass/representant",
        &with(REPRESENTATIVE, &[("action", "next")]),
    )
    .redirects_to("/pass/verification");
    let both: Vec<_> = EMPLOYER.iter().chain(REPRESENTATIVE).copied().collect();
    site.submit("/pass/verification", &with(&both, &[("action", "next")]))
        .redirects_to("/pass/pieces");
    let pdf = site.file("AE_Kbis_306.pdf", PDF);
    let png = site.file("PFY_Ide_121.png", PNG);
    site.upload(&[
        ("kbis", &pdf, "application/pdf"),
        ("identity", &png, "image/png"),
    ])
    .redirects_to("/pass/correspondants");
    site.submit(
        "/pass/correspondants",
        &[
            ("person.last_name", "DURAND"),
            ("person.first_name", "Vincent"),
            ("person.email", "v.durand@cabinet-durand.example"),
            ("person.civility", "M"),
            ("person.birth_date", "12/03/1970"),
            ("person.birth_departement", "67"),
            ("action", "add"),
        ],
    )
    .redirects_to("/pass/correspondants?ok=ajout");
    site.submit("/pass/correspondants", &[("action", "next")])
        .redirects_to("/pass/medecins");
    site.submit(
        "/pass/medecins",
        &[
            ("person.last_name", "MARTIN"),
            ("person.first_name", "Claire"),
            ("person.email", "c.martin@sst-alsace.example"),
            ("person.civility", "Mme"),
            ("person.birth_date", "05/11/1975"),
            ("person.birth_departement", "2A"),
            ("address.country", "FRANCE"),
            ("action", "add"),
        ],
    )
    .redirects_to("/pass/medecins?ok=ajout");
    site.submit(
        "/pass/medecins",
        &[("address.country", "FRANCE"), ("action", "next")],
    )
    .redirects_to("/pass/pcr");
    site.submit(
        "/pass/pcr",
        &[
            ("person.last_name", "DILLENSEGER"),
            ("person.first_name", "Pierre"),
            ("person.email", "p.dillenseger@alara.example"),
            ("person.civility", "M"),
            ("person.birth_date", "01/02/1980"),
            ("person.birth_departement", "67"),
            ("person.sends_dosimetry", "on"),
            ("address.name", "ALARA EXPERTISE"),
            ("address.address", "4 rue Lafayette"),
            ("address.postal_code", "67100"),
            ("address.town", "Strasbourg"),
            ("address.country", "FRANCE"),
            ("action", "next"),
        ],
    )
    .redirects_to("/pass/exposition");
    site.submit(
        "/pass/exposition",
        &[
            ("exposure.exposed_in_establishment", "oui"),
            ("exposure.inb", "non"),
            ("exposure.domain", "civil"),
            ("exposure.activity", "dental-care"),
            ("action", "next"),
        ],
    )
    .redirects_to("/pass/recapitulatif");
    let summary = site.get("/pass/recapitulatif").text();
    for needle in [
        "ANNEXE 1 AU PROTOCOLE D'ACCÈS SÉCURISÉ À SISERI",
        "Cabinet dentaire du Dr DURAND Vincent",
        "- DILLENSEGER Pierre — p.dillenseger@alara.example",
        "Coordonnées : ALARA EXPERTISE",
        "Activité principale : Soins dentaires",
    ] {
        assert!(summary.contains(needle), "{needle} not in:\n{summary}");
    }
    site.submit(
        "/pass/recapitulatif",
        &[("consent", "on"), ("action", "next")],
    )
    .redirects_to("/pass/signature");
    let code = site.sms_code();
    site.submit("/pass/signature", &[("code", &code)])
        .redirects_to("/pass/signe");
    let signed = site.get("/pass/signe");
    assert!(signed.text().contains("Protocole signé"));
    let (number, key_name) = (signed.dd("numero"), signed.dd("nom-cle"));
    assert!(
        !number.is_empty() && key_name.starts_with("CABINETDENTA"),
        "{number} / {key_name}"
    );
    let listed = stdout(&run_ok(&mut site.sandbox.siseri(["protocol", "list"])));
    assert!(listed.contains(&number), "{listed}");

    // Renewal (seed section 3): the right pair opens a pre-filled draft; a wrong key name gets
    // the one generic message.
    let wrong = site.submit(
        "/pass/",
        &[
            ("choice", "renew"),
            ("renewal.number", &number),
            ("renewal.key_name", "CABINET-XXXX"),
        ],
    );
    assert_eq!(wrong.status, 422);
    assert!(wrong
        .text()
        .contains("Numéro de protocole ou nom clé incorrect."));
    site.submit(
        "/pass/",
        &[
            ("choice", "renew"),
            ("renewal.number", &number),
            ("renewal.key_name", &key_name),
        ],
    )
    .redirects_to("/pass/preambule");
    assert!(site
        .get("/pass/preambule")
        .text()
        .contains(&format!("Renouvellement du protocole n° {number}")));
}

#[test]
fn refused_forms_change_nothing_and_say_why_in_french() {
    let site = site();
    site.start_new();

    // A missing required field: next to it and in the summary.
    let mut fields = with(EMPLOYER, &[("action", "next")]);
    fields.retain(|(k, _)| *k != "employer.town");
    let page = site.submit("/pass/employeur", &fields);
    assert_eq!(page.status, 422);
    assert!(
        page.body
            .contains(r##"<a href="#employer-town">La ville est obligatoire.</a>"##),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(r#"<p class="error-message" id="employer-town-error">"#));

    // A forged form: 403, nothing saved.
    let forged = site.post(
        "/pass/employeur",
        &[
            ("csrf", "deadbeef"),
            ("employer.town", "PIRATE"),
            ("action", "next"),
        ],
    );
    assert_eq!(forged.status, 403);
    assert!(forged
        .text()
        .contains("Votre session a expiré, rechargez la page"));
    let page = site.get("/pass/employeur");
    assert!(!page.body.contains("PIRATE"));
    assert!(page
        .body
        .contains(r#"value="Cabinet dentaire du Dr DURAND Vincent""#));

    // A text file renamed .pdf as the K-bis: 415, shown next to the field.
    let fake = site.file("kbis.pdf", b"Ceci est un simple fichier texte.\n");
    let png = site.file("cni.png", PNG);
    let page = site.upload(&[
        ("kbis", &fake, "application/pdf"),
        ("identity", &png, "image/png"),
    ]);
    assert_eq!(page.status, 415);
    assert!(page.body.contains(r#"id="kbis-error""#));
    assert!(page
        .text()
        .contains("Le fichier doit être un PDF, une image JPEG ou PNG."));

    // A renewal of a protocol that does not exist: the same generic message.
    let page = site.submit(
        "/pass/",
        &[
            ("choice", "renew"),
            ("renewal.number", "2026-999999"),
            ("renewal.key_name", "NIMPORTE-QUOI"),
        ],
    );
    assert_eq!(page.status, 422);
    assert!(page
        .text()
        .contains("Numéro de protocole ou nom clé incorrect."));
}
