//! Signed récépissés de transmission (issue 16 §2).
//!
//! ```text
//!   ingest (web-facing)            signer process (holds CA key + receipt key)
//!   Authority::sign_receipt ──────▶ Request::Receipt { canonical JSON }
//!                                   ├─ Recepisse::from_signed_bytes (bounded, canonical, checked)
//!                                   ├─ CMS SignedData: id-data attached, contentType,
//!                                   │  messageDigest, signingTime; ECDSA P-256 / SHA-256
//!                                   └─ audited in signer-audit.db ("signer.receipt")
//!   verify_receipt (lint) ◀──────── DER
//! ```
//!
//! The receipt key is not the CA key: AC SISERI certifies it under the `receipt` profile
//! (digitalSignature + nonRepudiation, emailProtection only), so that a récépissé verifies
//! with `openssl cms -verify -CAfile ac-siseri.pem` and nothing else can be done with it. The
//! signer makes the key at its first start (`ca/recepisse.key.pem`, encrypted like the CA
//! key) and has its certificate issued, recorded before it is signed, whenever none is valid
//! for 30 more days ([`Authority::ensure_receipt_certificate`]).

mod cms;
mod document;
mod key;

use std::sync::{Arc, RwLock};

use rusqlite::Connection;
use time::OffsetDateTime;

pub use self::cms::{verify_receipt, verify_receipt_signed, VerifiedReceipt};
pub use self::document::{
    ReceiptSender, Recepisse, RejectedLine, MAX_DOCUMENT_BYTES, MAX_REJECTED_LINES,
};
use self::key::{certificates_of, ReceiptCertificate};
pub use self::key::{ReceiptKey, RECEIPT_RENEWAL_MARGIN};
use crate::error::lint;
use crate::{Authority, Error, IssueRequest, Result, Serial, Subject};

/// The receipt key and its certificate in force, in the process that holds the CA key.
#[derive(Debug, Default)]
pub(crate) struct ReceiptSlot {
    key: RwLock<Option<Arc<ReceiptKey>>>,
    certificate: RwLock<Option<ReceiptCertificate>>,
}

/// What [`Authority::ensure_receipt_certificate`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptRenewal {
    /// The new contents of the certificates file (`ca/recepisse.pem`): the certificate in
    /// force first, then the older ones not yet expired.
    pub file_pem: String,
    /// The certificate just issued, if one was.
    pub issued: Option<Serial>,
}

