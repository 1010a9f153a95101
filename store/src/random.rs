//! Random values and passwords. Everything comes from the operating system's CSPRNG (ring).

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::{Error, Result};

/// Fills a fresh array with CSPRNG bytes.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| Error::Random)?;
    Ok(out)
}

/// Upper-case letters and digits without the look-alikes 0/O and 1/I: people copy these
/// passwords from an e-mail into a dialog box. 32 symbols, so 5 bits each and no modulo bias.
pub const UNAMBIGUOUS_ALPHABET: &[u8; 32] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

/// `len` symbols of [`UNAMBIGUOUS_ALPHABET`], uniformly drawn.
pub fn unambiguous_string(len: usize) -> Result<Zeroizing<String>> {
    let mut raw = Zeroizing::new(vec![0u8; len]);
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| Error::Random)?;
    Ok(Zeroizing::new(
        raw.iter()
            .map(|b| char::from(UNAMBIGUOUS_ALPHABET[usize::from(b & 31)]))
            .collect(),
    ))
}

/// A password for a `.p12` file, like `30Z4-A64J` in the seed: 4 + 4 symbols, 40 bits.
pub fn p12_password() -> Result<Zeroizing<String>> {
    let raw = unambiguous_string(8)?;
    Ok(Zeroizing::new(format!("{}-{}", &raw[..4], &raw[4..])))
}

/// A string of `len` decimal digits, uniformly drawn (rejection sampling avoids modulo bias).
pub fn digits(len: usize) -> Result<Zeroizing<String>> {
    let rng = SystemRandom::new();
    let mut out = Zeroizing::new(String::with_capacity(len));
    while out.len() < len {
        let mut b = [0u8; 1];
        rng.fill(&mut b).map_err(|_| Error::Random)?;
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p12_password_has_the_seeds_shape_and_no_ambiguous_symbol() {
        for _ in 0..200 {
            let p = p12_password().unwrap();
            assert_eq!(p.len(), 9);
            assert_eq!(&p[4..5], "-");
            assert!(p
                .chars()
                .filter(|c| *c != '-')
                .all(|c| UNAMBIGUOUS_ALPHABET.contains(&(c as u8))));
            assert!(!p.contains(['0', 'O', '1', 'I']));
        }
    }

    #[test]
    fn digits_are_digits_of_the_asked_length() {
        let d = digits(6).unwrap();
        assert_eq!(d.len(), 6);
        assert!(d.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn two_passwords_differ() {
        assert_ne!(*p12_password().unwrap(), *p12_password().unwrap());
    }
}
