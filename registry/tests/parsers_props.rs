//! Property tests of the registry's parsers of input from its users: the NIR (typed in two
//! fields, or whole) and the workers list's CSV lines, through the service and through the API
//! in-process. For every input: no panic; a refusal is a 4xx with French messages that do not
//! repeat the input (a NIR is personal data); an accepted NIR or line reads back the same.
//!
//! Short in CI; longer by hand: `PROPTEST_CASES=100000 cargo test -p registry --test parsers_props`.

#[path = "support.rs"]
mod support;

#[path = "../../enroll/tests/props_common/mod.rs"]
mod props_common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::Router;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestRunner};
use registry::directory::{
    AccessCodeState, Attachment, Directory, DirectoryError, Employer, Establishment, Holder, Person,
};
use registry::web::{ClientCert, RegistryState, Sessions};
use registry::{Nir, NirError, Role, CSV_HEADER};
use serde_json::Value;
use store::secrets::ServerKey;
use support::{cse, env, Env, EST, SEED_CSV};
use tower::ServiceExt;

use props_common::{apply, assert_clean_message, config, mutation, Mutation};

// ---------------------------------------------------------------------------------------------
// NIR

/// A valid NIR: sex, year, month (including the 20–42 and 50–99 of incomplete civil records),
/// département (Corsica and overseas included), commune, order; and its key.
fn valid_nir() -> impl Strategy<Value = (String, String)> {
    let month = prop_oneof![1..=12u8, 20..=42u8, 50..=99u8];
    let departement = prop_oneof![
        (1..=95u8).prop_map(|d| format!("{d:02}")),
        (97..=99u8).prop_map(|d| format!("{d}")),
        Just("2A".to_owned()),
        Just("2B".to_owned()),
    ];
    (
        1..=2u8,
        0..=99u8,
        month,
        departement,
        0..=999u16,
        1..=999u16,
    )
        .prop_map(|(sex, year, month, departement, commune, order)| {
            let number = format!("{sex}{year:02}{month:02}{departement}{commune:03}{order:03}");
            let numeric: u64 = number
                .replace("2A", "19")
                .replace("2B", "18")
                .parse()
                .expect("digits");
            (number, format!("{:02}", 97 - numeric % 97))
        })
}

fn check_nir_refusal(e: NirError, input: &str) -> Result<(), TestCaseError> {
    prop_assert!(e.code().starts_with("nir_"));
    assert_clean_message(&e.to_string(), input);
    Ok(())
}

/// The contract of the NIR parser for one input: no panic; a refusal is typed and clean; an
/// accepted NIR is 13 + 2 ASCII characters that read back the same, whole or in two fields,
/// and that `Debug` never shows.
fn check_nir(result: Result<Nir, NirError>, input: &str) -> Result<(), TestCaseError> {
    match result {
        Ok(nir) => {
            prop_assert_eq!(nir.as_str().len(), 13);
            prop_assert_eq!(nir.key().len(), 2);
            let whole = format!("{}{}", nir.as_str(), nir.key());
            prop_assert_eq!(Nir::parse_full(&whole).ok(), Some(nir.clone()));
            prop_assert_eq!(Nir::parse(nir.as_str(), nir.key()).ok(), Some(nir.clone()));
            let json = serde_json::to_string(&nir).expect("to_string failed");
            prop_assert_eq!(serde_json::from_str::<Nir>(&json).ok(), Some(nir.clone()));
            let debug = format!("{:?}", nir);
            prop_assert!(!debug.contains(nir.as_str()));
            prop_assert!(!nir.masked().contains(&nir.as_str()[1..]));
        }
        Err(e) => check_nir_refusal(e, input)?,
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512, file!()))]

    #[test]
    fn nir_parser_never_panics_and_reads_back(
        (number, key) in valid_nir(),
        on_number in mutation(),
        on_key in mutation(),
        on_whole in mutation(),
    ) {
        let valid = Nir::parse(&number, &key);
        prop_assert!(valid.is_ok(), "{} {} refused: {:?}", number, key, valid);
        check_nir(valid, &number)?;
        let spaced = format!("{} {} {} {} {} {} {}", &number[..1], &number[1..3], &number[3..5],
            &number[5..7], &number[7..10], &number[10..], key);
        prop_assert!(Nir::parse_full(&spaced).is_ok());

        let typed = apply(&number, &on_number);
        check_nir(Nir::parse(&typed, &apply(&key, &on_key)), &typed)?;
        let whole = apply(&format!("{number}{key}"), &on_whole);
        check_nir(Nir::parse_full(&whole), &whole)?;
    }
}

