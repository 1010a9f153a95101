//! Property: every protocol [`Protocol::parse`] accepts gives an Annexe 1 text that reads back
//! to the same sections, the same text and the same SHA-256, and a PDF; a field holding a
//! character [`store::text::is_forbidden`] names is refused, never rendered.
//!
//! `PROPTEST_CASES=5000 cargo test -p enroll annexe_roundtrip` runs it longer by hand; the
//! default stays small for CI.

use proptest::prelude::*;
use serde_json::Value;

use super::model::{
    ADDRESS_MAX, CEDEX_MAX, COMPANY_MAX, COUNTRY_MAX, FOREIGN_POSTAL_CODE_MAX, TOWN_MAX,
};
use super::{annexe_pdf, Activity, Annexe, Protocol, ProtocolInput, Section, SignatureEvidence};
use store::text::{is_forbidden, NAME_MAX};

/// Cases when `PROPTEST_CASES` is not set: a few seconds in a debug build.
const DEFAULT_CASES: u32 = 64;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        // A failing case is printed; it is made a unit test by hand, not kept in a file.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Characters that might pass for separators in the text, or in a CSV or a terminal.
const PUNCTUATION: &[char] = &[
    ':', '|', '=', ';', ',', '"', '\'', '’', '-', '+', '@', '\\', '/', '<', '>', '&', '—', '#',
    '%', '(', ')', '[', ']', '{', '}', '*', '~', '.', '«', '»',
];

/// Any character a single-line field keeps, spaces of all kinds included.
fn kept_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::sample::select(PUNCTUATION),
        4 => prop::char::range('a', 'z'),
        2 => prop::sample::select(&[' ', ' ', '\u{a0}', '\u{202f}', '\u{3000}'][..]),
        2 => prop::char::range('À', 'ž'),
        3 => any::<char>().prop_map(|c| if is_forbidden(c) { 'k' } else { c }),
    ]
}

/// A free single-line text as the protocol keeps it: short, or `max` characters (fewer only
/// when runs of spaces were made one).
fn line(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(kept_char(), 0..40),
        1 => prop::collection::vec(kept_char(), max..=max),
    ]
    .prop_map(move |chars| {
        let typed: String = std::iter::once('x').chain(chars).collect();
        let kept = store::text::label(&typed, usize::MAX).unwrap_or_default();
        kept.chars().take(max).collect()
    })
}

/// A personal name: letters of any script, spaces, hyphens and apostrophes; up to the maximum.
fn name() -> impl Strategy<Value = String> {
    let letter = prop_oneof![
        4 => prop::char::range('A', 'Z'),
        2 => prop::char::range('à', 'ÿ').prop_map(|c| if c.is_alphabetic() { c } else { 'é' }),
        // Within the Basic Multilingual Plane: the `.p12`'s BMPString holds no other, and
        // the wizard refuses them.
        1 => any::<char>().prop_map(|c| if c.is_alphabetic() && (c as u32) < 0x1_0000 { c } else { 'Ω' }),
    ];
    let other = prop_oneof![
        6 => letter.clone(),
        1 => prop::sample::select(&[' ', '-', '\'', '’'][..]),
    ];
    (letter, prop::collection::vec(other, 0..NAME_MAX))
        .prop_map(|(first, rest)| std::iter::once(first).chain(rest).collect())
}

fn email() -> impl Strategy<Value = String> {
    // Dot-atoms as the mail transport takes them: no dot first, last or doubled.
    "[a-z0-9][a-z0-9+_=|-]{0,10}(\\.[a-z0-9+_=|-]{1,10}){0,2}@[a-z0-9]{1,12}\\.(fr|example|com)"
}

/// One person of a list, from the seed's first correspondent.
fn person(template: &Value, with_address: bool) -> impl Strategy<Value = Value> {
    let template = template.clone();
    (
        name(),
        name(),
        email(),
        prop::option::of(1u32..=999_999_999),
        with_address_strategy(with_address),
        any::<bool>(),
    )
        .prop_map(move |(last, first, email, hab, address, sends)| {
            let mut p = template.clone();
            p["last_name"] = last.into();
            p["first_name"] = first.into();
            p["email"] = email.into();
            if let Some(h) = hab {
                p["habilitation"] = h.to_string().into();
            }
            if let Some(a) = address {
                p["address"] = a;
            }
            p["sends_dosimetry"] = sends.into();
            p
        })
}

fn with_address_strategy(allowed: bool) -> BoxedStrategy<Option<Value>> {
    if allowed {
        prop::option::of(address()).boxed()
    } else {
        Just(None).boxed()
    }
}

/// An address, French or foreign.
fn address() -> impl Strategy<Value = Value> {
    (
        line(COMPANY_MAX),
        line(ADDRESS_MAX),
        line(TOWN_MAX),
        prop::option::of(line(CEDEX_MAX)),
        prop::option::of(line(COUNTRY_MAX - 1)),
        line(FOREIGN_POSTAL_CODE_MAX),
    )
        .prop_map(|(name, address, town, cedex, country, foreign_pc)| {
            let france = country.is_none();
            serde_json::json!({
                "name": name,
                "address": address,
                "postal_code": if france { "67000".to_owned() } else { foreign_pc },
                "town": town,
                "cedex": cedex,
                // "FRANCE" typed otherwise: a generated country is never "FR" or "FRANCE".
                "country": country.map(|c| format!("Z{c}")).unwrap_or_else(|| "FRANCE".into()),
            })
        })
}

