//! The OCSP responder (RFC 6960): AC SISERI answers for its own certificates, live from its
//! database, and signs each response with its own key (a CA-signed responder: no delegated
//! responder certificate to issue, renew or revoke). It takes bytes and returns bytes: the
//! HTTP side (`POST /ocsp`, `GET /ocsp/{base64}`) belongs to the binary.

use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::oid::db::rfc5912::{ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
use der::{Decode, Encode};
use ring::digest;
use rusqlite::Connection;
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::Extension;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse,
    ResponderId, ResponseData, RevokedInfo, SingleResponse, Version,
};

use crate::storage::{self, CertificateStatus};
use crate::{Authority, Error, Result, RevocationReason, Serial};
use store::whole_seconds;

/// nextUpdate − thisUpdate of every response. Responses are computed at each request from the
/// database (a revocation shows at once), so the only staleness is what relying parties and
/// HTTP caches keep: one hour bounds it, where the CRL's seven days would not.
pub const OCSP_VALIDITY: Duration = Duration::hours(1);

/// At most this many certificates per request: more is refused as malformed, so that one
/// request cannot buy an unbounded amount of database work (OpenSSL asks for one per `-cert`).
pub const OCSP_MAX_CERTIFICATES: usize = 32;

/// RFC 8954: a nonce longer than 32 octets is refused (malformedRequest).
const MAX_NONCE: usize = 32;

/// What kind of OCSPResponse was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OcspOutcome {
    /// A signed BasicOCSPResponse (`successful`).
    Successful,
    /// The request could not be read (`malformedRequest`, no body).
    MalformedRequest,
    /// We failed (database, signature): `internalError`, no body. The cause is logged.
    InternalError,
}

impl OcspOutcome {
    /// The RFC 6960 name of the OCSPResponseStatus.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Successful => "successful",
            Self::MalformedRequest => "malformedRequest",
            Self::InternalError => "internalError",
        }
    }
}

/// An OCSPResponse, ready to be sent (`application/ocsp-response`).
#[derive(Debug, Clone)]
pub struct OcspReply {
    /// The OCSPResponse, DER. Always present, whatever the outcome.
    pub der: Vec<u8>,
    /// Its status.
    pub outcome: OcspOutcome,
    /// thisUpdate of the single responses (successful replies only).
    pub this_update: Option<OffsetDateTime>,
    /// nextUpdate of the single responses (successful replies only): how long it may be cached.
    pub next_update: Option<OffsetDateTime>,
    /// True when the request's nonce was echoed: such a response answers one request only and
    /// must not be served from a cache.
    pub has_nonce: bool,
}

impl OcspReply {
    /// An OCSPResponse with only a status, `malformedRequest` or `internalError`.
    fn bare(outcome: OcspOutcome) -> Self {
        let (response, status) = match outcome {
            OcspOutcome::InternalError => (OcspResponse::internal_error(), 2),
            _ => (OcspResponse::malformed_request(), 1),
        };
        Self {
            // The fixed five-octet encoding, should the encoder ever fail on it.
            der: response
                .to_der()
                .unwrap_or_else(|_| vec![0x30, 0x03, 0x0a, 0x01, status]),
            outcome,
            this_update: None,
            next_update: None,
            has_nonce: false,
        }
    }

    /// An OCSPResponse `malformedRequest`, for a request the transport could not even decode
    /// (a GET path that is not base64).
    pub fn malformed() -> Self {
        Self::bare(OcspOutcome::MalformedRequest)
    }

    /// An OCSPResponse `internalError`, for a failure before the CA was even asked (no
    /// database connection, a task that died); the caller logs the cause.
    pub fn internal_error() -> Self {
        Self::bare(OcspOutcome::InternalError)
    }
}

/// Why no signed response was made.
enum Refusal {
    Malformed,
    Internal(String),
}

