//! National statistics in the form of the annual report on the occupational exposure of
//! workers to ionising radiation: how many workers were followed each year, and how the year's
//! effective doses spread over the report's dose bands, nationally, by sector and by métier.
//! Read-only, aggregated, without any name or NIR; the operators' console shows them.
//!
//! | quantity | what is counted |
//! |----------|-----------------|
//! | year of a result | the year its period ends in (as the 12-month sums of `limits.rs` place a result) |
//! | worker followed in year *Y* | a national person (`registry_persons`) with at least one current result in *Y* other than operational (passive, internal, effective, equivalent, radon, aircrew, or an *absence de résultat*) |
//! | their dose in *Y* | the effective dose as the limits sum it (`storage_doses::EFFECTIVE_USV`: passive Hp(10), the E of internal, effective, radon and aircrew results) of the current results only (a corrected result counts through its correction), in every employment; operational results left out (they measure what the passive dosimeter measures) |
//! | dose band ([`DoseBand`]) | `0` (every result nil), `< 1 mSv` (above 0, below 1), `1 à 6 mSv` (from 1, below 6), `6 à 20 mSv` (from 6 up to 20 included), `> 20 mSv` |
//! | by sector, by métier | the results recorded under employments (`registry_workers`) of that sector or métier, as declared in the workers list; a worker employed in two sectors is counted in each, with the dose received in each, so the rows add up to more than the national count; no value declared: *non renseigné* |
//!
//! The queries read the dose and employment tables only; nothing here writes.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{params, Connection};

use crate::Result;

/// One of the annual report's dose bands of the year's effective dose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DoseBand {
    /// Every result nil (below the recording threshold).
    Zero,
    /// Above 0, below 1 mSv.
    BelowOne,
    /// From 1 mSv, below 6 mSv.
    OneToSix,
    /// From 6 mSv up to the limit, 20 mSv included.
    SixToTwenty,
    /// Above the limit, 20 mSv.
    AboveTwenty,
}

impl DoseBand {
    /// The bands, lowest first.
    pub const ALL: [Self; 5] = [
        Self::Zero,
        Self::BelowOne,
        Self::OneToSix,
        Self::SixToTwenty,
        Self::AboveTwenty,
    ];

    /// The band of a year's dose of `usv` µSv.
    pub fn of(usv: i64) -> Self {
        match usv {
            i64::MIN..=0 => Self::Zero,
            1..=999 => Self::BelowOne,
            1_000..=5_999 => Self::OneToSix,
            6_000..=20_000 => Self::SixToTwenty,
            _ => Self::AboveTwenty,
        }
    }

    /// As the report writes it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Zero => "0 mSv",
            Self::BelowOne => "< 1 mSv",
            Self::OneToSix => "1 à 6 mSv",
            Self::SixToTwenty => "6 à 20 mSv",
            Self::AboveTwenty => "> 20 mSv",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// How many workers fall in each band, lowest first ([`DoseBand::ALL`]'s order).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BandCounts(pub [u64; 5]);

impl BandCounts {
    /// Workers in `band`.
    pub fn get(&self, band: DoseBand) -> u64 {
        self.0[band.index()]
    }

    /// Workers in every band.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    fn add(&mut self, usv: i64) {
        self.0[DoseBand::of(usv).index()] += 1;
    }
}

/// The workers followed in one year, and their doses by band.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearFollowed {
    /// The calendar year.
    pub year: i32,
    /// Workers followed.
    pub followed: u64,
    /// Their year's effective dose, by band.
    pub bands: BandCounts,
    /// The collective dose: the sum of their doses, in µSv.
    pub collective_usv: i64,
}

/// One sector or one métier of a year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRow {
    /// The sector or métier as declared; `None` when not declared.
    pub name: Option<String>,
    /// Workers followed in it.
    pub followed: u64,
    /// Their dose received in it, by band.
    pub bands: BandCounts,
    /// The sum of those doses, in µSv.
    pub collective_usv: i64,
}

/// One year, as the annual report presents it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnualReport {
    /// The year, its count and bands nationally.
    pub national: YearFollowed,
    /// By sector, most workers first (then by name).
    pub by_sector: Vec<GroupRow>,
    /// By métier, most workers first (then by name).
    pub by_job: Vec<GroupRow>,
}

/// One person's results in one year under one employment's sector and métier.
struct Slice {
    person: i64,
    sector: Option<String>,
    job: Option<String>,
    year: i32,
    usv: i64,
}

