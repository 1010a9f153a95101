//! The registry's service: what the listener's handlers call. Every method takes the caller,
//! checks the establishment is theirs (else [`RegistryError::NotFound`]) and the matrix (else
//! [`RegistryError::Forbidden`]), does its work in one transaction and writes what was read or
//! written to the audit log in that same transaction. Refusals are audited too.
//!
//! Methods block (SQLite): call them from a blocking pool, not from the async reactor.

mod alerts;
mod bilans;
mod bodies;
mod doses;
mod fractions;
mod persons;
mod transfer;
mod transmissions;
mod workers;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::sync::Arc;

use rusqlite::{Transaction, TransactionBehavior};
use store::audit::{self, Event};
use store::audit_writer::{AuditWriter, OwnedEvent};
use store::pool::Pool;
use store::Clock;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::policy::{admits, allows, Action, DataKind, Role};
use crate::principal::{Identity, Principal};
use crate::{storage_bodies, RegistryError, Result};

/// The registry over one database. Cheap to clone; share one per process.
#[derive(Debug, Clone)]
pub struct Registry {
    pool: Arc<Pool>,
    clock: Arc<dyn Clock>,
    /// Where limit alerts are announced by e-mail; none in tests that do not look.
    alert_mail: Option<Arc<dyn crate::AlertMail>>,
    /// Commits the audit entries of reads, grouped (issue 15 §5); `None` only if its thread
    /// could not start, and reads then write their entries in their own transaction.
    audit_writer: Option<AuditWriter>,
    /// How many reads (with grouped audit) query the database at once; the others wait their
    /// turn, first come first served.
    reads: store::gate::Gate,
}

/// What the matrix granted: the role that allowed it and the kind of data it allowed.
#[derive(Debug, Clone, Copy)]
struct Grant {
    role: Role,
    kind: DataKind,
}

/// One authorized request inside its transaction.
struct Ctx<'t> {
    tx: &'t Transaction<'t>,
    now: OffsetDateTime,
    actor: String,
    establishment: i64,
    grant: Grant,
    /// A read's entries, committed by the [`AuditWriter`] once the read is done; `None` for a
    /// change, whose entries go into its own transaction.
    deferred: Option<RefCell<Vec<OwnedEvent>>>,
}

impl Ctx<'_> {
    /// The time, as stored (`2025-06-30T09:15:00Z`).
    fn stamp(&self) -> String {
        stamp(self.now)
    }

    /// Today, for dates that may not be in the future.
    fn today(&self) -> Date {
        self.now.date()
    }

    /// Records what was done on `target` (`worker:<id>`, never a NIR), with the establishment, the
    /// kind of data and the role used.
    fn audit(&self, action: &str, target: &str, extra: &[(&str, &str)]) -> Result<()> {
        let establishment = self.establishment.to_string();
        let mut details: Vec<(&str, &str)> = vec![
            ("establishment", &establishment),
            ("kind", self.grant.kind.as_str()),
            ("role", self.grant.role.as_str()),
        ];
        details.extend_from_slice(extra);
        let event = Event {
            actor: &self.actor,
            action,
            target,
            details: &details,
        };
        match &self.deferred {
            Some(entries) => entries.borrow_mut().push(OwnedEvent::new(self.now, &event)),
            None => {
                audit::append(self.tx, self.now, &event)?;
            }
        }
        Ok(())
    }
}

