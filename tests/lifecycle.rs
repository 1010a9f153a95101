//! The access life cycle against the real binary: protocols signed through the JSON API of a
//! running daemon, decided with `siseri protocol …`, the e-mails of the file outbox read back
//! with Python's MIME parser, withdrawals over HTTPS with curl, judged by OpenSSL; and a bulk
//! approval killed with SIGKILL half-way, then resumed.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::daemon::Daemon;
use common::fixtures::{PDF, PNG, PROTOCOL};
use common::mail::mails_to;
use common::*;
use serde_json::{json, Value};

const DURAND: &str = "v.durand@cabinet-durand.example";
const MARTIN: &str = "c.martin@sst-alsace.example";
const DILLENSEGER: &str = "p.dillenseger@alara.example";
const WITHDRAWAL_SUBJECT: &str = "SISERI : retrait de votre certificat numérique personnel";
const ACCESS_CODE_SUBJECT: &str = "SISERI : votre mot de passe d'accès";

fn seed() -> Value {
    serde_json::from_str(PROTOCOL).expect("from_str failed")
}

fn write(dir: &Sandbox, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path(name);
    fs::write(&path, bytes).expect("write failed");
    path
}

fn path_arg(p: &Path) -> std::ffi::OsString {
    p.as_os_str().to_owned()
}

