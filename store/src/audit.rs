//! The tamper-evident audit log: append-only (SQL triggers refuse UPDATE and DELETE), each
//! entry carrying the SHA-256 of the previous one over a canonical encoding, so that changing,
//! removing or reordering any entry breaks the chain at that entry.
//!
//! Every component writes security events here through [`append`], inside the transaction of
//! the change it records. Callers pass identifiers only: never a secret, never a NIR.

use std::collections::BTreeMap;

use ring::digest::{digest, SHA256};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::{Error, Result};

const GENESIS: [u8; 32] = [0; 32];
const DOMAIN: &[u8] = b"siseri-audit-v1";

/// One security-relevant event.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Who did it: `operator:cli`, `daemon`, `accessor:42003`, `enroll`…
    pub actor: &'a str,
    /// What, as a dotted verb: `cert.issue`, `cert.revoke`, `crl.publish`…
    pub action: &'a str,
    /// On what: a serial, a protocol number, a habilitation number.
    pub target: &'a str,
    /// Anything else worth keeping, as key/value pairs (stored sorted by key).
    pub details: &'a [(&'a str, &'a str)],
}

/// What [`verify`] found on an intact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Number of entries checked.
    pub entries: u64,
    /// Hash of the last entry (hex): write it down elsewhere to anchor the chain.
    pub head: String,
}

/// Appends `event` at time `at` within the caller's transaction, which must be IMMEDIATE so
/// that two writers cannot chain onto the same predecessor. Returns the sequence number.
pub fn append(tx: &Transaction<'_>, at: OffsetDateTime, event: &Event<'_>) -> Result<i64> {
    let last: Option<(i64, Vec<u8>)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_vec()),
    };
    let at = at
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .map_err(|e| Error::AuditBroken {
            seq,
            why: e.to_string(),
        })?;
    let details: BTreeMap<&str, &str> = event.details.iter().copied().collect();
    let details = serde_json::to_string(&details).map_err(|e| Error::AuditBroken {
        seq,
        why: e.to_string(),
    })?;
    let entry = Entry {
        seq,
        at,
        actor: event.actor.to_owned(),
        action: event.action.to_owned(),
        target: event.target.to_owned(),
        details,
    };
    let hash = entry.hash(&prev);
    tx.execute(
        "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            entry.seq,
            entry.at,
            entry.actor,
            entry.action,
            entry.target,
            entry.details,
            prev,
            hash.to_vec()
        ],
    )?;
    Ok(seq)
}

/// One line of the audit log as read back for people (the operators' console).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Its number in the chain.
    pub seq: i64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Details, as recorded (JSON).
    pub details: String,
}

/// What [`search`] keeps: each field given narrows it. `actor` and `target` are looked for
/// inside the recorded text (case ignored for ASCII); `from` and `to` are days, `AAAA-MM-JJ`,
/// both included.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Part of the actor.
    pub actor: Option<String>,
    /// Part of the target.
    pub target: Option<String>,
    /// First day.
    pub from: Option<String>,
    /// Last day.
    pub to: Option<String>,
}

