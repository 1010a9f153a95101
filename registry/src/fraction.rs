//! Fractions of a workers list (*Fractionner la liste*): named parts of an establishment's list
//! (a site, a department, a team) that a worker is in at most one of.

use serde::Serialize;

/// One fraction of an establishment's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fraction {
    /// Internal id.
    pub id: i64,
    /// Its name, unique in the establishment regardless of case and accents.
    pub name: String,
    /// How many workers of the list (not removed) are in it.
    pub workers: u64,
}

/// A search restricted by fraction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FractionFilter {
    /// Whatever the fraction.
    #[default]
    Any,
    /// Only the workers in this fraction.
    In(i64),
    /// Only the workers in no fraction.
    None,
}