impl From<Error> for Refusal {
    fn from(e: Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<der::Error> for Refusal {
    fn from(e: der::Error) -> Self {
        Self::Internal(format!("encodage DER : {e}"))
    }
}

impl Authority {
    /// Answers a DER OCSPRequest. For each CertID: `good` (issued, not revoked), `revoked`
    /// (time and reason as recorded) or `unknown` (a serial we never issued or never signed,
    /// or a CertID whose issuer hashes are not AC SISERI's; SHA-1, SHA-256, SHA-384 and
    /// SHA-512 CertIDs are understood). The nonce (id-pkix-ocsp-nonce) is echoed. Never fails:
    /// a bad request gets `malformedRequest`, our own failure `internalError` (and a log line).
    pub fn answer_ocsp(&self, conn: &Connection, request: &[u8], now: OffsetDateTime) -> OcspReply {
        match self.try_answer(conn, request, whole_seconds(now)) {
            Ok(reply) => reply,
            Err(Refusal::Malformed) => OcspReply::bare(OcspOutcome::MalformedRequest),
            Err(Refusal::Internal(why)) => {
                tracing::error!(error = %why, "réponse OCSP impossible");
                OcspReply::bare(OcspOutcome::InternalError)
            }
        }
    }

    fn try_answer(
        &self,
        conn: &Connection,
        request: &[u8],
        now: OffsetDateTime,
    ) -> std::result::Result<OcspReply, Refusal> {
        let request = OcspRequest::from_der(request).map_err(|_| Refusal::Malformed)?;
        let list = &request.tbs_request.request_list;
        if list.is_empty() || list.len() > OCSP_MAX_CERTIFICATES {
            return Err(Refusal::Malformed);
        }
        let nonce = nonce_of(&request)?;

        let ca = Certificate::from_der(self.certificate_der())
            .map_err(|e| Refusal::Internal(format!("certificat de l'AC illisible : {e}")))?;
        let issuer = IssuerHashes {
            name_der: ca.tbs_certificate.subject.to_der()?,
            key_bits: ca
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes()
                .to_vec(),
        };

        let next_update = now + OCSP_VALIDITY;
        let this = generalized(now)?;
        let next = generalized(next_update)?;
        let responses = list
            .iter()
            .map(|r| {
                Ok(SingleResponse {
                    cert_id: r.req_cert.clone(),
                    cert_status: status_of(conn, &issuer, &r.req_cert)?,
                    this_update: this,
                    next_update: Some(next),
                    single_extensions: None,
                })
            })
            .collect::<std::result::Result<Vec<_>, Refusal>>()?;

        let key_hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &issuer.key_bits);
        let has_nonce = nonce.is_some();
        let data = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(OctetString::new(key_hash.as_ref())?),
            produced_at: this,
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        let tbs = data.to_der()?;
        let (algorithm, signature) = self.sign_detached(&tbs)?;
        // The CA certificate rides along so that a client holding only the trust anchor
        // (`openssl ocsp -CAfile`) finds the signer; only if it re-encodes to the same bytes.
        let certs = match ca.to_der() {
            Ok(der) if der == self.certificate_der() => Some(vec![ca]),
            _ => None,
        };
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: AlgorithmIdentifierOwned::from_der(algorithm)?,
            signature: BitString::from_bytes(&signature)?,
            certs,
        };
        Ok(OcspReply {
            der: OcspResponse::successful(basic)?.to_der()?,
            outcome: OcspOutcome::Successful,
            this_update: Some(now),
            next_update: Some(next_update),
            has_nonce,
        })
    }
}

/// The request's nonce extension, to echo verbatim (OpenSSL compares the extnValue octets).
fn nonce_of(request: &OcspRequest) -> std::result::Result<Option<Extension>, Refusal> {
    let Some(ext) = request
        .tbs_request
        .request_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
    else {
        return Ok(None);
    };
    let value = ext.extn_value.as_bytes();
    // RFC 8954: the value is an OCTET STRING of 1 to 32 octets; some old clients put the
    // octets bare, which we echo as well, under the same bound.
    let len = match OctetString::from_der(value) {
        Ok(inner) => inner.as_bytes().len(),
        Err(_) => value.len(),
    };
    if len == 0 || len > MAX_NONCE {
        return Err(Refusal::Malformed);
    }
    Ok(Some(Extension {
        extn_id: ID_PKIX_OCSP_NONCE,
        critical: false,
        extn_value: ext.extn_value.clone(),
    }))
}