// ---------------------------------------------------------------------------------------------
// CSV lines, through the service

/// The seed's two data lines.
fn seed_lines() -> Vec<String> {
    SEED_CSV
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

/// What is done to the seed's file before it is imported.
#[derive(Debug, Clone)]
enum CsvEdit {
    /// One field of one line mutated, the line written back with `;` between fields.
    Field(Index, Index, Mutation),
    /// One byte of the file's text inserted, deleted or changed (quotes, separators, line ends,
    /// bytes that are not UTF-8).
    Byte(Index, u8, u8),
    /// The header mutated.
    Header(Mutation),
    /// Any bytes after the header.
    Anything(Vec<u8>),
}

fn csv_edit() -> impl Strategy<Value = CsvEdit> {
    let byte = prop_oneof![
        proptest::sample::select(b";\"\n\r\t\0=+-@,' \xff\xc3\xa9".to_vec()),
        any::<u8>()
    ];
    prop_oneof![
        6 => (any::<Index>(), any::<Index>(), mutation())
            .prop_map(|(l, f, m)| CsvEdit::Field(l, f, m)),
        3 => (any::<Index>(), byte, 0..3u8).prop_map(|(i, b, op)| CsvEdit::Byte(i, b, op)),
        1 => mutation().prop_map(CsvEdit::Header),
        1 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(CsvEdit::Anything),
    ]
}

/// The seed's file with `edit` applied, and the text put in a field (to check it is not echoed).
fn edited_csv(edit: &CsvEdit) -> (Vec<u8>, Option<String>) {
    let mut lines = seed_lines();
    let mut header = CSV_HEADER.to_owned();
    let mut typed = None;
    match edit {
        CsvEdit::Field(l, f, m) => {
            let line = l.index(lines.len());
            let mut fields: Vec<String> = lines[line].split(';').map(str::to_owned).collect();
            let at = f.index(fields.len());
            let original = fields[at].clone();
            fields[at] = apply(&original, m);
            // A part of a valid value ("on salarié" of "Non salarié") may be in a message that
            // names the valid values: only what the mutation added could be an echo.
            if !original.contains(fields[at].trim()) {
                typed = Some(fields[at].clone());
            }
            lines[line] = fields.join(";");
        }
        CsvEdit::Header(m) => header = apply(&header, m),
        CsvEdit::Byte(..) | CsvEdit::Anything(_) => {}
    }
    let mut file = format!("\u{feff}{header}\n{}\n", lines.join("\n")).into_bytes();
    match edit {
        CsvEdit::Byte(i, b, op) => {
            let at = i.index(file.len());
            match op {
                0 => file.insert(at, *b),
                1 => {
                    file.remove(at);
                }
                _ => file[at] = *b,
            }
        }
        CsvEdit::Anything(bytes) => {
            file = format!("{CSV_HEADER}\n").into_bytes();
            file.extend_from_slice(bytes);
        }
        _ => {}
    }
    (file, typed)
}

fn export(env: &Env) -> Vec<u8> {
    let mut out = Vec::new();
    env.registry
        .export_workers(&cse(), EST, &mut out)
        .expect("export_workers failed");
    out
}

#[test]
fn csv_import_never_panics_refuses_in_french_and_reads_back_what_it_accepts() {
    let env = env();
    let mut runner = TestRunner::new(config(96, file!()));
    let result = runner.run(&csv_edit(), |edit| {
        let (file, typed) = edited_csv(&edit);
        let typed = typed.unwrap_or_default();
        match env.registry.import_workers(&cse(), EST, file.as_slice()) {
            Ok(_) => {
                // Accepted: the list exports, and its export imports back to the same export.
                let first = export(&env);
                env.registry
                    .import_workers(&cse(), EST, first.as_slice())
                    .expect("the export imports back");
                prop_assert_eq!(export(&env), first);
            }
            Err(e) => {
                prop_assert!(
                    (400..500).contains(&e.status()),
                    "{} {:?} for {:?}",
                    e.status(),
                    e,
                    String::from_utf8_lossy(&file)
                );
                assert_clean_message(&e.to_string(), &typed);
                for line in e.report().map(|r| r.errors.clone()).unwrap_or_default() {
                    // The header's message quotes the expected header, not what was sent.
                    if line.line > 1 {
                        assert_clean_message(&line.message, &typed);
                    }
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Found by the property above: a fraction named only by a combining mark (or a hyphen) has no
/// search key, and its insert failed the database's check: a 500 for a typing matter.
#[test]
fn a_fraction_name_without_a_search_key_is_refused_not_an_internal_error() {
    let env = env();
    for name in ["\u{301}", "-", "' -"] {
        let line = seed_lines()[0].replacen(";;;;Assistant", &format!(";;{name};;Assistant"), 1);
        let file = format!("{CSV_HEADER}\n{line}\n");
        let e = env
            .registry
            .import_workers(&cse(), EST, file.as_bytes())
            .expect_err("refused");
        assert_eq!(
            (e.status(), e.code()),
            (422, "import_rejected"),
            "{name:?}: {e:?}"
        );
        let e = env
            .registry
            .create_fraction(&cse(), EST, name)
            .expect_err("refused");
        assert_eq!((e.status(), e.code()), (422, "invalid"), "{name:?}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// CSV import over the API, in-process

/// The enrollment side, answering as the seed's CSE for any certificate.
#[derive(Debug)]
struct OneCse;

impl Directory for OneCse {
    fn holder(&self, _: &[u8], _: &str) -> Result<Option<Holder>, DirectoryError> {
        Ok(Some(Holder::Person(Person {
            habilitation: 42001,
            display_name: "Vincent DURAND".into(),
            attachments: vec![Attachment {
                establishment: EST,
                role: Role::Cse,
                sends_dosimetry: false,
            }],
        })))
    }

    fn is_revoked(&self, _: &[u8]) -> bool {
        false
    }

    fn check_access_code(&self, _: u32, _: &str) -> Result<(), DirectoryError> {
        Ok(())
    }

    fn access_code_state(&self, _: u32) -> Result<AccessCodeState, DirectoryError> {
        Ok(AccessCodeState::Fresh)
    }

    fn establishment(&self, id: i64) -> Result<Option<Establishment>, DirectoryError> {
        Ok((id == EST).then(|| Establishment {
            id,
            number: "2026-000001".into(),
            key_name: "CABINET-DURAND".into(),
            employer: Employer::default(),
            accessors: vec![("Vincent DURAND".into(), Role::Cse)],
        }))
    }

    fn dosimetry_bodies(&self) -> Result<Vec<String>, DirectoryError> {
        Ok(Vec::new())
    }
}

struct Api {
    app: Router,
    runtime: tokio::runtime::Runtime,
    cookie: String,
}

fn certificate() -> ClientCert {
    ClientCert {
        serial: vec![1, 2, 3],
        not_after: i64::MAX,
        common_name: "42001".into(),
        subject: "CN=42001".into(),
    }
}

impl Api {
    fn new(env: &Env) -> Self {
        let app = registry::web::router(RegistryState {
            directory: Arc::new(OneCse),
            sessions: Arc::new(Sessions::default()),
            clock: env.clock.clone(),
            registry: env.registry.clone(),
            key: ServerKey::new(&[0u8; 32]),
            receipts: None,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut api = Self {
            app,
            runtime,
            cookie: String::new(),
        };
        let (status, headers, body) = api.send(
            Method::POST,
            "/api/v1/session",
            "application/json",
            br#"{"access_code":"9865"}"#.to_vec(),
        );
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let set = headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .expect("a session cookie");
        api.cookie = set.split(';').next().unwrap_or("").to_owned();
        api
    }

    fn send(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, axum::http::HeaderMap, Vec<u8>) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, content_type)
            .header(header::COOKIE, &self.cookie)
            .body(Body::from(body))
            .expect("request");
        request.extensions_mut().insert(certificate());
        self.runtime.block_on(async {
            let response = self.app.clone().oneshot(request).await.expect("infallible");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body")
                .to_vec();
            (status, headers, body)
        })
    }
}

#[test]
fn the_import_api_never_answers_5xx_and_refuses_with_its_documented_json() {
    let env = env();
    let api = Api::new(&env);
    let uri = format!("/api/v1/establishments/{EST}/workers/import");
    // The refusals an import may meet, by stable code.
    let documented = [
        "import_rejected",
        "import_interrupted",
        "import_line_too_long",
        "too_large",
        "invalid",
        "duplicate_nir",
        "duplicate_card",
        "duplicate_fraction",
    ];
    let mut runner = TestRunner::new(config(64, file!()));
    let result = runner.run(&csv_edit(), |edit| {
        let (file, typed) = edited_csv(&edit);
        let typed = typed.unwrap_or_default();
        let (status, headers, body) = api.send(Method::POST, &uri, "text/csv", file);
        let text = String::from_utf8_lossy(&body);
        prop_assert!(status < 500, "{} {}", status, text);
        if status >= 400 {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            prop_assert!(content_type.starts_with("application/json"), "{}", text);
            let json: Value = serde_json::from_slice(&body).expect("a JSON error body");
            let code = json["error"].as_str().expect("error is a string");
            prop_assert!(
                documented.contains(&code),
                "undocumented {}: {}",
                code,
                text
            );
            let message = json["message"].as_str().expect("message is a string");
            assert_clean_message(message, &typed);
            let fields = json["fields"].as_object().expect("fields is an object");
            for (where_, why) in fields {
                let why = why.as_str().expect("a string");
                if where_ != "ligne 1" {
                    prop_assert!(!why.chars().any(props_common::is_unprintable), "{}", why);
                    prop_assert!(
                        !props_common::echoes(why, &typed),
                        "{} repeats {:?}",
                        why,
                        typed
                    );
                }
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// The declared identity against the NIR (issue 15 §1)

proptest! {
    #![proptest_config(config(48, file!()))]

    /// The sex and the département of birth the NIR holds are accepted when declared; the other
    /// sex is a field error that does not echo the NIR, and nothing is recorded.
    #[test]
    fn a_declared_identity_is_checked_against_the_nir((number, key) in valid_nir()) {
        let nir = Nir::parse(&number, &key).expect("a valid NIR");
        let env = env();
        let departement = match nir.birth_departement() {
            "20" => "2A".to_owned(),
            d => d.to_owned(),
        };
        let mut line = support::worker("MARTIN", "Claude", &number, &key);
        line.sex = Some(if nir.is_male() { "F" } else { "M" }.into());
        line.birth_departement = Some(departement.clone());
        match env.registry.apply_worker(&cse(), EST, &line) {
            Err(registry::RegistryError::Invalid(fields)) => {
                prop_assert!(fields.contains_key("sex"), "{:?}", fields);
                prop_assert!(!fields.contains_key("birth_departement"), "{:?}", fields);
                prop_assert!(!fields["sex"].contains(&number));
            }
            other => prop_assert!(false, "the other sex was accepted: {:?}", other.map(|a| a.worker_id)),
        }
        line.sex = Some(if nir.is_male() { "M" } else { "F" }.into());
        prop_assert!(env.registry.apply_worker(&cse(), EST, &line).is_ok());
    }
}
