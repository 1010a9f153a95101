//! The regulatory dose limits over any 12 consecutive months, across every employer of a
//! person (labour code R.4451-6 and following; issue 15 §3), in this one place.
//!
//! | limit ([`Limit`])       | quantity summed ([`Quantity`])                        | adult   | under 18 |
//! |-------------------------|-------------------------------------------------------|---------|----------|
//! | `Effective`             | passive Hp(10) + internal, effective, radon, aircrew E | 20 mSv | 6 mSv    |
//! | `Lens`                  | passive Hp(3) + equivalent dose to the lens            | 20 mSv  | 15 mSv   |
//! | `Skin`                  | passive Hp(0.07) + equivalent dose to the skin         | 500 mSv | 150 mSv  |
//! | `Extremities`           | passive extremity Hp(0.07) + equivalent dose to them   | 500 mSv | 150 mSv  |
//! | `CategoryB` (employment classified B) | effective                                | 6 mSv   | —        |
//! | `CategoryBLens`         | lens                                                  | 15 mSv  | —        |
//! | `CategoryBSkin`         | skin                                                  | 150 mSv | —        |
//! | `CategoryBExtremities`  | extremities                                           | 150 mSv | —        |
//! | `Pregnancy` (declared)  | effective, from the declaration to its declared end   | 1 mSv   | 1 mSv    |
//!
//! Operational results are left out of every sum: they measure the exposure the passive
//! dosimeter measures, for optimisation, and would count it twice. A result replaced by a
//! correction is left out too: its correction counts instead.
//!
//! **Which window a result counts in.** A result counts in the 12 months ending on day `t`
//! when its period *ends* within them, from [`twelve_months_before`]`(t)` to `t`, whole, even
//! when its period began before them. The registry knows a dose per period, not per day:
//! sharing it out by days would invent a distribution the dosimeter never measured, and would
//! make a sum over a window depend on results of periods that end after it. Counting it whole
//! at its end is what the rolling effective dose always did, is how the national report counts
//! a year's results, and never lets a dose out of every window (each result is in the windows
//! holding its end). Periods are short (a passive period is at most 3 months, an aircrew one
//! a month), so the shift is at most a period's length.
//!
//! A new result ending on day `d` changes the sums of exactly the windows that hold `d`; the
//! largest of them ends on the end of some result (shrinking a window's end to the last result
//! it holds loses no result and only moves its start earlier), hence [`largest_window`].
//!
//! Under 18 means on the window's last day, from the birth date when the registry knows it
//! (adult limits otherwise).
//!
//! **Pregnancy.** The unborn child's dose from the declaration to the declared end is
//! estimated, conservatively, by the mother's effective dose over the results ending in that
//! span: the external effective dose (passive Hp(10), which overestimates the dose behind the
//! abdomen) plus the internal committed doses (internal and radon E) and the physician's and
//! aircrew effective doses. The limit is 1 mSv ([`pregnancy_crossing`]).

use time::Date;

use crate::date::twelve_months_before;
use crate::dose::{DoseKind, NewDose, Organ};

/// One result's part in the sums, in µSv.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Contribution {
    /// Last day of the result's period.
    pub period_end: Date,
    /// What it adds to the effective dose.
    pub effective_usv: i64,
    /// What it adds to the skin dose.
    pub skin_usv: i64,
    /// What it adds to the extremities' dose.
    pub extremities_usv: i64,
    /// What it adds to the lens' dose.
    pub lens_usv: i64,
}

impl Contribution {
    /// The part of a result not yet recorded: what `storage_doses`'s `EFFECTIVE_USV`,
    /// `SKIN_USV`, `EXTREMITIES_USV` and `LENS_USV` read of its row once it is (a test holds
    /// the two to the same answers).
    pub(crate) fn of(d: &NewDose) -> Self {
        let passive = d.kind == DoseKind::Passive;
        let organ = |o: Organ| if d.organ == Some(o) { d.h_usv } else { None };
        Self {
            period_end: d.period_end,
            effective_usv: match d.kind {
                DoseKind::Passive => d.hp10_usv,
                DoseKind::Operational => None,
                _ => d.e_usv,
            }
            .unwrap_or(0),
            skin_usv: if passive {
                d.hp007_usv
            } else {
                organ(Organ::Skin)
            }
            .unwrap_or(0),
            extremities_usv: if passive {
                d.extremity_usv
            } else {
                organ(Organ::Extremities)
            }
            .unwrap_or(0),
            lens_usv: if passive {
                d.hp3_usv
            } else {
                organ(Organ::Lens)
            }
            .unwrap_or(0),
        }
    }
}

