//! Keyed hashes of the secrets people hold (tokens, codes): only HMAC-SHA256 values under the
//! server key are stored, and comparisons are constant-time.

use std::fmt;

use ring::hmac;

/// The server key of keyed hashes (`secrets/hmac.key`).
#[derive(Clone)]
pub struct ServerKey(hmac::Key);

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey([secret key elided])")
    }
}

impl ServerKey {
    /// From raw key bytes (at least 32).
    pub fn new(bytes: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, bytes))
    }

    /// From the hex text of `secrets/hmac.key`.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = zeroize::Zeroizing::new(hex::decode(text.trim()).ok()?);
        (bytes.len() >= 32).then(|| Self::new(&bytes))
    }

    /// HMAC of `secret` in the domain `purpose` (so that a draft token can never pass for a
    /// withdrawal code, say).
    pub fn hash(&self, purpose: &str, secret: &str) -> Vec<u8> {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(purpose.as_bytes());
        ctx.update(&[0]);
        ctx.update(secret.as_bytes());
        ctx.sign().as_ref().to_vec()
    }

    /// Constant-time check of `secret` against a stored hash.
    pub fn verify(&self, purpose: &str, secret: &str, stored: &[u8]) -> bool {
        let mut msg = Vec::with_capacity(purpose.len() + 1 + secret.len());
        msg.extend_from_slice(purpose.as_bytes());
        msg.push(0);
        msg.extend_from_slice(secret.as_bytes());
        let ok = hmac::verify(&self.0, &msg, stored).is_ok();
        zeroize::Zeroize::zeroize(&mut msg);
        ok
    }
}

/// A fresh bearer token: 256 random bits, base64url without padding.
pub fn new_token() -> Result<zeroize::Zeroizing<String>, ca::Error> {
    use base64::Engine;
    let raw = ca::secret::random_bytes::<32>()?;
    Ok(zeroize::Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw),
    ))
}

/// A fresh public identifier: 128 random bits, hex.
pub fn new_id() -> Result<String, ca::Error> {
    Ok(hex::encode(ca::secret::random_bytes::<16>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_only_its_own_secret_in_its_own_purpose() {
        let key = ServerKey::new(&[7u8; 32]);
        let h = key.hash("draft", "abc");
        assert!(key.verify("draft", "abc", &h));
        assert!(!key.verify("draft", "abd", &h));
        assert!(!key.verify("withdrawal", "abc", &h));
        assert!(!format!("{key:?}").contains('7'));
    }

    #[test]
    fn tokens_carry_256_bits() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 43);
        assert_ne!(*t, *new_token().unwrap());
    }
}
