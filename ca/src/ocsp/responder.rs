//! The request path of OCSP signed ahead: parse, match the CertID, serve the stored bytes.
//!
//! Choices (RFC 5019, the "lightweight OCSP profile"):
//! - **One certificate per request** (RFC 5019 §2.1.1): the first CertID is answered, the
//!   others ignored, as Let's Encrypt's responder does.
//! - **Nonces are ignored** (RFC 5019 makes them optional, see its §4 on replay: a responder
//!   may, and a pre-produced response cannot echo one); clients that insist on one (`openssl
//!   ocsp` without `-no_nonce`) warn and still verify. Freshness comes from
//!   thisUpdate/nextUpdate instead.
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
//!
//! In memory, the responses last served are kept ([`OcspResponder::cached`], at most
//! [`CACHE_ENTRIES`]), so that a hot certificate costs neither a database read nor a thread
//! hop: an entry is used only while it is current (before its renewal point), and a `good`
//! one only while the daemon's revocation set (refreshed from the database every 200 ms, the
//! registry's own bound) does not list the serial; otherwise the database is read again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use der::Decode;
use rusqlite::Connection;
use time::OffsetDateTime;
use x509_ocsp::OcspRequest;

use super::{HashAlg, OcspIssuer, OcspOutcome, OcspReply};
use crate::revocation::RevocationSet;
use crate::storage::ocsp as stored;
use crate::{Authority, Result};
use store::whole_seconds;

/// Responses kept in memory at most (about 1 KB each); when full, the memory is emptied and
/// fills again with what is asked.
pub const CACHE_ENTRIES: usize = 65_536;

/// Answers OCSP requests from the responses signed ahead. Holds no key: it knows AC SISERI
/// only by its certificate.
#[derive(Debug)]
pub struct OcspResponder {
    issuer: OcspIssuer,
    cache: RwLock<HashMap<(Vec<u8>, HashAlg), Cached>>,
}

#[derive(Debug, Clone)]
struct Cached {
    der: Arc<[u8]>,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    revoked: bool,
}

/// A request read and matched to AC SISERI: which response it wants.
#[derive(Debug, Clone)]
pub struct OcspQuery {
    serial: Vec<u8>,
    hash: HashAlg,
}

impl OcspResponder {
    /// A responder for the CA whose certificate (DER) is `ca_der`.
    pub fn new(ca_der: &[u8]) -> Result<Self> {
        Ok(Self {
            issuer: OcspIssuer::new(ca_der)?,
            cache: RwLock::default(),
        })
    }

    /// Reads a DER OCSPRequest: the response it wants, or the final answer when it needs no
    /// response of ours (`malformedRequest`; `unauthorized` for another issuer or an unknown
    /// hash algorithm). No database, no signature.
    pub fn parse(&self, request: &[u8]) -> std::result::Result<OcspQuery, OcspReply> {
        let request = OcspRequest::from_der(request).map_err(|_| OcspReply::malformed())?;
        let first = request
            .tbs_request
            .request_list
            .first()
            .ok_or_else(OcspReply::malformed)?;
        let id = &first.req_cert;
        let hash = self.issuer.issued(id).ok_or_else(OcspReply::unauthorized)?;
        Ok(OcspQuery {
            serial: id.serial_number.as_bytes().to_vec(),
            hash,
        })
    }

    /// The response to `query` from memory, if it holds a current one that `revoked` does not
    /// contradict; `None`: ask [`lookup`](Self::lookup).
    pub fn cached(
        &self,
        query: &OcspQuery,
        now: OffsetDateTime,
        revoked: &RevocationSet,
    ) -> Option<OcspReply> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        let hit = cache.get(&(query.serial.clone(), query.hash))?;
        let renewal = hit.this_update + (hit.next_update - hit.this_update) / 2;
        let current = hit.this_update <= now && now < renewal;
        if !current || (!hit.revoked && revoked.is_revoked(&query.serial)) {
            return None;
        }
        Some(successful(
            hit.der.to_vec(),
            hit.this_update,
            hit.next_update,
            false,
        ))
    }

    /// The response to `query` from the database (signed now if missing, see the module doc),
    /// kept in memory for [`cached`](Self::cached).
    pub fn lookup(
        &self,
        conn: &Connection,
        query: &OcspQuery,
        now: OffsetDateTime,
        signer: &Authority,
    ) -> OcspReply {
        let now = whole_seconds(now);
        let (reply, revoked) =
            match self.lookup_stored(conn, &query.serial, query.hash, now, signer) {
                Ok(found) => found,
                Err(e) => {
                    tracing::error!(error = %e, "réponse OCSP impossible");
                    return OcspReply::internal_error();
                }
            };
        if let (Some(this_update), Some(next_update)) = (reply.this_update, reply.next_update) {
            let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
            if cache.len() >= CACHE_ENTRIES {
                cache.clear();
            }
            cache.insert(
                (query.serial.clone(), query.hash),
                Cached {
                    der: reply.der.as_slice().into(),
                    this_update,
                    next_update,
                    revoked,
                },
            );
        }
        reply
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
        match self.parse(request) {
            Ok(query) => self.lookup(conn, &query, now, signer),
            Err(reply) => reply,
        }
    }

    /// The stored (or freshly signed) response, and whether it says `revoked`.
    fn lookup_stored(
        &self,
        conn: &Connection,
        serial: &[u8],
        hash: HashAlg,
        now: OffsetDateTime,
        signer: &Authority,
    ) -> Result<(OcspReply, bool)> {
        if let Some(found) = stored::find(conn, serial, hash)? {
            if found.this_update <= now && now < found.next_update {
                let reply = successful(found.der, found.this_update, found.next_update, false);
                return Ok((reply, found.revoked));
            }
        }
        // Missing or out of date: only a signed, unexpired certificate of ours gets one.
        let Some(state) = stored::state(conn, serial)? else {
            return Ok((OcspReply::unauthorized(), false));
        };
        if state.not_after <= now {
            return Ok((OcspReply::unauthorized(), false));
        }
        let response = signer.sign_ahead(&state, hash, now)?;
        // Not stored if a revocation committed meanwhile: what we send was true when read.
        stored::store_if_current(conn, &response)?;
        let reply = successful(
            response.der,
            response.this_update,
            response.next_update,
            true,
        );
        Ok((reply, state.revoked.is_some()))
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
