//! PKCS#12 files for people's browsers, built with `p12-keystore` (the `p12` crate encrypts
//! the certificate bag with RC2-40, which OpenSSL 3 refuses without its legacy provider).

use p12_keystore::{
    Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKeyChain,
};
use ring::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Error, GeneratedKey, Result};

/// How a `.p12` is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum P12Profile {
    /// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC for both bags, HMAC-SHA256 MAC.
    #[default]
    Modern,
    /// 3DES (pbeWithSHAAnd3-KeyTripleDES-CBC) for both bags and an HMAC-SHA1 MAC, for older
    /// Windows, macOS and Android that cannot read the modern profile.
    Compat,
}

impl std::str::FromStr for P12Profile {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "modern" => Ok(Self::Modern),
            "compat" => Ok(Self::Compat),
            _ => Err(Error::Pkcs12(
                "profil PKCS#12 inconnu (modern ou compat)".into(),
            )),
        }
    }
}

/// Options of a `.p12`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct P12Options {
    /// Encryption and MAC algorithms.
    pub profile: P12Profile,
    /// Key-derivation iterations, for encryption and MAC alike. The password has about 40
    /// bits: a stolen file is only as strong as this number makes each guess expensive.
    pub iterations: u32,
}

impl Default for P12Options {
    fn default() -> Self {
        Self {
            profile: P12Profile::Modern,
            iterations: 100_000,
        }
    }
}

/// Builds a `.p12` holding `key`, its certificate `leaf_der` and AC SISERI `ca_der`, under
/// `friendly_name` (what the browser shows). Consumes the key: its bytes are zeroized when
/// this returns.
pub fn build_p12(
    key: GeneratedKey,
    leaf_der: &[u8],
    ca_der: &[u8],
    friendly_name: &str,
    password: &str,
    options: P12Options,
) -> Result<Zeroizing<Vec<u8>>> {
    let p12_err = |e: p12_keystore::error::Error| Error::Pkcs12(e.to_string());
    let leaf = Certificate::from_der(leaf_der).map_err(p12_err)?;
    let ca = Certificate::from_der(ca_der).map_err(p12_err)?;
    let leaf_hash = digest(&SHA256, leaf_der);
    let chain = PrivateKeyChain::new(key.pkcs8_der(), &leaf_hash.as_ref()[..20], [leaf, ca]);
    let mut store = KeyStore::new();
    store.add_entry(friendly_name, KeyStoreEntry::PrivateKeyChain(chain));
    let (encryption, mac) = match options.profile {
        P12Profile::Modern => (
            EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
            MacAlgorithm::HmacSha256,
        ),
        P12Profile::Compat => (
            EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
            MacAlgorithm::HmacSha1,
        ),
    };
    let iterations = u64::from(options.iterations.max(1));
    let bytes = store
        .writer(password)
        .encryption_algorithm(encryption)
        .encryption_iterations(iterations)
        .mac_algorithm(mac)
        .mac_iterations(iterations)
        .write()
        .map_err(p12_err)?;
    drop(store);
    drop(key);
    Ok(Zeroizing::new(bytes))
}
