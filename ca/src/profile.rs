//! Certificate profiles: what each kind of certificate says. The CA decides names and
//! extensions here; nothing a requester puts in a CSR is copied.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, CrlDistributionPoint, CustomExtension, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyUsagePurpose, PublicKeyData, SanType,
    SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use crate::{Error, ProfileKind, Result, Serial};

/// Issuance policy, from `config.toml`'s `[ca]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// `O=` of every subject.
    pub organization: String,
    /// Lifetime of a person's certificate (the seed: 3 years).
    pub person_validity_days: u32,
    /// Lifetime of a dosimetry body's certificate.
    pub organisme_validity_days: u32,
    /// Lifetime of an operator's certificate (the console's instructeurs and administrateurs).
    pub operator_validity_days: u32,
    /// Lifetime of our TLS server certificate (at most 398 days, as browsers require).
    pub tls_server_validity_days: u32,
    /// Lifetime of AC SISERI itself, when self-signed.
    pub ca_validity_days: u32,
    /// nextUpdate − thisUpdate of every CRL.
    pub crl_validity_days: u32,
    /// nextUpdate − thisUpdate of the OCSP responses signed ahead, in hours; each is renewed
    /// half-way through.
    pub ocsp_validity_hours: u32,
    /// Where relying parties fetch the full CRL: the CRL distribution point of certificates
    /// without a shard (when `crl_shard_url` is not set), and of those issued before shards.
    pub crl_url: Option<String>,
    /// Where relying parties fetch the CRL of shard `{shard}` (the text `{shard}` is replaced
    /// by the number), e.g. `http://pki.example.fr/pki/crl/{shard}.crl`. When set, every new
    /// certificate is assigned a shard, names this URL as its CRL distribution point, and the
    /// shard's CRL names it in its Issuing Distribution Point.
    pub crl_shard_url: Option<String>,
    /// How many shards new certificates are spread over (`serial mod crl_shards`).
    pub crl_shards: u32,
    /// Where relying parties fetch AC SISERI's certificate (AIA caIssuers), if published.
    pub ca_issuers_url: Option<String>,
    /// Where relying parties ask a certificate's status (AIA OCSP, RFC 6960), if answered.
    pub ocsp_url: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            organization: "SISERI".into(),
            person_validity_days: 3 * 365,
            organisme_validity_days: 3 * 365,
            operator_validity_days: 365,
            tls_server_validity_days: 397,
            ca_validity_days: 20 * 365,
            crl_validity_days: 7,
            ocsp_validity_hours: 24,
            crl_url: None,
            crl_shard_url: None,
            crl_shards: DEFAULT_CRL_SHARDS,
            ca_issuers_url: None,
            ocsp_url: None,
        }
    }
}

/// 128 shards: at 1,000,000 revoked certificates a shard's CRL holds about 7,800 entries,
/// some 370 KB, where the full CRL weighs 45 MB.
pub const DEFAULT_CRL_SHARDS: u32 = 128;

impl Policy {
    /// The shard a new certificate of serial `serial` is assigned, if CRLs are sharded.
    pub fn shard_of(&self, serial: &Serial) -> Option<u32> {
        self.crl_shard_url
            .as_ref()
            .map(|_| serial.shard(self.crl_shards))
    }

    /// The URL of shard `shard`'s CRL: its certificates' CRL distribution point and its own
    /// Issuing Distribution Point.
    pub fn shard_url(&self, shard: u32) -> Option<String> {
        self.crl_shard_url
            .as_ref()
            .map(|template| template.replace("{shard}", &shard.to_string()))
    }
}

/// Who a certificate is for, and so which profile applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A designated person: subject `CN=Pierre DILLENSEGER 42003`, e-mail in the SAN; a name
    /// too long for the CN is shortened as [`person_common_name`](crate::person_common_name)
    /// says.
    Person {
        /// First name, as written by the employer.
        first_name: String,
        /// Last name; upper-cased in the CN as in the seed.
        last_name: String,
        /// N° habilitation SISERI.
        habilitation: u64,
        /// Their e-mail address (ASCII).
        email: String,
    },
    /// A dosimetry body's machine client: `CN=` the organisation.
    Organisme {
        /// The organisation's name.
        name: String,
    },
    /// An operator of the console: `CN=` their name, e-mail in the SAN, and the operator
    /// extended key usage ([`OPERATOR_EKU`]) beside clientAuth.
    Operator {
        /// Their name, as the administrator typed it.
        name: String,
        /// Their e-mail address (ASCII).
        email: String,
    },
    /// Our own listeners: DNS names and IP addresses.
    TlsServer {
        /// `localhost`, `127.0.0.1`, configured names…
        names: Vec<String>,
    },
    /// The receipt key, held by the signer: `CN=` [`RECEIPT_COMMON_NAME`].
    Receipt,
}

