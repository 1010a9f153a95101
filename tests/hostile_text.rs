//! Issue 12, section 3: free text that cannot break documents, terminals or spreadsheets, tried
//! as an attacker would, against the real daemon (curl) and the real CLI.
//!
//! - the PASS API refuses a line break, an ANSI escape, a bidi override… in a free field, and a
//!   1.9 MB address, naming the field in French; a field at its maximum is signed and its
//!   Annexe 1 served;
//! - the CLI shows what an older database may hold escaped, and a closed pipe ends it quietly;
//! - the workers CSV export neutralises formulas and the import reads them back.

mod common;

use std::io::Read;
use std::process::Stdio;

use common::daemon::{curl, Daemon};
use common::enrolment::enrolled;
use common::fixtures::PROTOCOL;
use common::{run_ok, Sandbox};
use serde_json::{json, Value};
use store::text::is_forbidden;

fn seed() -> Value {
    serde_json::from_str(PROTOCOL).expect("the seed is JSON")
}

/// What `POST /api/v1/protocols` answers a refused protocol: 422 `invalid`, a French message
/// for `field` that does not repeat the value.
fn refused(d: &Daemon, protocol: &Value, field: &str, expect: &str, value: &str) {
    let r = d.json("POST", "/api/v1/protocols", None, protocol);
    let body = r.error(422, "invalid");
    let message = body["fields"][field]
        .as_str()
        .unwrap_or_else(|| panic!("no message for {field}: {body}"));
    assert!(message.contains(expect), "{field}: {message}");
    let shown = body.to_string();
    assert!(
        !shown.contains(value),
        "the refusal repeats the value: {shown}"
    );
    for c in ["\\r", "\\n", "\\u001b", "\u{202e}"] {
        assert!(!message.contains(c), "{message}");
    }
}

#[test]
fn line_breaks_escapes_and_bidi_controls_in_the_employer_name_are_refused_naming_the_field() {
    let d = Daemon::start(&[]);
    for (hostile, what) in [
        ("Cabinet DURAND\r\nN° SIRET : 00000000000000", "CR LF"),
        ("Cabinet DURAND\n\nEXPOSITION", "LF LF"),
        ("Cabinet DURAND \u{1b}[2J\u{1b}[31mROUGE", "ESC"),
        ("Cabinet DURAND \u{202e}TNEMERIVIR", "RLO"),
        ("Cabinet DURAND \u{2066}isolé\u{2069}", "LRI"),
        ("Cabinet DURAND\u{2028}bis", "LS"),
        ("Cabinet DURAND\u{0}", "NUL"),
        ("Cabinet\u{200b}DURAND", "ZWSP"),
    ] {
        let mut p = seed();
        p["employer"]["name"] = hostile.into();
        refused(
            &d,
            &p,
            "employer.name",
            "ne peut contenir ni retour à la ligne",
            "Cabinet DURAND",
        );
        let mut p = seed();
        p["physicians"][0]["address"]["town"] = hostile.into();
        let rest = hostile.replace("Cabinet", "").replace("DURAND", "");
        p["legal_representative"]["first_name"] = format!("Vincent{rest}").into();
        let body = d
            .json("POST", "/api/v1/protocols", None, &p)
            .error(422, "invalid");
        for field in [
            "physicians[0].address.town",
            "legal_representative.first_name",
        ] {
            assert!(body["fields"][field].is_string(), "{what} {field}: {body}");
        }
    }
    assert_eq!(d.sandbox.count("enroll_versions"), 0, "a draft was kept");
}

