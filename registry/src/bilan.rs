//! *Bilans* (issue 15 §4): how an establishment's workers spread over the dose bands of the
//! national annual report, by the effective dose each received over the 12 consecutive months
//! ending on a day, every employer together (as [`crate::limits`] sums it), by category and by
//! métier.
//!
//! | band ([`Band`]) | effective dose over 12 months |
//! |-----------------|-------------------------------|
//! | `Zero`          | 0 (no result counted, or only zeros) |
//! | `BelowOne`      | above 0, below 1 mSv          |
//! | `OneToSix`      | 1 mSv to below 6 mSv          |
//! | `SixToTwenty`   | 6 mSv to 20 mSv, the limit included |
//! | `AboveTwenty`   | above 20 mSv (the limit crossed) |
//!
//! The workers counted are the establishment's employments whose time there meets the 12
//! months (on the list, or removed within them).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use time::Date;

use crate::csv_format::to_cell;
use crate::date;

/// A band of the national report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// 0.
    Zero,
    /// Above 0, below 1 mSv.
    BelowOne,
    /// 1 to below 6 mSv.
    OneToSix,
    /// 6 to 20 mSv.
    SixToTwenty,
    /// Above 20 mSv.
    AboveTwenty,
}

impl Band {
    /// Every band, in order.
    pub const ALL: [Band; 5] = [
        Band::Zero,
        Band::BelowOne,
        Band::OneToSix,
        Band::SixToTwenty,
        Band::AboveTwenty,
    ];

    /// The band of an effective dose in µSv.
    pub fn of(usv: i64) -> Self {
        match usv {
            ..=0 => Self::Zero,
            1..=999 => Self::BelowOne,
            1_000..=5_999 => Self::OneToSix,
            6_000..=20_000 => Self::SixToTwenty,
            _ => Self::AboveTwenty,
        }
    }

    /// French label, for the pages and the CSV header.
    pub fn label(self) -> &'static str {
        match self {
            Self::Zero => "0 mSv",
            Self::BelowOne => "moins de 1 mSv",
            Self::OneToSix => "de 1 à moins de 6 mSv",
            Self::SixToTwenty => "de 6 à 20 mSv",
            Self::AboveTwenty => "plus de 20 mSv",
        }
    }

    /// Short label, for the chart's axis.
    pub fn short(self) -> &'static str {
        match self {
            Self::Zero => "0",
            Self::BelowOne => "< 1",
            Self::OneToSix => "1 – 6",
            Self::SixToTwenty => "6 – 20",
            Self::AboveTwenty => "> 20",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How many workers of one group fall in each band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BandCounts {
    /// The group: a category label, a métier, or "Ensemble".
    pub group: String,
    /// Workers per band, in [`Band::ALL`]'s order.
    pub counts: [u64; 5],
}

impl BandCounts {
    fn new(group: String) -> Self {
        Self {
            group,
            counts: [0; 5],
        }
    }

    /// Workers in the group.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// One employment counted: its category's label and its métier as declared, and the person's
/// effective dose over the 12 months in µSv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Counted {
    pub category: Option<&'static str>,
    pub job: Option<String>,
    pub effective_usv: i64,
}

/// An establishment's bilan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bilan {
    /// The establishment.
    pub establishment_id: i64,
    /// First day of the 12 months.
    #[serde(with = "date::serde_french")]
    pub from: Date,
    /// Last day.
    #[serde(with = "date::serde_french")]
    pub to: Date,
    /// Every worker counted.
    pub all: BandCounts,
    /// By category (A, B, non classé, then not given).
    pub by_category: Vec<BandCounts>,
    /// By métier, in alphabetical order (not given last).
    pub by_job: Vec<BandCounts>,
}

/// The label of a group left empty.
const NOT_GIVEN: &str = "Non renseigné";

