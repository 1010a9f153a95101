//! Integration tests of the real `siseri` binary, each on its own data directory, judged by
//! independent implementations (OpenSSL, curl, SQLite through rusqlite, x509-parser).

mod common;

use std::fs;

use common::*;

const P256: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const P384: &[&str] = &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"];
const RSA2048: &[&str] = &["-newkey", "rsa:2048"];

#[test]
fn init_creates_the_data_directory_layout_and_refuses_to_run_twice() {
    let s = Sandbox::new();
    run_ok(&mut s.siseri(["init"]));

    for file in [
        "config.toml",
        "siseri.db",
        "ca/ac-siseri.pem",
        "ca/ac-siseri.key.pem",
        "tls/server.pem",
        "tls/server.key.pem",
    ] {
        assert!(s.data_file(file).is_file(), "{file} missing after init");
    }
    for dir in ["outbox/mail", "outbox/sms", "documents"] {
        assert!(s.data_file(dir).is_dir(), "{dir}/ missing after init");
    }
    for key in ["ca/ac-siseri.key.pem", "tls/server.key.pem"] {
        assert_eq!(mode(&s.data_file(key)), 0o600, "{key} must be 0600");
    }
    assert!(
        !s.data_file("ca/passphrase").exists(),
        "no passphrase file when SISERI_CA_PASSPHRASE is set"
    );

    let ca_cert = s.data_file("ca/ac-siseri.pem");
    let ca_before = (
        fs::read(&ca_cert).unwrap(),
        fs::metadata(&ca_cert).unwrap().modified().unwrap(),
    );
    let everything_before = snapshot(&s.data());

    let (code, stderr) = run_fail(&mut s.siseri(["init"]));
    assert_eq!(code, 1, "second init: {stderr}");
    one_line(&stderr);

    let ca_after = (
        fs::read(&ca_cert).unwrap(),
        fs::metadata(&ca_cert).unwrap().modified().unwrap(),
    );
    assert_eq!(ca_before, ca_after, "the CA certificate was touched");
    assert!(
        snapshot(&s.data()) == everything_before,
        "the second init changed the data directory"
    );

    let journal: String = s
        .db()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal.to_lowercase(), "wal");
}

#[test]
fn init_without_a_passphrase_generates_one_into_a_0600_file_and_warns() {
    let s = Sandbox::new();
    let mut init = s.siseri(["init"]);
    init.env_remove("SISERI_CA_PASSPHRASE");
    let out = run_ok(&mut init);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SISERI_CA_PASSPHRASE"),
        "the warning must name SISERI_CA_PASSPHRASE: {stderr}"
    );

    let file = s.data_file("ca/passphrase");
    assert!(file.is_file(), "ca/passphrase not generated");
    assert_eq!(mode(&file), 0o600);
    let phrase = fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(phrase.len() >= 16, "generated passphrase too short");
    assert!(
        !stderr.contains(&phrase) && !stdout(&out).contains(&phrase),
        "the generated passphrase must not be printed"
    );

    // The generated phrase really protects the key, and the CLI finds it without the variable.
    openssl_ok([
        os("pkey"),
        os("-in"),
        s.data_file("ca/ac-siseri.key.pem").into(),
        os("-passin"),
        os(&format!("pass:{phrase}")),
        os("-noout"),
    ]);
    let mut crl = s.siseri(["ca", "crl", "--out"]);
    crl.arg(s.path("x.crl")).env_remove("SISERI_CA_PASSPHRASE");
    run_ok(&mut crl);
}

#[test]
fn the_ca_key_file_holds_no_clear_key_and_openssl_decrypts_it_with_the_passphrase() {
    let s = Sandbox::initialised();
    let key = s.data_file("ca/ac-siseri.key.pem");
    let text = fs::read_to_string(&key).unwrap();
    let labels: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("-----BEGIN"))
        .collect();
    assert_eq!(labels, ["-----BEGIN ENCRYPTED PRIVATE KEY-----"]);
    assert!(!text.contains("BEGIN PRIVATE KEY"));
    assert!(!text.contains("BEGIN EC PRIVATE KEY"));

    let pkey = |pass: &str| {
        [
            os("pkey"),
            os("-in"),
            key.clone().into(),
            os("-passin"),
            os(&format!("pass:{pass}")),
            os("-noout"),
        ]
    };
    openssl_ok(pkey(PASSPHRASE));
    openssl_fails(pkey("pas la bonne phrase"));
}

