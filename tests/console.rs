//! The operators' console (issue 17): operator certificates issued, listed and revoked from
//! the CLI; the console listener behind mutual TLS that only operators' certificates open;
//! its pages and acts, role by role, each form guarded by its CSRF token.

mod common;

use common::console::console;
use common::enrolment::operator;
use common::{require_tool, run_ok, Sandbox};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_operator_is_added_listed_and_revoked_from_the_cli() {
    let sb = Sandbox::initialised();
    let admin = operator(
        &sb,
        "admin",
        "Alice Martin",
        "alice@example.org",
        "administrateur",
    );
    // The certificate is AC SISERI's, of the operator profile.
    let text = run_ok(
        std::process::Command::new(require_tool("openssl"))
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&admin.cert),
    );
    let text = stdout(&text);
    assert!(text.contains("CN = Alice Martin"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(
        text.contains(ca::OPERATOR_EKU),
        "the operator usage is in the certificate: {text}"
    );
    assert!(!text.contains("E-mail Protection"), "{text}");

    let list = stdout(&run_ok(&mut sb.siseri(["operator", "list"])));
    assert!(list.contains("Alice Martin"), "{list}");
    assert!(list.contains("administrateur"), "{list}");
    assert!(list.contains("retiré"), "{list}");

    // The last administrator cannot be revoked: a second one first.
    operator(
        &sb,
        "admin2",
        "Bruno Petit",
        "bruno@example.org",
        "administrateur",
    );
    let out = run_ok(&mut sb.siseri(["operator", "revoke", "1"]));
    assert!(stdout(&out).contains("révoqué"), "{}", stdout(&out));
    let list = stdout(&run_ok(&mut sb.siseri(["operator", "list"])));
    assert!(list.contains("— révoqué"), "{list}");
    let revoked: String = sb
        .db()
        .query_row(
            "SELECT revocation_reason FROM ca_certificates WHERE profile = 'operator'",
            [],
            |r| r.get(0),
        )
        .expect("the operator's certificate");
    assert_eq!(revoked, "privilegeWithdrawn");
    // Twice: refused, said in French.
    let out = sb
        .siseri(["operator", "revoke", "1"])
        .output()
        .expect("siseri");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("déjà révoqué"));
}

#[test]
fn an_operator_with_a_bad_name_or_role_is_refused_before_anything_is_issued() {
    let sb = Sandbox::initialised();
    let out = sb
        .siseri([
            "operator",
            "add",
            "--name",
            "<script>",
            "--email",
            "x@example.org",
            "--role",
            "instructeur",
        ])
        .output()
        .expect("siseri");
    assert!(!out.status.success());
    let out = sb
        .siseri([
            "operator",
            "add",
            "--name",
            "Bob",
            "--email",
            "x@example.org",
            "--role",
            "root",
        ])
        .output()
        .expect("siseri");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sb.count("enroll_operators"), 0);
    let certs: i64 = sb
        .db()
        .query_row(
            "SELECT COUNT(*) FROM ca_certificates WHERE profile = 'operator'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(certs, 0);
}