impl Bilan {
    pub(crate) fn new(establishment_id: i64, from: Date, to: Date, rows: &[Counted]) -> Self {
        let mut all = BandCounts::new("Ensemble".into());
        let mut categories: BTreeMap<(u8, &str), BandCounts> = BTreeMap::new();
        let mut jobs: BTreeMap<(u8, String), BandCounts> = BTreeMap::new();
        for r in rows {
            let band = Band::of(r.effective_usv).index();
            all.counts[band] += 1;
            let category = match r.category {
                Some(c) => (0, c),
                None => (1, NOT_GIVEN),
            };
            categories
                .entry(category)
                .or_insert_with(|| BandCounts::new(category.1.into()))
                .counts[band] += 1;
            let job = match r.job.as_deref().map(str::trim).filter(|j| !j.is_empty()) {
                Some(j) => (0, j.to_owned()),
                None => (1, NOT_GIVEN.to_owned()),
            };
            jobs.entry(job.clone())
                .or_insert_with(|| BandCounts::new(job.1))
                .counts[band] += 1;
        }
        Self {
            establishment_id,
            from,
            to,
            all,
            by_category: categories.into_values().collect(),
            by_job: jobs.into_values().collect(),
        }
    }

    /// The bilan as CSV: UTF-8 with a BOM, `;`, one line per group, cells that a spreadsheet
    /// would read as a formula marked as text (like the workers export).
    pub fn write_csv<W: Write>(&self, mut out: W) -> io::Result<()> {
        out.write_all(b"\xEF\xBB\xBF")?;
        let mut csv = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(out);
        let io = |e: csv::Error| io::Error::other(e.to_string());
        let mut header = vec!["Regroupement".to_owned(), "Groupe".to_owned()];
        header.extend(Band::ALL.iter().map(|b| b.label().to_owned()));
        header.push("Total".into());
        csv.write_record(&header).map_err(io)?;
        let lines = std::iter::once(("Ensemble", &self.all))
            .chain(self.by_category.iter().map(|c| ("Catégorie", c)))
            .chain(self.by_job.iter().map(|c| ("Métier", c)));
        for (grouping, c) in lines {
            let mut record = vec![grouping.to_owned(), to_cell(&c.group).into_owned()];
            record.extend(c.counts.iter().map(u64::to_string));
            record.push(c.total().to_string());
            csv.write_record(&record).map_err(io)?;
        }
        csv.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_bands_are_the_national_reports_with_twenty_millisieverts_in_six_to_twenty() {
        let bands: Vec<Band> = [0, 1, 999, 1_000, 5_999, 6_000, 20_000, 20_001]
            .into_iter()
            .map(Band::of)
            .collect();
        use Band::*;
        assert_eq!(
            bands,
            [
                Zero,
                BelowOne,
                BelowOne,
                OneToSix,
                OneToSix,
                SixToTwenty,
                SixToTwenty,
                AboveTwenty
            ]
        );
    }

    #[test]
    fn workers_are_counted_by_category_and_job_and_the_csv_marks_formulas_as_text() {
        let row = |category, job: Option<&str>, usv| Counted {
            category,
            job: job.map(str::to_owned),
            effective_usv: usv,
        };
        let b = Bilan::new(
            1,
            date!(2024 - 07 - 01),
            date!(2025 - 06 - 30),
            &[
                row(Some("A"), Some("Manipulateur"), 7_000),
                row(Some("A"), Some("=HYPERLINK(\"x\")"), 0),
                row(None, None, 500),
                row(Some("B"), Some("Manipulateur"), 21_000),
            ],
        );
        assert_eq!(b.all.counts, [1, 1, 0, 1, 1]);
        let groups: Vec<(&str, [u64; 5])> = b
            .by_category
            .iter()
            .map(|c| (c.group.as_str(), c.counts))
            .collect();
        assert_eq!(
            groups,
            [
                ("A", [1, 0, 0, 1, 0]),
                ("B", [0, 0, 0, 0, 1]),
                ("Non renseigné", [0, 1, 0, 0, 0])
            ]
        );
        assert_eq!(
            b.by_job.last().map(|j| j.group.as_str()),
            Some("Non renseigné")
        );
        let mut out = Vec::new();
        b.write_csv(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("\u{feff}Regroupement;Groupe;0 mSv;"));
        assert!(text.contains("\nEnsemble;Ensemble;1;1;0;1;1;4\n"), "{text}");
        assert!(
            text.contains("Métier;\"'=HYPERLINK(\"\"x\"\")\";1;0;0;0;0;1"),
            "{text}"
        );
    }
}