#[test]
fn a_wrong_passphrase_gives_one_clear_line_and_exit_1() {
    let s = Sandbox::initialised();
    let out = s.path("x.crl");
    let wrong = "une toute autre phrase";
    let mut crl = s.siseri(["ca", "crl", "--out"]);
    crl.arg(&out).env("SISERI_CA_PASSPHRASE", wrong);
    let (code, stderr) = run_fail(&mut crl);
    assert_eq!(code, 1);
    let line = one_line(&stderr);
    assert!(line.contains("phrase secrète"), "{line}");
    assert!(!line.contains(wrong), "the passphrase must not be echoed");
    assert!(!out.exists(), "no CRL may be written");
}

#[test]
fn usage_errors_exit_2() {
    let s = Sandbox::new();
    for args in [
        &["cert", "revoke"][..],
        &["frobnicate"],
        &["cert", "issue", "--profile", "organisme", "--cn", "LABO"],
        &["ca", "crl"],
        &["init", "--no-such-flag"],
    ] {
        let (code, stderr) = run_fail(&mut s.siseri(args));
        assert_eq!(code, 2, "siseri {args:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "siseri {args:?}: silent");
    }
    // Values outside a closed set are refused while parsing, the possible ones listed.
    for (args, possible) in [
        (
            &["cert", "revoke", "01", "--reason", "parceQueJeLeVeux"][..],
            "keyCompromise",
        ),
        (
            &[
                "accessor",
                "revoke",
                "42000",
                "--reason",
                "parceQueJeLeVeux",
            ],
            "keyCompromise",
        ),
        (
            &[
                "cert",
                "issue",
                "--profile",
                "person",
                "--cn",
                "X",
                "--out",
                "x.p12",
            ],
            "organisme",
        ),
        (&["protocol", "list", "--status", "pending"], "signed"),
        (
            &["accessor", "resend", "42000", "--p12-profile", "legacy"],
            "modern, compat",
        ),
    ] {
        let (code, stderr) = run_fail(&mut s.siseri(args));
        assert_eq!(code, 2, "siseri {args:?}: {stderr}");
        let listed = stderr
            .split("[valeurs possibles : ")
            .nth(1)
            .unwrap_or_else(|| panic!("siseri {args:?}: no possible values in {stderr}"));
        assert!(listed.contains(possible), "siseri {args:?}: {stderr}");
    }
    assert!(!s.data().exists(), "a usage error must not create anything");
}

fn is_p12_password(p: &str) -> bool {
    let ok = |c: char| matches!(c, '2'..='9' | 'A'..='H' | 'J'..='N' | 'P'..='Z');
    let chars: Vec<char> = p.chars().collect();
    chars.len() == 9 && chars[4] == '-' && chars[..4].iter().chain(&chars[5..]).all(|c| ok(*c))
}

#[test]
fn organisme_issuance_prints_the_password_once_and_openssl_reads_the_p12() {
    let s = Sandbox::initialised();
    let p12 = s.path("labo.p12");
    let mut issue = s.siseri([
        "cert",
        "issue",
        "--profile",
        "organisme",
        "--cn",
        "LABO DOSI",
        "--out",
    ]);
    // The product's default key derivation (100,000 iterations), not the tests' cheap one.
    issue.arg(&p12).env_remove("SISERI_ISSUANCE_P12_ITERATIONS");
    let out = stdout(&run_ok(&mut issue));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "stdout must be the password only: {out:?}");
    let password = lines[0];
    assert!(is_p12_password(password), "password {password:?}");
    assert_eq!(mode(&p12), 0o600, "the .p12 holds a private key");

    let pkcs12 = |pass: &str, extra: &[&str]| {
        let mut a = vec![
            os("pkcs12"),
            os("-in"),
            p12.clone().into(),
            os("-passin"),
            os(&format!("pass:{pass}")),
        ];
        a.extend(extra.iter().map(|x| os(x)));
        a
    };
    openssl_ok(pkcs12(password, &["-noout"]));
    openssl_fails(pkcs12("AAAA-BBBB", &["-noout"]));
    let info = openssl(pkcs12(password, &["-info", "-noout"]));
    let info = String::from_utf8_lossy(&info.stderr);
    assert!(
        info.contains("AES-256-CBC") && info.contains("Iteration 100000"),
        "modern profile with 100,000 iterations expected:\n{info}"
    );

    let bag = s.path("bag.pem");
    let leaf = s.path("leaf.pem");
    let bag_args = pkcs12(password, &["-nokeys", "-clcerts", "-out"]);
    openssl_ok(bag_args.into_iter().chain([bag.clone().into_os_string()]));
    openssl_ok([
        os("x509"),
        os("-in"),
        bag.into(),
        os("-out"),
        leaf.clone().into(),
    ]);
    openssl_ok([
        os("verify"),
        os("-CAfile"),
        s.data_file("ca/ac-siseri.pem").into(),
        leaf.clone().into(),
    ]);
    assert_eq!(subject_cn(&leaf), "LABO DOSI");
    with_first_cert(&leaf, |cert| {
        assert!(!cert.is_ca());
        let eku = cert
            .extended_key_usage()
            .unwrap()
            .expect("an EKU extension")
            .value;
        assert!(eku.client_auth, "clientAuth expected");
        assert!(
            !eku.any
                && !eku.server_auth
                && !eku.code_signing
                && !eku.email_protection
                && !eku.time_stamping
                && !eku.ocsp_signing
                && eku.other.is_empty(),
            "clientAuth only, got {eku:?}"
        );
    });

    let person = s.path("person.p12");
    let mut refused = s.siseri([
        "cert",
        "issue",
        "--profile",
        "person",
        "--cn",
        "Pierre DILLENSEGER 42003",
        "--out",
    ]);
    refused.arg(&person);
    let (code, stderr) = run_fail(&mut refused);
    assert_eq!(code, 2, "a profile clap refuses is a usage error: {stderr}");
    assert!(
        stderr.contains("valeur « person » refusée pour « --profile <PROFILE> »")
            && stderr.contains("[valeurs possibles : organisme]"),
        "{stderr}"
    );
    assert!(!person.exists());
}