#[test]
fn approving_the_seeds_protocol_mails_three_people_whose_p12_is_withdrawn_once_over_https() {
    require_tool("python3");
    let site = Daemon::start(&[]);
    let signed = site.sign(&seed());
    let (pending, _) = site.siseri(&["protocol", "list", "--status", "signed"]);
    assert!(pending.contains(&signed.number), "{pending}");

    let (out, err) = site.siseri(&["protocol", "approve", &signed.number]);
    assert!(out.contains("3 certificat(s) émis"), "{out}");
    for line in [
        "[1/3] Vincent DURAND",
        "[2/3] Claire MARTIN",
        "[3/3] Pierre DILLENSEGER",
    ] {
        assert!(err.contains(line), "no progress line {line:?} in:\n{err}");
    }
    let (people, _) = site.siseri(&["accessor", "list"]);
    let habs: Vec<&str> = people
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(habs, ["42000", "42001", "42002"], "{people}");

    let mails = site.mails(6);
    assert_eq!(mails.len(), 6, "{mails:#?}");
    for to in [DURAND, MARTIN, DILLENSEGER] {
        let theirs = mails_to(&mails, to);
        let subjects: Vec<&str> = theirs.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(subjects, [WITHDRAWAL_SUBJECT, ACCESS_CODE_SUBJECT], "{to}");
        assert!(
            theirs[0].token.is_some() && theirs[0].code.is_some() && theirs[0].password.is_some()
        );
        let access = theirs[1].access_code.as_deref().unwrap();
        assert_eq!(access.len(), 4, "{}", theirs[1].body);
    }

    // DURAND takes the .p12, once.
    let durand = mails_to(&mails, DURAND)[0].clone();
    let page = format!("/retrait/{}", durand.token.as_deref().unwrap());
    let r = site.call("GET", &page, None, None).ok(200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let html = r.text();
    for french in [
        "Retrait de votre certificat SISERI",
        "Code de retrait",
        "Vincent DURAND",
        "42000",
    ] {
        assert!(html.contains(french), "{french:?} not in the page:\n{html}");
    }
    assert!(html.contains("lang=\"fr\""), "{html}");
    let code = durand.code.as_deref().unwrap();
    let wrong = if code == "AAAAAAAAA" {
        "BBBBBBBBB"
    } else {
        "AAAAAAAAA"
    };
    let r = site
        .json("POST", &page, None, &json!({ "code": wrong }))
        .ok(403);
    let v = r.json();
    assert_eq!(
        (v["error"].as_str(), v["attempts_left"].as_u64()),
        (Some("wrong_code"), Some(4))
    );
    assert!(v["message"].as_str().unwrap().contains("incorrect"), "{v}");

    let r = site
        .json("POST", &page, None, &json!({ "code": code }))
        .ok(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/x-pkcs12")
    );
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"42000.p12\"")
    );
    let p12 = write(&site.sandbox, "42000.p12", &r.body);
    let pkcs12 = [
        os("pkcs12"),
        os("-in"),
        path_arg(&p12),
        os("-passin"),
        os(&format!("pass:{}", durand.password.as_deref().unwrap())),
    ];
    openssl_ok(pkcs12.iter().chain([&os("-noout")]));
    let leaf = site.sandbox.path("42000.pem");
    let out = [os("-clcerts"), os("-nokeys"), os("-out"), path_arg(&leaf)];
    openssl_ok(pkcs12.iter().chain(&out));
    assert_eq!(subject_cn(&leaf), "Vincent DURAND 42000");
    let r = site
        .json("POST", &page, None, &json!({ "code": code }))
        .ok(410);
    assert_eq!(r.json()["error"], "gone");
    site.call("GET", &page, None, None).ok(410);

    // MARTIN brings her own key: a PEM chain that OpenSSL verifies, for her key.
    let martin = mails_to(&mails, MARTIN)[0].clone();
    let (csr, key) = (
        site.sandbox.path("martin.csr"),
        site.sandbox.path("martin.key"),
    );
    make_csr(
        &csr,
        &key,
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let r = site
        .json(
            "POST",
            &format!("/retrait/{}", martin.token.as_deref().unwrap()),
            None,
            &json!({ "code": martin.code, "csr": fs::read_to_string(&csr).unwrap() }),
        )
        .ok(200);
    let chain = write(&site.sandbox, "martin.chain.pem", &r.body);
    let martin_leaf = site.sandbox.path("martin.pem");
    openssl_ok([
        os("x509"),
        os("-in"),
        path_arg(&chain),
        os("-out"),
        path_arg(&martin_leaf),
    ]);
    let verified = openssl_ok([
        os("verify"),
        os("-CAfile"),
        path_arg(&site.ca),
        path_arg(&martin_leaf),
    ]);
    assert!(verified.contains(": OK"), "{verified}");
    assert_eq!(
        openssl_ok([
            os("x509"),
            os("-in"),
            path_arg(&martin_leaf),
            os("-noout"),
            os("-pubkey")
        ]),
        openssl_ok([os("pkey"), os("-in"), path_arg(&key), os("-pubout")])
    );
    assert_eq!(subject_cn(&martin_leaf), "Claire MARTIN 42001");

    let (shown, _) = site.siseri(&["accessor", "show", "42000"]);
    assert!(
        shown.contains("retiré par son titulaire") && shown.contains("utilisé"),
        "{shown}"
    );
    assert!(!shown.contains("fichier .p12 conservé"), "{shown}");
    site.audit_verifies();
}