#[test]
fn a_1_9_mb_address_is_refused_and_stored_nowhere() {
    let d = Daemon::start(&[]);
    let mut p = seed();
    let huge = "8 avenue de la gloire ".repeat(1_900_000 / 22);
    p["employer"]["address"] = huge.clone().into();
    refused(
        &d,
        &p,
        "employer.address",
        "L'adresse postale ne doit pas dépasser 200 caractères.",
        "avenue de la gloire",
    );
    assert_eq!(d.sandbox.count("enroll_versions"), 0);

    // Nor through the replacement of an existing draft.
    let created = d
        .json("POST", "/api/v1/protocols", None, &seed())
        .ok(201)
        .json();
    let (id, token) = (
        created["id"].as_str().unwrap().to_owned(),
        created["draft_token"].as_str().unwrap().to_owned(),
    );
    let r = d.json("PUT", &format!("/api/v1/protocols/{id}"), Some(&token), &p);
    let body = r.error(422, "invalid");
    assert!(body["fields"]["employer.address"].is_string(), "{body}");
    let stored: i64 = d
        .sandbox
        .db()
        .query_row("SELECT max(length(input)) FROM enroll_versions", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(stored < 10_000, "{stored} bytes kept for a draft");
}

#[test]
fn every_field_at_its_maximum_is_signed_and_its_annexe_pdf_served() {
    let d = Daemon::start(&[]);
    let mut p = seed();
    // Non-ASCII, and what could pass for separators in the text: `:`, `|`, `=`, `;`.
    let fill = |n: usize| {
        "Éq: a|b=c;d "
            .chars()
            .cycle()
            .take(n - 1)
            .chain(['Z'])
            .collect::<String>()
    };
    p["employer"]["name"] = fill(150).into();
    p["employer"]["address"] = fill(200).into();
    p["employer"]["town"] = fill(100).into();
    p["employer"]["cedex"] = fill(40).into();
    p["legal_representative"]["last_name"] = "Éloïse-D'Œuf "
        .repeat(8)
        .chars()
        .take(100)
        .collect::<String>()
        .into();
    p["physicians"][0]["address"]["country"] = fill(60).into();
    p["physicians"][0]["address"]["postal_code"] = fill(16).into();
    let signed = d.sign(&p);
    let pdf = d.call(
        "GET",
        &format!("/api/v1/protocols/{}/annexe1.pdf", signed.id),
        Some(&signed.token),
        None,
    );
    assert_eq!(pdf.status, 200, "{}\n{}", pdf.text(), d.log());
    assert!(pdf.body.starts_with(b"%PDF-"));
    // And again: the stored text still matches its hash (the 500 of a text that did not read
    // back).
    let again = d.call(
        "GET",
        &format!("/api/v1/protocols/{}/annexe1.pdf", signed.id),
        Some(&signed.token),
        None,
    );
    assert_eq!(again.status, 200);
    // One character more is refused.
    p["employer"]["name"] = fill(151).into();
    refused(&d, &p, "employer.name", "150 caractères", "a|b=c");
}

/// A value an older database may hold: an ANSI escape that clears the screen and colours,
/// a forged line, NUL, BEL, a C1 CSI, a bidi override and isolate.
const HOSTILE: &str =
    "X\u{1b}[2J\u{1b}[31mROUGE\r\nFAUSSE LIGNE\u{0}\u{7}\u{9b}1m\u{202e}TNEMERIVIR\u{2066}Y";

/// The stdout of a command holds no character that could act on a terminal.
fn clean(what: &str, stdout: &[u8]) -> String {
    let text = String::from_utf8(stdout.to_vec()).unwrap_or_else(|e| panic!("{what}: {e}"));
    for c in text.chars() {
        assert!(
            c == '\n' || !is_forbidden(c),
            "{what}: raw {c:?} on stdout:\n{text}"
        );
    }
    for b in [0x1b, 0x0d, 0x00, 0x07] {
        assert!(!stdout.contains(&b), "{what}: byte {b:#x}");
    }
    text
}

/// A data directory with one approved protocol whose stored texts were then made hostile
/// directly in SQLite, as an older version could have kept them: (sandbox, habilitation of
/// the first person, protocol number).
fn hostile_database() -> (Sandbox, u32, String) {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[PROTOCOL]);
    let db = sb.db();
    db.execute_batch("DROP TRIGGER enroll_versions_signed_are_immutable")
        .expect("DROP TRIGGER failed");
    db.execute(
        "UPDATE enroll_versions SET
            input = json_set(input, '$.employer.name', ?1),
            annexe_text = replace(annexe_text, 'Cabinet dentaire', ?1),
            evidence = json_set(evidence, '$.user_agent', ?1),
            decided_by = ?1, reject_reason = ?1",
        [HOSTILE],
    )
    .expect("UPDATE failed");
    db.execute(
        "UPDATE enroll_accessors SET last_name = ?1, first_name = ?1, email = ?1",
        [HOSTILE],
    )
    .expect("UPDATE failed");
    db.execute(
        "UPDATE enroll_outbox SET subject = ?1 WHERE subject IS NOT NULL",
        [HOSTILE],
    )
    .expect("UPDATE failed");
    db.execute("UPDATE enroll_outbox SET last_error = ?1", [HOSTILE])
        .expect("UPDATE failed");
    let number: String = db
        .query_row("SELECT number FROM enroll_protocols", [], |r| r.get(0))
        .expect("UPDATE failed");
    (sb, holders[0].habilitation, number)
}