#[test]
fn issuance_from_a_csr_returns_a_chain_for_the_requesters_key() {
    let s = Sandbox::initialised();
    let ca = s.data_file("ca/ac-siseri.pem");
    for (name, newkey) in [("p256", P256), ("rsa2048", RSA2048), ("p384", P384)] {
        let csr = s.path(&format!("{name}.csr"));
        make_csr(&csr, &s.path(&format!("{name}.key.pem")), newkey);
        let chain = s.path(&format!("{name}.chain.pem"));
        let mut issue = s.siseri([
            "cert",
            "issue",
            "--profile",
            "organisme",
            "--cn",
            "LABO",
            "--csr",
        ]);
        issue.arg(&csr).arg("--out").arg(&chain);
        run_ok(&mut issue);

        let text = fs::read_to_string(&chain).unwrap();
        assert_eq!(
            text.matches("-----BEGIN CERTIFICATE-----").count(),
            2,
            "{name}: leaf then AC SISERI expected"
        );
        let cert_key = openssl_ok([
            os("x509"),
            os("-in"),
            chain.clone().into(),
            os("-noout"),
            os("-pubkey"),
        ]);
        let csr_key = openssl_ok([
            os("req"),
            os("-in"),
            csr.into(),
            os("-noout"),
            os("-pubkey"),
        ]);
        assert_eq!(cert_key, csr_key, "{name}: not the requester's key");
        assert_eq!(
            subject_cn(&chain),
            "LABO",
            "{name}: the CSR's CN must be ignored"
        );
        openssl_ok([os("verify"), os("-CAfile"), ca.clone().into(), chain.into()]);
    }
}

