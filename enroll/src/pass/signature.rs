//! The SMS signature bound to the exact Annexe 1: the code sent to the legal representative,
//! the signature that fixes the version, and the signed document as a PDF.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{
    from_json, immediate, key_name_for, storage, Audit, Client, DocumentKind, Pass, PassError,
    Status, SIGNATURE_CODE,
};
use crate::outbox;

/// Sent-code confirmation.
#[derive(Debug, Clone, Serialize)]
pub struct CodeSent {
    /// Until when the code works.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Where it went, masked.
    pub phone: String,
}

/// The result of a signature.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    /// Protocol number.
    pub number: String,
    /// Key name (*nom clé*).
    pub key_name: String,
    /// Version number.
    pub version: i64,
    /// SHA-256 of the signed Annexe 1.
    pub document_sha256: String,
}

impl Pass {
    /// Sends the signature code by SMS to the legal representative's mobile, after checking the
    /// protocol is complete, the documents are there and the acceptance box is ticked.
    pub fn request_code(&self, id: &str, consent: bool) -> Result<CodeSent, PassError> {
        if !consent {
            return Err(PassError::ConsentRequired);
        }
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::find_draft(&tx, id)?;
        let (annexe, protocol) = self.annexe_of(&tx, &row)?;
        let docs = storage::documents(&tx, id)?;
        let missing: Vec<_> = [DocumentKind::Kbis, DocumentKind::Identity]
            .into_iter()
            .filter(|k| !docs.iter().any(|d| d.kind == *k))
            .map(|k| k.label())
            .collect();
        if !missing.is_empty() {
            return Err(PassError::MissingDocuments(missing.join(", ")));
        }
        let window = now - Duration::hours(1);
        let bucket = format!("code-request:{id}");
        let limit = i64::from(self.config.code_requests_per_hour);
        if crate::db::rate_count(&tx, &bucket, window)? >= limit {
            return Err(PassError::TooManyRequests {
                retry_after_minutes: 60,
            });
        }
        let phone = protocol.legal_representative.mobile.e164().to_owned();
        // One number cannot be bombarded through many drafts: counted per destination too.
        for (name, window, limit) in [
            (
                "sms-number-hour",
                Duration::hours(1),
                self.config.sms_per_number_per_hour,
            ),
            (
                "sms-number-day",
                Duration::days(1),
                self.config.sms_per_number_per_day,
            ),
        ] {
            let bucket = format!("{name}:{phone}");
            if crate::db::rate_count(&tx, &bucket, now - window)? >= i64::from(limit) {
                return Err(PassError::TooManyRequests {
                    retry_after_minutes: window.whole_minutes(),
                });
            }
        }
        crate::db::rate_event(&tx, &bucket, now, window)?;
        crate::db::rate_event(
            &tx,
            &format!("sms-number-hour:{phone}"),
            now,
            now - Duration::hours(1),
        )?;
        crate::db::rate_event(
            &tx,
            &format!("sms-number-day:{phone}"),
            now,
            now - Duration::days(1),
        )?;
        let code = store::random::digits(6)?;
        let expires_at = now + Duration::minutes(i64::from(self.config.code_ttl_minutes));
        storage::put_code(
            &tx,
            id,
            &self.key.hash(SIGNATURE_CODE, &code),
            &annexe.sha256(),
            &phone,
            now,
            expires_at,
        )?;
        outbox::enqueue(
            &tx,
            &outbox::templates::signature_code_sms(
                &protocol.legal_representative.mobile,
                &code,
                self.config.code_ttl_minutes,
            ),
            now,
        )?;
        tx.commit()?;
        Ok(CodeSent {
            expires_at,
            phone: protocol.legal_representative.mobile.masked(),
        })
    }