/// The common name of the receipt key's certificate.
pub const RECEIPT_COMMON_NAME: &str = "AC SISERI – récépissés de transmission";

/// Lifetime of the receipt key's certificate: a year, renewed by the signer when fewer than
/// 30 days are left (and never beyond AC SISERI's own).
pub const RECEIPT_VALIDITY_DAYS: u32 = 365;

impl Subject {
    /// The profile this subject is issued under.
    pub fn profile(&self) -> ProfileKind {
        match self {
            Self::Person { .. } => ProfileKind::Person,
            Self::Organisme { .. } => ProfileKind::Organisme,
            Self::TlsServer { .. } => ProfileKind::TlsServer,
            Self::Operator { .. } => ProfileKind::Operator,
            Self::Receipt => ProfileKind::Receipt,
        }
    }

    /// The common name written in the certificate.
    pub fn common_name(&self) -> String {
        match self {
            Self::Person {
                first_name,
                last_name,
                habilitation,
                ..
            } => crate::person_common_name(first_name, last_name, *habilitation),
            Self::Organisme { name } | Self::Operator { name, .. } => name.trim().to_owned(),
            Self::TlsServer { names } => names.first().cloned().unwrap_or_default(),
            Self::Receipt => RECEIPT_COMMON_NAME.to_owned(),
        }
    }
}

/// Clocks drift: a certificate valid from "now" would be refused for a few minutes by a
/// relying party whose clock is behind. Boulder backdates by an hour too.
const BACKDATE: Duration = Duration::hours(1);

pub(crate) fn ca_params(
    policy: &Policy,
    now: OffsetDateTime,
    key: &impl PublicKeyData,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.key_identifier_method = key_identifier(key);
    params.distinguished_name = dn(policy, "AC SISERI");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now - BACKDATE;
    params.not_after = now + Duration::days(i64::from(policy.ca_validity_days));
    params
}

pub(crate) fn leaf_params(
    policy: &Policy,
    subject: &Subject,
    serial: &Serial,
    now: OffsetDateTime,
    ca_not_after: OffsetDateTime,
    key: &impl PublicKeyData,
    shard: Option<u32>,
) -> Result<CertificateParams> {
    let cn = subject.common_name();
    crate::check_common_name(&cn)?;
    let mut params = CertificateParams::default();
    params.key_identifier_method = key_identifier(key);
    params.serial_number = Some(SerialNumber::from_slice(serial.as_bytes()));
    params.distinguished_name = dn(policy, &cn);
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let days = match subject {
        Subject::Person { email, .. } => {
            params.subject_alt_names = vec![SanType::Rfc822Name(ascii_email(email)?)];
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ClientAuth,
                ExtendedKeyUsagePurpose::EmailProtection,
            ];
            policy.person_validity_days
        }
        Subject::Organisme { .. } => {
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
            policy.organisme_validity_days
        }
        Subject::Operator { email, .. } => {
            params.subject_alt_names = vec![SanType::Rfc822Name(ascii_email(email)?)];
            // rcgen writes OID arcs as u64; the operator OID's last arc is a UUID (128 bits),
            // so the whole extension is written here.
            params.custom_extensions.push(operator_extended_key_usage());
            policy.operator_validity_days
        }
        Subject::TlsServer { names } => {
            params.subject_alt_names = names
                .iter()
                .map(|n| match n.parse::<IpAddr>() {
                    Ok(ip) => Ok(SanType::IpAddress(ip)),
                    Err(_) => n
                        .clone()
                        .try_into()
                        .map(SanType::DnsName)
                        .map_err(|_| Error::BadSubject("nom DNS invalide".into())),
                })
                .collect::<Result<_>>()?;
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            policy.tls_server_validity_days
        }
        Subject::Receipt => {
            // nonRepudiation (contentCommitment): the receipt commits SISERI to what it says.
            params.key_usages.push(KeyUsagePurpose::ContentCommitment);
            // emailProtection alone, because OpenSSL's `cms -verify` checks the signer for the
            // S/MIME signing purpose by default: an extended key usage must then be absent or
            // hold emailProtection. Absent would mean "any purpose" to TLS libraries (webpki
            // accepts a certificate without one as a client's), so a stolen receipt key could
            // open our mutual-TLS listeners; emailProtection alone opens none of them.
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
            RECEIPT_VALIDITY_DAYS
        }
    };
    let crl_url = match shard {
        Some(shard) => policy.shard_url(shard),
        None => policy.crl_url.clone(),
    };
    if let Some(url) = crl_url {
        params.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![url] }];
    }
    if policy.ocsp_url.is_some() || policy.ca_issuers_url.is_some() {
        params.custom_extensions.push(authority_info_access(
            policy.ocsp_url.as_deref(),
            policy.ca_issuers_url.as_deref(),
        ));
    }
    params.not_before = now - BACKDATE;
    // A certificate never outlives its issuer.
    params.not_after = (now + Duration::days(i64::from(days))).min(ca_not_after);
    Ok(params)
}

