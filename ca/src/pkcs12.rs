//! PKCS#12 files for people's browsers.
//!
//! The file is assembled here, from the RustCrypto ASN.1 types (`pkcs12`, `cms`, `der`) and
//! ciphers (`pkcs5`, `des`, `cbc`, `hmac`), the way `p12-keystore` 0.2 does it internally,
//! because no crate lets us name the certificate bag: `p12` encrypts the certificates with
//! RC2-40, which OpenSSL 3 refuses without its legacy provider, and `p12-keystore` gives the
//! leaf certificate's bag the subject DN as friendlyName (only the key bag gets our alias),
//! with its encoder private. Browsers and NSS name the imported certificate after that bag, so
//! here the key bag and the leaf certificate bag both carry the person's name and the same
//! localKeyId.
//!
//! Layout, as OpenSSL and p12-keystore write it: an AuthenticatedSafe of an EncryptedData
//! holding the leaf and AC SISERI certificate bags, then a Data holding the
//! pkcs8ShroudedKeyBag, under a password MAC (PKCS#12 key derivation).

use cbc::cipher::{block_padding::Pkcs7, BlockEncryptMut, KeyIvInit};
use cms::cert::x509::attr::{Attribute, AttributeValue, Attributes};
use cms::cert::x509::spki::AlgorithmIdentifierOwned;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::encrypted_data::EncryptedData;
use cms::enveloped_data::EncryptedContentInfo;
use der::asn1::{BmpString, ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Encode};
use hmac::{Hmac, Mac};
use pkcs12_asn1::cert_type::CertBag;
use pkcs12_asn1::digest_info::DigestInfo;
use pkcs12_asn1::kdf::{derive_key_utf8, Pkcs12KeyType};
use pkcs12_asn1::mac_data::MacData;
use pkcs12_asn1::pbe_params::{EncryptedPrivateKeyInfo, Pkcs12PbeParams};
use pkcs12_asn1::pfx::{Pfx, Version};
use pkcs12_asn1::safe_bag::SafeBag;
use pkcs5::pbes2;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha1::Sha1;
use sha2::Sha256;
use x509_parser::prelude::{FromDer, X509Certificate};
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

// PKCS#9 bag attributes and CMS content types.
const FRIENDLY_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
// MAC digests.
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

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
    let leaf = parse_certificate(leaf_der)?;
    let ca = parse_certificate(ca_der)?;
    let (leaf_spki, key_spki) = (leaf.public_key(), key_spki(&key)?);
    if leaf_spki.algorithm.algorithm != key_spki.algorithm.algorithm
        || leaf_spki.subject_public_key.data != key_spki.subject_public_key.data
    {
        return Err(Error::Pkcs12(
            "le certificat ne correspond pas à la clé".into(),
        ));
    }
    let ca_name = ca
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok());

    let protection = Protection::new(password, options)?;
    // Ties the key to its certificate: the first 20 bytes of the certificate's SHA-256.
    let leaf_hash = digest(&SHA256, leaf_der);
    let local_key_id = &leaf_hash.as_ref()[..20];

    let certificates = vec![
        cert_bag(leaf_der, Some(friendly_name), Some(local_key_id))?,
        cert_bag(ca_der, ca_name, None)?,
    ];
    let (alg, encrypted) = protection.encrypt(&certificates.to_der().map_err(der_err)?)?;
    let certificates = ContentInfo {
        content_type: ENCRYPTED_DATA,
        content: Any::encode_from(&EncryptedData {
            version: CmsVersion::V0,
            enc_content_info: EncryptedContentInfo {
                content_type: DATA,
                content_enc_alg: alg,
                encrypted_content: Some(OctetString::new(encrypted).map_err(der_err)?),
            },
            unprotected_attrs: None,
        })
        .map_err(der_err)?,
    };

    // The only clear copy of the private key is the buffer `encrypt` wipes.
    let (alg, encrypted) = protection.encrypt(key.pkcs8_der())?;
    drop(key);
    let shrouded = EncryptedPrivateKeyInfo {
        encryption_algorithm: alg,
        encrypted_data: OctetString::new(encrypted).map_err(der_err)?,
    };
    let key_bag = SafeBag {
        bag_id: pkcs12_asn1::PKCS_12_PKCS8_KEY_BAG_OID,
        bag_value: shrouded.to_der().map_err(der_err)?,
        bag_attributes: attributes(Some(friendly_name), Some(local_key_id))?,
    };
    let keys = ContentInfo {
        content_type: DATA,
        content: data(vec![key_bag].to_der().map_err(der_err)?)?,
    };

    let auth_safe = vec![certificates, keys].to_der().map_err(der_err)?;
    let mac_data = protection.mac(&auth_safe)?;
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: ContentInfo {
            content_type: DATA,
            content: data(auth_safe)?,
        },
        mac_data: Some(mac_data),
    };
    Ok(Zeroizing::new(pfx.to_der().map_err(der_err)?))
}

