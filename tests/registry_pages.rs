//! The registry's French pages over mutual TLS, driven by curl as a browser would: the
//! access-code page, the *Cartes-données admin.* screen, the workers form posted with the
//! CSRF token scraped from the page and the session cookie, what each role is offered, the
//! import with its report, logout.

mod common;

use common::daemon::curl;
use common::enrolment::{between, enrolled, Holder};
use common::fixtures::{PROTOCOL as SEED, WORKERS_CSV};
use common::Sandbox;

/// The text between the last `before` preceding `marker` and the next `"`.
fn value_before(body: &str, marker: &str, before: &str) -> String {
    let head = &body[..body
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} not in {body}"))];
    let start = head.rfind(before).expect("rfind gave nothing") + before.len();
    head[start..]
        .split('"')
        .next()
        .expect("next gave nothing")
        .to_owned()
}

fn holder<'a>(holders: &'a [Holder], email_start: &str) -> &'a Holder {
    holders
        .iter()
        .find(|h| h.email.starts_with(email_start))
        .expect("find gave nothing")
}

/// A browser: one person's certificate and cookie jar.
struct Browser<'a> {
    sb: &'a Sandbox,
    addr: String,
    holder: Holder,
    jar: String,
    n: std::cell::Cell<u32>,
}

/// A page: status, headers (lower case), body.
#[derive(Debug)]
struct Seen {
    status: u16,
    headers: String,
    body: String,
}

impl Seen {
    fn location(&self) -> String {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix("location: "))
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// The CSRF token of the page's (first) form.
    fn csrf(&self) -> String {
        between(&self.body, "name=\"csrf\" value=\"", "\"").to_owned()
    }
}

impl<'a> Browser<'a> {
    fn new(sb: &'a Sandbox, addr: &str, holder: &Holder) -> Self {
        Self {
            sb,
            addr: addr.to_owned(),
            holder: holder.clone(),
            jar: sb
                .path(&format!("jar-{}", holder.habilitation))
                .display()
                .to_string(),
            n: Default::default(),
        }
    }

    fn request(&self, method: &str, path: &str, extra: &[String]) -> Seen {
        let n = self.n.get() + 1;
        self.n.set(n);
        let mut args = vec![
            "--cert".to_owned(),
            format!("{}:{}", self.holder.p12.display(), self.holder.password),
            "--cert-type".into(),
            "P12".into(),
            "-b".into(),
            self.jar.clone(),
            "-c".into(),
            self.jar.clone(),
        ];
        args.extend_from_slice(extra);
        let url = format!("https://{}{path}", self.addr);
        let ca = self.sb.data_file("ca/ac-siseri.pem");
        let reply = curl(self.sb, &ca, n, method, &url, &args, None);
        assert_eq!(reply.exit, 0, "curl {method} {path}: {}", reply.stderr);
        Seen {
            status: reply.status,
            headers: reply.headers.to_lowercase(),
            body: String::from_utf8(reply.body).expect("String::from_utf8 failed"),
        }
    }

    fn get(&self, path: &str) -> Seen {
        self.request("GET", path, &[])
    }

    /// A form post, each field `--data-urlencode`d, as a browser sends it.
    fn post(&self, path: &str, fields: &[(&str, &str)]) -> Seen {
        let mut extra = Vec::new();
        for (k, v) in fields {
            extra.push("--data-urlencode".to_owned());
            extra.push(format!("{k}={v}"));
        }
        if fields.is_empty() {
            extra.extend([
                "-H".into(),
                "Content-Type: application/x-www-form-urlencoded".into(),
                "--data".into(),
                String::new(),
            ]);
        }
        self.request("POST", path, &extra)
    }

    /// Through the access-code page; returns the establishment's workers list path.
    fn login(&self) -> String {
        let page = self.get("/");
        assert_eq!(page.status, 200, "{}", page.body);
        let done = self.post(
            "/",
            &[("csrf", &page.csrf()), ("code", &self.holder.access_code)],
        );
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(done.location(), "/cartes");
        let cartes = self.get("/cartes");
        assert_eq!(cartes.status, 200, "{}", cartes.body);
        let id = between(&cartes.body, "<option value=\"", "\"").to_owned();
        let chosen = self.get(&format!("/cartes?entreprise={id}&type=travailleurs"));
        assert_eq!(chosen.status, 303, "{}", chosen.body);
        chosen.location()
    }
}

