//! The récépissé as CMS SignedData (RFC 5652), written and read here: the JSON attached as
//! `id-data`, signed attributes contentType, messageDigest (SHA-256) and signingTime, the
//! signer named by IssuerAndSerialNumber, the receipt certificate and AC SISERI's in
//! `certificates`, ECDSA with SHA-256. `openssl cms -verify -CAfile ac-siseri.pem` reads it.

use der::asn1::{ObjectIdentifier, OctetString, SetOfVec, UtcTime};
use der::{Any, Decode, Encode};
use time::OffsetDateTime;
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_parser::prelude::{FromDer, X509Certificate};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};

use super::document::Recepisse;
use crate::{Error, Result, Serial};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
const ID_SIGNING_TIME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// What a verified récépissé says, and who signed it when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// The récépissé.
    pub recepisse: Recepisse,
    /// The signingTime attribute.
    pub signed_at: OffsetDateTime,
    /// The serial of the receipt certificate that signed it.
    pub certificate_serial: Serial,
    /// That certificate's notAfter.
    pub certificate_not_after: OffsetDateTime,
}

fn refused(why: impl Into<String>) -> Error {
    Error::Receipt(why.into())
}

fn der_error(_: der::Error) -> Error {
    refused("structure CMS illisible")
}

fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    }
}

fn attribute(oid: ObjectIdentifier, value: Any) -> Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value]).map_err(der_error)?,
    })
}

/// SignedData around `content`, signed by `sign` (ECDSA P-256 with SHA-256, DER signature)
/// over the DER of the signed attributes, the signer being `signer_cert` (DER), issued by
/// `ca_cert` (DER). `now` is the signingTime.
pub(crate) fn build(
    content: &[u8],
    signer_cert: &[u8],
    ca_cert: &[u8],
    now: OffsetDateTime,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>>,
) -> Result<Vec<u8>> {
    let signer = x509_cert::Certificate::from_der(signer_cert).map_err(der_error)?;
    let ca = x509_cert::Certificate::from_der(ca_cert).map_err(der_error)?;
    let digest = ring::digest::digest(&ring::digest::SHA256, content);
    // RFC 5652 §11.3: UTCTime for dates through 2049 (der's UtcTime stops there too).
    let seconds = u64::try_from(now.unix_timestamp()).map_err(|_| refused("date hors limites"))?;
    let signing_time = UtcTime::from_unix_duration(std::time::Duration::from_secs(seconds))
        .map_err(|_| refused("date de signature hors des limites d'UTCTime"))?;
    let signed_attrs: SetOfVec<Attribute> = SetOfVec::try_from(vec![
        attribute(
            ID_CONTENT_TYPE,
            Any::encode_from(&ID_DATA).map_err(der_error)?,
        )?,
        attribute(
            ID_SIGNING_TIME,
            Any::encode_from(&signing_time).map_err(der_error)?,
        )?,
        attribute(
            ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(digest.as_ref()).map_err(der_error)?)
                .map_err(der_error)?,
        )?,
    ])
    .map_err(der_error)?;
    let signature = sign(&signed_attrs.to_der().map_err(der_error)?)?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: signer.tbs_certificate.issuer.clone(),
            serial_number: signer.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: algorithm(ID_SHA256),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: algorithm(ECDSA_WITH_SHA256),
        signature: OctetString::new(signature).map_err(der_error)?,
        unsigned_attrs: None,
    };
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![algorithm(ID_SHA256)]).map_err(der_error)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent: Some(
                Any::encode_from(&OctetString::new(content).map_err(der_error)?)
                    .map_err(der_error)?,
            ),
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(vec![
                CertificateChoices::Certificate(signer),
                CertificateChoices::Certificate(ca),
            ])
            .map_err(der_error)?,
        )),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(der_error)?),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(der_error)?,
    }
    .to_der()
    .map_err(der_error)
}

/// Verifies a récépissé (CMS SignedData, DER) against AC SISERI's certificate (DER): the
/// signature over the signed attributes, their messageDigest against the content, the receipt
/// certificate issued by AC SISERI (its signature, its validity and the CA's at signing time,
/// the receipt profile), then the récépissé's own rules. Returns what it says.
pub fn verify_receipt(der: &[u8], ca_cert: &[u8]) -> Result<Recepisse> {
    verify_receipt_signed(der, ca_cert).map(|v| v.recepisse)
}

