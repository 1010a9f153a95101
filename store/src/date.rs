//! Dates as people read and type them in France (`jj/mm/aaaa`) and as machines and SQLite keep
//! them (`aaaa-mm-jj`, which compares as text in calendar order): one `time` format description
//! each, for every component.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::Date;

/// `jj/mm/aaaa`, as in the seed's forms: two-digit day and month, four-digit year.
pub const FRENCH: &[BorrowedFormatItem<'static>] = format_description!("[day]/[month]/[year]");
/// `aaaa-mm-jj` (ISO 8601), the stored form and the machine clients'.
pub const ISO: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Why a date was refused; the caller words it with the field's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not written in the expected form.
    Format,
    /// A day that does not exist (`31/02/2020`).
    Invalid,
}

/// Reads `input` in `format`, whose digits and separator stand at `separators`' places.
///
/// The shape is checked first (ten ASCII characters, digits but for the two separators), so
/// that a typing mistake (`0a/08/1976`, `+5/08/1976`) is a [`DateError::Format`] and a day or
/// month that does not exist (`32/01/2020`, `01/13/2020`, `31/02/2020`) a
/// [`DateError::Invalid`]: `time` reports both as an invalid component.
fn parse(
    input: &str,
    format: &[BorrowedFormatItem<'_>],
    separator: u8,
    at: [usize; 2],
) -> Result<Date, DateError> {
    let text = input.trim();
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if at.contains(&i) {
                b == separator
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(DateError::Format);
    }
    Date::parse(text, format).map_err(|_| DateError::Invalid)
}

/// Reads `jj/mm/aaaa` (surrounding spaces ignored).
pub fn parse_french(input: &str) -> Result<Date, DateError> {
    parse(input, FRENCH, b'/', [2, 5])
}

/// Reads `aaaa-mm-jj` (surrounding spaces ignored).
pub fn parse_iso(input: &str) -> Result<Date, DateError> {
    parse(input, ISO, b'-', [4, 7])
}

/// `jj/mm/aaaa`.
pub fn french(date: Date) -> String {
    // Formatting a calendar date into a description of day, month and year cannot fail.
    date.format(FRENCH).unwrap_or_default()
}

/// `aaaa-mm-jj`.
pub fn iso(date: Date) -> String {
    // Written directly for the years of four digits: it is asked for every result a
    // transmission records, and the format description's interpreter costs several times more.
    if (0..=9999).contains(&date.year()) {
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    } else {
        date.format(ISO).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn both_forms_are_read_and_printed_back() {
        assert_eq!(parse_french(" 05/08/1976 "), Ok(date!(1976 - 08 - 05)));
        assert_eq!(parse_iso("1976-08-05"), Ok(date!(1976 - 08 - 05)));
        assert_eq!(french(date!(1976 - 08 - 05)), "05/08/1976");
        assert_eq!(iso(date!(0900 - 01 - 02)), "0900-01-02");
    }

    #[test]
    fn iso_is_what_the_format_description_writes() {
        let mut day = date!(0000 - 01 - 01);
        while day < date!(9999 - 09 - 01) {
            assert_eq!(iso(day), day.format(ISO).unwrap());
            day += time::Duration::days(97);
        }
        for edge in [
            date!(9999 - 12 - 31),
            date!(-0001 - 12 - 31),
            date!(2024 - 02 - 29),
        ] {
            assert_eq!(iso(edge), edge.format(ISO).unwrap());
        }
    }

    #[test]
    fn malformed_and_impossible_dates_are_told_apart() {
        assert_eq!(parse_french("31/02/2020"), Err(DateError::Invalid));
        assert_eq!(parse_french("29/02/2023"), Err(DateError::Invalid));
        assert_eq!(parse_french("32/01/2020"), Err(DateError::Invalid));
        assert_eq!(parse_french("01/13/2020"), Err(DateError::Invalid));
        for bad in [
            "1/3/1970",
            "12.03.1970",
            "1a/03/1970",
            "+1/03/1970",
            "12/03/+970",
            "",
        ] {
            assert_eq!(parse_french(bad), Err(DateError::Format), "{bad}");
        }
        assert_eq!(parse_iso("05/08/1976"), Err(DateError::Format));
    }
}