#[test]
fn an_instructeur_reviews_and_rejects_but_cannot_revoke_renew_nor_manage_operators() {
    let c = console();
    let review = c
        .get(&c.instructeur, &format!("/protocoles/{}", c.awaiting))
        .ok(200);
    let text = review.text();
    for part in [
        "Contenu signé (Annexe 1)",
        "Pièces justificatives",
        "Preuve de signature",
        "<caption>",
    ] {
        assert!(text.contains(part), "{part}: {text}");
    }
    // The console's CSP (`style-src 'self'`) refuses inline styles: none in the page.
    assert!(!text.contains(" style="), "{text}");
    // The K-bis, shown in the page, inert.
    let kbis = c
        .get(
            &c.instructeur,
            &format!("/protocoles/{}/pieces/kbis", c.awaiting),
        )
        .ok(200);
    assert_eq!(
        kbis.header("content-type").as_deref(),
        Some("application/pdf")
    );
    assert!(kbis
        .header("content-disposition")
        .is_some_and(|v| v.starts_with("inline;")));
    assert!(
        kbis.header("content-security-policy")
            .is_some_and(|v| v.starts_with("sandbox")),
        "{}",
        kbis.headers
    );
    assert_eq!(
        kbis.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert!(kbis.body.starts_with(b"%PDF"));
    let annexe = c
        .get(
            &c.instructeur,
            &format!("/protocoles/{}/annexe", c.awaiting),
        )
        .ok(200);
    assert!(annexe.body.starts_with(b"%PDF"));
    assert!(annexe
        .header("content-security-policy")
        .is_some_and(|v| v.starts_with("sandbox")));
    let identity = c
        .get(
            &c.instructeur,
            &format!("/protocoles/{}/pieces/identity", c.awaiting),
        )
        .ok(200);
    assert_eq!(
        identity.header("content-type").as_deref(),
        Some("image/png")
    );
    assert_eq!(
        c.get(
            &c.instructeur,
            &format!("/protocoles/{}/pieces/autre", c.awaiting)
        )
        .status,
        404
    );

    let hab = c.person.habilitation;
    let person_page = c
        .get(&c.instructeur, &format!("/personnes/{hab}"))
        .ok(200)
        .text();
    assert!(person_page.contains("Renvoyer un lien de retrait"));
    assert!(
        !person_page.contains("Révoquer les certificats"),
        "no revoke form for an instructeur"
    );
    let token = c.csrf(&c.instructeur, &format!("/personnes/{hab}"));
    for act in ["revoquer", "renouveler"] {
        let r = c.post(
            &c.instructeur,
            &format!("/personnes/{hab}/{act}"),
            &[("csrf", &token), ("reason", "keyCompromise")],
        );
        assert_eq!(r.status, 403, "{act}: {}", r.text());
    }
    assert_eq!(c.get(&c.instructeur, "/operateurs").status, 403);
    let r = c.post(
        &c.instructeur,
        "/operateurs",
        &[
            ("csrf", &token),
            ("name", "Eve"),
            ("email", "eve@example.org"),
            ("role", "administrateur"),
        ],
    );
    assert_eq!(r.status, 403);
    let revoked: i64 = c
        .d
        .sandbox
        .db()
        .query_row(
            "SELECT COUNT(*) FROM ca_certificates WHERE status = 'revoked' AND profile = 'person'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(revoked, 0, "nothing revoked");
    assert_eq!(c.d.sandbox.count("enroll_operators"), 2);

    // What an instructeur may do: reset a code, reject with a reason, audited as them.
    c.post(
        &c.instructeur,
        &format!("/personnes/{hab}/code"),
        &[("csrf", &token)],
    )
    .ok(200);
    let token = c.csrf(&c.instructeur, &format!("/protocoles/{}", c.awaiting));
    let r = c.post(
        &c.instructeur,
        &format!("/protocoles/{}/refuser", c.awaiting),
        &[("csrf", &token), ("reason", "")],
    );
    assert_eq!(r.status, 422, "a reason is required");
    c.post(
        &c.instructeur,
        &format!("/protocoles/{}/refuser", c.awaiting),
        &[("csrf", &token), ("reason", "K-bis illisible")],
    )
    .ok(200);
    let actions = c.audit_actions("console:% Bruno Petit");
    assert!(
        actions.contains(&"accessor.reset_code".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a.starts_with("protocol.")),
        "{actions:?}"
    );
    c.d.audit_verifies();
}

#[test]
fn an_administrateur_approves_revokes_and_adds_an_operator_each_act_audited_under_their_certificate(
) {
    let c = console();
    let token = c.csrf(&c.admin, &format!("/protocoles/{}", c.awaiting));
    let (_, r) = c.approve(&c.admin, &c.awaiting, &[("csrf", &token)]);
    let r = r.ok(200);
    assert!(r.text().contains("Protocole validé"), "{}", r.text());
    assert!(!c.get(&c.admin, "/").ok(200).text().contains(&c.awaiting));

    let hab = c.person.habilitation;
    let search = c
        .get(&c.admin, &format!("/personnes?q={hab}"))
        .ok(200)
        .text();
    assert!(search.contains(&format!("/personnes/{hab}")), "{search}");
    let r = c.post(
        &c.admin,
        &format!("/personnes/{hab}/revoquer"),
        &[("csrf", &token), ("reason", "keyCompromise")],
    );
    r.ok(200);
    let person_page = c.get(&c.admin, &format!("/personnes/{hab}")).ok(200).text();
    assert!(person_page.contains("révoqué"), "{person_page}");

    let r = c.post(
        &c.admin,
        "/operateurs",
        &[
            ("csrf", &token),
            ("name", "Chloé Durand"),
            ("email", "chloe@example.org"),
            ("role", "instructeur"),
        ],
    );
    r.ok(200);
    assert_eq!(c.d.sandbox.count("enroll_operators"), 3);
    assert!(c
        .get(&c.admin, "/operateurs")
        .ok(200)
        .text()
        .contains("Chloé Durand"));

    let serial = run_ok(
        std::process::Command::new(require_tool("openssl"))
            .args(["x509", "-noout", "-serial", "-in"])
            .arg(&c.admin.cert),
    );
    let serial = stdout(&serial)
        .trim()
        .trim_start_matches("serial=")
        .to_owned();
    let actions = c.audit_actions(&format!("console:{serial} Alice Martin"));
    for a in ["cert.revoke", "operator.add"] {
        assert!(actions.contains(&a.to_owned()), "{a}: {actions:?}");
    }
    assert!(
        actions.iter().any(|a| a.starts_with("protocol.")),
        "{actions:?}"
    );
    c.d.audit_verifies();
}

#[test]
fn administrateurs_watch_the_outbox_the_audit_log_and_the_ca_and_instructeurs_do_not() {
    let c = console();
    for path in ["/envois", "/journal", "/ac", "/operateurs"] {
        let r = c.get(&c.instructeur, path);
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        c.get(&c.admin, path).ok(200);
    }
    let ca = c.get(&c.admin, "/ac").ok(200).text();
    assert!(ca.contains("BEGIN CERTIFICATE"), "{ca}");
    assert!(ca.contains("Certificats par état"));
    assert!(ca.contains("LCR"), "{ca}");

    // The audit log, filtered by actor, and its chain verified.
    let journal = c
        .get(&c.admin, "/journal?acteur=operator%3Acli")
        .ok(200)
        .text();
    assert!(journal.contains("operator.add"), "{journal}");
    assert!(!journal.contains("withdrawal.used"), "filtered: {journal}");
    let verified = c.get(&c.admin, "/journal?verifier=1").ok(200).text();
    assert!(verified.contains("Chaîne intègre"), "{verified}");

    // A retry: its token required; an unknown message said so.
    let r = c.post(&c.admin, "/envois/999999/relancer", &[]);
    assert_eq!(r.status, 403);
    let token = c.csrf(&c.admin, "/operateurs");
    let r = c.post(&c.admin, "/envois/999999/relancer", &[("csrf", &token)]);
    assert_eq!(r.status, 404, "{}", r.text());
    let r = c.post(
        &c.instructeur,
        "/envois/999999/relancer",
        &[("csrf", &token)],
    );
    assert_eq!(r.status, 403);
}

#[test]
fn with_four_eyes_an_approval_and_an_operator_revocation_take_two_different_operators() {
    let c = common::console::console_with(&[("SISERI_ACCESS_FOUR_EYES", "true")]);
    let path = format!("/protocoles/{}", c.awaiting);
    let admin_token = c.csrf(&c.admin, &path);
    let first = c
        .post(
            &c.admin,
            &format!("{path}/valider"),
            &[("csrf", &admin_token)],
        )
        .ok(200);
    assert!(
        first.text().contains("second opérateur"),
        "{}",
        first.text()
    );
    assert!(c.get(&c.admin, "/").ok(200).text().contains(&c.awaiting));
    assert!(c
        .get(&c.instructeur, &path)
        .ok(200)
        .text()
        .contains("Validation déjà demandée par console:"));
    // The same operator twice: refused, nothing issued.
    let again = c.post(
        &c.admin,
        &format!("{path}/valider"),
        &[("csrf", &admin_token)],
    );
    assert_eq!(again.status, 409, "{}", again.text());
    assert!(c.get(&c.admin, "/").ok(200).text().contains(&c.awaiting));
    // Another operator: approved.
    let token = c.csrf(&c.instructeur, &path);
    let (_, second) = c.approve(&c.instructeur, &c.awaiting, &[("csrf", &token)]);
    let second = second.ok(200);
    assert!(
        second.text().contains("Protocole validé"),
        "{}",
        second.text()
    );
    assert!(!c.get(&c.admin, "/").ok(200).text().contains(&c.awaiting));

    // Revoking an operator: the CLI asks first, the console confirms.
    let out = run_ok(
        c.d.sandbox
            .siseri(["operator", "revoke", "2"])
            .env("SISERI_ACCESS_FOUR_EYES", "true"),
    );
    assert!(
        stdout(&out).contains("second opérateur"),
        "{}",
        stdout(&out)
    );
    c.get(&c.instructeur, "/").ok(200);
    c.post(
        &c.admin,
        "/operateurs/2/revoquer",
        &[("csrf", &admin_token)],
    )
    .ok(200);
    let list = c.d.siseri(&["operator", "list"]).0;
    assert!(list.contains("— révoqué"), "{list}");
    let actions = c.audit_actions("%");
    assert_eq!(
        actions.iter().filter(|a| *a == "four_eyes.first").count(),
        2,
        "{actions:?}"
    );
    c.d.audit_verifies();
}

#[test]
fn the_last_administrator_is_revoked_neither_from_the_cli_nor_from_the_console() {
    let c = console();
    // Operator 1 is the only administrateur (operator 2 is an instructeur).
    let token = c.csrf(&c.admin, "/operateurs");
    let r = c.post(&c.admin, "/operateurs/1/revoquer", &[("csrf", &token)]);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.text().contains("dernier administrateur en fonction"),
        "{}",
        r.text()
    );
    let out =
        c.d.sandbox
            .siseri(["operator", "revoke", "1"])
            .output()
            .expect("siseri");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("dernier administrateur en fonction"), "{err}");
    // Nothing changed: still in office, still let in, nothing asked of a second operator.
    let list = c.d.siseri(&["operator", "list"]).0;
    assert!(!list.contains("révoqué"), "{list}");
    c.get(&c.admin, "/operateurs").ok(200);
    assert!(!c
        .audit_actions("%")
        .iter()
        .any(|a| a == "operator.revoke" || a == "four_eyes.first"));
}

