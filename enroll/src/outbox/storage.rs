//! All of the outbox's SQL.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde::Serialize;
use time::OffsetDateTime;

use super::message::{mask_recipient, new_message_id};
use super::{Channel, Message, OutboxError, OutboxId, StoredMessage, TransportKind};

/// Whether a message has left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or for a retry.
    Pending,
    /// Handed to its transport; its body is erased.
    Delivered,
}

impl DeliveryStatus {
    /// The name stored in the database and shown by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
        }
    }
}

/// One line of `siseri outbox list`: nothing secret, the recipient masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxSummary {
    /// Its row.
    pub id: OutboxId,
    /// E-mail or SMS.
    pub channel: Channel,
    /// The recipient, mostly hidden (`v.d***@cabinet-durand.example`, `+33 7 ** ** ** 41`).
    pub recipient: String,
    /// The subject of an e-mail.
    pub subject: Option<String>,
    /// Pending or delivered.
    pub status: DeliveryStatus,
    /// Attempts started so far.
    pub attempts: u32,
    /// When a pending message is next tried.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Why the last attempt failed, if one did.
    pub last_error: Option<String>,
    /// When it was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was delivered.
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
}

/// `siseri outbox show ID`: the summary, the `Message-ID` and where the message went. Never
/// the body: that of a file-transport message is in the file at `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxDetail {
    /// What the list shows.
    #[serde(flatten)]
    pub summary: OutboxSummary,
    /// The RFC 5322 `Message-ID`, the same on every attempt.
    pub message_id: String,
    /// The transport that delivered it.
    pub transport: Option<TransportKind>,
    /// The `.eml` or `.json` file written by the file transport.
    pub file: Option<PathBuf>,
}

/// How many messages the outbox holds, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    /// Not delivered yet.
    pub pending: u64,
    /// Not delivered yet, with at least one attempt behind them.
    pub retrying: u64,
    /// Delivered.
    pub delivered: u64,
    /// When the oldest message not delivered yet was queued (Unix time), if any: a backlog
    /// that does not move shows as a growing age.
    pub oldest_pending_at: Option<i64>,
}

/// Queues `message` in the caller's transaction: it exists exactly when the state change that
/// announces it is committed. Its `Message-ID` is drawn here, once for all attempts.
pub fn enqueue(
    tx: &Transaction<'_>,
    message: &Message,
    now: OffsetDateTime,
) -> Result<OutboxId, OutboxError> {
    message.check()?;
    let message_id = new_message_id()?;
    let (recipient, name, subject, body) = match message {
        Message::Mail {
            to,
            to_name,
            subject,
            body,
        } => (to, to_name.as_deref(), Some(subject.as_str()), body),
        Message::Sms { to, text } => (to, None, None, text),
    };
    tx.execute(
        "INSERT INTO enroll_outbox (channel, recipient, recipient_name, subject, body,
             message_id, status, attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7)",
        params![
            message.channel().as_str(),
            recipient,
            name,
            subject,
            body,
            message_id,
            now.unix_timestamp(),
        ],
    )?;
    Ok(OutboxId(tx.last_insert_rowid()))
}

/// Takes the oldest due message, if any, and pushes it to `lease_until` in the same immediate
/// transaction: a second worker, in this process or another, cannot take it before then.
pub(crate) fn claim_next(
    conn: &mut Connection,
    now: OffsetDateTime,
    lease_until: OffsetDateTime,
) -> Result<Option<StoredMessage>, OutboxError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let claimed = tx
        .query_row(
            "UPDATE enroll_outbox
             SET attempts = attempts + 1, next_attempt_at = ?2
             WHERE id = (SELECT id FROM enroll_outbox
                         WHERE status = 'pending' AND next_attempt_at <= ?1
                         ORDER BY id LIMIT 1)
             RETURNING id, channel, recipient, recipient_name, subject, body, message_id,
                       created_at, attempts",
            params![now.unix_timestamp(), lease_until.unix_timestamp()],
            stored_message,
        )
        .optional()?;
    tx.commit()?;
    claimed.transpose()
}

