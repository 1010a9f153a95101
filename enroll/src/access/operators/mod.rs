//! The operators of the console (issue 17): instructeurs and administrateurs, each holding a
//! certificate of AC SISERI's `operator` profile (clientAuth and the private usage
//! [`ca::OPERATOR_EKU`], which no person's certificate carries), delivered by a one-shot
//! withdrawal as people's are: the link, its code and the `.p12` password by e-mail, through
//! the durable outbox. `policy` says what each role may do. The CLI (`siseri operator …`) and
//! the console call these same functions.

mod four_eyes;
mod policy;
mod storage;

use ca::{
    Authority, GeneratedKey, IssueRequest, P12Options, PublishedCrl, RevocationReason, Serial,
};
use time::Duration;
use zeroize::Zeroizing;

pub use four_eyes::{Asker, Eyes, GuardedAct};
pub use policy::{OperatorAct, OperatorRole};

use super::storage::{self as shared, WithdrawalTable};
use super::{
    from_unix, immediate, Access, AccessError, Audit, CertificateState, WithdrawalInfo,
    WithdrawalState, Withdrawn, WITHDRAWAL_CODE, WITHDRAWAL_TOKEN,
};
use crate::outbox::{self, templates};
use crate::Email;
use store::secrets::new_token;

/// An operator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorRow {
    /// Their number.
    pub id: i64,
    /// Their name, as the administrator typed it (the certificate's CN).
    pub name: String,
    /// Where their withdrawal went.
    pub email: String,
    /// What they may do.
    pub role: OperatorRole,
    /// When they were added (Unix time).
    pub created_at: i64,
    /// Who added them.
    pub created_by: String,
    /// When they were revoked, if they were.
    pub revoked_at: Option<i64>,
}

/// One certificate of an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorCertificate {
    /// Serial, upper-case hexadecimal.
    pub serial_hex: String,
    /// Its state.
    pub state: CertificateState,
    /// End of validity (Unix time), once signed.
    pub not_after: Option<i64>,
}

/// An operator and their certificates, for `operator list` and the console's page.
#[derive(Debug, Clone)]
pub struct OperatorView {
    /// The operator.
    pub operator: OperatorRow,
    /// Their certificates, oldest first.
    pub certificates: Vec<OperatorCertificate>,
}

/// One withdrawal link sent to an operator (never its token, code or file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorWithdrawalView {
    /// Its number.
    pub id: i64,
    /// The certificate it delivers, upper-case hexadecimal.
    pub serial_hex: String,
    /// Where it stands.
    pub state: WithdrawalState,
    /// Wrong codes typed so far.
    pub failed_attempts: i64,
    /// When it was sent (Unix time).
    pub created_at: i64,
    /// When it expires (Unix time).
    pub expires_at: i64,
}

/// Who is at the console: the operator a valid operator certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleOperator {
    /// Their number.
    pub id: i64,
    /// Their name.
    pub name: String,
    /// Their role.
    pub role: OperatorRole,
    /// The certificate they presented, upper-case hexadecimal.
    pub serial_hex: String,
}

impl ConsoleOperator {
    /// What the audit log names as the actor of their acts: `console:<serial> <name>`.
    pub fn actor(&self) -> String {
        format!("console:{} {}", self.serial_hex, self.name)
    }

    /// Who they are for the four-eyes gate: their operator's number, whatever certificate.
    pub fn asker(&self) -> Asker {
        Asker {
            id: format!("operator:{}", self.id),
            actor: self.actor(),
        }
    }

    /// Whether their role allows `act`.
    pub fn may(&self, act: OperatorAct) -> bool {
        self.role.may(act)
    }
}

