//! Property tests of the parsers of public input on the PASS side: the values typed in the
//! wizard or sent to the JSON API (SIRET, phone, e-mail, names, dates, …), the protocol JSON,
//! the Annexe 1 text, and the API itself driven in-process. For every input: no panic; a
//! refusal is a typed error whose French message does not repeat the input; an accepted value
//! reads back the same from its canonical form; over HTTP, never a 5xx, and every refusal is
//! the documented `{"error", "message", "fields"}` with a message from our catalogue.
//!
//! Short in CI; longer by hand: `PROPTEST_CASES=100000 cargo test -p enroll --test parsers_props`
//! (see `props_common`).

use std::fmt::Debug;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::Router;
use enroll::pass::{Pass, PassConfig, PassError};
use enroll::protocol::{Annexe, Protocol, ProtocolInput};
use enroll::web::PublicState;
use enroll::{
    Civility, Departement, DomainError, Email, FrenchDate, HabilitationNumber, MobileNumber,
    PersonName, PhoneNumber, PostalCode, Siret,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::Value;
use store::pool::Pool;
use store::secrets::ServerKey;
use store::FakeClock;
use tempfile::TempDir;
use time::macros::datetime;
use tower::ServiceExt;

mod props_common;
use props_common::{apply, assert_clean_message, config, mutation, near, Mutation};

#[path = "data/fixtures.rs"]
mod fixtures;

// ---------------------------------------------------------------------------------------------
// Valid values

/// A SIRET whose Luhn key is right: 13 random digits and the 14th that completes the key.
fn valid_siret() -> impl Strategy<Value = String> {
    "[0-9]{13}".prop_map(|body| {
        (0..10)
            .map(|d| format!("{body}{d}"))
            .find(|s| luhn(s) && !s.starts_with("356000000"))
            .unwrap_or_else(|| "73282932000074".to_owned())
    })
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            match (i % 2 == 1, d * 2) {
                (true, x) if x > 9 => x - 9,
                (true, x) => x,
                (false, _) => d,
            }
        })
        .sum();
    sum % 10 == 0
}

/// A French number as people type it: 0 then 9 digits, grouped or not.
fn valid_french_phone() -> impl Strategy<Value = String> {
    ("[1-9]", "[0-9]{8}", 0..4usize).prop_map(|(first, rest, style)| {
        let digits = format!("0{first}{rest}");
        match style {
            0 => digits,
            1 => pairs(&digits, " "),
            2 => pairs(&digits, "."),
            _ => format!("+33 {first} {}", pairs(&rest, " ")),
        }
    })
}

fn pairs(digits: &str, separator: &str) -> String {
    let chunks: Vec<String> = digits
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    chunks.join(separator)
}

/// A foreign number in E.164 (not `+33`).
fn valid_foreign_phone() -> impl Strategy<Value = String> {
    "\\+[1-9][0-9]{7,14}".prop_filter("French", |s| !s.starts_with("+33"))
}

/// An ordinary address that any sensible rule set accepts.
fn valid_email() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,10}([._+-][a-z0-9]{1,8})?@[a-z][a-z0-9]{0,10}\\.(fr|com|example|gouv\\.fr)"
}

fn valid_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z][a-z]{1,12}",
        "[A-Z]{2,12}",
        proptest::sample::select(vec![
            "Hélène",
            "MUÑOZ",
            "Œdipe",
            "O'NEILL",
            "Jean-Pierre",
            "DE LA TOUR",
            "Ægir",
            "Zoë",
        ])
        .prop_map(str::to_owned),
    ]
}

fn valid_date() -> impl Strategy<Value = String> {
    (1..=28u8, 1..=12u8, 1920..=2005u16).prop_map(|(d, m, y)| format!("{d:02}/{m:02}/{y}"))
}

fn valid_departement() -> impl Strategy<Value = String> {
    prop_oneof![
        (1..=95u8)
            .prop_filter("Corsica", |d| *d != 20)
            .prop_map(|d| format!("{d:02}")),
        proptest::sample::select(vec!["2A", "2B", "971", "974", "976", "99"])
            .prop_map(str::to_owned),
    ]
}