fn der_err(e: der::Error) -> Error {
    Error::Pkcs12(format!("encodage DER : {e}"))
}

fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(Error::Pkcs12("certificat illisible".into())),
    }
}

fn key_spki(key: &GeneratedKey) -> Result<x509_parser::x509::SubjectPublicKeyInfo<'_>> {
    x509_parser::x509::SubjectPublicKeyInfo::from_der(key.public().spki_der())
        .map(|(_, spki)| spki)
        .map_err(|_| Error::Pkcs12("clé publique illisible".into()))
}

/// A CMS Data content: an OCTET STRING.
fn data(bytes: Vec<u8>) -> Result<Any> {
    Any::encode_from(&OctetString::new(bytes).map_err(der_err)?).map_err(der_err)
}

/// friendlyName (a BMPString, as PKCS#9 requires) and localKeyId bag attributes.
fn attributes(
    friendly_name: Option<&str>,
    local_key_id: Option<&[u8]>,
) -> Result<Option<Attributes>> {
    let mut attributes = Vec::new();
    if let Some(name) = friendly_name {
        let name = BmpString::from_utf8(name).map_err(|_| {
            Error::Pkcs12(format!("nom « {name} » impossible à écrire en BMPString"))
        })?;
        attributes.push(attribute(FRIENDLY_NAME, Any::encode_from(&name))?);
    }
    if let Some(id) = local_key_id {
        let id = OctetString::new(id).map_err(der_err)?;
        attributes.push(attribute(LOCAL_KEY_ID, Any::encode_from(&id))?);
    }
    if attributes.is_empty() {
        return Ok(None);
    }
    Ok(Some(SetOfVec::try_from(attributes).map_err(der_err)?))
}

fn attribute(oid: ObjectIdentifier, value: der::Result<AttributeValue>) -> Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value.map_err(der_err)?]).map_err(der_err)?,
    })
}

fn cert_bag(
    der: &[u8],
    friendly_name: Option<&str>,
    local_key_id: Option<&[u8]>,
) -> Result<SafeBag> {
    let bag = CertBag {
        cert_id: pkcs12_asn1::PKCS_12_X509_CERT_OID,
        cert_value: OctetString::new(der).map_err(der_err)?,
    };
    Ok(SafeBag {
        bag_id: pkcs12_asn1::PKCS_12_CERT_BAG_OID,
        bag_value: bag.to_der().map_err(der_err)?,
        bag_attributes: attributes(friendly_name, local_key_id)?,
    })
}

/// The password, algorithms and iteration count of one file.
struct Protection<'a> {
    password: &'a str,
    profile: P12Profile,
    /// PBKDF2 takes a `u32`, the PKCS#12 KDF and the ASN.1 fields an `i32`: both fit.
    iterations: u32,
    rounds: i32,
    rng: SystemRandom,
}