/// The `limit` most recent lines that `filter` keeps, newest first.
pub fn search(conn: &Connection, filter: &Filter, limit: u32) -> Result<Vec<Line>> {
    let to = filter.to.as_ref().map(|d| format!("{d}T99"));
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, target, details FROM audit_log
         WHERE (?1 IS NULL OR instr(lower(actor), lower(?1)) > 0)
           AND (?2 IS NULL OR instr(lower(target), lower(?2)) > 0)
           AND (?3 IS NULL OR at >= ?3)
           AND (?4 IS NULL OR at <= ?4)
         ORDER BY seq DESC LIMIT ?5",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![filter.actor, filter.target, filter.from, to, limit],
        |r| {
            Ok(Line {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                details: r.get(5)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Walks the whole chain; the error names the first entry that does not hold.
pub fn verify(conn: &Connection) -> Result<Verified> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, target, details, prev_hash, hash
         FROM audit_log ORDER BY seq",
    )?;
    let mut rows = stmt.query([])?;
    let mut expected_prev = GENESIS.to_vec();
    let mut expected_seq = 1;
    let mut entries = 0;
    while let Some(row) = rows.next()? {
        let entry = Entry {
            seq: row.get(0)?,
            at: row.get(1)?,
            actor: row.get(2)?,
            action: row.get(3)?,
            target: row.get(4)?,
            details: row.get(5)?,
        };
        let prev: Vec<u8> = row.get(6)?;
        let hash: Vec<u8> = row.get(7)?;
        let broken = |why: &str| Error::AuditBroken {
            seq: entry.seq,
            why: why.to_owned(),
        };
        if entry.seq != expected_seq {
            return Err(Error::AuditBroken {
                seq: expected_seq,
                why: "entrée manquante".into(),
            });
        }
        if prev != expected_prev {
            return Err(broken(
                "l'empreinte de l'entrée précédente ne correspond pas",
            ));
        }
        if entry.hash(&prev).as_slice() != hash.as_slice() {
            return Err(broken("le contenu ne correspond pas à son empreinte"));
        }
        expected_prev = hash;
        expected_seq += 1;
        entries += 1;
    }
    Ok(Verified {
        entries,
        head: hex::encode(&expected_prev),
    })
}

struct Entry {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    details: String,
}

impl Entry {
    /// SHA-256 over the previous hash and each field, length-prefixed so that no two different
    /// entries share an encoding.
    fn hash(&self, prev: &[u8]) -> [u8; 32] {
        let seq = self.seq.to_string();
        let fields: [&[u8]; 7] = [
            DOMAIN,
            seq.as_bytes(),
            self.at.as_bytes(),
            self.actor.as_bytes(),
            self.action.as_bytes(),
            self.target.as_bytes(),
            self.details.as_bytes(),
        ];
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(prev);
        for f in fields {
            buf.extend_from_slice(&(f.len() as u64).to_be_bytes());
            buf.extend_from_slice(f);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, &buf).as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use time::macros::datetime;

    use super::{append, search, verify, Event, Filter};

    #[test]
    fn search_narrows_by_actor_target_and_days_newest_first() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::migrate::apply(&mut conn, "store", crate::migrate::MIGRATIONS).unwrap();
        let tx = conn.transaction().unwrap();
        for (at, actor, target) in [
            (datetime!(2026-03-01 10:00 UTC), "operator:cli", "42000"),
            (datetime!(2026-03-02 10:00 UTC), "console:0A Alice", "42001"),
            (datetime!(2026-03-03 23:59 UTC), "console:0B Bruno", "42000"),
        ] {
            let event = Event {
                actor,
                action: "accessor.reset_code",
                target,
                details: &[],
            };
            append(&tx, at, &event).unwrap();
        }
        tx.commit().unwrap();
        let seqs = |f: Filter| -> Vec<i64> {
            search(&conn, &f, 10)
                .unwrap()
                .iter()
                .map(|l| l.seq)
                .collect()
        };
        assert_eq!(seqs(Filter::default()), vec![3, 2, 1]);
        let actor = |a: &str| Filter {
            actor: Some(a.into()),
            ..Filter::default()
        };
        assert_eq!(seqs(actor("CONSOLE:")), vec![3, 2]);
        // Searched as text, not as a pattern.
        assert_eq!(seqs(actor("%")), Vec::<i64>::new());
        let target = Filter {
            target: Some("42000".into()),
            ..Filter::default()
        };
        assert_eq!(seqs(target), vec![3, 1]);
        let days = Filter {
            from: Some("2026-03-02".into()),
            to: Some("2026-03-03".into()),
            ..Filter::default()
        };
        assert_eq!(seqs(days), vec![3, 2], "both days included");
        assert_eq!(verify(&conn).unwrap().entries, 3);
    }
}
