//! AC SISERI's key in a PKCS#11 token (a hardware security module; SoftHSM2 in the tests): the
//! key is made inside the token, sensitive and never extractable, and every signature is the
//! token's (`C_Sign`, mechanism `CKM_ECDSA` over our SHA-256 or SHA-384 digest). Only the
//! signer process opens it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use rcgen::{PublicKeyData, SigningKey};

use crate::keys::CaKeyAlgorithm;
use crate::{Error, Result};

/// Where the key is: the module (the token vendor's library), the token's label, the key's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    /// The PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The token's label.
    pub token_label: String,
    /// The label of the key pair (private and public objects).
    pub key_label: String,
}

/// A logged-in session with the token, shared by the keys found in it: a process initialises
/// a PKCS#11 module once (a second `C_Initialize` is refused), so the receipt key
/// ([`TokenKey::companion`]) goes through the CA key's session.
struct TokenSession {
    /// `Session` is `Send` but not `Sync`: one signature at a time.
    session: Mutex<Session>,
    // Declared last: dropped after the session.
    _context: Pkcs11,
}

/// AC SISERI's key pair in a token, with a logged-in session.
pub struct TokenKey {
    session: Arc<TokenSession>,
    private: ObjectHandle,
    /// The public point, uncompressed (SEC 1), as in the certificate's subjectPublicKey.
    public: Vec<u8>,
    algorithm: CaKeyAlgorithm,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl TokenKey {
    /// Opens the key pair labelled `config.key_label` in the token, logging in with `pin`.
    pub fn open(config: &TokenConfig, pin: &str) -> Result<Self> {
        let (context, session) = login(config, pin)?;
        let (private, public, algorithm) = find_pair(&session, &config.key_label)?;
        Ok(Self {
            session: shared(context, session),
            private,
            public,
            algorithm,
        })
    }

    /// Makes a new key pair in the token, labelled `config.key_label`: the private key sensitive,
    /// never extractable, for signing only. Refuses if the label is taken.
    pub fn generate(config: &TokenConfig, pin: &str, algorithm: CaKeyAlgorithm) -> Result<Self> {
        let (context, session) = login(config, pin)?;
        let (private, public) = generate_pair(&session, &config.key_label, algorithm)?;
        Ok(Self {
            session: shared(context, session),
            private,
            public,
            algorithm,
        })
    }

    /// Another key pair of the same token, labelled `label`, through this key's session: the
    /// one found, else one made now (ECDSA `algorithm`, sensitive, never extractable, for
    /// signing only). The receipt key beside the CA key (issue 16 §2).
    pub fn companion(&self, label: &str, algorithm: CaKeyAlgorithm) -> Result<Self> {
        let session = self
            .session
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let taken = session
            .find_objects(&[Attribute::Label(label.as_bytes().to_vec())])
            .map_err(token_error)?;
        let (private, public, found) = if taken.is_empty() {
            let (private, public) = generate_pair(&session, label, algorithm)?;
            (private, public, algorithm)
        } else {
            find_pair(&session, label)?
        };
        drop(session);
        if found != algorithm {
            return Err(Error::KeyFile(format!(
                "la clé « {label} » du jeton n'est pas de l'algorithme attendu"
            )));
        }
        Ok(Self {
            session: self.session.clone(),
            private,
            public,
            algorithm,
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> CaKeyAlgorithm {
        self.algorithm
    }

    /// An ECDSA signature (DER) of `message`, made by the token over our digest of it.
    pub(crate) fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>> {
        let digest = match self.algorithm {
            CaKeyAlgorithm::EcdsaP256 => ring::digest::digest(&ring::digest::SHA256, message),
            CaKeyAlgorithm::EcdsaP384 => ring::digest::digest(&ring::digest::SHA384, message),
        };
        let raw = self
            .session
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sign(&Mechanism::Ecdsa, self.private, digest.as_ref())
            .map_err(token_error)?;
        // PKCS#11 gives r ‖ s, each the size of the order; X.509 wants ECDSA-Sig-Value.
        if raw.is_empty() || raw.len() % 2 != 0 {
            return Err(Error::KeyFile(
                "signature du jeton de taille inattendue".into(),
            ));
        }
        let (r, s) = raw.split_at(raw.len() / 2);
        Ok(yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_bigint_bytes(r, true);
                w.next().write_bigint_bytes(s, true);
            })
        }))
    }
}

impl PublicKeyData for TokenKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.algorithm.rcgen()
    }
}

impl SigningKey for TokenKey {
    fn sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        self.sign_message(message)
            .map_err(|_| rcgen::Error::RemoteKeyError)
    }
}

fn shared(context: Pkcs11, session: Session) -> Arc<TokenSession> {
    Arc::new(TokenSession {
        session: Mutex::new(session),
        _context: context,
    })
}

