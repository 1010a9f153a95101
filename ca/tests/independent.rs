//! The CA judged by implementations other than ours: pkilint, OpenSSL 3, NSS and Python
//! `cryptography`. These tools are installed by `scripts/test.sh`; a missing one fails loudly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ::time::{Duration, OffsetDateTime};
use ca::{
    build_p12, Authority, CaKeyAlgorithm, CertificateStatus, GeneratedKey, IssueRequest, Issued,
    P12Options, P12Profile, Policy, RevocationReason, Subject, SubjectKey, SubscriberKeyAlgorithm,
};
use store::{audit, Clock};
use x509_parser::prelude::*;

#[path = "support/mod.rs"]
mod support;
use support::{open, prepare_only, text, tool, Fixture, PASSPHRASE};

/// AC SISERI with the URLs it publishes in the certificates it signs.
fn fixture(algorithm: CaKeyAlgorithm) -> Fixture {
    Fixture::new(
        algorithm,
        Policy {
            crl_url: Some("http://pki.siseri.example.fr/pki/ac-siseri.crl".into()),
            ca_issuers_url: Some("http://pki.siseri.example.fr/pki/ac-siseri.cer".into()),
            ocsp_url: Some("http://pki.siseri.example.fr/ocsp".into()),
            ..Policy::default()
        },
    )
}

impl Fixture {
    fn issue(&mut self, subject: Subject, key: &SubjectKey) -> Issued {
        let now = self.clock.now();
        self.authority
            .issue(
                &mut self.conn,
                &IssueRequest {
                    subject,
                    key,
                    requester: "test",
                },
                now,
            )
            .expect("issue failed")
    }

    fn write_pem(&self, name: &str, issued: &Issued) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, issued.pem()).expect("write failed");
        path
    }
}

fn pierre() -> Subject {
    Subject::Person {
        first_name: "Pierre".into(),
        last_name: "Dillenseger".into(),
        habilitation: 42003,
        email: "p.dillenseger@alara.example".into(),
    }
}

/// The first value `pick` takes from `cert`'s extensions.
fn extension<T>(cert: &X509Certificate, pick: impl Fn(&ParsedExtension) -> Option<T>) -> T {
    cert.extensions()
        .iter()
        .find_map(|e| pick(e.parsed_extension()))
        .expect("the extension is missing")
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("the tool could not be started")
}

fn pkilint_cert(path: &Path) {
    let mut cmd = tool("lint_pkix_cert");
    cmd.args(["lint", "-s", "WARNING"]).arg(path);
    let out = run(cmd);
    assert!(
        out.status.success() && out.stdout.iter().all(u8::is_ascii_whitespace),
        "pkilint found problems in {}:\n{}",
        path.display(),
        text(&out)
    );
}

fn pkilint_crl(path: &Path) {
    let mut cmd = tool("lint_crl");
    cmd.args(["lint", "-t", "CRL", "-p", "PKIX", "-s", "WARNING"])
        .arg(path);
    let out = run(cmd);
    assert!(
        out.status.success() && out.stdout.iter().all(u8::is_ascii_whitespace),
        "pkilint found problems in the CRL:\n{}",
        text(&out)
    );
}

fn generated(alg: SubscriberKeyAlgorithm) -> GeneratedKey {
    GeneratedKey::generate(alg).expect("GeneratedKey::generate failed")
}