/// The days a new result ending on `period_end` is checked over: every result ending in them
/// shares a 12-month window with it.
pub(crate) fn span_of(period_end: Date) -> (Date, Date) {
    (
        twelve_months_before(period_end),
        period_end + time::Duration::days(366),
    )
}

/// The quantity a limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quantity {
    Effective,
    Skin,
    Extremities,
    Lens,
}

impl Quantity {
    pub(crate) fn of(self, c: &Contribution) -> i64 {
        match self {
            Self::Effective => c.effective_usv,
            Self::Skin => c.skin_usv,
            Self::Extremities => c.extremities_usv,
            Self::Lens => c.lens_usv,
        }
    }
}

/// A limit the registry checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Effective dose: 20 mSv, 6 under 18.
    Effective,
    /// Skin dose: 500 mSv, 150 under 18.
    Skin,
    /// A worker classified B above 6 mSv effective: should be A.
    CategoryB,
    /// A worker classified B above 150 mSv skin: should be A.
    CategoryBSkin,
    /// Lens of the eye: 20 mSv, 15 under 18.
    Lens,
    /// Extremities: 500 mSv, 150 under 18.
    Extremities,
    /// A worker classified B above 15 mSv to the lens: should be A.
    CategoryBLens,
    /// A worker classified B above 150 mSv to the extremities: should be A.
    CategoryBExtremities,
    /// A declared pregnancy: above 1 mSv to the unborn child before the declared end.
    Pregnancy,
}

impl Limit {
    /// Every limit over 12 consecutive months, in the table's order ([`Limit::Pregnancy`] is
    /// checked over the declared span instead).
    pub const ROLLING: [Limit; 8] = [
        Limit::Effective,
        Limit::Lens,
        Limit::Skin,
        Limit::Extremities,
        Limit::CategoryB,
        Limit::CategoryBLens,
        Limit::CategoryBSkin,
        Limit::CategoryBExtremities,
    ];

    /// Stored form, checked by the schema.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Effective => "effective",
            Self::Skin => "skin",
            Self::CategoryB => "category_b",
            Self::CategoryBSkin => "category_b_skin",
            Self::Lens => "lens",
            Self::Extremities => "extremities",
            Self::CategoryBLens => "category_b_lens",
            Self::CategoryBExtremities => "category_b_extremities",
            Self::Pregnancy => "pregnancy",
        }
    }

    pub(crate) fn from_str(s: &str) -> Option<Self> {
        Self::ROLLING
            .into_iter()
            .chain([Self::Pregnancy])
            .find(|l| l.as_str() == s)
    }

    /// French label, for the pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Effective => "Limite de dose efficace dépassée",
            Self::Skin => "Limite de dose à la peau dépassée",
            Self::Lens => "Limite de dose au cristallin dépassée",
            Self::Extremities => "Limite de dose aux extrémités dépassée",
            Self::CategoryB => "Travailleur de catégorie B au-delà de 6 mSv (dose efficace) : à classer en catégorie A",
            Self::CategoryBSkin => "Travailleur de catégorie B au-delà de 150 mSv (peau) : à classer en catégorie A",
            Self::CategoryBLens => "Travailleur de catégorie B au-delà de 15 mSv (cristallin) : à classer en catégorie A",
            Self::CategoryBExtremities => "Travailleur de catégorie B au-delà de 150 mSv (extrémités) : à classer en catégorie A",
            Self::Pregnancy => "Grossesse déclarée : dose à l'enfant à naître au-delà de 1 mSv",
        }
    }

    /// Whether this is the category check (for the employer that classified the worker B).
    pub(crate) fn is_category_check(self) -> bool {
        matches!(
            self,
            Self::CategoryB
                | Self::CategoryBSkin
                | Self::CategoryBLens
                | Self::CategoryBExtremities
        )
    }

    pub(crate) fn quantity(self) -> Quantity {
        match self {
            Self::Effective | Self::CategoryB | Self::Pregnancy => Quantity::Effective,
            Self::Skin | Self::CategoryBSkin => Quantity::Skin,
            Self::Lens | Self::CategoryBLens => Quantity::Lens,
            Self::Extremities | Self::CategoryBExtremities => Quantity::Extremities,
        }
    }

    /// The threshold in µSv (a sum strictly above crosses it), or `None` when the limit does
    /// not apply: the category check is for adults classified B.
    pub(crate) fn threshold_usv(self, minor: bool, category_b: bool) -> Option<i64> {
        match (self, minor) {
            (Self::Effective, false) => Some(20_000),
            (Self::Effective, true) => Some(6_000),
            (Self::Lens, false) => Some(20_000),
            (Self::Lens, true) => Some(15_000),
            (Self::Skin | Self::Extremities, false) => Some(500_000),
            (Self::Skin | Self::Extremities, true) => Some(150_000),
            (Self::Pregnancy, _) => Some(PREGNANCY_LIMIT_USV),
            (Self::CategoryB, false) if category_b => Some(6_000),
            (Self::CategoryBLens, false) if category_b => Some(15_000),
            (Self::CategoryBSkin | Self::CategoryBExtremities, false) if category_b => {
                Some(150_000)
            }
            _ => None,
        }
    }
}