#[test]
fn refused_csrs_give_a_clear_error_and_store_nothing() {
    let s = Sandbox::initialised();

    let rsa1024 = s.path("rsa1024.csr");
    make_csr(&rsa1024, &s.path("rsa1024.key"), &["-newkey", "rsa:1024"]);
    let ed25519 = s.path("ed25519.csr");
    make_csr(&ed25519, &s.path("ed25519.key"), &["-newkey", "ed25519"]);

    // A valid P-256 request whose signature then loses one bit.
    let good = s.path("good.csr");
    make_csr(&good, &s.path("good.key"), P256);
    let der_path = s.path("good.der");
    openssl_ok([
        os("req"),
        os("-in"),
        good.into(),
        os("-outform"),
        os("DER"),
        os("-out"),
        der_path.clone().into(),
    ]);
    let mut der = fs::read(&der_path).unwrap();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let tampered = s.path("tampered.csr");
    write(&tampered, pem("CERTIFICATE REQUEST", &der).as_bytes());
    assert!(
        !csr_self_signature_ok(&tampered),
        "OpenSSL must agree that the tampered signature is wrong"
    );

    let garbage = s.path("garbage.csr");
    write(&garbage, b"bonjour\n");

    let certificates = s.count("ca_certificates");
    let audit = s.count("audit_log");
    for (name, csr, expected) in [
        ("rsa1024", &rsa1024, "refusé"),
        ("ed25519", &ed25519, "refusé"),
        ("tampered", &tampered, "signature"),
        ("garbage", &garbage, "illisible"),
    ] {
        let out = s.path(&format!("{name}.chain.pem"));
        let mut issue = s.siseri([
            "cert",
            "issue",
            "--profile",
            "organisme",
            "--cn",
            "LABO",
            "--csr",
        ]);
        issue.arg(csr).arg("--out").arg(&out);
        let (code, stderr) = run_fail(&mut issue);
        assert_eq!(code, 1, "{name}: {stderr}");
        let line = one_line(&stderr);
        assert!(line.contains(expected), "{name}: {line}");
        assert!(!out.exists(), "{name}: output written");
        assert_eq!(
            s.count("ca_certificates"),
            certificates,
            "{name}: a record was stored"
        );
        assert_eq!(s.count("audit_log"), audit, "{name}: audit entry appended");
    }
}

/// The shard a certificate's CRL distribution point names (`…/pki/crl/N.crl`).
fn shard_named_by(leaf: &std::path::Path) -> String {
    let text = openssl_ok([
        os("x509"),
        os("-in"),
        leaf.into(),
        os("-noout"),
        os("-text"),
    ]);
    let url = text
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("URI:")
                .filter(|u| u.ends_with(".crl"))
        })
        .unwrap_or_else(|| panic!("no CRL distribution point:\n{text}"));
    let file = url.rsplit('/').next().expect("a URL has a last segment");
    assert!(url.contains("/pki/crl/"), "{url}");
    file.trim_end_matches(".crl").to_owned()
}

#[test]
fn revocation_publishes_a_crl_that_openssl_honours() {
    let s = Sandbox::initialised();
    let ca = s.data_file("ca/ac-siseri.pem");
    let (leaf, serial) = s.issue_organisme_from_csr("labo", "LABO DOSI");
    let (other, other_serial) = s.issue_organisme_from_csr("autre", "AUTRE LABO");
    // The CRL of the certificate's shard, as `ca crl --shard` signs and writes it.
    let shard_crl = |cert: &std::path::Path, name: &str| {
        let out = s.path(&format!("{name}.crl.pem"));
        let mut cmd = s.siseri(["ca", "crl", "--shard", &shard_named_by(cert), "--out"]);
        cmd.arg(&out);
        run_ok(&mut cmd);
        out
    };
    let verify = |cert: &std::path::Path, crl: &std::path::Path| {
        openssl([
            os("verify"),
            os("-crl_check"),
            os("-CAfile"),
            ca.clone().into(),
            os("-CRLfile"),
            crl.into(),
            cert.into(),
        ])
    };
    let out = verify(&leaf, &shard_crl(&leaf, "before"));
    assert!(
        out.status.success(),
        "a valid certificate is refused:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = crl_number(&crl_text_pem(&s.path("before.crl.pem")));

    let mut revoke = s.siseri(["cert", "revoke", &serial, "--reason", "keyCompromise"]);
    let said = stdout(&run_ok(&mut revoke));
    assert!(
        said.contains(&format!(
            "LCR de la partition {} n° ",
            shard_named_by(&leaf)
        )),
        "{said}"
    );

    let after_crl = shard_crl(&leaf, "after");
    let out = verify(&leaf, &after_crl);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "a revoked certificate verifies");
    assert!(said.contains("certificate revoked"), "{said}");
    assert!(
        verify(&other, &shard_crl(&other, "other")).status.success(),
        "the other one must stay valid"
    );

    let text = crl_text_pem(&after_crl);
    let after = crl_number(&text);
    assert!(after > before, "CRL number {after} after {before}");
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains(&serial), "{serial} not listed:\n{text}");
    assert!(!text.contains(&other_serial));

    let (code, stderr) = run_fail(&mut revoke);
    assert_eq!(code, 1);
    assert!(one_line(&stderr).contains("déjà révoqué"), "{stderr}");

    // The full CRL, signed on demand, lists it too (no Issuing Distribution Point: complete).
    let fresh = s.path("x.crl");
    let mut crl = s.siseri(["ca", "crl", "--out"]);
    crl.arg(&fresh);
    run_ok(&mut crl);
    let fresh_text = crl_text(&fresh);
    assert!(fresh_text.contains(&serial), "{fresh_text}");
    assert!(
        !fresh_text.contains("Issuing Distribution Point"),
        "{fresh_text}"
    );
    openssl_ok([
        os("crl"),
        os("-inform"),
        os("DER"),
        os("-in"),
        fresh.into(),
        os("-CAfile"),
        ca.clone().into(),
        os("-noout"),
    ]);

    let (code, stderr) = run_fail(&mut s.siseri([
        "cert",
        "revoke",
        &other_serial,
        "--reason",
        "parceQueJeLeVeux",
    ]));
    assert_eq!(code, 2, "a reason clap refuses is a usage error: {stderr}");
    assert!(
        stderr.contains("valeur « parceQueJeLeVeux » refusée pour « --reason <REASON> »")
            && stderr.contains(
                "[valeurs possibles : unspecified, keyCompromise, cACompromise, affiliationChanged, \
                 superseded, cessationOfOperation, privilegeWithdrawn]"
            ),
        "{stderr}"
    );
    assert!(
        verify(&other, &shard_crl(&other, "other-again"))
            .status
            .success(),
        "refused reason, yet revoked"
    );
}