#[test]
fn every_profile_and_the_crl_pass_pkilint_without_a_warning() {
    for algorithm in [CaKeyAlgorithm::EcdsaP256, CaKeyAlgorithm::EcdsaP384] {
        let mut f = fixture(algorithm);
        pkilint_cert(&f.path("ca.pem"));
        let person_key = generated(SubscriberKeyAlgorithm::EcdsaP256);
        let person = f.issue(pierre(), person_key.public());
        pkilint_cert(&f.write_pem("person.pem", &person));
        let rsa_key = generated(SubscriberKeyAlgorithm::Rsa2048);
        let person_rsa = f.issue(pierre(), rsa_key.public());
        pkilint_cert(&f.write_pem("person-rsa.pem", &person_rsa));
        let org_key = generated(SubscriberKeyAlgorithm::EcdsaP256);
        let org = f.issue(
            Subject::Organisme {
                name: "LABORATOIRE DE DOSIMETRIE".into(),
            },
            org_key.public(),
        );
        pkilint_cert(&f.write_pem("organisme.pem", &org));
        let tls_key = generated(SubscriberKeyAlgorithm::EcdsaP256);
        let tls = f.issue(
            Subject::TlsServer {
                names: vec!["siseri.example.fr".into(), "127.0.0.1".into()],
            },
            tls_key.public(),
        );
        pkilint_cert(&f.write_pem("tls.pem", &tls));

        f.revoke(&org.serial, RevocationReason::KeyCompromise)
            .unwrap();
        let crl = f
            .revoke(&person_rsa.serial, RevocationReason::Unspecified)
            .unwrap();
        assert_eq!(crl.entries, 2);
        std::fs::write(f.path("crl.der"), &crl.der).unwrap();
        pkilint_crl(&f.path("crl.der"));
    }
}

#[test]
fn the_person_profile_says_what_the_seed_and_the_issue_ask() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    let key = generated(SubscriberKeyAlgorithm::EcdsaP256);
    let issued = f.issue(pierre(), key.public());
    let (_, cert) = X509Certificate::from_der(&issued.der).unwrap();
    let cn: Vec<_> = cert
        .subject()
        .iter_common_name()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(cn, ["Pierre DILLENSEGER 42003"]);
    assert_eq!(
        cert.issuer()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "AC SISERI"
    );
    let san = cert.subject_alternative_name().unwrap().unwrap();
    assert!(!san.critical);
    assert_eq!(
        san.value.general_names,
        [GeneralName::RFC822Name("p.dillenseger@alara.example")]
    );
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature() && !ku.value.key_cert_sign());
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && eku.email_protection && !eku.server_auth);
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca);
    let (_, ca) = X509Certificate::from_der(f.authority.certificate_der()).unwrap();
    let ca_ski = extension(&ca, |e| match e {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
        _ => None,
    });
    let aki = extension(&cert, |e| match e {
        ParsedExtension::AuthorityKeyIdentifier(a) => {
            a.key_identifier.as_ref().map(|k| k.0.to_vec())
        }
        _ => None,
    });
    assert_eq!(aki, ca_ski);
    let mut has_ski = false;
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(_) => has_ski = true,
            ParsedExtension::CRLDistributionPoints(points) => {
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
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for d in &aia.accessdescs {
                    if let GeneralName::URI(u) = d.access_location {
                        urls.push(format!("{}={u}", d.access_method.to_id_string()));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(has_ski);
    assert_eq!(
        urls,
        [
            "http://pki.siseri.example.fr/pki/ac-siseri.crl",
            "1.3.6.1.5.5.7.48.1=http://pki.siseri.example.fr/ocsp",
            "1.3.6.1.5.5.7.48.2=http://pki.siseri.example.fr/pki/ac-siseri.cer"
        ]
    );
    let lifetime = cert.validity().not_after.timestamp() - f.clock.now().unix_timestamp();
    assert_eq!(lifetime, 3 * 365 * 86_400, "3 years by default");
    // Serial: 16 octets, positive, and exactly the stored bytes.
    assert_eq!(cert.raw_serial(), issued.serial.as_bytes());
    assert_eq!(cert.raw_serial().len(), 16);
    assert!(cert.raw_serial()[0] & 0x80 == 0 && cert.raw_serial()[0] != 0);
}

#[test]
fn openssl_accepts_a_valid_certificate_and_rejects_a_revoked_one() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    let key = generated(SubscriberKeyAlgorithm::EcdsaP256);
    let valid = f.issue(pierre(), key.public());
    let other = generated(SubscriberKeyAlgorithm::EcdsaP256);
    let revoked = f.issue(pierre(), other.public());
    let crl = f
        .revoke(&revoked.serial, RevocationReason::AffiliationChanged)
        .unwrap();
    std::fs::write(f.path("crl.pem"), ca::to_pem("X509 CRL", &crl.der)).unwrap();
    let verify = |leaf: &Path| {
        let mut cmd = tool("openssl");
        cmd.args(["verify", "-crl_check", "-purpose", "sslclient", "-CAfile"])
            .arg(f.path("ca.pem"))
            .arg("-CRLfile")
            .arg(f.path("crl.pem"))
            .arg(leaf);
        run(cmd)
    };
    let ok = verify(&f.write_pem("valid.pem", &valid));
    assert!(ok.status.success(), "{}", text(&ok));
    let refused = verify(&f.write_pem("revoked.pem", &revoked));
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("certificate revoked"),
        "{}",
        text(&refused)
    );
}