// ---------------------------------------------------------------------------------------------
// Domain values: one property for all

/// The contract of a domain value's parser, for one (possibly hostile) input: no panic; a
/// refusal has a stable code and a clean French message; an accepted value is canonical (its
/// `Display` parses back to itself).
fn check_value<T: std::fmt::Display + PartialEq + Debug>(
    parse: impl Fn(&str) -> Result<T, DomainError>,
    input: &str,
) -> Result<(), TestCaseError> {
    match parse(input) {
        Ok(value) => {
            let shown = value.to_string();
            let again = parse(&shown);
            prop_assert_eq!(again.as_ref(), Ok(&value), "{:?} → {:?}", input, shown);
        }
        Err(e) => {
            prop_assert!(!e.code().is_empty());
            assert_clean_message(&e.to_string(), input);
        }
    }
    Ok(())
}

/// A valid value is accepted, and reads back the same from what it displays.
fn check_valid<T: std::fmt::Display + PartialEq + Debug>(
    parse: impl Fn(&str) -> Result<T, DomainError>,
    input: &str,
) -> Result<(), TestCaseError> {
    let value = parse(input);
    prop_assert!(value.is_ok(), "{:?} refused: {:?}", input, value);
    check_value(parse, input)
}

proptest! {
    #![proptest_config(config(256, file!()))]

    #[test]
    fn siret_parser_never_panics_and_reads_back(valid in valid_siret(), m in mutation()) {
        check_valid(Siret::parse, &valid)?;
        check_value(Siret::parse, &apply(&valid, &m))?;
    }

    #[test]
    fn phone_parser_never_panics_and_reads_back(
        french in valid_french_phone(),
        foreign in valid_foreign_phone(),
        m in mutation(),
        flag in any::<bool>(),
    ) {
        check_valid(|s| PhoneNumber::parse(s, false), &french)?;
        check_valid(|s| PhoneNumber::parse(s, true), &foreign)?;
        for input in [apply(&french, &m), apply(&foreign, &m)] {
            check_value(|s| PhoneNumber::parse(s, flag), &input)?;
            check_value(|s| MobileNumber::parse(s, flag), &input)?;
            if let Ok(phone) = PhoneNumber::parse(&input, flag) {
                // The masked form (pages, logs) hides the middle of the number.
                let masked = phone.masked();
                let e164 = phone.e164();
                prop_assert!(!masked.contains(&e164[3..e164.len() - 2]), "{}", masked);
            }
        }
    }

    #[test]
    fn email_parser_never_panics_and_reads_back(valid in valid_email(), m in mutation()) {
        check_valid(Email::parse, &valid)?;
        let input = apply(&valid, &m);
        check_value(Email::parse, &input)?;
        if let Ok(email) = Email::parse(&input) {
            // What the mail transport is handed: never a line end or a space.
            prop_assert!(!email.as_str().chars().any(|c| c.is_whitespace() || c.is_control()));
        }
    }

    #[test]
    fn the_other_typed_values_never_panic_and_read_back(
        name in valid_name(),
        date in valid_date(),
        departement in valid_departement(),
        habilitation in 1..=999_999_999u32,
        postal in "[0-9]{5}",
        civility in proptest::sample::select(vec!["M", "M.", "Mme"]),
        m in mutation(),
    ) {
        check_valid(PersonName::parse, &name)?;
        check_value(PersonName::parse, &apply(&name, &m))?;
        check_valid(FrenchDate::parse, &date)?;
        check_value(FrenchDate::parse, &apply(&date, &m))?;
        check_valid(Departement::parse, &departement)?;
        check_value(Departement::parse, &apply(&departement, &m))?;
        let habilitation = habilitation.to_string();
        check_valid(HabilitationNumber::parse, &habilitation)?;
        check_value(HabilitationNumber::parse, &apply(&habilitation, &m))?;
        check_valid(PostalCode::parse, &postal)?;
        check_value(PostalCode::parse, &apply(&postal, &m))?;
        check_valid(Civility::parse, civility)?;
        check_value(Civility::parse, &apply(civility, &m))?;
    }
}