/// Every (person, sector, métier, year) with its dose; `year` limits it to one year.
fn slices(conn: &Connection, year: Option<i32>) -> Result<Vec<Slice>> {
    // The effective dose as the limits sum it (`storage_doses::EFFECTIVE_USV`), of current
    // results only (a corrected one counts through its correction); operational results
    // measure the same exposure as the passive ones and are left out, as in the limits.
    let sql = format!(
        "SELECT coalesce(w.person_id, -w.id), w.sector, w.job,
                CAST(substr(d.period_end, 1, 4) AS INTEGER) AS year,
                coalesce(sum(coalesce({effective}, 0)), 0)
         FROM registry_doses d JOIN registry_workers w ON w.id = d.worker_id
         WHERE d.kind <> 'operational' AND {current}
           AND (?1 IS NULL OR d.period_end BETWEEN printf('%04d-01-01', ?1)
                                              AND printf('%04d-12-31', ?1))
         GROUP BY 1, 2, 3, 4",
        effective = crate::storage_doses::EFFECTIVE_USV,
        current = crate::storage_doses::CURRENT,
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![year], |r| {
        Ok(Slice {
            person: r.get(0)?,
            sector: r.get(1)?,
            job: r.get(2)?,
            year: r.get(3)?,
            usv: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Per year, the persons' doses summed over every employment, into counts and bands.
fn by_year(slices: &[Slice]) -> Vec<YearFollowed> {
    let mut doses: BTreeMap<i32, HashMap<i64, i64>> = BTreeMap::new();
    for s in slices {
        *doses
            .entry(s.year)
            .or_default()
            .entry(s.person)
            .or_default() += s.usv;
    }
    doses
        .into_iter()
        .map(|(year, persons)| {
            let mut bands = BandCounts::default();
            for usv in persons.values() {
                bands.add(*usv);
            }
            YearFollowed {
                year,
                followed: persons.len() as u64,
                bands,
                collective_usv: persons.values().sum(),
            }
        })
        .collect()
}

/// Rows by the group `key` picks (sector or métier), most workers first.
fn grouped(slices: &[Slice], key: impl Fn(&Slice) -> &Option<String>) -> Vec<GroupRow> {
    let mut doses: HashMap<&Option<String>, HashMap<i64, i64>> = HashMap::new();
    for s in slices {
        *doses
            .entry(key(s))
            .or_default()
            .entry(s.person)
            .or_default() += s.usv;
    }
    let mut rows: Vec<GroupRow> = doses
        .into_iter()
        .map(|(name, persons)| {
            let mut bands = BandCounts::default();
            for usv in persons.values() {
                bands.add(*usv);
            }
            GroupRow {
                name: name.clone(),
                followed: persons.len() as u64,
                bands,
                collective_usv: persons.values().sum(),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.followed
            .cmp(&a.followed)
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// The workers followed in each year the registry holds results for, oldest first.
pub fn followed_per_year(conn: &Connection) -> Result<Vec<YearFollowed>> {
    Ok(by_year(&slices(conn, None)?))
}

/// The year `year`: nationally, by sector and by métier. A year without results has every
/// count at zero.
pub fn annual_report(conn: &Connection, year: i32) -> Result<AnnualReport> {
    let slices = slices(conn, Some(year))?;
    let national = by_year(&slices).into_iter().next().unwrap_or(YearFollowed {
        year,
        followed: 0,
        bands: BandCounts::default(),
        collective_usv: 0,
    });
    Ok(AnnualReport {
        national,
        by_sector: grouped(&slices, |s| &s.sector),
        by_job: grouped(&slices, |s| &s.job),
    })
}

/// The label of a group: its declared name, or *non renseigné*.
pub fn group_label(name: Option<&str>) -> &str {
    name.unwrap_or("non renseigné")
}

/// `report` and `years` as a CSV file, as the workers list is written: UTF-8 with a BOM,
/// `;`-separated, a cell that a spreadsheet would run as a formula marked as text. Doses in
/// mSv with a decimal comma.
pub fn to_csv(report: &AnnualReport, years: &[YearFollowed]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut csv = csv::WriterBuilder::new()
            .delimiter(b';')
            .terminator(csv::Terminator::Any(b'\n'))
            .quote_style(csv::QuoteStyle::Necessary)
            .flexible(true)
            .from_writer(&mut out);
        let mut header = vec![
            "tableau".to_owned(),
            "annee".to_owned(),
            "groupe".to_owned(),
            "travailleurs_suivis".to_owned(),
        ];
        header.extend(DoseBand::ALL.iter().map(|b| b.label().to_owned()));
        header.push("dose_collective_msv".to_owned());
        let mut lines = vec![header];
        let mut line =
            |table: &str, year: i32, group: &str, followed: u64, bands: &BandCounts, usv: i64| {
                let mut l = vec![
                    table.to_owned(),
                    year.to_string(),
                    crate::csv_format::to_cell(group).into_owned(),
                    followed.to_string(),
                ];
                l.extend(bands.0.iter().map(u64::to_string));
                l.push(msv(usv));
                lines.push(l);
            };
        for y in years {
            line(
                "par année",
                y.year,
                "France entière",
                y.followed,
                &y.bands,
                y.collective_usv,
            );
        }
        let n = &report.national;
        let year = n.year;
        for (table, rows) in [
            ("par secteur", &report.by_sector),
            ("par métier", &report.by_job),
        ] {
            for r in rows {
                line(
                    table,
                    year,
                    group_label(r.name.as_deref()),
                    r.followed,
                    &r.bands,
                    r.collective_usv,
                );
            }
        }
        for l in lines {
            // Writing to a Vec cannot fail.
            let _ = csv.write_record(&l);
        }
        let _ = csv.flush();
    }
    out
}

/// µSv as mSv with a decimal comma and three decimals (`1234` → `1,234`).
pub fn msv(usv: i64) -> String {
    let sign = if usv < 0 { "-" } else { "" };
    let a = usv.unsigned_abs();
    format!("{sign}{},{:03}", a / 1000, a % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dose_falls_in_the_reports_band() {
        for (usv, band) in [
            (0, DoseBand::Zero),
            (1, DoseBand::BelowOne),
            (999, DoseBand::BelowOne),
            (1_000, DoseBand::OneToSix),
            (5_999, DoseBand::OneToSix),
            (6_000, DoseBand::SixToTwenty),
            (20_000, DoseBand::SixToTwenty),
            (20_001, DoseBand::AboveTwenty),
        ] {
            assert_eq!(DoseBand::of(usv), band, "{usv} µSv");
        }
    }

    #[test]
    fn msv_is_written_with_a_decimal_comma() {
        assert_eq!(msv(0), "0,000");
        assert_eq!(msv(1_234), "1,234");
        assert_eq!(msv(20_000), "20,000");
    }
}
