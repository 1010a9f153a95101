//! Transmissions of results (issue 16): a whole file of results sent over mutual TLS by a
//! dosimetry body, a PCR or a physician, checked line by line, and answered by a signed
//! récépissé.
//!
//! ```text
//!  POST /api/v1/transmissions ──stream──▶ format::LineReader (SHA-256 as it reads, bounded lines)
//!        │   reading thread: line::check (format, NIR key, names, kind, period), line by line
//!        │                                         │ batches of 64 lines, in order
//!        │                                         ▼
//!        │   lookup thread: the sender's right for each line's SIRET and kind, then one
//!        │   statement per batch (storage_transmissions::Lookup): person, employment, the
//!        │   results in the windows; identity (reads only)
//!        │                                         │ batches of 64 lines, in order
//!        │                                         ▼
//!        │   Registry::receive_transmission's recording thread (duplicates, pending, limits)
//!        │          ── one transaction ──▶ registry_doses, registry_transmission_pending
//!        │                                         ▼
//!        └──────────── ReceiptSigner (the binary: ca::Authority::sign_receipt) ──▶ DER CMS
//! ```
//!
//! The registry never depends on `ca`: it writes the récépissé's canonical JSON
//! ([`receipt_document`], the same bytes as `ca::Recepisse::to_signed_bytes`) and asks a
//! [`ReceiptSigner`] to sign it. The document is recorded before it is signed; a récépissé
//! whose signature failed is signed when it is next asked for.
//!
//! **Who may send what, for which SIRET** (each line; [`crate::policy`] decides the kinds):
//!
//! | sender | establishments it may send for | kinds (the matrix's write column) |
//! |---|---|---|
//! | dosimetry body (`organisme` certificate) | those that named it (`registry_dosimetry_bodies`) | passive, radon, no_result |
//! | PCR | where they hold the role and the protocol ticks *Envoi des informations dosimétriques* | operational, aircrew |
//! | physician | where they hold the role | internal, effective, equivalent |
//!
//! A SIRET the sender may not send for gets one and the same reason whether the establishment
//! exists or not.
//!
//! **§3, absence de résultat.** A *period* is, for each employment of a classified worker
//! (category A or B) in an establishment that named at least one dosimetry body, each calendar
//! month (category A) or calendar quarter (category B) that meets the employment — the longest
//! wear period of a passive dosimeter for that category. It is *missing* when, 20 days after
//! its last day, no current passive, radon or *absence de résultat* result of that employment
//! meets it. Only the periods of the last 12 months are looked at.

pub(crate) mod format;
pub(crate) mod line;

use std::fmt;

use serde::Serialize;
use time::{Date, Month};

pub use format::{TransmissionFormat, TRANSMISSION_HEADER};
pub use line::REFERENCE_MAX;

use crate::directory::DirectoryError;
use crate::dose::DoseKind;
use crate::policy::{allows, Action, Role};
use crate::principal::Principal;

/// The most lines one transmission may hold: a bigger file is the sender's to split (a
/// récépissé lists at most a million refused lines).
pub const MAX_TRANSMISSION_LINES: u64 = 1_000_000;
/// The largest récépissé document the signer takes (`ca::receipt`'s bound).
pub(crate) const MAX_DOCUMENT_BYTES: usize = 128 * 1024 * 1024;
/// The longest reason of a refused line (`ca::receipt`'s bound), and the shorter one used once
/// many lines are refused, so that a wholly refused million-line file still has a récépissé
/// within [`MAX_DOCUMENT_BYTES`].
pub(crate) const REASON_CHARS: usize = 300;
pub(crate) const REASON_CHARS_MANY: usize = 80;
/// Past this many refused lines, reasons are cut to [`REASON_CHARS_MANY`].
pub(crate) const MANY_REJECTED: usize = 100_000;

/// `reason` cut to `max` characters (an ellipsis marking the cut).
pub(crate) fn cut(reason: &mut String, max: usize) {
    if reason.chars().count() > max {
        let keep: String = reason.chars().take(max - 1).collect();
        *reason = format!("{keep}…");
    }
}

/// Days after a period's end before its missing result is reported.
pub const MISSING_AFTER_DAYS: i64 = 20;

