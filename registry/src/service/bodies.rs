//! The dosimetry bodies an establishment has named ([`crate::dosimetry_body`]): kept by its
//! correspondent ([`crate::policy::may_manage_bodies`]) or by an operator from the CLI, every
//! change audited; and the check that lets a body into an establishment at all.

use rusqlite::{Transaction, TransactionBehavior};
use store::audit::{self, Event};
use time::OffsetDateTime;

use super::{admit, record_denial, stamp, Registry};
use crate::dosimetry_body::{resolve, NamedBody};
use crate::policy::{may_manage_bodies, Action, DataKind, Role};
use crate::principal::Principal;
use crate::{storage_bodies, RegistryError, Result};

/// What the audit log calls the list of bodies in a refusal.
const KIND: &str = "dosimetry_bodies";

/// One change to the list, inside its transaction.
struct Change<'t> {
    tx: &'t Transaction<'t>,
    now: OffsetDateTime,
    actor: String,
    /// The role that allowed it; `None` for an operator.
    role: Option<Role>,
}

impl Change<'_> {
    fn audit(&self, action: &str, body: &NamedBody) -> Result<()> {
        let establishment = body.establishment.to_string();
        let relation = body.id.to_string();
        let mut details: Vec<(&str, &str)> = vec![
            ("establishment", &establishment),
            ("organisme", &body.name),
            ("relation", &relation),
        ];
        if let Some(role) = self.role {
            details.push(("role", role.as_str()));
        }
        audit::append(
            self.tx,
            self.now,
            &Event {
                actor: &self.actor,
                action,
                target: &format!("establishment:{establishment}"),
                details: &details,
            },
        )?;
        Ok(())
    }
}

impl Registry {
    /// Lets `who` into `establishment`, or refuses with what the service would answer: a
    /// dosimetry body that establishment has not named gets [`RegistryError::NotClient`]
    /// (recorded). The listener asks it before reading a body's request, so that what the
    /// request carries (a NIR, a card number) changes nothing to the answer; every method asks
    /// it again.
    pub fn admit(&self, who: &Principal, establishment: i64) -> Result<()> {
        if !matches!(who.identity, crate::Identity::DosimetryBody { .. }) {
            return Ok(());
        }
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match admit(&tx, who, establishment) {
            Ok(()) => Ok(()),
            Err(refusal) => {
                let now = self.clock.now();
                record_denial(
                    &tx,
                    now,
                    &who.actor(),
                    establishment,
                    "",
                    Action::Write,
                    &refusal,
                )?;
                tx.commit()?;
                Err(refusal)
            }
        }
    }

