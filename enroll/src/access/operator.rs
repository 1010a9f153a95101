//! What operators do to one person: look them up, revoke, renew or re-send, reset the access
//! code.

use ca::{Authority, P12Profile, PublishedCrl, RevocationReason};

use super::issuance::close_untaken;
use super::{
    immediate, mail_name, storage, stored_email, Access, AccessCodeRow, AccessError, AccessorRow,
    AttachmentRow, Audit, CertificateRow, CertificateState, WithdrawalRow, WithdrawalState,
    ACCESS_CODE,
};
use crate::outbox::{self, templates};
use crate::Email;

/// Everything about one person, for `accessor show`.
#[derive(Debug, Clone)]
pub struct AccessorDetail {
    /// The person.
    pub accessor: AccessorRow,
    /// Attachments, with protocol numbers.
    pub attachments: Vec<(AttachmentRow, String)>,
    /// Certificates.
    pub certificates: Vec<CertificateRow>,
    /// Withdrawals.
    pub withdrawals: Vec<WithdrawalRow>,
    /// Access code state.
    pub access_code: Option<AccessCodeRow>,
}

impl Access {
    /// Every person.
    pub fn accessors(&self) -> Result<Vec<AccessorRow>, AccessError> {
        let conn = self.pool.get()?;
        storage::accessors(&conn)
    }

    /// The people attached to an establishment whose protocol in force names `siret`.
    pub fn accessors_by_siret(
        &self,
        siret: &crate::Siret,
    ) -> Result<Vec<AccessorRow>, AccessError> {
        let conn = self.pool.get()?;
        storage::accessors_by_siret(&conn, siret.as_str())
    }

    /// One person, with everything attached to them.
    pub fn accessor(&self, hab: u32) -> Result<AccessorDetail, AccessError> {
        let conn = self.pool.get()?;
        let accessor =
            storage::accessor(&conn, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let mut attachments = Vec::new();
        for a in storage::attachments_of_person(&conn, hab, false)? {
            let number = storage::versions_of_id(&conn, a.protocol_id)?
                .first()
                .map(|v| v.number.clone())
                .unwrap_or_default();
            attachments.push((a, number));
        }
        Ok(AccessorDetail {
            certificates: storage::certificates_of(&conn, hab)?,
            withdrawals: storage::withdrawals_of(&conn, hab)?,
            access_code: storage::access_code(&conn, hab)?,
            attachments,
            accessor,
        })
    }

    /// Revokes every certificate of a person (and closes their pending withdrawals).
    pub fn revoke(
        &self,
        authority: &Authority,
        hab: u32,
        reason: RevocationReason,
        operator: &str,
    ) -> Result<Vec<PublishedCrl>, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        if !self.revoke_all_in(&tx, authority, hab, reason, operator, now)? {
            return Err(AccessError::NoCertificate(hab));
        }
        tx.commit()?;
        drop(conn);
        self.publish_crl(authority, operator)
    }

    /// A new certificate and withdrawal for a person (renewal, or a re-send with another
    /// `.p12` profile). Pending withdrawals are superseded and their never-delivered
    /// certificates revoked; the certificate in the person's hands stays valid until the new
    /// one is withdrawn (then it is revoked as superseded) or until it expires.
    pub fn reissue(
        &self,
        authority: &Authority,
        hab: u32,
        profile: Option<P12Profile>,
        operator: &str,
    ) -> Result<Vec<PublishedCrl>, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let person = storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let mut revoked = false;
        for w in storage::withdrawals_of(&tx, hab)? {
            let end = (WithdrawalState::Superseded, RevocationReason::Superseded);
            revoked |= close_untaken(authority, &tx, &w, end, operator, now)?.unwrap_or(false);
        }
        let in_hands = storage::certificates_of(&tx, hab)?
            .into_iter()
            .rev()
            .find(|c| c.state == CertificateState::Delivered)
            .map(|c| c.serial);
        tx.commit()?;
        drop(conn);
        let crl = if revoked {
            self.publish_crl(authority, operator)?
        } else {
            Vec::new()
        };
        self.issue_for(
            authority,
            &person,
            in_hands.as_deref(),
            profile,
            operator,
            "operator:cli",
            false,
        )?;
        Ok(crl)
    }

    /// Sends a new access code and unlocks the access.
    pub fn reset_code(&self, hab: u32, operator: &str) -> Result<(), AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let person = storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let email = stored_email(&person)?;
        let code = store::random::digits(self.config.access_code_length as usize)?;
        storage::put_access_code(&tx, hab, &self.key.hash(ACCESS_CODE, &code), now)?;
        outbox::enqueue(
            &tx,
            &templates::access_code_mail(&email, &mail_name(&person), &code),
            now,
        )?;
        Audit::new(&tx, now, operator).record("accessor.reset_code", hab, &[])?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces a person's e-mail address: an operator's act of its own (a protocol never
    /// changes an existing person's address), recorded in the audit log with the old and new
    /// addresses and the reason, and told to both addresses.
    pub fn set_email(
        &self,
        hab: u32,
        email: &Email,
        reason: &str,
        operator: &str,
    ) -> Result<(), AccessError> {
        let reason = store::text::label(reason, store::text::LABEL_MAX)
            .map_err(|_| AccessError::ReasonRequired)?;
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let person = storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        if !storage::set_email(&tx, hab, email.as_str())? {
            return Err(AccessError::EmailUnchanged(hab));
        }
        Audit::new(&tx, now, operator).record(
            "accessor.set_email",
            hab,
            &[
                ("old", &person.email),
                ("new", email.as_str()),
                ("reason", &reason),
            ],
        )?;
        let name = mail_name(&person);
        // An old address that no longer parses (kept from before the rules of today) cannot
        // be written to; the new one still is.
        if let Ok(old) = stored_email(&person) {
            outbox::enqueue(
                &tx,
                &templates::email_replaced_mail(&old, &name, hab, email),
                now,
            )?;
        }
        outbox::enqueue(&tx, &templates::email_set_mail(email, &name, hab), now)?;
        tx.commit()?;
        Ok(())
    }
}
