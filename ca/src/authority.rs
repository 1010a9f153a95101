//! AC SISERI: the key ceremony, issuance (recorded before signing), revocation and CRLs.
//!
//! CRLs are sharded (issue 14 §4): each certificate is assigned a shard at issuance (stored),
//! names that shard's CRL in its CRL distribution point, and a revocation re-signs its shard's
//! CRL only, a few hundred kilobytes at a million revoked. The full CRL (every revoked
//! certificate, no Issuing Distribution Point) is still published for the certificates issued
//! before shards and for relying parties configured with one CRL file; it is re-signed in the
//! revocation's path only when such an older certificate is revoked, and otherwise by the
//! daemon's periodic job (see `ARCHITECTURE.md`).

use std::fmt;
use std::sync::Mutex;

use rcgen::{
    CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    CrlIssuingDistributionPoint, CrlScope, Issuer, KeyIdMethod, KeyPair, PublicKeyData,
    RevokedCertParams, SerialNumber, SigningKey,
};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P384_SHA384_ASN1};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::keys::{decrypt_ca_key, encrypt_ca_key, pem_body, CaKeyAlgorithm, SubjectKey};
use crate::profile::{ca_params, leaf_params, Policy, Subject};
use crate::storage::{self, CertificateRecord, NewRecord, PublishedCrl, ShardCrlInfo};
use crate::{error::lint, Error, ProfileKind, Result, RevocationReason, Serial};
use store::audit::{self, Event};
use store::whole_seconds;

/// A request to certify `key` for `subject`, made on behalf of `requester`.
#[derive(Debug, Clone)]
pub struct IssueRequest<'a> {
    /// Who the certificate is for; decides the profile.
    pub subject: Subject,
    /// The public key to certify.
    pub key: &'a SubjectKey,
    /// Who asked (`operator:cli`, `enroll:protocol 2026-000042`…), for the record.
    pub requester: &'a str,
}

/// A certificate recorded but not yet signed.
#[derive(Debug, Clone)]
pub struct Prepared {
    serial: Serial,
    tbs: Vec<u8>,
    requester: String,
    profile: ProfileKind,
}

impl Prepared {
    /// The serial the certificate will carry.
    pub fn serial(&self) -> &Serial {
        &self.serial
    }
}

/// A signed certificate, released by the CA.
#[derive(Debug, Clone)]
pub struct Issued {
    /// Its serial.
    pub serial: Serial,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// Its profile.
    pub profile: ProfileKind,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

impl Issued {
    /// The certificate, PEM.
    pub fn pem(&self) -> String {
        to_pem("CERTIFICATE", &self.der)
    }
}

/// AC SISERI, loaded: the only place where the CA private key lives in memory.
///
/// Every signature goes through one narrow method per kind of object, each given the
/// to-be-signed bytes already recorded and checking what it signed before it is released:
/// [`sign_certificate`](Self::sign_certificate) (a TBSCertificate), `sign_crl` (a TBSCertList)
/// and `sign_ocsp_response`. The key is either held here (the signer process, the key ceremony,
/// this crate's tests) or in a signer process asked over its socket
/// ([`Authority::with_signer`]): the web-facing process holds no key.
pub struct Authority {
    pub(crate) key: Key,
    /// The CA's public key, as the to-be-signed structures and the checks need it.
    public: CaPublic,
    algorithm: CaKeyAlgorithm,
    pub(crate) cert_der: Vec<u8>,
    /// The receipt key and its certificate, where the CA key is held (the signer).
    pub(crate) receipt: crate::receipt::ReceiptSlot,
    /// Its subject, DER: the issuer name of everything it signs.
    subject: Vec<u8>,
    ski: Vec<u8>,
    not_after: OffsetDateTime,
    policy: Policy,
    /// AC SISERI as OCSP names it (CertID hashes, responder ID), computed once.
    ocsp: crate::ocsp::OcspIssuer,
}

/// Where AC SISERI's signatures come from.
pub(crate) enum Key {
    /// The key itself, decrypted in this process.
    Held(Box<KeyPair>),
    /// A key in a PKCS#11 token this process has a session with.
    Token(Box<crate::token::TokenKey>),
    /// A signer process, asked over its Unix socket.
    Signer(crate::signer::SignerClient),
}

/// AC SISERI's public key: its subjectPublicKey bits and algorithm, read from its certificate.
struct CaPublic {
    raw: Vec<u8>,
    algorithm: &'static rcgen::SignatureAlgorithm,
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authority")
            .field("key", &"[secret key elided]")
            .field("algorithm", &self.algorithm)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// The output of the key ceremony, to be written to disk by the caller.
#[derive(Debug)]
pub struct Ceremony {
    /// The CA key, encrypted (PKCS#8 PEM, PBES2).
    pub encrypted_key_pem: String,
    /// The self-signed certificate (PEM), or `None` for a subordinate CA awaiting its own.
    pub certificate_pem: Option<String>,
    /// A CSR for an external root, for a subordinate CA.
    pub csr_pem: Option<String>,
}

impl Authority {
    /// Key ceremony of a self-signed root: a fresh key, encrypted under `passphrase`, and its
    /// certificate. Explicit, never a side effect of another command.
    pub fn create_root(
        algorithm: CaKeyAlgorithm,
        policy: &Policy,
        passphrase: &str,
        now: OffsetDateTime,
    ) -> Result<Ceremony> {
        let key = KeyPair::generate_for(algorithm.rcgen())?;
        let mut params = ca_params(policy, whole_seconds(now), &key);
        params.serial_number = Some(SerialNumber::from_slice(Serial::random()?.as_bytes()));
        let cert = params.self_signed(&key)?;
        Ok(Ceremony {
            encrypted_key_pem: encrypt_ca_key(&key.serialize_der(), passphrase)?,
            certificate_pem: Some(cert.pem()),
            csr_pem: None,
        })
    }

