//! The récépissé itself: what SISERI says it received, as the JSON object the receipt key
//! signs. Parsed at the edge ([`Recepisse::from_signed_bytes`]): whoever asks for a signature
//! and whoever verifies one get a value that passed every check below, or a French sentence
//! that does not repeat what was sent.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// At most this many rejected lines listed in one récépissé (a million-line file wholly
/// refused); a bigger file is the sender's to split.
pub const MAX_REJECTED_LINES: usize = 1_000_000;
/// At most this many lines counted in one récépissé.
pub const MAX_LINES: u64 = 100_000_000;
/// The largest récépissé document, in bytes: a million rejected lines of a short reason.
pub const MAX_DOCUMENT_BYTES: usize = 128 * 1024 * 1024;
/// The longest reason given for a rejected line, in characters.
pub const MAX_REASON_CHARS: usize = 300;
/// The longest sender subject (a certificate's distinguished name, as text), in characters.
pub const MAX_SUBJECT_CHARS: usize = 1024;

/// A récépissé de transmission (issue 16 §2): a number, the reception time, the SHA-256 of the
/// file as received, the sender, the counts of lines accepted, pending and rejected, and each
/// rejected line with its number and a French reason.
///
/// Its JSON form is canonical: fields in this order, no spaces, `received_at` in RFC 3339 UTC
/// whole seconds (`2026-12-06T12:00:00Z`). The signer signs only that form, so that two
/// signatures of one récépissé sign the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recepisse {
    /// `RT-AAAA-NNNNNNNNN`: `RT`, the year of reception, a sequence of nine digits.
    pub number: String,
    /// When the whole file was received (UTC, whole seconds).
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// SHA-256 of the file as received, 64 lower-case hexadecimal digits.
    pub file_sha256: String,
    /// Who sent it: their certificate.
    pub sender: ReceiptSender,
    /// Lines recorded.
    pub accepted: u64,
    /// Lines kept pending (a NIR the establishment has not declared yet).
    pub pending: u64,
    /// Lines refused: as many as `rejected_lines`.
    pub rejected: u64,
    /// Each refused line, in increasing line order.
    pub rejected_lines: Vec<RejectedLine>,
}

/// The sender of a transmission, as its client certificate names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptSender {
    /// The certificate's subject, e.g. `C=FR, O=SISERI, CN=Laboratoire de dosimétrie`.
    pub subject: String,
    /// The certificate's serial number, upper-case hexadecimal (as OpenSSL prints it).
    pub serial: String,
}

/// A line of the file that was refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectedLine {
    /// Its number in the file (the first line is 1).
    pub line: u64,
    /// Why, in French, for the sender (never the line's personal data).
    pub reason: String,
}

impl Recepisse {
    /// The canonical JSON the receipt key signs. Fails only if [`check`](Self::check) does.
    pub fn to_signed_bytes(&self) -> Result<Vec<u8>, String> {
        self.check()?;
        serde_json::to_vec(self).map_err(|_| "récépissé impossible à écrire".to_owned())
    }

    /// A récépissé from its signed bytes: bounded, well-formed, canonical, and passing
    /// [`check`](Self::check).
    pub fn from_signed_bytes(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err("récépissé trop volumineux".into());
        }
        let recepisse: Self = serde_json::from_slice(bytes)
            .map_err(|_| "récépissé illisible (objet JSON attendu, champs connus)".to_owned())?;
        recepisse.check()?;
        if serde_json::to_vec(&recepisse).ok().as_deref() != Some(bytes) {
            return Err("récépissé non canonique (ordre des champs, espaces, date)".into());
        }
        Ok(recepisse)
    }

    /// Every rule a récépissé obeys; the first broken one, in French.
    pub fn check(&self) -> Result<(), String> {
        if !number_is_valid(&self.number) {
            return Err("numéro de récépissé invalide (attendu : RT-AAAA-NNNNNNNNN)".into());
        }
        if self.received_at.offset() != time::UtcOffset::UTC || self.received_at.nanosecond() != 0 {
            return Err("date de réception non UTC ou non arrondie à la seconde".into());
        }
        if self.number[3..7] != self.received_at.year().to_string() {
            return Err("l'année du numéro diffère de celle de la réception".into());
        }
        let lower_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if self.file_sha256.len() != 64 || !self.file_sha256.chars().all(lower_hex) {
            return Err("SHA-256 du fichier invalide (64 chiffres hexadécimaux minuscules)".into());
        }
        let subject = &self.sender.subject;
        if subject.trim().is_empty()
            || subject.chars().count() > MAX_SUBJECT_CHARS
            || subject.chars().any(crate::is_forbidden)
        {
            return Err(
                "sujet de l'expéditeur vide, trop long ou avec un caractère interdit".into(),
            );
        }
        let serial = &self.sender.serial;
        let upper_hex = |c: char| c.is_ascii_digit() || ('A'..='F').contains(&c);
        if serial.is_empty()
            || serial.len() > 40
            || serial.len() % 2 != 0
            || !serial.chars().all(upper_hex)
        {
            return Err("numéro de série de l'expéditeur invalide (hexadécimal majuscule)".into());
        }
        let total = self
            .accepted
            .checked_add(self.pending)
            .and_then(|n| n.checked_add(self.rejected))
            .filter(|n| *n <= MAX_LINES)
            .ok_or_else(|| "nombre de lignes hors limites".to_owned())?;
        if self.rejected_lines.len() > MAX_REJECTED_LINES {
            return Err("trop de lignes refusées listées".into());
        }
        if self.rejected != self.rejected_lines.len() as u64 {
            return Err("le nombre de lignes refusées diffère des lignes listées".into());
        }
        let mut previous = 0;
        for rejected in &self.rejected_lines {
            if rejected.line <= previous {
                return Err("numéros des lignes refusées non croissants ou nuls".into());
            }
            previous = rejected.line;
            let reason = &rejected.reason;
            if reason.trim().is_empty()
                || reason.chars().count() > MAX_REASON_CHARS
                || reason.chars().any(crate::is_forbidden)
            {
                return Err("motif de refus vide, trop long ou avec un caractère interdit".into());
            }
        }
        // A line number beyond the file's lines (a header line aside) cannot be.
        if previous > total.saturating_add(1) {
            return Err("numéro de ligne refusée au-delà des lignes du fichier".into());
        }
        Ok(())
    }
}

