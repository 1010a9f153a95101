//! Who may read and write what: the seed's role matrix, in this one place.
//!
//! Every method of [`crate::Registry`] asks [`allows`] before touching a worker's data; no
//! handler decides on its own. Changing the policy (say, to let the radiation protection adviser
//! read passive results, as art. R.4451-69 of the labour code allows) is a change to this file.
//!
//! | data ([`DataKind`])                                   | read           | write         |
//! |-------------------------------------------------------|----------------|---------------|
//! | administrative, complete (`AdminComplete`)            | CSE            | CSE           |
//! | administrative for dosimetric follow-up (`AdminForDosimetry`) | CSE, PCR | CSE         |
//! | medical follow-up card (`MedicalCard`)                | MDT            | MDT           |
//! | passive dosimetry (`PassiveDose`)                     | MDT            | dosimetry body|
//! | internal exposure (`InternalExposure`)                | MDT            | MDT           |
//! | effective dose (`EffectiveDose`)                      | PCR, MDT       | MDT           |
//! | operational dosimetry (`OperationalDose`)             | PCR, MDT       | PCR           |
//!
//! Reading is the seed's table verbatim. Writing: the CSE keeps the workers list (both
//! administrative kinds), the PCR sends operational dosimetry, the physician keeps the medical
//! follow-up card and sends internal exposure and effective doses, and a dosimetry body sends
//! passive results and reads nothing at all.
//!
//! The two administrative views differ by field:
//! - **complete** (CSE): every field of the workers form, including the contract type and the
//!   working-time fraction (*quotité*), and the export of the whole list;
//! - **for dosimetric follow-up** (PCR): the worker's identity (names, NIR and key, birth date),
//!   the medical card number, fraction, category, job, radiological hazard, activity character,
//!   domain and sector. The NIR stays visible: it is what identifies a worker to the dosimetry
//!   services and across employers. Left out: the contract type and the working-time fraction,
//!   terms of employment that say nothing about exposure.
//!
//! The physician has no administrative access in the table, but the medical follow-up card
//! carries the worker's identity: a physician finds and reads workers through the card, with
//! the same fields as the dosimetric view ([`identity_views`]).
//!
//! ## A dosimetry body reaches only its clients
//!
//! The body's column above applies only in an establishment that has *named* that body as its
//! dosimetry body ([`admits`]); everywhere else a body gets nothing, with one answer
//! ([`crate::RegistryError::NotClient`], `403 not_client`) given before any worker, NIR or card
//! number is looked up — so that a body cannot learn where a NIR works, nor which
//! establishments exist.
//!
//! | caller            | establishment named the body | it did not             |
//! |-------------------|------------------------------|------------------------|
//! | CSE, PCR, MDT     | the matrix (their attachment)| the matrix             |
//! | dosimetry body    | the matrix (body's column)   | nothing: `not_client`  |
//!
//! A body is known by the common name of its certificate (profile `organisme`, issued by an
//! operator only; a renewed certificate keeps the name, hence the clients). Who keeps an
//! establishment's list of bodies ([`may_manage_bodies`]):
//!
//! | the establishment's dosimetry bodies | CSE | PCR | MDT | dosimetry body |
//! |--------------------------------------|-----|-----|-----|----------------|
//! | read                                 | yes | yes | yes | -              |
//! | write (name a body, remove it)       | yes | -   | -   | -              |
//!
//! The correspondent keeps it, as they keep the rest of the establishment's administrative
//! side; the PCR and the physician see which bodies send results. An operator may also name or
//! remove a body (`siseri registry organisme`), outside this table: the CLI is not a role.
//!
//! ## Whose results, over which periods (R.4451-69; issue 15 §2)
//!
//! A worker's results come from every employer of their career. Of the kinds the matrix lets a
//! role read, it sees ([`dose_scope`]):
//!
//! | role | results shown |
//! |------|---------------|
//! | PCR  | those of its own establishment, whose period meets one of the worker's periods of employment there |
//! | MDT  | all of the worker's career, every employer |
//! | CSE, dosimetry body | none (the matrix already says so) |
//!
//! Limit alerts (issue 15 §3) follow the same rows: reading them is reading the effective dose
//! (PCR, MDT), acknowledging one is writing the medical follow-up card (MDT); so do the bilans
//! (§4: reading one is reading the effective dose of the establishment's workers) and declared
//! pregnancies (writing the medical follow-up card). The regulation's other kinds of result
//! fall under these rows too ([`crate::DoseKind::data_kind`]): radon and *absence de résultat*
//! under passive dosimetry, the physician's equivalent doses under the effective dose, aircrew
//! doses under operational dosimetry.

