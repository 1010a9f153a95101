//! The PASS wizard driven in-process like a browser without JavaScript: real form posts with the
//! CSRF tokens scraped from the pages, cookies carried from one response to the next, over a
//! `Pass` on a temporary SQLite database with a fake clock.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use enroll::pass::{Pass, PassConfig};
use enroll::web::PublicState;
use store::pool::Pool;
use store::secrets::ServerKey;
use store::FakeClock;
use tempfile::TempDir;
use time::macros::datetime;
use tower::ServiceExt;

#[path = "data/fixtures.rs"]
mod fixtures;
use fixtures::{PDF, PNG};

struct Site {
    dir: TempDir,
    app: Router,
}

fn site() -> Site {
    let dir = tempfile::tempdir().expect("tempdir failed");
    let db = dir.path().join("siseri.db");
    let mut conn = store::pool::open(&db).expect("open failed");
    ca::migrations::apply(&mut conn).expect("apply failed");
    store::migrate::apply(&mut conn, "enroll", enroll::migrations::MIGRATIONS)
        .expect("apply failed");
    let key = ServerKey::new(&[0u8; 32]);
    let pass = Pass::new(
        Arc::new(Pool::new(&db, 4)),
        dir.path().join("documents"),
        key.clone(),
        Arc::new(FakeClock::at(datetime!(2026-03-02 09:30 UTC))),
        PassConfig::default(),
    );
    let app = enroll::web::router(PublicState {
        pass: Arc::new(pass),
        key,
        outbox: enroll::outbox::WorkerSignal::new(),
    });
    Site { dir, app }
}

impl Site {
    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("siseri.db"))
            .expect("Connection::open failed")
    }

    /// The code of the last SMS queued in the outbox.
    fn last_sms_code(&self) -> String {
        let text: String = self
            .db()
            .query_row(
                "SELECT body FROM enroll_outbox WHERE channel = 'sms' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .expect("query_row failed");
        fixtures::six_digits(&text).unwrap_or_else(|| panic!("no code in the SMS: {text}"))
    }

    fn browser(&self) -> Browser {
        Browser {
            app: self.app.clone(),
            cookies: BTreeMap::new(),
        }
    }
}

struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn csrf(&self) -> String {
        attr_after(&self.body, r#"name="csrf" value=""#)
            .unwrap_or_else(|| panic!("no CSRF field in:\n{}", self.body))
    }

    /// Asserts a 303 to `to`.
    fn redirects_to(&self, to: &str) {
        assert_eq!(
            (self.status, self.location()),
            (StatusCode::SEE_OTHER, to),
            "{}",
            self.body
        );
    }

    /// The page's text, tags removed.
    fn text(&self) -> String {
        strip_tags(&self.body)
    }

    /// The text of the element with this id (tags removed, entities decoded).
    fn text_of(&self, id: &str) -> String {
        let b = &self.body;
        let at = b
            .find(&format!(r#"id="{id}""#))
            .unwrap_or_else(|| panic!("no #{id} in:\n{b}"));
        let start = b[..at].rfind('<').expect("rfind gave nothing");
        let tag: String = b[start + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let content = start + b[start..].find('>').expect("find gave nothing") + 1;
        let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
        let (mut depth, mut i) = (1, content);
        while depth > 0 {
            let next_close = i + b[i..].find(&close).expect("find gave nothing");
            match b[i..next_close].find(&open) {
                Some(o) => {
                    depth += 1;
                    i += o + open.len();
                }
                None => {
                    depth -= 1;
                    i = next_close + close.len();
                }
            }
        }
        strip_tags(&b[content..i - close.len()])
    }
}

fn attr_after(body: &str, prefix: &str) -> Option<String> {
    let start = body.find(prefix)? + prefix.len();
    let end = start + body[start..].find('"')?;
    Some(body[start..end].to_owned())
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in s.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A cookie-carrying client of the router.
struct Browser {
    app: Router,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    async fn send(&mut self, req: axum::http::request::Builder, body: Body) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let req = req
            .header(header::COOKIE, cookie)
            .header(header::USER_AGENT, "wizard-test")
            .body(body)
            .expect("body failed");
        let resp = self.app.clone().oneshot(req).await.unwrap();
        for set in resp.headers().get_all(header::SET_COOKIE) {
            let set = set.to_str().expect("to_str failed");
            assert!(
                set.contains("HttpOnly")
                    && set.contains("Secure")
                    && set.contains("SameSite=Strict"),
                "{set}"
            );
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (k, v) = pair.split_once('=').expect("split_once gave nothing");
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("await failed");
        Page {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send(Request::get(path), Body::empty()).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded"),
            Body::from(body),
        )
        .await
    }

    /// GETs `path`, then posts `fields` with the page's CSRF token.
    async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self.get(path).await.csrf();
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    async fn upload(
        &mut self,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Page {
        let token = self.get("/pass/pieces").await.csrf();
        let boundary = "----siseri-wizard-test";
        let mut body = Vec::new();
        for (k, v) in [("csrf", token.as_str())].iter().chain(fields) {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .bytes(),
            );
        }
        for (name, filename, ctype, bytes) in files {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n"
                )
                .bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").bytes());
        self.send(
            Request::post("/pass/pieces").header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            ),
            Body::from(body),
        )
        .await
    }
}

const EMPLOYER: &[(&str, &str)] = &[
    ("employer.name", "Cabinet dentaire du Dr DURAND Vincent"),
    ("employer.siret", "73282932000074"),
    ("employer.address", "8, Avenue de la gloire"),
    ("employer.postal_code", "67000"),
    ("employer.town", "STRASBOURG"),
    ("employer.cedex", ""),
    ("employer.country", "FRANCE"),
    ("employer.phone", ""),
    ("employer.fax", ""),
];

const REPRESENTATIVE: &[(&str, &str)] = &[
    ("legal_representative.last_name", "DURAND"),
    ("legal_representative.first_name", "Vincent"),
    ("legal_representative.birth_date", "12/03/1970"),
    ("legal_representative.mobile", "07 12 12 32 41"),
];

const CORRESPONDENT: &[(&str, &str)] = &[
    ("person.last_name", "DURAND"),
    ("person.first_name", "Vincent"),
    ("person.habilitation", ""),
    ("person.email", "v.durand@cabinet-durand.example"),
    ("person.civility", "M"),
    ("person.birth_date", "12/03/1970"),
    ("person.birth_departement", "67"),
];

const PHYSICIAN: &[(&str, &str)] = &[
    ("person.last_name", "MARTIN"),
    ("person.first_name", "Claire"),
    ("person.email", "c.martin@sst-alsace.example"),
    ("person.civility", "Mme"),
    ("person.birth_date", "05/11/1975"),
    ("person.birth_departement", "2A"),
    ("address.name", "Service de santé au travail d'Alsace"),
    ("address.address", "12 rue du Dôme"),
    ("address.postal_code", "67000"),
    ("address.town", "STRASBOURG"),
    ("address.country", "FRANCE"),
];

const PCR: &[(&str, &str)] = &[
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
];

const EXPOSURE: &[(&str, &str)] = &[
    ("exposure.exposed_in_establishment", "oui"),
    ("exposure.inb", "non"),
    ("exposure.domain", "civil"),
    ("exposure.activity", "dental-care"),
];

fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(extra).copied().collect()
}

/// From the start page to the employer step: returns the browser holding the draft cookie.
async fn start(site: &Site) -> Browser {
    let mut b = site.browser();
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(r#"href="/pass/""#) && home.body.contains("Accès PASS"));
    b.submit("/pass/", &[("choice", "create")])
        .await
        .redirects_to("/pass/preambule");
    let preamble = b.get("/pass/preambule").await;
    assert!(preamble
        .body
        .contains("Je reconnais avoir pris connaissance du protocole d'accès sécurisé à SISERI"));
    b.submit("/pass/preambule", &[("accept", "on"), ("action", "next")])
        .await
        .redirects_to("/pass/employeur");
    assert!(
        b.cookies.contains_key("siseri_pass"),
        "the draft cookie is set"
    );
    b
}

/// Employer to exposure with the seed's example, ending on the summary.
async fn fill_everything(b: &mut Browser) {
    b.submit("/pass/employeur", &with(EMPLOYER, &[("action", "next")]))
        .await
        .redirects_to("/pass/representant");
    b.submit(
        "/pass/representant",
        &with(REPRESENTATIVE, &[("action", "next")]),
    )
    .await
    .redirects_to("/pass/verification");
    let check = b.get("/pass/verification").await;
    assert!(check.body.contains(
        "Vous devez prendre connaissance des informations ci-dessous et les rectifier au besoin"
    ));
    assert!(check
        .body
        .contains(r#"value="Cabinet dentaire du Dr DURAND Vincent""#));
    assert!(check.body.contains(r#"value="07 12 12 32 41""#));
    let both: Vec<_> = EMPLOYER.iter().chain(REPRESENTATIVE).copied().collect();
    b.submit("/pass/verification", &with(&both, &[("action", "next")]))
        .await
        .redirects_to("/pass/pieces");
    b.upload(
        &[("action", "next")],
        &[
            ("kbis", "AE_Kbis_306.pdf", "application/pdf", PDF),
            ("identity", "PFY_Ide_121.png", "image/png", PNG),
        ],
    )
    .await
    .redirects_to("/pass/correspondants");
    b.submit(
        "/pass/correspondants",
        &with(CORRESPONDENT, &[("action", "add")]),
    )
    .await
    .redirects_to("/pass/correspondants?ok=ajout");
    let list = b.get("/pass/correspondants").await;
    assert!(
        list.body.contains("<td>DURAND</td>")
            && list.body.contains("v.durand@cabinet-durand.example")
    );
    b.submit("/pass/correspondants", &[("action", "next")])
        .await
        .redirects_to("/pass/medecins");
    // *Suivant* with a filled form adds the person on the way.
    b.submit("/pass/medecins", &with(PHYSICIAN, &[("action", "next")]))
        .await
        .redirects_to("/pass/pcr");
    b.submit("/pass/pcr", &with(PCR, &[("action", "add")]))
        .await
        .redirects_to("/pass/pcr?ok=ajout");
    b.submit(
        "/pass/pcr",
        &[("address.country", "FRANCE"), ("action", "next")],
    )
    .await
    .redirects_to("/pass/exposition");
    b.submit("/pass/exposition", &with(EXPOSURE, &[("action", "next")]))
        .await
        .redirects_to("/pass/recapitulatif");
}

#[tokio::test]
async fn the_whole_wizard_with_the_seeds_example_ends_with_a_number_and_a_key_name() {
    let site = site();
    let mut b = start(&site).await;
    fill_everything(&mut b).await;

    let summary = b.get("/pass/recapitulatif").await;
    assert_eq!(summary.status, StatusCode::OK);
    for needle in [
        "ANNEXE 1 AU PROTOCOLE D'ACCÈS SÉCURISÉ À SISERI",
        "Cabinet dentaire du Dr DURAND Vincent",
        "73282932000074",
        "- DILLENSEGER Pierre — p.dillenseger@alara.example",
        "envoi des informations dosimétriques : oui",
        "MARTIN Claire",
        "ALARA EXPERTISE",
        "Soins dentaires",
        "Recevoir le code de signature par SMS",
    ] {
        assert!(
            summary.text().contains(needle),
            "{needle} not in the summary:\n{}",
            summary.body
        );
    }
    assert!(
        !summary.body.contains("+33712123241"),
        "the mobile is masked"
    );

    // Without the acceptance box: no code.
    let refused = b.submit("/pass/recapitulatif", &[("action", "next")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text_of("consent-error")
        .contains("Cochez la case d'acceptation"));

    b.submit(
        "/pass/recapitulatif",
        &[("consent", "on"), ("action", "next")],
    )
    .await
    .redirects_to("/pass/signature");
    let code = site.last_sms_code();
    let sign_page = b.get("/pass/signature").await;
    assert!(sign_page
        .body
        .contains("Veuillez saisir le code de signature reçu par SMS"));
    assert!(
        sign_page.body.contains("+33 7 ** ** ** 41"),
        "{}",
        sign_page.body
    );

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let failed = b.submit("/pass/signature", &[("code", wrong)]).await;
    assert_eq!(failed.status, StatusCode::FORBIDDEN);
    assert!(
        failed
            .text_of("code-error")
            .contains("4 essai(s) restant(s)"),
        "{}",
        failed.body
    );

    b.submit("/pass/signature", &[("code", &code)])
        .await
        .redirects_to("/pass/signe");
    let signed = b.get("/pass/signe").await;
    assert_eq!(signed.status, StatusCode::OK);
    assert!(signed.body.contains("Protocole signé"));
    let number = signed.text_of("numero");
    let key_name = signed.text_of("nom-cle");
    assert!(
        !number.is_empty() && key_name.starts_with("CABINETDENTA"),
        "{number} {key_name}"
    );
    assert!(signed
        .text()
        .contains("Nous vous conseillons d'enregistrer ce document sur votre ordinateur"));
    let pdf_link = attr_after(&signed.body, r#"href="/api/v1/protocols/"#).unwrap();
    let pdf = b.get(&format!("/api/v1/protocols/{pdf_link}")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.headers[header::CONTENT_TYPE], "application/pdf");

    // The steps of a signed protocol lead to its confirmation.
    b.get("/pass/employeur").await.redirects_to("/pass/signe");

    // A renewal with the number and the key name starts from the signed content.
    let mut other = site.browser();
    other
        .submit(
            "/pass/",
            &[
                ("choice", "renew"),
                ("renewal.number", &number),
                ("renewal.key_name", &key_name),
            ],
        )
        .await
        .redirects_to("/pass/preambule");
    let preamble = other.get("/pass/preambule").await;
    assert!(preamble.body.contains(&format!(
        "Renouvellement du protocole n° <strong>{number}</strong>"
    )));
    other
        .submit("/pass/preambule", &[("accept", "on")])
        .await
        .redirects_to("/pass/employeur");
    let employer = other.get("/pass/employeur").await;
    assert!(employer
        .body
        .contains(r#"value="Cabinet dentaire du Dr DURAND Vincent""#));
}

#[tokio::test]
async fn a_missing_required_field_is_shown_next_to_it_and_in_the_summary_and_what_was_typed_is_kept(
) {
    let site = site();
    let mut b = start(&site).await;
    let mut fields = with(EMPLOYER, &[("action", "next")]);
    fields.retain(|(k, _)| *k != "employer.name");
    fields.push(("employer.name", "  "));
    let page = b.submit("/pass/employeur", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("Le formulaire contient des erreurs"));
    assert!(
        page.body.contains(
            r##"<a href="#employer-name">La raison sociale ou le nom est obligatoire.</a>"##
        ),
        "{}",
        page.body
    );
    assert!(page
        .text_of("employer-name-error")
        .contains("La raison sociale ou le nom est obligatoire."));
    assert!(page
        .body
        .contains(r#"aria-describedby="employer-name-error""#));
    assert!(page.body.contains("<title>Erreur : "));
    assert!(page.body.contains(r#"aria-current="step""#));
    // Only this step's errors: nothing about the representative nor the people.
    assert!(!page.body.contains("Le nom est obligatoire."));
    // Saved anyway: the town typed is there when coming back.
    let again = b.get("/pass/employeur").await;
    assert!(again.body.contains(r#"value="STRASBOURG""#));
    assert_eq!(again.status, StatusCode::OK);
    assert!(!again.body.contains("Le formulaire contient des erreurs"));
}

#[tokio::test]
async fn a_post_without_a_valid_csrf_token_changes_nothing() {
    let site = site();
    let mut b = start(&site).await;
    b.submit("/pass/employeur", &with(EMPLOYER, &[("action", "next")]))
        .await
        .redirects_to("/pass/representant");
    let forged = with(
        &[("csrf", "00ff")],
        &[("employer.name", "Pirate"), ("action", "next")],
    );
    let page = b.post("/pass/employeur", &forged).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page
        .body
        .contains("Votre session a expiré, rechargez la page"));
    let missing = b
        .post("/pass/employeur", &[("employer.name", "Pirate")])
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    // Another draft's token does not open this one either.
    let mut other = start(&site).await;
    let foreign = other.get("/pass/employeur").await.csrf();
    let page = b
        .post(
            "/pass/employeur",
            &[("csrf", &foreign), ("employer.name", "Pirate")],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let after = b.get("/pass/employeur").await;
    assert!(after
        .body
        .contains(r#"value="Cabinet dentaire du Dr DURAND Vincent""#));
    assert!(!after.body.contains("Pirate"));
    // Before any draft: the pre-session token is required as well.
    let mut fresh = site.browser();
    let page = fresh.post("/pass/", &[("choice", "create")]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let cancel = b.post("/pass/annuler", &[("csrf", "")]).await;
    assert_eq!(cancel.status, StatusCode::FORBIDDEN);
    assert_eq!(
        b.get("/pass/employeur").await.status,
        StatusCode::OK,
        "still a draft"
    );
}

#[tokio::test]
async fn a_text_file_renamed_as_a_pdf_is_refused_as_kbis_with_the_415_message() {
    let site = site();
    let mut b = start(&site).await;
    let page = b
        .upload(
            &[("action", "next")],
            &[
                (
                    "kbis",
                    "kbis.pdf",
                    "application/pdf",
                    b"Ceci n'est pas un PDF.\n",
                ),
                ("identity", "cni.png", "image/png", PNG),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(page
        .text_of("kbis-error")
        .contains("Le fichier doit être un PDF, une image JPEG ou PNG."));
    // The good one was kept and is shown with its size and type.
    assert!(
        page.text_of("identity-status")
            .contains("Déjà chargé : image PNG"),
        "{}",
        page.body
    );
    assert!(page.text_of("kbis-status").contains("Aucun fichier chargé"));
    let docs: i64 = site
        .db()
        .query_row("SELECT COUNT(*) FROM enroll_documents", [], |r| r.get(0))
        .unwrap();
    assert_eq!(docs, 1);
}

#[tokio::test]
async fn a_renewal_with_a_wrong_key_name_or_number_shows_one_generic_message() {
    let site = site();
    let mut b = site.browser();
    let wrong_key = b
        .submit(
            "/pass/",
            &[
                ("choice", "renew"),
                ("renewal.number", "2026-000001"),
                ("renewal.key_name", "PASLEBON-XXXX"),
            ],
        )
        .await;
    assert_eq!(wrong_key.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong_key
        .text_of("renewal-error")
        .contains("Numéro de protocole ou nom clé incorrect."));
    assert!(!b.cookies.contains_key("siseri_pass"));
    let empty = b.submit("/pass/", &[("choice", "renew")]).await;
    assert!(empty
        .text_of("renewal-number-error")
        .contains("Le numéro du protocole est obligatoire."));
    assert!(empty
        .text_of("renewal-key_name-error")
        .contains("Le nom clé de l'entreprise est obligatoire."));
    // Past the limit, the page says so nicely.
    let mut last = wrong_key;
    for _ in 0..10 {
        last = b
            .submit(
                "/pass/",
                &[
                    ("choice", "renew"),
                    ("renewal.number", "2026-000001"),
                    ("renewal.key_name", "X"),
                ],
            )
            .await;
    }
    assert_eq!(last.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(last.text_of("renewal-error").contains("Trop de tentatives"));
}

#[tokio::test]
async fn people_steps_enforce_their_list_rules_and_keep_an_incomplete_person_flagged() {
    let site = site();
    let mut b = start(&site).await;
    let none = b
        .submit("/pass/correspondants", &[("action", "next")])
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none
        .text_of("liste")
        .contains("Désignez au moins un correspondant SISERI."));
    // An incomplete person is kept, flagged, and modifiable.
    let partial = b
        .submit(
            "/pass/correspondants",
            &[("person.last_name", "DURAND"), ("action", "add")],
        )
        .await;
    assert_eq!(partial.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(partial
        .text_of("person-email-error")
        .contains("Le courriel est obligatoire."));
    assert!(partial.body.contains(r#"name="index" value="0""#));
    let listed = b.get("/pass/correspondants").await;
    assert!(listed.body.contains("À compléter"));
    let modify = b.get("/pass/correspondants?modifier=0").await;
    assert_eq!(modify.status, StatusCode::OK);
    assert!(modify.body.contains(r#"value="DURAND""#));
    assert!(modify
        .text_of("person-email-error")
        .contains("Le courriel est obligatoire."));
    let fixed = with(CORRESPONDENT, &[("index", "0"), ("action", "add")]);
    b.submit("/pass/correspondants", &fixed)
        .await
        .redirects_to("/pass/correspondants?ok=modif");
    let listed = b.get("/pass/correspondants").await;
    assert!(!listed.body.contains("À compléter"));
    assert_eq!(listed.body.matches("<td>DURAND</td>").count(), 1);
    // Nobody as PCR nor physician: leaving the PCR step is refused.
    let pcr = b
        .submit(
            "/pass/pcr",
            &[("address.country", "FRANCE"), ("action", "next")],
        )
        .await;
    assert_eq!(pcr.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(pcr.text_of("liste").contains("obligatoirement désigner"));
    // Supprimer.
    b.submit("/pass/correspondants", &[("action", "delete:0")])
        .await
        .redirects_to("/pass/correspondants?ok=suppr");
    assert!(b
        .get("/pass/correspondants")
        .await
        .body
        .contains("Le tableau ne contient aucune donnée"));
}

#[tokio::test]
async fn a_person_can_come_back_to_the_draft_or_abandon_it() {
    let site = site();
    let mut b = start(&site).await;
    b.submit("/pass/employeur", &with(EMPLOYER, &[("action", "next")]))
        .await
        .redirects_to("/pass/representant");
    // A new browser session with the same cookie: *Reprendre*.
    let mut again = Browser {
        app: site.app.clone(),
        cookies: b.cookies.clone(),
    };
    again.cookies.remove("siseri_csrf");
    let start_page = again.get("/pass/").await;
    assert!(start_page
        .body
        .contains("Reprendre votre protocole en cours"));
    assert!(start_page.body.contains(r#"href="/pass/representant""#));
    assert!(
        !start_page.body.contains(r#"value="create" checked"#),
        "abandoning the draft takes an explicit choice"
    );
    assert!(site
        .browser()
        .get("/pass/")
        .await
        .body
        .contains(r#"value="create" checked"#));
    // Annuler asks, then abandons and forgets the cookie.
    let confirm = again.get("/pass/annuler").await;
    assert!(confirm.body.contains("Abandonner le protocole ?"));
    again
        .submit("/pass/annuler", &[])
        .await
        .redirects_to("/pass/?abandon=1");
    assert!(!again.cookies.contains_key("siseri_pass"));
    let status: String = site
        .db()
        .query_row("SELECT status FROM enroll_versions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "cancelled");
    // The old cookie now leads to the French "not found" page.
    let gone = b.get("/pass/employeur").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone
        .body
        .contains("Protocole introuvable ou session expirée"));
}

#[tokio::test]
async fn pages_have_no_inline_style_and_the_stylesheet_is_served() {
    // The security headers are the daemon's, on every router (src/serve/layers.rs, tested in
    // tests/http_behaviour.rs); the pages must keep within its CSP.
    let site = site();
    let mut b = site.browser();
    let page = b.get("/pass/").await;
    assert!(
        !page.body.contains("style=\""),
        "no inline style: the CSP forbids it"
    );
    let css = b.get("/assets/siseri.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    assert!(!css.body.contains("http"), "nothing external");
    // Pages without a draft send to the start.
    b.get("/pass/pcr").await.redirects_to("/pass/");
}

#[tokio::test]
async fn a_line_break_in_the_employer_name_is_an_error_and_a_huge_address_is_never_stored() {
    let site = site();
    let mut b = start(&site).await;
    let mut fields = with(EMPLOYER, &[("action", "next")]);
    fields.retain(|(k, _)| *k != "employer.name");
    fields.push(("employer.name", "Cabinet\r\nN° SIRET : 00000000000000"));
    let page = b.submit("/pass/employeur", &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text_of("employer-name-error")
            .contains("ne peut contenir ni retour à la ligne"),
        "{}",
        page.body
    );

    let huge = "8 avenue de la gloire ".repeat(1_900_000 / 22);
    let mut fields = with(EMPLOYER, &[("action", "next")]);
    fields.retain(|(k, _)| *k != "employer.address");
    fields.push(("employer.address", &huge));
    let page = b.submit("/pass/employeur", &fields).await;
    assert!(page.status.is_client_error(), "{}", page.status);
    let stored: i64 = site
        .db()
        .query_row("SELECT max(length(input)) FROM enroll_versions", [], |r| {
            r.get(0)
        })
        .expect("query_row failed");
    assert!(stored < 70_000, "{stored} bytes kept in a draft");
}