    /// Key ceremony of a subordinate CA: a fresh key and a CSR for the external root.
    pub fn create_subordinate(
        algorithm: CaKeyAlgorithm,
        policy: &Policy,
        passphrase: &str,
        now: OffsetDateTime,
    ) -> Result<Ceremony> {
        let key = KeyPair::generate_for(algorithm.rcgen())?;
        let csr = ca_params(policy, whole_seconds(now), &key).serialize_request(&key)?;
        Ok(Ceremony {
            encrypted_key_pem: encrypt_ca_key(&key.serialize_der(), passphrase)?,
            certificate_pem: None,
            csr_pem: Some(csr.pem()?),
        })
    }

    /// A CSR for the existing CA key (to have it signed, or cross-signed, by an external root).
    pub fn csr_for_key(
        encrypted_key_pem: &str,
        passphrase: &str,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<String> {
        let key = decrypt_ca_key(encrypted_key_pem, passphrase)?;
        Ok(ca_params(policy, whole_seconds(now), &key)
            .serialize_request(&key)?
            .pem()?)
    }

    /// Checks that `cert_pem` (the first certificate of the file) is a CA certificate for the
    /// key in `encrypted_key_pem`; returns it as DER.
    pub fn check_import(
        cert_pem: &str,
        encrypted_key_pem: &str,
        passphrase: &str,
    ) -> Result<Vec<u8>> {
        let key = decrypt_ca_key(encrypted_key_pem, passphrase)?;
        let der = pem_body(cert_pem, &["CERTIFICATE"])
            .ok_or_else(|| Error::CaCertificate("aucun certificat PEM dans le fichier".into()))?;
        check_ca_certificate(&der, &key)?;
        Ok(der)
    }

    /// Loads AC SISERI from its certificate and encrypted key.
    pub fn load(
        cert_pem: &str,
        encrypted_key_pem: &str,
        passphrase: &str,
        policy: Policy,
    ) -> Result<Self> {
        let key = decrypt_ca_key(encrypted_key_pem, passphrase)?;
        let cert_der = pem_body(cert_pem, &["CERTIFICATE"])
            .ok_or_else(|| Error::CaCertificate("aucun certificat PEM dans le fichier".into()))?;
        let facts = check_ca_certificate(&cert_der, &key)?;
        if CaKeyAlgorithm::of(&key)? != facts.algorithm {
            return Err(Error::CaCertificate(
                "le certificat ne correspond pas à la clé de l'AC".into(),
            ));
        }
        Self::assemble_parts(Key::Held(Box::new(key)), cert_der, facts, policy)
    }

    fn assemble_parts(key: Key, cert_der: Vec<u8>, facts: CaFacts, policy: Policy) -> Result<Self> {
        Ok(Self {
            ocsp: crate::ocsp::OcspIssuer::new(&cert_der)?,
            public: CaPublic {
                raw: facts.public_key,
                algorithm: facts.algorithm.rcgen(),
            },
            algorithm: facts.algorithm,
            key,
            cert_der,
            receipt: Default::default(),
            ski: facts.ski,
            subject: facts.subject,
            not_after: facts.not_after,
            policy,
        })
    }

    /// AC SISERI whose key is held by the signer `signer` answers for: this process never
    /// reads the key nor its passphrase. The certificate must be the signer's (checked when the
    /// client connected) and a usable CA certificate.
    pub fn with_signer(
        cert_pem: &str,
        policy: Policy,
        signer: crate::signer::SignerClient,
    ) -> Result<Self> {
        let (cert_der, facts) = certificate_and_facts(cert_pem)?;
        Self::assemble_parts(Key::Signer(signer), cert_der, facts, policy)
    }

    /// True when this process holds the key itself, or a session with the token holding it
    /// (the signer, the key ceremony).
    pub fn holds_key(&self) -> bool {
        matches!(self.key, Key::Held(_) | Key::Token(_))
    }

    /// AC SISERI whose key is in a PKCS#11 token: `token` must hold the key of the
    /// certificate.
    pub fn load_token(
        cert_pem: &str,
        token: crate::token::TokenKey,
        policy: Policy,
    ) -> Result<Self> {
        let (cert_der, facts) = certificate_and_facts(cert_pem)?;
        if facts.public_key != token.der_bytes() {
            return Err(Error::CaCertificate(
                "le certificat ne correspond pas à la clé du jeton PKCS#11".into(),
            ));
        }
        Self::assemble_parts(Key::Token(Box::new(token)), cert_der, facts, policy)
    }

    /// Key ceremony of a self-signed root whose key `token` made: its certificate (PEM).
    pub fn create_root_in_token(
        token: &crate::token::TokenKey,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<String> {
        let mut params = ca_params(policy, whole_seconds(now), token);
        params.serial_number = Some(SerialNumber::from_slice(Serial::random()?.as_bytes()));
        Ok(params.self_signed(token)?.pem())
    }

    /// Key ceremony of a subordinate CA whose key `token` made: the CSR (PEM) for the root.
    pub fn create_subordinate_in_token(
        token: &crate::token::TokenKey,
        policy: &Policy,
        now: OffsetDateTime,
    ) -> Result<String> {
        Ok(ca_params(policy, whole_seconds(now), token)
            .serialize_request(token)?
            .pem()?)
    }

    /// The CA key's signature of `tbs`, when this process holds the key (`None`: a signer
    /// process does).
    fn key_signature(&self, tbs: &[u8]) -> Result<Option<Vec<u8>>> {
        match &self.key {
            Key::Held(key) => Ok(Some(SigningKey::sign(key.as_ref(), tbs)?)),
            Key::Token(token) => Ok(Some(token.sign_message(tbs)?)),
            Key::Signer(_) => Ok(None),
        }
    }

    /// AC SISERI's certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// AC SISERI's certificate, PEM.
    pub fn certificate_pem(&self) -> String {
        to_pem("CERTIFICATE", &self.cert_der)
    }

    /// The issuance policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub(crate) fn ocsp_issuer(&self) -> &crate::ocsp::OcspIssuer {
        &self.ocsp
    }

    /// Records AC SISERI's own certificate in the database, once.
    pub fn record_self(&self, conn: &mut Connection, now: OffsetDateTime) -> Result<()> {
        let (_, cert) = X509Certificate::from_der(&self.cert_der)
            .map_err(|e| Error::CaCertificate(e.to_string()))?;
        let serial = Serial::from_der_bytes(cert.raw_serial());
        if storage::find(conn, &serial)?.is_some() {
            return Ok(());
        }
        let tx = immediate(conn)?;
        let not_before =
            OffsetDateTime::from_unix_timestamp(cert.validity().not_before.timestamp())
                .map_err(|e| Error::CaCertificate(e.to_string()))?;
        storage::insert_signed(
            &tx,
            &NewRecord {
                crl_shard: None,
                serial: &serial,
                profile: ProfileKind::Ca,
                subject: &cert.subject().to_string(),
                requester: "ceremony",
                key_description: &format!("{:?}", self.algorithm),
                tbs: cert.tbs_certificate.as_ref(),
                not_before,
                not_after: self.not_after,
                created_at: now,
            },
            &self.cert_der,
        )?;
        audit::append(
            &tx,
            now,
            &Event {
                actor: "ceremony",
                action: "ca.install",
                target: &serial.to_hex(),
                details: &[("subject", &cert.subject().to_string())],
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Issues a certificate: records it (serial, profile, subject, requester, to-be-signed
    /// data), commits, and only then signs.
    pub fn issue(
        &self,
        conn: &mut Connection,
        request: &IssueRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Issued> {
        let tx = immediate(conn)?;
        let prepared = self.prepare(&tx, request, now)?;
        tx.commit()?;
        self.sign(conn, &prepared, now)
    }

    /// First half of an issuance, inside the caller's transaction (so that the record, and
    /// whatever the caller writes with it, commit together): builds the to-be-signed
    /// certificate and records it as unsigned. Nothing is signed yet.
    pub fn prepare(
        &self,
        tx: &Transaction<'_>,
        request: &IssueRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Prepared> {
        let now = whole_seconds(now);
        let serial = Serial::random()?;
        let shard = self.policy.shard_of(&serial);
        let params = leaf_params(
            &self.policy,
            &request.subject,
            &serial,
            now,
            self.not_after,
            request.key.rcgen(),
            shard,
        )?;
        let tbs = self.to_be_signed(&params, request.key)?;
        let profile = request.subject.profile();
        storage::insert_unsigned(
            tx,
            &NewRecord {
                serial: &serial,
                profile,
                subject: &request.subject.common_name(),
                requester: request.requester,
                key_description: request.key.description(),
                tbs: &tbs,
                not_before: params.not_before,
                not_after: params.not_after,
                created_at: now,
                crl_shard: shard,
            },
        )?;
        // The CRL its distribution point names exists before the certificate does: the first
        // certificate of a shard has it signed here, once.
        if let Some(shard) = shard {
            if storage::shard_crl_info(tx, shard)?.is_none() {
                self.publish_shard_in(tx, shard, "ca", now)?;
            }
        }
        Ok(Prepared {
            serial,
            tbs,
            requester: request.requester.to_owned(),
            profile,
        })
    }

    /// Second half: signs what was recorded, checks the result, and marks the record issued.
    pub fn sign(
        &self,
        conn: &mut Connection,
        prepared: &Prepared,
        now: OffsetDateTime,
    ) -> Result<Issued> {
        let tx = immediate(conn)?;
        let issued = self.sign_in(&tx, prepared, now)?;
        tx.commit()?;
        Ok(issued)
    }

    /// [`sign`](Self::sign) inside the caller's transaction, so that the certificate is marked
    /// issued together with what the caller does with it (its withdrawal, its e-mails), and
    /// with its OCSP response signed ahead (`good`).
    pub fn sign_in(
        &self,
        tx: &Transaction<'_>,
        prepared: &Prepared,
        now: OffsetDateTime,
    ) -> Result<Issued> {
        let (der, not_after) = self.sign_certificate(&prepared.tbs, &prepared.serial, now)?;
        let der = if storage::mark_signed(tx, &prepared.serial, &der, now)? {
            audit::append(
                tx,
                now,
                &Event {
                    actor: &prepared.requester,
                    action: "cert.issue",
                    target: &prepared.serial.to_hex(),
                    details: &[("profile", prepared.profile.as_str())],
                },
            )?;
            self.presign_issued(tx, &prepared.serial, not_after, now)?;
            der
        } else {
            // Signed concurrently by another process: only the stored certificate is released.
            storage::find(tx, &prepared.serial)?
                .and_then(|r| r.der)
                .ok_or_else(|| Error::UnknownSerial {
                    serial: prepared.serial.to_hex(),
                })?
        };
        Ok(Issued {
            serial: prepared.serial.clone(),
            der,
            profile: prepared.profile,
            not_after,
        })
    }

    /// Revokes a certificate (committed at once: the registry refuses it within a second),
    /// then signs and publishes the CRL that covers it: its shard's, or the full CRL for a
    /// certificate issued before shards.
    pub fn revoke(
        &self,
        conn: &mut Connection,
        serial: &Serial,
        reason: RevocationReason,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<PublishedCrl> {
        let tx = immediate(conn)?;
        let shard = self.revoke_in(&tx, serial, reason, actor, now)?;
        tx.commit()?;
        match shard {
            Some(shard) => self.publish_shard(conn, shard, actor, now),
            None => self.publish_crl(conn, actor, now),
        }
    }

    /// Records a revocation inside the caller's transaction, with the certificate's OCSP
    /// response signed ahead (`revoked`, replacing the `good` ones): the stored response says
    /// revoked from the commit on. Returns the certificate's CRL shard (`None`: only the full
    /// CRL covers it). The caller publishes once it has committed
    /// ([`publish_revocations`](Self::publish_revocations)); until then the CRL in force is
    /// stale and the daemon publishes one itself.
    pub fn revoke_in(
        &self,
        tx: &Transaction<'_>,
        serial: &Serial,
        reason: RevocationReason,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Option<u32>> {
        let now = whole_seconds(now);
        let record = storage::find(tx, serial)?.ok_or_else(|| Error::UnknownSerial {
            serial: serial.to_hex(),
        })?;
        match record.status {
            storage::CertificateStatus::Unsigned => {
                return Err(Error::Unsigned {
                    serial: serial.to_hex(),
                })
            }
            storage::CertificateStatus::Revoked { reason, .. } => {
                return Err(Error::AlreadyRevoked {
                    serial: serial.to_hex(),
                    reason,
                })
            }
            storage::CertificateStatus::Issued => {}
        }
        if record.profile == ProfileKind::Ca {
            return Err(Error::CaCertificate(
                "AC SISERI ne peut pas se révoquer elle-même".into(),
            ));
        }
        storage::mark_revoked(tx, serial, reason, now)?;
        self.presign_revoked(tx, serial, now)?;
        audit::append(
            tx,
            now,
            &Event {
                actor,
                action: "cert.revoke",
                target: &serial.to_hex(),
                details: &[("reason", reason.as_str())],
            },
        )?;
        Ok(record.crl_shard)
    }

    /// After revocations committed with [`revoke_in`](Self::revoke_in): re-signs the CRL of
    /// every shard a revocation made stale, and the full CRL if a certificate without a shard
    /// was revoked. One index lookup per shard; the other shards' CRLs are left as they are.
    pub fn publish_revocations(
        &self,
        conn: &mut Connection,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<Vec<PublishedCrl>> {
        let mut published = Vec::new();
        for info in storage::shard_crls_info(conn)? {
            if storage::max_revocation_seq_in(conn, Some(info.shard))? > info.covers_seq {
                published.push(self.publish_shard(conn, info.shard, actor, now)?);
            }
        }
        let full_covers = storage::latest_crl_covers(conn)?.unwrap_or(0);
        if storage::max_revocation_seq_in(conn, None)? > full_covers {
            published.push(self.publish_crl(conn, actor, now)?);
        }
        Ok(published)
    }

    /// Re-signs the CRL of every shard that is missing (among `0..crl_shards`, when shards are
    /// on), stale (a revocation it does not cover) or whose thisUpdate is `max_age` old or
    /// more: the daemon's periodic job (`max_age` a day) and `siseri ca crl` (zero: all).
    pub fn refresh_shard_crls(
        &self,
        conn: &mut Connection,
        actor: &str,
        now: OffsetDateTime,
        max_age: Duration,
    ) -> Result<Vec<PublishedCrl>> {
        let known = storage::shard_crls_info(conn)?;
        let mut due: Vec<u32> = Vec::new();
        if self.policy.crl_shard_url.is_some() {
            due.extend(
                (0..self.policy.crl_shards).filter(|s| !known.iter().any(|k| k.shard == *s)),
            );
        }
        for info in &known {
            if now - info.this_update >= max_age
                || storage::max_revocation_seq_in(conn, Some(info.shard))? > info.covers_seq
            {
                due.push(info.shard);
            }
        }
        due.sort_unstable();
        due.iter()
            .map(|shard| self.publish_shard(conn, *shard, actor, now))
            .collect()
    }

    /// Signs and records a fresh CRL for shard `shard`, in its own transaction.
    pub fn publish_shard(
        &self,
        conn: &mut Connection,
        shard: u32,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<PublishedCrl> {
        let tx = immediate(conn)?;
        let crl = self.publish_shard_in(&tx, shard, actor, whole_seconds(now))?;
        tx.commit()?;
        Ok(crl)
    }

    /// Shard `shard`'s CRL: its revoked certificates, its own number sequence, an Issuing
    /// Distribution Point naming the URL its certificates name. Small whatever the number of
    /// revocations elsewhere, so signed inside the write transaction.
    fn publish_shard_in(
        &self,
        tx: &Transaction<'_>,
        shard: u32,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<PublishedCrl> {
        let url = self.policy.shard_url(shard).ok_or_else(|| {
            lint("aucune URL de LCR partitionnée n'est configurée ([public] http_base_url)")
        })?;
        let number = storage::shard_crl_info(tx, shard)?.map_or(1, |c| c.number + 1);
        let covers = storage::max_revocation_seq(tx)?;
        let revoked = storage::revoked_unexpired_in_shard(tx, shard, now)?;
        let mut crl = self.signed_crl(number, now, &revoked, Some(url))?;
        crl.shard = Some(shard);
        storage::put_shard_crl(tx, shard, &crl, covers)?;
        audit::append(
            tx,
            now,
            &Event {
                actor,
                action: "crl.publish",
                target: &number.to_string(),
                details: &[
                    ("shard", &shard.to_string()),
                    ("entries", &revoked.len().to_string()),
                ],
            },
        )?;
        Ok(crl)
    }

    /// Signs and records a fresh full CRL (every revoked certificate not yet expired, no
    /// Issuing Distribution Point). Its entries are read from a snapshot and signed outside
    /// any write transaction (45 MB and seconds of work at a million revoked): revocations and
    /// shard CRLs are committed meanwhile; only the final insert takes the write lock.
    pub fn publish_crl(
        &self,
        conn: &mut Connection,
        actor: &str,
        now: OffsetDateTime,
    ) -> Result<PublishedCrl> {
        let now = whole_seconds(now);
        // Another full CRL published between our snapshot and our insert took our number:
        // start again from a newer snapshot.
        for _ in 0..3 {
            let (number, covers, revoked) = {
                let snapshot = conn.transaction()?;
                let read = (
                    storage::next_crl_number(&snapshot)?,
                    storage::max_revocation_seq(&snapshot)?,
                    storage::revoked_unexpired(&snapshot, now)?,
                );
                snapshot.finish()?;
                read
            };
            let crl = self.signed_crl(number, now, &revoked, None)?;
            let tx = immediate(conn)?;
            if storage::next_crl_number(&tx)? != number {
                continue;
            }
            storage::insert_crl(
                &tx,
                number,
                now,
                crl.next_update,
                revoked.len(),
                covers,
                &crl.der,
            )?;
            audit::append(
                &tx,
                now,
                &Event {
                    actor,
                    action: "crl.publish",
                    target: &number.to_string(),
                    details: &[("entries", &revoked.len().to_string())],
                },
            )?;
            tx.commit()?;
            return Ok(crl);
        }
        Err(lint(
            "LCR complète publiée en même temps par un autre processus : réessayez",
        ))
    }

    /// A CRL of `revoked` numbered `number`, for shard URL `idp` (an Issuing Distribution
    /// Point, critical, only end-entity certificates) or complete (`None`): built, its
    /// to-be-signed bytes captured, then signed by [`sign_crl`](Self::sign_crl).
    fn signed_crl(
        &self,
        number: i64,
        now: OffsetDateTime,
        revoked: &[(Serial, OffsetDateTime, RevocationReason)],
        idp: Option<String>,
    ) -> Result<PublishedCrl> {
        let next_update = now + Duration::days(i64::from(self.policy.crl_validity_days.max(1)));
        let params = CertificateRevocationListParams {
            this_update: now,
            next_update,
            crl_number: SerialNumber::from_slice(&number.to_be_bytes()),
            issuing_distribution_point: idp.as_ref().map(|url| CrlIssuingDistributionPoint {
                distribution_point: CrlDistributionPoint {
                    uris: vec![url.clone()],
                },
                scope: Some(CrlScope::UserCertsOnly),
            }),
            revoked_certs: revoked
                .iter()
                .map(|(serial, at, reason)| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial.as_bytes()),
                    revocation_time: *at,
                    reason_code: reason.to_rcgen(),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::PreSpecified(self.ski.clone()),
        };
        let capture = Capture {
            key: &self.public,
            tbs: Mutex::new(None),
        };
        params.signed_by(&self.issuer(&capture)?)?;
        let tbs = capture
            .tbs
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .ok_or_else(|| lint("rien à signer"))?;
        let der = self.sign_crl(&tbs, revoked.len(), idp.as_deref(), now)?;
        Ok(PublishedCrl {
            number,
            this_update: now,
            next_update,
            entries: revoked.len() as i64,
            der,
            shard: None,
        })
    }

    /// The one place a CRL is signed: `tbs` (a TBSCertList) signed with the CA key, here or
    /// by the signer, then checked ([`lint_crl`](Self::lint_crl)) before it is released.
    fn sign_crl(
        &self,
        tbs: &[u8],
        entries: usize,
        idp: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        let signature = match &self.key {
            Key::Held(_) | Key::Token(_) => self.crl_signature(tbs, entries, idp, now)?,
            Key::Signer(signer) => signer.call(&crate::signer::Request::Crl {
                entries: entries as u64,
                idp: idp.map(str::to_owned),
                tbs: tbs.to_vec(),
            })?,
        };
        let der = self.assemble(tbs, &signature);
        self.lint_crl(&der, entries, idp)?;
        Ok(der)
    }

    /// The key holder's half of [`sign_crl`](Self::sign_crl): the TBSCertList checked against
    /// the policy, signed, the CRL checked; returns the signature.
    pub(crate) fn crl_signature(
        &self,
        tbs: &[u8],
        entries: usize,
        idp: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        if !self.holds_key() {
            return Err(lint("aucune clé détenue ici"));
        }
        crate::signer::checks::crl(
            &self.check_issuer(),
            tbs,
            entries as u64,
            idp.is_some(),
            now,
        )
        .map_err(Error::SignerRefused)?;
        let signature = self
            .key_signature(tbs)?
            .ok_or_else(|| lint("aucune clé détenue ici"))?;
        self.lint_crl(&self.assemble(tbs, &signature), entries, idp)?;
        Ok(signature)
    }

    /// The one place a certificate is signed: `tbs` (the TBSCertificate recorded for `serial`)
    /// signed with the CA key, here or by the signer, then checked; returns the certificate
    /// and its notAfter.
    pub fn sign_certificate(
        &self,
        tbs: &[u8],
        serial: &Serial,
        now: OffsetDateTime,
    ) -> Result<(Vec<u8>, OffsetDateTime)> {
        let signature = match &self.key {
            Key::Held(_) | Key::Token(_) => self.certificate_signature(tbs, serial, now)?.0,
            Key::Signer(signer) => signer.call(&crate::signer::Request::Certificate {
                serial: serial.as_bytes().to_vec(),
                tbs: tbs.to_vec(),
            })?,
        };
        let der = self.assemble(tbs, &signature);
        let not_after = self.lint_certificate(&der, serial)?;
        Ok((der, not_after))
    }

    /// The key holder's half of [`sign_certificate`](Self::sign_certificate): the
    /// TBSCertificate checked against the profiles, signed, the certificate checked; returns
    /// the signature and the profile the certificate matched.
    pub(crate) fn certificate_signature(
        &self,
        tbs: &[u8],
        serial: &Serial,
        now: OffsetDateTime,
    ) -> Result<(Vec<u8>, ProfileKind)> {
        if !self.holds_key() {
            return Err(lint("aucune clé détenue ici"));
        }
        let profile =
            crate::signer::checks::certificate(&self.check_issuer(), tbs, serial.as_bytes(), now)
                .map_err(Error::SignerRefused)?;
        let signature = self
            .key_signature(tbs)?
            .ok_or_else(|| lint("aucune clé détenue ici"))?;
        self.lint_certificate(&self.assemble(tbs, &signature), serial)?;
        Ok((signature, profile))
    }

    /// What the signer's checks need to know of AC SISERI.
    fn check_issuer(&self) -> crate::signer::checks::Issuer<'_> {
        crate::signer::checks::Issuer {
            subject: &self.subject,
            ski: &self.ski,
            not_after: self.not_after,
            signature_oid: match self.algorithm {
                CaKeyAlgorithm::EcdsaP256 => "1.2.840.10045.4.3.2",
                CaKeyAlgorithm::EcdsaP384 => "1.2.840.10045.4.3.3",
            },
            policy: &self.policy,
        }
    }

    /// SEQUENCE { tbs, signatureAlgorithm, signature }: a certificate or a CRL.
    fn assemble(&self, tbs: &[u8], signature: &[u8]) -> Vec<u8> {
        yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_der(tbs);
                w.next().write_der(self.algorithm.signature_algorithm_der());
                w.next().write_bitvec_bytes(signature, signature.len() * 8);
            })
        })
    }

    /// Shard `shard`'s CRL in force, with its bytes.
    pub fn shard_crl(conn: &Connection, shard: u32) -> Result<Option<PublishedCrl>> {
        storage::shard_crl(conn, shard)
    }

    /// Shard `shard`'s CRL in force, without its bytes (conditional requests, metrics).
    pub fn shard_crl_info(conn: &Connection, shard: u32) -> Result<Option<ShardCrlInfo>> {
        storage::shard_crl_info(conn, shard)
    }

    /// Every shard's CRL in force, without the bytes.
    pub fn shard_crls_info(conn: &Connection) -> Result<Vec<ShardCrlInfo>> {
        storage::shard_crls_info(conn)
    }

    /// The CRL in force, if any, with its bytes: for those who serve or write them.
    pub fn latest_crl(conn: &Connection) -> Result<Option<PublishedCrl>> {
        storage::latest_crl(conn)
    }

    /// The number, dates and entry count of the CRL in force, without reading its bytes: for
    /// periodic checks and metrics.
    pub fn latest_crl_info(conn: &Connection) -> Result<Option<storage::CrlInfo>> {
        storage::latest_crl_info(conn)
    }

    /// The revocation sequence number CRL `number` covers (`None`: no such CRL), read from the
    /// index that holds it beside the number (migration 0006), never through the CRL's bytes:
    /// cheap enough for a periodic check, which compares it with
    /// [`revoked_after`](Self::revoked_after).
    pub fn crl_covers(conn: &Connection, number: i64) -> Result<Option<i64>> {
        storage::crl_covers(conn, number)
    }

    /// True when a revocation was committed after those a CRL covering `covers` includes.
    pub fn revoked_after(conn: &Connection, covers: i64) -> Result<bool> {
        Ok(storage::max_revocation_seq(conn)? > covers)
    }

    /// True when no CRL was published yet, or a revocation was committed after the last one.
    pub fn crl_is_stale(conn: &Connection) -> Result<bool> {
        Ok(match storage::latest_crl_covers(conn)? {
            None => true,
            Some(covers) => storage::max_revocation_seq(conn)? > covers,
        })
    }

    /// One certificate's record.
    pub fn find(conn: &Connection, serial: &Serial) -> Result<Option<CertificateRecord>> {
        storage::find(conn, serial)
    }

    /// The names (common names) of the dosimetry bodies holding a valid certificate at `now`.
    pub fn organisme_names(conn: &Connection, now: OffsetDateTime) -> Result<Vec<String>> {
        storage::valid_organisme_names(conn, now)
    }

    /// The most recent records.
    pub fn list(conn: &Connection, limit: u32) -> Result<Vec<CertificateRecord>> {
        storage::list(conn, limit)
    }

    fn issuer<'k>(
        &self,
        key: &'k (impl SigningKey + 'k),
    ) -> Result<Issuer<'static, &'k (impl SigningKey + 'k)>> {
        Ok(Issuer::from_ca_cert_der(
            &self.cert_der.clone().into(),
            key,
        )?)
    }

    /// rcgen signs as it serialises; to record the to-be-signed bytes before any signature
    /// exists, we serialise once with a signer that only captures its input.
    fn to_be_signed(&self, params: &CertificateParams, key: &SubjectKey) -> Result<Vec<u8>> {
        let capture = Capture {
            key: &self.public,
            tbs: Mutex::new(None),
        };
        params.signed_by(key.rcgen(), &self.issuer(&capture)?)?;
        let tbs = capture
            .tbs
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tbs.ok_or_else(|| lint("rien à signer"))
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let alg = match self.algorithm {
            CaKeyAlgorithm::EcdsaP256 => &ECDSA_P256_SHA256_ASN1,
            CaKeyAlgorithm::EcdsaP384 => &ECDSA_P384_SHA384_ASN1,
        };
        UnparsedPublicKey::new(alg, &self.public.raw)
            .verify(message, signature)
            .map_err(|_| lint("la signature ne se vérifie pas avec la clé de l'AC"))
    }

    /// Our own check before anything leaves the CA: it parses, its signature verifies with
    /// our key, it carries the recorded serial and an end-entity profile.
    fn lint_certificate(&self, der: &[u8], serial: &Serial) -> Result<OffsetDateTime> {
        let (rest, cert) = X509Certificate::from_der(der).map_err(lint)?;
        if !rest.is_empty() {
            return Err(lint("octets en trop"));
        }
        self.verify(cert.tbs_certificate.as_ref(), &cert.signature_value.data)?;
        if cert.raw_serial() != serial.as_bytes() {
            return Err(lint(
                "le numéro de série signé diffère du numéro enregistré",
            ));
        }
        if cert.is_ca() {
            return Err(lint("un certificat final ne peut pas être une AC"));
        }
        if cert.validity().not_before >= cert.validity().not_after {
            return Err(lint("période de validité vide"));
        }
        OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp()).map_err(lint)
    }

    /// Our own check of a CRL before it leaves the CA: it parses, its signature verifies, it
    /// has the expected entries, a number and a nextUpdate, and a shard's carries a critical
    /// Issuing Distribution Point naming exactly `idp` for end-entity certificates only (the
    /// full CRL: none).
    fn lint_crl(&self, der: &[u8], entries: usize, idp: Option<&str>) -> Result<()> {
        use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
        let (rest, crl) = x509_parser::parse_x509_crl(der).map_err(lint)?;
        if !rest.is_empty() {
            return Err(lint("octets en trop dans la LCR"));
        }
        self.verify(crl.tbs_cert_list.as_ref(), &crl.signature_value.data)?;
        if crl.iter_revoked_certificates().count() != entries {
            return Err(lint("nombre d'entrées de la LCR inattendu"));
        }
        if crl.crl_number().is_none() || crl.next_update().is_none() {
            return Err(lint("LCR sans numéro ou sans nextUpdate"));
        }
        let found = crl
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::IssuingDistributionPoint(p) => Some((e.critical, p)),
                _ => None,
            });
        match (idp, found) {
            (None, None) => Ok(()),
            (Some(url), Some((true, p)))
                if p.only_contains_user_certs
                    && !p.only_contains_ca_certs
                    && !p.indirect_crl
                    && p.only_some_reasons.is_none()
                    && matches!(&p.distribution_point,
                        Some(DistributionPointName::FullName(names))
                            if matches!(names.as_slice(), [GeneralName::URI(u)] if *u == url)) =>
            {
                Ok(())
            }
            _ => Err(lint(
                "point de distribution émetteur (IDP) de la LCR inattendu",
            )),
        }
    }
}

impl Authority {
    /// The one way an OCSP response gets signed (ahead, on first demand, or per request):
    /// `tbs` must be the DER of an OCSP ResponseData naming AC SISERI as responder (by key),
    /// anything else is refused, so that this door cannot be used to sign a certificate or a
    /// CRL. The signature is checked before it leaves. Returns the DER AlgorithmIdentifier of
    /// the signature and the signature (ECDSA, DER).
    ///
    /// Deliberately narrow: a signer process holding the CA key (issue 14 §1) takes exactly
    /// this call over, with the same check on its side.
    pub(crate) fn sign_ocsp_response(&self, tbs: &[u8]) -> Result<(&'static [u8], Vec<u8>)> {
        use der::Decode;
        let data = x509_ocsp::ResponseData::from_der(tbs)
            .map_err(|_| lint("ce n'est pas une réponse OCSP (ResponseData)"))?;
        if let Key::Signer(signer) = &self.key {
            let signature = signer.call(&crate::signer::Request::Ocsp { tbs: tbs.to_vec() })?;
            self.verify(tbs, &signature)?;
            return Ok((self.algorithm.signature_algorithm_der(), signature));
        }
        if data.responder_id != self.ocsp.responder_id()? {
            return Err(lint("réponse OCSP au nom d'un autre répondeur"));
        }
        let signature = self
            .key_signature(tbs)?
            .ok_or_else(|| lint("aucune clé détenue ici"))?;
        self.verify(tbs, &signature)?;
        Ok((self.algorithm.signature_algorithm_der(), signature))
    }
}

struct Capture<'a> {
    key: &'a CaPublic,
    tbs: Mutex<Option<Vec<u8>>>,
}

impl PublicKeyData for Capture<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.key.raw
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.key.algorithm
    }
}

impl SigningKey for Capture<'_> {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        *self.tbs.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg.to_vec());
        Ok(Vec::new())
    }
}

