//! The receipt key: ECDSA P-256, made by the signer, kept encrypted at rest like the CA key
//! (same PBES2 code path, same passphrase), held only by the process that holds the CA key.

use std::fmt;

use rcgen::{KeyPair, PublicKeyData, SigningKey, PKCS_ECDSA_P256_SHA256};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::keys::{decrypt_ca_key, encrypt_ca_key, CaKeyAlgorithm, SubjectKey};
use crate::{Error, Result};

/// A receipt certificate is renewed when fewer days than this are left.
pub const RECEIPT_RENEWAL_MARGIN: Duration = Duration::days(30);

/// The private key that signs récépissés. Its `Debug` shows no key.
pub struct ReceiptKey {
    held: Held,
    public: SubjectKey,
}

enum Held {
    /// Decrypted from `ca/recepisse.key.pem`.
    File(Box<KeyPair>),
    /// In the CA key's PKCS#11 token, beside it.
    Token(crate::TokenKey),
}

impl fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptKey")
            .field("key", &"[secret key elided]")
            .field("public", &self.public)
            .finish()
    }
}

impl ReceiptKey {
    /// A fresh key, and its encrypted PKCS#8 PEM (PBES2, as the CA key) to write to disk.
    pub fn generate(passphrase: &str) -> Result<(Self, String)> {
        let pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let pem = encrypt_ca_key(&pair.serialize_der(), passphrase)?;
        Ok((Self::from_pair(pair)?, pem))
    }

    /// The key written by [`generate`](Self::generate).
    pub fn from_encrypted_pem(pem: &str, passphrase: &str) -> Result<Self> {
        let pair = decrypt_ca_key(pem, passphrase)?;
        if CaKeyAlgorithm::of(&pair)? != CaKeyAlgorithm::EcdsaP256 {
            return Err(Error::KeyFile(
                "la clé des récépissés doit être ECDSA P-256".into(),
            ));
        }
        Self::from_pair(pair)
    }

    fn from_pair(pair: KeyPair) -> Result<Self> {
        let public = SubjectKey::from_spki_der(&pair.subject_public_key_info())?;
        Ok(Self {
            held: Held::File(Box::new(pair)),
            public,
        })
    }

    /// The receipt key labelled `label` in the token of `ca` (the CA key's), made there if
    /// missing: ECDSA P-256, sensitive, never extractable.
    pub fn in_token(ca: &crate::TokenKey, label: &str) -> Result<Self> {
        let key = ca.companion(label, CaKeyAlgorithm::EcdsaP256)?;
        // SubjectPublicKeyInfo { { id-ecPublicKey, prime256v1 }, BIT STRING point }.
        let spki = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_sequence(|w| {
                    w.next()
                        .write_oid(&yasna::models::ObjectIdentifier::from_slice(&[
                            1, 2, 840, 10045, 2, 1,
                        ]));
                    w.next()
                        .write_oid(&yasna::models::ObjectIdentifier::from_slice(&[
                            1, 2, 840, 10045, 3, 1, 7,
                        ]));
                });
                let point = PublicKeyData::der_bytes(&key);
                w.next().write_bitvec_bytes(point, point.len() * 8);
            })
        });
        Ok(Self {
            public: SubjectKey::from_spki_der(&spki)?,
            held: Held::Token(key),
        })
    }

    /// The public half, to certify.
    pub fn public(&self) -> &SubjectKey {
        &self.public
    }

    /// An ECDSA P-256 / SHA-256 signature (DER) of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.held {
            Held::File(pair) => Ok(SigningKey::sign(pair.as_ref(), message)?),
            Held::Token(key) => key.sign_message(message),
        }
    }
}

/// One receipt certificate: DER, for which key, until when.
#[derive(Debug, Clone)]
pub(crate) struct ReceiptCertificate {
    pub serial: crate::Serial,
    pub der: Vec<u8>,
    pub spki: Vec<u8>,
    pub not_after: OffsetDateTime,
}

/// The receipt certificates of a PEM file (several, newest first), unreadable ones skipped.
pub(crate) fn certificates_of(pem: &str) -> Vec<ReceiptCertificate> {
    let Ok(blocks) = pem::parse_many(pem) else {
        return Vec::new();
    };
    blocks
        .iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .filter_map(|b| {
            let (_, cert) = X509Certificate::from_der(b.contents()).ok()?;
            Some(ReceiptCertificate {
                serial: crate::Serial::from_der_bytes(cert.raw_serial()),
                der: b.contents().to_vec(),
                spki: cert.tbs_certificate.subject_pki.raw.to_vec(),
                not_after: OffsetDateTime::from_unix_timestamp(
                    cert.validity().not_after.timestamp(),
                )
                .ok()?,
            })
        })
        .collect()
}
