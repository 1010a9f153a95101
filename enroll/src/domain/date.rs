//! Dates as typed in French forms (birth dates).

use super::{serde_as_string, DomainError};
use std::fmt;
use std::ops::RangeInclusive;
use time::Date;

/// Dates outside this range are typing mistakes, not birth dates of people at work.
const YEARS: RangeInclusive<i32> = 1900..=2100;

/// A calendar date written `jj/mm/aaaa`, such as `05/08/1976`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrenchDate(Date);

impl FrenchDate {
    /// Parses exactly `jj/mm/aaaa` (two-digit day and month, four-digit year); surrounding spaces
    /// are ignored. Days that do not exist (`31/02/2020`, `29/02/2023`) are refused.
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let date = store::date::parse_french(input).map_err(|e| match e {
            store::date::DateError::Format => DomainError::DateFormat,
            store::date::DateError::Invalid => DomainError::DateInvalid,
        })?;
        if !YEARS.contains(&date.year()) {
            return Err(DomainError::DateOutOfRange);
        }
        Ok(Self(date))
    }

    /// The date, for arithmetic and storage.
    pub fn date(&self) -> Date {
        self.0
    }
}

impl From<FrenchDate> for Date {
    fn from(date: FrenchDate) -> Self {
        date.0
    }
}

impl fmt::Display for FrenchDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&store::date::french(self.0))
    }
}

serde_as_string!(FrenchDate, FrenchDate::parse);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{assert_all_refused, deserialized, serialized};
    use time::macros::date;

    fn parsed(input: &str) -> Date {
        FrenchDate::parse(input).unwrap().date()
    }

    #[test]
    fn day_month_year_is_read_in_french_order() {
        assert_eq!(parsed("05/08/1976"), date!(1976 - 08 - 05));
        assert_eq!(parsed(" 31/12/1999 "), date!(1999 - 12 - 31));
        assert_eq!(
            Date::from(FrenchDate::parse("01/01/2000").unwrap()),
            date!(2000 - 01 - 01)
        );
    }

    #[test]
    fn date_prints_back_as_typed() {
        for input in ["05/08/1976", "29/02/2000", "01/01/1900", "31/12/2100"] {
            assert_eq!(FrenchDate::parse(input).unwrap().to_string(), input);
        }
    }

    #[test]
    fn leap_days_exist_only_in_leap_years() {
        assert_eq!(parsed("29/02/2020"), date!(2020 - 02 - 29));
        assert_eq!(parsed("29/02/2000"), date!(2000 - 02 - 29));
        assert_all_refused(
            FrenchDate::parse,
            &["29/02/2023", "29/02/1900", "29/02/2100"],
            DomainError::DateInvalid,
        );
    }

    #[test]
    fn days_that_do_not_exist_are_refused() {
        assert_all_refused(
            FrenchDate::parse,
            &[
                "31/02/2020",
                "30/02/2020",
                "31/04/2020",
                "32/01/2020",
                "00/01/2020",
            ],
            DomainError::DateInvalid,
        );
    }

    #[test]
    fn months_that_do_not_exist_are_refused() {
        assert_all_refused(
            FrenchDate::parse,
            &["01/13/2020", "01/00/2020", "01/99/2020"],
            DomainError::DateInvalid,
        );
    }

    #[test]
    fn years_outside_1900_to_2100_are_refused() {
        assert_all_refused(
            FrenchDate::parse,
            &["31/12/1899", "01/01/2101", "01/01/0000", "01/01/9999"],
            DomainError::DateOutOfRange,
        );
    }

    #[test]
    fn other_layouts_are_refused() {
        assert_all_refused(
            FrenchDate::parse,
            &[
                "",
                "5/8/1976",
                "05/08/76",
                "1976-08-05",
                "05-08-1976",
                "05.08.1976",
                "05/08/1976 12:00",
                "05 / 08 / 1976",
                "0a/08/1976",
                "+5/08/1976",
                "05/08/19７6",
                "05/08/01976",
            ],
            DomainError::DateFormat,
        );
    }

    #[test]
    fn date_serializes_as_french_text() {
        let date = FrenchDate::parse("05/08/1976").unwrap();
        assert_eq!(serialized(&date), "05/08/1976");
        assert_eq!(deserialized::<FrenchDate>("05/08/1976").unwrap(), date);
        assert!(deserialized::<FrenchDate>("1976-08-05").is_err());
    }
}
