//! Key material: the CA key at rest, subscriber keys made here, and public keys brought by
//! subscribers (bare or inside a PKCS#10 request).

use std::fmt;

use pkcs8::der::pem::LineEnding;
use pkcs8::pkcs5::pbes2;
use rcgen::{
    KeyPair, PublicKeyData, SignatureAlgorithm, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::x509::SubjectPublicKeyInfo;
use zeroize::Zeroizing;

use crate::{Error, Result};

/// PBKDF2-HMAC-SHA256 iterations protecting the CA key at rest. Loading the key is rare
/// (daemon start, one CLI command), so this can be expensive.
const CA_KEY_PBKDF2_ITERATIONS: u32 = 600_000;
const ENCRYPTED_KEY_LABEL: &str = "ENCRYPTED PRIVATE KEY";

/// The key algorithm of AC SISERI itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaKeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (the default).
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
}

impl CaKeyAlgorithm {
    pub(crate) fn rcgen(self) -> &'static SignatureAlgorithm {
        match self {
            Self::EcdsaP256 => &PKCS_ECDSA_P256_SHA256,
            Self::EcdsaP384 => &PKCS_ECDSA_P384_SHA384,
        }
    }

    /// DER of the AlgorithmIdentifier of the signatures this key makes (RFC 5758: no
    /// parameters). Needed to assemble a certificate around a stored to-be-signed part.
    pub(crate) fn signature_algorithm_der(self) -> &'static [u8] {
        match self {
            Self::EcdsaP256 => &[
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
            ],
            Self::EcdsaP384 => &[
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
            ],
        }
    }

    pub(crate) fn of(key: &KeyPair) -> Result<Self> {
        if key.algorithm() == &PKCS_ECDSA_P256_SHA256 {
            Ok(Self::EcdsaP256)
        } else if key.algorithm() == &PKCS_ECDSA_P384_SHA384 {
            Ok(Self::EcdsaP384)
        } else {
            Err(Error::KeyFile(
                "algorithme de clé d'AC non pris en charge".into(),
            ))
        }
    }
}

/// The algorithm of keys generated here for subscribers (server-side key generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriberKeyAlgorithm {
    /// ECDSA P-256 (the default).
    #[default]
    EcdsaP256,
    /// RSA 2048 bits, for systems that still cannot use elliptic curves.
    Rsa2048,
    /// RSA 3072 bits.
    Rsa3072,
}

/// A subscriber key pair made here. The private half lives only until the PKCS#12 is built.
pub struct GeneratedKey {
    pkcs8: Zeroizing<Vec<u8>>,
    public: SubjectKey,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("pkcs8", &"[secret key elided]")
            .field("public", &self.public)
            .finish()
    }
}

impl GeneratedKey {
    /// Generates a key. RSA comes from the `rsa` crate because ring cannot generate RSA keys.
    pub fn generate(alg: SubscriberKeyAlgorithm) -> Result<Self> {
        match alg {
            SubscriberKeyAlgorithm::EcdsaP256 => {
                let pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
                let pkcs8 = Zeroizing::new(pair.serialize_der());
                let public = SubjectKey::from_spki_der(&pair.subject_public_key_info())?;
                Ok(Self { pkcs8, public })
            }
            SubscriberKeyAlgorithm::Rsa2048 | SubscriberKeyAlgorithm::Rsa3072 => {
                use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
                let bits = if alg == SubscriberKeyAlgorithm::Rsa2048 {
                    2048
                } else {
                    3072
                };
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
                    .map_err(|_| Error::Store(store::Error::Random))?;
                let pkcs8 = key
                    .to_pkcs8_der()
                    .map_err(|e| Error::KeyFile(e.to_string()))?;
                let spki = key
                    .to_public_key()
                    .to_public_key_der()
                    .map_err(|e| Error::KeyFile(e.to_string()))?;
                Ok(Self {
                    pkcs8: Zeroizing::new(pkcs8.as_bytes().to_vec()),
                    public: SubjectKey::from_spki_der(spki.as_bytes())?,
                })
            }
        }
    }

    /// The public half, to certify.
    pub fn public(&self) -> &SubjectKey {
        &self.public
    }

    /// The private key as PKCS#8 DER, zeroized when dropped.
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }
}

/// A public key we agreed to certify: ECDSA P-256, P-384, or RSA of at least 2048 bits.
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectKey {
    spki_der: Vec<u8>,
    description: String,
    rcgen: rcgen::SubjectPublicKeyInfo,
}

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubjectKey({})", self.description)
    }
}

impl SubjectKey {
    /// From a DER SubjectPublicKeyInfo, refusing any key type or size we do not certify.
    pub fn from_spki_der(der: &[u8]) -> Result<Self> {
        let (rest, spki) = SubjectPublicKeyInfo::from_der(der).map_err(|_| Error::KeyRefused {
            found: "clé publique illisible".into(),
        })?;
        if !rest.is_empty() {
            return Err(Error::KeyRefused {
                found: "octets en trop après la clé".into(),
            });
        }
        let description = classify(&spki)?;
        let rcgen = rcgen::SubjectPublicKeyInfo::from_der(der).map_err(|_| Error::KeyRefused {
            found: description.clone(),
        })?;
        Ok(Self {
            spki_der: der.to_vec(),
            description,
            rcgen,
        })
    }

