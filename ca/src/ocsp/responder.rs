//! The request path of OCSP signed ahead: parse, match the CertID, serve the stored bytes.
//!
//! Choices (RFC 5019, the "lightweight OCSP profile"):
//! - **One certificate per request** (RFC 5019 §2.1.1): the first CertID is answered, the
//!   others ignored, as Let's Encrypt's responder does.
//! - **Nonces are ignored** (RFC 5019 §2.1.2 / §4: a responder may, and a pre-produced
//!   response cannot echo one); clients that insist on one (`openssl ocsp` without
//!   `-no_nonce`) warn and still verify. Freshness comes from thisUpdate/nextUpdate instead.
//! - **SHA-1 CertIDs** (what RFC 5019 clients send) are answered from responses signed ahead
//!   for every certificate. **SHA-256/384/512 CertIDs** of a known certificate are signed on
//!   their first request, stored, and served from storage afterwards (renewed by the job like
//!   the others): at most one signature per certificate, hash algorithm and half-validity,
//!   whatever the request rate. The response always echoes the request's hash algorithm.
//! - **Unknown serials get `unauthorized`** (RFC 5019 §2.2.3, RFC 6960 §2.3: "not capable of
//!   responding authoritatively"), as do CertIDs naming another issuer or an unknown hash
//!   algorithm, certificates recorded but never signed, and expired ones: a five-octet
//!   constant, unsigned, so that random serials buy an attacker no signature and no
//!   per-serial answer to sign ahead (a signed `unknown` must carry the serial asked). It is
//!   Let's Encrypt's answer too.

use der::Decode;
use rusqlite::Connection;
use time::OffsetDateTime;
use x509_ocsp::OcspRequest;

use super::{HashAlg, OcspIssuer, OcspOutcome, OcspReply};
use crate::storage::ocsp as stored;
use crate::{Authority, Result};
use store::whole_seconds;

/// Answers OCSP requests from the responses signed ahead. Holds no key: it knows AC SISERI
/// only by its certificate.
#[derive(Debug, Clone)]
pub struct OcspResponder {
    issuer: OcspIssuer,
}

impl OcspResponder {
    /// A responder for the CA whose certificate (DER) is `ca_der`.
    pub fn new(ca_der: &[u8]) -> Result<Self> {
        Ok(Self {
            issuer: OcspIssuer::new(ca_der)?,
        })
    }

    /// Answers a DER OCSPRequest from storage. `signer` signs (and stores) the response of a
    /// known certificate that has none yet for the request's hash algorithm (see the module
    /// doc); [`OcspReply::signed`] says when it did. Never fails: a bad request gets
    /// `malformedRequest`, our own failure `internalError` (and a log line).
    pub fn answer(
        &self,
        conn: &Connection,
        request: &[u8],
        now: OffsetDateTime,
        signer: &Authority,
    ) -> OcspReply {
        let Ok(request) = OcspRequest::from_der(request) else {
            return OcspReply::malformed();
        };
        let Some(first) = request.tbs_request.request_list.first() else {
            return OcspReply::malformed();
        };
        let id = &first.req_cert;
        let Some(hash) = self.issuer.issued(id) else {
            return OcspReply::unauthorized();
        };
        let serial = id.serial_number.as_bytes();
        let now = whole_seconds(now);
        match self.lookup(conn, serial, hash, now, signer) {
            Ok(reply) => reply,
            Err(e) => {
                tracing::error!(error = %e, "réponse OCSP impossible");
                OcspReply::internal_error()
            }
        }
    }

    fn lookup(
        &self,
        conn: &Connection,
        serial: &[u8],
        hash: HashAlg,
        now: OffsetDateTime,
        signer: &Authority,
    ) -> Result<OcspReply> {
        if let Some(found) = stored::find(conn, serial, hash)? {
            if found.this_update <= now && now < found.next_update {
                return Ok(successful(
                    found.der,
                    found.this_update,
                    found.next_update,
                    false,
                ));
            }
        }
        // Missing or out of date: only a signed, unexpired certificate of ours gets one.
        let Some(state) = stored::state(conn, serial)? else {
            return Ok(OcspReply::unauthorized());
        };
        if state.not_after <= now {
            return Ok(OcspReply::unauthorized());
        }
        let response = signer.sign_ahead(&state, hash, now)?;
        // Not stored if a revocation committed meanwhile: what we send was true when read.
        stored::store_if_current(conn, &response)?;
        Ok(successful(
            response.der,
            response.this_update,
            response.next_update,
            true,
        ))
    }
}

fn successful(
    der: Vec<u8>,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    signed: bool,
) -> OcspReply {
    OcspReply {
        der,
        outcome: OcspOutcome::Successful,
        this_update: Some(this_update),
        next_update: Some(next_update),
        has_nonce: false,
        signed,
    }
}