#[test]
fn the_cli_shows_stored_control_and_bidi_characters_escaped() {
    let (sb, hab, number) = hostile_database();
    let hab = hab.to_string();
    for args in [
        vec!["protocol", "list"],
        vec!["protocol", "show", &number],
        vec!["accessor", "list"],
        vec!["accessor", "show", &hab],
        vec!["outbox", "list"],
        vec!["outbox", "show", "1"],
    ] {
        let what = args.join(" ");
        let out = run_ok(&mut sb.siseri(&args));
        let text = clean(&what, &out.stdout);
        assert!(
            text.contains("\\u{1b}[2J") || text.contains("\\u001b[2J"),
            "{what}: the escape is not shown:\n{text}"
        );
        assert!(
            text.contains("\\u{202e}") || text.contains("\\u202e"),
            "{what}:\n{text}"
        );
    }
    // The JSON of the outbox stays JSON, with the same value.
    let out = run_ok(&mut sb.siseri(["outbox", "show", "1"]));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.to_string().contains("TNEMERIVIR"), "{v}");
}

/// Runs `siseri ARGS` with its stdout a pipe whose reader is already gone.
fn into_closed_pipe(sb: &Sandbox, args: &[&str]) -> (Option<i32>, String) {
    let mut child = sb
        .siseri(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn failed");
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut stderr)
        .expect("read_to_string failed");
    (child.wait().expect("wait failed").code(), stderr)
}