// ---------------------------------------------------------------------------------------------
// The protocol JSON

fn seed() -> Value {
    serde_json::from_str(fixtures::PROTOCOL).expect("the seed's protocol is JSON")
}

/// JSON pointers to every string and null leaf of `v`: the fields a client fills in.
fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
        Value::Array(list) => list
            .iter()
            .enumerate()
            .for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
        Value::String(_) | Value::Null => out.push(at),
        Value::Bool(_) | Value::Number(_) => {}
    }
}

/// What is done to the seed's protocol before it is sent.
#[derive(Debug, Clone)]
enum Edit {
    /// One field's text mutated.
    Field(Index, Mutation),
    /// One field removed.
    Remove(Index),
    /// One field given a value of another JSON type.
    Retype(Index, Value),
    /// An unknown field added somewhere.
    Unknown(Index, String),
    /// A list of people grown to this many copies.
    Crowd(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let other_type = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        Just(serde_json::json!([])),
        Just(serde_json::json!({})),
        Just(serde_json::json!(["a", 1])),
    ];
    prop_oneof![
        8 => (any::<Index>(), mutation()).prop_map(|(i, m)| Edit::Field(i, m)),
        1 => any::<Index>().prop_map(Edit::Remove),
        2 => (any::<Index>(), other_type).prop_map(|(i, v)| Edit::Retype(i, v)),
        1 => (any::<Index>(), "[a-z_]{1,12}").prop_map(|(i, k)| Edit::Unknown(i, k)),
        1 => prop_oneof![Just(0usize), Just(40), Just(300)].prop_map(Edit::Crowd),
    ]
}

/// The seed with `edit` applied, and the text it put in a field (to check it is not echoed).
fn edited(edit: &Edit) -> (Value, Option<String>) {
    let mut v = seed();
    let mut paths = Vec::new();
    leaves(&v, String::new(), &mut paths);
    let parent = |p: &str| {
        p.rsplit_once('/')
            .map_or(String::new(), |(a, _)| a.to_owned())
    };
    let mut put = None;
    match edit {
        Edit::Field(i, m) => {
            let path = i.get(paths.as_slice()).as_str();
            if let Some(slot) = v.pointer_mut(path) {
                let old = slot.as_str().unwrap_or("").to_owned();
                let new = apply(&old, m);
                put = Some(new.clone());
                *slot = Value::String(new);
            }
        }
        Edit::Remove(i) => {
            let path = i.get(paths.as_slice()).as_str();
            let (up, key) = path.rsplit_once('/').unwrap_or(("", ""));
            if let Some(Value::Object(map)) = v.pointer_mut(up) {
                map.remove(key);
            }
        }
        Edit::Retype(i, value) => {
            if let Some(slot) = v.pointer_mut(i.get(paths.as_slice()).as_str()) {
                *slot = value.clone();
            }
        }
        Edit::Unknown(i, key) => {
            if let Some(Value::Object(map)) =
                v.pointer_mut(&parent(i.get(paths.as_slice()).as_str()))
            {
                map.insert(key.clone(), Value::from("x"));
            }
        }
        Edit::Crowd(n) => {
            if let Some(Value::Array(list)) = v.pointer_mut("/correspondents") {
                let one = list[0].clone();
                *list = vec![one; *n];
            }
        }
    }
    (v, put)
}

/// The contract of `Protocol::parse` for one input: no panic; refusals are per field, in
/// French, without the typed text.
fn check_protocol(input: &ProtocolInput, typed: Option<&str>) -> Result<(), TestCaseError> {
    match Protocol::parse(input) {
        Ok(protocol) => {
            // Accepted: the Annexe 1 can be written (its round trip is `annexe_props`'s).
            let annexe = Annexe::of(&protocol, None);
            prop_assert!(!annexe.text().is_empty());
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            for (path, message) in &errors.0 {
                prop_assert!(!path.is_empty());
                assert_clean_message(message, typed.unwrap_or(""));
            }
        }
    }
    Ok(())
}

