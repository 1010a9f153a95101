//! Approval of a signed protocol version: every person named gets what they need, people no
//! longer named lose their attachment.

use std::collections::HashSet;

use ca::{Authority, PublishedCrl, RevocationReason};

use super::{
    fold, immediate, mail_name, match_key, storage, stored_email, stored_input, Access,
    AccessError, Audit, CertificateState, MatchToConfirm, WithdrawalState,
};
use crate::outbox::{self, templates};
use crate::pass::Status;
use crate::protocol::{Designee, Protocol, ProtocolInput, Role};

/// What an approval did.
#[derive(Debug, Default)]
pub struct ApprovalReport {
    /// Protocol number.
    pub number: String,
    /// Version approved.
    pub version: i64,
    /// People who got a new certificate.
    pub issued: Vec<u32>,
    /// People who already held one and only gained an attachment.
    pub attached: Vec<u32>,
    /// People no longer named, who lost their attachment.
    pub detached: Vec<u32>,
    /// People whose certificate was revoked (their last attachment ended).
    pub revoked: Vec<u32>,
    /// The CRLs re-signed, if any revocation happened (those of the shards it touched).
    pub crl: Vec<PublishedCrl>,
}

/// Progress of a long operation, for the CLI's display.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, &str);

/// What an approval has done so far, across its designees.
#[derive(Debug, Default)]
struct Done {
    /// People who got a certificate in this approval.
    issued: HashSet<u32>,
    /// People this approval created: the protocol's address is theirs.
    created: HashSet<u32>,
}

/// The key a designee named without a habilitation number is looked up by.
pub(super) fn designee_match_key(d: &Designee) -> Option<String> {
    let identity = d.identity.as_ref().filter(|_| d.habilitation.is_none())?;
    Some(match_key(
        d.last_name.as_str(),
        d.first_name.as_str(),
        &identity.birth_date.to_string(),
        identity.birth_departement.as_str(),
    ))
}

/// `Prénom NOM (rôle)`, as the protocol names a designee.
pub(super) fn designee_label(d: &Designee) -> String {
    format!(
        "{} {} ({})",
        d.first_name.as_str(),
        d.last_name.as_str().to_uppercase(),
        d.role.as_str()
    )
}