/// The seed's worker, as typed into the form (`examples/worker.json`).
const SEED_FORM: [(&str, &str); 13] = [
    ("operation", "ajout"),
    ("new_card", "1"),
    ("last_name", "DIDIER"),
    ("first_name", "Valérie"),
    ("nir", "2760912346445"),
    ("nir_key", "12"),
    ("job", "Assistant dentaire"),
    ("radiological_hazard", "1-Exposition externe"),
    ("contract_type", "CDI"),
    ("work_fraction", "1.0"),
    ("activity_character", "1-Civile"),
    ("domain", "100000-Utilisations medicales et veterinaires"),
    ("sector", "102000-Soins dentaires"),
];

#[test]
fn the_access_code_page_asks_for_the_code_and_a_wrong_one_shows_the_attempts_left() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let cse = holder(&holders, "v.durand");
    let b = Browser::new(&sb, &addr, cse);
    let page = b.get("/");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .headers
        .contains("content-type: text/html; charset=utf-8"));
    for text in [
        "Authentification SISERI",
        "Code d&#39;accès",
        "Entrer",
        "Vincent DURAND",
        "/assets/siseri.css",
    ] {
        assert!(
            page.body.contains(text) || page.body.contains(&text.replace("&#39;", "'")),
            "{text} not in {}",
            page.body
        );
    }
    let token = page.csrf();
    let wrong = if cse.access_code == "0000" {
        "1111"
    } else {
        "0000"
    };

    let first = b.post("/", &[("csrf", &token), ("code", wrong)]);
    assert_eq!(first.status, 401, "{}", first.body);
    assert!(
        first.body.contains("Code d") && first.body.contains("incorrect"),
        "{}",
        first.body
    );
    assert!(
        first.body.contains("4 essai(s) restant(s)"),
        "{}",
        first.body
    );
    // Shown again when the page is reloaded.
    let again = b.get("/");
    assert!(
        again.body.contains("il vous reste 4 essai(s)"),
        "{}",
        again.body
    );
    // Without the token (another site's form): refused, and no attempt spent.
    let forged = b.post("/", &[("code", wrong)]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    let second = b.post("/", &[("csrf", &token), ("code", wrong)]);
    assert!(
        second.body.contains("3 essai(s) restant(s)"),
        "{}",
        second.body
    );

    // The right code: the session cookie, and the cartes-données.
    let ok = b.post("/", &[("csrf", &token), ("code", &cse.access_code)]);
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(ok.location(), "/cartes");
    let cookie = ok
        .headers
        .lines()
        .find(|l| l.starts_with("set-cookie: siseri_session="))
        .unwrap();
    for attr in ["httponly", "secure", "samesite=strict"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let home = b.get("/");
    assert_eq!((home.status, home.location().as_str()), (303, "/cartes"));

    // Locked after five failures in a row: the page says so and offers no form.
    let other = holder(&holders, "c.martin");
    let m = Browser::new(&sb, &addr, other);
    let t = m.get("/").csrf();
    let wrong = if other.access_code == "0000" {
        "1111"
    } else {
        "0000"
    };
    for _ in 0..4 {
        assert_eq!(m.post("/", &[("csrf", &t), ("code", wrong)]).status, 401);
    }
    let locked = m.post("/", &[("csrf", &t), ("code", wrong)]);
    assert_eq!(locked.status, 423, "{}", locked.body);
    assert!(locked.body.contains("Accès bloqué"), "{}", locked.body);
    let page = m.get("/");
    assert_eq!(page.status, 423);
    assert!(!page.body.contains("name=\"code\""), "{}", page.body);
}

#[test]
fn the_workers_form_adds_the_seeds_worker_and_the_list_shows_it() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let b = Browser::new(&sb, &addr, holder(&holders, "v.durand"));
    let list = b.login();
    assert!(
        list.starts_with("/etablissements/") && list.ends_with("/travailleurs"),
        "{list}"
    );

    let cartes = b.get("/cartes");
    for text in [
        "Cartes-données admin.",
        "Cabinet dentaire du Dr DURAND Vincent",
        "Liste des travailleurs",
        "Établissement de rattachement",
        "Rechercher",
    ] {
        assert!(cartes.body.contains(text), "{text} not in {}", cartes.body);
    }
    // A CSE sees no dose and no card among the data types.
    assert!(
        !cartes.body.contains("Carte de suivi médical"),
        "{}",
        cartes.body
    );

    let empty = b.get(&list);
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert!(
        empty.body.contains("Cette liste reste vide"),
        "{}",
        empty.body
    );
    for text in [
        "Modifier la liste",
        "Importer une liste",
        "Exporter la liste",
        "Fractionner la liste",
    ] {
        assert!(empty.body.contains(text), "{text}");
    }

    let form = b.get(&format!("{list}/modifier"));
    assert_eq!(form.status, 200, "{}", form.body);
    for label in [
        "Type opération",
        "Numéro de carte de suivi médical",
        "Nouvelle carte",
        "Nom de famille",
        "Autre nom connu",
        "Prénom",
        "Autres prénoms",
        "Numéro RNIPP",
        "Clé",
        "Jour de naissance",
        "Fraction",
        "Catégorie",
        "Métier",
        "Nuisance radiologique",
        "Type de contrat",
        "Quotité de travail",
        "Caractère de l",
        "Domaine d",
        "Secteur d",
        "Valider les modifications",
    ] {
        assert!(form.body.contains(label), "{label} not in the form");
    }
    let mut fields: Vec<(&str, &str)> = SEED_FORM.to_vec();
    let token = form.csrf();
    fields.push(("csrf", &token));
    let sent = b.post(&format!("{list}/modifier"), &fields);
    assert_eq!(sent.status, 303, "{}", sent.body);
    let next = sent.location();
    assert!(next.contains("fait=ajout"), "{next}");
    let done = b.get(&next);
    assert!(
        done.body.contains("Modification enregistrée"),
        "{}",
        done.body
    );
    assert!(
        done.body.contains("En cours") && done.body.contains("DIDIER"),
        "{}",
        done.body
    );

    let shown = b.get(&list);
    for text in [
        "DIDIER",
        "Valérie",
        "2760912346445",
        "Assistant dentaire",
        "CDI",
    ] {
        assert!(
            shown.body.contains(text),
            "{text} not in the list: {}",
            shown.body
        );
    }
    let found = b.get(&format!("{list}?q=didier"));
    assert!(found.body.contains("Valérie"));
    let none = b.get(&format!("{list}?q=martin"));
    assert!(!none.body.contains("Valérie") && none.body.contains("Aucun travailleur"));

    // The same worker again: refused beside the NIR, in French, with 409.
    let dup = b.post(&format!("{list}/modifier"), &fields);
    assert_eq!(dup.status, 409, "{}", dup.body);
    assert!(dup.body.contains("Ce NIR figure déjà"), "{}", dup.body);
    // A bad key: the form comes back with its message, and the summary links to the field.
    let mut bad = fields.clone();
    bad.retain(|(k, _)| *k != "nir_key" && *k != "nir");
    bad.push(("nir", "2951099126111"));
    bad.push(("nir_key", "99"));
    let refused = b.post(&format!("{list}/modifier"), &bad);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("La clé du NIR ne correspond pas"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("href=\"#f-nir_key\""),
        "{}",
        refused.body
    );

    // The export link downloads the list.
    let csv = b.get(&format!(
        "/api/v1/establishments/{}/workers.csv",
        list.split('/').nth(2).unwrap()
    ));
    assert_eq!(csv.status, 200);
    assert!(csv.headers.contains("content-disposition: attachment"));
    assert!(
        csv.body.contains("DIDIER;;Valérie;;2760912346445;12;"),
        "{}",
        csv.body
    );
    assert_eq!(sb.count("registry_workers"), 1);
}