impl Access {
    /// Adds an operator and issues their certificate: the record and the certificate row are
    /// committed before the signature; the signature, the `.p12`, the withdrawal and its
    /// e-mail commit together after it. `actor` is who adds them (`operator:cli`, or a
    /// console administrator's [`ConsoleOperator::actor`]).
    pub fn add_operator(
        &self,
        authority: &Authority,
        name: &str,
        email: &str,
        role: OperatorRole,
        actor: &str,
    ) -> Result<OperatorRow, AccessError> {
        let name = store::text::name(name, false).map_err(|_| AccessError::BadOperatorName)?;
        let email = Email::parse(email).map_err(AccessError::BadOperatorEmail)?;
        let now = self.now();
        let key = GeneratedKey::generate(self.issue.key_algorithm)?;
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let id = storage::insert_operator(&tx, &name, email.as_str(), role, actor, now)?;
        let prepared = authority.prepare(
            &tx,
            &IssueRequest {
                subject: ca::Subject::Operator {
                    name: name.clone(),
                    email: email.as_str().to_owned(),
                },
                key: key.public(),
                requester: actor,
            },
            now,
        )?;
        let serial = prepared.serial().as_bytes().to_vec();
        storage::insert_certificate(&tx, &serial, id, now)?;
        Audit::new(&tx, now, actor).record(
            "operator.add",
            format!("operator:{id}"),
            &[("role", role.as_str()), ("name", &name)],
        )?;
        tx.commit()?;

        let tx = immediate(&mut conn)?;
        let issued = authority.sign_in(&tx, &prepared, now)?;
        let password = store::random::p12_password()?;
        let p12 = Zeroizing::new(ca::build_p12(
            key,
            &issued.der,
            authority.certificate_der(),
            &name,
            &password,
            P12Options {
                profile: self.issue.p12.profile,
                iterations: self.issue.p12.iterations,
            },
        )?);
        let code = store::random::unambiguous_string(9)?;
        let token = new_token()?;
        storage::insert_withdrawal(
            &tx,
            id,
            &serial,
            &self.key.hash(WITHDRAWAL_TOKEN, &token),
            &self.key.hash(WITHDRAWAL_CODE, &code),
            &p12,
            now,
            now + Duration::days(i64::from(self.config.withdrawal_days)),
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
            &templates::operator_withdrawal_mail(
                &email,
                &name,
                role.as_str(),
                &url,
                &code,
                &password,
                self.config.withdrawal_days,
            ),
            now,
        )?;
        Audit::new(&tx, now, actor).record(
            "operator.issue",
            format!("operator:{id}"),
            &[("serial", &issued.serial.to_hex())],
        )?;
        tx.commit()?;
        drop(conn);
        let conn = self.pool.get()?;
        storage::operator(&conn, id)?.ok_or(AccessError::UnknownOperator(id))
    }

    /// Every operator, with their certificates.
    pub fn operators(&self) -> Result<Vec<OperatorView>, AccessError> {
        let conn = self.pool.get()?;
        storage::operators(&conn)?
            .into_iter()
            .map(|operator| {
                let certificates = storage::certificates_of(&conn, operator.id)?
                    .into_iter()
                    .map(|(serial, state, not_after)| OperatorCertificate {
                        serial_hex: Serial::from_der_bytes(&serial).to_hex(),
                        state,
                        not_after,
                    })
                    .collect();
                Ok(OperatorView {
                    operator,
                    certificates,
                })
            })
            .collect()
    }

    /// One operator, their certificates and their withdrawal links, for the console's page.
    pub fn operator_detail(
        &self,
        id: i64,
    ) -> Result<(OperatorView, Vec<OperatorWithdrawalView>), AccessError> {
        let view = self
            .operators()?
            .into_iter()
            .find(|v| v.operator.id == id)
            .ok_or(AccessError::UnknownOperator(id))?;
        let conn = self.pool.get()?;
        let withdrawals = storage::withdrawals_of(&conn, id)?
            .into_iter()
            .map(
                |(id, serial, state, failed_attempts, created_at, expires_at)| {
                    OperatorWithdrawalView {
                        id,
                        serial_hex: Serial::from_der_bytes(&serial).to_hex(),
                        state,
                        failed_attempts,
                        created_at,
                        expires_at,
                    }
                },
            )
            .collect();
        Ok((view, withdrawals))
    }

    /// Whether some administrator is still in office.
    pub fn has_administrator(&self) -> Result<bool, AccessError> {
        let conn = self.pool.get()?;
        storage::any_administrator(&conn)
    }

