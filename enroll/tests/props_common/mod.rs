//! Shared by the property tests of the parsers of public input (`tests/parsers_props.rs` of
//! `enroll`, `registry` and `ca`, through `#[path]`): the run's configuration and generators of
//! *near-valid* values (a valid value with one mutation), which reach the parsers' interesting
//! branches where random bytes mostly stop at the first check.
//!
//! CI runs each property on a small fixed number of cases with a fixed seed, so that a run is
//! short and repeatable. By hand, `PROPTEST_CASES=100000` runs longer, on a random seed unless
//! `PROPTEST_RNG_SEED` is set too. A failure is written under `proptest-regressions/` and
//! replayed first by every later run: commit those files.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// The seed of CI runs: any fixed value does; changing it explores other cases.
const CI_SEED: u64 = 0x5153_4552_4931_3221;

/// `default_cases` cases on [`CI_SEED`], unless `PROPTEST_CASES` (then a random seed) or
/// `PROPTEST_RNG_SEED` say otherwise; failures persisted in the crate's
/// `proptest-regressions/<test file>.txt`.
pub fn config(default_cases: u32, source_file: &'static str) -> Config {
    let by_hand = std::env::var_os("PROPTEST_CASES").is_some();
    let seeded = std::env::var_os("PROPTEST_RNG_SEED").is_some();
    // `Config::default()` reads both variables.
    let base = Config::default();
    Config {
        cases: if by_hand { base.cases } else { default_cases },
        rng_seed: if by_hand || seeded {
            base.rng_seed
        } else {
            RngSeed::Fixed(CI_SEED)
        },
        source_file: Some(source_file),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions(
            source_file,
        )))),
        ..base
    }
}

/// `proptest-regressions/<stem>.txt`, relative to the crate (where `cargo test` runs tests).
fn regressions(source_file: &str) -> &'static str {
    let stem = std::path::Path::new(source_file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("props");
    // Once per property: a few bytes, for the process's life.
    Box::leak(format!("proptest-regressions/{stem}.txt").into_boxed_str())
}

/// Characters that parsers of typed text get wrong: controls (C0, C1, DEL), line ends, bidi
/// overrides, invisible and non-breaking spaces, a lone combining mark, look-alike digits,
/// separators of our formats, and letters French names need.
pub const ODD_CHARS: &[char] = &[
    '\0',
    '\t',
    '\n',
    '\r',
    '\u{b}',
    '\u{c}',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{9b}',
    '\u{a0}',
    '\u{ad}',
    '\u{200b}',
    '\u{200d}',
    '\u{2028}',
    '\u{202a}',
    '\u{202e}',
    '\u{2066}',
    '\u{2069}',
    '\u{feff}',
    '\u{fffd}',
    '\u{301}',
    '\u{308}',
    '１',
    '٣',
    '²',
    '½',
    'Ⅻ',
    '+',
    '@',
    '.',
    '-',
    '_',
    ' ',
    ';',
    ',',
    '"',
    '\'',
    '’',
    '/',
    '\\',
    '<',
    '>',
    '=',
    '%',
    '0',
    '9',
    'A',
    'a',
    'z',
    'é',
    'É',
    'ñ',
    'Ñ',
    'œ',
    'Œ',
    'ß',
    'ı',
    'İ',
    'ﬁ',
    'ǅ',
    '😀',
    '\u{10ffff}',
];

/// One of [`ODD_CHARS`], or any character at all.
pub fn odd_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => proptest::sample::select(ODD_CHARS),
        1 => any::<char>(),
    ]
}

/// What is done to a valid value.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Left as it is.
    Keep,
    /// A character inserted.
    Insert(Index, char),
    /// A character deleted.
    Delete(Index),
    /// A character replaced.
    Replace(Index, char),
    /// Two neighbours swapped.
    Swap(Index),
    /// Spaces, tabs or line ends around it.
    Surround(String),
    /// Repeated until very long (about this many characters).
    Long(usize),
    /// Accented letters decomposed (NFD: `é` → `e` + U+0301), and NFC forms of ASCII kept.
    Decompose,
    /// Upper-cased, or lower-cased.
    Case(bool),
    /// Replaced by anything.
    Anything(String),
}

