//! Plain data shared by the CA's callers: serials, profiles, revocation reasons.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A certificate serial number, held exactly as the content octets of its DER INTEGER.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial(Vec<u8>);

impl Serial {
    /// 128 random bits, positive and with a non-zero first octet, so that DER needs neither a
    /// leading 0x00 (sign) nor strips one: the bytes we store are the bytes in the certificate.
    pub fn random() -> Result<Self> {
        let mut bytes = store::random::random_bytes::<16>()?;
        bytes[0] &= 0x7f;
        if bytes[0] == 0 {
            bytes[0] = 0x01;
        }
        Ok(Self(bytes.to_vec()))
    }

    /// From the DER INTEGER content octets (as found in a certificate or CRL).
    pub fn from_der_bytes(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// The DER INTEGER content octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Upper-case hexadecimal, the form operators type and OpenSSL prints.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(&self.0)
    }

    /// The CRL shard of this serial among `shards`: the serial, as the unsigned big-endian
    /// integer it encodes, modulo `shards` (serials are random, so shards fill evenly). Decided
    /// once, at issuance, and stored: never recomputed for an existing certificate.
    pub fn shard(&self, shards: u32) -> u32 {
        let n = u64::from(shards.max(1));
        let rest = self
            .0
            .iter()
            .fold(0_u64, |acc, b| (acc * 256 + u64::from(*b)) % n);
        // Less than `shards`, which is a u32.
        u32::try_from(rest).unwrap_or(0)
    }
}

impl FromStr for Serial {
    type Err = Error;

    /// Accepts `0A1B…` or `0a:1b:…` as OpenSSL and browsers print them.
    fn from_str(s: &str) -> Result<Self> {
        let clean: String = s
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        let bytes = hex::decode(clean.trim_start_matches("0x")).map_err(|_| Error::BadSerial)?;
        if bytes.is_empty() || bytes.len() > 20 {
            return Err(Error::BadSerial);
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Serial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Serial({})", self.to_hex())
    }
}

/// The certificate profiles AC SISERI issues under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// AC SISERI itself.
    Ca,
    /// A designated person (CSE, PCR, MDT): browser client authentication and e-mail.
    Person,
    /// A machine client of a dosimetry body.
    Organisme,
    /// The TLS server certificate of our listeners.
    TlsServer,
    /// An operator of the console (instructeur, administrateur): client authentication and
    /// the private extended key usage [`OPERATOR_EKU`](crate::OPERATOR_EKU), which no person's
    /// certificate carries.
    Operator,
    /// The receipt key's (issue 16 §2): it signs the récépissés de transmission, nothing
    /// else (digitalSignature and nonRepudiation, emailProtection only).
    Receipt,
}

impl ProfileKind {
    /// The name stored in the database and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ca => "ca",
            Self::Person => "person",
            Self::Organisme => "organisme",
            Self::TlsServer => "tls-server",
            Self::Operator => "operator",
            Self::Receipt => "receipt",
        }
    }
}

impl FromStr for ProfileKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "ca" => Self::Ca,
            "person" => Self::Person,
            "organisme" => Self::Organisme,
            "tls-server" => Self::TlsServer,
            "operator" => Self::Operator,
            "receipt" => Self::Receipt,
            _ => return Err(Error::BadSubject(format!("profil inconnu « {s} »"))),
        })
    }
}

impl fmt::Display for ProfileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 5280 §5.3.1 reasons. `certificateHold` is left out on purpose: a hold can be lifted,
/// and we never un-revoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RevocationReason {
    /// No reason given (RFC 5280: then the reasonCode entry is omitted from the CRL).
    Unspecified,
    /// The subject's private key is (suspected) compromised.
    KeyCompromise,
    /// The CA's key is (suspected) compromised.
    CaCompromise,
    /// The subject left the establishment, or lost the attachment that justified the certificate.
    AffiliationChanged,
    /// A newer certificate replaces it.
    Superseded,
    /// The subject no longer needs it.
    CessationOfOperation,
    /// The privilege it asserts was withdrawn.
    PrivilegeWithdrawn,
}