    /// Refuses, before anything is recorded (a four-eyes request included), the revocation of
    /// the last administrator in office: nobody could then add or revoke operators from the
    /// console. Checked again by [`Access::revoke_operator`].
    pub fn check_operator_revocable(&self, id: i64) -> Result<(), AccessError> {
        let conn = self.pool.get()?;
        not_the_last_administrator(&conn, id, self.now())
    }

    /// Revokes an operator: every certificate of theirs (reason: privilege withdrawn), their
    /// pending withdrawals closed, and the operator marked so that nothing of theirs opens the
    /// console again. The CRLs are published after the commit.
    pub fn revoke_operator(
        &self,
        authority: &Authority,
        id: i64,
        actor: &str,
    ) -> Result<Vec<PublishedCrl>, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        // Checked again in the revocation's own transaction: two administrators revoking each
        // other at once cannot both pass it.
        not_the_last_administrator(&tx, id, now)?;
        if !storage::mark_revoked(&tx, id, now)? {
            return Err(AccessError::OperatorRevoked(id));
        }
        storage::close_withdrawals(&tx, id, WithdrawalState::Superseded, now)?;
        for (serial, state, _) in storage::certificates_of(&tx, id)? {
            if state.is_valid() {
                authority.revoke_in(
                    &tx,
                    &Serial::from_der_bytes(&serial),
                    RevocationReason::PrivilegeWithdrawn,
                    actor,
                    now,
                )?;
            }
            if state != CertificateState::Revoked {
                storage::set_certificate_state(&tx, &serial, CertificateState::Revoked, None)?;
            }
        }
        Audit::new(&tx, now, actor).record("operator.revoke", format!("operator:{id}"), &[])?;
        tx.commit()?;
        drop(conn);
        self.publish_crl(authority, actor)
    }

    /// The operator a client certificate of serial `serial` (DER content octets) names, if it
    /// is an operator's, withdrawn, not revoked in enrollment's view, not past its end, and
    /// its operator still in office. The console asks this at every request, after the TLS layer
    /// has checked the chain and the CA's revocation set.
    pub fn console_operator(&self, serial: &[u8]) -> Result<Option<ConsoleOperator>, AccessError> {
        let conn = self.pool.get()?;
        let Some((operator, state)) = storage::by_serial(&conn, serial)? else {
            return Ok(None);
        };
        // Withdrawn only: until then its key is in no one's hands but the stored `.p12`'s.
        let in_force = state == CertificateState::Delivered
            && operator.revoked_at.is_none()
            && storage::certificates_of(&conn, operator.id)?
                .iter()
                .any(|(s, _, not_after)| {
                    s == serial && not_after.is_some_and(|t| t > self.now().unix_timestamp())
                });
        Ok(in_force.then(|| ConsoleOperator {
            id: operator.id,
            name: operator.name,
            role: operator.role,
            serial_hex: Serial::from_der_bytes(serial).to_hex(),
        }))
    }

    /// The daemon's sweep of operators' withdrawals past their end, inside its transaction:
    /// the `.p12` erased, the never-withdrawn certificate revoked. Returns (withdrawals
    /// expired, whether a certificate was revoked).
    pub(super) fn sweep_operator_withdrawals_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        authority: &Authority,
        now: time::OffsetDateTime,
    ) -> Result<(usize, bool), AccessError> {
        let (mut n, mut revoked) = (0, false);
        for (id, operator, serial) in storage::withdrawals_due(tx, now.unix_timestamp())? {
            storage::expire_withdrawal(tx, id, now)?;
            n += 1;
            let untaken = storage::certificates_of(tx, operator)?
                .iter()
                .any(|(s, state, _)| *s == serial && *state == CertificateState::Issued);
            if untaken {
                authority.revoke_in(
                    tx,
                    &Serial::from_der_bytes(&serial),
                    RevocationReason::CessationOfOperation,
                    "daemon",
                    now,
                )?;
                storage::set_certificate_state(tx, &serial, CertificateState::Revoked, None)?;
                revoked = true;
            }
            Audit::new(tx, now, "daemon").record(
                "operator.withdrawal_expired",
                format!("operator:{operator}"),
                &[],
            )?;
        }
        Ok((n, revoked))
    }

    /// The page of an operator's withdrawal link (see [`Access::withdrawal_info`]).
    pub(super) fn operator_withdrawal_info(
        &self,
        token: &str,
    ) -> Result<WithdrawalInfo, AccessError> {
        let conn = self.pool.get()?;
        let w = storage::withdrawal_by_token(&conn, &self.key.hash(WITHDRAWAL_TOKEN, token))?
            .ok_or(AccessError::WithdrawalNotFound)?;
        self.check_operator_open(&w)?;
        let operator =
            storage::operator(&conn, w.operator_id)?.ok_or(AccessError::WithdrawalGone)?;
        Ok(WithdrawalInfo {
            display_name: operator.name,
            habilitation: None,
            expires_at: from_unix(w.expires_at),
            attempts_left: u32::try_from(
                i64::from(self.config.withdrawal_max_attempts) - w.failed_attempts,
            )
            .unwrap_or(0),
        })
    }

    fn check_operator_open(&self, w: &storage::OperatorWithdrawal) -> Result<(), AccessError> {
        if self.now().unix_timestamp() > w.expires_at {
            return Err(AccessError::WithdrawalGone);
        }
        match w.status {
            WithdrawalState::Pending => Ok(()),
            WithdrawalState::Locked => Err(AccessError::WithdrawalLocked),
            _ => Err(AccessError::WithdrawalGone),
        }
    }

    /// Takes an operator's withdrawal with its code: the `.p12` once (a compare-and-swap in
    /// one transaction), erased from the database as it goes. No CSR: an operator's key is
    /// made here, as a person's is by default.
    pub(super) fn withdraw_operator(
        &self,
        token: &str,
        code: &str,
        csr: bool,
    ) -> Result<Withdrawn, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let w = storage::withdrawal_by_token(&tx, &self.key.hash(WITHDRAWAL_TOKEN, token))?
            .ok_or(AccessError::WithdrawalNotFound)?;
        if matches!(w.status, WithdrawalState::Pending | WithdrawalState::Locked)
            && now.unix_timestamp() > w.expires_at
        {
            storage::expire_withdrawal(&tx, w.id, now)?;
            tx.commit()?;
            return Err(AccessError::WithdrawalGone);
        }
        self.check_operator_open(&w)?;
        if csr {
            return Err(AccessError::BadCsr(
                "un certificat d'opérateur se retire sans demande de certificat (CSR)".into(),
            ));
        }
        if !self.key.verify(WITHDRAWAL_CODE, code.trim(), &w.code_hmac) {
            let max = i64::from(self.config.withdrawal_max_attempts);
            let failures = shared::withdrawal_failure(&tx, WithdrawalTable::Operators, w.id, max)?;
            let target = format!("operator:{}", w.operator_id);
            if failures >= max {
                Audit::new(&tx, now, "public").record("operator.withdrawal_locked", target, &[])?;
                tx.commit()?;
                return Err(AccessError::WithdrawalLocked);
            }
            tx.commit()?;
            return Err(AccessError::WrongWithdrawalCode {
                attempts_left: u32::try_from(max - failures).unwrap_or(0),
            });
        }
        let p12 = shared::take_p12(&tx, WithdrawalTable::Operators, w.id, now)?
            .ok_or(AccessError::WithdrawalGone)?;
        storage::set_certificate_state(&tx, &w.serial, CertificateState::Delivered, None)?;
        Audit::new(&tx, now, "public").record(
            "operator.withdrawal_used",
            format!("operator:{}", w.operator_id),
            &[],
        )?;
        tx.commit()?;
        Ok(Withdrawn::OperatorP12 {
            bytes: Zeroizing::new(p12),
        })
    }
}

/// [`AccessError::LastAdministrator`] when operator `id` is an administrator in office and no
/// other administrator can open the console; [`AccessError::UnknownOperator`] when there is no
/// such operator.
fn not_the_last_administrator(
    conn: &rusqlite::Connection,
    id: i64,
    now: time::OffsetDateTime,
) -> Result<(), AccessError> {
    let operator = storage::operator(conn, id)?.ok_or(AccessError::UnknownOperator(id))?;
    if operator.role == OperatorRole::Administrateur
        && operator.revoked_at.is_none()
        && storage::other_administrators(conn, id, now)? == 0
    {
        return Err(AccessError::LastAdministrator(id));
    }
    Ok(())
}