fn seed() -> Value {
    serde_json::from_str(include_str!("../../tests/data/protocol.json")).unwrap_or(Value::Null)
}

/// A whole protocol: the seed with every free field generated.
fn protocol() -> impl Strategy<Value = ProtocolInput> {
    let seed = seed();
    let one = seed["correspondents"][0].clone();
    (
        address(),
        name(),
        name(),
        prop::collection::vec(person(&one, false), 1..3),
        prop::collection::vec(person(&one, true), 0..3),
        prop::collection::vec(person(&one, true), 0..3),
        prop::sample::select(&Activity::ALL[..]),
        any::<(bool, bool, bool)>(),
    )
        .prop_map(
            move |(
                employer,
                last,
                first,
                cse,
                mdt,
                mut pcr,
                activity,
                (exposed, inb, military),
            )| {
                if mdt.is_empty() && pcr.is_empty() {
                    // A PCR or a physician is required.
                    pcr.push(cse[0].clone());
                }
                let mut p = seed.clone();
                for k in ["name", "address", "postal_code", "town", "cedex", "country"] {
                    p["employer"][k] = employer[k].clone();
                }
                p["legal_representative"]["last_name"] = last.into();
                p["legal_representative"]["first_name"] = first.into();
                p["correspondents"] = cse.into();
                p["physicians"] = mdt.into();
                p["pcrs"] = pcr.into();
                p["exposure"] = serde_json::json!({
                    "exposed_in_establishment": exposed,
                    "inb": inb,
                    "domain": if military { "militaire" } else { "civil" },
                    "activity": activity.label(),
                });
                serde_json::from_value(p).unwrap_or_default()
            },
        )
}

/// The free text fields of a protocol input, for injecting one hostile character (the fields
/// of a fixed format, SIRET, postal code, phone…, keep only their canonical form anyway).
fn free_fields(input: &mut ProtocolInput) -> Vec<&mut Option<String>> {
    let e = &mut input.employer;
    let mut fields = vec![
        &mut e.name,
        &mut e.address,
        &mut e.town,
        &mut e.country,
        &mut input.legal_representative.last_name,
        &mut input.legal_representative.first_name,
    ];
    for p in input.correspondents.iter_mut() {
        fields.push(&mut p.last_name);
        fields.push(&mut p.first_name);
    }
    fields
}

/// A character [`is_forbidden`] names: C0, DEL, C1, separators, bidi and invisible ones.
fn forbidden_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::char::range('\0', '\u{1f}'),
        prop::char::range('\u{7f}', '\u{9f}'),
        prop::char::range('\u{200b}', '\u{200f}'),
        prop::char::range('\u{2028}', '\u{202e}'),
        prop::char::range('\u{2066}', '\u{2069}'),
        prop::sample::select(&['\u{ad}', '\u{61c}', '\u{2060}', '\u{feff}', '\u{e0041}'][..]),
    ]
    .prop_map(|c| {
        debug_assert!(is_forbidden(c));
        c
    })
}

/// `input` with `c` put into one of its free fields, at some place.
fn inject(
    mut input: ProtocolInput,
    field: prop::sample::Index,
    at: prop::sample::Index,
    c: char,
) -> ProtocolInput {
    let mut fields = free_fields(&mut input);
    let i = field.index(fields.len());
    let value = fields[i].get_or_insert_with(String::new);
    let chars: Vec<char> = value.chars().collect();
    let cut = at.index(chars.len() + 1);
    *value = chars[..cut]
        .iter()
        .chain(&[c])
        .chain(&chars[cut..])
        .collect();
    input
}

fn evidence() -> SignatureEvidence {
    SignatureEvidence {
        protocol_number: "2026-000001".into(),
        key_name: "CLE".into(),
        version: 1,
        signed_at: time::OffsetDateTime::UNIX_EPOCH,
        document_sha256: "0".repeat(64),
        phone_masked: "+33 7 ** ** ** 41".into(),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_accepted_protocol_reads_back_to_the_same_text_and_hash(
        input in protocol(),
        extra in prop::option::of((
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            prop_oneof![Just('\n'), forbidden_char(), any::<char>()],
        )),
        renews in prop::option::of("20[0-9]{2}-[0-9]{6}"),
        documents in prop::collection::vec("[a-f0-9]{64}", 0..3),
    ) {
        // Sometimes one more character, of any kind, somewhere: refused, or it reads back too.
        let input = match extra {
            Some((field, at, c)) => inject(input, field, at, c),
            None => input,
        };
        let Ok(protocol) = Protocol::parse(&input) else {
            prop_assert!(extra.is_some(), "{:?}", Protocol::parse(&input).err());
            return Ok(());
        };
        let mut annexe = Annexe::of(&protocol, renews.as_deref());
        // What `Pass` adds before signing; possibly no line at all.
        annexe.sections.push(Section {
            title: "PIÈCES JUSTIFICATIVES".into(),
            lines: documents.iter().map(|d| format!("Extrait K-bis : SHA-256 {d}")).collect(),
        });
        let text = annexe.text();
        let back = Annexe::from_text(&text);
        prop_assert_eq!(back.text(), text);
        prop_assert_eq!(back.sha256(), annexe.sha256());
        prop_assert_eq!(&back, &annexe);
        let pdf = annexe_pdf(&back, &evidence());
        prop_assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn a_forbidden_character_in_any_free_field_is_refused(
        input in protocol(),
        field in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        bad in forbidden_char(),
    ) {
        let input = inject(input, field, at, bad);
        prop_assert!(Protocol::parse(&input).is_err());
    }
}
