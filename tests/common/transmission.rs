//! Transmissions of results (issue 16) through a real daemon: two employers (the seed's dental
//! surgery, whose PCR sends dosimetry, and a clinic whose PCR does not), a dosimetry body's
//! certificate, and curl as every sender.

use serde_json::{json, Value};

use super::daemon::{curl, Reply};
use super::enrolment::{clinic_protocol, enrolled, operator, Holder, OperatorHolder};
use super::fixtures::{PROTOCOL as SEED, WORKER};
use super::{run_ok, Sandbox, Server};

pub const BODY_CN: &str = "LABO DOSIMETRIE DE L'EST";
/// The seed's employer.
pub const SURGERY_SIRET: &str = "73282932000074";
/// The clinic's (given to the clinic's protocol here).
pub const CLINIC_SIRET: &str = "41285742300005";
/// The file's header.
pub const HEADER: &str = "siret;nir;cle;nom;prenom;date_naissance;type;debut;fin;unite;hp10;hp007;extremites;hp3;e;organe;h;radon_bqhm3;reference;remplace";

/// Curl's certificate arguments and, for a person, a cookie jar.
pub struct Client {
    pub cert: Vec<String>,
    pub jar: Option<String>,
}

/// The daemon and everyone who sends.
pub struct World {
    pub sb: Sandbox,
    _server: Server,
    pub addr: String,
    pub holders: Vec<Holder>,
    calls: std::cell::Cell<u32>,
    pub surgery: i64,
    pub clinic: i64,
    /// The operators' console (`https://…`), and its administrateur when asked for.
    pub console: String,
    pub admin: Option<OperatorHolder>,
}

impl World {
    /// Both employers approved, the seed's worker on the surgery's list, the daemon up.
    pub fn new() -> Self {
        Self::build(false)
    }

    /// [`World::new`] with an administrateur of the console, certificate withdrawn.
    pub fn with_operator() -> Self {
        Self::build(true)
    }

    fn build(with_operator: bool) -> Self {
        let sb = Sandbox::initialised();
        let mut clinic: Value = serde_json::from_str(&clinic_protocol()).expect("clinic");
        clinic["employer"]["siret"] = json!(CLINIC_SIRET);
        clinic["pcrs"][0]["sends_dosimetry"] = json!(false);
        let holders = enrolled(&sb, &[SEED, &clinic.to_string()]);
        let admin = with_operator.then(|| {
            operator(
                &sb,
                "admin",
                "Alice Martin",
                "alice@example.org",
                "administrateur",
            )
        });
        let (server, listening) = sb.serve("serve.log", &[]);
        let addr = super::listening_addr(&listening, "registry");
        let console = format!("https://{}", super::listening_addr(&listening, "console"));
        let mut w = Self {
            sb,
            _server: server,
            addr,
            holders,
            calls: Default::default(),
            surgery: 0,
            clinic: 0,
            console,
            admin,
        };
        let durand = w.login("v.durand");
        let bernard = w.login("l.bernard");
        w.surgery = w.establishment(&durand);
        w.clinic = w.establishment(&bernard);
        let seed: Value = serde_json::from_str(WORKER).expect("worker");
        let a = w.call(
            &durand,
            "POST",
            &format!("/api/v1/establishments/{}/workers", w.surgery),
            Some(("application/json", seed.to_string().as_bytes())),
            &[],
        );
        assert_eq!(a.status, 201, "{}", a.text());
        w
    }

    /// One exchange with the registry.
    pub fn call(
        &self,
        who: &Client,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
        headers: &[&str],
    ) -> Reply {
        let n = self.calls.get() + 1;
        self.calls.set(n);
        let mut extra = who.cert.clone();
        if let Some(jar) = &who.jar {
            extra.extend(["-b".into(), jar.clone(), "-c".into(), jar.clone()]);
        }
        for h in headers {
            extra.extend(["-H".into(), (*h).to_owned()]);
        }
        let reply = curl(
            &self.sb,
            &self.sb.data_file("ca/ac-siseri.pem"),
            n,
            method,
            &format!("https://{}{path}", self.addr),
            &extra,
            body,
        );
        assert_eq!(reply.exit, 0, "curl {method} {path}: {}", reply.stderr);
        reply
    }

