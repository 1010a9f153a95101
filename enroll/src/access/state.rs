//! The life cycles of a person's certificate, withdrawal and access code, stored as the text
//! of their `CHECK` constraints.

use crate::text_column::text_column;

/// Enrollment's state of one certificate (the CA keeps its own record of issue and revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertificateState {
    /// Recorded and about to be signed; its key lives only in the issuing call.
    Preparing,
    /// Signed, its `.p12` awaiting withdrawal.
    Issued,
    /// Withdrawn: in its holder's hands.
    Delivered,
    /// Revoked (or abandoned before signature).
    Revoked,
}

impl CertificateState {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preparing => "preparing",
            Self::Issued => "issued",
            Self::Delivered => "delivered",
            Self::Revoked => "revoked",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "preparing" => Self::Preparing,
            "issued" => Self::Issued,
            "delivered" => Self::Delivered,
            "revoked" => Self::Revoked,
            _ => return None,
        })
    }

    /// Signed and not revoked: awaiting withdrawal or in its holder's hands.
    pub fn is_valid(self) -> bool {
        matches!(self, Self::Issued | Self::Delivered)
    }
}

/// The state of one withdrawal link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WithdrawalState {
    /// Its certificate is being signed.
    Preparing,
    /// Ready, waiting for its code.
    Pending,
    /// The file was taken.
    Used,
    /// Past its lifetime.
    Expired,
    /// Too many wrong codes.
    Locked,
    /// Replaced by a later withdrawal.
    Superseded,
}

impl WithdrawalState {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preparing => "preparing",
            Self::Pending => "pending",
            Self::Used => "used",
            Self::Expired => "expired",
            Self::Locked => "locked",
            Self::Superseded => "superseded",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "preparing" => Self::Preparing,
            "pending" => Self::Pending,
            "used" => Self::Used,
            "expired" => Self::Expired,
            "locked" => Self::Locked,
            "superseded" => Self::Superseded,
            _ => return None,
        })
    }
}

/// The state of a person's access code to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccessCodeState {
    /// Usable.
    Active,
    /// Too many wrong codes; an operator's reset sends a new one.
    Locked,
}

impl AccessCodeState {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Locked => "locked",
        }
    }

    /// From the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "locked" => Self::Locked,
            _ => return None,
        })
    }
}

text_column!(CertificateState, "état de certificat");
text_column!(WithdrawalState, "état de retrait");
text_column!(AccessCodeState, "état de code d'accès");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_stored_text() {
        for s in [
            CertificateState::Preparing,
            CertificateState::Issued,
            CertificateState::Delivered,
            CertificateState::Revoked,
        ] {
            assert_eq!(CertificateState::parse(s.as_str()), Some(s));
        }
        for s in [
            WithdrawalState::Preparing,
            WithdrawalState::Pending,
            WithdrawalState::Used,
            WithdrawalState::Expired,
            WithdrawalState::Locked,
            WithdrawalState::Superseded,
        ] {
            assert_eq!(WithdrawalState::parse(s.as_str()), Some(s));
        }
        for s in [AccessCodeState::Active, AccessCodeState::Locked] {
            assert_eq!(AccessCodeState::parse(s.as_str()), Some(s));
        }
        assert_eq!(CertificateState::parse("Issued"), None);
    }
}
