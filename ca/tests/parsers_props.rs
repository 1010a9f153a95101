//! Property tests of the CA's parsers of outside input: the OCSP request (anyone may send one
//! to `/ocsp`) and the PKCS#10 request (`siseri cert issue --csr FILE`, an operator's file that
//! came from elsewhere). For every input: no panic. An OCSP request we cannot read gets
//! `malformedRequest`, never `internalError` (which would say the fault is ours); a readable one
//! gets a signed answer for each certificate asked, the nonce echoed. A CSR is refused with one
//! of its typed errors, whose message does not carry the input.
//!
//! Short in CI; longer by hand: `PROPTEST_CASES=100000 cargo test -p ca --test parsers_props`.

#[path = "support/mod.rs"]
mod support;

#[path = "../../enroll/tests/props_common/mod.rs"]
mod props_common;

use ::time::OffsetDateTime;
use ca::{
    CaKeyAlgorithm, GeneratedKey, IssueRequest, OcspOutcome, Policy, Serial, Subject, SubjectKey,
    SubscriberKeyAlgorithm, OCSP_MAX_CERTIFICATES,
};
use der::asn1::{Null, OctetString};
use der::oid::db::rfc5912::{ID_SHA_1, ID_SHA_256, ID_SHA_384, ID_SHA_512};
use der::oid::db::rfc6960::ID_PKIX_OCSP_NONCE;
use der::oid::ObjectIdentifier;
use der::{Decode, Encode};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{TestCaseError, TestRunner};
use ring::digest;
use support::Fixture;
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, OcspRequest, OcspResponse, OcspResponseStatus, Request, TbsRequest,
    Version,
};

use props_common::{config, is_unprintable};

// ---------------------------------------------------------------------------------------------
// OCSP requests

/// One CertID as a client may build it.
#[derive(Debug, Clone)]
struct Asked {
    /// Which hash (0–3: SHA-1, -256, -384, -512; 4: an OID we do not know).
    hash: u8,
    /// Whether the issuer hashes are AC SISERI's (else random bytes).
    ours: bool,
    /// The certificate issued in the fixture, or these serial bytes.
    serial: Option<Vec<u8>>,
    /// Algorithm parameters: NULL, absent.
    null_parameters: bool,
}

fn asked() -> impl Strategy<Value = Asked> {
    (
        0..5u8,
        prop::bool::weighted(0.8),
        prop::option::weighted(0.4, prop::collection::vec(any::<u8>(), 1..24)),
        any::<bool>(),
    )
        .prop_map(|(hash, ours, serial, null_parameters)| Asked {
            hash,
            ours,
            serial,
            null_parameters,
        })
}

/// A request: the certificates asked, an optional nonce (its length free, to cross the bound),
/// and what is done to its DER afterwards.
#[derive(Debug, Clone)]
struct Built {
    asked: Vec<Asked>,
    nonce: Option<Vec<u8>>,
    bare_nonce: bool,
    damage: Damage,
}

#[derive(Debug, Clone)]
enum Damage {
    None,
    /// One byte inserted, deleted or changed.
    Byte(Index, u8, u8),
    /// Cut short.
    Truncate(Index),
    /// Trailing bytes.
    Trailing(Vec<u8>),
    /// Replaced by any bytes.
    Anything(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        3 => Just(Damage::None),
        4 => (any::<Index>(), any::<u8>(), 0..3u8).prop_map(|(i, b, op)| Damage::Byte(i, b, op)),
        1 => any::<Index>().prop_map(Damage::Truncate),
        1 => prop::collection::vec(any::<u8>(), 1..8).prop_map(Damage::Trailing),
        1 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Damage::Anything),
    ]
}

fn built() -> impl Strategy<Value = Built> {
    (
        prop::collection::vec(asked(), 0..OCSP_MAX_CERTIFICATES + 3),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        any::<bool>(),
        damage(),
    )
        .prop_map(|(asked, nonce, bare_nonce, damage)| Built {
            asked,
            nonce,
            bare_nonce,
            damage,
        })
}

struct Ca {
    fixture: Fixture,
    issued: Serial,
    name_der: Vec<u8>,
    key_bits: Vec<u8>,
}