/// `RT-AAAA-NNNNNNNNN`.
fn number_is_valid(number: &str) -> bool {
    let b = number.as_bytes();
    b.len() == 17
        && b.starts_with(b"RT-")
        && b[3..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Recepisse {
        Recepisse {
            number: "RT-2026-000000042".into(),
            received_at: time::macros::datetime!(2026-12-06 12:00:00 UTC),
            file_sha256: "ab".repeat(32),
            sender: ReceiptSender {
                subject: "C=FR, O=SISERI, CN=Laboratoire de dosimétrie".into(),
                serial: "7F01A2".into(),
            },
            accepted: 10,
            pending: 2,
            rejected: 2,
            rejected_lines: vec![
                RejectedLine {
                    line: 4,
                    reason: "clé du NIR invalide".into(),
                },
                RejectedLine {
                    line: 9,
                    reason: "nom différent de celui du travailleur déclaré".into(),
                },
            ],
        }
    }

    #[test]
    fn a_good_recepisse_round_trips_through_its_canonical_bytes() {
        let r = sample();
        let bytes = r.to_signed_bytes().unwrap();
        assert!(bytes
            .starts_with(br#"{"number":"RT-2026-000000042","received_at":"2026-12-06T12:00:00Z""#));
        assert_eq!(Recepisse::from_signed_bytes(&bytes).unwrap(), r);
    }

    #[test]
    fn every_broken_rule_is_refused() {
        type Mutation = fn(&mut Recepisse);
        let cases: &[(&str, Mutation)] = &[
            ("numéro", |r| r.number = "RT-2026-42".into()),
            ("numéro", |r| r.number = "XX-2026-000000042".into()),
            ("année", |r| r.number = "RT-2025-000000042".into()),
            ("UTC", |r| {
                r.received_at = r.received_at.to_offset(time::macros::offset!(+1))
            }),
            ("seconde", |r| {
                r.received_at += time::Duration::milliseconds(5)
            }),
            ("SHA-256", |r| r.file_sha256 = "AB".repeat(32)),
            ("SHA-256", |r| r.file_sha256 = "ab".repeat(31)),
            ("sujet", |r| r.sender.subject = "CN=a\u{202e}b".into()),
            ("sujet", |r| r.sender.subject = " ".into()),
            ("série", |r| r.sender.serial = "7f01a2".into()),
            ("série", |r| r.sender.serial = "7F0".into()),
            ("diffère", |r| r.rejected = 3),
            ("diffère", |r| r.rejected_lines.truncate(1)),
            ("croissants", |r| r.rejected_lines[1].line = 4),
            ("croissants", |r| r.rejected_lines[0].line = 0),
            ("motif", |r| r.rejected_lines[0].reason = "x\u{7}".into()),
            ("motif", |r| r.rejected_lines[0].reason = "é".repeat(301)),
            ("au-delà", |r| r.rejected_lines[1].line = 16),
            ("hors limites", |r| r.accepted = u64::MAX),
        ];
        for (expected, mutate) in cases {
            let mut r = sample();
            mutate(&mut r);
            let why = r.check().unwrap_err();
            assert!(why.contains(expected), "{expected}: {why}");
            assert!(r.to_signed_bytes().is_err());
        }
    }

    #[test]
    fn foreign_padded_or_unknown_json_is_refused_without_echoing_it() {
        let good = sample().to_signed_bytes().unwrap();
        let text = String::from_utf8(good.clone()).unwrap();
        let spaced = text.replace(",\"", ", \"");
        let extra = text.replacen('{', r#"{"note":"<script>",""#, 1);
        let duplicated = text.replacen('{', r#"{"number":"RT-2026-000000001","#, 1);
        for bad in [
            spaced.as_bytes(),
            extra.as_bytes(),
            duplicated.as_bytes(),
            b"[]",
            b"\xff",
        ] {
            let why = Recepisse::from_signed_bytes(bad).unwrap_err();
            assert!(
                !why.contains("script") && !why.contains("000000001"),
                "{why}"
            );
        }
        assert!(Recepisse::from_signed_bytes(&good).is_ok());
    }
}
