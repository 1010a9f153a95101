//! Issuing and revoking the certificates of a person, shared by approval, operator acts,
//! withdrawal and the scheduled jobs.

use ca::{
    Authority, GeneratedKey, IssueRequest, P12Options, P12Profile, PublishedCrl, RevocationReason,
    Serial,
};
use time::{Duration, OffsetDateTime};

use super::{
    display_name, immediate, mail_name, storage, stored_email, Access, AccessError, AccessorRow,
    Audit, CertificateState, WithdrawalState, ACCESS_CODE, WITHDRAWAL_CODE, WITHDRAWAL_TOKEN,
};
use crate::outbox::{self, templates};
use store::secrets::new_token;

impl Access {
    /// Issues a certificate with a server-made key: the record, the certificate row and the
    /// withdrawal are committed before the signature; the signature, the `.p12`, the access
    /// code and the e-mails commit together after it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn issue_for(
        &self,
        authority: &Authority,
        person: &AccessorRow,
        replaces: Option<&[u8]>,
        profile: Option<P12Profile>,
        operator: &str,
        requester: &str,
        with_access_code: bool,
    ) -> Result<bool, AccessError> {
        let now = self.now();
        let key = GeneratedKey::generate(self.issue.key_algorithm)?;
        let email = stored_email(person)?;
        let token = new_token()?;
        let profile = profile.unwrap_or(self.issue.p12.profile);
        let profile_name = match profile {
            P12Profile::Modern => "modern",
            P12Profile::Compat => "compat",
        };
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        // Decided under the write lock, with the record that follows: two approvals (or two
        // re-sends) racing for one person give one certificate, not two.
        let live = storage::certificates_of(&tx, person.habilitation)?
            .iter()
            .any(|c| match replaces {
                None => matches!(
                    c.state,
                    CertificateState::Preparing
                        | CertificateState::Issued
                        | CertificateState::Delivered
                ),
                Some(_) => matches!(
                    c.state,
                    CertificateState::Preparing | CertificateState::Issued
                ),
            });
        if live {
            return Ok(false);
        }
        let prepared = authority.prepare(
            &tx,
            &IssueRequest {
                subject: person_subject(person),
                key: key.public(),
                requester,
            },
            now,
        )?;
        let serial = prepared.serial().as_bytes().to_vec();
        storage::insert_certificate(&tx, &serial, person.habilitation, replaces, now)?;
        let withdrawal = storage::insert_withdrawal(
            &tx,
            person.habilitation,
            &serial,
            &self.key.hash(WITHDRAWAL_TOKEN, &token),
            profile_name,
            now,
            now + Duration::days(i64::from(self.config.withdrawal_days)),
        )?;
        tx.commit()?;

        let tx = immediate(&mut conn)?;
        let issued = authority.sign_in(&tx, &prepared, now)?;
        let password = store::random::p12_password()?;
        let p12 = ca::build_p12(
            key,
            &issued.der,
            authority.certificate_der(),
            &display_name(person),
            &password,
            P12Options {
                profile,
                iterations: self.issue.p12.iterations,
            },
        )?;
        let code = store::random::unambiguous_string(9)?;
        storage::withdrawal_ready(
            &tx,
            withdrawal,
            &self.key.hash(WITHDRAWAL_CODE, &code),
            &p12,
        )?;
        storage::set_certificate_state(
            &tx,
            &serial,
            CertificateState::Issued,
            Some(issued.not_after.unix_timestamp()),
        )?;
        let url = format!(
            "{}/retrait/{}",
            self.issue.base_url.trim_end_matches('/'),
            token.as_str()
        );
        outbox::enqueue(
            &tx,
            &templates::withdrawal_mail(
                &email,
                &mail_name(person),
                &url,
                &code,
                &password,
                self.config.withdrawal_days,
            ),
            now,
        )?;
        if with_access_code && storage::access_code(&tx, person.habilitation)?.is_none() {
            let access = store::random::digits(self.config.access_code_length as usize)?;
            storage::put_access_code(
                &tx,
                person.habilitation,
                &self.key.hash(ACCESS_CODE, &access),
                now,
            )?;
            outbox::enqueue(
                &tx,
                &templates::access_code_mail(&email, &mail_name(person), &access),
                now,
            )?;
        }
        Audit::new(&tx, now, operator).record(
            "accessor.issue",
            person.habilitation,
            &[
                ("serial", &issued.serial.to_hex()),
                ("p12_profile", profile_name),
            ],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// After committed revocations: re-signs the CRLs they made stale (their shards', the
    /// full one only for a certificate issued before shards).
    pub(super) fn publish_crl(
        &self,
        authority: &Authority,
        actor: &str,
    ) -> Result<Vec<PublishedCrl>, AccessError> {
        let mut conn = self.pool.get()?;
        Ok(authority.publish_revocations(&mut conn, actor, self.now())?)
    }

    /// Revokes every certificate in the person's hands or awaiting withdrawal; true when one
    /// was. The caller publishes the CRL after committing.
    pub(super) fn revoke_all_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        authority: &Authority,
        hab: u32,
        reason: RevocationReason,
        operator: &str,
        now: OffsetDateTime,
    ) -> Result<bool, AccessError> {
        let mut revoked = false;
        for w in storage::withdrawals_of(tx, hab)? {
            storage::close_withdrawal(tx, w.id, WithdrawalState::Superseded, now)?;
        }
        for c in storage::certificates_of(tx, hab)? {
            if c.state.is_valid() {
                revoke(authority, tx, &c.serial, reason, operator, now)?;
                revoked = true;
            }
        }
        Ok(revoked)
    }
}

pub(super) fn person_subject(person: &AccessorRow) -> ca::Subject {
    ca::Subject::Person {
        first_name: person.first_name.clone(),
        last_name: person.last_name.clone(),
        habilitation: u64::from(person.habilitation),
        email: person.email.clone(),
    }
}

/// Revokes one certificate at the CA and in enrollment's view, in the caller's transaction;
/// the caller publishes the CRL after committing.
/// Closes withdrawal `w` in state `end.0`; its certificate, if its holder never took it, is
/// revoked with reason `end.1`. `None` when the withdrawal was already closed, else whether a
/// certificate was revoked.
pub(super) fn close_untaken(
    authority: &Authority,
    tx: &rusqlite::Transaction<'_>,
    w: &storage::WithdrawalRow,
    end: (WithdrawalState, RevocationReason),
    actor: &str,
    now: OffsetDateTime,
) -> Result<Option<bool>, AccessError> {
    if !storage::close_withdrawal(tx, w.id, end.0, now)? {
        return Ok(None);
    }
    match storage::certificate(tx, &w.serial)? {
        Some(c) if c.state == CertificateState::Issued => {
            revoke(authority, tx, &c.serial, end.1, actor, now)?;
            Ok(Some(true))
        }
        _ => Ok(Some(false)),
    }
}

pub(super) fn revoke(
    authority: &Authority,
    tx: &rusqlite::Transaction<'_>,
    serial: &[u8],
    reason: RevocationReason,
    actor: &str,
    now: OffsetDateTime,
) -> Result<(), AccessError> {
    authority.revoke_in(tx, &Serial::from_der_bytes(serial), reason, actor, now)?;
    storage::set_certificate_state(tx, serial, CertificateState::Revoked, None)
}
