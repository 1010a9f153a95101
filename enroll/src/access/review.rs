//! The operator's review of signed protocol versions: the list, one version with what changed
//! against the version in force, and rejection.

use std::collections::BTreeSet;

use serde::Serialize;
use time::OffsetDateTime;

use super::{from_unix, immediate, storage, stored_input, Access, AccessError, Audit};
use crate::outbox::{self, templates};
use crate::pass::Status;
use crate::protocol::{Protocol, ProtocolInput};

/// A protocol version under review.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    /// Protocol number.
    pub number: String,
    /// Version number.
    pub version: i64,
    /// Status.
    pub status: Status,
    /// Employer's name.
    pub employer: String,
    /// Signature time.
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
}

/// Everything an operator needs to decide.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDetail {
    /// Summary.
    pub summary: VersionSummary,
    /// Key name.
    pub key_name: String,
    /// Public id of the version (for documents).
    pub version_id: String,
    /// What was signed.
    pub protocol: ProtocolInput,
    /// The signed Annexe 1.
    pub annexe_text: String,
    /// Its SHA-256.
    pub document_sha256: String,
    /// Signature evidence.
    pub evidence: serde_json::Value,
    /// For a renewal: lines added (`+`) and removed (`-`) against the version in force.
    pub diff: Vec<String>,
    /// Rejection reason.
    pub reject_reason: Option<String>,
    /// Operator who decided.
    pub decided_by: Option<String>,
}

impl Access {
    /// Signed, approved, rejected… versions, oldest first.
    pub fn versions(&self, status: Option<&str>) -> Result<Vec<VersionSummary>, AccessError> {
        let conn = self.pool.get()?;
        Ok(storage::versions(&conn, status)?
            .iter()
            .map(summary)
            .collect())
    }

    /// The latest version of a protocol, with what changed against the version in force.
    pub fn version_detail(&self, number: &str) -> Result<VersionDetail, AccessError> {
        let conn = self.pool.get()?;
        let versions = storage::versions_of(&conn, number)?;
        let latest = versions
            .last()
            .ok_or_else(|| AccessError::UnknownProtocol(number.to_owned()))?;
        let in_force = versions
            .iter()
            .rev()
            .find(|v| v.status == Status::Approved && v.version < latest.version);
        let diff = match in_force {
            Some(old) => {
                let before: BTreeSet<&str> = old.annexe_text.lines().collect();
                let after: BTreeSet<&str> = latest.annexe_text.lines().collect();
                let mut d: Vec<String> = before
                    .difference(&after)
                    .map(|l| format!("- {l}"))
                    .collect();
                d.extend(after.difference(&before).map(|l| format!("+ {l}")));
                d
            }
            None => Vec::new(),
        };
        Ok(VersionDetail {
            summary: summary(latest),
            key_name: latest.key_name.clone(),
            version_id: latest.version_id.clone(),
            protocol: stored_input(&latest.input)?,
            annexe_text: latest.annexe_text.clone(),
            document_sha256: latest.document_sha256.clone(),
            evidence: serde_json::from_str(&latest.evidence).unwrap_or_default(),
            diff,
            reject_reason: latest.reject_reason.clone(),
            decided_by: latest.decided_by.clone(),
        })
    }

    /// Rejects the signed version awaiting a decision; the correspondents are told by e-mail
    /// and the legal representative by SMS.
    pub fn reject(&self, number: &str, reason: &str, operator: &str) -> Result<(), AccessError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::versions_of(&tx, number)?
            .into_iter()
            .rev()
            .find(|v| v.status == Status::Signed)
            .ok_or_else(|| AccessError::NothingToDecide(number.to_owned()))?;
        storage::decide(
            &tx,
            &row.version_id,
            Status::Rejected,
            operator,
            Some(reason),
            now,
        )?;
        let input: ProtocolInput = stored_input(&row.input)?;
        if let Ok(p) = Protocol::parse(&input) {
            outbox::enqueue(
                &tx,
                &outbox::Message::Sms {
                    to: p.legal_representative.mobile.e164().to_owned(),
                    text: format!(
                        "SISERI : le protocole d'accès n° {number} n'a pas été validé. Le motif a été envoyé par e-mail à vos correspondants SISERI."
                    ),
                },
                now,
            )?;
            for c in &p.correspondents {
                outbox::enqueue(
                    &tx,
                    &templates::protocol_rejected_mail(
                        &c.email,
                        &format!(
                            "{} {}",
                            c.last_name.as_str().to_uppercase(),
                            c.first_name.as_str()
                        ),
                        number,
                        reason,
                    ),
                    now,
                )?;
            }
        }
        Audit::new(&tx, now, operator).record(
            "protocol.reject",
            number,
            &[("version", &row.version.to_string())],
        )?;
        tx.commit()?;
        Ok(())
    }
}

fn summary(v: &storage::ReviewRow) -> VersionSummary {
    let employer = serde_json::from_str::<ProtocolInput>(&v.input)
        .ok()
        .and_then(|i| i.employer.name)
        .unwrap_or_default();
    VersionSummary {
        number: v.number.clone(),
        version: v.version,
        status: v.status,
        employer,
        signed_at: from_unix(v.signed_at),
    }
}