/// `openssl crl -text` of a PEM CRL.
fn crl_text_pem(pem: &std::path::Path) -> String {
    openssl_ok([os("crl"), os("-in"), pem.into(), os("-noout"), os("-text")])
}

#[test]
fn audit_verify_passes_and_then_names_the_entry_whose_byte_was_changed() {
    let s = Sandbox::initialised();
    let (_leaf, serial) = s.issue_organisme_from_csr("labo", "LABO DOSI");
    run_ok(&mut s.siseri(["cert", "revoke", &serial, "--reason", "superseded"]));
    run_ok(&mut s.siseri(["audit", "verify"]));
    assert!(s.count("audit_log") >= 3);

    let conn = s.db();
    let refused = conn
        .execute(
            "UPDATE audit_log SET target = target || 'x' WHERE seq = 3",
            [],
        )
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
    let refused = conn
        .execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap_err();
    assert!(refused.to_string().contains("append-only"), "{refused}");
    run_ok(&mut s.siseri(["audit", "verify"]));

    conn.execute_batch("DROP TRIGGER audit_log_no_update;")
        .unwrap();
    let target: String = conn
        .query_row("SELECT target FROM audit_log WHERE seq = 3", [], |r| {
            r.get(0)
        })
        .unwrap();
    let last = target.chars().last().expect("a non-empty target");
    assert!(last.is_ascii(), "one byte must change: {target:?}");
    let changed = format!(
        "{}{}",
        &target[..target.len() - 1],
        if last == 'A' { 'B' } else { 'A' }
    );
    let n = conn
        .execute("UPDATE audit_log SET target = ?1 WHERE seq = 3", [&changed])
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);

    let (code, stderr) = run_fail(&mut s.siseri(["audit", "verify"]));
    assert_ne!(code, 0);
    let line = one_line(&stderr);
    assert!(
        line.contains("n° 3"),
        "the broken entry must be named: {line}"
    );
}