fn stored_message(row: &Row<'_>) -> rusqlite::Result<Result<StoredMessage, OutboxError>> {
    let id: i64 = row.get(0)?;
    let channel: String = row.get(1)?;
    let recipient: String = row.get(2)?;
    let name: Option<String> = row.get(3)?;
    let subject: Option<String> = row.get(4)?;
    let body: Option<String> = row.get(5)?;
    let message_id: String = row.get(6)?;
    let created_at: i64 = row.get(7)?;
    let attempts: i64 = row.get(8)?;
    let corrupt = |problem| OutboxError::Corrupt { id, problem };
    Ok((|| {
        let body = body.ok_or_else(|| corrupt("corps absent"))?;
        let message = match (Channel::parse(&channel), subject) {
            (Some(Channel::Mail), Some(subject)) => Message::Mail {
                to: recipient,
                to_name: name,
                subject,
                body,
            },
            (Some(Channel::Sms), None) => Message::Sms {
                to: recipient,
                text: body,
            },
            _ => return Err(corrupt("canal ou objet incohérent")),
        };
        Ok(StoredMessage {
            id: OutboxId(id),
            message_id,
            message,
            created_at: timestamp(id, created_at)?,
            attempts: u32::try_from(attempts).map_err(|_| corrupt("nombre d'essais"))?,
        })
    })())
}

/// Makes this connection overwrite what it deletes: an erased body is then gone from the
/// database file, not just unlinked from the b-tree.
pub(crate) fn overwrite_erased_content(conn: &Connection) -> Result<(), OutboxError> {
    conn.pragma_update(None, "secure_delete", true)?;
    Ok(())
}

/// Records a delivery and erases the body. Returns false when the message was no longer
/// pending (another worker, whose lease had run out, delivered it first).
pub(crate) fn mark_delivered(
    conn: &Connection,
    id: OutboxId,
    now: OffsetDateTime,
    transport: TransportKind,
    file: Option<&Path>,
) -> Result<bool, OutboxError> {
    let file = file.map(|p| p.to_string_lossy().into_owned());
    let changed = conn.execute(
        "UPDATE enroll_outbox
         SET status = 'delivered', body = NULL, delivered_at = ?2, transport = ?3, file_path = ?4
         WHERE id = ?1 AND status = 'pending'",
        params![id.0, now.unix_timestamp(), transport.as_str(), file],
    )?;
    Ok(changed == 1)
}

/// Records a failed attempt and when to try again; the body stays for the retry.
pub(crate) fn mark_failed(
    conn: &Connection,
    id: OutboxId,
    error: &str,
    retry_at: OffsetDateTime,
) -> Result<bool, OutboxError> {
    let changed = conn.execute(
        "UPDATE enroll_outbox SET last_error = ?2, next_attempt_at = ?3
         WHERE id = ?1 AND status = 'pending'",
        params![id.0, error, retry_at.unix_timestamp()],
    )?;
    Ok(changed == 1)
}

const SUMMARY_COLUMNS: &str = "id, channel, recipient, subject, status, attempts, next_attempt_at,
     last_error, created_at, delivered_at, message_id, transport, file_path";

/// The `limit` most recent messages, newest first.
pub fn list(conn: &Connection, limit: u32) -> Result<Vec<OutboxSummary>, OutboxError> {
    let mut statement = conn.prepare(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM enroll_outbox ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = statement.query_map([limit], detail)?;
    rows.map(|row| row?.map(|d| d.summary)).collect()
}

/// The messages not yet delivered, oldest first (those that failed carry their last error).
pub fn pending(conn: &Connection, limit: u32) -> Result<Vec<OutboxSummary>, OutboxError> {
    let mut statement = conn.prepare(&format!(
        "SELECT {SUMMARY_COLUMNS} FROM enroll_outbox WHERE status = 'pending' ORDER BY id LIMIT ?1"
    ))?;
    let rows = statement.query_map([limit], detail)?;
    rows.map(|row| row?.map(|d| d.summary)).collect()
}

/// Makes a pending message due now (an operator's retry after a failure was fixed), audited
/// under `actor`; false when there is no such pending message.
pub fn retry_now(
    conn: &mut Connection,
    id: OutboxId,
    now: OffsetDateTime,
    actor: &str,
) -> Result<bool, OutboxError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx.execute(
        "UPDATE enroll_outbox SET next_attempt_at = ?2 WHERE id = ?1 AND status = 'pending'",
        params![id.0, now.unix_timestamp()],
    )? == 1;
    if changed {
        store::audit::append(
            &tx,
            now,
            &store::audit::Event {
                actor,
                action: "outbox.retry",
                target: &id.0.to_string(),
                details: &[],
            },
        )?;
    }
    tx.commit()?;
    Ok(changed)
}

