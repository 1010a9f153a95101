//! Sharded CRLs and the plain-HTTP publication listener, through the real daemon (issue 14 §4):
//! certificates issued with the CLI name their shard's CRL, which the daemon serves over plain
//! HTTP at that very path with caching headers and an Issuing Distribution Point naming the
//! same URL; a CLI revocation re-signs that shard only, and OpenSSL then refuses the
//! certificate with the fetched CRL. Everything but `/pki/…` and `/ocsp` is redirected to HTTPS.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

struct Site {
    s: Sandbox,
    _server: Server,
    /// `http://ADDR` of the publication listener.
    http: String,
    ca: PathBuf,
}

/// A fetch over plain HTTP: status, headers (lower-case names), body.
struct Fetched {
    status: u16,
    headers: String,
    body: Vec<u8>,
}

impl Fetched {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            (n.trim().eq_ignore_ascii_case(name)).then(|| v.trim().to_owned())
        })
    }
}

fn site() -> Site {
    require_tool("curl");
    require_tool("openssl");
    let s = Sandbox::initialised();
    // Four shards, so that a handful of certificates share some.
    let config = s.data_file("config.toml");
    let text = fs::read_to_string(&config).expect("site");
    assert!(text.contains("crl_shards = 128"), "{text}");
    fs::write(&config, text.replace("crl_shards = 128", "crl_shards = 4")).expect("site");
    let (server, listening) = s.serve("serve.log", &[]);
    let http = format!("http://{}", listening_addr(&listening, "http"));
    let ca = s.data_file("ca/ac-siseri.pem");
    Site {
        s,
        _server: server,
        http,
        ca,
    }
}

impl Site {
    fn fetch(&self, method: &str, path: &str, extra: &[&str]) -> Fetched {
        let n = unique(path);
        let body = self.s.path(&format!("fetch-{n}.body"));
        let headers = self.s.path(&format!("fetch-{n}.headers"));
        let out = Command::new(require_tool("curl"))
            .args(["-sS", "-X", method, "-o"])
            .arg(&body)
            .arg("-D")
            .arg(&headers)
            .args(["-w", "%{http_code}"])
            .args(extra)
            .arg(format!("{}{path}", self.http))
            .output()
            .expect("fetch");
        assert!(
            out.status.success(),
            "curl {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Fetched {
            status: String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .expect("fetch"),
            headers: fs::read_to_string(&headers).expect("fetch"),
            body: fs::read(&body).unwrap_or_default(),
        }
    }
}

/// A name for a fetch's files that differs between fetches of one test.
fn unique(path: &str) -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::SeqCst) * 100_000 + path.bytes().map(usize::from).sum::<usize>()
}

/// The certificate's CRL distribution point URL, as OpenSSL reads it.
fn crl_url(leaf: &Path) -> String {
    let text = openssl_ok([
        os("x509"),
        os("-in"),
        leaf.into(),
        os("-noout"),
        os("-text"),
    ]);
    let at = text
        .find("X509v3 CRL Distribution Points")
        .unwrap_or_else(|| panic!("no CRL distribution point:\n{text}"));
    text[at..]
        .lines()
        .find_map(|l| l.trim().strip_prefix("URI:"))
        .expect("crl_url")
        .to_owned()
}

/// The path of an `http://host:port/path` URL.
fn path_of(url: &str) -> String {
    let rest = url.strip_prefix("http://").expect("path_of");
    format!("/{}", rest.split_once('/').expect("path_of").1)
}

fn write_der_as_pem(s: &Sandbox, name: &str, der: &[u8]) -> PathBuf {
    let der_path = s.path(&format!("{name}.der"));
    fs::write(&der_path, der).expect("write_der_as_pem");
    let pem_path = s.path(&format!("{name}.pem"));
    openssl_ok([
        os("crl"),
        os("-inform"),
        os("DER"),
        os("-in"),
        der_path.into(),
        os("-out"),
        pem_path.clone().into(),
    ]);
    pem_path
}