/// The unborn child's limit, µSv.
const PREGNANCY_LIMIT_USV: i64 = 1_000;

/// 12 consecutive months (or a declared pregnancy) and what a quantity adds up to in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub from: Date,
    pub to: Date,
    pub sum_usv: i64,
}

/// The sum of `quantity` over the results ending within `[from, to]`.
pub(crate) fn sum_between(
    records: &[Contribution],
    quantity: Quantity,
    from: Date,
    to: Date,
) -> Window {
    let sum_usv = records
        .iter()
        .filter(|c| c.period_end >= from && c.period_end <= to)
        .map(|c| quantity.of(c))
        .sum();
    Window { from, to, sum_usv }
}

/// The sum of `quantity` over the 12 months ending on `to`.
pub(crate) fn sum_ending(records: &[Contribution], quantity: Quantity, to: Date) -> Window {
    sum_between(records, quantity, twelve_months_before(to), to)
}

/// Of the windows of 12 consecutive months that hold `day`, the one where `quantity` adds up
/// to most (the earliest of equals). `records` must hold every result ending within a year
/// either side of `day`.
pub(crate) fn largest_window(records: &[Contribution], quantity: Quantity, day: Date) -> Window {
    let mut best = sum_ending(records, quantity, day);
    for c in records {
        let end = c.period_end;
        if end > day && twelve_months_before(end) <= day {
            let w = sum_ending(records, quantity, end);
            if w.sum_usv > best.sum_usv {
                best = w;
            }
        }
    }
    best
}

/// Whether someone born on `birth` is under 18 on `day`.
pub(crate) fn minor_on(birth: Option<Date>, day: Date) -> bool {
    let Some(birth) = birth else {
        return false;
    };
    // 29 February: the 18th birthday is 1 March in a common year.
    let eighteenth = Date::from_calendar_date(birth.year() + 18, birth.month(), birth.day())
        .or_else(|_| Date::from_calendar_date(birth.year() + 18, time::Month::March, 1))
        .unwrap_or(birth);
    day < eighteenth
}

/// A limit crossed in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Crossing {
    pub limit: Limit,
    pub window: Window,
    pub threshold_usv: i64,
}

/// The limits over 12 months the sums over the windows holding `day` are above, for a person
/// born on `birth` whose employment is classified B or not.
pub(crate) fn crossings(
    records: &[Contribution],
    day: Date,
    birth: Option<Date>,
    category_b: bool,
) -> Vec<Crossing> {
    let mut out = Vec::new();
    for limit in Limit::ROLLING {
        let window = largest_window(records, limit.quantity(), day);
        let minor = minor_on(birth, window.to);
        if let Some(threshold_usv) = limit.threshold_usv(minor, category_b) {
            if window.sum_usv > threshold_usv {
                out.push(Crossing {
                    limit,
                    window,
                    threshold_usv,
                });
            }
        }
    }
    out
}