#[test]
fn a_large_protocol_is_approved_in_the_background_and_its_progress_shown() {
    use serde_json::{json, Value};
    let c = console();
    // 40 correspondents, each a new person: one certificate and one .p12 each.
    let mut p: Value = serde_json::from_str(&common::enrolment::clinic_protocol()).expect("json");
    let model = p["correspondents"][0].clone();
    p["employer"]["name"] = json!("Centre hospitalier des Quarante");
    p["correspondents"] = Value::Array(
        (0..40)
            .map(|i| {
                let mut person = model.clone();
                let letters: String = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8]
                    .iter()
                    .map(|b| char::from(*b))
                    .collect();
                person["last_name"] = json!(format!("NOMBRE{letters}"));
                person["email"] = json!(format!("c{i}@quarante.example"));
                person
            })
            .collect(),
    );
    let number = c.d.sign(&p).number;
    // Before: no approval running, and the page says what to do.
    let idle = c
        .get(&c.instructeur, &format!("/protocoles/{number}/validation"))
        .ok(200);
    assert!(idle.text().contains("Aucune validation"), "{}", idle.text());
    assert!(idle.header("refresh").is_none());

    let token = c.csrf(&c.instructeur, &format!("/protocoles/{number}"));
    let started = std::time::Instant::now();
    let (running, done) = c.approve(&c.instructeur, &number, &[("csrf", &token)]);
    let took = started.elapsed();
    let done = done.ok(200);
    assert!(
        done.text().contains("42 certificat(s) émis"),
        "{}",
        done.text()
    );
    // Every page seen while it ran showed the count out of 42 and a labelled progress bar.
    for text in &running {
        assert!(
            text.contains(" / 42 personne(s) traitée(s)") || text.contains("Préparation"),
            "{text}"
        );
        assert!(
            text.contains("<progress id=\"avancement\" max=\"42\""),
            "{text}"
        );
        assert!(text.contains("<label for=\"avancement\">"), "{text}");
        assert!(text.contains("role=\"status\""), "{text}");
    }
    assert!(
        running
            .iter()
            .any(|t| t.contains(" / 42 personne(s) traitée(s)")),
        "no progress page seen in {took:?} ({} polls)",
        running.len()
    );
    let approved = c.d.siseri(&["protocol", "list", "--status", "approved"]).0;
    assert!(approved.contains(&number), "{approved}");
    c.d.audit_verifies();
}