#[test]
fn a_form_posted_without_its_csrf_token_changes_nothing() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let cse = Browser::new(&sb, &addr, holder(&holders, "v.durand"));
    let list = cse.login();
    let est = list.split('/').nth(2).unwrap().to_owned();
    let fields: Vec<(&str, &str)> = SEED_FORM.to_vec();
    let forged = cse.post(&format!("{list}/modifier"), &fields);
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(
        forged.body.contains("rien n&#39;a été modifié")
            || forged.body.contains("rien n'a été modifié"),
        "{}",
        forged.body
    );
    // Another session's token does not pass either.
    let pcr = Browser::new(&sb, &addr, holder(&holders, "p.dillenseger"));
    pcr.login();
    let theirs = pcr
        .get(&format!("/etablissements/{est}/travailleurs"))
        .csrf();
    let mut with_theirs = fields.clone();
    with_theirs.push(("csrf", &theirs));
    assert_eq!(
        cse.post(&format!("{list}/modifier"), &with_theirs).status,
        403
    );
    let created = cse.post(
        &format!("/etablissements/{est}/fractions"),
        &[("name", "Bloc")],
    );
    assert_eq!(created.status, 403);
    assert_eq!(sb.count("registry_workers"), 0);
    assert_eq!(sb.count("registry_fractions"), 0);
    let shown = cse.get(&list);
    assert!(!shown.body.contains("DIDIER"));
    // Logging out needs the token too; with it, the session ends.
    assert_eq!(cse.post("/deconnexion", &[]).status, 403);
    assert_eq!(cse.get(&list).status, 200);
    let token = cse.get(&list).csrf();
    let out = cse.post("/deconnexion", &[("csrf", &token)]);
    assert_eq!(out.status, 200, "{}", out.body);
    assert!(out.body.contains("Vous êtes déconnecté"));
    let after = cse.get(&list);
    assert_eq!((after.status, after.location().as_str()), (303, "/"));
}

