//! OCSP responses signed ahead (RFC 5019's "pre-produced responses"), and kept current.
//!
//! A certificate's SHA-1 response (the CertID RFC 5019 clients send) is signed:
//! - at issuance, in the transaction that marks it issued ([`Authority::sign_in`]);
//! - at revocation, in the revocation's own transaction, which first deletes the certificate's
//!   `good` responses ([`Authority::revoke_in`]): the stored response says `revoked` from
//!   the commit on (the daemon's memory of served responses follows within 200 ms, see
//!   `responder.rs`);
//! - by the daemon's job ([`OcspPresigner`]), the safety net and the renewal: it follows new
//!   revocation sequence numbers (a revocation written by any other path shows within one
//!   tick), renews every response half-way through its validity (`refresh_after`), drops
//!   those of expired certificates, and sweeps the certificates table by rowid windows for
//!   certificates without a current response (a fresh database, a bulk import).
//!
//! Each tick does bounded work: at most `budget` signatures, at most one window of the
//! certificates table scanned. The responses of one tick are signed outside any transaction,
//! then stored in one, each only if the certificate's revocation sequence number is still the
//! one it states (`storage::ocsp::store_if_current`): a revocation committed meanwhile wins.

use time::{Duration, OffsetDateTime};
use x509_ocsp::{CertStatus, ResponseData, SingleResponse, Version};

use super::{generalized, revoked_status, HashAlg};
use crate::storage::ocsp::{self as stored, CertState, NewResponse};
use crate::{immediate, Authority, Result, Serial};
use store::whole_seconds;

/// Rows of `ca_certificates` one sweep step looks at.
const SWEEP_WINDOW: i64 = 20_000;

/// A full sweep starts again this long after the previous one started: responses missing for
/// any other reason than the paths above (a row restored by hand) are made within this delay.
const SWEEP_EVERY: Duration = Duration::hours(1);

impl Authority {
    /// nextUpdate − thisUpdate of the responses signed ahead (`[ca] ocsp_validity_hours`).
    pub fn ocsp_validity(&self) -> Duration {
        Duration::hours(i64::from(self.policy().ocsp_validity_hours.max(1)))
    }

    /// Signs the response stating `state` under CertID hash `hash`, produced at `now`.
    pub(crate) fn sign_ahead(
        &self,
        state: &CertState,
        hash: HashAlg,
        now: OffsetDateTime,
    ) -> Result<NewResponse> {
        let now = whole_seconds(now);
        let validity = self.ocsp_validity();
        let next_update = now + validity;
        let issuer = self.ocsp_issuer();
        let cert_status = match state.revoked {
            None => CertStatus::good(),
            Some((at, reason, _)) => revoked_status(at, reason)?,
        };
        let this = generalized(now)?;
        let data = ResponseData {
            version: Version::V1,
            responder_id: issuer.responder_id()?,
            produced_at: this,
            responses: vec![SingleResponse {
                cert_id: issuer.cert_id(&state.serial, hash)?,
                cert_status,
                this_update: this,
                next_update: Some(generalized(next_update)?),
                single_extensions: None,
            }],
            // RFC 5019: a pre-produced response carries no nonce.
            response_extensions: None,
        };
        Ok(NewResponse {
            serial: state.serial.clone(),
            hash,
            revocation_seq: state.revocation_seq(),
            this_update: now,
            next_update,
            refresh_after: now + validity / 2,
            der: self.signed_ocsp_response(data)?,
        })
    }

    /// At issuance, inside its transaction: the certificate's `good` SHA-1 response.
    pub(crate) fn presign_issued(
        &self,
        conn: &rusqlite::Connection,
        serial: &Serial,
        not_after: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<()> {
        let state = CertState {
            serial: serial.clone(),
            not_after,
            revoked: None,
        };
        stored::store_if_current(conn, &self.sign_ahead(&state, HashAlg::Sha1, now)?)?;
        Ok(())
    }

    /// At revocation, inside its transaction, after the status changed: the `good` responses
    /// go, the `revoked` SHA-1 one comes.
    pub(crate) fn presign_revoked(
        &self,
        conn: &rusqlite::Connection,
        serial: &Serial,
        now: OffsetDateTime,
    ) -> Result<()> {
        stored::delete_all(conn, serial)?;
        if let Some(state) = stored::state(conn, serial.as_bytes())? {
            stored::store_if_current(conn, &self.sign_ahead(&state, HashAlg::Sha1, now)?)?;
        }
        Ok(())
    }
}

/// What one [`OcspPresigner::tick`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresignReport {
    /// Responses signed for revocations the job had not seen.
    pub revoked: usize,
    /// Responses renewed half-way through their validity.
    pub renewed: usize,
    /// Responses signed for certificates that had none (or one stating another status).
    pub missing: usize,
    /// Responses dropped: their certificate expired.
    pub dropped: usize,
    /// Signed but not stored: the certificate was revoked meanwhile (its revocation wrote
    /// the right one).
    pub superseded: usize,
    /// True when work remains (the budget was spent, or the sweep has not reached the end).
    pub more: bool,
    /// True when this tick finished a sweep of the whole certificates table.
    pub sweep_finished: bool,
}

