//! Dates: typed `jj/mm/aaaa` by people (or `aaaa-mm-jj` by machines), stored `aaaa-mm-jj` so
//! that SQLite compares them as text in calendar order.

use std::ops::RangeInclusive;

use time::{Date, Duration, Month};

/// Years outside this range are typing mistakes in this registry.
const YEARS: RangeInclusive<i32> = 1900..=2200;

/// Why a date was refused; the caller words it with the field's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateError {
    /// Neither `jj/mm/aaaa` nor `aaaa-mm-jj`.
    Format,
    /// A day that does not exist (`31/02/2020`), or a year out of range.
    Invalid,
}

/// Parses `jj/mm/aaaa` (as in the seed's forms) or `aaaa-mm-jj` (ISO 8601, for machine clients).
pub(crate) fn parse(input: &str) -> Result<Date, DateError> {
    let text = input.trim().as_bytes();
    let (day, month, year) = match *text {
        [d1, d2, b'/', m1, m2, b'/', y1, y2, y3, y4] => ([d1, d2], [m1, m2], [y1, y2, y3, y4]),
        [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] => ([d1, d2], [m1, m2], [y1, y2, y3, y4]),
        _ => return Err(DateError::Format),
    };
    let number = |digits: &[u8]| -> Result<i32, DateError> {
        digits.iter().try_fold(0_i32, |n, b| {
            if b.is_ascii_digit() {
                Ok(n * 10 + i32::from(b - b'0'))
            } else {
                Err(DateError::Format)
            }
        })
    };
    let (day, month, year) = (number(&day)?, number(&month)?, number(&year)?);
    if !YEARS.contains(&year) {
        return Err(DateError::Invalid);
    }
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .ok_or(DateError::Invalid)?;
    let day = u8::try_from(day).map_err(|_| DateError::Invalid)?;
    Date::from_calendar_date(year, month, day).map_err(|_| DateError::Invalid)
}

/// `jj/mm/aaaa`.
pub(crate) fn french(date: Date) -> String {
    format!(
        "{:02}/{:02}/{:04}",
        date.day(),
        u8::from(date.month()),
        date.year()
    )
}

/// `aaaa-mm-jj`, the stored form.
pub(crate) fn iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Reads the stored form back.
pub(crate) fn from_iso(text: &str) -> rusqlite::Result<Date> {
    parse(text).map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            "date mal formée en base".into(),
        )
    })
}

/// The first day of the 12 consecutive months that end on `end` (inclusive): the day after the
/// same date a year before, 29 February read as 28 in a common year.
pub(crate) fn twelve_months_before(end: Date) -> Date {
    let year = end.year() - 1;
    let same_day = Date::from_calendar_date(year, end.month(), end.day())
        .or_else(|_| Date::from_calendar_date(year, end.month(), end.day() - 1))
        .unwrap_or(end);
    same_day + Duration::days(1)
}

/// Serde helpers writing dates as `jj/mm/aaaa`, the way the forms show them.
pub(crate) mod serde_french {
    use serde::Serializer;
    use time::Date;

    pub(crate) fn serialize<S: Serializer>(date: &Date, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::french(*date))
    }

    pub(crate) mod option {
        use serde::Serializer;
        use time::Date;

        pub(crate) fn serialize<S: Serializer>(
            date: &Option<Date>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match date {
                Some(d) => s.serialize_str(&super::super::french(*d)),
                None => s.serialize_none(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn french_and_iso_dates_are_read() {
        assert_eq!(parse("12/03/1970").unwrap(), date!(1970 - 03 - 12));
        assert_eq!(parse(" 1970-03-12 ").unwrap(), date!(1970 - 03 - 12));
    }

    #[test]
    fn impossible_or_malformed_dates_are_refused() {
        assert_eq!(parse("31/02/2020"), Err(DateError::Invalid));
        assert_eq!(parse("29/02/2023"), Err(DateError::Invalid));
        assert_eq!(parse("01/01/1850"), Err(DateError::Invalid));
        assert_eq!(parse("1/3/1970"), Err(DateError::Format));
        assert_eq!(parse("12.03.1970"), Err(DateError::Format));
        assert_eq!(parse("1a/03/1970"), Err(DateError::Format));
        assert_eq!(parse("+1/03/1970"), Err(DateError::Format));
    }

    #[test]
    fn dates_print_back_as_typed() {
        let d = parse("05/08/1976").unwrap();
        assert_eq!(french(d), "05/08/1976");
        assert_eq!(iso(d), "1976-08-05");
        assert_eq!(from_iso("1976-08-05").unwrap(), d);
    }

    #[test]
    fn twelve_months_end_on_the_day_given() {
        assert_eq!(
            twelve_months_before(date!(2025 - 06 - 30)),
            date!(2024 - 07 - 01)
        );
        assert_eq!(
            twelve_months_before(date!(2024 - 02 - 29)),
            date!(2023 - 03 - 01)
        );
        assert_eq!(
            twelve_months_before(date!(2025 - 01 - 01)),
            date!(2024 - 01 - 02)
        );
    }
}