fn p12_for(f: &mut Fixture, alg: SubscriberKeyAlgorithm, profile: P12Profile) -> (PathBuf, String) {
    let key = generated(alg);
    let issued = f.issue(pierre(), key.public());
    let password = store::random::p12_password()
        .expect("p12_password failed")
        .to_string();
    let p12 = build_p12(
        key,
        &issued.der,
        f.authority.certificate_der(),
        "Pierre DILLENSEGER",
        &password,
        P12Options {
            profile,
            iterations: 100_000,
        },
    )
    .expect("build_p12 failed");
    let path = f.path(&format!("{profile:?}-{alg:?}.p12"));
    std::fs::write(&path, p12.as_slice()).expect("write failed");
    (path, password)
}

#[test]
fn both_p12_profiles_open_in_openssl_without_legacy_and_refuse_a_wrong_password() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    for profile in [P12Profile::Modern, P12Profile::Compat] {
        for alg in [
            SubscriberKeyAlgorithm::EcdsaP256,
            SubscriberKeyAlgorithm::Rsa2048,
        ] {
            let (path, password) = p12_for(&mut f, alg, profile);
            let open = |pass: &str| {
                let mut cmd = tool("openssl");
                cmd.args(["pkcs12", "-info", "-nodes", "-passin"])
                    .arg(format!("pass:{pass}"))
                    .arg("-in")
                    .arg(&path);
                run(cmd)
            };
            let ok = open(&password);
            assert!(ok.status.success(), "{profile:?} {alg:?}: {}", text(&ok));
            let shown = text(&ok);
            assert!(
                shown.contains("friendlyName: Pierre DILLENSEGER"),
                "{shown}"
            );
            assert!(
                shown.contains("CN=AC SISERI") || shown.contains("CN = AC SISERI"),
                "{shown}"
            );
            assert!(shown.contains("PRIVATE KEY"), "{shown}");
            match profile {
                P12Profile::Modern => {
                    assert!(
                        shown.contains("AES-256-CBC") && shown.contains("MAC: sha256"),
                        "{shown}"
                    )
                }
                P12Profile::Compat => {
                    assert!(
                        shown.contains("3-KeyTripleDES-CBC") && shown.contains("MAC: sha1"),
                        "{shown}"
                    )
                }
            }
            assert!(shown.contains("Iteration 100000"), "{shown}");
            assert!(!open("AAAA-BBBB").status.success());
        }
    }
}

#[test]
fn both_p12_profiles_import_into_a_fresh_nss_database_and_refuse_a_wrong_password() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    for profile in [P12Profile::Modern, P12Profile::Compat] {
        let (path, password) = p12_for(&mut f, SubscriberKeyAlgorithm::EcdsaP256, profile);
        let nss = |name: &str| {
            let db = f.path(&format!("nss-{profile:?}-{name}"));
            std::fs::create_dir_all(&db).unwrap();
            let mut cmd = tool("certutil");
            cmd.args(["-N", "--empty-password", "-d"])
                .arg(format!("sql:{}", db.display()));
            let out = run(cmd);
            assert!(out.status.success(), "{}", text(&out));
            format!("sql:{}", db.display())
        };
        let db = nss("good");
        let mut cmd = tool("pk12util");
        cmd.args(["-i"])
            .arg(&path)
            .args(["-d", &db, "-W", &password, "-K", ""]);
        let out = run(cmd);
        assert!(out.status.success(), "{profile:?}: {}", text(&out));
        let mut list = tool("certutil");
        list.args(["-L", "-d", &db]);
        let listed = text(&run(list));
        assert!(listed.contains("Pierre DILLENSEGER"), "{listed}");
        let mut keys = tool("certutil");
        keys.args(["-K", "-d", &db]);
        let keys = run(keys);
        assert!(
            keys.status.success() && text(&keys).contains("Pierre DILLENSEGER"),
            "{}",
            text(&keys)
        );

        let bad = nss("bad");
        let mut cmd = tool("pk12util");
        cmd.args(["-i"])
            .arg(&path)
            .args(["-d", &bad, "-W", "AAAA-BBBB", "-K", ""]);
        assert!(!run(cmd).status.success(), "NSS accepted a wrong password");
    }
}

