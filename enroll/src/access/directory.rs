//! The registry's narrow interface: who holds a certificate, whether an access code is right,
//! and what an establishment is.

use serde::Serialize;

use super::{
    display_name, immediate, storage, stored_input, Access, AccessCodeState, AccessError, Audit,
    CertificateState, ACCESS_CODE,
};
use crate::pass::Status;
use crate::protocol::{ProtocolInput, Role};

/// The registry's view of a certificate holder.
#[derive(Debug, Clone, Serialize)]
pub struct Caller {
    /// N° habilitation.
    pub habilitation: u32,
    /// `Pierre DILLENSEGER`.
    pub display_name: String,
    /// Active attachments.
    pub attachments: Vec<CallerAttachment>,
}

/// One establishment a caller is attached to.
#[derive(Debug, Clone, Serialize)]
pub struct CallerAttachment {
    /// Establishment id (the protocol's).
    pub establishment: i64,
    /// Role there.
    pub role: Role,
    /// PCR sending dosimetry.
    pub sends_dosimetry: bool,
}

/// *Établissement de rattachement*.
#[derive(Debug, Clone, Serialize)]
pub struct EstablishmentView {
    /// Id.
    pub id: i64,
    /// Protocol number.
    pub number: String,
    /// Key name.
    pub key_name: String,
    /// Name and address, from the version in force.
    pub employer: crate::protocol::EmployerInput,
    /// Accessors and their roles.
    pub accessors: Vec<(String, Role)>,
}

impl Access {
    /// Who holds the certificate `serial` (delivered, not revoked), and where they are attached.
    pub fn caller(&self, serial: &[u8]) -> Result<Option<Caller>, AccessError> {
        let conn = self.pool.get()?;
        let Some(c) = storage::certificate(&conn, serial)? else {
            return Ok(None);
        };
        if c.state != CertificateState::Delivered {
            return Ok(None);
        }
        let Some(person) = storage::accessor(&conn, c.habilitation)? else {
            return Ok(None);
        };
        let attachments = storage::attachments_of_person(&conn, c.habilitation, true)?
            .into_iter()
            .map(|a| CallerAttachment {
                establishment: a.protocol_id,
                role: a.role,
                sends_dosimetry: a.sends_dosimetry,
            })
            .collect();
        Ok(Some(Caller {
            habilitation: c.habilitation,
            display_name: display_name(&person),
            attachments,
        }))
    }

    /// Checks an access code: 5 failures lock the access until an operator resets it.
    pub fn check_access_code(&self, hab: u32, code: &str) -> Result<(), AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::access_code(&tx, hab)?.ok_or(AccessError::AccessLocked)?;
        if row.status == AccessCodeState::Locked {
            return Err(AccessError::AccessLocked);
        }
        let actor = format!("accessor:{hab}");
        let audit = Audit::new(&tx, now, &actor);
        if self.key.verify(ACCESS_CODE, code.trim(), &row.code_hmac) {
            storage::access_code_success(&tx, hab)?;
            audit.record("registry.login", hab, &[])?;
            tx.commit()?;
            return Ok(());
        }
        let max = i64::from(self.config.access_code_max_attempts);
        let failures = storage::access_code_failure(&tx, hab, max, now)?;
        if failures >= max {
            audit.record("registry.access_locked", hab, &[])?;
            tx.commit()?;
            return Err(AccessError::AccessLocked);
        }
        audit.record("registry.login_failed", hab, &[])?;
        tx.commit()?;
        Err(AccessError::WrongAccessCode {
            attempts_left: u32::try_from(max - failures).unwrap_or(0),
        })
    }

    /// *Établissement de rattachement*: number, key name, address, accessors and roles.
    pub fn establishment(&self, id: i64) -> Result<Option<EstablishmentView>, AccessError> {
        let conn = self.pool.get()?;
        let versions = storage::versions_of_id(&conn, id)?;
        let Some(v) = versions.iter().rev().find(|v| v.status == Status::Approved) else {
            return Ok(None);
        };
        let input: ProtocolInput = stored_input(&v.input)?;
        let mut accessors = Vec::new();
        for a in storage::attachments_of_protocol(&conn, id)? {
            if let Some(p) = storage::accessor(&conn, a.habilitation)? {
                accessors.push((display_name(&p), a.role));
            }
        }
        Ok(Some(EstablishmentView {
            id,
            number: v.number.clone(),
            key_name: v.key_name.clone(),
            employer: input.employer,
            accessors,
        }))
    }
}
