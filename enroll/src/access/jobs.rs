//! The daemon's scheduled maintenance: expiring withdrawals and telling holders their
//! certificate ends soon.

use ca::{Authority, RevocationReason};
use time::Duration;

use super::issuance::close_untaken;
use super::{
    from_unix, immediate, mail_name, storage, Access, AccessError, Audit, WithdrawalState,
};
use crate::outbox::{self, templates};
use crate::Email;

impl Access {
    /// Expires withdrawals past their 60 days, people's and operators': the `.p12` is erased
    /// and the never-delivered certificate revoked. Idempotent.
    pub fn sweep_withdrawals(&self, authority: &Authority) -> Result<usize, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let mut n = 0;
        let mut revoked = false;
        for w in storage::withdrawals_due(&tx, now.unix_timestamp())? {
            let end = (
                WithdrawalState::Expired,
                RevocationReason::CessationOfOperation,
            );
            let Some(untaken) = close_untaken(authority, &tx, &w, end, "daemon", now)? else {
                continue;
            };
            n += 1;
            revoked |= untaken;
            Audit::new(&tx, now, "daemon").record("withdrawal.expired", w.habilitation, &[])?;
        }
        let (operators, untaken) = self.sweep_operator_withdrawals_in(&tx, authority, now)?;
        n += operators;
        revoked |= untaken;
        tx.commit()?;
        drop(conn);
        if revoked {
            self.publish_crl(authority, "daemon")?;
        }
        Ok(n)
    }

    /// E-mails holders whose certificate ends within the notice period, once each.
    pub fn expiry_notices(&self) -> Result<usize, AccessError> {
        let now = self.now();
        let until = now + Duration::days(i64::from(self.config.expiry_notice_days));
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let mut n = 0;
        for c in storage::certificates_expiring(&tx, now.unix_timestamp(), until.unix_timestamp())?
        {
            let Some(person) = storage::accessor(&tx, c.habilitation)? else {
                continue;
            };
            let Ok(email) = Email::parse(&person.email) else {
                continue;
            };
            if !storage::mark_expiry_notified(&tx, &c.serial, now)? {
                continue;
            }
            let not_after = from_unix(c.not_after.unwrap_or(0));
            let days = u32::try_from((not_after - now).whole_days()).unwrap_or(0);
            outbox::enqueue(
                &tx,
                &templates::expiry_notice_mail(&email, &mail_name(&person), not_after.date(), days),
                now,
            )?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }
}