/// The pregnancy declared on `declared` with its end `ends`: crossed when the estimate of the
/// unborn child's dose (see the module's doc) over the results ending in the span is above
/// 1 mSv. `records` must hold every result ending in the span.
pub(crate) fn pregnancy_crossing(
    records: &[Contribution],
    declared: Date,
    ends: Date,
) -> Option<Crossing> {
    let window = sum_between(records, Quantity::Effective, declared, ends);
    (window.sum_usv > PREGNANCY_LIMIT_USV).then_some(Crossing {
        limit: Limit::Pregnancy,
        window,
        threshold_usv: PREGNANCY_LIMIT_USV,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;
    use time::Duration;

    fn effective(end: Date, usv: i64) -> Contribution {
        Contribution {
            period_end: end,
            effective_usv: usv,
            skin_usv: 0,
            extremities_usv: 0,
            lens_usv: 0,
        }
    }

    /// `Contribution::of` and the SQL the stored rows are read with give the same parts, for
    /// every kind and organ, and for quantities a kind does not carry.
    #[test]
    fn a_new_result_counts_as_its_stored_row_will() {
        use crate::storage_doses::{EFFECTIVE_USV, EXTREMITIES_USV, LENS_USV, SKIN_USV};
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (kind TEXT, hp10_usv INT, hp007_usv INT, e_usv INT,
                 extremity_usv INT, hp3_usv INT, organ TEXT, h_usv INT)",
        )
        .unwrap();
        let sql = format!(
            "SELECT coalesce({EFFECTIVE_USV}, 0), coalesce({SKIN_USV}, 0),
                    coalesce({EXTREMITIES_USV}, 0), coalesce({LENS_USV}, 0) FROM t d"
        );
        let organs = [
            None,
            Some(Organ::Lens),
            Some(Organ::Skin),
            Some(Organ::Extremities),
        ];
        let mut checked = 0;
        for kind in DoseKind::ALL {
            for organ in organs {
                for (i, all) in [false, true].into_iter().enumerate() {
                    let q = |n: i64| (all || n % 2 == 0).then_some(n * 10 + i as i64);
                    let d = NewDose {
                        kind,
                        period_start: date!(2025 - 01 - 01),
                        period_end: date!(2025 - 01 - 31),
                        hp10_usv: q(1),
                        hp007_usv: q(2),
                        e_usv: q(3),
                        extremity_usv: q(4),
                        hp3_usv: q(5),
                        organ,
                        h_usv: q(6),
                        radon_bqhm3: None,
                        siret: None,
                        replaces: None,
                    };
                    conn.execute("DELETE FROM t", []).unwrap();
                    conn.execute(
                        "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                        rusqlite::params![
                            kind.as_str(),
                            d.hp10_usv,
                            d.hp007_usv,
                            d.e_usv,
                            d.extremity_usv,
                            d.hp3_usv,
                            d.organ.map(Organ::as_str),
                            d.h_usv
                        ],
                    )
                    .unwrap();
                    let stored: [i64; 4] = conn
                        .query_row(&sql, [], |r| {
                            Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?])
                        })
                        .unwrap();
                    let c = Contribution::of(&d);
                    assert_eq!(
                        [c.effective_usv, c.skin_usv, c.extremities_usv, c.lens_usv],
                        stored,
                        "{kind:?} {organ:?}"
                    );
                    assert_eq!(c.period_end, d.period_end);
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, DoseKind::ALL.len() * 8);
    }

    #[test]
    fn a_window_holds_the_results_ending_within_its_twelve_months() {
        let records = [
            effective(date!(2024 - 06 - 30), 5_000),
            effective(date!(2024 - 07 - 01), 7_000),
            effective(date!(2025 - 06 - 30), 9_000),
        ];
        // 1 July 2024 to 30 June 2025: the first result is a day too early.
        let w = sum_ending(&records, Quantity::Effective, date!(2025 - 06 - 30));
        assert_eq!((w.from, w.sum_usv), (date!(2024 - 07 - 01), 16_000));
    }

    #[test]
    fn the_largest_window_may_end_after_the_day() {
        let records = [
            effective(date!(2024 - 01 - 31), 15_000),
            effective(date!(2024 - 06 - 30), 3_000),
            effective(date!(2025 - 03 - 31), 4_000),
        ];
        let w = largest_window(&records, Quantity::Effective, date!(2024 - 06 - 30));
        assert_eq!((w.to, w.sum_usv), (date!(2024 - 06 - 30), 18_000));
        let w = largest_window(&records, Quantity::Effective, date!(2025 - 03 - 31));
        assert_eq!((w.to, w.sum_usv), (date!(2025 - 03 - 31), 7_000));
        let w = largest_window(&records, Quantity::Effective, date!(2024 - 01 - 31));
        assert_eq!((w.to, w.sum_usv), (date!(2024 - 06 - 30), 18_000));
    }

    #[test]
    fn limits_are_lower_under_eighteen_and_the_category_check_is_for_b() {
        let records = [effective(date!(2025 - 05 - 31), 7_000)];
        let day = date!(2025 - 05 - 31);
        let limits = |birth, b| -> Vec<Limit> {
            crossings(&records, day, birth, b)
                .into_iter()
                .map(|c| c.limit)
                .collect()
        };
        assert_eq!(
            limits(Some(date!(2008 - 01 - 01)), false),
            [Limit::Effective]
        );
        assert_eq!(limits(Some(date!(2007 - 05 - 31)), false), []);
        assert_eq!(limits(None, false), []);
        assert_eq!(limits(None, true), [Limit::CategoryB]);
        assert!(minor_on(Some(date!(2008 - 02 - 29)), date!(2026 - 02 - 28)));
        assert!(!minor_on(
            Some(date!(2008 - 02 - 29)),
            date!(2026 - 03 - 01)
        ));
    }

    #[test]
    fn lens_and_extremities_have_their_own_limits_and_category_checks() {
        let day = date!(2025 - 05 - 31);
        let one = |lens, extremities| {
            [Contribution {
                period_end: day,
                effective_usv: 0,
                skin_usv: 0,
                extremities_usv: extremities,
                lens_usv: lens,
            }]
        };
        let limits = |records: &[Contribution], birth, b| -> Vec<Limit> {
            crossings(records, day, birth, b)
                .into_iter()
                .map(|c| c.limit)
                .collect()
        };
        assert_eq!(limits(&one(20_000, 500_000), None, false), []);
        assert_eq!(
            limits(&one(20_001, 500_001), None, false),
            [Limit::Lens, Limit::Extremities]
        );
        assert_eq!(
            limits(&one(15_001, 150_001), None, true),
            [Limit::CategoryBLens, Limit::CategoryBExtremities]
        );
        let minor = Some(date!(2009 - 01 - 01));
        assert_eq!(
            limits(&one(15_001, 150_001), minor, false),
            [Limit::Lens, Limit::Extremities]
        );
    }

    #[test]
    fn a_pregnancy_counts_the_results_ending_between_declaration_and_end() {
        let records = [
            effective(date!(2025 - 01 - 31), 5_000),
            effective(date!(2025 - 03 - 31), 600),
            effective(date!(2025 - 04 - 30), 500),
        ];
        let c = pregnancy_crossing(&records, date!(2025 - 03 - 01), date!(2025 - 11 - 30))
            .expect("1.1 mSv is above 1 mSv");
        assert_eq!((c.limit, c.window.sum_usv), (Limit::Pregnancy, 1_100));
        assert_eq!(
            pregnancy_crossing(&records, date!(2025 - 04 - 01), date!(2025 - 11 - 30)),
            None
        );
    }

    /// The definition, day by day: every window of 12 months holding `day`, each result
    /// counted when its period ends within the window (see the module's doc), corrections
    /// having left the results they replace.
    fn brute_force(records: &[Contribution], quantity: Quantity, day: Date) -> i64 {
        let mut best = 0;
        let mut end = day;
        while twelve_months_before(end) <= day {
            let from = twelve_months_before(end);
            let mut sum = 0;
            let mut d = from;
            while d <= end {
                sum += records
                    .iter()
                    .filter(|c| c.period_end == d)
                    .map(|c| quantity.of(c))
                    .sum::<i64>();
                d += Duration::days(1);
            }
            best = best.max(sum);
            end += Duration::days(1);
        }
        best
    }

    fn base() -> Date {
        date!(2023 - 01 - 01)
    }

    /// A result as generated: employer, first day and length of its period (days after 1
    /// January 2023; up to 92 days, so many straddle a window's start), the quantity it
    /// carries (0 effective, 1 skin, 2 extremities, 3 lens), µSv, and whether a correction
    /// replaced it by another value.
    type Generated = (u8, i64, i64, u8, i64, Option<i64>);

    fn results() -> impl Strategy<Value = Vec<Generated>> {
        proptest::collection::vec(
            (
                0_u8..4,
                0_i64..1100,
                0_i64..92,
                0_u8..4,
                0_i64..8_000,
                proptest::option::of(0_i64..8_000),
            ),
            1..40,
        )
    }

    fn quantity(q: u8) -> Quantity {
        [
            Quantity::Effective,
            Quantity::Skin,
            Quantity::Extremities,
            Quantity::Lens,
        ][usize::from(q % 4)]
    }

    /// What the registry sums: each result's current value (its correction's when corrected;
    /// the replaced one is left out), at its period's end.
    fn current(results: &[Generated], employer: Option<u8>) -> Vec<Contribution> {
        results
            .iter()
            .filter(|r| employer.is_none_or(|e| e == r.0))
            .map(|&(_, start, len, q, usv, corrected)| {
                let value = corrected.unwrap_or(usv);
                let mut c = effective(base() + Duration::days(start + len), 0);
                match quantity(q) {
                    Quantity::Effective => c.effective_usv = value,
                    Quantity::Skin => c.skin_usv = value,
                    Quantity::Extremities => c.extremities_usv = value,
                    Quantity::Lens => c.lens_usv = value,
                }
                c
            })
            .collect()
    }

    proptest! {
        #[test]
        fn the_largest_window_is_the_largest_of_every_window_holding_the_day(
            results in results(),
            pick in any::<prop::sample::Index>(),
            q in 0_u8..4,
        ) {
            let records = current(&results, None);
            let day = records[pick.index(records.len())].period_end;
            let w = largest_window(&records, quantity(q), day);
            prop_assert_eq!(w.sum_usv, brute_force(&records, quantity(q), day));
            prop_assert!(w.from <= day && day <= w.to);
            prop_assert_eq!(w, sum_ending(&records, quantity(q), w.to));
        }

        #[test]
        fn a_correction_counts_instead_of_what_it_replaces(
            results in results(),
            pick in any::<prop::sample::Index>(),
            q in 0_u8..4,
        ) {
            // Recorded: every original, plus each correction; the sums leave the replaced out.
            let records = current(&results, None);
            let day = records[pick.index(records.len())].period_end;
            let originals: Vec<Generated> =
                results.iter().map(|r| (r.0, r.1, r.2, r.3, r.4, None)).collect();
            let without = sum_ending(&current(&originals, None), quantity(q), day).sum_usv;
            let delta: i64 = results
                .iter()
                .filter(|r| quantity(r.3) == quantity(q))
                .filter_map(|r| {
                    let end = base() + Duration::days(r.1 + r.2);
                    let inside = end >= twelve_months_before(day) && end <= day;
                    r.5.filter(|_| inside).map(|c| c - r.4)
                })
                .sum();
            prop_assert_eq!(sum_ending(&records, quantity(q), day).sum_usv, without + delta);
        }

        #[test]
        fn results_of_every_employer_add_up_and_none_lowers_the_sum(
            results in results(),
            pick in any::<prop::sample::Index>(),
            q in 0_u8..4,
        ) {
            let all = current(&results, None);
            let day = all[pick.index(all.len())].period_end;
            let total = sum_ending(&all, quantity(q), day).sum_usv;
            let mut by_employer = 0;
            for employer in 0..4 {
                let own = current(&results, Some(employer));
                by_employer += sum_ending(&own, quantity(q), day).sum_usv;
                prop_assert!(
                    largest_window(&own, quantity(q), day).sum_usv
                        <= largest_window(&all, quantity(q), day).sum_usv
                );
            }
            prop_assert_eq!(total, by_employer);
        }

        #[test]
        fn a_result_straddling_a_window_start_counts_whole_in_the_windows_holding_its_end(
            start in 0_i64..700,
            len in 1_i64..92,
            usv in 1_i64..8_000,
            shift in 0_i64..400,
        ) {
            let r = effective(base() + Duration::days(start + len), usv);
            let to = base() + Duration::days(start + len + shift);
            let w = sum_ending(&[r], Quantity::Effective, to);
            let holds_end = w.from <= r.period_end;
            prop_assert_eq!(w.sum_usv, if holds_end { usv } else { 0 });
        }
    }
}
