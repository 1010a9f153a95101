//! Four eyes, optional (`[access] four_eyes`): an approval, and the revocation of an operator,
//! take two different operators. The first request is recorded (and audited); the same
//! operator asking again is refused; another operator's request carries the act out. The CLI
//! counts as one operator (`operator:cli`), so that it cannot approve alone either.

use rusqlite::{params, OptionalExtension};

use crate::access::{immediate, Access, AccessError, Audit};

/// An act that may take two operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardedAct {
    /// Approving a protocol's signed version.
    Approve,
    /// Revoking an operator.
    RevokeOperator,
}

impl GuardedAct {
    fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::RevokeOperator => "revoke-operator",
        }
    }
}

/// Who asks: a stable identity (an operator's number, not a certificate's, so that a renewed
/// certificate is the same operator) and the name the audit log gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asker {
    /// `operator:<id>` or `operator:cli`.
    pub id: String,
    /// The audit log's actor.
    pub actor: String,
}

/// What the gate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eyes {
    /// Go ahead: four eyes are off, or another operator asked first.
    Proceed,
    /// Recorded as the first request; a second operator must ask.
    FirstRecorded,
}

impl Access {
    /// Whether four eyes are required.
    pub fn four_eyes_required(&self) -> bool {
        self.config.four_eyes
    }

    /// The gate before `act` on `subject` (`<protocol number>:v<version>`, `operator:<id>`).
    pub fn four_eyes(
        &self,
        act: GuardedAct,
        subject: &str,
        asker: &Asker,
    ) -> Result<Eyes, AccessError> {
        if !self.config.four_eyes {
            return Ok(Eyes::Proceed);
        }
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let first: Option<(String, String)> = tx
            .query_row(
                "SELECT asked_by, asked_name FROM enroll_pending_acts
                 WHERE act = ?1 AND subject = ?2",
                params![act.as_str(), subject],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let eyes = match first {
            Some((by, _)) if by == asker.id => return Err(AccessError::SameOperatorTwice),
            Some((_, first_name)) => {
                tx.execute(
                    "DELETE FROM enroll_pending_acts WHERE act = ?1 AND subject = ?2",
                    params![act.as_str(), subject],
                )?;
                Audit::new(&tx, now, &asker.actor).record(
                    "four_eyes.second",
                    subject,
                    &[("act", act.as_str()), ("first", &first_name)],
                )?;
                Eyes::Proceed
            }
            None => {
                tx.execute(
                    "INSERT INTO enroll_pending_acts (act, subject, asked_by, asked_name, asked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        act.as_str(),
                        subject,
                        asker.id,
                        asker.actor,
                        now.unix_timestamp()
                    ],
                )?;
                Audit::new(&tx, now, &asker.actor).record(
                    "four_eyes.first",
                    subject,
                    &[("act", act.as_str())],
                )?;
                Eyes::FirstRecorded
            }
        };
        tx.commit()?;
        Ok(eyes)
    }

    /// What an approval of `number` is about: its signed version awaiting a decision
    /// (`<number>:v<version>`), so that a request never carries over to a later version.
    pub fn approval_subject(&self, number: &str) -> Result<String, AccessError> {
        let detail = self.version_detail(number)?;
        if detail.summary.status.as_str() != "signed" {
            return Err(AccessError::NothingToDecide(number.to_owned()));
        }
        Ok(format!(
            "{}:v{}",
            detail.summary.number, detail.summary.version
        ))
    }

    /// Who asked first for `act` on `subject`, if a request awaits a second operator.
    pub fn four_eyes_pending(
        &self,
        act: GuardedAct,
        subject: &str,
    ) -> Result<Option<String>, AccessError> {
        let conn = self.pool.get()?;
        Ok(conn
            .query_row(
                "SELECT asked_name FROM enroll_pending_acts WHERE act = ?1 AND subject = ?2",
                params![act.as_str(), subject],
                |r| r.get(0),
            )
            .optional()?)
    }
}