/// One message without its body, or `None` when there is no such message.
pub fn show(conn: &Connection, id: OutboxId) -> Result<Option<OutboxDetail>, OutboxError> {
    conn.query_row(
        &format!("SELECT {SUMMARY_COLUMNS} FROM enroll_outbox WHERE id = ?1"),
        [id.0],
        detail,
    )
    .optional()?
    .transpose()
}

/// Pending, retrying and delivered messages.
pub fn counts(conn: &Connection) -> Result<OutboxCounts, OutboxError> {
    Ok(conn.query_row(
        "SELECT count(*) FILTER (WHERE status = 'pending'),
                count(*) FILTER (WHERE status = 'pending' AND attempts > 0),
                count(*) FILTER (WHERE status = 'delivered'),
                min(created_at) FILTER (WHERE status = 'pending')
         FROM enroll_outbox",
        [],
        |row| {
            let count = |i| row.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
            Ok(OutboxCounts {
                pending: count(0)?,
                retrying: count(1)?,
                delivered: count(2)?,
                oldest_pending_at: row.get(3)?,
            })
        },
    )?)
}

fn detail(row: &Row<'_>) -> rusqlite::Result<Result<OutboxDetail, OutboxError>> {
    let id: i64 = row.get(0)?;
    let channel: String = row.get(1)?;
    let recipient: String = row.get(2)?;
    let subject: Option<String> = row.get(3)?;
    let status: String = row.get(4)?;
    let attempts: i64 = row.get(5)?;
    let next_attempt_at: i64 = row.get(6)?;
    let last_error: Option<String> = row.get(7)?;
    let created_at: i64 = row.get(8)?;
    let delivered_at: Option<i64> = row.get(9)?;
    let message_id: String = row.get(10)?;
    let transport: Option<String> = row.get(11)?;
    let file: Option<String> = row.get(12)?;
    let corrupt = |problem| OutboxError::Corrupt { id, problem };
    Ok((|| {
        let channel = Channel::parse(&channel).ok_or_else(|| corrupt("canal inconnu"))?;
        let status = match status.as_str() {
            "pending" => DeliveryStatus::Pending,
            "delivered" => DeliveryStatus::Delivered,
            _ => return Err(corrupt("état inconnu")),
        };
        let transport = transport
            .map(|t| TransportKind::parse(&t).ok_or_else(|| corrupt("transport inconnu")))
            .transpose()?;
        Ok(OutboxDetail {
            summary: OutboxSummary {
                id: OutboxId(id),
                channel,
                recipient: mask_recipient(channel, &recipient),
                subject,
                status,
                attempts: u32::try_from(attempts).map_err(|_| corrupt("nombre d'essais"))?,
                next_attempt_at: match status {
                    DeliveryStatus::Pending => Some(timestamp(id, next_attempt_at)?),
                    DeliveryStatus::Delivered => None,
                },
                last_error,
                created_at: timestamp(id, created_at)?,
                delivered_at: delivered_at.map(|t| timestamp(id, t)).transpose()?,
            },
            message_id,
            transport,
            file: file.map(PathBuf::from),
        })
    })())
}

fn timestamp(id: i64, unix: i64) -> Result<OffsetDateTime, OutboxError> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| OutboxError::Corrupt {
        id,
        problem: "date hors limites",
    })
}
