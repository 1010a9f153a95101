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

/// The key a name is searched and sorted by: accents dropped, upper case, ligatures spelt out,
/// hyphens and apostrophes read as spaces, runs of spaces made one. `Éloïse D'Œuf-Lê` →
/// `ELOISE D OEUF LE`.
pub fn fold(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut space = false;
    let mut push = |out: &mut String, c: char| {
        let c = match c {
            '-' | '\'' | '\u{2019}' | ',' | '.' => ' ',
            _ => c,
        };
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
            'ß' => out.push_str("SS"),
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
            // in which NFD would sort them does not matter.
            for d in std::iter::once(c).nfd() {
                if !is_combining_mark(d) {
                    push(&mut out, d);
                }
            }
        }
    }
    out
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
