//! Text as people type it: names, free labels, and the one folding by which names are compared,
//! searched and turned into keys, for every component.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longest name kept (last name, first name…).
pub const NAME_MAX: usize = 100;
/// Longest free label kept (job, hazard, domain, sector…).
pub const LABEL_MAX: usize = 200;

/// Characters refused in every single-line field, whatever its kind: they would break or forge
/// what the text ends up in (the signed Annexe 1's lines, a terminal, a CSV file, a PDF, a
/// certificate subject). Spaces typed by people (U+0020, no-break spaces…) are not among them:
/// [`name`] and [`label`] make them single ordinary spaces.
///
/// - control characters, C0 (NUL, TAB, LF, CR, ESC…), DEL and C1 (U+0080–U+009F, NEL included):
///   line breaks, terminal escapes;
/// - the line and paragraph separators U+2028, U+2029;
/// - Unicode format characters (category Cf), all invisible: the bidirectional embeddings,
///   overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) that make a
///   text read in another order than it is stored, the zero-width space and joiners
///   (U+200B–U+200D, U+2060, U+FEFF), the soft hyphen, tags (U+E0000…) and the others.
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061c}'
                | '\u{06dd}'
                | '\u{070f}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08e2}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
        )
}

/// Why a piece of text was refused; the caller words it with the field's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// Nothing but spaces.
    Empty,
    /// Longer than allowed.
    TooLong(usize),
    /// A character not allowed here (a digit in a name, a control character anywhere).
    Characters,
}

/// A personal name: letters (accented or not, composed or decomposed), single spaces, hyphens,
/// apostrophes (`’` stored as `'`), and commas when `list` (several other first names); at most
/// [`NAME_MAX`] characters, nothing [`is_forbidden`] (a tab or a line break is refused, not made
/// a space).
pub fn name(input: &str, list: bool) -> Result<String, TextError> {
    let mut out = String::with_capacity(input.len());
    let mut letters = false;
    for c in input.chars() {
        match c {
            _ if is_forbidden(c) => return Err(TextError::Characters),
            _ if c.is_whitespace() => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            '-' | '\'' => out.push(c),
            '\u{2019}' => out.push('\''),
            ',' if list => out.push(c),
            _ if c.is_alphabetic() => {
                letters = true;
                out.push(c);
            }
            // Decomposed accents (`e` + U+0301), as macOS and some PDF copies send them.
            _ if is_combining_mark(c)
                && out.ends_with(|p: char| p.is_alphabetic() || is_combining_mark(p)) =>
            {
                out.push(c)
            }
            _ => return Err(TextError::Characters),
        }
    }
    let out = finish(out, NAME_MAX)?;
    if !letters {
        return Err(TextError::Characters);
    }
    Ok(out)
}

/// A free single-line text (`1-Exposition externe`, `Assistant dentaire`, a company name, an
/// address line, a town): trimmed, runs of spaces made one, at most `max` characters, nothing
/// [`is_forbidden`] (a tab or a line break is refused, not made a space). Every other
/// character is kept: `:`, `|`, `=`, `;`, quotes… are the business of whoever writes the text
/// out (the CSV export neutralises formulas, pages escape HTML).
pub fn label(input: &str, max: usize) -> Result<String, TextError> {
    if is_clean_ascii(input) {
        if input.len() > max {
            return Err(TextError::TooLong(max));
        }
        return Ok(input.to_owned());
    }
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if is_forbidden(c) {
            return Err(TextError::Characters);
        } else if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    finish(out, max)
}

/// The last checks of a folded text: the trailing space dropped, then neither empty nor longer
/// than `max` characters.
fn finish(mut out: String, max: usize) -> Result<String, TextError> {
    if out.ends_with(' ') {
        out.pop();
    }
    if out.is_empty() {
        return Err(TextError::Empty);
    }
    if out.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    Ok(out)
}

/// Printable ASCII with single inner spaces and none around: what most labels are, kept as is
/// without looking at each character twice.
fn is_clean_ascii(input: &str) -> bool {
    let bytes = input.as_bytes();
    !bytes.is_empty()
        && bytes[0] != b' '
        && bytes[bytes.len() - 1] != b' '
        && bytes.iter().all(|b| (b' '..=b'~').contains(b))
        && !bytes.windows(2).any(|w| w == b"  ")
}

/// `None` for an absent or blank value, else the value itself.
pub fn present(input: Option<&str>) -> Option<&str> {
    input.filter(|s| !s.trim().is_empty())
}