/// The seed with valid values of every kind in its fields: always accepted.
fn valid_protocol() -> impl Strategy<Value = Value> {
    (
        valid_siret(),
        valid_french_phone(),
        (valid_name(), valid_name()),
        (valid_email(), valid_email(), valid_email()),
        (valid_date(), valid_departement()),
        "0[67][0-9]{8}",
    )
        .prop_map(
            |(siret, phone, (last, first), (e1, e2, e3), (date, departement), mobile)| {
                let mut v = seed();
                v["employer"]["siret"] = siret.into();
                v["employer"]["phone"] = phone.into();
                v["legal_representative"]["mobile"] = mobile.into();
                v["correspondents"][0]["last_name"] = last.clone().into();
                v["correspondents"][0]["first_name"] = first.into();
                v["correspondents"][0]["email"] = e1.into();
                v["physicians"][0]["email"] = e2.into();
                v["pcrs"][0]["email"] = e3.into();
                v["pcrs"][0]["last_name"] = last.into();
                v["pcrs"][0]["birth_date"] = date.into();
                v["pcrs"][0]["birth_departement"] = departement.into();
                v
            },
        )
}

proptest! {
    #![proptest_config(config(128, file!()))]

    #[test]
    fn a_valid_protocol_is_accepted_and_reads_back_from_its_json(json in valid_protocol()) {
        let input: ProtocolInput = serde_json::from_value(json).expect("valid protocol JSON");
        let protocol = Protocol::parse(&input);
        prop_assert!(protocol.is_ok(), "{:?}", protocol);
        let again: ProtocolInput =
            serde_json::from_str(&serde_json::to_string(&input).expect("to_string failed"))
                .expect("its own JSON reads back");
        prop_assert_eq!(&again, &input);
        prop_assert_eq!(Protocol::parse(&again).ok(), protocol.ok());
    }

    #[test]
    fn protocol_json_parsing_never_panics_and_refuses_in_french(e in edit()) {
        let (json, typed) = edited(&e);
        let text = serde_json::to_string(&json).expect("to_string failed");
        match serde_json::from_str::<ProtocolInput>(&text) {
            Ok(input) => check_protocol(&input, typed.as_deref())?,
            Err(error) => prop_assert!(error.is_data() || error.is_syntax(), "{}", error),
        }
    }

    #[test]
    fn protocol_json_bytes_never_panic(bytes in json_bytes()) {
        if let Ok(input) = serde_json::from_slice::<ProtocolInput>(&bytes) {
            check_protocol(&input, None)?;
        }
    }

    #[test]
    fn annexe_text_parser_never_panics(text in annexe_text()) {
        let annexe = Annexe::from_text(&text);
        // Whatever was read writes out without panicking too.
        let _ = annexe.text();
        let _ = annexe.sha256();
    }
}

