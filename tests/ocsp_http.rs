//! OCSP through the daemon's public listener: `openssl ocsp -url` (POST) and curl (GET), on
//! certificates issued and revoked with the CLI while `siseri serve` runs. Answers are the
//! responses signed ahead (RFC 5019 profile): no signature on the request path, no nonce
//! echoed, `unauthorized` for serials AC SISERI never issued.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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
    daemon_with(&[])
}

fn daemon_with(env: &[(&str, &str)]) -> Daemon {
    require_tool("curl");
    require_tool("openssl");
    let s = Sandbox::new();
    let (server, listening) = s.serve("serve.log", env);
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

    /// `openssl ocsp -url …/ocsp` (a POST), its output, which must be a success.
    fn openssl_ocsp(&self, targets: &[&str]) -> String {
        openssl_all(self.openssl_ocsp_args(targets))
    }

    fn openssl_ocsp_args(&self, targets: &[&str]) -> Vec<std::ffi::OsString> {
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
        args
    }

    /// The stored SHA-1 response of `serial` (hex), as the daemon's database holds it.
    fn stored_response(&self, serial: &str) -> Vec<u8> {
        let serial = hex::decode(serial).expect("hex serial");
        self.s
            .db()
            .query_row(
                "SELECT der FROM ca_ocsp_responses WHERE serial = ?1 AND hash = 'sha1'",
                [serial],
                |r| r.get(0),
            )
            .expect("no stored response")
    }

    /// `siseri_ocsp_signed_on_request_total`.
    fn signed_on_request(&self) -> u64 {
        let metrics = self.metrics();
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("siseri_ocsp_signed_on_request_total "))
            .unwrap_or_else(|| panic!("no signature counter:\n{metrics}"))
            .parse()
            .expect("a count")
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
fn openssl_posts_to_the_daemon_and_sees_good_revoked_and_unknown_from_storage() {
    let d = daemon();
    let (good, good_serial, revoked) = d.good_and_revoked("keyCompromise");
    let (good_path, revoked_path) = (good.to_str().unwrap(), revoked.to_str().unwrap());
    // RFC 5019 clients send one certificate and no nonce.
    let out = d.openssl_ocsp(&["-no_nonce", "-cert", good_path]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(&format!("{good_path}: good")), "{out}");
    let out = d.openssl_ocsp(&["-no_nonce", "-cert", revoked_path]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains(&format!("{revoked_path}: revoked")), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");
    // A client that sends a nonce gets the response signed ahead, without it: OpenSSL warns
    // and still verifies it.
    let out = d.openssl_ocsp(&["-cert", good_path]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("WARNING: no nonce in response"), "{out}");
    assert!(out.contains(&format!("{good_path}: good")), "{out}");
    // A serial AC SISERI never issued: `unauthorized`, unsigned.
    let never = "0x0123456789ABCDEF0123456789ABCDEF";
    let out = openssl(d.openssl_ocsp_args(&["-no_nonce", "-serial", never]));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Responder Error: unauthorized (6)"), "{text}");

    // A revocation by the CLI writes the revoked response in its own transaction; the
    // daemon's memory follows within its revocation set's refresh (the registry's bound).
    run_ok(
        &mut d
            .s
            .siseri(["cert", "revoke", &good_serial, "--reason", "superseded"]),
    );
    let out = until_revoked(&d, good_path);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("Reason: superseded"), "{out}");

    let metrics = d.metrics();
    for needle in [
        "siseri_ocsp_responses_total{status=\"unauthorized\"} 1",
        "siseri_ocsp_signed_on_request_total 0",
    ] {
        assert!(metrics.contains(needle), "{needle} missing:\n{metrics}");
    }
}

#[test]
fn no_signature_is_made_on_the_request_path_the_stored_bytes_are_served() {
    let d = daemon();
    let (good, good_serial, revoked) = d.good_and_revoked("cessationOfOperation");
    let req = d.request(&good, "bon");
    let path = percent_encode(&b64(&req));
    let (_, first) = d.get(&path, "first");
    let (_, second) = d.get(&path, "second");
    assert_eq!(first, second, "the same bytes twice");
    assert_eq!(first, d.stored_response(&good_serial), "the stored row");
    for _ in 0..3 {
        let out = d.openssl_ocsp(&["-no_nonce", "-cert", revoked.to_str().unwrap()]);
        assert!(out.contains("Response verify OK"), "{out}");
    }
    assert_eq!(d.signed_on_request(), 0);
    // The counter has teeth: a SHA-256 CertID is signed on its first request only.
    for _ in 0..2 {
        let out = d.openssl_ocsp(&["-no_nonce", "-sha256", "-cert", good.to_str().unwrap()]);
        assert!(out.contains("Response verify OK"), "{out}");
        assert!(out.contains(": good"), "{out}");
    }
    assert_eq!(d.signed_on_request(), 1);
}

#[test]
fn a_revocation_written_by_another_path_is_served_revoked_within_the_registrys_bound() {
    let d = daemon();
    let (good, good_serial, _) = d.good_and_revoked("superseded");
    let good_path = good.to_str().unwrap();
    let out = d.openssl_ocsp(&["-no_nonce", "-cert", good_path]);
    assert!(out.contains(&format!("{good_path}: good")), "{out}");
    // As a bulk operation on the database would: no CA code runs, no response is re-signed
    // in the transaction. The daemon's job follows revocation numbers every 200 ms.
    d.s.db()
        .execute(
            "UPDATE ca_certificates SET status = 'revoked', revoked_at = unixepoch(),
                 revocation_reason = 'keyCompromise' WHERE serial = ?1",
            [hex::decode(&good_serial).unwrap()],
        )
        .unwrap();
    let out = until_revoked(&d, good_path);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(out.contains("Reason: keyCompromise"), "{out}");
    assert_eq!(
        d.signed_on_request(),
        0,
        "signed by the job, not the request"
    );
}

/// `openssl ocsp` for `cert` until it says revoked (its output), within the same liveness
/// bound as the registry's own revocation tests (the daemon follows revocations every 200 ms).
fn until_revoked(d: &Daemon, cert: &str) -> String {
    let start = Instant::now();
    loop {
        let out = d.openssl_ocsp(&["-no_nonce", "-cert", cert]);
        if out.contains(&format!("{cert}: revoked")) {
            return out;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "still good after revocation: {out}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn with_presigning_off_every_request_is_signed_and_the_nonce_echoed() {
    let d = daemon_with(&[("SISERI_CA_OCSP_PRESIGNED", "false")]);
    let (good, _, revoked) = d.good_and_revoked("keyCompromise");
    let (good_path, revoked_path) = (good.to_str().unwrap(), revoked.to_str().unwrap());
    let never = "0x0123456789ABCDEF0123456789ABCDEF";
    let out = d.openssl_ocsp(&["-cert", good_path, "-cert", revoked_path, "-serial", never]);
    assert!(out.contains("Response verify OK"), "{out}");
    assert!(!out.contains("WARNING"), "{out}");
    assert!(out.contains(&format!("{good_path}: good")), "{out}");
    assert!(out.contains(&format!("{revoked_path}: revoked")), "{out}");
    assert!(out.contains(&format!("{never}: unknown")), "{out}");
    assert_eq!(d.signed_on_request(), 1);
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
    // `[ca] ocsp_validity_hours` (24 by default), counted from thisUpdate.
    assert!((86_000..=86_400).contains(&max_age), "{cache}");
    for directive in ["public", "no-transform"] {
        assert!(cache.contains(directive), "{cache}");
    }
    header(&headers, "expires");
    header(&headers, "last-modified");
    let etag = header(&headers, "etag").to_owned();
    // A cache that revalidates with the ETag gets a 304 without the body.
    let status = Command::new(require_tool("curl"))
        .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("If-None-Match: {etag}"))
        .arg("--cacert")
        .arg(&d.ca)
        .arg(format!("{}/ocsp/{}", d.base, percent_encode(&b64(&req))))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "304");
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
        "siseri_ocsp_responses_total{status=\"successful\"} 3",
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