use serde::Serialize;

/// What a caller is in an establishment. A person may be CSE in one establishment and PCR in
/// forty others; the role that counts is the one held in the establishment concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// *Correspondant SISERI de l'employeur*: the administrative data of the workers.
    Cse,
    /// *Personne compétente en radioprotection* (or *conseiller en radioprotection*).
    Pcr,
    /// *Médecin du travail*.
    Mdt,
    /// *Organisme de dosimétrie*: a machine client that sends passive dosimetry results.
    DosimetryBody,
}

impl Role {
    /// Every role, in the table's column order.
    pub const ALL: [Role; 4] = [Role::Cse, Role::Pcr, Role::Mdt, Role::DosimetryBody];

    /// Stable form, for the audit log and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cse => "cse",
            Self::Pcr => "pcr",
            Self::Mdt => "mdt",
            Self::DosimetryBody => "organisme",
        }
    }

    /// The seed's abbreviation, as protocols and the establishments' API write it: `CSE`,
    /// `PCR`, `MDT` (`organisme` for a body, which no protocol names).
    pub fn abbreviation(self) -> &'static str {
        match self {
            Self::Cse => "CSE",
            Self::Pcr => "PCR",
            Self::Mdt => "MDT",
            Self::DosimetryBody => "organisme",
        }
    }

    /// French label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Cse => "Correspondant SISERI de l'employeur",
            Self::Pcr => "Personne compétente en radioprotection",
            Self::Mdt => "Médecin du travail",
            Self::DosimetryBody => "Organisme de dosimétrie",
        }
    }
}

/// The rows of the seed's table: kinds of data about a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Every administrative field of the workers list.
    AdminComplete,
    /// The administrative fields needed for dosimetric follow-up.
    AdminForDosimetry,
    /// The medical follow-up card (*carte de suivi médical*).
    MedicalCard,
    /// Passive dosimetry results, from the dosimetry bodies.
    PassiveDose,
    /// Internal exposure follow-up (committed doses computed by the physician).
    InternalExposure,
    /// Effective dose.
    EffectiveDose,
    /// Operational dosimetry (electronic dosimeters, sent by the PCR).
    OperationalDose,
}

impl DataKind {
    /// Every kind, in the table's row order.
    pub const ALL: [DataKind; 7] = [
        DataKind::AdminComplete,
        DataKind::AdminForDosimetry,
        DataKind::MedicalCard,
        DataKind::PassiveDose,
        DataKind::InternalExposure,
        DataKind::EffectiveDose,
        DataKind::OperationalDose,
    ];

    /// Stable form, for the audit log and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdminComplete => "admin_complete",
            Self::AdminForDosimetry => "admin_dosimetry",
            Self::MedicalCard => "medical_card",
            Self::PassiveDose => "passive_dose",
            Self::InternalExposure => "internal_exposure",
            Self::EffectiveDose => "effective_dose",
            Self::OperationalDose => "operational_dose",
        }
    }

    /// French label, as in the seed's table (used in error messages).
    pub fn label(self) -> &'static str {
        match self {
            Self::AdminComplete => "les informations administratives complètes",
            Self::AdminForDosimetry => {
                "les informations administratives pour le suivi dosimétrique"
            }
            Self::MedicalCard => "la carte de suivi médical",
            Self::PassiveDose => "la dosimétrie passive",
            Self::InternalExposure => "le suivi de l'exposition interne",
            Self::EffectiveDose => "la dose efficace",
            Self::OperationalDose => "la dosimétrie opérationnelle",
        }
    }
}