#[test]
fn a_renewal_through_the_api_that_drops_the_pcr_puts_the_pcrs_certificate_in_the_served_crl() {
    require_tool("python3");
    let site = Daemon::start(&[]);
    let first = site.sign(&seed());
    site.siseri(&["protocol", "approve", &first.number]);
    let pcr_serials = site.serials(42002);
    assert_eq!(pcr_serials.len(), 1, "{pcr_serials:?}");
    let pcr_serial = &pcr_serials[0];
    let mails_before = site.mails(6).len();

    // Renewal: number + key name, then the protocol without its PCR; the documents are kept.
    let r = site
        .json(
            "POST",
            "/api/v1/protocols/renewal",
            None,
            &json!({"number": first.number, "key_name": first.key_name}),
        )
        .ok(201)
        .json();
    let id = r["id"].as_str().unwrap().to_owned();
    let token = r["draft_token"].as_str().unwrap().to_owned();
    let draft = site
        .call(
            "GET",
            &format!("/api/v1/protocols/{id}"),
            Some(&token),
            None,
        )
        .ok(200)
        .json();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["number"], first.number.as_str());
    assert_eq!(draft["protocol"]["pcrs"][0]["last_name"], "DILLENSEGER");
    assert_eq!(draft["documents"].as_array().unwrap().len(), 2, "{draft}");
    let mut without_pcr = seed();
    without_pcr["pcrs"] = json!([]);
    site.json(
        "PUT",
        &format!("/api/v1/protocols/{id}"),
        Some(&token),
        &without_pcr,
    )
    .ok(200);
    let renewal = site.sign_draft(&id, &token);
    assert_eq!(
        (
            renewal.number.as_str(),
            renewal.key_name.as_str(),
            renewal.version
        ),
        (first.number.as_str(), first.key_name.as_str(), 2)
    );
    assert_ne!(renewal.id, first.id);
    assert_ne!(renewal.token, first.token);

    // The operator sees what changes.
    let (shown, _) = site.siseri(&["protocol", "show", &first.number]);
    assert!(shown.contains("version 2"), "{shown}");
    let diff: Vec<&str> = shown
        .lines()
        .skip_while(|l| !l.starts_with("DIFFÉRENCES AVEC LA VERSION EN VIGUEUR"))
        .skip(1)
        .collect();
    assert!(
        diff.iter()
            .any(|l| l.starts_with("- ") && l.contains("DILLENSEGER Pierre")),
        "no removed line for the PCR in:\n{shown}"
    );
    assert!(
        diff.iter()
            .all(|l| l.starts_with("- ") || l.starts_with("+ ") || l.trim().is_empty()),
        "{shown}"
    );
    assert!(!diff.iter().any(|l| l.contains("MARTIN Claire")), "{shown}");

    let (out, _) = site.siseri(&["protocol", "approve", &first.number]);
    assert!(
        out.contains("1 rattachement(s) retiré(s), 1 certificat(s) révoqué(s)"),
        "{out}"
    );

    // The CRL of the certificate's shard, fetched over HTTPS as soon as the approval returns,
    // lists the PCR's certificate as affiliationChanged.
    let shard: i64 = site
        .sandbox
        .db()
        .query_row(
            "SELECT crl_shard FROM ca_certificates WHERE serial_hex = ?1",
            [pcr_serial.replace(':', "").to_uppercase()],
            |r| r.get(0),
        )
        .expect("the PCR's certificate has a CRL shard");
    let crl = site
        .call("GET", &format!("/pki/crl/{shard}.crl"), None, None)
        .ok(200);
    let crl_file = write(&site.sandbox, "served.crl", &crl.body);
    openssl_ok([
        os("crl"),
        os("-inform"),
        os("DER"),
        os("-in"),
        path_arg(&crl_file),
        os("-CAfile"),
        path_arg(&site.ca),
        os("-noout"),
    ]);
    let text = crl_text(&crl_file);
    let at = text
        .find(&format!("Serial Number: {pcr_serial}"))
        .unwrap_or_else(|| panic!("{pcr_serial} not in the served CRL:\n{text}"));
    let entry: String = text[at..].lines().take(5).collect::<Vec<_>>().join("\n");
    assert!(entry.contains("Affiliation Changed"), "{entry}");
    for kept in [42000, 42001] {
        for serial in site.serials(kept) {
            assert!(
                !text.contains(&serial),
                "{kept}'s {serial} must not be revoked"
            );
        }
    }
    let (shown, _) = site.siseri(&["accessor", "show", "42002"]);
    assert!(
        shown.contains("révoqué") && shown.contains("terminé"),
        "{shown}"
    );
    assert_eq!(
        site.mails(mails_before).len(),
        mails_before,
        "nobody is mailed"
    );
    site.audit_verifies();
}

