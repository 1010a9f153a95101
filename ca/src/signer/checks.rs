//! What the key's holder checks before it signs: the to-be-signed bytes parsed and held
//! against AC SISERI's profiles, whoever asks. These run on the side that holds the key (the
//! signer process, or an `Authority` holding its key in-process); the signer adds the checks
//! that need the database (see `service`).

use time::{Duration, OffsetDateTime};
use x509_parser::certificate::TbsCertificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::TbsCertList;
use x509_parser::x509::X509Version;

use crate::keys::SubjectKey;
use crate::{Policy, ProfileKind};

/// What the checks need to know of AC SISERI: no key.
pub(crate) struct Issuer<'a> {
    /// The CA certificate's subject, DER.
    pub subject: &'a [u8],
    /// Its subject key identifier, which every authority key identifier must name.
    pub ski: &'a [u8],
    /// Its notAfter: nothing outlives it.
    pub not_after: OffsetDateTime,
    /// The OID of its signature algorithm, dotted.
    pub signature_oid: &'static str,
    /// Lifetimes per profile.
    pub policy: &'a Policy,
}

/// Slack for clocks and for the backdating of notBefore.
const SLACK: Duration = Duration::days(1);

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXT_KEY_USAGE: &str = "2.5.29.37";
const OID_SUBJECT_ALT_NAME: &str = "2.5.29.17";
const OID_SKI: &str = "2.5.29.14";
const OID_AKI: &str = "2.5.29.35";
const OID_CRL_DP: &str = "2.5.29.31";
const OID_AIA: &str = "1.3.6.1.5.5.7.1.1";
const OID_CRL_NUMBER: &str = "2.5.29.20";
const OID_IDP: &str = "2.5.29.28";

/// Checks a TBSCertificate before it is signed: version 3, the recorded serial, our signature
/// algorithm and name as issuer, an end-entity of one of our five profiles (its extended key
/// usages decide which), digitalSignature only (and nonRepudiation for the receipt profile, its
/// fixed name, no SAN), a lifetime within the profile's and the CA's, a key we certify, and no
/// extension we do not write. Returns the profile it matches.
pub(crate) fn certificate(
    ca: &Issuer<'_>,
    tbs: &[u8],
    serial: &[u8],
    now: OffsetDateTime,
) -> Result<ProfileKind, String> {
    let (rest, cert) =
        TbsCertificate::from_der(tbs).map_err(|_| "certificat à signer illisible".to_owned())?;
    if !rest.is_empty() {
        return Err("octets en trop après le certificat à signer".into());
    }
    if cert.version != X509Version::V3 {
        return Err("seuls les certificats X.509 v3 sont signés".into());
    }
    if cert.raw_serial() != serial || serial.is_empty() || serial.len() > 20 || serial[0] >= 0x80 {
        return Err(
            "numéro de série absent, négatif, trop long ou différent de celui annoncé".into(),
        );
    }
    if cert.signature.algorithm.to_id_string() != ca.signature_oid {
        return Err("algorithme de signature différent de celui de l'AC".into());
    }
    if cert.issuer.as_raw() != ca.subject {
        return Err("émetteur différent d'AC SISERI".into());
    }
    if cert.subject_uid.is_some() || cert.issuer_uid.is_some() {
        return Err("identifiants uniques (v2) refusés".into());
    }
    SubjectKey::from_spki_der(cert.subject_pki.raw).map_err(|e| e.to_string())?;

    let mut eku = None;
    let mut san = false;
    let mut basic = false;
    let mut key_usage: Option<bool> = None;
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        match (oid.as_str(), ext.parsed_extension()) {
            (OID_BASIC_CONSTRAINTS, ParsedExtension::BasicConstraints(bc)) => {
                if bc.ca {
                    return Err("un certificat final ne peut pas être une AC".into());
                }
                basic = true;
            }
            (OID_KEY_USAGE, ParsedExtension::KeyUsage(ku)) => {
                let others = ku.key_encipherment()
                    || ku.data_encipherment()
                    || ku.key_agreement()
                    || ku.key_cert_sign()
                    || ku.crl_sign()
                    || ku.encipher_only()
                    || ku.decipher_only();
                if !ext.critical || !ku.digital_signature() || others {
                    return Err("usage de clé autre que digitalSignature (critique)".into());
                }
                // Whether nonRepudiation is allowed depends on the profile, known below.
                key_usage = Some(ku.non_repudiation());
            }
            (OID_EXT_KEY_USAGE, ParsedExtension::ExtendedKeyUsage(e)) => {
                // The only private usage we write is the operator's, and only once.
                let operator = match e.other.as_slice() {
                    [] => false,
                    [oid] if oid.as_bytes() == crate::OPERATOR_EKU_DER => true,
                    _ => return Err("usage étendu de clé hors profil".into()),
                };
                if e.any || e.code_signing || e.ocsp_signing || e.time_stamping {
                    return Err("usage étendu de clé hors profil".into());
                }
                eku = Some(
                    match (e.server_auth, e.client_auth, e.email_protection, operator) {
                        (true, false, false, false) => ProfileKind::TlsServer,
                        (false, true, true, false) => ProfileKind::Person,
                        (false, true, false, false) => ProfileKind::Organisme,
                        (false, true, false, true) => ProfileKind::Operator,
                        (false, false, true, false) => ProfileKind::Receipt,
                        _ => return Err("combinaison d'usages étendus hors profil".into()),
                    },
                );
            }
            (OID_SUBJECT_ALT_NAME, ParsedExtension::SubjectAlternativeName(_)) => san = true,
            (OID_SKI, ParsedExtension::SubjectKeyIdentifier(_)) => {}
            (OID_AKI, ParsedExtension::AuthorityKeyIdentifier(aki)) => {
                if aki.key_identifier.as_ref().map(|k| k.0) != Some(ca.ski) {
                    return Err(
                        "identifiant de clé de l'autorité différent de celui de l'AC".into(),
                    );
                }
            }
            (OID_CRL_DP, ParsedExtension::CRLDistributionPoints(_)) => {}
            (OID_AIA, ParsedExtension::AuthorityInfoAccess(_)) => {}
            _ => return Err(format!("extension {oid} hors profil")),
        }
    }
    let (true, Some(non_repudiation)) = (basic, key_usage) else {
        return Err("contraintes de base ou usage de clé manquants".into());
    };
    let profile = eku.ok_or_else(|| "usage étendu de clé manquant".to_owned())?;
    // The receipt key commits SISERI (digitalSignature and nonRepudiation); no other profile
    // does (digitalSignature only).
    if non_repudiation != (profile == ProfileKind::Receipt) {
        return Err("usage de clé nonRepudiation hors profil".into());
    }
    if profile == ProfileKind::Receipt {
        if san {
            return Err(
                "nom alternatif du sujet hors profil pour le certificat de récépissé".into(),
            );
        }
        let cn = cert
            .subject
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok());
        if cn != Some(crate::profile::RECEIPT_COMMON_NAME) {
            return Err("nom du certificat de récépissé hors profil".into());
        }
    }
    if matches!(
        profile,
        ProfileKind::TlsServer | ProfileKind::Person | ProfileKind::Operator
    ) && !san
    {
        return Err("nom alternatif du sujet manquant".into());
    }
    let not_before = time_of(cert.validity.not_before.timestamp())?;
    let not_after = time_of(cert.validity.not_after.timestamp())?;
    let days = match profile {
        ProfileKind::Person => ca.policy.person_validity_days,
        ProfileKind::Organisme => ca.policy.organisme_validity_days,
        ProfileKind::Operator => ca.policy.operator_validity_days,
        ProfileKind::Receipt => crate::profile::RECEIPT_VALIDITY_DAYS,
        _ => ca.policy.tls_server_validity_days,
    };
    if not_before >= not_after
        || not_after > ca.not_after
        || not_after <= now
        || not_before > now + SLACK
        || not_after - not_before > Duration::days(i64::from(days)) + SLACK
    {
        return Err("période de validité hors de la politique de l'AC".into());
    }
    Ok(profile)
}

