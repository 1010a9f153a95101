//! Sharded CRLs (issue 14 §4), judged by pkilint and OpenSSL: each certificate names its
//! shard's CRL, each shard's CRL names the same URL in a critical Issuing Distribution Point,
//! a revocation re-signs its shard only, and a certificate keeps its shard whatever the
//! configured count becomes.

use std::path::{Path, PathBuf};

use ca::{
    Authority, CaKeyAlgorithm, GeneratedKey, IssueRequest, Issued, Policy, PublishedCrl,
    RevocationReason, Subject, SubscriberKeyAlgorithm,
};
use store::Clock;
use x509_parser::prelude::*;

#[path = "support/mod.rs"]
mod support;
use support::{text, tool, Fixture, PASSPHRASE};

const SHARD_URL: &str = "http://pki.siseri.example.fr/pki/crl/{shard}.crl";

/// Few shards, so that several certificates share one.
fn sharded(shards: u32) -> Policy {
    Policy {
        crl_url: Some("http://pki.siseri.example.fr/pki/ac-siseri.crl".into()),
        crl_shard_url: Some(SHARD_URL.into()),
        crl_shards: shards,
        ca_issuers_url: Some("http://pki.siseri.example.fr/pki/ac-siseri.cer".into()),
        ocsp_url: Some("http://pki.siseri.example.fr/ocsp".into()),
        ..Policy::default()
    }
}

fn url_of(shard: u32) -> String {
    SHARD_URL.replace("{shard}", &shard.to_string())
}

fn organisme(f: &mut Fixture, authority: Option<&Authority>, n: usize) -> Issued {
    let key = GeneratedKey::generate(SubscriberKeyAlgorithm::EcdsaP256).expect("organisme");
    let now = f.clock.now();
    let request = IssueRequest {
        subject: Subject::Organisme {
            name: format!("LABORATOIRE {n}"),
        },
        key: key.public(),
        requester: "test",
    };
    authority
        .unwrap_or(&f.authority)
        .issue(&mut f.conn, &request, now)
        .expect("organisme")
}

/// The URIs of the certificate's CRL distribution points.
fn distribution_points(der: &[u8]) -> Vec<String> {
    let (_, cert) = X509Certificate::from_der(der).expect("distribution_points");
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for p in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                    for n in names {
                        if let GeneralName::URI(u) = n {
                            urls.push(u.to_string());
                        }
                    }
                }
            }
        }
    }
    urls
}

