//! The public one-shot withdrawal: the link's page, then the `.p12` (or the chain for the
//! person's own key) given once for the right code.

use ca::{Authority, IssueRequest, RevocationReason, SubjectKey};
use serde::Serialize;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::issuance::{person_subject, revoke};
use super::storage::WithdrawalTable;
use super::{
    display_name, from_unix, immediate, storage, Access, AccessError, Audit, CertificateState,
    WithdrawalRow, WithdrawalState, WITHDRAWAL_CODE, WITHDRAWAL_TOKEN,
};

/// A withdrawal's public state, for its page.
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawalInfo {
    /// The person's display name.
    pub display_name: String,
    /// N° habilitation (none for an operator's certificate).
    pub habilitation: Option<u32>,
    /// End of validity of the link.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Tries left.
    pub attempts_left: u32,
}

/// What a withdrawal hands out.
#[derive(Debug)]
pub enum Withdrawn {
    /// The `.p12` (its password went by e-mail).
    P12 {
        /// N° habilitation (file name).
        habilitation: u32,
        /// The file.
        bytes: Zeroizing<Vec<u8>>,
    },
    /// The certificate chain for the person's own key (CSR mode).
    Chain {
        /// N° habilitation.
        habilitation: u32,
        /// PEM: leaf then AC SISERI.
        pem: String,
    },
    /// An operator's `.p12` (console certificate).
    OperatorP12 {
        /// The file.
        bytes: Zeroizing<Vec<u8>>,
    },
}