#[test]
fn a_closed_pipe_ends_the_cli_quietly_without_a_panic() {
    let (sb, hab, number) = hostile_database();
    let hab = hab.to_string();
    for args in [
        vec!["accessor", "show", &hab],
        vec!["accessor", "list"],
        vec!["protocol", "list"],
        vec!["protocol", "show", &number],
        vec!["outbox", "list"],
        vec!["audit", "verify"],
    ] {
        let (code, stderr) = into_closed_pipe(&sb, &args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    // As people type it.
    if let Some(sh) = ["/bin/sh", "/usr/bin/sh"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    {
        let cmd = sb.siseri(["accessor", "show", &hab]);
        let program = cmd.get_program().to_owned();
        let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
        let out = std::process::Command::new(sh)
            .arg("-c")
            .arg("\"$@\" 2>stderr.txt | head -1; cat stderr.txt")
            .arg("sh")
            .arg(program)
            .args(args)
            .env_clear()
            .envs(std::env::vars_os().filter(|(k, _)| !k.to_string_lossy().starts_with("SISERI_")))
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
            .current_dir(sb.path(""))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("N° habilitation SISERI"), "{text}");
        assert!(!text.contains("panicked"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}

#[test]
fn formula_cells_are_exported_as_text_and_imported_back_to_the_same_values() {
    let sb = Sandbox::initialised();
    let holders = enrolled(&sb, &[PROTOCOL]);
    let (_server, addr) = sb.serve_registry("serve.log");
    let cse = holders
        .iter()
        .find(|h| h.email.starts_with("v.durand"))
        .unwrap();
    let ca = sb.data_file("ca/ac-siseri.pem");
    let jar = sb.path("jar").display().to_string();
    let n = std::cell::Cell::new(0);
    let call = |method: &str, path: &str, body: Option<(&str, &[u8])>| {
        n.set(n.get() + 1);
        let extra = vec![
            "--cert".into(),
            format!("{}:{}", cse.p12.display(), cse.password),
            "--cert-type".into(),
            "P12".into(),
            "-b".into(),
            jar.clone(),
            "-c".into(),
            jar.clone(),
        ];
        let r = curl(
            &sb,
            &ca,
            n.get(),
            method,
            &format!("https://{addr}{path}"),
            &extra,
            body,
        );
        assert_eq!(r.exit, 0, "{}", r.stderr);
        r
    };
    let login = json!({"access_code": cse.access_code}).to_string();
    let r = call(
        "POST",
        "/api/v1/session",
        Some(("application/json", login.as_bytes())),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let e = call("GET", "/api/v1/establishments", None).json()[0]["id"]
        .as_i64()
        .unwrap();
    let base = format!("/api/v1/establishments/{e}");

    let payloads = [
        "=cmd|' /C calc'!A0",
        "@SUM(1)",
        "=HYPERLINK(\"http://x\",\"y\")",
        "+1+1",
        "-2+3",
    ];
    // The payloads in the free columns of one file; a name typed with a leading apostrophe
    // keeps it, one marked (`'-`) loses the mark.
    let mut csv = String::from("nom;autre_nom;prenom;autres_prenoms;nir;cle;date_naissance;fraction;categorie;metier;nuisance;type_contrat;quotite;caractere;domaine;secteur;numero_carte\n");
    let people = [
        ("DURAND", "1700367482001", "86"),
        ("MARTIN", "2550814168025", "38"),
        ("DIDIER", "2760912346445", "12"),
    ];
    let other_names = ["'t Hooft", "'-Anne", ""];
    for (i, (name, nir, key)) in people.iter().enumerate() {
        let p = payloads[i];
        let q = payloads[(i + 3) % payloads.len()];
        let cell = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
        csv.push_str(&format!(
            "{name};{o};Paul;;{nir};{key};;{f};;{j};{h};;;;{d};{s};\n",
            o = other_names[i],
            f = cell(q),
            j = cell(p),
            h = cell(q),
            d = cell(&format!("{p} {q}")),
            s = cell(&format!("'{p}")),
        ));
    }
    let r = call(
        "POST",
        &format!("{base}/workers/import"),
        Some(("text/csv", csv.as_bytes())),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let list = call("GET", &format!("{base}/workers"), None).json();
    let jobs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["job"].as_str())
        .collect();
    assert_eq!(jobs.len(), 3, "{list}");

    let exported = call("GET", &format!("{base}/workers.csv"), None);
    assert_eq!(exported.status, 200);
    let text = exported.text();
    // What a spreadsheet reads: no cell starts a formula.
    let mut reader = csv_cells(&text);
    for (line, cells) in reader.iter_mut().enumerate().skip(1) {
        for cell in cells.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "line {line}: a formula cell {cell:?}\n{text}"
            );
        }
    }
    assert!(text.contains("'=cmd|' /C calc'!A0"), "{text}");
    assert!(
        text.contains(";''t Hooft;"),
        "a leading apostrophe is doubled: {text}"
    );
    assert!(text.contains(";'-Anne;"), "{text}");
    let others: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["other_name"].as_str())
        .collect();
    assert!(
        others.contains(&"'t Hooft") && others.contains(&"-Anne"),
        "{list}"
    );

    // Imported back: every line identical to what is stored.
    let again = call(
        "POST",
        &format!("{base}/workers/import"),
        Some(("text/csv", &exported.body)),
    );
    assert_eq!(again.status, 200, "{}", again.text());
    let summary = again.json();
    assert_eq!(summary["unchanged"], 3, "{summary}");
    let second = call("GET", &format!("{base}/workers.csv"), None);
    assert_eq!(second.body, exported.body, "export → import → export");
}

/// The cells of a `;`-separated file, quotes removed (a minimal reader for the test, apart
/// from the registry's).
fn csv_cells(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.trim_start_matches('\u{feff}').lines() {
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    cell.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ';' if !quoted => cells.push(std::mem::take(&mut cell)),
                _ => cell.push(c),
            }
        }
        cells.push(cell);
        rows.push(cells);
    }
    rows
}
