//! One person per NIR across establishments (issue 15 §1): what a correspondent's declaration
//! does to the national person behind the line.
//!
//! A line of a workers list is an *employment* (`registry_workers`); the person it names is
//! found by NIR in `registry_persons`. The person's identity is the one every establishment
//! shares, so a correspondent may change it only while no other establishment employs them:
//!
//! | NIR known as | same identity | other identity |
//! |---|---|---|
//! | nobody | the line's own person corrected (NIR typo), or a new person | — |
//! | a person employed elsewhere | linked | **conflict**: not applied, recorded |
//! | a person known only here | corrected from the line | corrected from the line |
//!
//! Two identities are the same when their folded "LAST FIRST" are equal and their birth dates,
//! when both are known, are the same day.

use crate::worker::Columns;

/// A person as a declaration compares with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Known {
    pub id: i64,
    pub search_name: String,
    /// Stored form (`aaaa-mm-jj`).
    pub birth_date: Option<String>,
    /// Employed (now or before) by another establishment than the declaring one.
    pub elsewhere: bool,
}

/// What a declaration does to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    /// Linked to this person, whose identity stays as it is.
    Existing(i64),
    /// This person's NIR and identity replaced by the line's (no other establishment knows them).
    Correct(i64),
    /// A person created from the line.
    New,
    /// Not applied: this person, known elsewhere, has another identity.
    Conflict(i64),
}

/// Whether the declared identity is the person's.
pub(crate) fn same_identity(p: &Known, declared: &Columns) -> bool {
    p.search_name == declared.search_name
        && match (&p.birth_date, &declared.birth_date) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
}

/// Decides for one line: `by_nir` is the person holding the line's NIR, `current` the person the
/// employment pointed to before (a *Modification*), if any.
pub(crate) fn bind(by_nir: Option<&Known>, current: Option<&Known>, declared: &Columns) -> Binding {
    match by_nir {
        Some(p) if !p.elsewhere => Binding::Correct(p.id),
        Some(p) if same_identity(p, declared) => Binding::Existing(p.id),
        Some(p) => Binding::Conflict(p.id),
        None => match current {
            Some(c) if !c.elsewhere => Binding::Correct(c.id),
            _ => Binding::New,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(name: &str, birth: Option<&str>) -> Columns {
        Columns {
            birth_date: birth.map(str::to_owned),
            search_name: name.to_owned(),
            search_other: None,
        }
    }

    fn known(id: i64, name: &str, birth: Option<&str>, elsewhere: bool) -> Known {
        Known {
            id,
            search_name: name.to_owned(),
            birth_date: birth.map(str::to_owned),
            elsewhere,
        }
    }

    #[test]
    fn a_person_known_elsewhere_under_the_same_identity_is_linked() {
        let p = known(7, "DURAND ZOE", Some("1976-09-14"), true);
        let d = declared("DURAND ZOE", Some("1976-09-14"));
        assert_eq!(bind(Some(&p), None, &d), Binding::Existing(7));
        // A birth date only one side knows does not make another person.
        assert_eq!(
            bind(Some(&p), None, &declared("DURAND ZOE", None)),
            Binding::Existing(7)
        );
    }

    #[test]
    fn another_name_or_birth_date_for_a_person_known_elsewhere_is_a_conflict() {
        let p = known(7, "DURAND ZOE", Some("1976-09-14"), true);
        assert_eq!(
            bind(Some(&p), None, &declared("MARTIN ZOE", Some("1976-09-14"))),
            Binding::Conflict(7)
        );
        assert_eq!(
            bind(Some(&p), None, &declared("DURAND ZOE", Some("1976-09-15"))),
            Binding::Conflict(7)
        );
    }

    #[test]
    fn a_person_known_only_here_follows_the_correspondent() {
        let p = known(7, "DURAND ZOE", None, false);
        assert_eq!(
            bind(Some(&p), None, &declared("MARTIN ZOE", None)),
            Binding::Correct(7)
        );
        // A NIR corrected on a line whose person nobody else employs: the same person.
        assert_eq!(
            bind(None, Some(&p), &declared("DURAND ZOE", None)),
            Binding::Correct(7)
        );
        let shared = known(8, "DURAND ZOE", None, true);
        assert_eq!(
            bind(None, Some(&shared), &declared("DURAND ZOE", None)),
            Binding::New
        );
        assert_eq!(
            bind(None, None, &declared("DURAND ZOE", None)),
            Binding::New
        );
    }
}