/// (critical, URIs, onlyContainsUserCerts) of the CRL's Issuing Distribution Point, if any.
fn issuing_distribution_point(der: &[u8]) -> Option<(bool, Vec<String>, bool)> {
    let (_, crl) = x509_parser::parse_x509_crl(der).expect("issuing_distribution_point");
    crl.extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::IssuingDistributionPoint(p) => {
                let urls = match &p.distribution_point {
                    Some(DistributionPointName::FullName(names)) => names
                        .iter()
                        .filter_map(|n| match n {
                            GeneralName::URI(u) => Some(u.to_string()),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                Some((e.critical, urls, p.only_contains_user_certs))
            }
            _ => None,
        })
}

fn shard_of(f: &Fixture, issued: &Issued) -> u32 {
    Authority::find(&f.conn, &issued.serial)
        .expect("shard_of")
        .expect("shard_of")
        .crl_shard
        .expect("a certificate issued with shards has one")
}

fn write(f: &Fixture, name: &str, bytes: &[u8]) -> PathBuf {
    let path = f.path(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

fn pkilint_crl(path: &Path) {
    let mut cmd = tool("lint_crl");
    cmd.args(["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"])
        .arg(path);
    let out = cmd.output().expect("pkilint_crl");
    assert!(
        out.status.success() && out.stdout.iter().all(u8::is_ascii_whitespace),
        "pkilint found problems in {}:\n{}",
        path.display(),
        text(&out)
    );
}

/// `openssl verify -crl_check` of `leaf` against `crl` alone: (accepted, what it said).
fn openssl_verify(f: &Fixture, crl: &PublishedCrl, leaf: &Issued, name: &str) -> (bool, String) {
    let crl_path = write(
        f,
        &format!("{name}.crl.pem"),
        ca::to_pem("X509 CRL", &crl.der).as_bytes(),
    );
    let leaf_path = write(f, &format!("{name}.pem"), leaf.pem().as_bytes());
    let mut cmd = tool("openssl");
    cmd.args(["verify", "-crl_check", "-CAfile"])
        .arg(f.path("ca.pem"))
        .arg("-CRLfile")
        .arg(crl_path)
        .arg(leaf_path);
    let out = cmd.output().expect("openssl_verify");
    (out.status.success(), text(&out))
}

/// Certificates until two share a shard and a third sits in another: (a, b same shard, c).
fn three(f: &mut Fixture) -> (Issued, Issued, Issued) {
    let mut issued: Vec<Issued> = Vec::new();
    for n in 0..64 {
        issued.push(organisme(f, None, n));
        let shards: Vec<u32> = issued.iter().map(|i| shard_of(f, i)).collect();
        let last = *shards.last().expect("three");
        let Some(twin) = shards[..shards.len() - 1].iter().position(|s| *s == last) else {
            continue;
        };
        if let Some(other) = shards.iter().position(|s| *s != last) {
            let c = issued.remove(other);
            let b = issued.pop().expect("three");
            let a = issued.remove(if twin > other { twin - 1 } else { twin });
            return (a, b, c);
        }
    }
    panic!("64 certificates over 4 shards and no two alike");
}

#[test]
fn each_certificate_names_its_shards_crl_which_names_the_same_url_in_a_critical_idp() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, sharded(4));
    for n in 0..8 {
        let issued = organisme(&mut f, None, n);
        let shard = shard_of(&f, &issued);
        assert_eq!(shard, issued.serial.shard(4), "serial mod the shard count");
        assert_eq!(distribution_points(&issued.der), [url_of(shard)]);
        // Its shard's CRL existed before it was signed.
        let crl = Authority::shard_crl(&f.conn, shard).unwrap().unwrap();
        assert_eq!(
            issuing_distribution_point(&crl.der),
            Some((true, vec![url_of(shard)], true))
        );
    }
    // The full CRL keeps no Issuing Distribution Point: it covers every certificate.
    let now = f.now();
    let full = f.authority.publish_crl(&mut f.conn, "test", now).unwrap();
    assert_eq!(issuing_distribution_point(&full.der), None);
}

#[test]
fn a_revocation_re_signs_its_shard_only_and_openssl_honours_the_shard() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, sharded(4));
    let (revoked, neighbour, elsewhere) = three(&mut f);
    let shard = shard_of(&f, &revoked);
    let before: Vec<PublishedCrl> = (0..4)
        .filter_map(|s| Authority::shard_crl(&f.conn, s).unwrap())
        .collect();
    let full_before = Authority::latest_crl_info(&f.conn).unwrap();

    let crl = f
        .revoke(&revoked.serial, RevocationReason::KeyCompromise)
        .unwrap();

    assert_eq!(crl.shard, Some(shard));
    assert_eq!(crl.entries, 1);
    for old in &before {
        let now = Authority::shard_crl(&f.conn, old.shard.unwrap())
            .unwrap()
            .unwrap();
        if old.shard == Some(shard) {
            assert_eq!(now.number, old.number + 1, "the shard's own sequence");
            assert_eq!(now.der, crl.der);
        } else {
            assert_eq!((now.number, &now.der), (old.number, &old.der), "untouched");
        }
    }
    assert_eq!(
        Authority::latest_crl_info(&f.conn).unwrap(),
        full_before,
        "the full CRL is not re-signed in the revocation's path"
    );

    // pkilint accepts every shard's CRL, the one with an entry included.
    for s in 0..4 {
        if let Some(c) = Authority::shard_crl(&f.conn, s).unwrap() {
            pkilint_crl(&write(&f, &format!("shard-{s}.crl"), &c.der));
        }
    }
    // OpenSSL: the revoked one is refused, its neighbour in the same shard accepted.
    let (ok, said) = openssl_verify(&f, &crl, &revoked, "revoked");
    assert!(!ok && said.contains("certificate revoked"), "{said}");
    let (ok, said) = openssl_verify(&f, &crl, &neighbour, "neighbour");
    assert!(ok, "{said}");
    // This shard's CRL says nothing of another shard's certificates: OpenSSL sees that its
    // scope is not theirs rather than taking it as complete.
    let (ok, said) = openssl_verify(&f, &crl, &elsewhere, "elsewhere");
    assert!(!ok && said.contains("different CRL scope"), "{said}");
    let theirs = Authority::shard_crl(&f.conn, shard_of(&f, &elsewhere))
        .unwrap()
        .unwrap();
    let (ok, said) = openssl_verify(&f, &theirs, &elsewhere, "elsewhere-own");
    assert!(ok, "{said}");
}

