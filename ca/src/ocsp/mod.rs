//! The OCSP responder (RFC 6960, RFC 5019 profile): AC SISERI answers for its own
//! certificates and signs the responses with its own key (a CA-signed responder: no delegated
//! responder certificate to issue, renew or revoke). It takes bytes and returns bytes: the
//! HTTP side (`POST /ocsp`, `GET /ocsp/{base64}`) belongs to the binary.
//!
//! Two ways to answer:
//! - **signed ahead** (the daemon's default, [`OcspResponder`] in `responder.rs`): every
//!   signed, unexpired certificate has its response signed in advance and stored
//!   (`ca_ocsp_responses`); a request costs a parse and a lookup, never a signature. How the
//!   responses are produced and renewed is in `ahead.rs`.
//! - **per request** ([`Authority::answer_ocsp`], below): the response is built from the
//!   database and signed at each request, nonce echoed. Kept as the baseline the benchmark
//!   compares with (`[ca] ocsp_presigned = false`).
//!
//! Every OCSP signature, either way, goes through [`Authority::sign_ocsp_response`].

mod ahead;
mod responder;

pub use ahead::{OcspPresigner, PresignReport};
pub use responder::{OcspQuery, OcspResponder};

use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::oid::db::rfc5912::{ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
use der::oid::ObjectIdentifier;
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

/// nextUpdate − thisUpdate of the responses signed per request. Those are computed at each
/// request from the database (a revocation shows at once), so the only staleness is what
/// relying parties and HTTP caches keep: one hour bounds it, where the CRL's seven days would
/// not. Responses signed ahead use `Policy::ocsp_validity_hours` instead.
pub const OCSP_VALIDITY: Duration = Duration::hours(1);

/// At most this many certificates per request signed per request: more is refused as
/// malformed, so that one request cannot buy an unbounded amount of database work (OpenSSL
/// asks for one per `-cert`).
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
    /// Not a certificate we answer for (never issued or never signed by AC SISERI, expired,
    /// another issuer, an unknown hash algorithm): `unauthorized`, no body (RFC 5019 §2.2.3,
    /// RFC 6960 §2.3), a constant that costs no signature.
    Unauthorized,
}

impl OcspOutcome {
    /// The RFC 6960 name of the OCSPResponseStatus.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Successful => "successful",
            Self::MalformedRequest => "malformedRequest",
            Self::InternalError => "internalError",
            Self::Unauthorized => "unauthorized",
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
    /// True when a signature was made to answer this request (per-request signing, or a
    /// response signed ahead that was missing); false when it was served as stored.
    pub signed: bool,
}

impl OcspReply {
    /// An OCSPResponse with only a status, `malformedRequest`, `internalError` or
    /// `unauthorized`.
    fn bare(outcome: OcspOutcome) -> Self {
        let status = match outcome {
            OcspOutcome::InternalError => 2,
            OcspOutcome::Unauthorized => 6,
            _ => 1,
        };
        Self {
            // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED } : five octets.
            der: vec![0x30, 0x03, 0x0a, 0x01, status],
            outcome,
            this_update: None,
            next_update: None,
            has_nonce: false,
            signed: false,
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

    /// An OCSPResponse `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::bare(OcspOutcome::Unauthorized)
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

fn der_error(e: der::Error) -> Error {
    Error::Lint(format!("encodage DER OCSP : {e}"))
}

/// The hash algorithms a CertID may use (RFC 5019 §2.1.1 requires SHA-1; RFC 6960 clients
/// may use the SHA-2 family).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum HashAlg {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub(crate) const ALL: [HashAlg; 4] = [Self::Sha1, Self::Sha256, Self::Sha384, Self::Sha512];

    pub(crate) fn of_oid(oid: ObjectIdentifier) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.oid() == oid)
    }

    fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha1 => ID_SHA_1,
            Self::Sha256 => ID_SHA_256,
            Self::Sha384 => ID_SHA_384,
            Self::Sha512 => ID_SHA_512,
        }
    }

    fn ring(self) -> &'static digest::Algorithm {
        match self {
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        }
    }

    /// The name stored in `ca_ocsp_responses.hash`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What identifies AC SISERI in OCSP, computed once from its certificate: the CertID hashes