#[test]
fn rejecting_a_protocol_mails_its_correspondents_the_reason() {
    require_tool("python3");
    let site = Daemon::start(&[]);
    let mut protocol = seed();
    protocol["correspondents"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "last_name": "SCHMITT", "first_name": "Léa", "email": "l.schmitt@cabinet-durand.example",
            "civility": "Mme", "birth_date": "04/04/1990", "birth_departement": "68"
        }));
    let signed = site.sign(&protocol);
    let reason = "L'extrait K-bis est illisible : merci d'en fournir un lisible.";
    let (out, _) = site.siseri(&["protocol", "reject", &signed.number, "--reason", reason]);
    assert!(out.contains("refusé"), "{out}");

    let mails = site.mails(2);
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["l.schmitt@cabinet-durand.example", DURAND]);
    for m in &mails {
        assert_eq!(
            m.subject,
            format!("SISERI : protocole d'accès n° {} refusé", signed.number)
        );
        assert!(m.body.contains(reason), "{}", m.body);
        assert!(m.body.contains(&signed.number), "{}", m.body);
    }
    let (rejected, _) = site.siseri(&["protocol", "list", "--status", "rejected"]);
    assert!(rejected.contains(&signed.number), "{rejected}");
    let (shown, _) = site.siseri(&["protocol", "show", &signed.number]);
    assert!(shown.contains(reason), "{shown}");
    let (code, stderr) =
        run_fail(&mut site.sandbox.siseri(["protocol", "approve", &signed.number]));
    assert_eq!(code, 1);
    one_line(&stderr);
    assert_eq!(site.sandbox.count("enroll_accessors"), 0);
    site.audit_verifies();
}

#[test]
fn protocol_documents_writes_both_uploaded_files_byte_identical() {
    let site = Daemon::start(&[]);
    let kbis = [
        PDF,
        b"% K-bis de la SELARL DURAND, page 1 sur 1\n".as_slice(),
    ]
    .concat();
    let mut identity = PNG.to_vec();
    identity.extend((0..=255u8).cycle().take(600));
    let signed = site.sign_with(&seed(), &kbis, &identity);

    let out_dir = site.sandbox.path("extraits");
    let (out, _) = site.siseri(&[
        "protocol",
        "documents",
        &signed.number,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let mut written: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for entry in fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        assert!(out.contains(path.to_str().unwrap()), "{out}");
        written.insert(
            path.file_name().unwrap().to_str().unwrap().to_owned(),
            fs::read(&path).unwrap(),
        );
    }
    assert_eq!(written.len(), 2, "{:?}", written.keys());
    let find = |ext: &str| {
        written
            .iter()
            .find(|(name, _)| name.ends_with(ext))
            .unwrap_or_else(|| panic!("no .{ext} file in {:?}", written.keys()))
            .1
    };
    assert!(find(".pdf") == &kbis, "the K-bis differs from the upload");
    assert!(
        find(".png") == &identity,
        "the identity card differs from the upload"
    );

    // `protocol show` gives the same documents by their hashes.
    let (shown, _) = site.siseri(&["protocol", "show", &signed.number]);
    for bytes in [&kbis, &identity] {
        let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes));
        assert!(shown.contains(&sha), "{sha} not in:\n{shown}");
    }
}

const NAMES: [(&str, &str); 30] = [
    ("ARNAUD", "Alice"),
    ("BERNARD", "Bruno"),
    ("CARON", "Chloé"),
    ("DUBOIS", "Denis"),
    ("ETIENNE", "Élodie"),
    ("FABRE", "Fabien"),
    ("GIRARD", "Gaëlle"),
    ("HENRY", "Hugo"),
    ("IMBERT", "Inès"),
    ("JOLY", "Jules"),
    ("KLEIN", "Karine"),
    ("LAMBERT", "Louis"),
    ("MOREL", "Manon"),
    ("NOEL", "Nicolas"),
    ("OLIVIER", "Océane"),
    ("PERRIN", "Paul"),
    ("QUENTIN", "Quitterie"),
    ("RENARD", "Romain"),
    ("SCHMITT", "Sarah"),
    ("TESSIER", "Thomas"),
    ("URBAIN", "Ursule"),
    ("VIDAL", "Victor"),
    ("WEBER", "Wendy"),
    ("XAVIER", "Xavier"),
    ("YVON", "Yasmine"),
    ("ZIMMER", "Zoé"),
    ("BLANC", "Benoît"),
    ("COLIN", "Camille"),
    ("DUMAS", "David"),
    ("FAURE", "Fanny"),
];

