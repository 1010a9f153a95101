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
    pair: KeyPair,
    public: SubjectKey,
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
        Ok(Self { pair, public })
    }

    /// The public half, to certify.
    pub fn public(&self) -> &SubjectKey {
        &self.public
    }

    /// An ECDSA P-256 / SHA-256 signature (DER) of `message`.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        Ok(SigningKey::sign(&self.pair, message)?)
    }
}

/// One receipt certificate: DER, for which key, until when.
#[derive(Debug, Clone)]
pub(crate) struct ReceiptCertificate {
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