/// Signs a récépissé's canonical JSON (the binary implements it over `ca::Authority`).
pub trait ReceiptSigner: Send + Sync + fmt::Debug {
    /// The CMS SignedData (DER) of `document`.
    fn sign(&self, document: &[u8]) -> Result<Vec<u8>, DirectoryError>;
}

/// Who sends a transmission: the principal (a body attached to every establishment it might
/// serve, a person with their attachments), their certificate, and the establishments they
/// might send for with each one's SIRET.
#[derive(Debug, Clone)]
pub struct TransmissionSender {
    /// The caller, as the service checks it.
    pub principal: Principal,
    /// The certificate's subject, as text.
    pub subject: String,
    /// The certificate's serial, upper-case hexadecimal.
    pub serial: String,
    /// The establishments they might send for (the service checks each again).
    pub establishments: Vec<SenderEstablishment>,
}

/// One establishment a sender might send for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderEstablishment {
    /// Its id (the protocol's).
    pub id: i64,
    /// Its employer's SIRET, as the protocol in force says.
    pub siret: String,
    /// The protocol ticks *Envoi des informations dosimétriques* for this PCR.
    pub sends_dosimetry: bool,
}

/// A récépissé as the sender gets it.
#[derive(Debug, Clone)]
pub struct SignedReceipt {
    /// `RT-AAAA-NNNNNNNNN`.
    pub number: String,
    /// CMS SignedData, DER.
    pub der: Vec<u8>,
}

/// A transmission as the operators list it.
#[derive(Debug, Clone, Serialize)]
pub struct TransmissionSummary {
    /// Récépissé number.
    pub number: String,
    /// `organisme:NAME` or `accessor:N`.
    pub sender: String,
    /// Certificate subject.
    pub sender_subject: String,
    /// Certificate serial.
    pub sender_serial: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Reception time.
    pub received_at: String,
    /// `csv` or `json`.
    pub format: String,
    /// Lines read.
    pub lines: i64,
    /// Lines recorded.
    pub accepted: i64,
    /// Lines kept pending on reception.
    pub pending: i64,
    /// Lines refused.
    pub rejected: i64,
    /// Whether the récépissé is signed.
    pub signed: bool,
    /// Lines still pending now.
    pub still_pending: i64,
}

/// A pending line, for the operators (the NIR masked).
#[derive(Debug, Clone, Serialize)]
pub struct PendingLine {
    /// The transmission's number.
    pub transmission: String,
    /// Line in the file.
    pub line: i64,
    /// The establishment it is for.
    pub establishment: i64,
    /// The NIR masked but for its first digit (the sex).
    pub nir_masked: String,
    /// Kind of result.
    pub kind: String,
    /// Period.
    pub period_start: String,
    /// Period.
    pub period_end: String,
    /// When it arrived.
    pub received_at: String,
    /// `pending`, `attached` or `refused`.
    pub state: String,
    /// Why it was refused once declared.
    pub reason: Option<String>,
}

/// A period with neither result nor *absence de résultat* (§3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingPeriod {
    /// The establishment.
    pub establishment: i64,
    /// The employment (worker id in that establishment).
    pub worker_id: i64,
    /// `NOM Prénom`, as the employer declared it (the operators' listing does not show it).
    pub worker_name: String,
    /// First day.
    #[serde(with = "crate::date::serde_french")]
    pub period_start: Date,
    /// Last day.
    #[serde(with = "crate::date::serde_french")]
    pub period_end: Date,
}

/// The canonical JSON of a récépissé, exactly as `ca::Recepisse` writes it (fields in order,
/// no spaces): what the receipt key signs.
#[derive(Serialize)]
pub(crate) struct ReceiptDocument<'a> {
    pub number: &'a str,
    pub received_at: &'a str,
    pub file_sha256: &'a str,
    pub sender: DocumentSender<'a>,
    pub accepted: u64,
    pub pending: u64,
    pub rejected: u64,
    pub rejected_lines: &'a [RejectedLine],
}

#[derive(Serialize)]
pub(crate) struct DocumentSender<'a> {
    pub subject: &'a str,
    pub serial: &'a str,
}