/// Starts a write transaction at once, so that concurrent writers queue on SQLite's lock
/// (with the connection's busy timeout) instead of failing at their first write.
pub fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// What the CA needs of its own certificate, once checked usable.
struct CaFacts {
    ski: Vec<u8>,
    not_after: OffsetDateTime,
    /// Its subject, DER.
    subject: Vec<u8>,
    /// Its subjectPublicKey bits.
    public_key: Vec<u8>,
    algorithm: CaKeyAlgorithm,
}

/// The facts of a usable CA certificate for `key`.
fn check_ca_certificate(der: &[u8], key: &KeyPair) -> Result<CaFacts> {
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| Error::CaCertificate(e.to_string()))?;
    if cert.tbs_certificate.subject_pki.raw != key.subject_public_key_info().as_slice() {
        return Err(Error::CaCertificate(
            "le certificat ne correspond pas à la clé de l'AC".into(),
        ));
    }
    ca_certificate_facts(&cert)
}

/// The first certificate of `cert_pem` (DER) and its facts, once checked a usable CA
/// certificate; for a key held elsewhere (a signer, a token), whose match the caller checks.
fn certificate_and_facts(cert_pem: &str) -> Result<(Vec<u8>, CaFacts)> {
    let cert_der = pem_body(cert_pem, &["CERTIFICATE"])
        .ok_or_else(|| Error::CaCertificate("aucun certificat PEM dans le fichier".into()))?;
    let (_, cert) =
        X509Certificate::from_der(&cert_der).map_err(|e| Error::CaCertificate(e.to_string()))?;
    let facts = ca_certificate_facts(&cert)?;
    Ok((cert_der, facts))
}