impl Access {
    /// Counts one withdrawal attempt from client address `ip` and refuses it beyond
    /// `withdrawal_attempts_per_address_per_hour`, whatever the link. Called by the web layer
    /// before [`Access::withdraw`].
    pub fn admit_withdrawal_attempt(&self, ip: &str) -> Result<(), AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let bucket = format!("withdrawal-client:{ip}");
        let hits = crate::db::rate_event(&tx, &bucket, now, now - time::Duration::hours(1))?;
        tx.commit()?;
        if hits > i64::from(self.config.withdrawal_attempts_per_address_per_hour) {
            return Err(AccessError::TooManyAttempts {
                retry_after_minutes: 60,
            });
        }
        Ok(())
    }

    /// The page of a withdrawal link, before the code is given.
    pub fn withdrawal_info(&self, token: &str) -> Result<WithdrawalInfo, AccessError> {
        let conn = self.pool.get()?;
        let Some(w) = storage::withdrawal_by_token(&conn, &self.key.hash(WITHDRAWAL_TOKEN, token))?
        else {
            drop(conn);
            return self.operator_withdrawal_info(token);
        };
        self.check_open(&w)?;
        let person = storage::accessor(&conn, w.habilitation)?
            .ok_or(AccessError::UnknownHabilitation(w.habilitation))?;
        Ok(WithdrawalInfo {
            display_name: display_name(&person),
            habilitation: Some(w.habilitation),
            expires_at: from_unix(w.expires_at),
            attempts_left: self.attempts_left(&w),
        })
    }

    fn attempts_left(&self, w: &WithdrawalRow) -> u32 {
        u32::try_from(i64::from(self.config.withdrawal_max_attempts) - w.failed_attempts)
            .unwrap_or(0)
    }

    fn check_open(&self, w: &WithdrawalRow) -> Result<(), AccessError> {
        // Past its 60 days a withdrawal is gone, locked or not.
        if self.now().unix_timestamp() > w.expires_at {
            return Err(AccessError::WithdrawalGone);
        }
        match w.status {
            WithdrawalState::Pending => Ok(()),
            WithdrawalState::Preparing => Err(AccessError::WithdrawalNotReady),
            WithdrawalState::Locked => Err(AccessError::WithdrawalLocked),
            WithdrawalState::Used | WithdrawalState::Expired | WithdrawalState::Superseded => {
                Err(AccessError::WithdrawalGone)
            }
        }
    }

    /// Takes a withdrawal with its code: the `.p12` once (compare-and-swap in one transaction:
    /// of any number of concurrent requests exactly one gets it), or, with a CSR, the chain for
    /// the person's own key. The stored `.p12` is erased either way.
    pub fn withdraw(
        &self,
        authority: &Authority,
        token: &str,
        code: &str,
        csr_pem: Option<&str>,
    ) -> Result<Withdrawn, AccessError> {
        // A bad CSR is refused before anything is consumed.
        let csr_key = match csr_pem {
            Some(pem) => Some(
                SubjectKey::from_csr_pem(pem).map_err(|e| AccessError::BadCsr(e.to_string()))?,
            ),
            None => None,
        };
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let Some(w) = storage::withdrawal_by_token(&tx, &self.key.hash(WITHDRAWAL_TOKEN, token))?
        else {
            drop(tx);
            drop(conn);
            return self.withdraw_operator(token, code, csr_pem.is_some());
        };
        if matches!(w.status, WithdrawalState::Pending | WithdrawalState::Locked)
            && now.unix_timestamp() > w.expires_at
        {
            storage::close_withdrawal(&tx, w.id, WithdrawalState::Expired, now)?;
            tx.commit()?;
            return Err(AccessError::WithdrawalGone);
        }
        self.check_open(&w)?;
        let code_ok = w
            .code_hmac
            .as_deref()
            .is_some_and(|h| self.key.verify(WITHDRAWAL_CODE, code.trim(), h));
        if !code_ok {
            let max = i64::from(self.config.withdrawal_max_attempts);
            let failures = storage::withdrawal_failure(&tx, WithdrawalTable::People, w.id, max)?;
            if failures >= max {
                Audit::new(&tx, now, "public").record("withdrawal.locked", w.habilitation, &[])?;
                tx.commit()?;
                return Err(AccessError::WithdrawalLocked);
            }
            tx.commit()?;
            return Err(AccessError::WrongWithdrawalCode {
                attempts_left: u32::try_from(max - failures).unwrap_or(0),
            });
        }
        let p12 = storage::take_p12(&tx, WithdrawalTable::People, w.id, now)?
            .ok_or(AccessError::WithdrawalGone)?;
        let p12 = Zeroizing::new(p12);
        let prepared_cert =
            storage::certificate(&tx, &w.serial)?.ok_or(AccessError::WithdrawalGone)?;
        let person = storage::accessor(&tx, w.habilitation)?
            .ok_or(AccessError::UnknownHabilitation(w.habilitation))?;
        // With a CSR, the new certificate is recorded (unsigned) and committed with the
        // withdrawal's use, then signed in a second transaction: the signer signs only a
        // serial it finds recorded, which it cannot see before the commit. Should the
        // signature fail, the record stays unsigned (listed by `siseri ca status`) and the
        // operator re-sends.
        let pending = match csr_key {
            None => {
                storage::set_certificate_state(&tx, &w.serial, CertificateState::Delivered, None)?;
                None
            }
            Some(key) => {
                // The prepared key never leaves: its certificate is revoked at once.
                revoke(
                    authority,
                    &tx,
                    &w.serial,
                    RevocationReason::Superseded,
                    "public",
                    now,
                )?;
                let prepared = authority.prepare(
                    &tx,
                    &IssueRequest {
                        subject: person_subject(&person),
                        key: &key,
                        requester: "withdrawal:csr",
                    },
                    now,
                )?;
                storage::insert_certificate(
                    &tx,
                    prepared.serial().as_bytes(),
                    w.habilitation,
                    prepared_cert.replaces.as_deref(),
                    now,
                )?;
                Some(prepared)
            }
        };
        // A renewal: the certificate it replaces goes once the new one is in hand.
        if let Some(old) = prepared_cert.replaces.as_deref() {
            if let Some(c) = storage::certificate(&tx, old)? {
                if c.state.is_valid() {
                    revoke(
                        authority,
                        &tx,
                        old,
                        RevocationReason::Superseded,
                        "public",
                        now,
                    )?;
                }
            }
        }
        Audit::new(&tx, now, "public").record(
            "withdrawal.used",
            w.habilitation,
            &[("mode", if csr_pem.is_some() { "csr" } else { "p12" })],
        )?;
        tx.commit()?;
        let outcome = match pending {
            None => Withdrawn::P12 {
                habilitation: w.habilitation,
                bytes: p12,
            },
            Some(prepared) => {
                let signed = (|| -> Result<_, AccessError> {
                    let tx = immediate(&mut conn)?;
                    let issued = authority.sign_in(&tx, &prepared, now)?;
                    storage::set_certificate_state(
                        &tx,
                        issued.serial.as_bytes(),
                        CertificateState::Delivered,
                        Some(issued.not_after.unix_timestamp()),
                    )?;
                    tx.commit()?;
                    Ok(issued)
                })();
                let issued = match signed {
                    Ok(issued) => issued,
                    Err(e) => {
                        // Abandoned, as an interrupted approval's: a re-send issues anew.
                        let tx = immediate(&mut conn)?;
                        storage::set_certificate_state(
                            &tx,
                            prepared.serial().as_bytes(),
                            CertificateState::Revoked,
                            None,
                        )?;
                        tx.commit()?;
                        return Err(e);
                    }
                };
                Withdrawn::Chain {
                    habilitation: w.habilitation,
                    pem: format!("{}{}", issued.pem(), authority.certificate_pem()),
                }
            }
        };
        drop(conn);
        if csr_pem.is_some() || prepared_cert.replaces.is_some() {
            self.publish_crl(authority, "public")?;
        }
        Ok(outcome)
    }
}
