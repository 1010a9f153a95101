//! OCSP through the daemon's public listener: `openssl ocsp -url` (POST) and curl (GET), on
//! certificates issued and revoked with the CLI while `siseri serve` runs.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

struct Daemon {
    s: Sandbox,
    _server: Server,
    base: String,
    /// `http://ADDR` of the admin listener.
    admin: String,
    ca: PathBuf,
}

fn daemon() -> Daemon {
    require_tool("curl");
    require_tool("openssl");
    let s = Sandbox::new();
    let (server, listening) = s.serve("serve.log", &[]);
    let public = listening_addr(&listening, "public");
    let ca = s.data_file("ca/ac-siseri.pem");
    Daemon {
        s,
        _server: server,
        base: format!("https://{public}"),
        admin: format!("http://{}", listening_addr(&listening, "admin")),
        ca,
    }
}

impl Daemon {
    /// Two organisme certificates, `bon` and `revoque`, the second revoked by the CLI for
    /// `reason`: (good's file, good's serial, revoked's file).
    fn good_and_revoked(&self, reason: &str) -> (PathBuf, String, PathBuf) {
        let (good, good_serial) = self.s.issue_organisme_from_csr("bon", "LABO BON");
        let (revoked, revoked_serial) = self.s.issue_organisme_from_csr("revoque", "LABO REVOQUE");
        let revoke = ["cert", "revoke", &revoked_serial, "--reason", reason];
        run_ok(&mut self.s.siseri(revoke));
        (good, good_serial, revoked)
    }

    /// `openssl ocsp -url …/ocsp` (a POST, with a nonce that OpenSSL checks), its output.
    fn openssl_ocsp(&self, targets: &[&str]) -> String {
        let mut args = vec![
            os("ocsp"),
            os("-url"),
            os(&format!("{}/ocsp", self.base)),
            os("-issuer"),
            self.ca.clone().into(),
            os("-CAfile"),
            self.ca.clone().into(),
        ];
        args.extend(targets.iter().map(|t| os(t)));
        openssl_all(args)
    }

    /// The DER OCSPRequest OpenSSL makes for `cert`, without a nonce (a cacheable GET).
    fn request(&self, cert: &Path, name: &str) -> Vec<u8> {
        let req = self.s.path(&format!("{name}.req.der"));
        openssl_ok([
            os("ocsp"),
            os("-issuer"),
            self.ca.clone().into(),
            os("-cert"),
            cert.into(),
            os("-no_nonce"),
            os("-reqout"),
            req.clone().into(),
        ]);
        fs::read(req).expect("read failed")
    }

    /// `curl GET …/ocsp/{path}`: (headers in lower case, body).
    fn get(&self, path: &str, name: &str) -> (String, Vec<u8>) {
        let headers = self.s.path(&format!("{name}.headers"));
        let body = curl(
            &self.ca,
            &format!("{}/ocsp/{path}", self.base),
            &["-D", headers.to_str().expect("to_str gave nothing")],
        );
        (
            fs::read_to_string(headers)
                .expect("read_to_string failed")
                .to_lowercase(),
            body,
        )
    }

    /// `openssl ocsp -respin -resp_text -CAfile`, its output.
    fn read_response(&self, der: &[u8], name: &str) -> String {
        let resp = self.s.path(&format!("{name}.resp.der"));
        fs::write(&resp, der).expect("write failed");
        openssl_all(vec![
            os("ocsp"),
            os("-respin"),
            resp.into(),
            os("-resp_text"),
            os("-CAfile"),
            self.ca.clone().into(),
        ])
    }

    fn metrics(&self) -> String {
        String::from_utf8(curl(&self.ca, &format!("{}/metrics", self.admin), &[]))
            .expect("String::from_utf8 failed")
    }
}

/// `openssl ARGS…`, which must succeed; stdout and stderr together (`openssl ocsp` says
/// "Response verify OK" on stderr).
fn openssl_all(args: Vec<std::ffi::OsString>) -> String {
    let out = openssl(&args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
    text
}

fn header<'a>(headers: &'a str, name: &str) -> &'a str {
    headers
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_else(|| panic!("no {name} header:\n{headers}"))
        .trim()
}

