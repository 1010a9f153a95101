//! The national persons behind the workers lists, as the operators see them.

use rusqlite::TransactionBehavior;
use store::audit::{self, Event};

use super::Registry;
use crate::storage_persons::{self, IdentityConflict};
use crate::Result;

impl Registry {
    /// The identity conflicts no operator has dealt with yet, oldest first, for the operator
    /// `actor` (`siseri registry conflicts`). The listing shows names: it is audited.
    pub fn operator_identity_conflicts(&self, actor: &str) -> Result<Vec<IdentityConflict>> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let conflicts = storage_persons::open_conflicts(&tx)?;
        audit::append(
            &tx,
            self.clock.now(),
            &Event {
                actor,
                action: "registry.person.conflicts.read",
                target: "registry",
                details: &[("count", &conflicts.len().to_string())],
            },
        )?;
        tx.commit()?;
        Ok(conflicts)
    }
}
