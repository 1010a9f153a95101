//! Text as people type it: names, free labels, and the one folding by which names are compared,
//! searched and turned into keys, for every component.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Longest name kept (last name, first name…).
pub const NAME_MAX: usize = 100;
/// Longest free label kept (job, hazard, domain, sector…).
pub const LABEL_MAX: usize = 200;

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
/// apostrophes (`’` stored as `'`), and commas when `list` (several other first names).
pub fn name(input: &str, list: bool) -> Result<String, TextError> {
    let mut out = String::with_capacity(input.len());
    let mut letters = false;
    for c in input.chars() {
        match c {
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

/// A free label (`1-Exposition externe`, `Assistant dentaire`): trimmed, runs of spaces made one,
/// no control character, at most `max` characters.
pub fn label(input: &str, max: usize) -> Result<String, TextError> {
    if is_clean_ascii(input) {
        if input.len() > max {
            return Err(TextError::TooLong(max));
        }
        return Ok(input.to_owned());
    }
    let mut out = String::with_capacity(input.len());
    for c in input.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        } else if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}') {
            return Err(TextError::Characters);
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

    #[test]
    fn prefix_bound_is_above_every_extension() {
        let upper = prefix_upper_bound("DID");
        assert!("DIDIER VALERIE" < upper.as_str());
        assert!("DIDIER ÿ" < upper.as_str());
        assert!("DIE" > upper.as_str());
    }
}