#[test]
fn each_role_is_offered_only_what_the_matrix_gives_it() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let cse = Browser::new(&sb, &addr, holder(&holders, "v.durand"));
    let list = cse.login();
    let est = list.split('/').nth(2).unwrap().to_owned();
    let token = cse.get(&format!("{list}/modifier")).csrf();
    // Employed there since before the results' periods: the PCR reads the establishment's
    // results of the worker's time there (issue 15 §2).
    let since = {
        let d = (time::OffsetDateTime::now_utc() - time::Duration::days(90)).date();
        format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
    };
    let mut fields: Vec<(&str, &str)> = SEED_FORM.to_vec();
    fields.push(("csrf", &token));
    fields.push(("employed_from", &since));
    let sent = cse.post(&format!("{list}/modifier"), &fields);
    let w = between(&sent.location(), "dernier=", "&").to_owned();

    // The PCR: the list in the dosimetric view, no terms of employment, no edit; doses.
    let pcr = Browser::new(&sb, &addr, holder(&holders, "p.dillenseger"));
    pcr.login();
    let seen = pcr.get(&list);
    assert!(
        seen.body.contains("DIDIER") && seen.body.contains("2760912346445"),
        "{}",
        seen.body
    );
    for absent in [
        "Type de contrat",
        "Modifier la liste",
        "Importer une liste",
        "Exporter la liste",
        ">CDI<",
    ] {
        assert!(!seen.body.contains(absent), "{absent} shown to the PCR");
    }
    assert!(seen.body.contains("/doses"), "no doses link for the PCR");
    assert_eq!(pcr.get(&format!("{list}/modifier")).status, 403);
    assert_eq!(pcr.get(&format!("{list}/importer")).status, 403);
    assert_eq!(pcr.get(&format!("{list}/{w}/carte")).status, 403);
    let doses = pcr.get(&format!("{list}/{w}/doses"));
    assert_eq!(doses.status, 200, "{}", doses.body);
    assert!(doses.body.contains("12 mois glissants"), "{}", doses.body);
    assert!(
        doses.body.contains("Dosimétrie opérationnelle")
            && !doses.body.contains("value=\"internal\""),
        "{}",
        doses.body
    );
    let t = doses.csrf();
    let day = |n: i64| {
        let d = (time::OffsetDateTime::now_utc() - time::Duration::days(n)).date();
        format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
    };
    let (start, end) = (day(30), day(2));
    let sent = pcr.post(
        &format!("{list}/{w}/doses"),
        &[
            ("csrf", &t),
            ("kind", "operational"),
            ("period_start", &start),
            ("period_end", &end),
            ("hp10_msv", "0,25"),
        ],
    );
    assert_eq!(sent.status, 303, "{}", sent.body);
    let doses = pcr.get(&sent.location());
    assert!(
        doses.body.contains("Résultat enregistré") && doses.body.contains("0,250"),
        "{}",
        doses.body
    );
    // The PCR may not send an internal exposure: refused by the service.
    let refused = pcr.post(
        &format!("{list}/{w}/doses"),
        &[
            ("csrf", &t),
            ("kind", "internal"),
            ("period_start", &start),
            ("period_end", &end),
            ("e_msv", "1"),
        ],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);

    // The physician: the card, and its form.
    let mdt = Browser::new(&sb, &addr, holder(&holders, "c.martin"));
    mdt.login();
    let cartes = mdt.get("/cartes");
    assert!(
        cartes.body.contains("Carte de suivi médical"),
        "{}",
        cartes.body
    );
    let card = mdt.get(&format!("{list}/{w}/carte"));
    assert_eq!(card.status, 200, "{}", card.body);
    assert!(
        card.body.contains("Enregistrer la carte") && card.body.contains("DIDIER"),
        "{}",
        card.body
    );
    assert!(!card.body.contains("Type de contrat"));
    let t = card.csrf();
    let visit = day(20);
    let saved = mdt.post(
        &format!("{list}/{w}/carte"),
        &[
            ("csrf", &t),
            ("last_visit", &visit),
            ("fitness", "fit"),
            ("next_visit", ""),
            ("notes", "Pas de contre-indication."),
        ],
    );
    assert_eq!(saved.status, 303, "{}", saved.body);
    let card = mdt.get(&saved.location());
    assert!(
        card.body.contains("Carte enregistrée") && card.body.contains("Pas de contre-indication."),
        "{}",
        card.body
    );

    // The CSE: no doses, no card.
    assert_eq!(cse.get(&format!("{list}/{w}/doses")).status, 403);
    assert_eq!(cse.get(&format!("{list}/{w}/carte")).status, 403);
    let detail = cse.get(&format!("{list}/{w}"));
    assert!(
        detail.body.contains("Type de contrat") && detail.body.contains("Supprimer de la liste"),
        "{}",
        detail.body
    );
    assert!(!detail.body.contains("/doses\""), "{}", detail.body);

    // Everyone: the établissement de rattachement.
    let r = mdt.get(&format!("/etablissements/{est}/rattachement"));
    assert_eq!(r.status, 200, "{}", r.body);
    for text in [
        "Numéro de protocole",
        "Nom clé",
        "8, Avenue de la gloire",
        "STRASBOURG",
        "DILLENSEGER",
        "Médecin du travail",
    ] {
        assert!(r.body.contains(text), "{text} not in {}", r.body);
    }
    assert_eq!(mdt.get("/etablissements/999/rattachement").status, 404);
    assert_eq!(mdt.get("/etablissements/999/travailleurs").status, 404);
}

