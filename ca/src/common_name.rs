//! The common name of a person's certificate, shortened when the full name does not fit.
//!
//! X.520 bounds a common name at 64 characters (`ub-common-name`, RFC 5280 appendix A.1).
//! The bound is a `SIZE` constraint on a `DirectoryString`: for a `UTF8String` it counts
//! characters (Unicode scalar values), not bytes, and that is how OpenSSL
//! (`ASN1_mbstring_ncopy`), zlint (`e_subject_common_name_max_length`) and pkilint measure it.
//! The wizard takes names of up to 100 characters each, so "Prénom NOM 42003" can be longer.
//!
//! Rather than refuse real names, the common name is shortened, always the same way and always
//! keeping the N° habilitation SISERI, which is what identifies the holder (the registry finds
//! people by the certificate's serial, never by its name). The full names stay in the
//! database, the e-mails and the `.p12`'s friendly name.
//!
//! 1. `Prénom NOM 42003` as before, when it fits;
//! 2. otherwise the first names become initials, each part of a compound first name keeping
//!    its separator: `Marie-Christine-Françoise` → `M.-C.-F.`, `Jean Pierre` → `J. P.`
//!    (`M.-C.-F. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL 42003`);
//! 3. otherwise only the first initial is kept, the last name identifying more than a row of
//!    initials (`M. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL-CLERMONT-TONNERRE 42003`);
//! 4. otherwise the last name is also cut to what fits, without the space, hyphen or
//!    apostrophe the cut would end on, and ends with [`CUT_MARKER`]
//!    (`M. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL-CLERMONT-TON. 123456789`).
//!
//! Names are put in Unicode normalisation form C first, so that an accent typed as a combining
//! mark counts as one character, as its precomposed form does.

use unicode_normalization::UnicodeNormalization;

use crate::{Error, Result};

/// RFC 5280 upper bound of a common name, in characters.
pub const UB_COMMON_NAME: usize = 64;

/// What ends a last name that was cut: the French abbreviation mark.
pub const CUT_MARKER: char = '.';

/// The common name of a person's certificate: `Prénom NOM 42003`, shortened as the module
/// says when longer than [`UB_COMMON_NAME`] characters. Never longer, and always ending with
/// ` {habilitation}`.
pub fn person_common_name(first_name: &str, last_name: &str, habilitation: u64) -> String {
    let first: String = first_name.trim().nfc().collect();
    let last: String = last_name.trim().to_uppercase().nfc().collect();
    let number = habilitation.to_string();
    let full = format!("{first} {last} {number}");
    if chars(&full) <= UB_COMMON_NAME {
        return full;
    }
    let initials = initials(&first);
    let shorter = format!("{initials} {last} {number}");
    if chars(&shorter) <= UB_COMMON_NAME {
        return shorter;
    }
    // The last name identifies more than a row of initials: past this point, only the first
    // initial is kept and the room left goes to the last name.
    let initial = initials.split([' ', '-']).next().unwrap_or_default();
    let with_initial = format!("{initial} {last} {number}");
    if chars(&with_initial) <= UB_COMMON_NAME {
        return with_initial;
    }
    // "{initial} {cut}. {number}"; an initial is a letter and a dot (at most 4 characters
    // once upper-cased) and a number at most 20 digits, so room is never short.
    let room = UB_COMMON_NAME.saturating_sub(chars(initial) + 1 + 1 + 1 + chars(&number));
    format!("{initial} {}{CUT_MARKER} {number}", cut(&last, room))
}

/// Refuses a common name the certificate could not carry: empty, longer than
/// [`UB_COMMON_NAME`] characters, or holding a character that would corrupt what people
/// read (control characters, bidirectional overrides and isolates, byte order mark).
pub fn check_common_name(cn: &str) -> Result<()> {
    if cn.trim().is_empty() || chars(cn) > UB_COMMON_NAME {
        return Err(Error::BadSubject(format!(
            "le nom commun doit compter de 1 à {UB_COMMON_NAME} caractères"
        )));
    }
    if cn.chars().any(is_forbidden) {
        return Err(Error::BadSubject(
            "le nom commun contient un caractère de contrôle ou de mise en forme".into(),
        ));
    }
    Ok(())
}