/// The seed's JSON text with one byte inserted, deleted or changed, cut short, or any bytes.
fn json_bytes() -> impl Strategy<Value = Vec<u8>> {
    let text = fixtures::PROTOCOL.as_bytes().to_vec();
    let len = text.len();
    prop_oneof![
        4 => (any::<Index>(), any::<u8>(), 0..3u8).prop_map(move |(i, b, op)| {
            let mut t = text.clone();
            let at = i.index(len);
            match op {
                0 => t.insert(at, b),
                1 => { t.remove(at); }
                _ => t[at] = b,
            }
            t
        }),
        1 => (0..len).prop_map(|n| fixtures::PROTOCOL.as_bytes()[..n].to_vec()),
        1 => proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

/// The seed's Annexe 1 text with a mutation, or any text.
fn annexe_text() -> impl Strategy<Value = String> {
    let input: ProtocolInput = serde_json::from_str(fixtures::PROTOCOL).expect("seed");
    let protocol = Protocol::parse(&input).expect("the seed is valid");
    let text = Annexe::of(&protocol, Some("2026-000001")).text();
    prop_oneof![
        4 => near(Just(text)),
        1 => "\\PC{0,300}|(.|\n){0,300}",
    ]
}

// ---------------------------------------------------------------------------------------------
// The JSON API, in-process

struct Site {
    _dir: TempDir,
    app: Router,
    runtime: tokio::runtime::Runtime,
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    Site {
        _dir: dir,
        app,
        runtime,
    }
}

struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

impl Site {
    fn send(&self, method: Method, uri: &str, token: Option<&str>, body: Vec<u8>) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request.body(Body::from(body)).expect("request");
        self.runtime.block_on(async {
            let response = self.app.clone().oneshot(request).await.expect("infallible");
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body")
                .to_vec();
            Answer {
                status,
                content_type,
                body,
            }
        })
    }
}

/// The API's refusals: each stable code with its status and its message (a prefix, for those
/// that carry a number). A code outside this list is a refusal nobody documented.
fn catalogue() -> Vec<(&'static str, u16, String)> {
    let mut list: Vec<(&'static str, u16, String)> = [
        PassError::NotFound,
        PassError::BadToken,
        PassError::NotDraft,
        PassError::Invalid(Default::default()),
        PassError::ConsentRequired,
        PassError::DocumentType,
        PassError::NoPendingCode,
        PassError::CodeExpired,
        PassError::CodeVoided,
        PassError::CodeLocked,
        PassError::RenewalRefused,
        PassError::NothingInForce,
    ]
    .iter()
    .map(|e| (e.code(), e.status(), e.to_string()))
    .collect();
    for e in [
        PassError::TooManyRequests {
            retry_after_minutes: 0,
        },
        PassError::WrongCode { attempts_left: 0 },
        PassError::DocumentTooLarge { max_mib: 0 },
        PassError::MissingDocuments(String::new()),
    ] {
        let text = e.to_string();
        let prefix = text.split(['0', ':', '(']).next().unwrap_or("").to_owned();
        list.push((e.code(), e.status(), prefix));
    }
    list.push((
        "bad_request",
        400,
        "Corps JSON illisible ou champ inconnu (ligne ".to_owned(),
    ));
    list
}

/// The contract of every API answer to hostile input: never a 5xx; a refusal is the documented
/// JSON with a code and message from [`catalogue`], and field messages that are clean French
/// sentences without the typed text.
fn check_answer(
    answer: &Answer,
    typed: Option<&str>,
    catalogue: &[(&'static str, u16, String)],
) -> Result<(), TestCaseError> {
    let body = String::from_utf8_lossy(&answer.body);
    prop_assert!(answer.status < 500, "{} {}", answer.status, body);
    if answer.status < 400 {
        return Ok(());
    }
    prop_assert!(
        answer.content_type.starts_with("application/json"),
        "{} {:?}: {}",
        answer.status,
        answer.content_type,
        body
    );
    let json: Value = serde_json::from_slice(&answer.body).expect("a JSON error body");
    let object = json.as_object().expect("an object");
    for key in ["error", "message", "fields"] {
        prop_assert!(object.contains_key(key), "no {} in {}", key, body);
    }
    let code = json["error"].as_str().expect("error is a string");
    let message = json["message"].as_str().expect("message is a string");
    let known = catalogue
        .iter()
        .find(|(c, _, _)| *c == code)
        .unwrap_or_else(|| panic!("undocumented error code {code:?}: {body}"));
    prop_assert_eq!(known.1, answer.status, "{}", body);
    prop_assert!(
        message.starts_with(known.2.as_str()),
        "{:?} is not the catalogue's {:?}",
        message,
        known.2
    );
    assert_clean_message(message, typed.unwrap_or(""));
    let fields = json["fields"].as_object().expect("fields is an object");
    if code == "invalid" {
        prop_assert!(!fields.is_empty(), "{}", body);
    }
    for (path, field_message) in fields {
        prop_assert!(!path.is_empty());
        let text = field_message.as_str().expect("a field message is a string");
        assert_clean_message(text, typed.unwrap_or(""));
    }
    Ok(())
}

/// What a hostile client sends to the API.
#[derive(Debug, Clone)]
enum Attack {
    /// `POST /api/v1/protocols` with the seed edited.
    Create(Edit),
    /// `POST /api/v1/protocols` with bytes near the seed's JSON.
    CreateBytes(Vec<u8>),
    /// `PUT` on an open draft, its token given, with the seed edited.
    Replace(Edit),
    /// `POST /api/v1/protocols/renewal` with a mutated number and key name.
    Renewal(String, String),
    /// `POST …/signature` on an open draft with a mutated code.
    Sign(String),
    /// A request on a mutated draft id, without token.
    OtherDraft(String),
}

fn attack() -> impl Strategy<Value = Attack> {
    prop_oneof![
        4 => edit().prop_map(Attack::Create),
        2 => json_bytes().prop_map(Attack::CreateBytes),
        3 => edit().prop_map(Attack::Replace),
        1 => (near(Just("2026-000001".to_owned())), near(Just("DURAND-CABINET-42".to_owned())))
            .prop_map(|(n, k)| Attack::Renewal(n, k)),
        1 => near(Just("123456".to_owned())).prop_map(Attack::Sign),
        1 => near(Just("d-0123456789abcdef".to_owned())).prop_map(Attack::OtherDraft),
    ]
}

#[test]
fn the_api_never_answers_5xx_and_refuses_with_its_documented_json() {
    let site = site();
    let catalogue = catalogue();
    let created = site.send(
        Method::POST,
        "/api/v1/protocols",
        None,
        fixtures::PROTOCOL.as_bytes().to_vec(),
    );
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let draft: Value = serde_json::from_slice(&created.body).expect("JSON");
    let id = draft["id"].as_str().expect("id").to_owned();
    let token = draft["draft_token"].as_str().expect("token").to_owned();
    let path = format!("/api/v1/protocols/{id}");

    let mut runner = TestRunner::new(config(160, file!()));
    let result = runner.run(&attack(), |attack| {
        let json = |e: &Edit| {
            let (v, typed) = edited(e);
            (serde_json::to_vec(&v).expect("to_vec failed"), typed)
        };
        let (answer, typed) = match &attack {
            Attack::Create(e) => {
                let (body, typed) = json(e);
                (
                    site.send(Method::POST, "/api/v1/protocols", None, body),
                    typed,
                )
            }
            Attack::CreateBytes(bytes) => (
                site.send(Method::POST, "/api/v1/protocols", None, bytes.clone()),
                None,
            ),
            Attack::Replace(e) => {
                let (body, typed) = json(e);
                (site.send(Method::PUT, &path, Some(&token), body), typed)
            }
            Attack::Renewal(number, key_name) => {
                let body = serde_json::json!({"number": number, "key_name": key_name});
                let body = serde_json::to_vec(&body).expect("to_vec failed");
                let answer = site.send(Method::POST, "/api/v1/protocols/renewal", None, body);
                (answer, Some(number.clone()))
            }
            Attack::Sign(code) => {
                let body = serde_json::to_vec(&serde_json::json!({ "code": code }))
                    .expect("to_vec failed");
                let answer = site.send(
                    Method::POST,
                    &format!("{path}/signature"),
                    Some(&token),
                    body,
                );
                (answer, Some(code.clone()))
            }
            Attack::OtherDraft(other) => {
                let uri = format!(
                    "/api/v1/protocols/{}",
                    // Within what a URI may hold: the router, not `http`, is under test.
                    other
                        .bytes()
                        .take(2000)
                        .map(|b| format!("%{b:02X}"))
                        .collect::<String>()
                );
                (
                    site.send(Method::GET, &uri, None, Vec::new()),
                    Some(other.clone()),
                )
            }
        };
        check_answer(&answer, typed.as_deref(), &catalogue)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