impl<'a> Protection<'a> {
    fn new(password: &'a str, options: P12Options) -> Result<Self> {
        let iterations = options.iterations.max(1);
        let rounds = i32::try_from(iterations).map_err(|_| {
            Error::Pkcs12(format!(
                "trop d'itérations ({iterations}, au plus {})",
                i32::MAX
            ))
        })?;
        Ok(Self {
            password,
            profile: options.profile,
            iterations,
            rounds,
            rng: SystemRandom::new(),
        })
    }

    fn random<const N: usize>(&self) -> Result<[u8; N]> {
        let mut bytes = [0u8; N];
        self.rng
            .fill(&mut bytes)
            .map_err(|_| Error::Store(store::Error::Random))?;
        Ok(bytes)
    }

    /// Derives a key with the PKCS#12 KDF (RFC 7292, appendix B), wiped on drop.
    fn pkcs12_kdf<D>(
        &self,
        salt: &[u8],
        id: Pkcs12KeyType,
        len: usize,
    ) -> Result<Zeroizing<Vec<u8>>>
    where
        D: sha2::Digest + sha2::digest::FixedOutputReset + sha2::digest::core_api::BlockSizeUser,
    {
        derive_key_utf8::<D>(self.password, salt, id, self.rounds, len)
            .map(Zeroizing::new)
            .map_err(|_| Error::Pkcs12("mot de passe impossible à écrire en BMPString".into()))
    }

    /// Encrypts `plaintext` for a bag (PBES2 or PKCS#12 PBE), returning the algorithm
    /// identifier and the ciphertext. The working buffer, which holds the clear text first,
    /// is wiped on drop.
    fn encrypt(&self, plaintext: &[u8]) -> Result<(AlgorithmIdentifierOwned, Vec<u8>)> {
        const BLOCK: usize = 16; // room for the padding of AES (16) and 3DES (8)
        let mut buffer = Zeroizing::new(Vec::with_capacity(plaintext.len() + BLOCK));
        buffer.extend_from_slice(plaintext);
        buffer.resize(plaintext.len() + BLOCK, 0);
        let cipher_err = |e: &dyn std::fmt::Display| Error::Pkcs12(format!("chiffrement : {e}"));
        match self.profile {
            P12Profile::Modern => {
                let salt: [u8; 32] = self.random()?;
                let iv: [u8; 16] = self.random()?;
                let params =
                    pbes2::Parameters::pbkdf2_sha256_aes256cbc(self.iterations, &salt, &iv)
                        .map_err(|e| cipher_err(&e))?;
                let encrypted = params
                    .encrypt_in_place(self.password.as_bytes(), &mut buffer, plaintext.len())
                    .map_err(|e| cipher_err(&e))?
                    .to_vec();
                let alg = AlgorithmIdentifierOwned {
                    oid: pbes2::PBES2_OID,
                    parameters: Some(Any::encode_from(&params).map_err(der_err)?),
                };
                Ok((alg, encrypted))
            }
            P12Profile::Compat => {
                let salt: [u8; 20] = self.random()?;
                let key = self.pkcs12_kdf::<Sha1>(&salt, Pkcs12KeyType::EncryptionKey, 24)?;
                let iv = self.pkcs12_kdf::<Sha1>(&salt, Pkcs12KeyType::Iv, 8)?;
                let encrypted = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                    .map_err(|e| cipher_err(&e))?
                    .encrypt_padded_mut::<Pkcs7>(&mut buffer, plaintext.len())
                    .map_err(|e| cipher_err(&e))?
                    .to_vec();
                let params = Pkcs12PbeParams {
                    salt: OctetString::new(salt).map_err(der_err)?,
                    iterations: self.rounds,
                };
                let alg = AlgorithmIdentifierOwned {
                    oid: pkcs12_asn1::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC,
                    parameters: Some(Any::encode_from(&params).map_err(der_err)?),
                };
                Ok((alg, encrypted))
            }
        }
    }