impl RevocationReason {
    /// Every accepted name, as typed on the command line.
    pub const NAMES: [&'static str; 7] = [
        "unspecified",
        "keyCompromise",
        "cACompromise",
        "affiliationChanged",
        "superseded",
        "cessationOfOperation",
        "privilegeWithdrawn",
    ];

    const ALL: [Self; 7] = [
        Self::Unspecified,
        Self::KeyCompromise,
        Self::CaCompromise,
        Self::AffiliationChanged,
        Self::Superseded,
        Self::CessationOfOperation,
        Self::PrivilegeWithdrawn,
    ];

    /// The RFC 5280 name.
    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    /// The RFC 5280 CRLReason code.
    pub fn code(self) -> u8 {
        match self {
            Self::Unspecified => 0,
            Self::KeyCompromise => 1,
            Self::CaCompromise => 2,
            Self::AffiliationChanged => 3,
            Self::Superseded => 4,
            Self::CessationOfOperation => 5,
            Self::PrivilegeWithdrawn => 9,
        }
    }

    pub(crate) fn to_rcgen(self) -> Option<rcgen::RevocationReason> {
        use rcgen::RevocationReason as R;
        match self {
            // RFC 5280: "the reason code CRL entry extension SHOULD be absent instead of using
            // the unspecified (0) reasonCode value".
            Self::Unspecified => None,
            Self::KeyCompromise => Some(R::KeyCompromise),
            Self::CaCompromise => Some(R::CaCompromise),
            Self::AffiliationChanged => Some(R::AffiliationChanged),
            Self::Superseded => Some(R::Superseded),
            Self::CessationOfOperation => Some(R::CessationOfOperation),
            Self::PrivilegeWithdrawn => Some(R::PrivilegeWithdrawn),
        }
    }
}

impl FromStr for RevocationReason {
    type Err = Error;
    /// Case-insensitive, with or without dashes (`affiliation-changed` works too).
    fn from_str(s: &str) -> Result<Self> {
        let norm: String = s
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .flat_map(char::to_lowercase)
            .collect();
        Self::ALL
            .into_iter()
            .find(|r| r.as_str().to_lowercase() == norm)
            .ok_or(Error::UnknownReason)
    }
}

impl fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_serials_shard_is_the_serial_modulo_the_shard_count() {
        let serial = Serial::from_der_bytes(&[0x01, 0x00, 0x05]); // 65,541
        assert_eq!(serial.shard(128), 65_541 % 128);
        assert_eq!(serial.shard(1000), 541);
        assert_eq!(serial.shard(1), 0);
        // Sixteen octets, the last one deciding alone when the count divides 256.
        let long = Serial::from_der_bytes(&[0x7f; 16]);
        assert_eq!(long.shard(128), 0x7f);
        assert_eq!(long.shard(0), 0, "no shard count: everything in shard 0");
    }

    #[test]
    fn random_serials_are_sixteen_positive_octets_with_a_non_zero_first_octet() {
        for _ in 0..1000 {
            let s = Serial::random().unwrap();
            assert_eq!(s.as_bytes().len(), 16);
            assert!(s.as_bytes()[0] >= 1 && s.as_bytes()[0] <= 0x7f);
        }
    }

    #[test]
    fn serial_reads_back_what_openssl_prints() {
        let s: Serial = "0a:1B:ff".parse().unwrap();
        assert_eq!(s.as_bytes(), &[0x0a, 0x1b, 0xff]);
        assert_eq!(s.to_hex(), "0A1BFF");
        assert!("zz".parse::<Serial>().is_err());
    }

    #[test]
    fn reasons_parse_by_rfc_name_in_any_case() {
        assert_eq!(
            "affiliationChanged".parse::<RevocationReason>().unwrap(),
            RevocationReason::AffiliationChanged
        );
        assert_eq!(
            "key-compromise".parse::<RevocationReason>().unwrap(),
            RevocationReason::KeyCompromise
        );
        assert!("certificateHold".parse::<RevocationReason>().is_err());
        for r in RevocationReason::ALL {
            assert_eq!(r.as_str().parse::<RevocationReason>().unwrap(), r);
        }
    }
}