#[test]
fn a_subordinate_ca_installs_the_certificate_signed_by_an_external_root() {
    let s = Sandbox::new();
    let root = s.path("root.pem");
    let root_key = s.path("rootkey.pem");
    openssl_ok([
        os("req"),
        os("-x509"),
        os("-newkey"),
        os("ec"),
        os("-pkeyopt"),
        os("ec_paramgen_curve:P-256"),
        os("-nodes"),
        os("-keyout"),
        root_key.clone().into(),
        os("-out"),
        root.clone().into(),
        os("-subj"),
        os("/CN=Racine externe"),
        os("-days"),
        os("3650"),
        os("-addext"),
        os("basicConstraints=critical,CA:TRUE"),
        os("-addext"),
        os("keyUsage=critical,keyCertSign,cRLSign"),
    ]);
    let ext = s.path("ext.cnf");
    write(
        &ext,
        b"[v3]\n\
          basicConstraints=critical,CA:TRUE,pathlen:0\n\
          keyUsage=critical,keyCertSign,cRLSign,digitalSignature\n\
          subjectKeyIdentifier=hash\n\
          authorityKeyIdentifier=keyid\n\
          [leaf]\n\
          basicConstraints=critical,CA:FALSE\n\
          keyUsage=critical,digitalSignature\n\
          subjectKeyIdentifier=hash\n\
          authorityKeyIdentifier=keyid\n",
    );
    let sign = |csr: &std::path::Path, section: &str, out: &std::path::Path| {
        openssl_ok([
            os("x509"),
            os("-req"),
            os("-in"),
            csr.into(),
            os("-CA"),
            root.clone().into(),
            os("-CAkey"),
            root_key.clone().into(),
            os("-days"),
            os("3650"),
            os("-extfile"),
            ext.clone().into(),
            os("-extensions"),
            os(section),
            os("-out"),
            out.into(),
        ]);
    };

    let mut init = s.siseri(["init"]);
    init.env("SISERI_CA_MODE", "subordinate");
    run_ok(&mut init);
    let csr = s.data_file("ca/ac-siseri.csr");
    let ca_cert = s.data_file("ca/ac-siseri.pem");
    assert!(csr.is_file(), "init must write the CA's CSR");
    assert!(!ca_cert.exists(), "no CA certificate before the import");
    assert!(csr_self_signature_ok(&csr));

    let crl_out = s.path("early.crl");
    let mut crl = s.siseri(["ca", "crl", "--out"]);
    crl.arg(&crl_out);
    let (code, stderr) = run_fail(&mut crl);
    assert_eq!(code, 1);
    let line = one_line(&stderr);
    assert!(
        line.contains("sans certificat") && line.contains("ca import"),
        "the missing certificate must be explained: {line}"
    );
    assert!(!crl_out.exists());

    let import = |cert: &std::path::Path| {
        let mut c = s.siseri(["ca", "import"]);
        c.arg(cert);
        c
    };

    let not_ca = s.path("not-ca.pem");
    sign(&csr, "leaf", &not_ca);
    let (code, stderr) = run_fail(&mut import(&not_ca));
    assert_eq!(code, 1);
    assert!(one_line(&stderr).contains("AC"), "{stderr}");
    assert!(!ca_cert.exists(), "a refused import installed something");

    let other_csr = s.path("other.csr");
    make_csr(&other_csr, &s.path("other.key"), P256);
    let other_key = s.path("other-key.pem");
    sign(&other_csr, "v3", &other_key);
    let (code, stderr) = run_fail(&mut import(&other_key));
    assert_eq!(code, 1);
    assert!(one_line(&stderr).contains("clé"), "{stderr}");
    assert!(!ca_cert.exists(), "a refused import installed something");

    let signed = s.path("signed.pem");
    sign(&csr, "v3", &signed);
    run_ok(&mut import(&signed));
    assert!(ca_cert.is_file());
    assert!(s.data_file("tls/server.pem").is_file());

    let (leaf, _) = s.issue_organisme_from_csr("labo", "LABO DOSI");
    openssl_ok([
        os("verify"),
        os("-CAfile"),
        root.clone().into(),
        os("-untrusted"),
        ca_cert.clone().into(),
        leaf.clone().into(),
    ]);
    openssl_ok([
        os("verify"),
        os("-crl_check"),
        os("-CAfile"),
        root.clone().into(),
        os("-untrusted"),
        ca_cert.clone().into(),
        os("-CRLfile"),
        s.data_file("ca/ac-siseri.crl.pem").into(),
        leaf.into(),
    ]);

    let again = s.path("again.csr");
    let mut csr_cmd = s.siseri(["ca", "csr", "--out"]);
    csr_cmd.arg(&again);
    run_ok(&mut csr_cmd);
    assert!(csr_self_signature_ok(&again));
    assert_eq!(
        openssl_ok([
            os("req"),
            os("-in"),
            again.into(),
            os("-noout"),
            os("-pubkey")
        ]),
        openssl_ok([
            os("x509"),
            os("-in"),
            ca_cert.into(),
            os("-noout"),
            os("-pubkey")
        ]),
        "the CSR must be for the CA's key"
    );
}