fn email_of(i: usize) -> String {
    format!("{}.{}@designes.example", i, NAMES[i].0.to_lowercase())
}

/// The seed's employer with 15 correspondents and 15 PCR, all new.
fn thirty() -> Value {
    let person = |i: usize| {
        json!({
            "last_name": NAMES[i].0,
            "first_name": NAMES[i].1,
            "email": email_of(i),
            "civility": if i.is_multiple_of(2) { "Mme" } else { "M" },
            "birth_date": format!("{:02}/{:02}/{}", 1 + i % 28, 1 + i % 12, 1960 + i),
            "birth_departement": "67",
        })
    };
    let mut protocol = seed();
    protocol["correspondents"] = (0..15).map(person).collect();
    protocol["physicians"] = json!([]);
    protocol["pcrs"] = (15..30)
        .map(|i| {
            let mut p = person(i);
            p["sends_dosimetry"] = json!(i % 2 == 0);
            p
        })
        .collect();
    protocol
}

fn scalar(db: &rusqlite::Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// What must hold whenever no approval is running, killed or not: every issued certificate has
/// its one pending withdrawal with its `.p12` and its two e-mails; the CA released nothing that
/// enrollment does not know.
fn assert_nothing_is_half_done(db: &rusqlite::Connection) {
    let mut stmt = db
        .prepare(
            "SELECT c.serial, a.habilitation, a.email FROM enroll_certificates c
             JOIN enroll_accessors a ON a.habilitation = c.habilitation WHERE c.state = 'issued'",
        )
        .expect("prepare failed");
    let issued: Vec<(Vec<u8>, u32, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query_map failed")
        .map(Result::unwrap)
        .collect();
    for (serial, hab, email) in &issued {
        let withdrawals: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM enroll_withdrawals
                 WHERE serial = ?1 AND status = 'pending' AND p12 IS NOT NULL AND code_hmac IS NOT NULL",
                [serial],
                |r| r.get(0),
            )
            .expect("query_row failed");
        assert_eq!(
            withdrawals, 1,
            "{hab}: issued without its pending withdrawal"
        );
        let mut stmt = db
            .prepare(
                "SELECT subject FROM enroll_outbox WHERE channel = 'mail' AND recipient = ?1
                 AND status IN ('pending', 'delivered') ORDER BY id",
            )
            .expect("prepare failed");
        let subjects: Vec<String> = stmt
            .query_map([email], |r| r.get(0))
            .expect("query_map failed")
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            subjects,
            [WITHDRAWAL_SUBJECT, ACCESS_CODE_SUBJECT],
            "{hab}: issued without its two e-mails"
        );
    }
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM ca_certificates c WHERE c.profile = 'person' AND c.status = 'issued'
             AND NOT EXISTS (SELECT 1 FROM enroll_certificates e WHERE e.serial = c.serial)"
        ),
        0,
        "the CA signed a certificate enrollment does not know"
    );
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM enroll_certificates e WHERE e.state IN ('issued', 'delivered')
             AND NOT EXISTS (SELECT 1 FROM ca_certificates c WHERE c.serial = e.serial AND c.status = 'issued')"
        ),
        0,
        "enrollment holds a certificate the CA never signed"
    );
}