/// What is done with the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Seeing it.
    Read,
    /// Sending, changing or removing it.
    Write,
}

impl Action {
    /// Stable form, for the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// The matrix: may `role` do `action` on `kind`?
pub const fn allows(role: Role, kind: DataKind, action: Action) -> bool {
    use DataKind::*;
    use Role::*;
    match action {
        Action::Read => matches!(
            (role, kind),
            (Cse, AdminComplete | AdminForDosimetry)
                | (Pcr, AdminForDosimetry | EffectiveDose | OperationalDose)
                | (
                    Mdt,
                    MedicalCard | PassiveDose | InternalExposure | EffectiveDose | OperationalDose
                )
        ),
        Action::Write => matches!(
            (role, kind),
            (Cse, AdminComplete | AdminForDosimetry)
                | (Pcr, OperationalDose)
                | (Mdt, MedicalCard | InternalExposure | EffectiveDose)
                | (DosimetryBody, PassiveDose)
        ),
    }
}

/// Whether a caller of `role` is let into an establishment at all, `named` saying whether that
/// establishment has named the caller as its dosimetry body. People are let in by their
/// attachment (checked by the matrix); a dosimetry body only by being named.
pub const fn admits(role: Role, named: bool) -> bool {
    match role {
        Role::DosimetryBody => named,
        Role::Cse | Role::Pcr | Role::Mdt => true,
    }
}

/// May `role` read or change (`action`) the list of the establishment's dosimetry bodies?
pub const fn may_manage_bodies(role: Role, action: Action) -> bool {
    use Role::*;
    match action {
        Action::Read => matches!(role, Cse | Pcr | Mdt),
        Action::Write => matches!(role, Cse),
    }
}

/// Whose results a reader of a worker's doses gets (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoseScope {
    /// Every employer's, over the whole career.
    Career,
    /// Those of the reader's establishment, over the worker's periods of employment there.
    EmploymentPeriods,
    /// None.
    Nothing,
}

/// Whose results `role` reads.
pub const fn dose_scope(role: Role) -> DoseScope {
    match role {
        Role::Mdt => DoseScope::Career,
        Role::Pcr => DoseScope::EmploymentPeriods,
        Role::Cse | Role::DosimetryBody => DoseScope::Nothing,
    }
}

/// Which set of a worker's fields a reader gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Every field ([`crate::WorkerRecord`]).
    Complete,
    /// The fields for dosimetric follow-up ([`crate::WorkerSummary`]).
    Dosimetry,
}