#[test]
fn serve_publishes_the_ca_and_the_latest_crl_and_writes_listening_json() {
    require_tool("curl");
    let s = Sandbox::new();
    assert!(!s.data().exists());
    let (server, listening) = s.serve("serve.log", &[]);
    let public = listening_addr(&listening, "public");
    assert!(public.starts_with("127.0.0.1:"), "{public}");
    assert!(!public.ends_with(":0"), "the bound port, not 0: {public}");

    // serve initialised the directory that did not exist.
    let ca = s.data_file("ca/ac-siseri.pem");
    assert!(ca.is_file() && s.data_file("config.toml").is_file());

    let base = format!("https://{public}");
    let health = curl(&ca, &format!("{base}/healthz"), &[]);
    let admin = format!("http://{}", listening_addr(&listening, "admin"));
    assert!(admin.starts_with("http://127.0.0.1:"), "{admin}");
    let metrics = String::from_utf8(curl(&ca, &format!("{admin}/metrics"), &[])).unwrap();
    // Off the public listener: operators' counts are not for the internet.
    let public_metrics = std::process::Command::new(require_tool("curl"))
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
        .arg(&ca)
        .arg(format!("{base}/metrics"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&public_metrics.stdout), "404");
    for needle in [
        "siseri_certificates{status=\"issued\"}",
        "siseri_crl_number ",
        "# TYPE siseri_crl_next_update_timestamp_seconds gauge",
        "siseri_outbox_messages{state=\"pending\"} 0",
        "siseri_signer_up 1",
        "# TYPE siseri_certificates_expiring_unrenewed gauge",
        // The /healthz just asked on the public listener.
        "siseri_http_request_duration_seconds_count{listener=\"public\",route=\"/healthz\"} 1",
    ] {
        assert!(
            metrics.contains(needle),
            "{needle} missing from /metrics:\n{metrics}"
        );
    }
    assert_eq!(String::from_utf8_lossy(&health).trim(), "ok");
    assert_eq!(
        curl(&ca, &format!("{base}/pki/ac-siseri.pem"), &[]),
        fs::read(&ca).unwrap()
    );

    let fetch_crl = |name: &str, path: &str| {
        let body = s.path(&format!("{name}.crl"));
        let headers = s.path(&format!("{name}.headers"));
        curl(
            &ca,
            &format!("{base}{path}"),
            &[
                "-D",
                headers.to_str().unwrap(),
                "-o",
                body.to_str().unwrap(),
            ],
        );
        let headers = fs::read_to_string(headers).unwrap().to_lowercase();
        for h in ["expires:", "cache-control:"] {
            assert!(
                headers.lines().any(|l| l.starts_with(h)),
                "no {h} header:\n{headers}"
            );
        }
        openssl_ok([
            os("crl"),
            os("-inform"),
            os("DER"),
            os("-in"),
            body.clone().into(),
            os("-CAfile"),
            ca.clone().into(),
            os("-noout"),
        ]);
        crl_text(&body)
    };
    let full = fetch_crl("full", "/pki/ac-siseri.crl");
    assert!(!full.contains("Issuing Distribution Point"), "{full}");

    // The certificate's own shard, named by its distribution point, is current at once.
    let (leaf, serial) = s.issue_organisme_from_csr("labo", "LABO DOSI");
    let shard = format!("/pki/crl/{}.crl", shard_named_by(&leaf));
    let first = crl_number(&fetch_crl("first", &shard));
    run_ok(&mut s.siseri(["cert", "revoke", &serial, "--reason", "keyCompromise"]));
    let text = fetch_crl("second", &shard);
    assert!(crl_number(&text) > first, "{text}");
    assert!(
        text.contains(&serial),
        "{serial} not in the served CRL:\n{text}"
    );
    drop(server);
}

#[test]
fn backup_writes_a_consistent_copy() {
    let s = Sandbox::initialised();
    s.issue_organisme_from_csr("labo", "LABO DOSI");
    let backup = s.path("B.tar");
    let mut cmd = s.siseri(["backup", "--out"]);
    cmd.arg(&backup);
    run_ok(&mut cmd);

    let copy = backup_database(&backup, &s.path("B.db"));
    let check: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    for table in ["ca_certificates", "audit_log", "ca_crls"] {
        let n: i64 = copy
            .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, s.count(table), "{table}");
    }
    assert!(s.count("ca_certificates") >= 3);

    let (code, stderr) = run_fail(&mut cmd);
    assert_eq!(
        code, 1,
        "an existing backup must not be overwritten: {stderr}"
    );
}