/// Checks a TBSCertList before it is signed: v2, our algorithm and name, a number, a
/// nextUpdate within the policy's CRL lifetime, a thisUpdate near now, the announced number of
/// entries, our key identifier, and an Issuing Distribution Point exactly when a shard's.
pub(crate) fn crl(
    ca: &Issuer<'_>,
    tbs: &[u8],
    entries: u64,
    idp: bool,
    now: OffsetDateTime,
) -> Result<(), String> {
    let (rest, list) =
        TbsCertList::from_der(tbs).map_err(|_| "LCR à signer illisible".to_owned())?;
    if !rest.is_empty() {
        return Err("octets en trop après la LCR à signer".into());
    }
    if list.version != Some(X509Version::V2) {
        return Err("seules les LCR v2 sont signées".into());
    }
    if list.signature.algorithm.to_id_string() != ca.signature_oid {
        return Err("algorithme de signature différent de celui de l'AC".into());
    }
    if list.issuer.as_raw() != ca.subject {
        return Err("émetteur différent d'AC SISERI".into());
    }
    if list.revoked_certificates.len() as u64 != entries {
        return Err("nombre d'entrées différent de celui annoncé".into());
    }
    let this_update = time_of(list.this_update.timestamp())?;
    let next_update = time_of(
        list.next_update
            .ok_or_else(|| "LCR sans nextUpdate".to_owned())?
            .timestamp(),
    )?;
    let validity = Duration::days(i64::from(ca.policy.crl_validity_days.max(1)));
    if (this_update - now).abs() > SLACK
        || next_update <= this_update
        || next_update - this_update > validity + SLACK
    {
        return Err("dates de la LCR hors de la politique de l'AC".into());
    }
    let (mut number, mut found_idp) = (false, false);
    for ext in list.extensions() {
        match (ext.oid.to_id_string().as_str(), ext.parsed_extension()) {
            (OID_CRL_NUMBER, ParsedExtension::CRLNumber(_)) => number = true,
            (OID_IDP, ParsedExtension::IssuingDistributionPoint(_)) => found_idp = true,
            (OID_AKI, ParsedExtension::AuthorityKeyIdentifier(aki)) => {
                if aki.key_identifier.as_ref().map(|k| k.0) != Some(ca.ski) {
                    return Err(
                        "identifiant de clé de l'autorité différent de celui de l'AC".into(),
                    );
                }
            }
            (oid, _) => return Err(format!("extension de LCR {oid} hors profil")),
        }
    }
    if !number {
        return Err("LCR sans numéro".into());
    }
    if found_idp != idp {
        return Err("point de distribution émetteur (IDP) inattendu".into());
    }
    Ok(())
}

fn time_of(unix: i64) -> Result<OffsetDateTime, String> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| "date hors limites".to_owned())
}