impl Authority {
    /// Gives the key holder its receipt key (the signer, at start), or a new one in place of
    /// a key whose certificate was revoked; no certificate is in force until
    /// [`ensure_receipt_certificate`](Self::ensure_receipt_certificate) finds or issues one.
    pub fn install_receipt_key(&self, key: ReceiptKey) -> Result<()> {
        if !self.holds_key() {
            return Err(lint("la clé des récépissés va avec celle de l'AC"));
        }
        *self.receipt.key.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(key));
        *self
            .receipt
            .certificate
            .write()
            .unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    }

    fn receipt_key(&self) -> Option<Arc<ReceiptKey>> {
        self.receipt
            .key
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The receipt key labelled `label` in the PKCS#11 token holding the CA key (made there if
    /// missing), when the CA key is in a token.
    pub fn receipt_key_in_token(&self, label: &str) -> Result<Option<ReceiptKey>> {
        match &self.key {
            crate::authority::Key::Token(token) => ReceiptKey::in_token(token, label).map(Some),
            _ => Ok(None),
        }
    }

    /// Makes sure a certificate of the installed receipt key is valid for
    /// [`RECEIPT_RENEWAL_MARGIN`] more: the newest such one in `file_pem` (the certificates
    /// file's contents, if any), else a new one issued now (recorded in `conn`'s database,
    /// committed, then signed, as every issuance). Returns what to write back when the file
    /// must change (a new certificate, expired ones dropped).
    pub fn ensure_receipt_certificate(
        &self,
        conn: &mut Connection,
        file_pem: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Option<ReceiptRenewal>> {
        let key = self
            .receipt_key()
            .ok_or_else(|| lint("aucune clé des récépissés installée"))?;
        let all = file_pem.map(certificates_of).unwrap_or_default();
        // A revoked certificate of this key (keyCompromise, say) is not followed by another
        // for the same key: the key must be replaced, and nothing is signed meanwhile.
        for c in all.iter().filter(|c| c.spki == key.public().spki_der()) {
            if let Some(record) = crate::storage::find(conn, &c.serial)? {
                if matches!(record.status, crate::CertificateStatus::Revoked { .. }) {
                    *self
                        .receipt
                        .certificate
                        .write()
                        .unwrap_or_else(|p| p.into_inner()) = None;
                    return Err(Error::ReceiptKeyRevoked {
                        serial: c.serial.to_hex(),
                    });
                }
            }
        }
        let mut kept: Vec<ReceiptCertificate> =
            all.iter().filter(|c| c.not_after > now).cloned().collect();
        let current = kept
            .iter()
            .filter(|c| c.spki == key.public().spki_der())
            .filter(|c| c.not_after - now >= RECEIPT_RENEWAL_MARGIN)
            .max_by_key(|c| c.not_after)
            .cloned();
        let issued = match current {
            Some(current) => {
                self.set_receipt_certificate(current);
                None
            }
            None => {
                let issued = self.issue(
                    conn,
                    &IssueRequest {
                        subject: Subject::Receipt,
                        key: key.public(),
                        requester: "signer:recepisse",
                    },
                    now,
                )?;
                let fresh = ReceiptCertificate {
                    serial: issued.serial.clone(),
                    der: issued.der.clone(),
                    spki: key.public().spki_der().to_vec(),
                    not_after: issued.not_after,
                };
                kept.insert(0, fresh.clone());
                self.set_receipt_certificate(fresh);
                Some(issued.serial)
            }
        };
        if issued.is_none() && kept.len() == all.len() {
            return Ok(None);
        }
        // In force first (what `openssl x509 -in ca/recepisse.pem` shows), then the others.
        kept.sort_by_key(|c| std::cmp::Reverse(c.not_after));
        let file_pem = kept
            .iter()
            .map(|c| crate::to_pem("CERTIFICATE", &c.der))
            .collect();
        Ok(Some(ReceiptRenewal { file_pem, issued }))
    }

    fn set_receipt_certificate(&self, certificate: ReceiptCertificate) {
        *self
            .receipt
            .certificate
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(certificate);
    }

    /// The serial of the receipt certificate in force, if this process holds the receipt key:
    /// the signer checks in the database, before each récépissé, that it is not revoked.
    pub fn receipt_certificate_serial(&self) -> Option<Serial> {
        self.receipt
            .certificate
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|c| c.serial.clone())
    }

    /// The receipt certificate in force (DER), if this process holds the receipt key.
    pub fn receipt_certificate(&self) -> Option<Vec<u8>> {
        self.receipt
            .certificate
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|c| c.der.clone())
    }

    /// Signs `recepisse`: a CMS SignedData (DER) with the récépissé attached, signed by the
    /// receipt key, here or by the signer. Checked before it is released: it verifies against
    /// AC SISERI and says exactly what was asked. `now` is the signing time where the key is
    /// held here; a signer process uses its own clock.
    pub fn sign_receipt(&self, recepisse: &Recepisse, now: OffsetDateTime) -> Result<Vec<u8>> {
        let document = recepisse.to_signed_bytes().map_err(Error::Receipt)?;
        let der = match &self.key {
            crate::authority::Key::Signer(signer) => {
                signer.call(&crate::signer::Request::Receipt { document })?
            }
            _ => self.receipt_signature(&document, now)?.0,
        };
        let verified = verify_receipt(&der, &self.cert_der).map_err(|e| lint(e.to_string()))?;
        if verified != *recepisse {
            return Err(lint("le récépissé signé ne dit pas ce qui a été demandé"));
        }
        Ok(der)
    }

    /// The key holder's half of [`sign_receipt`](Self::sign_receipt): `document` parsed and
    /// checked (bounded, canonical, consistent), signed, the result verified. Returns the DER
    /// and the récépissé's number.
    pub(crate) fn receipt_signature(
        &self,
        document: &[u8],
        now: OffsetDateTime,
    ) -> Result<(Vec<u8>, String)> {
        let key = match (self.holds_key(), self.receipt_key()) {
            (true, Some(key)) => key,
            _ => {
                return Err(Error::SignerUnavailable(
                    "aucune clé des récépissés détenue ici".into(),
                ))
            }
        };
        let recepisse = Recepisse::from_signed_bytes(document).map_err(Error::SignerRefused)?;
        let certificate = self
            .receipt
            .certificate
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|c| c.not_after > now)
            .ok_or_else(|| {
                Error::SignerUnavailable(
                    "aucun certificat des récépissés en cours de validité".into(),
                )
            })?;
        let der = cms::build(document, &certificate.der, &self.cert_der, now, |m| {
            key.sign(m)
        })?;
        verify_receipt(&der, &self.cert_der).map_err(|e| lint(e.to_string()))?;
        Ok((der, recepisse.number))
    }
}

#[cfg(test)]
mod tests;
