//! The récépissé signed by a held key and read back; what its verification refuses.

use rusqlite::Connection;
use time::{Duration, OffsetDateTime};

use super::document::tests::sample;
use super::*;
use crate::{CaKeyAlgorithm, Policy};

const PASSPHRASE: &str = "phrase des récépissés";

fn now() -> OffsetDateTime {
    time::macros::datetime!(2026-12-06 12:00:05 UTC)
}

/// AC SISERI holding its key, its database in memory, a receipt key installed and certified.
fn authority() -> (Authority, Connection, String) {
    let ceremony = Authority::create_root(
        CaKeyAlgorithm::EcdsaP256,
        &Policy::default(),
        PASSPHRASE,
        now(),
    )
    .unwrap();
    let cert = ceremony.certificate_pem.unwrap();
    let ca = Authority::load(
        &cert,
        &ceremony.encrypted_key_pem,
        PASSPHRASE,
        Policy::default(),
    )
    .unwrap();
    let mut conn = Connection::open_in_memory().unwrap();
    crate::migrations::apply(&mut conn).unwrap();
    let (key, _) = ReceiptKey::generate(PASSPHRASE).unwrap();
    ca.install_receipt_key(key).unwrap();
    let renewal = ca
        .ensure_receipt_certificate(&mut conn, None, now())
        .unwrap()
        .expect("a first certificate");
    (ca, conn, renewal.file_pem)
}

#[test]
fn a_held_receipt_key_signs_a_recepisse_that_verifies_and_says_what_was_asked() {
    let (ca, _, _) = authority();
    let der = ca.sign_receipt(&sample(), now()).unwrap();
    let verified = verify_receipt_signed(&der, ca.certificate_der()).unwrap();
    assert_eq!(verified.recepisse, sample());
    assert_eq!(verified.signed_at, now());
    assert!(verified.certificate_not_after > now() + Duration::days(300));
}