#[test]
fn a_bulk_approval_killed_half_way_resumes_without_duplicates() {
    require_tool("python3");
    let mut site = Daemon::start(&[]);
    let signed = site.sign(&thirty());
    site.stop();

    let mut approve = site.sandbox.siseri(["protocol", "approve", &signed.number]);
    approve
        .env("SISERI_ISSUANCE_P12_ITERATIONS", "2048")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = approve.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut progress = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if line.starts_with('[') && line.contains("/30] ") {
            progress.push(line);
            if progress.len() == 10 {
                child.kill().unwrap();
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the approval ended before it was killed ({status}); progress: {progress:#?}"
    );
    assert_eq!(progress.len(), 10, "{progress:#?}");
    assert_eq!(
        progress[9],
        format!("[10/30] {} {}", NAMES[9].1, NAMES[9].0),
        "{progress:#?}"
    );

    {
        let db = site.sandbox.db();
        assert_nothing_is_half_done(&db);
        let issued = scalar(
            &db,
            "SELECT COUNT(*) FROM enroll_certificates WHERE state = 'issued'",
        );
        assert!(
            (9..30).contains(&issued),
            "killed half-way, yet {issued} issued"
        );
        assert_eq!(
            scalar(
                &db,
                "SELECT COUNT(*) FROM enroll_versions WHERE status = 'signed'"
            ),
            1,
            "the version stays to be decided"
        );
    }

    let (out, err) = site.siseri(&["protocol", "approve", &signed.number]);
    assert!(out.contains("validé"), "{out}");
    assert!(err.contains("[30/30] Fanny FAURE"), "{err}");

    let db = site.sandbox.db();
    assert_nothing_is_half_done(&db);
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM enroll_accessors"), 30);
    assert_eq!(
        (
            scalar(&db, "SELECT MIN(habilitation) FROM enroll_accessors"),
            scalar(&db, "SELECT MAX(habilitation) FROM enroll_accessors"),
        ),
        (42000, 42029),
        "habilitation numbers in sequence, none lost to the kill"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM enroll_attachments WHERE ended_at IS NULL"
        ),
        30
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM enroll_certificates WHERE state = 'issued'"
        ),
        30
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(DISTINCT habilitation) FROM enroll_certificates WHERE state = 'issued'"
        ),
        30
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM ca_certificates WHERE profile = 'person' AND status = 'issued'"
        ),
        30
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM enroll_withdrawals WHERE status = 'pending'"
        ),
        30,
        "one pending withdrawal each, not 31"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM enroll_access_codes WHERE status = 'active'"
        ),
        30
    );
    assert!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM enroll_certificates WHERE state = 'preparing'"
        ) == 0,
        "a certificate left half-made"
    );
    assert_eq!(
        scalar(
            &db,
            "SELECT COUNT(*) FROM enroll_versions WHERE status = 'approved'"
        ),
        1
    );
    drop(db);

    // Each person: exactly one withdrawal e-mail and one access-code e-mail in the file outbox.
    let mails = site.mails(60);
    assert_eq!(
        mails.len(),
        60,
        "{:#?}",
        mails
            .iter()
            .map(|m| (&m.to, &m.subject))
            .collect::<Vec<_>>()
    );
    let mut links = Vec::new();
    for i in 0..30 {
        let theirs = mails_to(&mails, &email_of(i));
        let subjects: Vec<&str> = theirs.iter().map(|m| m.subject.as_str()).collect();
        assert_eq!(
            subjects,
            [WITHDRAWAL_SUBJECT, ACCESS_CODE_SUBJECT],
            "{}",
            email_of(i)
        );
        links.push(theirs[0].clone());
    }

    // …and every withdrawal e-mail works.
    site.restart();
    for link in &links {
        let page = site
            .call(
                "GET",
                &format!("/retrait/{}", link.token.as_deref().unwrap()),
                None,
                None,
            )
            .ok(200)
            .text();
        assert!(page.contains("Code de retrait"), "{page}");
    }
    for (i, link) in [(0, &links[0]), (29, &links[29])] {
        let r = site
            .json(
                "POST",
                &format!("/retrait/{}", link.token.as_deref().unwrap()),
                None,
                &json!({ "code": link.code }),
            )
            .ok(200);
        let p12 = write(&site.sandbox, &format!("{i}.p12"), &r.body);
        openssl_ok([
            os("pkcs12"),
            os("-in"),
            path_arg(&p12),
            os("-passin"),
            os(&format!("pass:{}", link.password.as_deref().unwrap())),
            os("-noout"),
        ]);
    }
    site.audit_verifies();
}