#[test]
fn an_import_through_the_page_reports_each_line_and_imports_nothing_on_error() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let cse = Browser::new(&sb, &addr, holder(&holders, "v.durand"));
    let list = cse.login();
    let page = cse.get(&format!("{list}/importer"));
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("nom;autre_nom;prenom"), "{}", page.body);
    let token = page.csrf();
    let upload = |csv: &str, with_token: bool| {
        let file = sb.path("upload.csv");
        std::fs::write(&file, csv).unwrap();
        let mut extra = Vec::new();
        if with_token {
            extra.extend(["-F".to_owned(), format!("csrf={token}")]);
        }
        extra.extend([
            "-F".to_owned(),
            format!("fichier=@{};type=text/csv", file.display()),
        ]);
        cse.request("POST", &format!("{list}/importer"), &extra)
    };
    let bad = WORKERS_CSV.replacen("1700367482001;86", "1700367482001;87", 1);
    let refused = upload(&bad, true);
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("rien n&#39;a été importé")
            || refused.body.contains("rien n'a été importé"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("<td>3</td>"),
        "line 3 is not reported: {}",
        refused.body
    );
    assert!(
        !refused.body.contains("1700367482001"),
        "the report repeats a NIR"
    );
    assert_eq!(sb.count("registry_workers"), 0);
    let forged = upload(WORKERS_CSV, false);
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(sb.count("registry_workers"), 0);
    let ok = upload(WORKERS_CSV, true);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.body.contains("Liste importée") && ok.body.contains("2 travailleur(s) ajouté(s)"),
        "{}",
        ok.body
    );
    assert_eq!(sb.count("registry_workers"), 2);

    // Fractionner la liste: create one, put DURAND in it, filter by it.
    let est = list.split('/').nth(2).unwrap().to_owned();
    let fractions = cse.get(&format!("/etablissements/{est}/fractions"));
    assert!(fractions.body.contains("Fractionner la liste"));
    let created = cse.post(
        &format!("/etablissements/{est}/fractions"),
        &[("csrf", &fractions.csrf()), ("name", "Cabinet")],
    );
    assert_eq!(created.status, 303, "{}", created.body);
    let page = cse.get(&list);
    let fid = value_before(&page.body, "\">Cabinet (", "value=\"");
    let id = value_before(&page.body, "aria-label=\"Sélectionner DURAND", "id=\"t-");
    let assign_token = page.csrf();
    let moved = cse.post(
        &format!("/etablissements/{est}/fractions/affecter"),
        &[
            ("csrf", &assign_token),
            ("fraction_cible", &fid),
            ("travailleur", &id),
        ],
    );
    assert_eq!(moved.status, 303, "{}", moved.body);
    let filtered = cse.get(&format!("{list}?fraction={fid}"));
    assert!(
        filtered.body.contains("Vincent") && !filtered.body.contains("Valérie"),
        "{}",
        filtered.body
    );
}