fn ca() -> Ca {
    let mut fixture = Fixture::new(CaKeyAlgorithm::EcdsaP256, Policy::default());
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).expect("generate failed");
    let now = fixture.now();
    let issued = fixture
        .authority
        .issue(
            &mut fixture.conn,
            &IssueRequest {
                subject: Subject::Organisme {
                    name: "Dosimétrie Exemple".into(),
                },
                key: key.public(),
                requester: "test",
            },
            now,
        )
        .expect("issue failed");
    let cert = Certificate::from_der(fixture.authority.certificate_der()).expect("CA certificate");
    let name_der = cert
        .tbs_certificate
        .subject
        .to_der()
        .expect("to_der failed");
    let key_bits = cert
        .tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec();
    Ca {
        fixture,
        issued: issued.serial,
        name_der,
        key_bits,
    }
}

impl Ca {
    fn cert_id(&self, a: &Asked) -> CertId {
        let (algorithm, oid): (&'static digest::Algorithm, ObjectIdentifier) = match a.hash {
            0 => (&digest::SHA1_FOR_LEGACY_USE_ONLY, ID_SHA_1),
            1 => (&digest::SHA256, ID_SHA_256),
            2 => (&digest::SHA384, ID_SHA_384),
            3 => (&digest::SHA512, ID_SHA_512),
            _ => (
                &digest::SHA256,
                ObjectIdentifier::new_unwrap("1.2.840.113549.2.5"),
            ),
        };
        let hash = |bytes: &[u8]| {
            if a.ours {
                digest::digest(algorithm, bytes).as_ref().to_vec()
            } else {
                bytes.iter().rev().take(20).copied().collect()
            }
        };
        let serial = a
            .serial
            .clone()
            .unwrap_or_else(|| self.issued.as_bytes().to_vec());
        CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid,
                parameters: a.null_parameters.then(|| Null.into()),
            },
            issuer_name_hash: OctetString::new(hash(&self.name_der)).expect("octets"),
            issuer_key_hash: OctetString::new(hash(&self.key_bits)).expect("octets"),
            // Any bytes: `SerialNumber::new` refuses some, which `from_der` would not see.
            serial_number: SerialNumber::new(&serial)
                .unwrap_or_else(|_| SerialNumber::new(&[1]).expect("serial")),
        }
    }

    fn der(&self, b: &Built) -> Vec<u8> {
        let nonce = b.nonce.as_ref().map(|n| {
            let value = if b.bare_nonce {
                n.clone()
            } else {
                OctetString::new(n.clone())
                    .expect("octets")
                    .to_der()
                    .expect("to_der failed")
            };
            vec![Extension {
                extn_id: ID_PKIX_OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(value).expect("octets"),
            }]
        });
        let request = OcspRequest {
            tbs_request: TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: b
                    .asked
                    .iter()
                    .map(|a| Request {
                        req_cert: self.cert_id(a),
                        single_request_extensions: None,
                    })
                    .collect(),
                request_extensions: nonce,
            },
            optional_signature: None,
        };
        let mut der = request.to_der().expect("to_der failed");
        match &b.damage {
            Damage::None => {}
            Damage::Byte(i, byte, op) => {
                let at = i.index(der.len());
                match op {
                    0 => der.insert(at, *byte),
                    1 => {
                        der.remove(at);
                    }
                    _ => der[at] = *byte,
                }
            }
            Damage::Truncate(i) => der.truncate(i.index(der.len())),
            Damage::Trailing(bytes) => der.extend_from_slice(bytes),
            Damage::Anything(bytes) => der = bytes.clone(),
        }
        der
    }
}

