//! Dates as people read and type them in France (`jj/mm/aaaa`) and as machines and SQLite keep
//! them (`aaaa-mm-jj`, which compares as text in calendar order): one `time` format description
//! each, for every component.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, Month};

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

/// Where a date's parts stand in its ten characters.
#[derive(Clone, Copy)]
enum Order {
    /// `jj/mm/aaaa`.
    DayFirst,
    /// `aaaa-mm-jj`.
    YearFirst,
}

/// Reads `input` written in `order` (`/` between the parts of a French date, `-` of an ISO one).
///
/// The shape is checked first (ten ASCII characters, digits but for the two separators), so
/// that a typing mistake (`0a/08/1976`, `+5/08/1976`) is a [`DateError::Format`] and a day or
/// month that does not exist (`32/01/2020`, `01/13/2020`, `31/02/2020`) a
/// [`DateError::Invalid`]. The digits are then read in place: a transmission reads three dates
/// per line, a million lines, and `time`'s format description interpreter cost more than the
/// rest of the date's checks (the tests hold this reading to it).
fn parse(input: &str, order: Order) -> Result<Date, DateError> {
    let text = input.trim().as_bytes();
    let (at, separator) = match order {
        Order::DayFirst => ([2, 5], b'/'),
        Order::YearFirst => ([4, 7], b'-'),
    };
    let shaped = text.len() == 10
        && text.iter().enumerate().all(|(i, &b)| {
            if at.contains(&i) {
                b == separator
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(DateError::Format);
    }
    let number = |from: usize, to: usize| {
        text[from..to]
            .iter()
            .fold(0_u16, |n, &d| n * 10 + u16::from(d - b'0'))
    };
    let (year, month, day) = match order {
        Order::DayFirst => (number(6, 10), number(3, 5), number(0, 2)),
        Order::YearFirst => (number(0, 4), number(5, 7), number(8, 10)),
    };
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(DateError::Invalid)?;
    let day = u8::try_from(day).map_err(|_| DateError::Invalid)?;
    Date::from_calendar_date(i32::from(year), month, day).map_err(|_| DateError::Invalid)
}

/// Reads `jj/mm/aaaa` (surrounding spaces ignored).
pub fn parse_french(input: &str) -> Result<Date, DateError> {
    parse(input, Order::DayFirst)
}

/// Reads `aaaa-mm-jj` (surrounding spaces ignored).
pub fn parse_iso(input: &str) -> Result<Date, DateError> {
    parse(input, Order::YearFirst)
}

/// `jj/mm/aaaa`.
pub fn french(date: Date) -> String {
    // Formatting a calendar date into a description of day, month and year cannot fail.
    date.format(FRENCH).unwrap_or_default()
}

/// `aaaa-mm-jj`.
pub fn iso(date: Date) -> String {
    IsoDay::of(date).as_str().to_owned()
}

/// `aaaa-mm-jj` without an allocation: what a statement binds for every line of a
/// transmission (a million). The years of four digits are written directly (the format
/// description's interpreter costs several times more); the others, which no form accepts,
/// as `time` writes them.
#[derive(Debug, Clone, Copy)]
pub struct IsoDay {
    text: [u8; 16],
    len: u8,
}

impl IsoDay {
    /// `date`'s ISO form.
    pub fn of(date: Date) -> Self {
        let mut text = [0_u8; 16];
        let year = date.year();
        if (0..=9999).contains(&year) {
            let (month, day) = (u8::from(date.month()), date.day());
            let year = year as u32; // In 0..=9999.
            for (i, d) in [year / 1000, year / 100 % 10, year / 10 % 10, year % 10]
                .into_iter()
                .enumerate()
            {
                text[i] = b'0' + d as u8;
            }
            text[4] = b'-';
            text[5] = b'0' + month / 10;
            text[6] = b'0' + month % 10;
            text[7] = b'-';
            text[8] = b'0' + day / 10;
            text[9] = b'0' + day % 10;
            return Self { text, len: 10 };
        }
        let written = date.format(ISO).unwrap_or_default();
        let len = written.len().min(text.len());
        text[..len].copy_from_slice(&written.as_bytes()[..len]);
        Self {
            text,
            len: len as u8,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and dashes, or a prefix of `time`'s ASCII output, were written.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl rusqlite::ToSql for IsoDay {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::Borrowed(
            rusqlite::types::ValueRef::Text(self.as_str().as_bytes()),
        ))
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
    fn reading_in_place_is_what_the_format_descriptions_read() {
        let mut day = date!(0000 - 01 - 01);
        while day < date!(9999 - 09 - 01) {
            let (f, i) = (day.format(FRENCH).unwrap(), day.format(ISO).unwrap());
            assert_eq!(parse_french(&f), Ok(Date::parse(&f, FRENCH).unwrap()));
            assert_eq!(parse_iso(&i), Ok(Date::parse(&i, ISO).unwrap()));
            day += time::Duration::days(89);
        }
        for text in [
            "00/01/2020",
            "01/00/2020",
            "29/02/2100",
            "29/02/2000",
            "31/04/2021",
        ] {
            assert_eq!(
                parse_french(text).ok(),
                Date::parse(text, FRENCH).ok(),
                "{text}"
            );
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