/// The key a name is searched, sorted, matched and turned into key names by, for every
/// component: compatibility forms spelt out (NFKD: `ﬁ` → `FI`, full-width letters), accents
/// dropped whether typed composed or decomposed (`é` and `e` + U+0301), upper case, ligatures
/// and letters without a decomposition spelt out (`œ` → `OE`, `æ` → `AE`, `ß` → `SS`, `ø` →
/// `O`), every apostrophe and hyphen read as a space, runs of spaces made one.
/// `Éloïse D'Œuf-Lê` → `ELOISE D OEUF LE`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut space = false;
    let mut push = |out: &mut String, c: char| {
        let c = if is_separator(c) { ' ' } else { c };
        if c.is_whitespace() {
            space = !out.is_empty();
            return;
        }
        if space {
            out.push(' ');
            space = false;
        }
        match c {
            _ if c.is_ascii() => out.push(c.to_ascii_uppercase()),
            'œ' | 'Œ' => out.push_str("OE"),
            'æ' | 'Æ' => out.push_str("AE"),
            'ß' | 'ẞ' => out.push_str("SS"),
            'ø' | 'Ø' => out.push('O'),
            'đ' | 'Đ' => out.push('D'),
            'ł' | 'Ł' => out.push('L'),
            _ => out.extend(c.to_uppercase()),
        }
    };
    for c in input.chars() {
        if c.is_ascii() {
            push(&mut out, c);
        } else if !is_combining_mark(c) {
            // Decompose this character alone: its accents are dropped anyway, so the order
            // in which NFKD would sort them does not matter.
            for d in std::iter::once(c).nfkd() {
                if !is_combining_mark(d) {
                    push(&mut out, d);
                }
            }
        }
    }
    out
}

/// Punctuation inside names that people type one way or another: apostrophes (straight,
/// curly, modifier letter, grave and acute accents typed alone), hyphens and dashes, and the
/// commas and dots of lists and initials. All read as a space.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '\'' | ',' | '.' | '`' | '\u{b4}' // ´
            | '\u{2bc}' // ʼ
            | '\u{2018}' | '\u{2019}' // ‘ ’
            | '\u{2010}'
            ..='\u{2015}' // hyphens, dashes
            | '\u{2212}' // minus
    )
}

/// The same spelling, as people read it: equal once both are composed (NFC) and lower-cased.
/// `fold` says whether two names are the same person's; this says whether they are written
/// alike (an accent or a ligature more or less is a difference worth showing).
pub fn same_spelling(a: &str, b: &str) -> bool {
    let canonical = |s: &str| -> String { s.trim().nfc().flat_map(char::to_lowercase).collect() };
    canonical(a) == canonical(b)
}