    /// From a PKCS#10 request in DER: the request's own signature must verify (proof that the
    /// requester holds the private key). Everything else in the request is ignored: the CA
    /// decides names and extensions from the profile.
    pub fn from_csr_der(der: &[u8]) -> Result<Self> {
        use x509_parser::certification_request::X509CertificationRequest;
        let (rest, csr) =
            X509CertificationRequest::from_der(der).map_err(|_| Error::CsrUnreadable)?;
        if !rest.is_empty() {
            return Err(Error::CsrUnreadable);
        }
        // Refuse the key type before checking the signature: the clearer message wins.
        let spki = &csr.certification_request_info.subject_pki;
        classify(spki)?;
        csr.verify_signature().map_err(|_| Error::CsrBadSignature)?;
        Self::from_spki_der(spki.raw)
    }

    /// From a PKCS#10 request in PEM (`-----BEGIN CERTIFICATE REQUEST-----`).
    pub fn from_csr_pem(pem: &str) -> Result<Self> {
        let der = pem_body(pem, &["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"])
            .ok_or(Error::CsrUnreadable)?;
        Self::from_csr_der(&der)
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// A short human description, like `ECDSA P-256`.
    pub fn description(&self) -> &str {
        &self.description
    }

    pub(crate) fn rcgen(&self) -> &rcgen::SubjectPublicKeyInfo {
        &self.rcgen
    }
}

fn classify(spki: &SubjectPublicKeyInfo<'_>) -> Result<String> {
    const P256: &str = "1.2.840.10045.3.1.7";
    const P384: &str = "1.3.132.0.34";
    let parsed = spki.parsed().map_err(|_| Error::KeyRefused {
        found: "clé publique illisible".into(),
    })?;
    match parsed {
        PublicKey::EC(_) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                P256 => Ok("ECDSA P-256".into()),
                P384 => Ok("ECDSA P-384".into()),
                other => Err(Error::KeyRefused {
                    found: format!("courbe elliptique {other}"),
                }),
            }
        }
        PublicKey::RSA(rsa) => {
            let modulus = rsa.modulus;
            let first = modulus
                .iter()
                .position(|b| *b != 0)
                .unwrap_or(modulus.len());
            let significant = &modulus[first..];
            let bits = match significant.first() {
                Some(top) => (significant.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
                None => 0,
            };
            if bits < 2048 {
                return Err(Error::KeyRefused {
                    found: format!("RSA {bits} bits"),
                });
            }
            Ok(format!("RSA {bits} bits"))
        }
        PublicKey::DSA(_) => Err(Error::KeyRefused {
            found: "DSA".into(),
        }),
        _ => {
            let oid = spki.algorithm.algorithm.to_id_string();
            let found = match oid.as_str() {
                "1.3.101.112" => "Ed25519".to_owned(),
                "1.3.101.113" => "Ed448".to_owned(),
                "1.3.101.110" => "X25519".to_owned(),
                _ => format!("algorithme {oid}"),
            };
            Err(Error::KeyRefused { found })
        }
    }
}

/// The body of the first PEM block with one of `labels`, tried in that order.
pub(crate) fn pem_body(text: &str, labels: &[&str]) -> Option<Vec<u8>> {
    let blocks = pem::parse_many(text).ok()?;
    labels.iter().find_map(|label| {
        blocks
            .iter()
            .find(|b| b.tag() == *label)
            .map(|b| b.contents().to_vec())
    })
}

/// Encrypts the CA key (PKCS#8 DER) into an encrypted PKCS#8 PEM: PBES2, PBKDF2-HMAC-SHA256,
/// AES-256-CBC. What is written to disk never holds the key in clear.
pub fn encrypt_ca_key(pkcs8_der: &[u8], passphrase: &str) -> Result<String> {
    let salt = store::random::random_bytes::<16>()?;
    let iv = store::random::random_bytes::<16>()?;
    let params = pbes2::Parameters::pbkdf2_sha256_aes256cbc(CA_KEY_PBKDF2_ITERATIONS, &salt, &iv)
        .map_err(|e| Error::KeyFile(e.to_string()))?;
    let info =
        pkcs8::PrivateKeyInfo::try_from(pkcs8_der).map_err(|e| Error::KeyFile(e.to_string()))?;
    let doc = info
        .encrypt_with_params(params, passphrase)
        .map_err(|e| Error::KeyFile(e.to_string()))?;
    let pem = doc
        .to_pem(ENCRYPTED_KEY_LABEL, LineEnding::LF)
        .map_err(|e| Error::KeyFile(e.to_string()))?;
    Ok(pem.to_string())
}

/// Decrypts the CA key written by [`encrypt_ca_key`] and loads it for signing.
pub fn decrypt_ca_key(pem: &str, passphrase: &str) -> Result<KeyPair> {
    let (label, doc) =
        pkcs8::Document::from_pem(pem).map_err(|_| Error::KeyFile("PEM illisible".into()))?;
    if label != ENCRYPTED_KEY_LABEL {
        return Err(Error::KeyFile(
            "la clé de l'AC doit être chiffrée (ENCRYPTED PRIVATE KEY)".into(),
        ));
    }
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
        .map_err(|e| Error::KeyFile(e.to_string()))?;
    let clear = info
        .decrypt(passphrase)
        .map_err(|_| Error::WrongPassphrase)?;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(clear.as_bytes());
    for alg in [&PKCS_ECDSA_P256_SHA256, &PKCS_ECDSA_P384_SHA384] {
        if let Ok(pair) = KeyPair::from_pkcs8_der_and_sign_algo(&der, alg) {
            return Ok(pair);
        }
    }
    // A wrong passphrase can, rarely, still decrypt into valid padding: the garbage then fails
    // to parse as a key, and the cause is the same.
    Err(Error::WrongPassphrase)
}
