//! A person's side of the registry's API and pages over mutual TLS, through curl: a session
//! opened with the access code, then calls as that person. Shared by the registry tests that
//! run the real daemon (`registry_alerts`, `registry_bilans`, `hostile_doses`).

use serde_json::{json, Value};

use super::daemon::{curl, Reply};
use super::enrolment::Holder;
use super::Sandbox;

/// The registry listener at `addr` of the daemon serving `sb`.
pub struct Registry<'a> {
    pub sb: &'a Sandbox,
    pub addr: String,
    /// Numbers each exchange's files in the sandbox.
    pub calls: std::cell::Cell<u32>,
}

impl Registry<'_> {
    /// One exchange as `who` (curl's arguments), a JSON body if any.
    pub fn raw(&self, who: &[String], method: &str, path: &str, body: Option<&str>) -> Reply {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        let reply = curl(
            self.sb,
            &self.sb.data_file("ca/ac-siseri.pem"),
            n,
            method,
            &format!("https://{}{path}", self.addr),
            who,
            body.map(|t| ("application/json", t.as_bytes())),
        );
        assert_eq!(reply.exit, 0, "{method} {path}: {}", reply.stderr);
        reply
    }

    /// [`Self::raw`], answering the status and the body as text.
    pub fn send(
        &self,
        who: &[String],
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, String) {
        let reply = self.raw(who, method, path, body);
        (reply.status, reply.text())
    }

    /// [`Self::raw`] with a JSON body, answering the status and the body as JSON (a body that
    /// is not JSON comes back as a JSON string).
    pub fn call(
        &self,
        who: &[String],
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let text = body.map(Value::to_string);
        let (status, reply) = self.send(who, method, path, text.as_deref());
        (
            status,
            serde_json::from_str(&reply).unwrap_or(Value::String(reply)),
        )
    }

    /// A page: its status and its HTML.
    pub fn page(&self, who: &[String], path: &str) -> (u16, String) {
        self.send(who, "GET", path, None)
    }

    /// Curl's arguments of `h` logged in with their access code (their own cookie jar).
    pub fn login(&self, h: &Holder) -> Vec<String> {
        let jar = self.sb.path(&format!("jar-{}", h.habilitation));
        let who = vec![
            "--cert".into(),
            format!("{}:{}", h.p12.display(), h.password),
            "--cert-type".into(),
            "P12".into(),
            "-b".into(),
            jar.display().to_string(),
            "-c".into(),
            jar.display().to_string(),
        ];
        let (status, body) = self.call(
            &who,
            "POST",
            "/api/v1/session",
            Some(&json!({"access_code": h.access_code})),
        );
        assert_eq!(status, 200, "{body}");
        who
    }

    /// The id of the first establishment `who` is attached to.
    pub fn establishment(&self, who: &[String]) -> i64 {
        let (_, body) = self.call(who, "GET", "/api/v1/establishments", None);
        body[0]["id"].as_i64().expect("no establishment")
    }
}

/// The holder whose e-mail starts with `email_start`.
pub fn holder<'a>(holders: &'a [Holder], email_start: &str) -> &'a Holder {
    holders
        .iter()
        .find(|h| h.email.starts_with(email_start))
        .unwrap_or_else(|| panic!("nobody with {email_start}"))
}