/// of its name and key under each hash algorithm, its responder ID, and the certificate that
/// rides along in responses. No key here: the request path holds one of these, not the key.
#[derive(Debug, Clone)]
pub(crate) struct OcspIssuer {
    /// (name hash, key hash) per [`HashAlg`], in `HashAlg::ALL` order.
    hashes: [(Vec<u8>, Vec<u8>); 4],
    /// SHA-1 of the CA's public key bits: ResponderID byKey.
    key_sha1: Vec<u8>,
    /// The CA certificate, sent in `certs` so that a client holding only the trust anchor
    /// (`openssl ocsp -CAfile`) finds the signer; `None` if it would not re-encode to the same
    /// bytes.
    cert: Option<Certificate>,
}

impl OcspIssuer {
    pub(crate) fn new(ca_der: &[u8]) -> Result<Self> {
        let ca = Certificate::from_der(ca_der)
            .map_err(|e| Error::CaCertificate(format!("certificat de l'AC illisible : {e}")))?;
        let name = ca.tbs_certificate.subject.to_der().map_err(der_error)?;
        let key = ca
            .tbs_certificate
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let hashes = HashAlg::ALL.map(|h| {
            (
                digest::digest(h.ring(), &name).as_ref().to_vec(),
                digest::digest(h.ring(), &key).as_ref().to_vec(),
            )
        });
        let cert = match ca.to_der() {
            Ok(der) if der == ca_der => Some(ca),
            _ => None,
        };
        Ok(Self {
            key_sha1: hashes[0].1.clone(),
            hashes,
            cert,
        })
    }

    /// True when `id` names AC SISERI as the issuer (hash algorithm understood, issuer name
    /// and key hashes ours).
    fn issued(&self, id: &CertId) -> Option<HashAlg> {
        let hash = HashAlg::of_oid(id.hash_algorithm.oid)?;
        let (name, key) = &self.hashes[hash.index()];
        (name.as_slice() == id.issuer_name_hash.as_bytes()
            && key.as_slice() == id.issuer_key_hash.as_bytes())
        .then_some(hash)
    }

    /// The CertID of `serial` under `hash`, as RFC 5019 clients build it (parameters NULL).
    fn cert_id(&self, serial: &Serial, hash: HashAlg) -> Result<CertId> {
        let (name, key) = &self.hashes[hash.index()];
        Ok(CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: hash.oid(),
                parameters: Some(der::asn1::Null.into()),
            },
            issuer_name_hash: OctetString::new(name.as_slice()).map_err(der_error)?,
            issuer_key_hash: OctetString::new(key.as_slice()).map_err(der_error)?,
            serial_number: x509_cert::serial_number::SerialNumber::new(serial.as_bytes())
                .map_err(der_error)?,
        })
    }

    pub(crate) fn responder_id(&self) -> Result<ResponderId> {
        Ok(ResponderId::ByKey(
            OctetString::new(self.key_sha1.as_slice()).map_err(der_error)?,
        ))
    }
}

impl Authority {
    /// Signs one OCSP ResponseData and returns the whole OCSPResponse (`successful`), DER.
    fn signed_ocsp_response(&self, data: ResponseData) -> Result<Vec<u8>> {
        let tbs = data.to_der().map_err(der_error)?;
        let (algorithm, signature) = self.sign_ocsp_response(&tbs)?;
        let basic = BasicOcspResponse {
            tbs_response_data: data,
            signature_algorithm: AlgorithmIdentifierOwned::from_der(algorithm)
                .map_err(der_error)?,
            signature: BitString::from_bytes(&signature).map_err(der_error)?,
            certs: self.ocsp_issuer().cert.clone().map(|c| vec![c]),
        };
        OcspResponse::successful(basic)
            .and_then(|r| r.to_der())
            .map_err(der_error)
    }

    /// Answers a DER OCSPRequest, **signing at each request** (the baseline; the daemon
    /// serves responses signed ahead, see [`OcspResponder`]). For each CertID: `good` (issued,
    /// not revoked), `revoked` (time and reason as recorded) or `unknown` (a serial we never
    /// issued or never signed, or a CertID whose issuer hashes are not AC SISERI's; SHA-1,
    /// SHA-256, SHA-384 and SHA-512 CertIDs are understood). The nonce (id-pkix-ocsp-nonce) is
    /// echoed. Never fails: a bad request gets `malformedRequest`, our own failure
    /// `internalError` (and a log line).
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
        let issuer = self.ocsp_issuer();