#[test]
fn people_are_found_by_the_siret_of_their_establishment() {
    let c = console();
    let hab = c.person.habilitation;
    // The seed's establishment, written with the spaces people type.
    let found = c
        .get(&c.instructeur, "/personnes?q=732+829+320+00074")
        .ok(200)
        .text();
    assert!(found.contains(&format!("/personnes/{hab}")), "{found}");
    for name in ["Vincent DURAND", "Claire MARTIN", "Pierre DILLENSEGER"] {
        assert!(found.contains(name), "{name}: {found}");
    }
    assert!(found.contains("3 personne(s) trouvée(s)"), "{found}");
    // A valid SIRET no establishment has: nobody, and nobody by a name that contains digits.
    let none = c
        .get(&c.instructeur, "/personnes?q=44306184100005")
        .ok(200)
        .text();
    assert!(none.contains("Aucune personne ne correspond."), "{none}");
}

#[test]
fn every_operator_sees_the_national_statistics_as_charts_tables_and_a_csv() {
    let c = console();
    // Two workers of the registry with results in 2025 (written straight into the database:
    // the statistics only read it), one with a sector that would run as a formula and be
    // markup.
    let db = c.d.sandbox.db();
    for (i, (sector, job, usv)) in [
        ("102000-Soins dentaires", "Assistant dentaire", 1_500),
        ("=HYPERLINK(\"x\")<b>", "Soudeur", 25_000),
    ]
    .into_iter()
    .enumerate()
    {
        let nir = format!("17001670011{i:02}");
        db.execute(
            "INSERT INTO registry_persons (nir, nir_key, last_name, first_name, search_name,
                                           created_at, updated_at)
             VALUES (?1, '12', 'NOM', 'Jean', 'NOM JEAN', '2025-01-01T00:00:00Z',
                     '2025-01-01T00:00:00Z')",
            [&nir],
        )
        .expect("person");
        let person = db.last_insert_rowid();
        db.execute(
            "INSERT INTO registry_workers (establishment_id, nir, nir_key, last_name, first_name,
                                           search_name, created_at, updated_at, sector, job,
                                           person_id)
             VALUES (1, ?1, '12', 'NOM', 'Jean', 'NOM JEAN', '2025-01-01T00:00:00Z',
                     '2025-01-01T00:00:00Z', ?2, ?3, ?4)",
            rusqlite::params![nir, sector, job, person],
        )
        .expect("worker");
        let worker = db.last_insert_rowid();
        db.execute(
            "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, e_usv,
                                         sender, source, recorded_at)
             VALUES (?1, 'effective', '2025-03-01', '2025-03-31', ?2, 'physician',
                     'accessor:42001', '2025-04-01T00:00:00Z')",
            rusqlite::params![worker, usv],
        )
        .expect("dose");
    }
    drop(db);

    let page = c
        .get(&c.instructeur, "/statistiques?annee=2025")
        .ok(200)
        .text();
    for part in [
        "Statistiques nationales 2025",
        "2 travailleur(s) suivi(s), dose collective 26,500 mSv.",
        "<svg class=\"chart\"",
        "role=\"img\"",
        "aria-labelledby=\"classes-titre classes-desc\"",
        "0 mSv : 0 ; &lt; 1 mSv : 0 ; 1 à 6 mSv : 1 ; 6 à 20 mSv : 0 ; &gt; 20 mSv : 1.",
        "<caption>Travailleurs par secteur et classe de dose, 2025</caption>",
        "102000-Soins dentaires",
        "=HYPERLINK(&quot;x&quot;)&lt;b&gt;",
    ] {
        assert!(page.contains(part), "{part}: {page}");
    }
    assert!(!page.contains("<b>"), "{page}");
    assert!(!page.contains(" style="), "{page}");

    let csv = c
        .get(&c.instructeur, "/statistiques/export.csv?annee=2025")
        .ok(200);
    assert_eq!(
        csv.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert!(csv
        .header("content-disposition")
        .is_some_and(|v| v.contains("siseri-statistiques-2025.csv")));
    assert!(csv.body.starts_with(b"\xEF\xBB\xBF"));
    let text = csv.text();
    assert!(
        text.contains("par année;2025;France entière;2;0;0;1;0;1;26,500"),
        "{text}"
    );
    // Quoted for its quotes, marked as text for its `=`.
    assert!(text.contains(";\"'=HYPERLINK(\"\"x\"\")<b>\";"), "{text}");
    assert!(
        !text.contains(";=HYPERLINK") && !text.contains(";\"=HYPERLINK"),
        "{text}"
    );
    // No year given: the last one with results.
    let latest = c.get(&c.admin, "/statistiques").ok(200).text();
    assert!(latest.contains("Statistiques nationales 2025"), "{latest}");
}

#[test]
fn an_administrateur_sees_each_operators_certificates_and_withdrawals_and_an_instructeur_does_not()
{
    let c = console();
    let list = c.get(&c.admin, "/operateurs").ok(200).text();
    assert!(list.contains("href=\"/operateurs/2\""), "{list}");
    let page = c.get(&c.admin, "/operateurs/2").ok(200).text();
    for part in [
        "Opérateur n° 2 — Bruno Petit",
        "instructeur",
        "bruno@example.org",
        "en fonction",
        "retiré par son titulaire",
        "<caption>Liens de retrait envoyés</caption>",
        "utilisé",
        "Révoquer cet opérateur",
    ] {
        assert!(page.contains(part), "{part}: {page}");
    }
    // The certificate shown is the one the instructeur presents.
    let serial = common::serial_of(&c.instructeur.cert).to_uppercase();
    assert!(
        page.contains(serial.trim_start_matches('0')),
        "{serial}: {page}"
    );
    assert_eq!(c.get(&c.instructeur, "/operateurs/1").status, 403);
    assert_eq!(c.get(&c.admin, "/operateurs/99").status, 404);
}