    /// The holder whose e-mail starts so.
    pub fn holder(&self, email_start: &str) -> &Holder {
        self.holders
            .iter()
            .find(|h| h.email.starts_with(email_start))
            .unwrap_or_else(|| panic!("nobody with {email_start}"))
    }

    /// A person's certificate with an open session.
    pub fn login(&self, email_start: &str) -> Client {
        let h = self.holder(email_start);
        let client = Client {
            cert: vec![
                "--cert".into(),
                format!("{}:{}", h.p12.display(), h.password),
                "--cert-type".into(),
                "P12".into(),
            ],
            jar: Some(
                self.sb
                    .path(&format!("jar-{}", h.habilitation))
                    .display()
                    .to_string(),
            ),
        };
        let body = json!({"access_code": h.access_code}).to_string();
        let a = self.call(
            &client,
            "POST",
            "/api/v1/session",
            Some(("application/json", body.as_bytes())),
            &[],
        );
        assert_eq!(a.status, 200, "login: {}", a.text());
        client
    }

    /// The first establishment a person sees.
    pub fn establishment(&self, who: &Client) -> i64 {
        let a = self.call(who, "GET", "/api/v1/establishments", None, &[]);
        assert_eq!(a.status, 200, "{}", a.text());
        a.json()[0]["id"].as_i64().expect("no establishment")
    }

    /// The body's certificate, named by the surgery (operator, CLI) and by nobody else.
    pub fn body(&self) -> Client {
        let (leaf, _) = self.sb.issue_organisme_from_csr("labo", BODY_CN);
        run_ok(&mut self.sb.siseri([
            "registry",
            "organisme",
            "add",
            &self.surgery.to_string(),
            BODY_CN,
        ]));
        Client {
            cert: vec![
                "--cert".into(),
                leaf.display().to_string(),
                "--key".into(),
                self.sb.path("labo.key.pem").display().to_string(),
            ],
            jar: None,
        }
    }

    /// Sends `file` as a transmission.
    pub fn send(&self, who: &Client, content_type: &str, file: &[u8]) -> Reply {
        self.call(
            who,
            "POST",
            "/api/v1/transmissions",
            Some((content_type, file)),
            &[],
        )
    }

    /// `GET path` on the console, with the administrateur's certificate.
    pub fn console_get(&self, path: &str) -> Reply {
        let admin = self.admin.as_ref().expect("World::with_operator");
        let n = self.calls.get() + 1;
        self.calls.set(n);
        let reply = curl(
            &self.sb,
            &self.sb.data_file("ca/ac-siseri.pem"),
            n,
            "GET",
            &format!("{}{path}", self.console),
            &admin.curl_args(),
            None,
        );
        assert_eq!(reply.exit, 0, "curl GET {path}: {}", reply.stderr);
        reply
    }

    /// Rows of a table.
    pub fn count(&self, table: &str) -> i64 {
        self.sb.count(table)
    }
}

/// A CSV file: BOM, header, `lines`.
pub fn csv(lines: &[String]) -> Vec<u8> {
    let mut out = format!("\u{feff}{HEADER}\r\n");
    for l in lines {
        out.push_str(l);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// One line of the file, the columns after the kind given as they are written.
pub fn line(siret: &str, nir: &str, key: &str, last: &str, first: &str, rest: &str) -> String {
    format!("{siret};{nir};{key};{last};{first};12/09/1976;{rest}")
}

/// The récépissé's signed JSON, read by `openssl cms -verify` against AC SISERI.
pub fn verified(sb: &Sandbox, der: &[u8], name: &str) -> Value {
    let file = sb.path(&format!("{name}.der"));
    std::fs::write(&file, der).expect("write");
    let out = sb.path(&format!("{name}.json"));
    super::openssl_ok([
        "cms".as_ref(),
        "-verify".as_ref(),
        "-inform".as_ref(),
        "DER".as_ref(),
        "-in".as_ref(),
        file.as_os_str(),
        "-CAfile".as_ref(),
        sb.data_file("ca/ac-siseri.pem").as_os_str(),
        "-out".as_ref(),
        out.as_os_str(),
    ]);
    serde_json::from_slice(&std::fs::read(&out).expect("read")).expect("JSON")
}