#[test]
fn openssl_reads_every_shards_crl_with_its_idp() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP384, sharded(4));
    let (a, _, c) = three(&mut f);
    f.revoke(&a.serial, RevocationReason::Superseded).unwrap();
    f.revoke(&c.serial, RevocationReason::CessationOfOperation)
        .unwrap();
    for info in Authority::shard_crls_info(&f.conn).unwrap() {
        let crl = Authority::shard_crl(&f.conn, info.shard).unwrap().unwrap();
        let path = write(&f, &format!("s{}.der", info.shard), &crl.der);
        let mut cmd = tool("openssl");
        cmd.args(["crl", "-inform", "DER", "-noout", "-text", "-CAfile"])
            .arg(f.path("ca.pem"))
            .arg("-in")
            .arg(&path);
        let out = cmd.output().unwrap();
        let said = text(&out);
        assert!(out.status.success(), "{said}");
        assert!(said.contains("verify OK"), "{said}");
        assert!(
            said.contains("X509v3 Issuing Distribution Point: critical"),
            "{said}"
        );
        assert!(
            said.contains(&format!("URI:{}", url_of(info.shard))),
            "{said}"
        );
        assert!(said.contains("Only User Certificates"), "{said}");
    }
}

#[test]
fn a_certificate_keeps_its_shard_when_the_shard_count_changes() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, sharded(4));
    let old = organisme(&mut f, None, 1);
    let old_shard = shard_of(&f, &old);
    // The same CA loaded with another count, as after an edit of [ca] crl_shards.
    let cert_pem = std::fs::read_to_string(f.path("ca.pem")).unwrap();
    let key_pem = std::fs::read_to_string(f.path("ca.key.pem")).unwrap();
    let wider = Authority::load(&cert_pem, &key_pem, PASSPHRASE, sharded(7)).unwrap();
    let new = organisme(&mut f, Some(&wider), 2);
    assert_eq!(shard_of(&f, &new), new.serial.shard(7));

    let now = f.now();
    let crl = wider
        .revoke(
            &mut f.conn,
            &old.serial,
            RevocationReason::Unspecified,
            "test",
            now,
        )
        .unwrap();
    assert_eq!(
        crl.shard,
        Some(old_shard),
        "the stored shard, not serial mod 7"
    );
    assert_eq!(distribution_points(&old.der), [url_of(old_shard)]);
    let (ok, said) = openssl_verify(&f, &crl, &old, "old");
    assert!(!ok && said.contains("certificate revoked"), "{said}");
}

#[test]
fn a_certificate_without_a_shard_is_revoked_in_the_full_crl_at_once() {
    // Issued before shards: its distribution point is the full CRL.
    let mut f = Fixture::new(
        CaKeyAlgorithm::EcdsaP256,
        Policy {
            crl_url: Some("http://pki.siseri.example.fr/pki/ac-siseri.crl".into()),
            ..Policy::default()
        },
    );
    let legacy = organisme(&mut f, None, 1);
    assert_eq!(
        Authority::find(&f.conn, &legacy.serial)
            .unwrap()
            .unwrap()
            .crl_shard,
        None
    );
    assert_eq!(
        distribution_points(&legacy.der),
        ["http://pki.siseri.example.fr/pki/ac-siseri.crl"]
    );
    let crl = f
        .revoke(&legacy.serial, RevocationReason::KeyCompromise)
        .unwrap();
    assert_eq!((crl.shard, crl.entries), (None, 1));
    assert_eq!(issuing_distribution_point(&crl.der), None);
    assert!(!Authority::crl_is_stale(&f.conn).unwrap());
}

#[test]
fn publishing_after_revocations_re_signs_only_the_stale_shards() {
    let mut f = Fixture::new(CaKeyAlgorithm::EcdsaP256, sharded(4));
    let (a, b, c) = three(&mut f);
    let now = f.now();
    let tx = ca::immediate(&mut f.conn).unwrap();
    for issued in [&a, &b] {
        f.authority
            .revoke_in(
                &tx,
                &issued.serial,
                RevocationReason::Superseded,
                "test",
                now,
            )
            .unwrap();
    }
    tx.commit().unwrap();
    let published = f
        .authority
        .publish_revocations(&mut f.conn, "test", now)
        .unwrap();
    // a and b share a shard: one CRL with both, nothing else (c's shard, the full CRL).
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0].shard, Some(shard_of(&f, &a)));
    assert_eq!(published[0].entries, 2);
    assert_ne!(shard_of(&f, &c), shard_of(&f, &a));
    assert!(f
        .authority
        .publish_revocations(&mut f.conn, "test", now)
        .unwrap()
        .is_empty());
    // The daemon's refresh publishes the shards no certificate named yet, then nothing more
    // until the CRLs are a day old.
    let day = ::time::Duration::days(1);
    let missing = f
        .authority
        .refresh_shard_crls(&mut f.conn, "test", now, day)
        .unwrap();
    assert!(missing.iter().all(|c| c.entries == 0), "{missing:?}");
    assert_eq!(Authority::shard_crls_info(&f.conn).unwrap().len(), 4);
    assert!(f
        .authority
        .refresh_shard_crls(&mut f.conn, "test", now, day)
        .unwrap()
        .is_empty());
    let later = f
        .authority
        .refresh_shard_crls(&mut f.conn, "test", now + day, day)
        .unwrap();
    assert_eq!(later.len(), 4);
}
