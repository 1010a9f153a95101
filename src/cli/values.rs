//! The closed sets of values the command line takes. Clap checks them while parsing, so a bad
//! value is a usage error (exit 2, the possible values listed) before any file is opened.

use clap::ValueEnum;

/// `--reason` of a revocation: RFC 5280's names, case-insensitive, with dashes accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "camelCase")]
pub(super) enum Reason {
    Unspecified,
    #[value(alias = "key-compromise")]
    KeyCompromise,
    #[value(name = "cACompromise", alias = "ca-compromise")]
    CaCompromise,
    #[value(alias = "affiliation-changed")]
    AffiliationChanged,
    Superseded,
    #[value(alias = "cessation-of-operation")]
    CessationOfOperation,
    #[value(alias = "privilege-withdrawn")]
    PrivilegeWithdrawn,
}

impl From<Reason> for ca::RevocationReason {
    fn from(r: Reason) -> Self {
        match r {
            Reason::Unspecified => Self::Unspecified,
            Reason::KeyCompromise => Self::KeyCompromise,
            Reason::CaCompromise => Self::CaCompromise,
            Reason::AffiliationChanged => Self::AffiliationChanged,
            Reason::Superseded => Self::Superseded,
            Reason::CessationOfOperation => Self::CessationOfOperation,
            Reason::PrivilegeWithdrawn => Self::PrivilegeWithdrawn,
        }
    }
}

/// `cert issue --profile`: only dosimetry bodies are issued to directly; people go through
/// PASS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum CertProfile {
    Organisme,
}

/// `protocol list --status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ProtocolStatus {
    Signed,
    Approved,
    Rejected,
    Superseded,
}

impl ProtocolStatus {
    /// The name `enroll` stores.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Signed => "signed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Superseded => "superseded",
        }
    }
}

/// `accessor resend --p12-profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum P12Profile {
    Modern,
    Compat,
}

impl From<P12Profile> for ca::P12Profile {
    fn from(p: P12Profile) -> Self {
        match p {
            P12Profile::Modern => Self::Modern,
            P12Profile::Compat => Self::Compat,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The command line names the same reasons as the CA, in the same words.
    #[test]
    fn every_reason_is_the_cas_under_the_same_name() {
        let names: Vec<String> = Reason::value_variants()
            .iter()
            .map(|r| r.to_possible_value().unwrap().get_name().to_owned())
            .collect();
        assert_eq!(names, ca::RevocationReason::NAMES);
        for r in Reason::value_variants() {
            let name = r.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(ca::RevocationReason::from(*r).as_str(), name);
        }
    }

    #[test]
    fn reasons_are_read_regardless_of_case_and_dashes() {
        for (typed, reason) in [
            ("keyCompromise", Reason::KeyCompromise),
            ("KEYCOMPROMISE", Reason::KeyCompromise),
            ("affiliation-changed", Reason::AffiliationChanged),
            ("cacompromise", Reason::CaCompromise),
        ] {
            assert_eq!(Reason::from_str(typed, true).unwrap(), reason, "{typed}");
        }
    }

    #[test]
    fn p12_profiles_and_statuses_are_the_names_the_rest_of_the_code_uses() {
        for p in P12Profile::value_variants() {
            let name = p.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(name.parse::<ca::P12Profile>().unwrap(), (*p).into());
        }
        for s in ProtocolStatus::value_variants() {
            assert_eq!(s.to_possible_value().unwrap().get_name(), s.as_str());
        }
    }
}
