//! What the CLI prints on stdout, and how stored text is shown there.
//!
//! **Stored text is escaped.** Names, company names, e-mails, user agents… come from the public
//! side, and older databases may hold a line break, an ANSI escape or a bidi override that
//! today's validation refuses. [`Shown`] writes every character [`store::text::is_forbidden`]
//! names as `\u{1b}`, visibly, so that no stored value can move the cursor, recolour the
//! terminal, forge a line of output or reorder what the operator reads. [`ShownJson`] does the
//! same inside JSON output with JSON's own escape (`\u001b`), so that the JSON stays valid and
//! means the same value.
//!
//! **A closed pipe ends the command quietly.** `println!` panics when stdout is a pipe whose
//! reader has gone (`siseri accessor show 42000 | head -1`). Resetting SIGPIPE to its default
//! would instead kill the process silently, but this binary is also the daemon (`siseri serve`),
//! which must keep SIGPIPE ignored so that a client closing its socket is an error to handle,
//! not the end of the service; and changing a signal disposition needs `unsafe`, which the crate
//! forbids. So every line goes through [`say!`](crate::say), which writes to the locked stdout
//! and turns a failed write into [`AppError::Stdout`]; `cli::run` treats a broken pipe as a
//! normal end (exit code 0: the reader took what it wanted).

use std::fmt::{self, Write as _};
use std::io::Write as _;

use store::text::is_forbidden;

use crate::error::AppError;

/// Stored text for a terminal: characters that could act on it escaped as `\u{…}`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown<'a>(pub(crate) &'a str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        escaped(f, self.0, |f, c| write!(f, "\\u{{{:x}}}", u32::from(c)))
    }
}

/// A JSON document for a terminal: the same characters as [`Shown`] written as JSON escapes
/// (`\u001b`, a surrogate pair beyond U+FFFF), which serde_json leaves raw above U+001F.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShownJson<'a>(pub(crate) &'a str);

impl fmt::Display for ShownJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // serde_json escapes every C0 character inside strings: a raw line end is the layout
        // of pretty-printed JSON, kept.
        let mut lines = self.0.split('\n');
        if let Some(first) = lines.next() {
            json_escaped(f, first)?;
        }
        for line in lines {
            f.write_char('\n')?;
            json_escaped(f, line)?;
        }
        Ok(())
    }
}

/// A piece of JSON without line ends, forbidden characters as JSON escapes.
fn json_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    escaped(f, text, |f, c| {
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            write!(f, "\\u{unit:04x}")?;
        }
        Ok(())
    })
}

/// `text` with each forbidden character replaced by what `escape` writes.
fn escaped(
    f: &mut fmt::Formatter<'_>,
    text: &str,
    escape: impl Fn(&mut fmt::Formatter<'_>, char) -> fmt::Result,
) -> fmt::Result {
    let mut rest = text;
    while let Some((at, c)) = rest.char_indices().find(|(_, c)| is_forbidden(*c)) {
        f.write_str(&rest[..at])?;
        escape(f, c)?;
        rest = &rest[at + c.len_utf8()..];
    }
    f.write_str(rest)
}

/// Writes `args` and a line end to stdout; a failed write (a closed pipe) is an error that
/// stops the command.
pub(crate) fn line(args: fmt::Arguments<'_>) -> Result<(), AppError> {
    let mut text = String::new();
    // Formatting into a String only fails if a Display implementation does.
    text.write_fmt(args)
        .map_err(|_| AppError::DataDir("affichage impossible".into()))?;
    text.push('\n');
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(AppError::Stdout)
}

/// `println!` for the CLI: through [`line`], `?` on failure (the caller returns
/// `Result<_, AppError>`).
#[macro_export]
#[doc(hidden)]
macro_rules! say {
    () => {
        $crate::cli::out::line(format_args!(""))?
    };
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))?
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bidi_and_invisible_characters_are_shown_escaped() {
        let stored = "DURAND\r\n\u{1b}[31mX\u{0}\u{9b}\u{202e}Y\u{2028}\u{200b}é\u{e0041}";
        let shown = Shown(stored).to_string();
        assert_eq!(
            shown,
            "DURAND\\u{d}\\u{a}\\u{1b}[31mX\\u{0}\\u{9b}\\u{202e}Y\\u{2028}\\u{200b}é\\u{e0041}"
        );
        assert!(!shown.chars().any(is_forbidden));
        assert_eq!(
            Shown("Valérie D'Arc : a|b=c").to_string(),
            "Valérie D'Arc : a|b=c"
        );
    }

    #[test]
    fn json_stays_valid_and_means_the_same_value() {
        let value = serde_json::json!({"to": "a\u{9b}b\u{202e}c\u{e0041}\u{1b}"});
        let raw = serde_json::to_string(&value).unwrap();
        let shown = ShownJson(&raw).to_string();
        assert!(!shown.chars().any(is_forbidden), "{shown}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&shown).unwrap(),
            value
        );
    }
}