impl PresignReport {
    /// Signatures made.
    pub fn signed(&self) -> usize {
        self.revoked + self.renewed + self.missing
    }
}

/// The daemon's OCSP job: call [`tick`](Self::tick) again and again (at once while
/// `more`, every fraction of a second otherwise). Keeps its cursors in memory: a restart
/// sweeps again, which finds nothing to sign where the responses are current.
#[derive(Debug, Default)]
pub struct OcspPresigner {
    /// Revocation sequence number up to which revocations were handled (`None` before the
    /// first tick: set to the highest then, the sweep covering the older ones).
    revocations_after: Option<i64>,
    /// Rowid of `ca_certificates` the sweep has reached.
    sweep_after: i64,
    /// When the current sweep started (`None`: finished, waiting for the next).
    sweep_started: Option<OffsetDateTime>,
    /// When the last sweep started.
    last_sweep: Option<OffsetDateTime>,
}

impl OcspPresigner {
    /// A job that starts with a full sweep.
    pub fn new() -> Self {
        Self::default()
    }

    /// One bounded step: new revocations first (they are what relying parties must learn
    /// fast), then renewals due at `now`, then the sweep; at most `budget` signatures.
    pub fn tick(
        &mut self,
        authority: &Authority,
        conn: &mut rusqlite::Connection,
        now: OffsetDateTime,
        budget: usize,
    ) -> Result<PresignReport> {
        let budget = budget.max(1);
        let mut report = PresignReport::default();
        let mut signed: Vec<NewResponse> = Vec::new();
        let mut drop: Vec<(Serial, HashAlg)> = Vec::new();

        let after = match self.revocations_after {
            Some(seq) => seq,
            None => stored::max_revocation_seq(conn)?,
        };
        let revoked = stored::revoked_since(conn, after, budget)?;
        let mut seen = after;
        for (state, current) in &revoked {
            seen = seen.max(state.revocation_seq());
            if *current {
                continue;
            }
            let mut hashes = stored::hashes(conn, &state.serial)?;
            if !hashes.contains(&HashAlg::Sha1) {
                hashes.push(HashAlg::Sha1);
            }
            for hash in hashes {
                signed.push(authority.sign_ahead(state, hash, now)?);
                report.revoked += 1;
            }
        }
        report.more |= revoked.len() == budget;

        let left = budget.saturating_sub(signed.len());
        if left > 0 {
            let due = stored::due(conn, now, left)?;
            report.more |= due.len() == left;
            for (serial, hash, state) in due {
                match state {
                    Some(state) if state.not_after > now => {
                        signed.push(authority.sign_ahead(&state, hash, now)?);
                        report.renewed += 1;
                    }
                    _ => drop.push((serial, hash)),
                }
            }
        }

        let left = budget.saturating_sub(signed.len());
        let mut sweep_to = self.sweep_after;
        if left > 0 && self.sweep_due(now) {
            let (missing, last) = stored::sweep(conn, self.sweep_after, SWEEP_WINDOW, now, left)?;
            for state in &missing {
                signed.push(authority.sign_ahead(state, HashAlg::Sha1, now)?);
                report.missing += 1;
            }
            sweep_to = last;
            if last >= stored::max_certificate_rowid(conn)? {
                report.sweep_finished = true;
            } else {
                report.more = true;
            }
        }

        // Nothing to write, no write lock taken: an idle tick costs a few index lookups.
        if !signed.is_empty() || !drop.is_empty() {
            let tx = immediate(conn)?;
            for response in &signed {
                if !stored::store_if_current(&tx, response)? {
                    report.superseded += 1;
                }
            }
            for (serial, hash) in &drop {
                stored::delete_one(&tx, serial, *hash)?;
                report.dropped += 1;
            }
            tx.commit()?;
        }

        self.revocations_after = Some(seen);
        self.sweep_after = sweep_to;
        if report.sweep_finished {
            self.sweep_started = None;
            self.sweep_after = 0;
        }
        Ok(report)
    }

    /// True while a sweep is under way, or when the next one is due (starting it).
    fn sweep_due(&mut self, now: OffsetDateTime) -> bool {
        if self.sweep_started.is_some() {
            return true;
        }
        match self.last_sweep {
            Some(at) if now - at < SWEEP_EVERY => false,
            _ => {
                self.sweep_started = Some(now);
                self.last_sweep = Some(now);
                true
            }
        }
    }
}