/// What a CertID must hash to for it to name AC SISERI as the issuer.
struct IssuerHashes {
    name_der: Vec<u8>,
    key_bits: Vec<u8>,
}

impl IssuerHashes {
    fn issued(&self, id: &CertId) -> bool {
        let algorithm = match id.hash_algorithm.oid {
            oid if oid == ID_SHA_1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            oid if oid == ID_SHA_256 => &digest::SHA256,
            oid if oid == ID_SHA_384 => &digest::SHA384,
            oid if oid == ID_SHA_512 => &digest::SHA512,
            _ => return false,
        };
        digest::digest(algorithm, &self.name_der).as_ref() == id.issuer_name_hash.as_bytes()
            && digest::digest(algorithm, &self.key_bits).as_ref() == id.issuer_key_hash.as_bytes()
    }
}

fn status_of(
    conn: &Connection,
    issuer: &IssuerHashes,
    id: &CertId,
) -> std::result::Result<CertStatus, Refusal> {
    if !issuer.issued(id) {
        return Ok(CertStatus::unknown());
    }
    let serial = Serial::from_der_bytes(id.serial_number.as_bytes());
    Ok(match storage::find(conn, &serial)?.map(|r| r.status) {
        // Unsigned: recorded before a signature that never came, so never released.
        None | Some(CertificateStatus::Unsigned) => CertStatus::unknown(),
        Some(CertificateStatus::Issued) => CertStatus::good(),
        Some(CertificateStatus::Revoked { at, reason }) => CertStatus::revoked(RevokedInfo {
            revocation_time: generalized(at)?,
            revocation_reason: crl_reason(reason),
        }),
    })
}

/// As in the CRL: `unspecified` is left out rather than written (RFC 5280 §5.3.1).
fn crl_reason(reason: RevocationReason) -> Option<CrlReason> {
    Some(match reason {
        RevocationReason::Unspecified => return None,
        RevocationReason::KeyCompromise => CrlReason::KeyCompromise,
        RevocationReason::CaCompromise => CrlReason::CaCompromise,
        RevocationReason::AffiliationChanged => CrlReason::AffiliationChanged,
        RevocationReason::Superseded => CrlReason::Superseded,
        RevocationReason::CessationOfOperation => CrlReason::CessationOfOperation,
        RevocationReason::PrivilegeWithdrawn => CrlReason::PrivilegeWithdrawn,
    })
}

fn generalized(t: OffsetDateTime) -> Result<OcspGeneralizedTime> {
    let since_epoch = u64::try_from(t.unix_timestamp())
        .map_err(|_| Error::Lint("date antérieure à 1970".into()))?;
    let at = der::DateTime::from_unix_duration(std::time::Duration::from_secs(since_epoch))
        .map_err(|e| Error::Lint(e.to_string()))?;
    Ok(OcspGeneralizedTime(GeneralizedTime::from_date_time(at)))
}

#[cfg(test)]
mod tests {
    use der::asn1::Null;
    use x509_cert::serial_number::SerialNumber;
    use x509_ocsp::{OcspResponseStatus, Request, TbsRequest};

    use super::*;
    use crate::{
        CaKeyAlgorithm, GeneratedKey, IssueRequest, Policy, Subject, SubscriberKeyAlgorithm,
    };

    struct Ca {
        authority: Authority,
        conn: Connection,
        now: OffsetDateTime,
    }

    fn ca() -> Ca {
        let now = whole_seconds(OffsetDateTime::now_utc());
        let policy = Policy::default();
        let ceremony =
            Authority::create_root(CaKeyAlgorithm::EcdsaP256, &policy, "test", now).unwrap();
        let authority = Authority::load(
            &ceremony.certificate_pem.unwrap(),
            &ceremony.encrypted_key_pem,
            "test",
            policy,
        )
        .unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrations::apply(&mut conn).unwrap();
        Ca {
            authority,
            conn,
            now,
        }
    }