    /// The password MAC over the AuthenticatedSafe, its key from the PKCS#12 KDF.
    fn mac(&self, auth_safe: &[u8]) -> Result<MacData> {
        let key_err = |_| Error::Pkcs12("clé de MAC invalide".into());
        let (oid, salt, mac) = match self.profile {
            P12Profile::Modern => {
                let salt: [u8; 32] = self.random()?;
                let key = self.pkcs12_kdf::<Sha256>(&salt, Pkcs12KeyType::Mac, 32)?;
                let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(key_err)?;
                mac.update(auth_safe);
                (
                    SHA256_OID,
                    salt.to_vec(),
                    mac.finalize().into_bytes().to_vec(),
                )
            }
            P12Profile::Compat => {
                let salt: [u8; 20] = self.random()?;
                let key = self.pkcs12_kdf::<Sha1>(&salt, Pkcs12KeyType::Mac, 20)?;
                let mut mac = Hmac::<Sha1>::new_from_slice(&key).map_err(key_err)?;
                mac.update(auth_safe);
                (SHA1, salt.to_vec(), mac.finalize().into_bytes().to_vec())
            }
        };
        Ok(MacData {
            mac: DigestInfo {
                // NULL parameters, as OpenSSL writes them.
                algorithm: AlgorithmIdentifierOwned {
                    oid,
                    parameters: Some(Any::null()),
                },
                digest: OctetString::new(mac).map_err(der_err)?,
            },
            mac_salt: OctetString::new(salt).map_err(der_err)?,
            iterations: self.rounds,
        })
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::SubscriberKeyAlgorithm;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    /// AC SISERI and a leaf for `key`, signed by it: (leaf, ca) in DER.
    fn certificates(key: &GeneratedKey) -> (Vec<u8>, Vec<u8>) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "AC SISERI");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = ca_params.clone().self_signed(&ca_key).unwrap();
        let mut leaf_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "Pierre DILLENSEGER 42003");
        let leaf_key = KeyPair::try_from(key.pkcs8_der()).unwrap();
        let leaf = leaf_params
            .signed_by(&leaf_key, &Issuer::new(ca_params, &ca_key))
            .unwrap();
        (leaf.der().to_vec(), ca.der().to_vec())
    }

    #[test]
    fn both_profiles_read_back_with_key_leaf_and_ca_under_the_friendly_name() {
        for profile in [P12Profile::Modern, P12Profile::Compat] {
            let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
            let pkcs8 = key.pkcs8_der().to_vec();
            let (leaf, ca) = certificates(&key);
            let options = P12Options {
                profile,
                iterations: 2048,
            };
            let p12 =
                build_p12(key, &leaf, &ca, "Pierre DILLENSEGER", "AAAA-BBBB", options).unwrap();

            let store = p12_keystore::KeyStore::from_pkcs12(&p12, "AAAA-BBBB").unwrap();
            let (alias, chain) = store.private_key_chain().unwrap();
            assert_eq!(alias, "Pierre DILLENSEGER", "{profile:?}");
            assert_eq!(chain.key(), pkcs8.as_slice());
            let ders: Vec<&[u8]> = chain.chain().iter().map(|c| c.as_der()).collect();
            assert_eq!(ders, [leaf.as_slice(), ca.as_slice()]);
            assert!(p12_keystore::KeyStore::from_pkcs12(&p12, "CCCC-DDDD").is_err());
        }
    }

    #[test]
    fn a_certificate_of_another_key_is_refused() {
        let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
        let other = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
        let (leaf, ca) = certificates(&other);
        let err = build_p12(
            key,
            &leaf,
            &ca,
            "Pierre",
            "AAAA-BBBB",
            P12Options::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("ne correspond pas"), "{err}");
    }

    #[test]
    fn iterations_beyond_the_asn1_integer_are_refused() {
        let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).unwrap();
        let (leaf, ca) = certificates(&key);
        let options = P12Options {
            profile: P12Profile::Modern,
            iterations: u32::MAX,
        };
        let err = build_p12(key, &leaf, &ca, "Pierre", "AAAA-BBBB", options).unwrap_err();
        assert!(err.to_string().contains("itérations"), "{err}");
    }
}