    /// Runs `work` on the list of bodies of `establishment` once `who` may do `action` on it.
    fn on_bodies<T>(
        &self,
        who: &Principal,
        establishment: i64,
        action: Action,
        work: impl FnOnce(&Change<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = self.clock.now();
        let granted = admit(&tx, who, establishment).and_then(|()| {
            let roles = who.roles_in(establishment);
            if roles.is_empty() {
                return Err(RegistryError::NotFound);
            }
            roles
                .into_iter()
                .find(|r| may_manage_bodies(*r, action))
                .ok_or(RegistryError::Forbidden {
                    kind: DataKind::AdminComplete,
                    action,
                })
        });
        match granted {
            Ok(role) => {
                let change = Change {
                    tx: &tx,
                    now,
                    actor: who.actor(),
                    role: Some(role),
                };
                let out = work(&change)?;
                tx.commit()?;
                Ok(out)
            }
            Err(refusal) => {
                record_denial(
                    &tx,
                    now,
                    &who.actor(),
                    establishment,
                    KIND,
                    action,
                    &refusal,
                )?;
                tx.commit()?;
                Err(refusal)
            }
        }
    }

    /// Runs `work` as the operator `actor` (`operator:cli`): no role, every change audited.
    fn as_operator<T>(
        &self,
        actor: &str,
        work: impl FnOnce(&Change<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let change = Change {
            tx: &tx,
            now: self.clock.now(),
            actor: actor.to_owned(),
            role: None,
        };
        let out = work(&change)?;
        tx.commit()?;
        Ok(out)
    }

    /// The dosimetry bodies `establishment` has named (CSE, PCR, physician).
    pub fn dosimetry_bodies(&self, who: &Principal, establishment: i64) -> Result<Vec<NamedBody>> {
        self.on_bodies(who, establishment, Action::Read, |c| {
            storage_bodies::list(c.tx, establishment)
        })
    }

    /// Names, for `establishment`, the body among `known` (those holding a valid certificate)
    /// that `name` designates (CSE). Returns the relation and whether it is new: naming a body
    /// already named changes nothing and records nothing.
    pub fn name_dosimetry_body(
        &self,
        who: &Principal,
        establishment: i64,
        name: &str,
        known: &[String],
    ) -> Result<(NamedBody, bool)> {
        self.on_bodies(who, establishment, Action::Write, |c| {
            named(c, establishment, name, known)
        })
    }

    /// Removes the relation `id` of `establishment` (CSE): that body can no longer send
    /// anything there.
    pub fn remove_dosimetry_body(
        &self,
        who: &Principal,
        establishment: i64,
        id: i64,
    ) -> Result<NamedBody> {
        self.on_bodies(who, establishment, Action::Write, |c| {
            removed(c, establishment, id)
        })
    }

    /// The bodies `establishment` has named, for an operator.
    pub fn operator_dosimetry_bodies(&self, establishment: i64) -> Result<Vec<NamedBody>> {
        let conn = self.pool.get()?;
        storage_bodies::list(&conn, establishment)
    }

    /// The establishments that named the body of certificate name `name`, for an operator.
    pub fn operator_clients(&self, name: &str) -> Result<Vec<NamedBody>> {
        let conn = self.pool.get()?;
        storage_bodies::clients(&conn, name)
    }

    /// [`Self::name_dosimetry_body`] by an operator (`actor`); the caller checks that the
    /// establishment exists.
    pub fn operator_name_dosimetry_body(
        &self,
        actor: &str,
        establishment: i64,
        name: &str,
        known: &[String],
    ) -> Result<(NamedBody, bool)> {
        self.as_operator(actor, |c| named(c, establishment, name, known))
    }

    /// Removes, by an operator (`actor`), the body named `name` (its certificate name, or as
    /// typed: compared folded) from `establishment`'s bodies.
    pub fn operator_remove_dosimetry_body(
        &self,
        actor: &str,
        establishment: i64,
        name: &str,
    ) -> Result<NamedBody> {
        self.as_operator(actor, |c| {
            let current = storage_bodies::list(c.tx, establishment)?;
            let names: Vec<String> = current.iter().map(|b| b.name.clone()).collect();
            let exact = resolve(name, &names).map_err(|_| RegistryError::NotFound)?;
            let id = current
                .iter()
                .find(|b| b.name == exact)
                .map(|b| b.id)
                .ok_or(RegistryError::NotFound)?;
            removed(c, establishment, id)
        })
    }
}

fn named(
    c: &Change<'_>,
    establishment: i64,
    name: &str,
    known: &[String],
) -> Result<(NamedBody, bool)> {
    let exact = resolve(name, known)?;
    let (body, added) =
        storage_bodies::insert(c.tx, establishment, &exact, &c.actor, &stamp(c.now))?;
    if added {
        c.audit("registry.organisme.name", &body)?;
    }
    Ok((body, added))
}

fn removed(c: &Change<'_>, establishment: i64, id: i64) -> Result<NamedBody> {
    let body = storage_bodies::delete(c.tx, establishment, id)?.ok_or(RegistryError::NotFound)?;
    c.audit("registry.organisme.remove", &body)?;
    Ok(body)
}