/// The kinds of data that show a worker's identity, best first, with the view each gives. A
/// reader gets the first one the matrix allows: the CSE the complete view, the PCR the
/// dosimetric one, the physician the identity written on the medical follow-up card.
pub const fn identity_views() -> [(DataKind, View); 3] {
    [
        (DataKind::AdminComplete, View::Complete),
        (DataKind::AdminForDosimetry, View::Dosimetry),
        (DataKind::MedicalCard, View::Dosimetry),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{Read, Write};

    #[test]
    fn the_physician_reads_the_career_and_the_pcr_its_own_periods_only() {
        assert_eq!(dose_scope(Role::Mdt), DoseScope::Career);
        assert_eq!(dose_scope(Role::Pcr), DoseScope::EmploymentPeriods);
        assert_eq!(dose_scope(Role::Cse), DoseScope::Nothing);
        assert_eq!(dose_scope(Role::DosimetryBody), DoseScope::Nothing);
    }
    use DataKind::*;
    use Role::*;

    /// The seed's table, row by row: (kind, who reads, who writes), each as [CSE, PCR, MDT, body].
    #[rustfmt::skip]
    const MATRIX: [(DataKind, [bool; 4], [bool; 4]); 7] = [
        (AdminComplete,     [true, false, false, false], [true, false, false, false]),
        (AdminForDosimetry, [true, true, false, false],  [true, false, false, false]),
        (MedicalCard,       [false, false, true, false], [false, false, true, false]),
        (PassiveDose,       [false, false, true, false], [false, false, false, true]),
        (InternalExposure,  [false, false, true, false], [false, false, true, false]),
        (EffectiveDose,     [false, true, true, false],  [false, false, true, false]),
        (OperationalDose,   [false, true, true, false],  [false, true, false, false]),
    ];

    fn check(action: Action) {
        for (kind, read, write) in MATRIX {
            let row = match action {
                Read => read,
                Write => write,
            };
            for (role, expected) in Role::ALL.into_iter().zip(row) {
                assert_eq!(
                    allows(role, kind, action),
                    expected,
                    "{role:?} {action:?} {kind:?}"
                );
            }
        }
    }

    #[test]
    fn reading_follows_the_seeds_table_cell_by_cell() {
        check(Read);
    }

    #[test]
    fn writing_follows_who_sends_what_cell_by_cell() {
        check(Write);
    }

    #[test]
    fn the_table_above_covers_every_kind() {
        let kinds: Vec<DataKind> = MATRIX.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(kinds, DataKind::ALL);
    }

    #[test]
    fn cse_never_sees_a_dose() {
        for kind in [
            PassiveDose,
            InternalExposure,
            EffectiveDose,
            OperationalDose,
        ] {
            assert!(!allows(Cse, kind, Read));
            assert!(!allows(Cse, kind, Write));
        }
    }

    #[test]
    fn a_dosimetry_body_reads_nothing() {
        for kind in DataKind::ALL {
            assert!(!allows(DosimetryBody, kind, Read), "{kind:?}");
        }
    }

    #[test]
    fn every_role_but_the_dosimetry_body_has_an_identity_view() {
        let view = |role| {
            identity_views()
                .into_iter()
                .find(|(kind, _)| allows(role, *kind, Read))
                .map(|(_, view)| view)
        };
        assert_eq!(view(Cse), Some(View::Complete));
        assert_eq!(view(Pcr), Some(View::Dosimetry));
        assert_eq!(view(Mdt), Some(View::Dosimetry));
        assert_eq!(view(DosimetryBody), None);
    }

    /// [`admits`], each as [CSE, PCR, MDT, body]: (named by the establishment, not named).
    #[rustfmt::skip]
    const ADMITTED: [(bool, [bool; 4]); 2] = [
        (true,  [true, true, true, true]),
        (false, [true, true, true, false]),
    ];

    #[test]
    fn a_dosimetry_body_is_let_only_into_establishments_that_named_it_cell_by_cell() {
        for (named, row) in ADMITTED {
            for (role, expected) in Role::ALL.into_iter().zip(row) {
                assert_eq!(admits(role, named), expected, "{role:?} named={named}");
            }
        }
    }

    #[test]
    fn a_body_not_named_is_refused_whatever_the_matrix_would_say() {
        // The body's only right, sending passive results, does not open a stranger's door.
        assert!(allows(DosimetryBody, PassiveDose, Write));
        assert!(!admits(DosimetryBody, false));
    }

    /// [`may_manage_bodies`], each as [CSE, PCR, MDT, body].
    #[rustfmt::skip]
    const BODIES: [(Action, [bool; 4]); 2] = [
        (Read,  [true, true, true, false]),
        (Write, [true, false, false, false]),
    ];

    #[test]
    fn the_correspondent_keeps_the_list_of_bodies_cell_by_cell() {
        for (action, row) in BODIES {
            for (role, expected) in Role::ALL.into_iter().zip(row) {
                assert_eq!(
                    may_manage_bodies(role, action),
                    expected,
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn stable_names_are_distinct() {
        let kinds: std::collections::HashSet<_> = DataKind::ALL.map(DataKind::as_str).into();
        assert_eq!(kinds.len(), DataKind::ALL.len());
        let roles: std::collections::HashSet<_> = Role::ALL.map(Role::as_str).into();
        assert_eq!(roles.len(), Role::ALL.len());
    }
}
