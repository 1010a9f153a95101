//! The durable outbox of e-mails and SMS: a notification is a row written in the transaction
//! of the state change it announces, and a worker delivers it, retrying with backoff until it
//! goes. A crash or a dead SMTP server delays a message, never loses it; a message may arrive
//! twice (at-least-once), always with the same `Message-ID`, so receivers can drop the copy.
//!
//! ```text
//! state change ──tx──▶ enqueue ──▶ enroll_outbox ──▶ deliver_due ──▶ Transport (file | SMTP | SMS gateway)
//!                                   (pending)          (worker)        delivered: body erased
//! ```
//!
//! Bodies hold codes and passwords: they are never logged, hidden from `Debug`, left out of
//! [`list`] and [`show`], and erased from the database once delivered.
//!
//! Erased means gone from every file of the data directory, not just unlinked: the delivering
//! connection has `secure_delete` on, so SQLite overwrites the old body in its page (and zeroes
//! the pages it frees), and the daemon's checkpoint (`store::pool::Pool::checkpoint`, every
//! second) empties the WAL, which still holds the page as it was, as soon as nobody is reading
//! it. We chose this over crypto-shredding (bodies encrypted under a per-message key erased on
//! delivery): a key kept in the database would linger in the same WAL frames as the body, and
//! a key kept elsewhere would be a second store to keep in step with the transaction that
//! queues the message. Erasing then truncating also covers the other erased secrets (a
//! withdrawn `.p12`). Only the file transport's own `outbox/` files keep the message: they
//! are the message.

mod config;
mod error;
mod message;
mod storage;
pub mod templates;
mod transport;
mod worker;

pub use config::{
    MailConfig, MailTransportKind, OutboxConfig, SmsConfig, SmsTransportKind, SmtpTls,
    CONFIG_TEMPLATE,
};
pub use error::{OutboxError, TransportError};
pub use message::{set_message_id_domain, Channel, Message, OutboxId, StoredMessage};
pub use storage::{
    counts, enqueue, list, pending, retry_now, show, DeliveryStatus, OutboxCounts, OutboxDetail,
    OutboxSummary,
};
pub use transport::{
    FileTransport, MemoryTransport, SmsGateway, SmtpTransport, Transport, TransportKind, Transports,
};
pub use worker::{deliver_due, spawn_worker, DeliveryReport, WorkerSignal, BATCH_SIZE};