impl Access {
    /// Approves the signed version of `number`: each person named gets what they need, in a
    /// transaction of their own (an interrupted approval is resumed by approving again, without
    /// duplicates); people no longer named lose that attachment, and their certificate when it
    /// was their last.
    ///
    /// A protocol never changes what the registry knows of a person who exists (name, address):
    /// it attaches them, and they are told at their own address. A person found by name and
    /// birth alone (no habilitation number given) is attached only if `confirmed` holds their
    /// number, or if this protocol already names them; otherwise nothing is done and the
    /// approval stops with [`AccessError::MatchNotConfirmed`].
    pub fn approve(
        &self,
        authority: &Authority,
        number: &str,
        operator: &str,
        confirmed: &[u32],
        progress: Progress<'_>,
    ) -> Result<ApprovalReport, AccessError> {
        let row = {
            let conn = self.pool.get()?;
            storage::versions_of(&conn, number)?
                .into_iter()
                .rev()
                .find(|v| v.status == Status::Signed)
                .ok_or_else(|| AccessError::NothingToDecide(number.to_owned()))?
        };
        let input: ProtocolInput = stored_input(&row.input)?;
        self.preflight(&input)?;
        let protocol =
            Protocol::parse(&input).map_err(|e| AccessError::InvalidProtocol(e.to_string()))?;
        let designees: Vec<&Designee> = protocol.designees().collect();
        // Check every number first: a mismatch stops the approval before anything changes.
        {
            let conn = self.pool.get()?;
            for d in &designees {
                if let Some(h) = d.habilitation {
                    let a = storage::accessor(&conn, h.get())?
                        .ok_or(AccessError::UnknownHabilitation(h.get()))?;
                    if fold(&a.last_name) != fold(d.last_name.as_str())
                        || fold(&a.first_name) != fold(d.first_name.as_str())
                    {
                        return Err(AccessError::NameMismatch {
                            habilitation: h.get(),
                            given: format!("{} {}", d.first_name.as_str(), d.last_name.as_str()),
                        });
                    }
                }
            }
            // Name and birth alone are public enough to be guessed: such a match needs the
            // operator's word, unless this establishment already has the person.
            let mut unconfirmed = Vec::new();
            for d in &designees {
                let Some(key) = designee_match_key(d) else {
                    continue;
                };
                if let Some(h) = storage::accessor_by_match(&conn, &key)? {
                    if !confirmed.contains(&h)
                        && !storage::attached_to_protocol(&conn, h, row.protocol_id)?
                    {
                        unconfirmed.push(MatchToConfirm {
                            designee: designee_label(d),
                            habilitation: h,
                        });
                    }
                }
            }
            if !unconfirmed.is_empty() {
                return Err(AccessError::MatchNotConfirmed(unconfirmed));
            }
        }
        let mut report = ApprovalReport {
            number: number.to_owned(),
            version: row.version,
            ..ApprovalReport::default()
        };
        let mut done = Done::default();
        let mut named: HashSet<(u32, Role)> = HashSet::new();
        let total = designees.len();
        for (i, d) in designees.iter().enumerate() {
            progress(
                i,
                total,
                &format!("{} {}", d.first_name.as_str(), d.last_name.as_str()),
            );
            let hab = self.approve_designee(
                authority,
                &row,
                &protocol,
                d,
                operator,
                &mut done,
                &mut report,
            )?;
            named.insert((hab, d.role));
        }
        progress(total, total, "fin");

        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let audit = Audit::new(&tx, now, operator);
        let mut revoked_any = false;
        for att in storage::attachments_of_protocol(&tx, row.protocol_id)? {
            if named.contains(&(att.habilitation, att.role)) {
                continue;
            }
            storage::end_attachment(&tx, att.id, now)?;
            report.detached.push(att.habilitation);
            audit.record(
                "accessor.detach",
                att.habilitation,
                &[("protocol", number), ("role", att.role.as_str())],
            )?;
            if storage::attachments_of_person(&tx, att.habilitation, true)?.is_empty() {
                revoked_any |= self.revoke_all_in(
                    &tx,
                    authority,
                    att.habilitation,
                    RevocationReason::AffiliationChanged,
                    operator,
                    now,
                )?;
                report.revoked.push(att.habilitation);
            }
        }
        if !storage::decide(&tx, &row.version_id, Status::Approved, operator, None, now)? {
            return Err(AccessError::NothingToDecide(number.to_owned()));
        }
        storage::supersede_older(&tx, row.protocol_id, row.version)?;
        audit.record(
            "protocol.approve",
            number,
            &[("version", &row.version.to_string())],
        )?;
        tx.commit()?;
        drop(conn);
        if revoked_any {
            report.crl = self.publish_crl(authority, operator)?;
        }
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    fn approve_designee(
        &self,
        authority: &Authority,
        row: &storage::ReviewRow,
        protocol: &Protocol,
        d: &Designee,
        operator: &str,
        done: &mut Done,
        report: &mut ApprovalReport,
    ) -> Result<u32, AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let audit = Audit::new(&tx, now, operator);
        let hab = match d.habilitation {
            Some(h) => h.get(),
            None => {
                let identity = d.identity.as_ref().ok_or_else(|| {
                    AccessError::InvalidProtocol("identité manquante sans N° habilitation".into())
                })?;
                let match_key = designee_match_key(d).ok_or_else(|| {
                    AccessError::InvalidProtocol("identité manquante sans N° habilitation".into())
                })?;
                match storage::accessor_by_match(&tx, &match_key)? {
                    Some(h) => h,
                    None => {
                        let h = storage::next_habilitation(&tx, self.config.habilitation_start)?;
                        let birth = identity.birth_date.to_string();
                        storage::insert_accessor(
                            &tx,
                            &storage::NewAccessor {
                                habilitation: h,
                                last_name: d.last_name.as_str(),
                                first_name: d.first_name.as_str(),
                                match_key: Some(&match_key),
                                email: d.email.as_str(),
                                civility: Some(identity.civility.as_str()),
                                birth_date: Some(&birth),
                                birth_departement: Some(identity.birth_departement.as_str()),
                            },
                            now,
                        )?;
                        audit.record("accessor.create", h, &[])?;
                        done.created.insert(h);
                        h
                    }
                }
            }
        };
        // The address the protocol gives is used only for a person it creates: an existing
        // person's address changes by an operator's act alone (`Access::set_email`).
        let person = storage::accessor(&tx, hab)?.ok_or(AccessError::UnknownHabilitation(hab))?;
        let attachment = storage::active_attachment(&tx, hab, row.protocol_id, d.role)?;
        let newly_attached = attachment.is_none();
        match attachment {
            Some(a) => storage::set_sends_dosimetry(&tx, a.id, d.sends_dosimetry)?,
            None => {
                storage::attach(
                    &tx,
                    hab,
                    row.protocol_id,
                    d.role,
                    d.sends_dosimetry,
                    row.version,
                    now,
                )?;
                audit.record(
                    "accessor.attach",
                    hab,
                    &[("protocol", &row.number), ("role", d.role.as_str())],
                )?;
            }
        }
        let certificates = storage::certificates_of(&tx, hab)?;
        // An approval interrupted between record and signature left a preparing certificate:
        // its key is gone; it is abandoned and redone.
        for c in certificates
            .iter()
            .filter(|c| c.state == CertificateState::Preparing)
        {
            storage::set_certificate_state(&tx, &c.serial, CertificateState::Revoked, None)?;
            for w in storage::withdrawals_of(&tx, hab)?
                .iter()
                .filter(|w| w.serial == c.serial)
            {
                storage::close_withdrawal(&tx, w.id, WithdrawalState::Superseded, now)?;
            }
        }
        let holds = certificates.iter().any(|c| c.state.is_valid());
        if newly_attached && !done.created.contains(&hab) {
            // Told at the address the registry knows, never at the one the protocol gives.
            outbox::enqueue(
                &tx,
                &templates::attachment_notice_mail(
                    &stored_email(&person)?,
                    &mail_name(&person),
                    &templates::Naming {
                        establishment: &protocol.employer.address.name,
                        siret: protocol.employer.siret.as_ref().map(|s| s.as_str()),
                        protocol_number: &row.number,
                        role_label: d.role.label(),
                        holds_certificate: holds,
                        other_address_given: person.email != d.email.as_str(),
                    },
                ),
                now,
            )?;
        }
        if holds {
            if newly_attached && !done.issued.contains(&hab) {
                report.attached.push(hab);
            }
            tx.commit()?;
            return Ok(hab);
        }
        tx.commit()?;
        drop(conn);
        self.issue_for(
            authority,
            &person,
            None,
            None,
            operator,
            &format!("enroll:protocol {}", row.number),
            true,
        )?;
        done.issued.insert(hab);
        report.issued.push(hab);
        Ok(hab)
    }
}