#[test]
fn both_p12_profiles_open_in_python_cryptography_without_legacy_and_refuse_a_wrong_password() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/tools/p12_check.py");
    for profile in [P12Profile::Modern, P12Profile::Compat] {
        let (path, password) = p12_for(&mut f, SubscriberKeyAlgorithm::EcdsaP256, profile);
        let check = |pass: &str| {
            let mut cmd = tool("python3");
            cmd.arg(&script)
                .arg(&path)
                .arg(pass)
                .env("CRYPTOGRAPHY_OPENSSL_NO_LEGACY", "1");
            run(cmd)
        };
        let ok = check(&password);
        assert!(ok.status.success(), "{profile:?}: {}", text(&ok));
        let summary: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
        let key_type = summary["key"].as_str().unwrap_or_default();
        assert!(
            key_type.contains("EC") || key_type.contains("Elliptic"),
            "{key_type}"
        );
        assert_eq!(summary["friendly_name"], "Pierre DILLENSEGER");
        assert!(summary["cert_subject"]
            .as_str()
            .unwrap()
            .contains("CN=Pierre DILLENSEGER 42003"));
        assert!(summary["additional"][0]
            .as_str()
            .unwrap()
            .contains("CN=AC SISERI"));
        let refused = check("AAAA-BBBB");
        assert_eq!(refused.status.code(), Some(3), "{}", text(&refused));
    }
}

fn csr(f: &Fixture, name: &str, newkey: &[&str]) -> Vec<u8> {
    let mut cmd = tool("openssl");
    cmd.args([
        "req",
        "-new",
        "-nodes",
        "-subj",
        "/CN=ignored",
        "-outform",
        "DER",
    ])
    .args(newkey)
    .arg("-keyout")
    .arg(f.path(&format!("{name}.key")))
    .arg("-out")
    .arg(f.path(&format!("{name}.der")));
    let out = run(cmd);
    assert!(out.status.success(), "{}", text(&out));
    std::fs::read(f.path(&format!("{name}.der"))).expect("read failed")
}