    /// Checks the code and signs: the version becomes immutable, gets its number and key name
    /// (a new protocol's at its first signature), and the evidence is kept.
    pub fn sign(&self, id: &str, code: &str, client: &Client) -> Result<Signed, PassError> {
        let now = self.now();
        let mut conn = self.pool.get()?;
        let tx = immediate(&mut conn)?;
        let row = storage::find_draft(&tx, id)?;
        let pending = storage::find_code(&tx, id)?.ok_or(PassError::NoPendingCode)?;
        let max = i64::from(self.config.code_max_attempts);
        if pending.failed_attempts >= max {
            return Err(PassError::CodeLocked);
        }
        if now.unix_timestamp() > pending.expires_at {
            return Err(PassError::CodeExpired);
        }
        let (annexe, protocol) = self.annexe_of(&tx, &row)?;
        let document_sha256 = annexe.sha256();
        if document_sha256 != pending.annexe_sha256 {
            storage::delete_code(&tx, id)?;
            tx.commit()?;
            return Err(PassError::CodeVoided);
        }
        let code = code.trim();
        if !self.key.verify(SIGNATURE_CODE, code, &pending.code_hmac) {
            let failures = storage::count_failure(&tx, id)?;
            if failures >= max {
                Audit::new(&tx, now, "pass").record("protocol.code_locked", id, &[])?;
                tx.commit()?;
                return Err(PassError::CodeLocked);
            }
            tx.commit()?;
            return Err(PassError::WrongCode {
                attempts_left: u32::try_from(max - failures).unwrap_or(0),
            });
        }
        let (protocol_id, number, key_name) = match row.renewal_of {
            Some(pid) => {
                let (number, key_name) =
                    storage::protocol_by_id(&tx, pid)?.ok_or(PassError::NotFound)?;
                (pid, number, key_name)
            }
            None => {
                let key_name = key_name_for(&protocol.employer.address.name)?;
                let (pid, number) = storage::insert_protocol(&tx, &key_name, now)?;
                (pid, number, key_name)
            }
        };
        let version = storage::next_version(&tx, protocol_id)?;
        let evidence = serde_json::json!({
            "signed_at": now.format(&Rfc3339).unwrap_or_default(),
            "document_sha256": document_sha256,
            "phone": pending.phone,
            "ip": client.ip,
            "user_agent": client.user_agent,
            "consent": true,
            "consent_at": OffsetDateTime::from_unix_timestamp(pending.consent_at)
                .ok()
                .and_then(|t| t.format(&Rfc3339).ok()),
            "method": "code SMS à usage unique",
        });
        storage::mark_signed(
            &tx,
            id,
            &storage::Signature {
                protocol_id,
                version,
                document_sha256: &document_sha256,
                annexe_text: &annexe.text(),
                evidence: &evidence.to_string(),
                at: now,
            },
        )?;
        storage::delete_code(&tx, id)?;
        Audit::new(&tx, now, "pass").record(
            "protocol.sign",
            &number,
            &[
                ("version", &version.to_string()),
                ("document_sha256", &document_sha256),
            ],
        )?;
        tx.commit()?;
        drop(conn);
        // Made now, outside the signature's transaction; should it fail, the first download
        // makes it instead.
        if let Err(e) = self.annexe_pdf(id) {
            tracing::warn!(error = %e, "Annexe 1 PDF non produite à la signature");
        }
        Ok(Signed {
            number,
            key_name,
            version,
            document_sha256,
        })
    }

    /// The signed Annexe 1 as a PDF: the stored one, else made once (one rendering at a time,
    /// so that parallel downloads cannot multiply the work) and stored.
    pub fn annexe_pdf(&self, id: &str) -> Result<Vec<u8>, PassError> {
        let conn = self.pool.get()?;
        let row = storage::find_version(&conn, id)?.ok_or(PassError::NotFound)?;
        if matches!(row.status, Status::Draft | Status::Cancelled) {
            return Err(PassError::NotFound);
        }
        if let Some(pdf) = storage::annexe_pdf(&conn, id)? {
            return Ok(pdf);
        }
        let _one_at_a_time = self.pdf_rendering.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pdf) = storage::annexe_pdf(&conn, id)? {
            return Ok(pdf);
        }
        let pdf = self.render_annexe_pdf(&conn, id)?;
        storage::put_annexe_pdf(&conn, id, &pdf)?;
        Ok(pdf)
    }

    fn render_annexe_pdf(
        &self,
        conn: &rusqlite::Connection,
        id: &str,
    ) -> Result<Vec<u8>, PassError> {
        let row = storage::find_version(conn, id)?.ok_or(PassError::NotFound)?;
        if matches!(row.status, Status::Draft | Status::Cancelled) {
            return Err(PassError::NotFound);
        }
        // Exactly the signed text, not a new rendering of the input.
        let annexe = crate::protocol::Annexe::from_text(row.annexe_text.as_deref().unwrap_or(""));
        if row.document_sha256.as_deref() != Some(annexe.sha256().as_str()) {
            return Err(PassError::SignedTextAltered { id: id.to_owned() });
        }
        let evidence: serde_json::Value = from_json(row.evidence.as_deref().unwrap_or("{}"))?;
        let (number, key_name) = row
            .protocol_id
            .map(|pid| storage::protocol_by_id(conn, pid))
            .transpose()?
            .flatten()
            .ok_or(PassError::NotFound)?;
        let phone = evidence["phone"].as_str().unwrap_or_default();
        let phone_masked = crate::MobileNumber::parse(phone, true)
            .map(|m| m.masked())
            .unwrap_or_default();
        Ok(crate::protocol::annexe_pdf(
            &annexe,
            &crate::protocol::SignatureEvidence {
                protocol_number: number,
                key_name,
                version: u32::try_from(row.version.unwrap_or(1)).unwrap_or(1),
                signed_at: OffsetDateTime::from_unix_timestamp(row.signed_at.unwrap_or(0))
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                document_sha256: row.document_sha256.unwrap_or_default(),
                phone_masked,
            },
        ))
    }
}