/// A mutation, the valid value kept in about one case in eight.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => Just(Mutation::Keep),
        3 => (any::<Index>(), odd_char()).prop_map(|(i, c)| Mutation::Insert(i, c)),
        2 => any::<Index>().prop_map(Mutation::Delete),
        3 => (any::<Index>(), odd_char()).prop_map(|(i, c)| Mutation::Replace(i, c)),
        1 => any::<Index>().prop_map(Mutation::Swap),
        1 => "[ \t\r\n\u{a0}]{1,3}".prop_map(Mutation::Surround),
        1 => prop_oneof![Just(300usize), Just(5_000), Just(70_000)].prop_map(Mutation::Long),
        1 => Just(Mutation::Decompose),
        1 => any::<bool>().prop_map(Mutation::Case),
        1 => "\\PC{0,40}|.{0,40}".prop_map(Mutation::Anything),
    ]
}

/// `value` with `mutation` applied.
pub fn apply(value: &str, mutation: &Mutation) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    match mutation {
        Mutation::Keep => {}
        Mutation::Insert(at, c) => chars.insert(at.index(chars.len() + 1), *c),
        Mutation::Delete(at) if !chars.is_empty() => {
            chars.remove(at.index(chars.len()));
        }
        Mutation::Replace(at, c) if !chars.is_empty() => {
            let i = at.index(chars.len());
            chars[i] = *c;
        }
        Mutation::Swap(at) if chars.len() >= 2 => {
            let i = at.index(chars.len() - 1);
            chars.swap(i, i + 1);
        }
        Mutation::Surround(space) => return format!("{space}{value}{space}"),
        Mutation::Long(len) => {
            let unit = if value.is_empty() { "x" } else { value };
            return unit.repeat(len / unit.len().max(1) + 1);
        }
        Mutation::Decompose => return decompose(value),
        Mutation::Case(upper) if *upper => return value.to_uppercase(),
        Mutation::Case(_) => return value.to_lowercase(),
        Mutation::Anything(s) => return s.clone(),
        Mutation::Delete(_) | Mutation::Replace(..) | Mutation::Swap(_) => {}
    }
    chars.into_iter().collect()
}

/// A valid value from `valid`, then one [`mutation`].
pub fn near(valid: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    (valid, mutation()).prop_map(|(v, m)| apply(&v, &m))
}

/// The NFD form of the accented letters French uses (enough for the tests: no crate needed).
pub fn decompose(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for c in value.chars() {
        let (base, mark) = match c {
            'é' => ('e', '\u{301}'),
            'É' => ('E', '\u{301}'),
            'è' => ('e', '\u{300}'),
            'È' => ('E', '\u{300}'),
            'ê' => ('e', '\u{302}'),
            'à' => ('a', '\u{300}'),
            'â' => ('a', '\u{302}'),
            'ç' => ('c', '\u{327}'),
            'Ç' => ('C', '\u{327}'),
            'ô' => ('o', '\u{302}'),
            'î' => ('i', '\u{302}'),
            'ï' => ('i', '\u{308}'),
            'ü' => ('u', '\u{308}'),
            'ñ' => ('n', '\u{303}'),
            'Ñ' => ('N', '\u{303}'),
            other => {
                out.push(other);
                continue;
            }
        };
        out.push(base);
        out.push(mark);
    }
    out
}

/// A control character, a bidi override or an invisible separator: what a message shown to
/// people or written to a log must never carry raw.
pub fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Asserts that `message`, shown to people, is a French sentence that neither repeats `input`
/// (when it is long enough to be told apart from our own words) nor carries a control
/// character.
pub fn assert_clean_message(message: &str, input: &str) {
    assert!(!message.trim().is_empty(), "empty message for {input:?}");
    assert!(
        message.starts_with(|c: char| c.is_uppercase()),
        "{message:?} does not start as a sentence"
    );
    assert!(
        !message.chars().any(is_unprintable),
        "{message:?} carries a control character"
    );
    assert!(
        !echoes(message, input),
        "{message:?} repeats the input {input:?}"
    );
}

/// Whether `message` repeats `input`: as typed (trimmed), or, for a number (a NIR, a SIRET, a
/// phone), with its spaces removed. Inputs under 6 characters are not looked for: they may
/// legitimately be words of ours ("SIRET", "2A", "Mme"), and so may a typed value that only
/// differs from one we name by its spaces ("1-C\u{b}ivile" and « 1-Civile »).
pub fn echoes(message: &str, input: &str) -> bool {
    let long_enough = |s: &str| s.chars().count() >= 6;
    let trimmed = input.trim();
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = compact.chars().filter(char::is_ascii_digit).count();
    (long_enough(trimmed) && message.contains(trimmed))
        || (digits >= 6 && message.contains(compact.as_str()))
}