#[test]
fn ocsp_requests_never_panic_nor_get_internal_error() {
    let ca = ca();
    let now = OffsetDateTime::now_utc();
    let mut runner = TestRunner::new(config(256, file!()));
    let result = runner.run(&built(), |b| {
        let der = ca.der(&b);
        let reply = ca
            .fixture
            .authority
            .answer_ocsp(&ca.fixture.conn, &der, now);
        prop_assert_ne!(reply.outcome, OcspOutcome::InternalError, "{:?}", b);
        let response = OcspResponse::from_der(&reply.der);
        prop_assert!(response.is_ok(), "the reply is DER: {:?}", response);
        let Ok(response) = response else {
            return Ok(());
        };
        match reply.outcome {
            OcspOutcome::MalformedRequest => {
                prop_assert_eq!(
                    response.response_status,
                    OcspResponseStatus::MalformedRequest
                );
                prop_assert!(response.response_bytes.is_none());
            }
            _ => check_successful(&response, &der)?,
        }
        // What an intact request must get.
        let readable = matches!(b.damage, Damage::None)
            && (1..=OCSP_MAX_CERTIFICATES).contains(&b.asked.len())
            && b.nonce.as_ref().is_none_or(|n| (1..=32).contains(&n.len()));
        if readable {
            prop_assert_eq!(reply.outcome, OcspOutcome::Successful, "{:?}", b);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A successful answer: one single response per CertID asked, in order, and the request's
/// nonce echoed when it had one.
fn check_successful(response: &OcspResponse, request: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(response.response_status, OcspResponseStatus::Successful);
    let request = OcspRequest::from_der(request).expect("a request that was answered reads");
    let bytes = response.response_bytes.as_ref().expect("response bytes");
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes()).expect("basic response");
    let asked: Vec<&CertId> = request
        .tbs_request
        .request_list
        .iter()
        .map(|r| &r.req_cert)
        .collect();
    let answered: Vec<&CertId> = basic
        .tbs_response_data
        .responses
        .iter()
        .map(|r| &r.cert_id)
        .collect();
    prop_assert_eq!(asked, answered);
    let nonce = |exts: &Option<Vec<Extension>>| {
        exts.iter()
            .flatten()
            .find(|e| e.extn_id == ID_PKIX_OCSP_NONCE)
            .map(|e| e.extn_value.clone())
    };
    prop_assert_eq!(
        nonce(&request.tbs_request.request_extensions),
        nonce(&basic.tbs_response_data.response_extensions)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// PKCS#10 requests

/// Two real CSRs (P-256 and P-384, from rcgen), in DER.
fn csrs() -> Vec<Vec<u8>> {
    [
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &rcgen::PKCS_ECDSA_P384_SHA384,
    ]
    .into_iter()
    .map(|alg| {
        let key = rcgen::KeyPair::generate_for(alg).expect("generate_for failed");
        let params = rcgen::CertificateParams::new(vec!["exemple.fr".to_owned()]).expect("params");
        params
            .serialize_request(&key)
            .expect("serialize_request failed")
            .der()
            .to_vec()
    })
    .collect()
}

/// The contract of the CSR parser for one input: no panic; a refusal is one of the CSR's typed
/// errors, its message clean; an accepted CSR gives the key it holds.
fn check_csr(result: ca::Result<SubjectKey>) -> Result<(), TestCaseError> {
    match result {
        Ok(key) => prop_assert!(!key.spki_der().is_empty()),
        Err(e) => {
            prop_assert!(
                matches!(
                    e,
                    ca::Error::CsrUnreadable
                        | ca::Error::CsrBadSignature
                        | ca::Error::KeyRefused { .. }
                ),
                "{:?}",
                e
            );
            let message = e.to_string();
            prop_assert!(!message.is_empty());
            prop_assert!(!message.chars().any(is_unprintable), "{:?}", message);
        }
    }
    Ok(())
}

#[test]
fn csr_parser_never_panics_and_refuses_with_its_typed_errors() {
    let csrs = csrs();
    for der in &csrs {
        let key = SubjectKey::from_csr_der(der).expect("a real CSR is accepted");
        let pem = ca::to_pem("CERTIFICATE REQUEST", der);
        let again = SubjectKey::from_csr_pem(&pem).expect("its PEM too");
        assert_eq!(again.spki_der(), key.spki_der());
    }
    let strategy = (
        proptest::sample::select(csrs),
        damage(),
        any::<bool>(),
        prop::collection::vec(props_common::odd_char(), 0..3),
        any::<Index>(),
    );
    let mut runner = TestRunner::new(config(256, file!()));
    let result = runner.run(&strategy, |(der, damage, as_pem, odd, at)| {
        let mut der = der;
        match damage {
            Damage::None => {}
            Damage::Byte(i, byte, op) => {
                let i = i.index(der.len());
                match op {
                    0 => der.insert(i, byte),
                    1 => {
                        der.remove(i);
                    }
                    _ => der[i] = byte,
                }
            }
            Damage::Truncate(i) => der.truncate(i.index(der.len())),
            Damage::Trailing(bytes) => der.extend_from_slice(&bytes),
            Damage::Anything(bytes) => der = bytes,
        }
        if as_pem {
            // The PEM text, with odd characters put in (line ends, controls, non-ASCII).
            let mut pem: Vec<char> = ca::to_pem("CERTIFICATE REQUEST", &der).chars().collect();
            let i = at.index(pem.len() + 1);
            for c in odd {
                pem.insert(i, c);
            }
            check_csr(SubjectKey::from_csr_pem(
                &pem.into_iter().collect::<String>(),
            ))
        } else {
            check_csr(SubjectKey::from_csr_der(&der))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