/// [`verify_receipt`], with the signing time and the signing certificate.
pub fn verify_receipt_signed(der: &[u8], ca_cert: &[u8]) -> Result<VerifiedReceipt> {
    let info = ContentInfo::from_der(der).map_err(der_error)?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(refused("ce n'est pas une donnée signée CMS (SignedData)"));
    }
    let signed: SignedData = info.content.decode_as().map_err(der_error)?;
    if signed.encap_content_info.econtent_type != ID_DATA {
        return Err(refused("contenu signé d'un autre type que id-data"));
    }
    let content = signed
        .encap_content_info
        .econtent
        .as_ref()
        .ok_or_else(|| refused("récépissé détaché : le contenu manque"))?
        .decode_as::<OctetString>()
        .map_err(der_error)?;
    let content = content.as_bytes();
    let [signer_info] = signed.signer_infos.0.as_slice() else {
        return Err(refused("exactement une signature attendue"));
    };
    if signer_info.digest_alg.oid != ID_SHA256
        || signer_info.signature_algorithm.oid != ECDSA_WITH_SHA256
    {
        return Err(refused(
            "algorithmes autres que SHA-256 et ECDSA avec SHA-256",
        ));
    }
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or_else(|| refused("attributs signés absents"))?;
    let one = |oid: ObjectIdentifier| -> Result<&Any> {
        let mut found = attrs.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(a), None) if a.values.len() == 1 => a
                .values
                .get(0)
                .ok_or_else(|| refused("attribut signé vide")),
            _ => Err(refused("attribut signé manquant ou répété")),
        }
    };
    if one(ID_CONTENT_TYPE)?
        .decode_as::<ObjectIdentifier>()
        .map_err(der_error)?
        != ID_DATA
    {
        return Err(refused("attribut contentType différent de id-data"));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, content);
    let announced = one(ID_MESSAGE_DIGEST)?
        .decode_as::<OctetString>()
        .map_err(der_error)?;
    if announced.as_bytes() != digest.as_ref() {
        return Err(refused(
            "le contenu ne correspond pas à son empreinte signée",
        ));
    }
    let signed_at = signing_time(one(ID_SIGNING_TIME)?)?;

    let SignerIdentifier::IssuerAndSerialNumber(sid) = &signer_info.sid else {
        return Err(refused(
            "signataire non désigné par émetteur et numéro de série",
        ));
    };
    let signer_der = signed
        .certificates
        .as_ref()
        .and_then(|set| {
            set.0.iter().find_map(|c| match c {
                CertificateChoices::Certificate(c)
                    if c.tbs_certificate.issuer == sid.issuer
                        && c.tbs_certificate.serial_number == sid.serial_number =>
                {
                    c.to_der().ok()
                }
                _ => None,
            })
        })
        .ok_or_else(|| refused("certificat du signataire absent du récépissé"))?;
    let (ca_rest, ca) =
        X509Certificate::from_der(ca_cert).map_err(|_| refused("certificat d'AC illisible"))?;
    if !ca_rest.is_empty() || !ca.is_ca() {
        return Err(refused("le certificat donné n'est pas celui d'une AC"));
    }
    let (rest, cert) = X509Certificate::from_der(&signer_der)
        .map_err(|_| refused("certificat du signataire illisible"))?;
    if !rest.is_empty() {
        return Err(refused("certificat du signataire illisible"));
    }
    if cert.issuer().as_raw() != ca.subject().as_raw()
        || cert.verify_signature(Some(ca.public_key())).is_err()
    {
        return Err(refused(
            "le certificat du signataire n'est pas émis par cette AC",
        ));
    }
    let at = signed_at.unix_timestamp();
    let within = |c: &X509Certificate<'_>| {
        c.validity().not_before.timestamp() <= at && at <= c.validity().not_after.timestamp()
    };
    if !within(&cert) || !within(&ca) {
        return Err(refused(
            "certificat du signataire ou de l'AC hors de sa validité à la date de signature",
        ));
    }
    receipt_profile(&cert)?;

    let signature = signer_info.signature.as_bytes();
    let message = attrs.to_der().map_err(der_error)?;
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        &cert.public_key().subject_public_key.data,
    )
    .verify(&message, signature)
    .map_err(|_| refused("la signature du récépissé ne se vérifie pas"))?;

    let recepisse = Recepisse::from_signed_bytes(content).map_err(refused)?;
    Ok(VerifiedReceipt {
        recepisse,
        signed_at,
        certificate_serial: Serial::from_der_bytes(cert.raw_serial()),
        certificate_not_after: OffsetDateTime::from_unix_timestamp(
            cert.validity().not_after.timestamp(),
        )
        .map_err(|_| refused("date hors limites"))?,
    })
}

fn signing_time(value: &Any) -> Result<OffsetDateTime> {
    let time =
        x509_cert::time::Time::from_der(&value.to_der().map_err(der_error)?).map_err(der_error)?;
    let seconds = i64::try_from(time.to_unix_duration().as_secs())
        .map_err(|_| refused("date de signature hors limites"))?;
    OffsetDateTime::from_unix_timestamp(seconds)
        .map_err(|_| refused("date de signature hors limites"))
}

/// The receipt profile, as its holder's checks say it: an end-entity, digitalSignature and
/// nonRepudiation, emailProtection only, AC SISERI's receipt common name, ECDSA P-256.
fn receipt_profile(cert: &X509Certificate<'_>) -> Result<()> {
    let wrong = || refused("le certificat du signataire n'est pas celui des récépissés");
    if cert.is_ca() {
        return Err(wrong());
    }
    let ku = cert.key_usage().map_err(|_| wrong())?.ok_or_else(wrong)?;
    if !ku.value.digital_signature() || !ku.value.non_repudiation() {
        return Err(wrong());
    }
    let eku = cert
        .extended_key_usage()
        .map_err(|_| wrong())?
        .ok_or_else(wrong)?;
    let e = eku.value;
    if !e.email_protection
        || e.any
        || e.server_auth
        || e.client_auth
        || e.code_signing
        || e.ocsp_signing
        || e.time_stamping
        || !e.other.is_empty()
    {
        return Err(wrong());
    }
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok());
    if cn != Some(crate::RECEIPT_COMMON_NAME) {
        return Err(wrong());
    }
    let curve = cert
        .public_key()
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    if curve.as_deref() != Some("1.2.840.10045.3.1.7") {
        return Err(wrong());
    }
    Ok(())
}