/// The facts of a usable CA certificate: a CA, allowed to sign certificates and CRLs, with a
/// subject key identifier and an ECDSA P-256 or P-384 key.
fn ca_certificate_facts(cert: &X509Certificate<'_>) -> Result<CaFacts> {
    use x509_parser::extensions::ParsedExtension;
    if !cert.is_ca() {
        return Err(Error::CaCertificate(
            "ce n'est pas un certificat d'AC (basicConstraints CA:FALSE)".into(),
        ));
    }
    let ku = cert
        .key_usage()
        .map_err(|e| Error::CaCertificate(e.to_string()))?;
    if let Some(ku) = ku {
        if !ku.value.key_cert_sign() || !ku.value.crl_sign() {
            return Err(Error::CaCertificate(
                "l'usage de clé doit permettre keyCertSign et cRLSign".into(),
            ));
        }
    }
    let ski = cert
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(id) => Some(id.0.to_vec()),
            _ => None,
        })
        .ok_or_else(|| Error::CaCertificate("identifiant de clé du sujet (SKI) manquant".into()))?;
    let not_after = OffsetDateTime::from_unix_timestamp(cert.validity().not_after.timestamp())
        .map_err(|e| Error::CaCertificate(e.to_string()))?;
    let public_key = cert.public_key().subject_public_key.data.to_vec();
    // An uncompressed point: 65 bytes on P-256, 97 on P-384 (SEC 1 §2.3.3).
    let algorithm = match (public_key.first(), public_key.len()) {
        (Some(4), 65) => CaKeyAlgorithm::EcdsaP256,
        (Some(4), 97) => CaKeyAlgorithm::EcdsaP384,
        _ => {
            return Err(Error::CaCertificate(
                "clé d'AC autre qu'ECDSA P-256 ou P-384".into(),
            ))
        }
    };
    Ok(CaFacts {
        ski,
        not_after,
        subject: cert.subject().as_raw().to_vec(),
        public_key,
        algorithm,
    })
}

/// PEM with 64-column lines and LF line endings.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    pem::encode_config(
        &pem::Pem::new(label, der),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