    fn subject() -> Subject {
        Subject::Organisme {
            name: "Dosimétrie Exemple".into(),
        }
    }

    fn key() -> GeneratedKey {
        GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap()
    }

    fn cert_id(
        ca: &Ca,
        hash: &'static digest::Algorithm,
        oid: der::oid::ObjectIdentifier,
        serial: &Serial,
    ) -> CertId {
        let cert = Certificate::from_der(ca.authority.certificate_der()).unwrap();
        let name = cert.tbs_certificate.subject.to_der().unwrap();
        let key = cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes();
        CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid,
                parameters: Some(Null.into()),
            },
            issuer_name_hash: OctetString::new(digest::digest(hash, &name).as_ref()).unwrap(),
            issuer_key_hash: OctetString::new(digest::digest(hash, key).as_ref()).unwrap(),
            serial_number: SerialNumber::new(serial.as_bytes()).unwrap(),
        }
    }

    fn request(ids: Vec<CertId>, nonce: Option<&[u8]>) -> Vec<u8> {
        OcspRequest {
            tbs_request: TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: ids
                    .into_iter()
                    .map(|req_cert| Request {
                        req_cert,
                        single_request_extensions: None,
                    })
                    .collect(),
                request_extensions: nonce.map(|n| {
                    vec![Extension {
                        extn_id: ID_PKIX_OCSP_NONCE,
                        critical: false,
                        extn_value: OctetString::new(
                            OctetString::new(n).unwrap().to_der().unwrap(),
                        )
                        .unwrap(),
                    }]
                }),
            },
            optional_signature: None,
        }
        .to_der()
        .unwrap()
    }

    fn statuses(reply: &OcspReply) -> (BasicOcspResponse, Vec<CertStatus>) {
        let response = OcspResponse::from_der(&reply.der).unwrap();
        assert_eq!(response.response_status, OcspResponseStatus::Successful);
        let bytes = response.response_bytes.unwrap();
        let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).unwrap();
        let statuses = basic
            .tbs_response_data
            .responses
            .iter()
            .map(|r| r.cert_status)
            .collect();
        (basic, statuses)
    }

    #[test]
    fn garbage_and_empty_requests_get_malformed_request_without_a_body() {
        let ca = ca();
        for bad in [
            &b""[..],
            b"\x30\x00",
            b"not der at all",
            &request(vec![], None),
        ] {
            let reply = ca.authority.answer_ocsp(&ca.conn, bad, ca.now);
            assert_eq!(reply.outcome, OcspOutcome::MalformedRequest);
            assert_eq!(reply.der, [0x30, 0x03, 0x0a, 0x01, 0x01]);
        }
        assert_eq!(OcspReply::malformed().der, [0x30, 0x03, 0x0a, 0x01, 0x01]);
    }

    #[test]
    fn a_database_failure_gets_internal_error() {
        let ca = ca();
        let broken = Connection::open_in_memory().unwrap(); // no tables
        let id = cert_id(&ca, &digest::SHA256, ID_SHA_256, &Serial::random().unwrap());
        let reply = ca
            .authority
            .answer_ocsp(&broken, &request(vec![id], None), ca.now);
        assert_eq!(reply.outcome, OcspOutcome::InternalError);
        assert_eq!(reply.der, [0x30, 0x03, 0x0a, 0x01, 0x02]);
    }

    #[test]
    fn statuses_follow_the_database_with_sha1_and_sha256_cert_ids() {
        let mut ca = ca();
        let (good_key, revoked_key, unsigned_key) = (key(), key(), key());
        let issue = |ca: &mut Ca, k: &GeneratedKey| {
            let req = IssueRequest {
                subject: subject(),
                key: k.public(),
                requester: "test",
            };
            ca.authority.issue(&mut ca.conn, &req, ca.now).unwrap()
        };
        let good = issue(&mut ca, &good_key);
        let revoked = issue(&mut ca, &revoked_key);
        ca.authority
            .revoke(
                &mut ca.conn,
                &revoked.serial,
                RevocationReason::KeyCompromise,
                "test",
                ca.now,
            )
            .unwrap();
        let tx = crate::immediate(&mut ca.conn).unwrap();
        let unsigned = ca
            .authority
            .prepare(
                &tx,
                &IssueRequest {
                    subject: subject(),
                    key: unsigned_key.public(),
                    requester: "test",
                },
                ca.now,
            )
            .unwrap();
        tx.commit().unwrap();

        let mut foreign = cert_id(&ca, &digest::SHA256, ID_SHA_256, &good.serial);
        foreign.issuer_key_hash = OctetString::new([0u8; 32]).unwrap();
        let ids = vec![
            cert_id(
                &ca,
                &digest::SHA1_FOR_LEGACY_USE_ONLY,
                ID_SHA_1,
                &good.serial,
            ),
            cert_id(&ca, &digest::SHA256, ID_SHA_256, &good.serial),
            cert_id(&ca, &digest::SHA256, ID_SHA_256, &revoked.serial),
            cert_id(&ca, &digest::SHA256, ID_SHA_256, unsigned.serial()),
            cert_id(&ca, &digest::SHA256, ID_SHA_256, &Serial::random().unwrap()),
            foreign,
        ];
        let reply = ca
            .authority
            .answer_ocsp(&ca.conn, &request(ids.clone(), None), ca.now);
        assert_eq!(reply.outcome, OcspOutcome::Successful);
        assert_eq!(reply.next_update, Some(ca.now + OCSP_VALIDITY));
        assert!(!reply.has_nonce);
        let (basic, statuses) = statuses(&reply);
        let revoked_info = RevokedInfo {
            revocation_time: generalized(ca.now).unwrap(),
            revocation_reason: Some(CrlReason::KeyCompromise),
        };
        assert_eq!(
            statuses,
            [
                CertStatus::good(),
                CertStatus::good(),
                CertStatus::revoked(revoked_info),
                CertStatus::unknown(),
                CertStatus::unknown(),
                CertStatus::unknown(),
            ]
        );
        // Each answer carries the CertID exactly as asked.
        let echoed: Vec<_> = basic
            .tbs_response_data
            .responses
            .iter()
            .map(|r| r.cert_id.clone())
            .collect();
        assert_eq!(echoed, ids);
        // Signed by the CA key over the DER of ResponseData.
        let tbs = basic.tbs_response_data.to_der().unwrap();
        let cert = Certificate::from_der(ca.authority.certificate_der()).unwrap();
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key;
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            spki.raw_bytes(),
        )
        .verify(&tbs, basic.signature.raw_bytes())
        .expect("signature de l'AC");
        assert!(basic.nonce().is_none());
    }

    #[test]
    fn the_nonce_is_echoed_and_an_oversized_one_is_refused() {
        let ca = ca();
        let id = cert_id(&ca, &digest::SHA256, ID_SHA_256, &Serial::random().unwrap());
        let reply = ca.authority.answer_ocsp(
            &ca.conn,
            &request(vec![id.clone()], Some(&[7u8; 16])),
            ca.now,
        );
        assert!(reply.has_nonce);
        let (basic, _) = statuses(&reply);
        assert_eq!(basic.nonce().unwrap().0.as_bytes(), [7u8; 16]);

        let reply = ca.authority.answer_ocsp(
            &ca.conn,
            &request(vec![id.clone()], Some(&[7u8; 33])),
            ca.now,
        );
        assert_eq!(reply.outcome, OcspOutcome::MalformedRequest);

        let too_many = vec![id; OCSP_MAX_CERTIFICATES + 1];
        let reply = ca
            .authority
            .answer_ocsp(&ca.conn, &request(too_many, None), ca.now);
        assert_eq!(reply.outcome, OcspOutcome::MalformedRequest);
    }
}
