//! The console's tests' set-up: a daemon with people, two operators (an administrateur and
//! an instructeur, certificates withdrawn) and a protocol awaiting a decision, and curl
//! presenting an operator's certificate.

use super::daemon::{Daemon, Reply};
use super::enrolment::{clinic_protocol, enrolled, operator, Holder, OperatorHolder};
use super::fixtures::PROTOCOL as SEED;
use super::Sandbox;

/// A daemon whose data directory holds the seed's people (certificates withdrawn), an
/// administrateur and an instructeur, and a second protocol signed and awaiting a decision.
pub struct Console {
    pub d: Daemon,
    pub admin: OperatorHolder,
    pub instructeur: OperatorHolder,
    pub person: Holder,
    pub awaiting: String,
}

pub fn console() -> Console {
    console_with(&[])
}

/// [`console`] with `env` added to the daemon's environment.
pub fn console_with(env: &[(&str, &str)]) -> Console {
    let sb = Sandbox::initialised();
    let person = enrolled(&sb, &[SEED]).remove(0);
    let admin = operator(
        &sb,
        "admin",
        "Alice Martin",
        "alice@example.org",
        "administrateur",
    );
    let instructeur = operator(
        &sb,
        "instr",
        "Bruno Petit",
        "bruno@example.org",
        "instructeur",
    );
    let d = Daemon::on(sb, env);
    let clinic: serde_json::Value = serde_json::from_str(&clinic_protocol()).expect("json");
    let awaiting = d.sign(&clinic).number;
    Console {
        d,
        admin,
        instructeur,
        person,
        awaiting,
    }
}

impl Console {
    pub fn get(&self, who: &OperatorHolder, path: &str) -> Reply {
        self.d.curl(
            "GET",
            &format!("{}{path}", self.d.console),
            &who.curl_args(),
            None,
        )
    }

    /// A form posted as a browser would, with `who`'s certificate.
    pub fn post(&self, who: &OperatorHolder, path: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.d.curl(
            "POST",
            &format!("{}{path}", self.d.console),
            &who.curl_args(),
            Some(("application/x-www-form-urlencoded", body.as_bytes())),
        )
    }

    /// Approves `number` as `who` with the form's `token` (and `confirm`ed people): the form
    /// answers 303 to the progress page, followed until the approval ends. Returns the pages
    /// seen while it ran, then the final one.
    pub fn approve(
        &self,
        who: &OperatorHolder,
        number: &str,
        form: &[(&str, &str)],
    ) -> (Vec<String>, Reply) {
        let started = self.post(who, &format!("/protocoles/{number}/valider"), form);
        assert_eq!(started.status, 303, "{}", started.text());
        let progress = format!("/protocoles/{number}/validation");
        assert!(
            started.redirect.ends_with(&progress),
            "{}",
            started.redirect
        );
        let mut running = Vec::new();
        let start = std::time::Instant::now();
        loop {
            let r = self.get(who, &progress);
            let text = r.text();
            if !text.contains("Validation en cours") {
                return (running, r);
            }
            assert!(
                r.header("refresh").is_some(),
                "a running approval's page refreshes itself: {}",
                r.headers
            );
            running.push(text);
            assert!(
                start.elapsed() < std::time::Duration::from_secs(120),
                "the approval of {number} is still running"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// The CSRF token the console put in `who`'s forms on `path`.
    pub fn csrf(&self, who: &OperatorHolder, path: &str) -> String {
        let page = self.get(who, path).ok(200).text();
        super::enrolment::between(&page, "name=\"csrf\" value=\"", "\"").to_owned()
    }

    pub fn audit_actions(&self, actor_like: &str) -> Vec<String> {
        let db = self.d.sandbox.db();
        let mut stmt = db
            .prepare("SELECT action FROM audit_log WHERE actor LIKE ?1 ORDER BY rowid")
            .expect("prepare");
        stmt.query_map([actor_like], |r| r.get(0))
            .expect("query")
            .map(Result::unwrap)
            .collect()
    }
}