/// The private and public objects labelled `label`: the private handle, the public point, the
/// curve.
fn find_pair(session: &Session, label: &str) -> Result<(ObjectHandle, Vec<u8>, CaKeyAlgorithm)> {
    let private = one(
        session,
        &[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
        label,
    )?;
    let public_handle = one(
        session,
        &[
            Attribute::Class(ObjectClass::PUBLIC_KEY),
            Attribute::Label(label.as_bytes().to_vec()),
        ],
        label,
    )?;
    let (public, algorithm) = public_point(session, public_handle)?;
    Ok((private, public, algorithm))
}

/// A new key pair labelled `label` (refused if the label is taken): the private handle and
/// the public point.
fn generate_pair(
    session: &Session,
    label: &str,
    algorithm: CaKeyAlgorithm,
) -> Result<(ObjectHandle, Vec<u8>)> {
    let label = label.as_bytes().to_vec();
    let taken = session
        .find_objects(&[Attribute::Label(label.clone())])
        .map_err(token_error)?;
    if !taken.is_empty() {
        return Err(Error::KeyFile(format!(
            "le jeton contient déjà une clé « {} » : utilisez-la ([ca] pkcs11_generate = false) ou choisissez un autre libellé",
            String::from_utf8_lossy(&label)
        )));
    }
    let curve = match algorithm {
        // DER of the named curves' OIDs (RFC 5480): prime256v1, secp384r1.
        CaKeyAlgorithm::EcdsaP256 => {
            vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        }
        CaKeyAlgorithm::EcdsaP384 => vec![0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22],
    };
    let id = ring::digest::digest(&ring::digest::SHA256, &label).as_ref()[..8].to_vec();
    let (public_handle, private) = session
        .generate_key_pair(
            &Mechanism::EccKeyPairGen,
            &[
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::EcParams(curve),
                Attribute::Label(label.clone()),
                Attribute::Id(id.clone()),
            ],
            &[
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                // For signing only: some tokens (SoftHSM) allow the rest by default.
                Attribute::Decrypt(false),
                Attribute::Unwrap(false),
                Attribute::Derive(false),
                Attribute::Label(label),
                Attribute::Id(id),
            ],
        )
        .map_err(token_error)?;
    let (public, found) = public_point(session, public_handle)?;
    if found != algorithm {
        return Err(Error::KeyFile(
            "courbe inattendue pour la clé générée".into(),
        ));
    }
    Ok((private, public))
}

fn token_error(e: cryptoki::error::Error) -> Error {
    Error::KeyFile(format!("jeton PKCS#11 : {e}"))
}

/// Loads the module, finds the token by label and logs in as its user.
fn login(config: &TokenConfig, pin: &str) -> Result<(Pkcs11, Session)> {
    let context = load(&config.module)?;
    let mut slot = None;
    for s in context.get_slots_with_token().map_err(token_error)? {
        let info = context.get_token_info(s).map_err(token_error)?;
        if info.label().trim_end() == config.token_label {
            slot = Some(s);
            break;
        }
    }
    let slot = slot.ok_or_else(|| {
        Error::KeyFile(format!(
            "aucun jeton « {} » dans le module {}",
            config.token_label,
            config.module.display()
        ))
    })?;
    let session = context.open_rw_session(slot).map_err(token_error)?;
    session
        .login(UserType::User, Some(&AuthPin::new(pin.into())))
        .map_err(|e| match e {
            cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::PinIncorrect, _) => {
                Error::KeyFile("code PIN du jeton PKCS#11 refusé".into())
            }
            other => token_error(other),
        })?;
    Ok((context, session))
}

fn load(module: &Path) -> Result<Pkcs11> {
    let context = Pkcs11::new(module).map_err(|e| {
        Error::KeyFile(format!(
            "module PKCS#11 {} inutilisable : {e}",
            module.display()
        ))
    })?;
    context
        .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(token_error)?;
    Ok(context)
}

/// The one object matching `template`.
fn one(session: &Session, template: &[Attribute], label: &str) -> Result<ObjectHandle> {
    let found = session.find_objects(template).map_err(token_error)?;
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::KeyFile(format!(
            "aucune clé « {label} » dans le jeton"
        ))),
        _ => Err(Error::KeyFile(format!(
            "plusieurs objets « {label} » dans le jeton"
        ))),
    }
}

/// The public key's point (uncompressed) and its curve.
fn public_point(session: &Session, handle: ObjectHandle) -> Result<(Vec<u8>, CaKeyAlgorithm)> {
    let attributes = session
        .get_attributes(handle, &[AttributeType::KeyType, AttributeType::EcPoint])
        .map_err(token_error)?;
    let mut point = None;
    for a in attributes {
        match a {
            Attribute::KeyType(t) if t != KeyType::EC => {
                return Err(Error::KeyFile(
                    "la clé du jeton n'est pas une clé EC".into(),
                ))
            }
            Attribute::EcPoint(p) => point = Some(p),
            _ => {}
        }
    }
    let point = point.ok_or_else(|| Error::KeyFile("point EC absent du jeton".into()))?;
    // CKA_EC_POINT is a DER OCTET STRING around the point (some tokens give it bare).
    let point = match point.as_slice() {
        [0x04, len, rest @ ..] if usize::from(*len) == rest.len() => rest.to_vec(),
        _ => point,
    };
    let algorithm = match (point.first(), point.len()) {
        (Some(4), 65) => CaKeyAlgorithm::EcdsaP256,
        (Some(4), 97) => CaKeyAlgorithm::EcdsaP384,
        _ => {
            return Err(Error::KeyFile(
                "clé du jeton autre qu'ECDSA P-256 ou P-384".into(),
            ))
        }
    };
    Ok((point, algorithm))
}