/// A refused line.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RejectedLine {
    pub line: u64,
    pub reason: String,
}

/// Why a role may not send a kind of result for an establishment it holds it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotSent {
    /// The matrix does not let this role write this kind.
    Kind,
    /// A PCR whose protocol does not tick *Envoi des informations dosimétriques*.
    NoEnvoi,
}

/// Whether `role`, held in an establishment, may send a result of `kind` there: the matrix's
/// write column ([`crate::policy`]), and for a PCR the protocol's *envoi* box (`sends`). The
/// module's table, one test per cell.
pub(crate) fn may_send(role: Role, kind: DoseKind, sends: bool) -> Result<(), NotSent> {
    if !allows(role, kind.data_kind(), Action::Write) {
        return Err(NotSent::Kind);
    }
    if role == Role::Pcr && !sends {
        return Err(NotSent::NoEnvoi);
    }
    Ok(())
}

/// The calendar periods of `category` (`A`: months, `B`: quarters) that meet `[from, to]`.
pub(crate) fn periods(category: &str, from: Date, to: Date) -> Vec<(Date, Date)> {
    let months = if category == "A" { 1 } else { 3 };
    let mut out = Vec::new();
    let first_month = (u8::from(from.month()) - 1) / months * months + 1;
    let (mut year, mut month) = (from.year(), first_month);
    while let Ok(m) = Month::try_from(month) {
        let Ok(start) = Date::from_calendar_date(year, m, 1) else {
            break;
        };
        if start > to {
            break;
        }
        let end = crate::date::last_day_within_months(start, months);
        out.push((start, end));
        month += months;
        if month > 12 {
            month -= 12;
            year += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    /// The module's table of who sends what, cell by cell: every role, every kind, with and
    /// without the *envoi* box.
    #[test]
    fn each_role_sends_exactly_the_kinds_of_its_row() {
        use DoseKind::*;
        let body = [Passive, Radon, NoResult];
        let pcr = [Operational, Aircrew];
        let physician = [Internal, Effective, Equivalent];
        for kind in DoseKind::ALL {
            for sends in [false, true] {
                let expect = |allowed: &[DoseKind]| {
                    if allowed.contains(&kind) {
                        Ok(())
                    } else {
                        Err(NotSent::Kind)
                    }
                };
                assert_eq!(may_send(Role::DosimetryBody, kind, sends), expect(&body));
                assert_eq!(may_send(Role::Mdt, kind, sends), expect(&physician));
                assert_eq!(may_send(Role::Cse, kind, sends), Err(NotSent::Kind));
                let pcr_expected = match expect(&pcr) {
                    Ok(()) if !sends => Err(NotSent::NoEnvoi),
                    other => other,
                };
                assert_eq!(
                    may_send(Role::Pcr, kind, sends),
                    pcr_expected,
                    "{kind:?} {sends}"
                );
            }
        }
    }

    #[test]
    fn reasons_are_cut_on_a_character_boundary() {
        let mut r = "é".repeat(400);
        cut(&mut r, REASON_CHARS);
        assert_eq!(r.chars().count(), REASON_CHARS);
        assert!(r.ends_with('…'));
        let mut short = "Ligne vide.".to_owned();
        cut(&mut short, REASON_CHARS);
        assert_eq!(short, "Ligne vide.");
    }

    #[test]
    fn category_a_periods_are_months_and_b_quarters() {
        let a = periods("A", date!(2026 - 01 - 15), date!(2026 - 03 - 02));
        assert_eq!(
            a,
            [
                (date!(2026 - 01 - 01), date!(2026 - 01 - 31)),
                (date!(2026 - 02 - 01), date!(2026 - 02 - 28)),
                (date!(2026 - 03 - 01), date!(2026 - 03 - 31)),
            ]
        );
        let b = periods("B", date!(2025 - 11 - 15), date!(2026 - 01 - 02));
        assert_eq!(
            b,
            [
                (date!(2025 - 10 - 01), date!(2025 - 12 - 31)),
                (date!(2026 - 01 - 01), date!(2026 - 03 - 31)),
            ]
        );
    }
}