/// The smallest string greater than every string that starts with `prefix`, for a prefix search
/// by range on an index (`key >= prefix AND key < upper`).
pub fn prefix_upper_bound(prefix: &str) -> String {
    let mut upper = String::with_capacity(prefix.len() + 4);
    upper.push_str(prefix);
    upper.push(char::MAX);
    upper
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_drops_accents_case_and_punctuation() {
        assert_eq!(fold("Valérie"), "VALERIE");
        assert_eq!(fold("  Éloïse  D’Œuf-Lê "), "ELOISE D OEUF LE");
        assert_eq!(fold("e\u{301}mile"), "EMILE");
        assert_eq!(fold("Straße"), "STRASSE");
        assert_eq!(fold("ÇA"), fold("ça"));
    }

    #[test]
    fn folding_gives_one_key_whether_accents_are_composed_or_not() {
        let nfc = "H\u{e9}l\u{e8}ne MU\u{d1}OZ";
        let nfd = "He\u{301}le\u{300}ne MUN\u{303}OZ";
        assert_ne!(nfc, nfd);
        assert_eq!(fold(nfc), "HELENE MUNOZ");
        assert_eq!(fold(nfd), "HELENE MUNOZ");
        assert_eq!(fold("muñoz"), fold("MUNOZ"));
        assert_eq!(fold("Muñoz"), fold("MUN\u{303}OZ"));
    }

    #[test]
    fn folding_spells_out_ligatures_and_sharp_s() {
        assert_eq!(fold("Cœur"), "COEUR");
        assert_eq!(fold("CŒUR"), fold("coeur"));
        assert_eq!(fold("Lætitia"), "LAETITIA");
        assert_eq!(fold("LÆTITIA"), fold("laetitia"));
        assert_eq!(fold("Weiß"), "WEISS");
        assert_eq!(fold("WEIẞ"), fold("weiss"));
        assert_eq!(fold("ﬁlippi"), "FILIPPI");
    }

    #[test]
    fn folding_reads_apostrophes_and_hyphens_as_spaces() {
        let expected = "D ARC JEAN PIERRE";
        for typed in [
            "d'Arc Jean-Pierre",
            "D’ARC JEAN-PIERRE",
            "D\u{2bc}Arc Jean\u{2010}Pierre",
            "D Arc  Jean Pierre",
            " d‘arc jean–pierre ",
        ] {
            assert_eq!(fold(typed), expected, "{typed:?}");
        }
    }

    #[test]
    fn spelling_compares_composed_forms_without_case() {
        assert!(same_spelling("Hélène", "He\u{301}le\u{300}ne"));
        assert!(same_spelling("MUÑOZ", "muñoz"));
        assert!(!same_spelling("Muñoz", "Munoz"));
        assert!(!same_spelling("Cœur", "Coeur"));
    }

    #[test]
    fn names_keep_their_spelling_but_not_extra_spaces() {
        assert_eq!(name("  Marie   Claire ", false).unwrap(), "Marie Claire");
        assert_eq!(name("D’ARC", false).unwrap(), "D'ARC");
        assert_eq!(name("e\u{301}mile", false).unwrap(), "e\u{301}mile");
        assert_eq!(name("Louise, Jeanne", true).unwrap(), "Louise, Jeanne");
    }

    #[test]
    fn names_refuse_digits_and_blanks() {
        assert_eq!(name("DIDIER2", false), Err(TextError::Characters));
        assert_eq!(name("Louise, Jeanne", false), Err(TextError::Characters));
        assert_eq!(name("   ", false), Err(TextError::Empty));
        assert_eq!(name("-", false), Err(TextError::Characters));
        assert_eq!(
            name(&"A".repeat(NAME_MAX + 1), false),
            Err(TextError::TooLong(NAME_MAX))
        );
    }

    #[test]
    fn labels_refuse_control_characters() {
        assert_eq!(
            label("1-Exposition  externe", LABEL_MAX).unwrap(),
            "1-Exposition externe"
        );
        assert_eq!(label("a\u{7}b", LABEL_MAX), Err(TextError::Characters));
        assert_eq!(label("a\u{202e}b", LABEL_MAX), Err(TextError::Characters));
    }

    /// One of each kind of character [`is_forbidden`] names.
    const HOSTILE: [char; 22] = [
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
        '\u{2028}',
        '\u{2029}',
        '\u{202a}',
        '\u{202e}',
        '\u{2066}',
        '\u{2069}',
        '\u{200b}',
        '\u{200d}',
        '\u{200f}',
        '\u{feff}',
        '\u{61c}',
        '\u{e0041}',
    ];

    #[test]
    fn labels_and_names_refuse_line_breaks_escapes_and_bidi_controls_instead_of_keeping_them() {
        for c in HOSTILE {
            let text = format!("Cabinet{c}Durand");
            assert_eq!(label(&text, LABEL_MAX), Err(TextError::Characters), "{c:?}");
            assert_eq!(name(&text, false), Err(TextError::Characters), "{c:?}");
            assert_eq!(name(&text, true), Err(TextError::Characters), "{c:?}");
            // At the ends too, where trimming used to hide them.
            assert_eq!(
                label(&format!("Durand{c}"), LABEL_MAX),
                Err(TextError::Characters),
                "{c:?}"
            );
        }
    }

    #[test]
    fn typed_spaces_and_separators_are_kept_as_text() {
        assert_eq!(
            label("Rue\u{a0}de\u{202f}la Paix", LABEL_MAX).unwrap(),
            "Rue de la Paix"
        );
        let punctuated = "=HYPERLINK(\"x\";\"y\") | a : b @SUM(1) +1 -2 'q'";
        assert_eq!(label(punctuated, LABEL_MAX).unwrap(), punctuated);
    }

    #[test]
    fn a_label_at_its_maximum_is_kept_and_one_more_character_is_refused() {
        let longest = "é".repeat(LABEL_MAX);
        assert_eq!(label(&longest, LABEL_MAX).unwrap(), longest);
        assert_eq!(
            label(&format!("{longest}e"), LABEL_MAX),
            Err(TextError::TooLong(LABEL_MAX))
        );
        assert_eq!(
            label(&"a".repeat(2_000_000), LABEL_MAX),
            Err(TextError::TooLong(LABEL_MAX))
        );
    }

    #[test]
    fn prefix_bound_is_above_every_extension() {
        let upper = prefix_upper_bound("DID");
        assert!("DIDIER VALERIE" < upper.as_str());
        assert!("DIDIER ÿ" < upper.as_str());
        assert!("DIE" > upper.as_str());
    }
}
