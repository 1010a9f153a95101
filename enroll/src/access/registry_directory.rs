//! The answers the registry asks for ([`registry::Directory`]): who holds a certificate, is this
//! access code right, what is this establishment. The registry defines the question and never
//! reads our tables; the binary plugs this in.

use std::sync::Arc;

use ca::revocation::RevocationSet;
use ca::{Authority, ProfileKind, Serial};
use registry::{
    AccessCodeState, AlertMail, Attachment, Directory, DirectoryError, Employer, Establishment,
    Holder, Person, Role,
};
use store::pool::Pool;

use super::{Access, AccessError, Caller, EstablishmentView};
use crate::protocol;

/// [`Access`], the CA's record of each serial, and the revocation set, as the registry's
/// [`Directory`].
#[derive(Debug, Clone)]
pub struct RegistryDirectory {
    access: Arc<Access>,
    pool: Arc<Pool>,
    revoked: Arc<RevocationSet>,
    max_attempts: u32,
}

impl RegistryDirectory {
    /// `max_attempts`: wrong access codes before the lock (the login page counts down from it).
    pub fn new(
        access: Arc<Access>,
        pool: Arc<Pool>,
        revoked: Arc<RevocationSet>,
        max_attempts: u32,
    ) -> Self {
        Self {
            access,
            pool,
            revoked,
            max_attempts,
        }
    }
}

impl Directory for RegistryDirectory {
    fn holder(&self, serial: &[u8], common_name: &str) -> Result<Option<Holder>, DirectoryError> {
        let conn = self.pool.get().map_err(internal)?;
        let record = Authority::find(&conn, &Serial::from_der_bytes(serial)).map_err(internal)?;
        drop(conn);
        match record.map(|r| r.profile) {
            Some(ProfileKind::Organisme) => Ok(Some(Holder::DosimetryBody {
                name: common_name.to_owned(),
            })),
            Some(ProfileKind::Person) => Ok(self
                .access
                .caller(serial)
                .map_err(refusal)?
                .map(|c| Holder::Person(person(c)))),
            _ => Ok(None),
        }
    }

    fn is_revoked(&self, serial: &[u8]) -> bool {
        self.revoked.is_revoked(serial)
    }

    fn check_access_code(&self, habilitation: u32, code: &str) -> Result<(), DirectoryError> {
        self.access
            .check_access_code(habilitation, code)
            .map_err(refusal)
    }

    fn access_code_state(&self, habilitation: u32) -> Result<AccessCodeState, DirectoryError> {
        let code = self
            .access
            .accessor(habilitation)
            .map_err(refusal)?
            .access_code;
        Ok(match code {
            None => AccessCodeState::Locked,
            Some(c) if c.status == super::AccessCodeState::Locked => AccessCodeState::Locked,
            Some(c) if c.failed_attempts > 0 => AccessCodeState::AttemptsLeft(
                u32::try_from(i64::from(self.max_attempts) - c.failed_attempts).unwrap_or(0),
            ),
            Some(_) => AccessCodeState::Fresh,
        })
    }

    fn dosimetry_bodies(&self) -> Result<Vec<String>, DirectoryError> {
        let conn = self.pool.get().map_err(internal)?;
        Authority::organisme_names(&conn, self.access.now()).map_err(internal)
    }

    fn establishment(&self, id: i64) -> Result<Option<Establishment>, DirectoryError> {
        self.access
            .establishment(id)
            .map_err(refusal)?
            .map(establishment)
            .transpose()
    }
}

/// The registry's limit alerts announced to the PCRs and physicians attached to the
/// establishment, through the durable outbox, in the registry's own transaction (the same
/// database).
impl AlertMail for RegistryDirectory {
    fn queue(
        &self,
        tx: &rusqlite::Transaction<'_>,
        establishment: i64,
        now: time::OffsetDateTime,
    ) -> Result<usize, DirectoryError> {
        let mut queued = 0;
        for a in super::storage::attachments_of_protocol(tx, establishment).map_err(internal)? {
            if !matches!(a.role, protocol::Role::Pcr | protocol::Role::Mdt) {
                continue;
            }
            let Some(person) = super::storage::accessor(tx, a.habilitation).map_err(internal)?
            else {
                continue;
            };
            // An address stored is one that parsed when it was written.
            let Ok(to) = crate::Email::parse(&person.email) else {
                continue;
            };
            let name = super::mail_name(&person);
            crate::outbox::enqueue(
                tx,
                &crate::outbox::templates::limit_alert_mail(&to, &name),
                now,
            )
            .map_err(internal)?;
            queued += 1;
        }
        Ok(queued)
    }
}

fn role(role: protocol::Role) -> Role {
    match role {
        protocol::Role::Cse => Role::Cse,
        protocol::Role::Pcr => Role::Pcr,
        protocol::Role::Mdt => Role::Mdt,
    }
}

fn person(c: Caller) -> Person {
    Person {
        habilitation: c.habilitation,
        display_name: c.display_name,
        attachments: c
            .attachments
            .into_iter()
            .map(|a| Attachment {
                establishment: a.establishment,
                role: role(a.role),
                sends_dosimetry: a.sends_dosimetry,
            })
            .collect(),
    }
}

fn establishment(e: EstablishmentView) -> Result<Establishment, DirectoryError> {
    // The registry's `Employer` is the protocol's step e under the same JSON names: carried
    // across as that JSON, so that a field added to one and not the other is an error here
    // rather than a silent loss.
    let employer: Employer = serde_json::to_value(&e.employer)
        .and_then(serde_json::from_value)
        .map_err(internal)?;
    Ok(Establishment {
        id: e.id,
        number: e.number,
        key_name: e.key_name,
        employer,
        accessors: e.accessors.into_iter().map(|(n, r)| (n, role(r))).collect(),
    })
}

fn internal(e: impl std::error::Error + Send + Sync + 'static) -> DirectoryError {
    DirectoryError::Internal(Box::new(e))
}

fn refusal(e: AccessError) -> DirectoryError {
    match e {
        AccessError::WrongAccessCode { attempts_left } => {
            DirectoryError::WrongAccessCode { attempts_left }
        }
        AccessError::AccessLocked => DirectoryError::AccessLocked,
        other => internal(other),
    }
}
