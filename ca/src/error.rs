use std::fmt;

use crate::RevocationReason;

/// Everything that can go wrong in the certificate authority.
///
/// Messages are French sentences meant for operators and never carry a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The passphrase does not decrypt the CA key.
    #[error("la phrase secrète ne déchiffre pas la clé de l'AC SISERI")]
    WrongPassphrase,
    /// The CA key file is not an encrypted PKCS#8 key we understand.
    #[error("le fichier de clé de l'AC est illisible : {0}")]
    KeyFile(String),
    /// The CA certificate is unusable (not a CA, wrong key, unreadable).
    #[error("certificat d'AC refusé : {0}")]
    CaCertificate(String),
    /// The certificate signing request cannot be parsed.
    #[error("la demande de certificat (CSR) est illisible")]
    CsrUnreadable,
    /// The certificate signing request's signature does not verify.
    #[error("la signature de la demande de certificat (CSR) est invalide")]
    CsrBadSignature,
    /// The public key is of a type or size we do not certify.
    #[error("type de clé refusé ({found}) : seules les clés ECDSA P-256, P-384 et RSA d'au moins 2048 bits sont acceptées")]
    KeyRefused {
        /// What was found, e.g. `RSA 1024 bits` or `Ed25519`.
        found: String,
    },
    /// The subject fields cannot go into a certificate.
    #[error("nom refusé pour le certificat : {0}")]
    BadSubject(String),
    /// No certificate with this serial number is known.
    #[error("aucun certificat de numéro de série {serial}")]
    UnknownSerial {
        /// The serial, in hexadecimal.
        serial: String,
    },
    /// The serial number is not hexadecimal.
    #[error("numéro de série illisible (attendu : hexadécimal)")]
    BadSerial,
    /// The certificate was already revoked.
    #[error("le certificat {serial} est déjà révoqué ({reason})")]
    AlreadyRevoked {
        /// The serial, in hexadecimal.
        serial: String,
        /// Why it was revoked the first time.
        reason: RevocationReason,
    },
    /// The certificate has not been signed yet (its issuance was interrupted).
    #[error("le certificat {serial} n'a pas encore été signé")]
    Unsigned {
        /// The serial, in hexadecimal.
        serial: String,
    },
    /// The revocation reason is not one of RFC 5280's.
    #[error("motif de révocation inconnu ; motifs possibles : {}", RevocationReason::NAMES.join(", "))]
    UnknownReason,
    /// The certificate we just made failed our own checks; it was not released.
    #[error("contrôle du certificat produit en échec : {0}")]
    Lint(String),
    /// Building the PKCS#12 file failed.
    #[error("fabrication du fichier PKCS#12 impossible : {0}")]
    Pkcs12(String),
    /// The signer refused to sign: what it was given failed one of its checks.
    #[error("le signataire de l'AC refuse de signer : {0}")]
    SignerRefused(String),
    /// The signer cannot be reached, or failed.
    #[error("signataire de l'AC indisponible : {0}")]
    SignerUnavailable(String),
    /// A récépissé, or its signature, is not what it must be.
    #[error("récépissé refusé : {0}")]
    Receipt(String),
    /// A certificate of the receipt key was revoked: that key must be replaced, never
    /// certified again.
    #[error(
        "le certificat {serial} de la clé des récépissés est révoqué : la clé doit être remplacée"
    )]
    ReceiptKeyRevoked {
        /// The revoked certificate's serial, in hexadecimal.
        serial: String,
    },
    /// The underlying X.509 library refused something.
    #[error("erreur X.509 : {0}")]
    X509(#[from] rcgen::Error),
    /// The database failed.
    #[error("base de données : {0}")]
    Database(#[from] rusqlite::Error),
    /// The shared plumbing failed (pool, migrations, audit log, random generator).
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn lint(what: impl fmt::Display) -> Error {
    Error::Lint(what.to_string())
}