#[test]
fn the_receipt_certificate_is_recorded_and_renewed_only_when_thirty_days_are_left() {
    let (ca, mut conn, file) = authority();
    let first = ca.receipt_certificate().expect("a certificate in force");
    let serial: String = conn
        .query_row(
            "SELECT serial_hex FROM ca_certificates WHERE profile = 'receipt' AND status = 'issued'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&first).unwrap();
    assert_eq!(
        cert.raw_serial_as_string().replace(':', "").to_uppercase(),
        serial
    );
    // Still valid for months: nothing changes.
    let later = now() + Duration::days(200);
    assert_eq!(
        ca.ensure_receipt_certificate(&mut conn, Some(&file), later)
            .unwrap(),
        None
    );
    // Twenty-nine days left: a new one, the old one kept behind it until it expires.
    let late = now() + Duration::days(365 - 29);
    let renewal = ca
        .ensure_receipt_certificate(&mut conn, Some(&file), late)
        .unwrap()
        .expect("renewed");
    assert!(renewal.issued.is_some());
    let blocks = pem::parse_many(&renewal.file_pem).unwrap();
    assert_eq!(blocks.len(), 2);
    assert_eq!(blocks[1].contents(), first.as_slice());
    assert_ne!(ca.receipt_certificate().unwrap(), first);
    // Once the old one expired, the file drops it.
    let after = now() + Duration::days(370);
    let cleaned = ca
        .ensure_receipt_certificate(&mut conn, Some(&renewal.file_pem), after)
        .unwrap()
        .expect("expired one dropped");
    assert_eq!(cleaned.issued, None);
    assert_eq!(pem::parse_many(&cleaned.file_pem).unwrap().len(), 1);
}

/// The CMS DER with one byte of `needle` (found once) changed.
fn flip(der: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = der
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle in the DER");
    let mut out = der.to_vec();
    out[at + needle.len() - 1] ^= 0x01;
    out
}

#[test]
fn a_changed_content_signature_or_certificate_and_a_foreign_ca_are_refused() {
    let (ca, _, _) = authority();
    let der = ca.sign_receipt(&sample(), now()).unwrap();
    // One byte of the content ("accepted":10 becomes 11).
    let content = flip(&der, b"\"accepted\":10");
    assert!(verify_receipt(&content, ca.certificate_der())
        .unwrap_err()
        .to_string()
        .contains("empreinte"));
    // One byte of the signature (its last byte, at the very end of the DER).
    let mut signature = der.clone();
    let last = signature.len() - 1;
    signature[last] ^= 0x01;
    assert!(verify_receipt(&signature, ca.certificate_der()).is_err());
    // One byte of the receipt certificate's signature: no longer AC SISERI's.
    let receipt_cert = ca.receipt_certificate().unwrap();
    let tail = &receipt_cert[receipt_cert.len() - 8..];
    let certificate = flip(&der, tail);
    assert!(verify_receipt(&certificate, ca.certificate_der())
        .unwrap_err()
        .to_string()
        .contains("AC"));
    // Another AC SISERI (same name, other key) does not vouch for it.
    let (other, _, _) = authority();
    assert!(verify_receipt(&der, other.certificate_der()).is_err());
    // And a receipt of the other one, presented to ours.
    let foreign = other.sign_receipt(&sample(), now()).unwrap();
    assert!(verify_receipt(&foreign, ca.certificate_der()).is_err());
    // Untouched, it verifies: the refusals above are not blind.
    assert!(verify_receipt(&der, ca.certificate_der()).is_ok());
}

#[test]
fn the_key_holder_refuses_a_malformed_recepisse_and_signs_nothing_without_a_certificate() {
    let (ca, _, _) = authority();
    let mut bad = sample();
    bad.rejected = 5;
    assert!(matches!(
        ca.sign_receipt(&bad, now()),
        Err(Error::Receipt(_))
    ));
    let spaced = String::from_utf8(sample().to_signed_bytes().unwrap())
        .unwrap()
        .replace(',', " ,");
    assert!(matches!(
        ca.receipt_signature(spaced.as_bytes(), now()),
        Err(Error::SignerRefused(_))
    ));
    // A year and a day later, the certificate has expired: nothing is signed.
    assert!(matches!(
        ca.sign_receipt(&sample(), now() + Duration::days(366)),
        Err(Error::SignerUnavailable(_))
    ));
}

#[test]
fn the_receipt_key_survives_its_encrypted_file_and_hides_in_debug() {
    let (key, pem) = ReceiptKey::generate(PASSPHRASE).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let again = ReceiptKey::from_encrypted_pem(&pem, PASSPHRASE).unwrap();
    assert_eq!(again.public(), key.public());
    assert!(matches!(
        ReceiptKey::from_encrypted_pem(&pem, "autre"),
        Err(Error::WrongPassphrase)
    ));
    assert!(format!("{key:?}").contains("elided"));
}

#[test]
fn a_revoked_receipt_certificate_is_not_followed_by_another_for_the_same_key() {
    let (ca, mut conn, file) = authority();
    let serial = ca.receipt_certificate_serial().expect("in force");
    ca.revoke(
        &mut conn,
        &serial,
        crate::RevocationReason::KeyCompromise,
        "test",
        now(),
    )
    .unwrap();
    let why = ca
        .ensure_receipt_certificate(&mut conn, Some(&file), now())
        .unwrap_err();
    assert!(
        matches!(&why, Error::ReceiptKeyRevoked { serial: s } if *s == serial.to_hex()),
        "{why}"
    );
    assert_eq!(ca.receipt_certificate(), None);
    assert!(matches!(
        ca.sign_receipt(&sample(), now()),
        Err(Error::SignerUnavailable(_))
    ));
    let issued: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM ca_certificates WHERE profile = 'receipt'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(issued, 1, "no new certificate for a compromised key");
    // A new key is certified at once.
    let (fresh, _) = ReceiptKey::generate(PASSPHRASE).unwrap();
    ca.install_receipt_key(fresh).unwrap();
    let renewal = ca
        .ensure_receipt_certificate(&mut conn, Some(&file), now())
        .unwrap()
        .expect("a certificate for the new key");
    assert!(renewal.issued.is_some());
    assert!(ca.sign_receipt(&sample(), now()).is_ok());
}