fn ascii_email(email: &str) -> Result<rcgen::string::Ia5String> {
    email
        .trim()
        .to_owned()
        .try_into()
        .map_err(|_| Error::BadSubject("adresse électronique non ASCII".into()))
}

/// The private extended key usage that makes a certificate an operator's:
/// `2.25.40234093017110926036735568388109554245`, an OID derived from the UUID
/// `1e44cdf0-9c91-4f26-9a0e-986fe816d245` (ITU-T X.667, the arc anyone may use without
/// registration). Only AC SISERI's console asks for it; browsers and TLS libraries ignore an
/// extended key usage they do not know, and still see clientAuth.
pub const OPERATOR_EKU: &str = "2.25.40234093017110926036735568388109554245";

/// The DER content octets of [`OPERATOR_EKU`] (no tag, no length): what the checks compare
/// (the last arc does not fit the u64 arcs parsers hand out). `2.25` is 2 × 40 + 25 = 0x69,
/// then the UUID in base 128, high groups first (a test decodes it back).
pub const OPERATOR_EKU_DER: &[u8] = &[
    0x69, 0xbc, 0xc4, 0xe6, 0xfc, 0x93, 0xc9, 0x8a, 0xbc, 0xcd, 0x9a, 0x87, 0xa6, 0x8d, 0xfe, 0xc0,
    0xdb, 0xa4, 0x45,
];

/// ExtKeyUsageSyntax ::= SEQUENCE { clientAuth, operator }, not critical (as rcgen writes it).
fn operator_extended_key_usage() -> CustomExtension {
    const CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];
    let mut content = Vec::new();
    for oid in [CLIENT_AUTH, OPERATOR_EKU_DER] {
        content.push(0x06);
        content.push(oid.len() as u8);
        content.extend_from_slice(oid);
    }
    let mut der = vec![0x30, content.len() as u8];
    der.extend(content);
    CustomExtension::from_oid_content(&[2, 5, 29, 37], der)
}

/// RFC 7093 method 1: SHA-256 of the subjectPublicKey bits, truncated to 160 bits (rcgen's own
/// method hashes the whole SubjectPublicKeyInfo, which linters cannot recognise).
fn key_identifier(key: &impl PublicKeyData) -> KeyIdMethod {
    let hash = ring::digest::digest(&ring::digest::SHA256, key.der_bytes());
    KeyIdMethod::PreSpecified(hash.as_ref()[..20].to_vec())
}

fn dn(policy: &Policy, cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    // X.520 countryName is a PrintableString; rcgen would otherwise write a UTF8String.
    if let Ok(fr) = "FR".try_into() {
        dn.push(DnType::CountryName, rcgen::DnValue::PrintableString(fr));
    }
    dn.push(DnType::OrganizationName, policy.organization.as_str());
    dn.push(DnType::CommonName, cn);
    dn
}

/// rcgen has no Authority Information Access support: this writes RFC 5280 §4.2.2.1 with an
/// OCSP access description, then a caIssuers one (the order OpenSSL and the CA/B Forum's
/// profiles use), for those given.
fn authority_info_access(ocsp: Option<&str>, ca_issuers: Option<&str>) -> CustomExtension {
    const AIA: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
    const OCSP: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1];
    const CA_ISSUERS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 2];
    let descriptions = [(OCSP, ocsp), (CA_ISSUERS, ca_issuers)];
    let der = yasna::construct_der(|w| {
        w.write_sequence_of(|w| {
            for (method, url) in descriptions {
                let Some(url) = url else { continue };
                w.next().write_sequence(|w| {
                    w.next()
                        .write_oid(&yasna::models::ObjectIdentifier::from_slice(method));
                    w.next()
                        .write_tagged_implicit(yasna::Tag::context(6), |w| w.write_ia5_string(url));
                });
            }
        });
    });
    CustomExtension::from_oid_content(AIA, der)
}

#[cfg(test)]
mod tests {
    use super::{OPERATOR_EKU, OPERATOR_EKU_DER};

    #[test]
    fn the_operator_oid_octets_decode_to_the_documented_oid() {
        assert_eq!(OPERATOR_EKU_DER[0], 2 * 40 + 25);
        let mut arc: u128 = 0;
        for (i, b) in OPERATOR_EKU_DER[1..].iter().enumerate() {
            assert_eq!(
                b & 0x80 != 0,
                i + 2 < OPERATOR_EKU_DER.len(),
                "continuation bits"
            );
            arc = (arc << 7) | u128::from(b & 0x7f);
        }
        assert_eq!(format!("2.25.{arc}"), OPERATOR_EKU);
        assert_ne!(OPERATOR_EKU_DER[1], 0x80, "no leading zero group");
    }
}