/// A character no name in a certificate may hold.
pub fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// `Marie-Christine Françoise` → `M.-C. F.`: the first letter of each part, its separators
/// kept; parts without a letter are dropped.
fn initials(first: &str) -> String {
    let mut out = String::new();
    for (w, word) in first.split(' ').enumerate() {
        let parts: Vec<char> = word
            .split('-')
            .filter_map(|part| part.chars().find(|c| c.is_alphabetic()))
            .collect();
        if parts.is_empty() {
            continue;
        }
        if w > 0 && !out.is_empty() {
            out.push(' ');
        }
        for (i, letter) in parts.into_iter().enumerate() {
            if i > 0 {
                out.push('-');
            }
            out.extend(letter.to_uppercase());
            out.push('.');
        }
    }
    out
}

/// The first `room` characters of `s`, without the separators it would end with.
fn cut(s: &str, room: usize) -> String {
    let kept: String = s.chars().take(room).collect();
    kept.trim_end_matches([' ', '-', '\'']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_that_fits_is_written_as_before() {
        assert_eq!(
            person_common_name("Pierre", "Dillenseger", 42003),
            "Pierre DILLENSEGER 42003"
        );
    }

    #[test]
    fn long_compound_first_names_become_initials() {
        let cn = person_common_name(
            "Marie-Christine-Françoise",
            "DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL",
            42003,
        );
        assert_eq!(cn, "M.-C.-F. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL 42003");
        assert!(cn.chars().count() <= UB_COMMON_NAME);
    }

    #[test]
    fn past_the_initials_only_the_first_one_is_kept_for_a_whole_last_name() {
        let cn = person_common_name(
            "Marie-Christine-Françoise",
            "de La Rochefoucauld-Montmorency-Laval-Clermont-Tonnerre",
            42003,
        );
        assert_eq!(
            cn,
            "M. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL-CLERMONT-TONNERRE 42003"
        );
        assert_eq!(cn.chars().count(), UB_COMMON_NAME);
    }

    #[test]
    fn a_last_name_too_long_even_after_initials_is_cut_with_a_marker() {
        let cn = person_common_name(
            "Marie-Christine-Françoise",
            "de la Rochefoucauld-Montmorency-Laval-Clermont-Tonnerre d'Anjou",
            123_456_789,
        );
        assert_eq!(
            cn,
            "M. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL-CLERMONT-TON. 123456789"
        );
        assert_eq!(cn.chars().count(), UB_COMMON_NAME);
    }

    #[test]
    fn names_at_the_wizards_100_character_maximum_fit_and_keep_the_number() {
        let first = format!("Éléonore {}", "a".repeat(91));
        let last = "É".repeat(100);
        for hab in [1, 42000, 999_999_999, u64::MAX] {
            let cn = person_common_name(&first, &last, hab);
            assert!(cn.chars().count() <= UB_COMMON_NAME, "{cn}");
            assert!(cn.ends_with(&format!(" {hab}")), "{cn}");
            assert!(cn.starts_with("É. ÉÉÉ"), "{cn}");
            assert!(check_common_name(&cn).is_ok());
        }
        assert_eq!(
            person_common_name(&first, &last, 42000),
            format!("É. {}. 42000", "É".repeat(54))
        );
    }

    #[test]
    fn too_many_first_names_leave_only_the_first_initial() {
        let first = vec!["Jo"; 33].join(" ");
        let cn = person_common_name(&first, "DUPONT-DURAND", 42000);
        assert_eq!(cn, "J. DUPONT-DURAND 42000");
    }

    #[test]
    fn decomposed_accents_count_once() {
        let nfd = "E\u{301}lodie";
        let cn = person_common_name(nfd, "Noe\u{308}l", 7);
        assert_eq!(cn, "Élodie NOËL 7");
    }

    #[test]
    fn the_cut_never_ends_on_a_separator() {
        // "J. " and ". 42000" leave 54 characters: the cut falls just after the 54th.
        let stem = "A".repeat(53);
        for separator in [" ", "-", "'"] {
            let last = format!("{stem}{separator}BCDEFGHIJKL");
            let cn = person_common_name("Jean", &last, 42000);
            assert_eq!(cn, format!("J. {stem}. 42000"), "{separator:?}");
        }
    }

    #[test]
    fn control_and_bidi_characters_and_overlong_names_are_refused() {
        for bad in [
            "",
            "  ",
            "Jean\u{0} DUPONT 1",
            "Jean\u{1b}[31m 1",
            "Jean\u{202e}TNOPUD 1",
            "Jean\u{2067} 1",
        ] {
            assert!(check_common_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_common_name(&"A".repeat(65)).is_err());
        assert!(check_common_name(&"É".repeat(64)).is_ok());
    }
}