#[test]
fn csrs_are_accepted_for_p256_p384_and_rsa_2048_and_refused_otherwise() {
    let f = fixture(CaKeyAlgorithm::EcdsaP256);
    let p256 = csr(
        &f,
        "p256",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    let p384 = csr(
        &f,
        "p384",
        &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"],
    );
    let rsa = csr(&f, "rsa2048", &["-newkey", "rsa:2048"]);
    for (name, der, description) in [
        ("p256", &p256, "ECDSA P-256"),
        ("p384", &p384, "ECDSA P-384"),
        ("rsa2048", &rsa, "RSA 2048 bits"),
    ] {
        let key = SubjectKey::from_csr_der(der).unwrap();
        assert_eq!(key.description(), description, "{name}");
    }

    for (name, args) in [
        ("rsa1024", vec!["-newkey", "rsa:1024"]),
        ("ed25519", vec!["-newkey", "ed25519"]),
        (
            "p521",
            vec!["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"],
        ),
    ] {
        let der = csr(&f, name, &args);
        let err = SubjectKey::from_csr_der(&der).unwrap_err();
        assert!(
            matches!(err, ca::Error::KeyRefused { .. }),
            "{name}: {err:?}"
        );
        assert!(err.to_string().contains("refusé"), "{err}");
    }

    let mut tampered = p256.clone();
    let last = tampered.len() - 3;
    tampered[last] ^= 0x01;
    let err = SubjectKey::from_csr_der(&tampered).unwrap_err();
    assert!(matches!(err, ca::Error::CsrBadSignature), "{err:?}");
    assert!(SubjectKey::from_csr_der(b"not a csr").is_err());
}

#[test]
fn a_thousand_issuances_from_two_threads_give_a_thousand_serials_and_records() {
    let f = fixture(CaKeyAlgorithm::EcdsaP256);
    let db = f.path("siseri.db");
    let key = generated(SubscriberKeyAlgorithm::EcdsaP256);
    let serials: Vec<Vec<u8>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2)
            .map(|t| {
                let (authority, db, key) = (&f.authority, &db, key.public());
                s.spawn(move || {
                    let mut conn = open(db);
                    (0..500)
                        .map(|i| {
                            authority
                                .issue(
                                    &mut conn,
                                    &IssueRequest {
                                        subject: Subject::Organisme {
                                            name: format!("ORGANISME {t}-{i}"),
                                        },
                                        key,
                                        requester: "test",
                                    },
                                    OffsetDateTime::now_utc(),
                                )
                                .unwrap()
                                .serial
                                .as_bytes()
                                .to_vec()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let distinct: std::collections::HashSet<_> = serials.iter().collect();
    assert_eq!(distinct.len(), 1000);
    let records: i64 = f
        .conn
        .query_row(
            "SELECT COUNT(*) FROM ca_certificates WHERE profile = 'organisme' AND status = 'issued'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(records, 1000);
    audit::verify(&f.conn).unwrap();
}

#[test]
fn an_issuance_interrupted_before_signing_leaves_an_unsigned_record_and_no_certificate() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    let key = generated(SubscriberKeyAlgorithm::EcdsaP256);
    let now = f.clock.now();
    let prepared = prepare_only(&f.authority, &mut f.conn, pierre(), key.public(), now);
    // The process "dies" here: no signature was ever made.
    let record = Authority::find(&f.conn, prepared.serial())
        .unwrap()
        .unwrap();
    assert_eq!(record.status, CertificateStatus::Unsigned);
    assert!(record.der.is_none());
    assert_eq!(
        ca::unsigned_serials(&f.conn).unwrap(),
        [prepared.serial().clone()]
    );
    let err = f
        .revoke(prepared.serial(), RevocationReason::Superseded)
        .unwrap_err();
    assert!(matches!(err, ca::Error::Unsigned { .. }), "{err:?}");

    // What gets signed later is exactly what was recorded.
    let stored_tbs: Vec<u8> = f
        .conn
        .query_row(
            "SELECT tbs FROM ca_certificates WHERE serial = ?1",
            [prepared.serial().as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    let issued = f.authority.sign(&mut f.conn, &prepared, now).unwrap();
    let (_, cert) = X509Certificate::from_der(&issued.der).unwrap();
    assert_eq!(cert.tbs_certificate.as_ref(), stored_tbs.as_slice());
    assert_eq!(
        Authority::find(&f.conn, prepared.serial())
            .unwrap()
            .unwrap()
            .status,
        CertificateStatus::Issued
    );
}

#[test]
fn crl_numbers_grow_and_entries_of_expired_certificates_leave_the_crl() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    let key = generated(SubscriberKeyAlgorithm::EcdsaP256);
    let issued = f.issue(
        Subject::Organisme {
            name: "LABO".into(),
        },
        key.public(),
    );
    f.clock.advance(Duration::days(1));
    let first = f
        .revoke(&issued.serial, RevocationReason::CessationOfOperation)
        .unwrap();
    assert_eq!(first.entries, 1);
    assert_eq!(first.next_update - first.this_update, Duration::days(7));
    let again = f
        .revoke(&issued.serial, RevocationReason::KeyCompromise)
        .unwrap_err();
    assert!(matches!(again, ca::Error::AlreadyRevoked { .. }));

    f.clock.advance(Duration::days(4 * 365));
    let now = f.clock.now();
    let later = f.authority.publish_crl(&mut f.conn, "test", now).unwrap();
    assert!(later.number > first.number);
    assert_eq!(later.entries, 0);
    let (_, parsed) = x509_parser::parse_x509_crl(&later.der).unwrap();
    assert_eq!(parsed.iter_revoked_certificates().count(), 0);
    assert_eq!(
        parsed.crl_number().unwrap().to_string(),
        later.number.to_string()
    );
}

#[test]
fn the_ca_key_at_rest_is_encrypted_and_only_the_right_passphrase_opens_it() {
    let f = fixture(CaKeyAlgorithm::EcdsaP256);
    let key_pem = std::fs::read_to_string(f.path("ca.key.pem")).unwrap();
    assert!(key_pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(!key_pem.contains("BEGIN PRIVATE KEY") && !key_pem.contains("BEGIN EC PRIVATE KEY"));
    let cert_pem = std::fs::read_to_string(f.path("ca.pem")).unwrap();
    let err = Authority::load(&cert_pem, &key_pem, "mauvaise", Policy::default()).unwrap_err();
    assert!(matches!(err, ca::Error::WrongPassphrase), "{err:?}");
    assert!(err.to_string().contains("phrase secrète"));
    // OpenSSL, independently, decrypts it with the right passphrase only.
    for (pass, ok) in [(PASSPHRASE, true), ("mauvaise", false)] {
        let mut cmd = tool("openssl");
        cmd.args(["pkey", "-noout", "-in"])
            .arg(f.path("ca.key.pem"))
            .arg("-passin")
            .arg(format!("pass:{pass}"));
        assert_eq!(run(cmd).status.success(), ok);
    }
}

#[test]
fn a_revocation_committed_without_its_crl_leaves_the_crl_stale_until_one_is_published() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    let now = f.clock.now();
    f.authority.publish_crl(&mut f.conn, "test", now).unwrap();
    assert!(!Authority::crl_is_stale(&f.conn).unwrap());
    let key = generated(SubscriberKeyAlgorithm::EcdsaP256);
    let issued = f.issue(pierre(), key.public());
    // The process "dies" after committing the revocation, before signing the CRL.
    let tx = ca::immediate(&mut f.conn).unwrap();
    f.authority
        .revoke_in(
            &tx,
            &issued.serial,
            RevocationReason::KeyCompromise,
            "test",
            now,
        )
        .unwrap();
    tx.commit().unwrap();
    assert!(Authority::crl_is_stale(&f.conn).unwrap());
    let crl = f.authority.publish_crl(&mut f.conn, "test", now).unwrap();
    assert_eq!(crl.entries, 1);
    assert!(!Authority::crl_is_stale(&f.conn).unwrap());
}

#[test]
fn long_french_names_get_the_documented_short_cn_that_pkilint_and_openssl_accept() {
    let mut f = fixture(CaKeyAlgorithm::EcdsaP256);
    let last: String = "de la Rochefoucauld-Montmorency-Laval-"
        .repeat(3)
        .chars()
        .take(100)
        .collect();
    for (first, last, hab, expected) in [
        (
            "Marie-Christine-Françoise",
            "de la Rochefoucauld-Montmorency-Laval",
            42003,
            "M.-C.-F. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL 42003",
        ),
        (
            "Marie-Christine-Françoise",
            last.as_str(),
            999_999_999,
            "M. DE LA ROCHEFOUCAULD-MONTMORENCY-LAVAL-DE LA ROCHEF. 999999999",
        ),
    ] {
        let key = generated(SubscriberKeyAlgorithm::EcdsaP256);
        let issued = f.issue(
            Subject::Person {
                first_name: first.into(),
                last_name: last.into(),
                habilitation: hab,
                email: "mcf@exemple.fr".into(),
            },
            key.public(),
        );
        let pem = f.write_pem(&format!("long-{hab}.pem"), &issued);
        pkilint_cert(&pem);
        let mut cmd = tool("openssl");
        cmd.args([
            "x509",
            "-noout",
            "-subject",
            "-nameopt",
            "utf8,sep_comma_plus_space,space_eq",
            "-in",
        ])
        .arg(&pem);
        let out = run(cmd);
        assert!(out.status.success(), "{}", text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            format!("subject=C = FR, O = SISERI, CN = {expected}")
        );
        assert!(expected.chars().count() <= 64);
    }
}
