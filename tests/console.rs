//! The operators' console (issue 17): operator certificates issued, listed and revoked from
//! the CLI; the console listener behind mutual TLS that only operators' certificates open;
//! its pages and acts, role by role, each form guarded by its CSRF token.

mod common;

use common::enrolment::operator;
use common::{require_tool, run_ok, Sandbox};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_operator_is_added_listed_and_revoked_from_the_cli() {
    let sb = Sandbox::initialised();
    let admin = operator(
        &sb,
        "admin",
        "Alice Martin",
        "alice@example.org",
        "administrateur",
    );
    // The certificate is AC SISERI's, of the operator profile.
    let text = run_ok(
        std::process::Command::new(require_tool("openssl"))
            .args(["x509", "-noout", "-text", "-in"])
            .arg(&admin.cert),
    );
    let text = stdout(&text);
    assert!(text.contains("CN = Alice Martin"), "{text}");
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(
        text.contains(ca::OPERATOR_EKU),
        "the operator usage is in the certificate: {text}"
    );
    assert!(!text.contains("E-mail Protection"), "{text}");

    let list = stdout(&run_ok(&mut sb.siseri(["operator", "list"])));
    assert!(list.contains("Alice Martin"), "{list}");
    assert!(list.contains("administrateur"), "{list}");
    assert!(list.contains("retiré"), "{list}");

    let out = run_ok(&mut sb.siseri(["operator", "revoke", "1"]));
    assert!(stdout(&out).contains("révoqué"), "{}", stdout(&out));
    let list = stdout(&run_ok(&mut sb.siseri(["operator", "list"])));
    assert!(list.contains("— révoqué"), "{list}");
    let revoked: String = sb
        .db()
        .query_row(
            "SELECT revocation_reason FROM ca_certificates WHERE profile = 'operator'",
            [],
            |r| r.get(0),
        )
        .expect("the operator's certificate");
    assert_eq!(revoked, "privilegeWithdrawn");
    // Twice: refused, said in French.
    let out = sb
        .siseri(["operator", "revoke", "1"])
        .output()
        .expect("siseri");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("déjà révoqué"));
}

#[test]
fn an_operator_with_a_bad_name_or_role_is_refused_before_anything_is_issued() {
    let sb = Sandbox::initialised();
    let out = sb
        .siseri([
            "operator",
            "add",
            "--name",
            "<script>",
            "--email",
            "x@example.org",
            "--role",
            "instructeur",
        ])
        .output()
        .expect("siseri");
    assert!(!out.status.success());
    let out = sb
        .siseri([
            "operator",
            "add",
            "--name",
            "Bob",
            "--email",
            "x@example.org",
            "--role",
            "root",
        ])
        .output()
        .expect("siseri");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(sb.count("enroll_operators"), 0);
    let certs: i64 = sb
        .db()
        .query_row(
            "SELECT COUNT(*) FROM ca_certificates WHERE profile = 'operator'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(certs, 0);
}
