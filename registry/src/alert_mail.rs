//! The e-mail that tells the physicians and PCRs of an establishment that a limit alert awaits
//! them in the registry. The registry asks; the binary plugs in the durable outbox (`enroll`),
//! the way it plugs in the [`crate::Directory`]. The e-mail says only that an alert awaits:
//! no dose, no name, nothing of the worker.

use std::fmt;

use time::OffsetDateTime;

use crate::directory::DirectoryError;

/// Where alert e-mails are queued.
pub trait AlertMail: Send + Sync + fmt::Debug {
    /// Queues, in `tx` (the transaction that records the alert, so that the e-mail exists
    /// exactly when the alert does), one e-mail to each PCR and physician attached to
    /// `establishment`. Returns how many were queued.
    fn queue(
        &self,
        tx: &rusqlite::Transaction<'_>,
        establishment: i64,
        now: OffsetDateTime,
    ) -> Result<usize, DirectoryError>;
}

/// The subject of the e-mail.
pub const ALERT_MAIL_SUBJECT: &str = "SISERI : une alerte de dépassement de limite vous attend";

/// Its text, before the outbox's greeting and signature: nothing of the worker nor of the dose.
pub const ALERT_MAIL_BODY: &str = "Une alerte de dépassement d'une limite réglementaire de dose \
concerne un travailleur d'un établissement que vous suivez.\n\nConnectez-vous au registre SISERI \
avec votre certificat pour la consulter (menu « Alertes »). Par confidentialité, ce message ne \
contient aucune information sur le travailleur ni sur sa dose.\n";