fn verify_with(site: &Site, crl_pem: &Path, leaf: &Path) -> (bool, String) {
    let out = openssl([
        os("verify"),
        os("-crl_check"),
        os("-CAfile"),
        site.ca.clone().into(),
        os("-CRLfile"),
        crl_pem.into(),
        leaf.into(),
    ]);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_revocation_re_signs_its_shard_only_and_its_crl_is_served_over_plain_http() {
    let site = site();
    let leaves: Vec<(PathBuf, String)> = (0..6)
        .map(|i| {
            site.s
                .issue_organisme_from_csr(&format!("labo{i}"), &format!("LABO {i}"))
        })
        .collect();
    let urls: Vec<String> = leaves.iter().map(|(leaf, _)| crl_url(leaf)).collect();
    for url in &urls {
        assert!(
            url.starts_with("http://localhost:8080/pki/crl/") && url.ends_with(".crl"),
            "the CRL distribution point names a shard under [public] http_base_url: {url}"
        );
    }

    // Every shard a certificate names is served at that path, with its IDP naming that URL.
    let mut before: BTreeMap<String, Fetched> = BTreeMap::new();
    for url in &urls {
        let path = path_of(url);
        if before.contains_key(&path) {
            continue;
        }
        let got = site.fetch("GET", &path, &[]);
        assert_eq!(got.status, 200, "{path}: {}", got.headers);
        assert_eq!(
            got.header("content-type").as_deref(),
            Some("application/pkix-crl")
        );
        assert!(got.header("etag").is_some() && got.header("last-modified").is_some());
        let cache = got.header("cache-control").unwrap();
        let max_age: i64 = cache
            .split("max-age=")
            .nth(1)
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{cache}"));
        assert!((0..=60).contains(&max_age), "{cache}");
        let der = site.s.path("idp.der");
        fs::write(&der, &got.body).unwrap();
        let text = openssl_ok([
            os("crl"),
            os("-inform"),
            os("DER"),
            os("-in"),
            der.into(),
            os("-CAfile"),
            site.ca.clone().into(),
            os("-noout"),
            os("-text"),
        ]);
        assert!(
            text.contains("X509v3 Issuing Distribution Point: critical"),
            "{text}"
        );
        assert!(text.contains(&format!("URI:{url}")), "{text}");
        before.insert(path, got);
    }

    let (revoked_leaf, revoked_serial) = &leaves[0];
    run_ok(&mut site.s.siseri([
        "cert",
        "revoke",
        revoked_serial,
        "--reason",
        "keyCompromise",
    ]));

    let revoked_path = path_of(&urls[0]);
    let after = site.fetch("GET", &revoked_path, &[]);
    assert_eq!(after.status, 200);
    assert_ne!(after.header("etag"), before[&revoked_path].header("etag"));
    let crl_pem = write_der_as_pem(&site.s, "shard-after", &after.body);
    let (ok, said) = verify_with(&site, &crl_pem, revoked_leaf);
    assert!(!ok && said.contains("certificate revoked"), "{said}");
    for (i, (leaf, _)) in leaves.iter().enumerate().skip(1) {
        if urls[i] == urls[0] {
            let (ok, said) = verify_with(&site, &crl_pem, leaf);
            assert!(ok, "a neighbour in the same shard stays valid: {said}");
        }
    }
    // The other shards: the same CRL, byte for byte, and a conditional request says so.
    for (path, old) in &before {
        if *path == revoked_path {
            continue;
        }
        let now = site.fetch("GET", path, &[]);
        assert_eq!(now.body, old.body, "{path} was re-signed");
        let etag = old.header("etag").unwrap();
        let again = site.fetch("GET", path, &["-H", &format!("If-None-Match: {etag}")]);
        assert_eq!(again.status, 304, "{path}: {}", again.headers);
        assert!(again.body.is_empty());
    }
    let stale = before[&revoked_path].header("etag").unwrap();
    let changed = site.fetch(
        "GET",
        &revoked_path,
        &["-H", &format!("If-None-Match: {stale}")],
    );
    assert_eq!(changed.status, 200, "a new CRL is not 'not modified'");
}

#[test]
fn the_http_listener_publishes_the_ca_and_ocsp_and_redirects_everything_else_to_https() {
    let site = site();
    let cer = site.fetch("GET", "/pki/ac-siseri.cer", &[]);
    assert_eq!(cer.status, 200);
    let pem = fs::read_to_string(&site.ca).unwrap();
    assert_eq!(pem::parse(pem).unwrap().contents(), cer.body.as_slice());
    let full = site.fetch("GET", "/pki/ac-siseri.crl", &[]);
    assert_eq!(full.status, 200);
    assert_eq!(site.fetch("GET", "/pki/crl/999999.crl", &[]).status, 404);
    assert_eq!(site.fetch("GET", "/pki/crl/x.crl", &[]).status, 404);

    // OCSP over plain HTTP, POST, as `openssl ocsp -url` asks it.
    let (good, _) = site.s.issue_organisme_from_csr("bon", "LABO BON");
    let said = openssl_ok([
        os("ocsp"),
        os("-url"),
        os(&format!("{}/ocsp", site.http)),
        os("-issuer"),
        site.ca.clone().into(),
        os("-CAfile"),
        site.ca.clone().into(),
        os("-cert"),
        good.into(),
    ]);
    assert!(said.contains(": good"), "{said}");

    // Anything else goes to the HTTPS public listener, method kept for a POST.
    let page = site.fetch("GET", "/retrait/abc?x=1", &[]);
    assert_eq!(page.status, 301);
    assert_eq!(
        page.header("location").as_deref(),
        Some("https://localhost:8443/retrait/abc?x=1")
    );
    let api = site.fetch("POST", "/api/v1/drafts", &["-d", "{}"]);
    assert_eq!(api.status, 308);
    assert_eq!(
        api.header("location").as_deref(),
        Some("https://localhost:8443/api/v1/drafts")
    );
    assert_eq!(site.fetch("GET", "/", &[]).status, 301);
}