/// Twice the cores: enough to keep them busy while some reads wait for the disk.
fn default_concurrent_reads() -> usize {
    2 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

fn stamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn worker_target(id: i64) -> String {
    format!("worker:{id}")
}

/// Whether the caller is let into `establishment` at all ([`admits`]): a person always (their
/// attachments decide next), a dosimetry body only when that establishment exists for it and
/// has named it. Asked before anything else is read, with the same refusal whatever was asked.
fn admit(conn: &rusqlite::Connection, who: &Principal, establishment: i64) -> Result<()> {
    let Identity::DosimetryBody { name } = &who.identity else {
        return Ok(());
    };
    let named = !who.roles_in(establishment).is_empty()
        && storage_bodies::is_client(conn, establishment, name)?;
    if admits(Role::DosimetryBody, named) {
        Ok(())
    } else {
        Err(RegistryError::NotClient)
    }
}

/// Records a refusal (`registry.denied`) of `action` on `kind` in `establishment`.
fn record_denial(
    tx: &Transaction<'_>,
    now: OffsetDateTime,
    actor: &str,
    establishment: i64,
    kind: &str,
    action: Action,
    refusal: &RegistryError,
) -> Result<()> {
    let entry = denial(now, actor, establishment, kind, action, refusal);
    let details: Vec<(&str, &str)> = entry
        .details
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    audit::append(
        tx,
        now,
        &Event {
            actor,
            action: &entry.action,
            target: &entry.target,
            details: &details,
        },
    )?;
    Ok(())
}

/// The audit entry of a refusal.
fn denial(
    now: OffsetDateTime,
    actor: &str,
    establishment: i64,
    kind: &str,
    action: Action,
    refusal: &RegistryError,
) -> OwnedEvent {
    let establishment = establishment.to_string();
    let reason = match refusal {
        RegistryError::NotFound => "not_attached",
        RegistryError::NotClient => "not_client",
        _ => "forbidden",
    };
    OwnedEvent::new(
        now,
        &Event {
            actor,
            action: "registry.denied",
            target: &format!("establishment:{establishment}"),
            details: &[
                ("establishment", &establishment),
                ("kind", kind),
                ("action", action.as_str()),
                ("reason", reason),
            ],
        },
    )
}

/// The matrix applied to the caller in one establishment: the first of `kinds` one of their roles
/// there allows. Not attached: `NotFound`, so that another establishment's ids reveal nothing.
fn authorize(
    who: &Principal,
    establishment: i64,
    kinds: &[DataKind],
    action: Action,
) -> Result<Grant> {
    let roles: BTreeSet<Role> = who.roles_in(establishment);
    if roles.is_empty() {
        return Err(RegistryError::NotFound);
    }
    for &kind in kinds {
        if let Some(&role) = roles.iter().find(|&&r| allows(r, kind, action)) {
            return Ok(Grant { role, kind });
        }
    }
    Err(RegistryError::Forbidden {
        kind: kinds.first().copied().unwrap_or(DataKind::AdminComplete),
        action,
    })
}

impl Registry {
    /// The registry over a migrated database (migrations of `ca` and of this crate applied).
    pub fn new(pool: Arc<Pool>, clock: Arc<dyn Clock>) -> Self {
        let audit_writer = match AuditWriter::start(pool.clone()) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "lectures tracées une à une");
                None
            }
        };
        Self {
            pool,
            clock,
            alert_mail: None,
            audit_writer,
            reads: store::gate::Gate::new(default_concurrent_reads()),
        }
    }

    /// The same registry, announcing limit alerts by e-mail through `mail`.
    pub fn with_alert_mail(mut self, mail: Arc<dyn crate::AlertMail>) -> Self {
        self.alert_mail = Some(mail);
        self
    }

    /// The same registry, letting `n` reads query the database at once (0: twice the cores).
    pub fn with_concurrent_reads(mut self, n: usize) -> Self {
        self.reads = store::gate::Gate::new(if n == 0 {
            default_concurrent_reads()
        } else {
            n
        });
        self
    }

    /// The same registry, each read writing its audit entry in its own immediate transaction
    /// (the behaviour before grouped commits; `[limits] registry_grouped_read_audit = false`).
    pub fn with_inline_read_audit(mut self) -> Self {
        self.audit_writer = None;
        self
    }

    /// [`Self::run`] for a change of the list itself (the complete administrative data: the
    /// CSE's workers form, import, fractions).
    fn edit_list<T>(
        &self,
        who: &Principal,
        establishment: i64,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.run_on(
            Action::Write,
            who,
            establishment,
            DataKind::AdminComplete,
            work,
        )
    }

    /// [`Self::run`] for reading or writing (`action`) data of one `kind`.
    fn run_on<T>(
        &self,
        action: Action,
        who: &Principal,
        establishment: i64,
        kind: DataKind,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        self.run(who, establishment, &[kind], action, work)
    }

    /// Runs `work` once the caller is authorized for one of `kinds`. A change runs in an
    /// immediate transaction with its audit entries, committed only when it succeeds. A read
    /// runs in a read transaction, so that reads do not queue on SQLite's write lock; its
    /// entries are then committed by the group writer before this returns, and an entry that
    /// cannot be committed fails the read (nothing is shown untraced). A refusal is recorded
    /// and committed on its own.
    fn run<T>(
        &self,
        who: &Principal,
        establishment: i64,
        kinds: &[DataKind],
        action: Action,
        work: impl FnOnce(&Ctx<'_>) -> Result<T>,
    ) -> Result<T> {
        let grouped = match (action, &self.audit_writer) {
            (Action::Read, Some(writer)) => Some(writer),
            _ => None,
        };
        // Reads take their turn: a few at a time query faster than many (see `store::gate`).
        let turn = grouped.map(|_| self.reads.enter());
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(if grouped.is_some() {
            TransactionBehavior::Deferred
        } else {
            TransactionBehavior::Immediate
        })?;
        let now = self.clock.now();
        let actor = who.actor();
        let granted = admit(&tx, who, establishment)
            .and_then(|()| authorize(who, establishment, kinds, action));
        let kind = kinds.first().map_or("", |k| k.as_str());
        match (granted, grouped) {
            (Ok(grant), None) => {
                let ctx = Ctx {
                    tx: &tx,
                    now,
                    actor,
                    establishment,
                    grant,
                    deferred: None,
                };
                let out = work(&ctx)?;
                tx.commit()?;
                Ok(out)
            }
            (Ok(grant), Some(writer)) => {
                let ctx = Ctx {
                    tx: &tx,
                    now,
                    actor,
                    establishment,
                    grant,
                    deferred: Some(RefCell::new(Vec::new())),
                };
                let out = work(&ctx)?;
                let entries = ctx.deferred.map(RefCell::into_inner).unwrap_or_default();
                tx.commit()?;
                drop(conn);
                drop(turn);
                writer.write(entries)?;
                Ok(out)
            }
            (Err(refusal), None) => {
                record_denial(&tx, now, &actor, establishment, kind, action, &refusal)?;
                tx.commit()?;
                Err(refusal)
            }
            (Err(refusal), Some(writer)) => {
                tx.commit()?;
                drop(conn);
                drop(turn);
                writer.write(vec![denial(
                    now,
                    &actor,
                    establishment,
                    kind,
                    action,
                    &refusal,
                )])?;
                Err(refusal)
            }
        }
    }
}