fn percent_encode(b64: &str) -> String {
    b64.replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn b64(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(der)
}

#[test]
fn openssl_posts_to_the_daemon_and_sees_good_revoked_and_unknown_live() {
    let d = daemon();
    let (good, good_serial, revoked) = d.good_and_revoked("keyCompromise");
    let (good_path, revoked_path) = (good.to_str().unwrap(), revoked.to_str().unwrap());
    let never = "0x0123456789ABCDEF0123456789ABCDEF";
    let out = d.openssl_ocsp(&["-cert", good_path, "-cert", revoked_path, "-serial", never]);
    assert!(out.contains("Response verify OK"), "{out}");
    // OpenSSL checks the nonce it sent and warns when none comes back.
    assert!(!out.contains("WARNING"), "{out}");
    assert!(out.contains(&format!("{good_path}: good")), "{out}");
    assert!(out.contains(&format!("{revoked_path}: revoked")), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");
    assert!(out.contains(&format!("{never}: unknown")), "{out}");

    // Answers come from the database at each request: a revocation by the CLI shows at once.
    run_ok(
        &mut d
            .s
            .siseri(["cert", "revoke", &good_serial, "--reason", "superseded"]),
    );
    let out = d.openssl_ocsp(&["-cert", good_path]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(&format!("{good_path}: revoked")), "{out}");
    assert!(out.contains("Reason: superseded"), "{out}");

    let metrics = d.metrics();
    assert!(
        metrics.contains("siseri_ocsp_responses_total{status=\"successful\"} 2"),
        "{metrics}"
    );
}

#[test]
fn a_get_answer_is_cacheable_until_next_update_and_a_bad_path_is_a_malformed_request() {
    let d = daemon();
    let (good, good_serial, revoked) = d.good_and_revoked("affiliationChanged");

    // RFC 6960 appendix A: base64 of the DER, URL-encoded.
    let req = d.request(&good, "bon");
    let (headers, body) = d.get(&percent_encode(&b64(&req)), "bon");
    assert_eq!(
        header(&headers, "content-type"),
        "application/ocsp-response"
    );
    let cache = header(&headers, "cache-control");
    let max_age: i64 = cache
        .split(',')
        .find_map(|p| p.trim().strip_prefix("max-age="))
        .unwrap_or_else(|| panic!("no max-age: {cache}"))
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&max_age), "{cache}");
    assert!(cache.contains("public"), "{cache}");
    header(&headers, "expires");
    let text = d.read_response(&body, "bon");
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains("Cert Status: good"), "{text}");
    assert!(
        text.contains(&format!("Serial Number: {good_serial}")),
        "{text}"
    );

    // Clients that do not encode the path (raw `+`, `/`, `=`) are understood too.
    let req = d.request(&revoked, "revoque");
    let (_, body) = d.get(&b64(&req), "revoque");
    let text = d.read_response(&body, "revoque");
    assert!(text.contains("Response verify OK"), "{text}");
    assert!(text.contains("Cert Status: revoked"), "{text}");
    assert!(
        text.contains("Revocation Reason: affiliationChanged (0x3)"),
        "{text}"
    );

    // Not base64, or base64 of something that is not an OCSPRequest: malformedRequest,
    // status 200 as for any OCSP answer, and not to be cached.
    for (path, name) in [("%%%pas-du-base64", "bad"), ("AAAA", "short")] {
        let (headers, body) = d.get(path, name);
        assert_eq!(body, [0x30, 0x03, 0x0a, 0x01, 0x01], "{path}");
        assert_eq!(header(&headers, "cache-control"), "no-store");
    }

    let metrics = d.metrics();
    for needle in [
        "siseri_ocsp_responses_total{status=\"successful\"} 2",
        "siseri_ocsp_responses_total{status=\"malformedRequest\"} 2",
        "siseri_ocsp_responses_total{status=\"internalError\"} 0",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
}

#[test]
fn an_oversized_post_is_refused_before_it_reaches_the_ca() {
    let d = daemon();
    let big = d.s.path("big.der");
    fs::write(&big, vec![0u8; 65 * 1024]).unwrap();
    let out = Command::new(require_tool("curl"))
        .args([
            "-sS",
            "--max-time",
            "30",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .arg("--cacert")
        .arg(&d.ca)
        .args([
            "-H",
            "Content-Type: application/ocsp-request",
            "--data-binary",
        ])
        .arg(format!("@{}", big.display()))
        .arg(format!("{}/ocsp", d.base))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "413");
    let metrics = d.metrics();
    assert!(
        metrics.contains("siseri_ocsp_responses_total{status=\"malformedRequest\"} 0"),
        "{metrics}"
    );
}
