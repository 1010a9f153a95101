//! Dates: typed `jj/mm/aaaa` by people (or `aaaa-mm-jj` by machines), stored `aaaa-mm-jj` so
//! that SQLite compares them as text in calendar order.

use std::ops::RangeInclusive;

use time::{Date, Duration};

use crate::error::FieldErrors;

/// Years outside this range are typing mistakes in this registry.
const YEARS: RangeInclusive<i32> = 1900..=2200;

pub(crate) use store::date::{french, iso, DateError};

/// Parses `jj/mm/aaaa` (as in the seed's forms) or `aaaa-mm-jj` (ISO 8601, for machine clients);
/// a year out of range is [`DateError::Invalid`].
pub(crate) fn parse(input: &str) -> Result<Date, DateError> {
    let date = match input.trim().as_bytes().get(2) {
        Some(b'/') => store::date::parse_french(input)?,
        _ => store::date::parse_iso(input)?,
    };
    if YEARS.contains(&date.year()) {
        Ok(date)
    } else {
        Err(DateError::Invalid)
    }
}

/// The day typed in form field `name`, or `None` with the reason in `fields`.
pub(crate) fn field(fields: &mut FieldErrors, name: &str, text: &str) -> Option<Date> {
    let why = match parse(text) {
        Ok(d) => return Some(d),
        Err(DateError::Format) => "La date doit s'écrire jj/mm/aaaa.",
        Err(DateError::Invalid) => "Cette date n'existe pas.",
    };
    fields.insert(name.into(), why.into());
    None
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

/// The last day a period starting on `start` may end on to last at most `months` months: the
/// day before the same date `months` later (31 January + 1 month: the last day of February).
pub(crate) fn last_day_within_months(start: Date, months: u8) -> Date {
    let total = i32::from(u8::from(start.month())) - 1 + i32::from(months);
    let year = start.year() + total.div_euclid(12);
    // total.rem_euclid(12) + 1 is within 1..=12.
    let month = time::Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(start.month());
    let same_day =
        Date::from_calendar_date(year, month, start.day().min(month.length(year))).unwrap_or(start);
    if start.day() > month.length(year) {
        // No such day that month: the period may run to its last day.
        same_day
    } else {
        same_day - Duration::days(1)
    }
}

#[cfg(test)]
mod months_tests {
    use super::last_day_within_months;
    use time::macros::date;

    #[test]
    fn three_months_from_the_first_end_on_the_last_day_of_the_third() {
        assert_eq!(
            last_day_within_months(date!(2025 - 01 - 01), 3),
            date!(2025 - 03 - 31)
        );
        assert_eq!(
            last_day_within_months(date!(2024 - 11 - 15), 3),
            date!(2025 - 02 - 14)
        );
        assert_eq!(
            last_day_within_months(date!(2025 - 01 - 31), 1),
            date!(2025 - 02 - 28)
        );
        assert_eq!(
            last_day_within_months(date!(2025 - 03 - 01), 1),
            date!(2025 - 03 - 31)
        );
    }
}