        let next_update = now + OCSP_VALIDITY;
        let this = generalized(now)?;
        let next = generalized(next_update)?;
        let responses = list
            .iter()
            .map(|r| {
                Ok(SingleResponse {
                    cert_id: r.req_cert.clone(),
                    cert_status: status_of(conn, issuer, &r.req_cert)?,
                    this_update: this,
                    next_update: Some(next),
                    single_extensions: None,
                })
            })
            .collect::<std::result::Result<Vec<_>, Refusal>>()?;

        let has_nonce = nonce.is_some();
        let data = ResponseData {
            version: Version::V1,
            responder_id: issuer.responder_id()?,
            produced_at: this,
            responses,
            response_extensions: nonce.map(|n| vec![n]),
        };
        Ok(OcspReply {
            der: self.signed_ocsp_response(data)?,
            outcome: OcspOutcome::Successful,
            this_update: Some(now),
            next_update: Some(next_update),
            has_nonce,
            signed: true,
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

fn status_of(
    conn: &Connection,
    issuer: &OcspIssuer,
    id: &CertId,
) -> std::result::Result<CertStatus, Refusal> {
    if issuer.issued(id).is_none() {
        return Ok(CertStatus::unknown());
    }
    let serial = Serial::from_der_bytes(id.serial_number.as_bytes());
    Ok(match storage::find(conn, &serial)?.map(|r| r.status) {
        // Unsigned: recorded before a signature that never came, so never released.
        None | Some(CertificateStatus::Unsigned) => CertStatus::unknown(),
        Some(CertificateStatus::Issued) => CertStatus::good(),
        Some(CertificateStatus::Revoked { at, reason }) => revoked_status(at, reason)?,
    })
}

fn revoked_status(at: OffsetDateTime, reason: RevocationReason) -> Result<CertStatus> {
    Ok(CertStatus::revoked(RevokedInfo {
        revocation_time: generalized(at)?,
        revocation_reason: crl_reason(reason),
    }))
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

    fn issue(ca: &mut Ca) -> crate::Issued {
        let k = key();
        let req = IssueRequest {
            subject: subject(),
            key: k.public(),
            requester: "test",
        };
        ca.authority.issue(&mut ca.conn, &req, ca.now).unwrap()
    }

    fn responder(ca: &Ca) -> OcspResponder {
        OcspResponder::new(ca.authority.certificate_der()).unwrap()
    }

    fn sha1_request(ca: &Ca, serial: &Serial) -> Vec<u8> {
        let id = cert_id(ca, &digest::SHA1_FOR_LEGACY_USE_ONLY, ID_SHA_1, serial);
        request(vec![id], None)
    }

    /// (der, this_update) of the stored response.
    fn stored(ca: &Ca, serial: &Serial, hash: &str) -> Option<(Vec<u8>, i64)> {
        use rusqlite::OptionalExtension;
        ca.conn
            .query_row(
                "SELECT der, this_update FROM ca_ocsp_responses WHERE serial = ?1 AND hash = ?2",
                rusqlite::params![serial.as_bytes(), hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .unwrap()
    }

    #[test]
    fn issuance_signs_the_response_ahead_and_the_responder_serves_the_stored_bytes() {
        let mut ca = ca();
        let issued = issue(&mut ca);
        let (row, this_update) = stored(&ca, &issued.serial, "sha1").expect("signed at issuance");
        assert_eq!(this_update, ca.now.unix_timestamp());
        let responder = responder(&ca);
        let req = sha1_request(&ca, &issued.serial);
        let later = ca.now + Duration::minutes(5);
        let first = responder.answer(&ca.conn, &req, later, &ca.authority);
        let second = responder.answer(&ca.conn, &req, later, &ca.authority);
        assert_eq!(first.outcome, OcspOutcome::Successful);
        assert!(!first.signed && !second.signed, "no signature to answer");
        assert_eq!(first.der, row);
        assert_eq!(second.der, row);
        assert_eq!(first.next_update, Some(ca.now + Duration::hours(24)));
        let (basic, statuses) = statuses(&first);
        assert_eq!(statuses, [CertStatus::good()]);
        assert_eq!(
            basic.tbs_response_data.responses[0].cert_id,
            cert_id(
                &ca,
                &digest::SHA1_FOR_LEGACY_USE_ONLY,
                ID_SHA_1,
                &issued.serial
            )
        );
        assert!(basic.nonce().is_none());
    }

    #[test]
    fn a_revocation_replaces_the_response_in_its_own_transaction() {
        let mut ca = ca();
        let issued = issue(&mut ca);
        let responder = responder(&ca);
        // A SHA-256 response stored before the revocation must not survive it.
        let id256 = cert_id(&ca, &digest::SHA256, ID_SHA_256, &issued.serial);
        let req256 = request(vec![id256], None);
        assert!(
            responder
                .answer(&ca.conn, &req256, ca.now, &ca.authority)
                .signed
        );
        let tx = crate::immediate(&mut ca.conn).unwrap();
        ca.authority
            .revoke_in(
                &tx,
                &issued.serial,
                RevocationReason::KeyCompromise,
                "test",
                ca.now,
            )
            .unwrap();
        tx.commit().unwrap();
        assert!(stored(&ca, &issued.serial, "sha256").is_none());
        let reply = responder.answer(
            &ca.conn,
            &sha1_request(&ca, &issued.serial),
            ca.now,
            &ca.authority,
        );
        assert!(
            !reply.signed,
            "signed by the revocation, not by the request"
        );
        let revoked = CertStatus::revoked(RevokedInfo {
            revocation_time: generalized(ca.now).unwrap(),
            revocation_reason: Some(CrlReason::KeyCompromise),
        });
        assert_eq!(statuses(&reply).1, [revoked]);
        let reply = responder.answer(&ca.conn, &req256, ca.now, &ca.authority);
        assert!(reply.signed);
        assert_eq!(statuses(&reply).1, [revoked]);
    }

    #[test]
    fn other_hash_algorithms_are_signed_on_first_demand_then_served_from_storage() {
        let mut ca = ca();
        let issued = issue(&mut ca);
        let responder = responder(&ca);
        for (hash, oid, name) in [
            (&digest::SHA256, ID_SHA_256, "sha256"),
            (&digest::SHA384, ID_SHA_384, "sha384"),
            (&digest::SHA512, ID_SHA_512, "sha512"),
        ] {
            let id = cert_id(&ca, hash, oid, &issued.serial);
            let req = request(vec![id.clone()], Some(&[9; 16]));
            let first = responder.answer(&ca.conn, &req, ca.now, &ca.authority);
            let again = responder.answer(&ca.conn, &req, ca.now, &ca.authority);
            assert!(first.signed && !again.signed, "{name}");
            assert_eq!(first.der, again.der, "{name}");
            assert_eq!(stored(&ca, &issued.serial, name).unwrap().0, first.der);
            let (basic, statuses) = statuses(&first);
            assert_eq!(statuses, [CertStatus::good()]);
            assert_eq!(basic.tbs_response_data.responses[0].cert_id, id, "{name}");
            assert!(basic.nonce().is_none(), "nonces are not echoed");
        }
    }

    #[test]
    fn unknown_foreign_unsigned_and_expired_certificates_get_unauthorized_unsigned() {
        let mut ca = ca();
        let issued = issue(&mut ca);
        let tx = crate::immediate(&mut ca.conn).unwrap();
        let unsigned = ca
            .authority
            .prepare(
                &tx,
                &IssueRequest {
                    subject: subject(),
                    key: key().public(),
                    requester: "test",
                },
                ca.now,
            )
            .unwrap();
        tx.commit().unwrap();
        let responder = responder(&ca);
        let mut foreign = cert_id(
            &ca,
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            ID_SHA_1,
            &issued.serial,
        );
        foreign.issuer_name_hash = OctetString::new([0u8; 20]).unwrap();
        let mut md5 = foreign.clone();
        md5.hash_algorithm.oid = der::oid::db::rfc5912::ID_MD_5;
        let after_expiry = issued.not_after + Duration::seconds(1);
        for (req, now) in [
            (sha1_request(&ca, &Serial::random().unwrap()), ca.now),
            (sha1_request(&ca, unsigned.serial()), ca.now),
            (request(vec![foreign], None), ca.now),
            (request(vec![md5], None), ca.now),
            (sha1_request(&ca, &issued.serial), after_expiry),
        ] {
            let reply = responder.answer(&ca.conn, &req, now, &ca.authority);
            assert_eq!(reply.outcome, OcspOutcome::Unauthorized);
            assert_eq!(reply.der, [0x30, 0x03, 0x0a, 0x01, 0x06]);
            assert!(!reply.signed);
        }
        let reply = responder.answer(&ca.conn, b"garbage", ca.now, &ca.authority);
        assert_eq!(reply.outcome, OcspOutcome::MalformedRequest);
    }

    #[test]
    fn the_job_renews_a_response_half_way_through_its_validity_not_before() {
        let mut ca = ca();
        let issued = issue(&mut ca);
        let half = ca.authority.ocsp_validity() / 2;
        let mut job = OcspPresigner::new();
        // The first tick sweeps and finds every response current.
        let report = job.tick(&ca.authority, &mut ca.conn, ca.now, 100).unwrap();
        assert_eq!(report.signed(), 0, "{report:?}");
        assert!(report.sweep_finished);

        let before = ca.now + half - Duration::seconds(1);
        let report = job.tick(&ca.authority, &mut ca.conn, before, 100).unwrap();
        assert_eq!(report.renewed, 0, "{report:?}");
        assert_eq!(
            stored(&ca, &issued.serial, "sha1").unwrap().1,
            ca.now.unix_timestamp()
        );

        let due = ca.now + half;
        let report = job.tick(&ca.authority, &mut ca.conn, due, 100).unwrap();
        assert_eq!(report.renewed, 1, "{report:?}");
        let (der, this_update) = stored(&ca, &issued.serial, "sha1").unwrap();
        assert_eq!(this_update, due.unix_timestamp());
        // The renewed response is what is served, still without a signature on the way.
        let reply = responder(&ca).answer(
            &ca.conn,
            &sha1_request(&ca, &issued.serial),
            due,
            &ca.authority,
        );
        assert_eq!(reply.der, der);
        assert!(!reply.signed);
        assert_eq!(reply.next_update, Some(due + ca.authority.ocsp_validity()));

        // Past the certificate's end, its response is dropped instead of renewed.
        let late = issued.not_after + Duration::seconds(1);
        let report = job.tick(&ca.authority, &mut ca.conn, late, 100).unwrap();
        assert_eq!((report.renewed, report.dropped), (0, 1), "{report:?}");
        assert!(stored(&ca, &issued.serial, "sha1").is_none());
    }

    #[test]
    fn the_job_signs_what_other_paths_wrote_within_its_budget() {
        let mut ca = ca();
        let a = issue(&mut ca);
        let b = issue(&mut ca);
        let c = issue(&mut ca);
        let mut job = OcspPresigner::new();
        job.tick(&ca.authority, &mut ca.conn, ca.now, 100).unwrap();
        // As a bulk import would leave them: no response at all.
        ca.conn
            .execute("DELETE FROM ca_ocsp_responses", [])
            .unwrap();
        // A revocation written by plain SQL (not through the CA): the trigger numbers it.
        ca.conn
            .execute(
                "UPDATE ca_certificates SET status = 'revoked', revoked_at = ?2,
                     revocation_reason = 'superseded' WHERE serial = ?1",
                rusqlite::params![c.serial.as_bytes(), ca.now.unix_timestamp()],
            )
            .unwrap();
        let mut job = OcspPresigner::new();
        let later = ca.now + Duration::hours(2);
        let report = job.tick(&ca.authority, &mut ca.conn, later, 2).unwrap();
        assert_eq!(report.signed(), 2, "budget respected: {report:?}");
        assert!(report.more);
        let report = job.tick(&ca.authority, &mut ca.conn, later, 100).unwrap();
        assert!(!report.more && report.sweep_finished, "{report:?}");
        for serial in [&a.serial, &b.serial, &c.serial] {
            assert!(stored(&ca, serial, "sha1").is_some());
        }
        let reply = responder(&ca).answer(
            &ca.conn,
            &sha1_request(&ca, &c.serial),
            later,
            &ca.authority,
        );
        assert!(matches!(statuses(&reply).1[0], CertStatus::Revoked(_)));

        // After the first sweep the job follows revocations by their sequence number.
        ca.conn
            .execute(
                "UPDATE ca_certificates SET status = 'revoked', revoked_at = ?2,
                     revocation_reason = 'superseded' WHERE serial = ?1",
                rusqlite::params![a.serial.as_bytes(), later.unix_timestamp()],
            )
            .unwrap();
        let report = job.tick(&ca.authority, &mut ca.conn, later, 100).unwrap();
        assert_eq!(report.revoked, 1, "{report:?}");
        // One through the CA signed its response in its transaction: nothing left to sign.
        ca.authority
            .revoke(
                &mut ca.conn,
                &b.serial,
                RevocationReason::Superseded,
                "test",
                later,
            )
            .unwrap();
        let report = job.tick(&ca.authority, &mut ca.conn, later, 100).unwrap();
        assert_eq!(report.signed(), 0, "{report:?}");
        let reply = responder(&ca).answer(
            &ca.conn,
            &sha1_request(&ca, &a.serial),
            later,
            &ca.authority,
        );
        assert!(!reply.signed);
        assert!(matches!(statuses(&reply).1[0], CertStatus::Revoked(_)));
    }

    #[test]
    fn the_ocsp_signing_door_refuses_anything_but_our_response_data() {
        let mut ca = ca();
        let issued = issue(&mut ca);
        let cert = Certificate::from_der(&issued.der).unwrap();
        let tbs_certificate = cert.tbs_certificate.to_der().unwrap();
        assert!(ca.authority.sign_ocsp_response(&tbs_certificate).is_err());
        let other = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(OctetString::new([1u8; 20]).unwrap()),
            produced_at: generalized(ca.now).unwrap(),
            responses: vec![],
            response_extensions: None,
        };
        assert!(ca
            .authority
            .sign_ocsp_response(&other.to_der().unwrap())
            .is_err());
    }

    #[test]
    fn memory_serves_a_current_response_until_the_revocation_set_or_the_renewal_point_says_no() {
        let mut ca = ca();
        let issued = issue(&mut ca);
        let responder = responder(&ca);
        let revoked = crate::revocation::RevocationSet::new();
        revoked.refresh(&ca.conn).unwrap();
        let query = responder.parse(&sha1_request(&ca, &issued.serial)).unwrap();
        assert!(
            responder.cached(&query, ca.now, &revoked).is_none(),
            "empty at first"
        );
        let read = responder.lookup(&ca.conn, &query, ca.now, &ca.authority);
        let hit = responder
            .cached(&query, ca.now, &revoked)
            .expect("kept in memory");
        assert_eq!(hit.der, read.der);
        assert!(!hit.signed);
        // Past the renewal point, memory sends the caller back to the database.
        let half = ca.authority.ocsp_validity() / 2;
        assert!(responder.cached(&query, ca.now + half, &revoked).is_none());
        // Revoked in the database: once the set knows, memory no longer answers `good`.
        ca.authority
            .revoke(
                &mut ca.conn,
                &issued.serial,
                RevocationReason::Superseded,
                "test",
                ca.now,
            )
            .unwrap();
        assert!(
            responder.cached(&query, ca.now, &revoked).is_some(),
            "set not refreshed yet"
        );
        // (A set follows other connections' commits; here one connection does all, so a new
        // set stands for the refreshed one.)
        let revoked = crate::revocation::RevocationSet::new();
        revoked.refresh(&ca.conn).unwrap();
        assert!(responder.cached(&query, ca.now, &revoked).is_none());
        let read = responder.lookup(&ca.conn, &query, ca.now, &ca.authority);
        assert!(matches!(statuses(&read).1[0], CertStatus::Revoked(_)));
        // The revoked response itself is served from memory.
        let hit = responder
            .cached(&query, ca.now, &revoked)
            .expect("revoked, kept");
        assert_eq!(hit.der, read.der);
    }
}