#[test]
fn the_correspondent_names_a_dosimetry_body_on_its_page_and_the_pcr_only_sees_it() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[SEED]);
    sb.issue_organisme_from_csr("labo", "LABO DOSIMETRIE DE L'EST");
    let (_server, addr) = sb.serve_registry("serve.log");
    let cse = Browser::new(&sb, &addr, holder(&holders, "v.durand"));
    let est = cse.login().split('/').nth(2).unwrap().to_owned();
    let path = format!("/etablissements/{est}/organismes");
    let rattachement = cse.get(&format!("/etablissements/{est}/rattachement"));
    assert!(rattachement.body.contains(&format!("href=\"{path}\"")));
    let page = cse.get(&path);
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page
        .body
        .contains("Aucun organisme de dosimétrie n'est désigné."));
    assert!(
        page.body
            .contains("<option value=\"LABO DOSIMETRIE DE L&#39;EST\"")
            || page
                .body
                .contains("<option value=\"LABO DOSIMETRIE DE L'EST\""),
        "{}",
        page.body
    );
    let body_name = "LABO DOSIMETRIE DE L'EST";
    // Without the form's token: refused, nothing named.
    let forged = cse.post(&path, &[("name", body_name)]);
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert_eq!(sb.count("registry_dosimetry_bodies"), 0);
    // A name no certificate holds: the form again, with the reason.
    let unknown = cse.post(&path, &[("csrf", &page.csrf()), ("name", "LABO FANTOME")]);
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    assert!(unknown
        .body
        .contains("Aucun organisme de dosimétrie de ce nom"));
    let named = cse.post(&path, &[("csrf", &page.csrf()), ("name", body_name)]);
    assert_eq!(named.status, 303, "{}", named.body);
    assert_eq!(sb.count("registry_dosimetry_bodies"), 1);
    let page = cse.get(&named.location());
    assert!(
        page.body.contains("Organisme de dosimétrie désigné."),
        "{}",
        page.body
    );

    // The PCR sees the body, is offered no form, and its post is refused.
    let pcr = Browser::new(&sb, &addr, holder(&holders, "p.dillenseger"));
    pcr.login();
    let seen = pcr.get(&path);
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.body.contains("LABO DOSIMETRIE DE L") && !seen.body.contains("Désigner"));
    let oid = value_before(&page.body, "/retirer\"", "/organismes/");
    let refused = pcr.post(&format!("{path}/{oid}/retirer"), &[("csrf", &seen.csrf())]);
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(sb.count("registry_dosimetry_bodies"), 1);
    // The correspondent removes it.
    let removed = cse.post(&format!("{path}/{oid}/retirer"), &[("csrf", &page.csrf())]);
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(sb.count("registry_dosimetry_bodies"), 0);
}
