//! The seed's story in a real browser: Debian's Chromium, headless, driven by playwright-core
//! (`tests/e2e/story.js`) against the real `siseri serve`.
//!
//! - Chromium's certificate database is `$HOME/.pki/nssdb` of a temporary HOME (Chromium on
//!   Linux reads client certificates from there only): AC SISERI is trusted there, so the
//!   browser judges our server certificates for real, and the withdrawn `.p12` is imported
//!   with `pk12util` before the registry is visited.
//! - A managed policy `AutoSelectCertificateForUrls` in `/etc/chromium/policies/managed/`,
//!   one entry per origin (the registry's, the console's) whose filter names the issuer (CN
//!   `AC SISERI`) and the subject's CN, since the NSS database holds two certificates of AC
//!   SISERI (DURAND's, the operator's, the physician's); removed afterwards, even on failure: without it
//!   headless Chromium waits forever for a certificate picker. Every browser step has its own
//!   timeout, each phase a deadline, and this test kills what it started.
//! - (a) the PASS wizard, every step with the seed's example, the SMS code read from the SMS
//!   outbox; (b) the first administrator, created with `siseri operator add`, withdraws their
//!   `.p12` on the withdrawal page; imported with `pk12util`, it opens the operators' console:
//!   the queue, the protocol's review (the K-bis frame and the identity image loaded), the
//!   approval and its result page (through the progress page when it shows); then DURAND's
//!   withdrawal page and `.p12` download, opened by `openssl pkcs12`; (c) the registry:
//!   certificate picked by the policy, access code typed, *Cartes-données admin.*, the seed's
//!   worker added through the form, the list, then a worker another employer knows under
//!   other names declared: the form shows the identity conflict; (c') the occupational
//!   physician withdraws her `.p12` (the policy now names her certificate for the registry's
//!   origin, which DURAND's shared), reads the worker's whole career (another employer's
//!   results included), records a result that crosses 20 mSv over 12 months, sees the alert,
//!   corrects the result (which closes the alert) and reads its history, then the
//!   establishment's bilan with its SVG chart; (d) the console again: a person found by the
//!   establishment's SIRET and revoked with a reason (checked with `siseri accessor show`),
//!   and the national statistics.
//!
//! Every page visited is checked by axe-core (npm, WCAG 2.1 A and AA: RGAA 4's basis) before
//! its screenshot; one violation fails the test, with the rule and the elements.
//!
//! A screenshot of each page visited (1200×900) goes to `tests/artifacts/screenshots/`; with
//! `SISERI_UPDATE_SCREENSHOTS=1`, a successful run also refreshes `docs/screenshots/`, the
//! README's pictures (not on every run: the pages show dates, and a test run should not leave
//! the work tree modified).
//!
//! Nothing here is skipped: `scripts/install-browser-deps.sh` installs what is missing, and a
//! tool still missing afterwards fails the test.

mod common;

use std::fs;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fixtures::{PROTOCOL, WORKER};
use common::mail::{mails_to, outbox_files_when, read_mails, Mail};
use common::{listening_addr, openssl_ok, os, require_tool, run_ok, subject_cn, Sandbox, Server};
use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const CHROMIUM: &str = "/usr/bin/chromium";
const POLICY_DIR: &str = "/etc/chromium/policies/managed";
const POLICY: &str = "/etc/chromium/policies/managed/siseri-test.json";
/// One browser test at a time on this machine: the policy directory is shared.
const LOCK: &str = "/tmp/siseri-browser-test.lock";
/// The deadline of one phase inside `story.js`; this test waits a little longer, then kills.
const PHASE_DEADLINE: Duration = Duration::from_secs(75);
const DURAND: &str = "v.durand@cabinet-durand.example";
/// The first administrator of the console.
const ALICE: &str = "Alice Martin";
const ALICE_MAIL: &str = "alice.martin@siseri.example";
/// The seed's occupational physician.
const MARTIN_MAIL: &str = "c.martin@sst-alsace.example";
/// The establishment of another employer, whose past the test writes in the database.
const OTHER_EMPLOYER: i64 = 999_999;

/// A one-page PDF that `file`, browsers and the server recognise.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n\
trailer << /Root 1 0 R >>\n%%EOF\n";

/// The machine-wide lock of the browser tests and the policy file they write; dropping it
/// (at the end of the test, or while a failed test unwinds) removes both.
struct Exclusive {
    policy_written: bool,
}

impl Exclusive {
    fn acquire() -> Self {
        let start = Instant::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(LOCK)
            {
                Ok(mut f) => {
                    write!(f, "{}", std::process::id()).expect("write!() failed");
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // A lock whose owner is gone (a run killed before it could clean up).
                    let owner = fs::read_to_string(LOCK).unwrap_or_default();
                    let alive = owner
                        .trim()
                        .parse::<u32>()
                        .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                    if !alive {
                        let _ = fs::remove_file(LOCK);
                        continue;
                    }
                    assert!(
                        start.elapsed() < Duration::from_secs(300),
                        "another browser test (pid {}) has held {LOCK} for 5 minutes",
                        owner.trim()
                    );
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => panic!("cannot create {LOCK}: {e}"),
            }
        }
        // We hold the lock: a policy file still there was left by a killed run.
        let _ = fs::remove_file(POLICY);
        Self {
            policy_written: false,
        }
    }

    /// Writes the managed policy that makes Chromium present, to each origin, the certificate
    /// of AC SISERI whose subject's CN is the one given, without asking (the NSS database
    /// holds several: a person's, an operator's). Read by each browser at its start.
    fn auto_select_certificates(&mut self, rules: &[(&str, &str)]) {
        if let Err(e) = fs::create_dir_all(POLICY_DIR) {
            panic!("cannot create {POLICY_DIR} (the browser test writes a managed Chromium policy there, as root): {e}");
        }
        // Chromium wants each entry of this list as a JSON-encoded string.
        let entries: Vec<String> = rules
            .iter()
            .map(|(origin, cn)| {
                json!({
                    "pattern": origin,
                    "filter": {"ISSUER": {"CN": "AC SISERI"}, "SUBJECT": {"CN": cn}},
                })
                .to_string()
            })
            .collect();
        let policy = json!({ "AutoSelectCertificateForUrls": entries });
        self.policy_written = true;
        fs::write(
            POLICY,
            serde_json::to_vec_pretty(&policy).expect("to_vec_pretty failed"),
        )
        .unwrap_or_else(|e| panic!("cannot write {POLICY}: {e}"));
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        if self.policy_written || Path::new(POLICY).exists() {
            if let Err(e) = fs::remove_file(POLICY) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    eprintln!("could not remove {POLICY}: {e}");
                }
            }
        }
        let _ = fs::remove_file(LOCK);
    }
}

fn copy_pngs(from: &Path, to: &Path) {
    if let Ok(entries) = fs::read_dir(from) {
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().is_some_and(|x| x == "png") {
                let _ = fs::copy(&path, to.join(e.file_name()));
            }
        }
    }
}

/// The browser's world: a daemon, a HOME with its NSS database, the phases' common settings.
struct Browser {
    sandbox: Sandbox,
    server: Server,
    public: String,
    home: PathBuf,
    shots: PathBuf,
    node: PathBuf,
    base: Value,
}

impl Browser {
    fn nssdb(&self) -> String {
        format!("sql:{}", self.home.join(".pki/nssdb").display())
    }

    /// `node story.js CONFIG` for one phase, bounded; returns what the phase printed last.
    fn phase(&self, phase: &str, extra: Value) -> Value {
        let mut config = self.base.clone();
        config["phase"] = json!(phase);
        config["profile"] = json!(self.sandbox.path(&format!("profile-{phase}")));
        for (k, v) in extra.as_object().expect("as_object gave nothing") {
            config[k] = v.clone();
        }
        let file = self.sandbox.path(&format!("{phase}.json"));
        fs::write(
            &file,
            serde_json::to_vec_pretty(&config).expect("to_vec_pretty failed"),
        )
        .expect("write failed");
        let stdout = self.sandbox.path(&format!("{phase}.stdout"));
        let stderr = self.sandbox.path(&format!("{phase}.stderr"));
        let start = Instant::now();
        let mut child = Command::new(&self.node)
            .arg(Path::new(ROOT).join("tests/e2e/story.js"))
            .arg(&file)
            .current_dir(Path::new(ROOT).join("tests/e2e"))
            .stdin(Stdio::null())
            .stdout(fs::File::create(&stdout).expect("File::create failed"))
            .stderr(fs::File::create(&stderr).expect("File::create failed"))
            // Its own process group, so that the browser it starts can be killed with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start node: {e}"));
        let group = child.id();
        let limit = PHASE_DEADLINE + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait failed") {
                break Some(status);
            }
            if start.elapsed() > limit {
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        // Whatever is left of this phase's browser.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
        let out = fs::read_to_string(&stdout).unwrap_or_default();
        let err = fs::read_to_string(&stderr).unwrap_or_default();
        match status {
            Some(s) if s.success() => {}
            Some(s) => panic!(
                "browser phase {phase} failed ({s}) after {:?}:\n{err}\n{out}\n--- siseri serve ---\n{}",
                start.elapsed(),
                tail(&self.server.log(), 40)
            ),
            None => panic!(
                "browser phase {phase} still running after {limit:?}, killed:\n{err}\n{out}"
            ),
        }
        eprintln!("browser phase {phase}: {:?}", start.elapsed());
        let result: Value = out
            .lines()
            .rev()
            .find(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str(l).expect("from_str failed"))
            .unwrap_or_else(|| panic!("phase {phase} printed no result:\n{out}\n{err}"));
        let problems = result["problems"].as_array().cloned().unwrap_or_default();
        assert!(
            problems.is_empty(),
            "phase {phase}: the browser reported problems: {problems:#?}"
        );
        result
    }

    /// `siseri ARGS…` on the daemon's data directory, which must succeed; stdout.
    fn siseri(&self, args: &[&str]) -> String {
        String::from_utf8(run_ok(&mut self.sandbox.siseri(args)).stdout)
            .expect("String::from_utf8 failed")
    }

    /// The e-mails of the file outbox as their readers see them, once there are `count`.
    fn mails(&self, count: usize) -> Vec<Mail> {
        let dir = self.sandbox.data_file("outbox/mail");
        read_mails(&outbox_files_when(
            &dir,
            "eml",
            count,
            Duration::from_secs(30),
            String::new,
        ))
    }
}

impl Drop for Browser {
    /// The screenshots go to `tests/artifacts/screenshots/` whatever happened (they show
    /// where a failed run stopped), before the sandbox goes.
    fn drop(&mut self) {
        let to = Path::new(ROOT).join("tests/artifacts/screenshots");
        let _ = fs::remove_dir_all(&to);
        if fs::create_dir_all(&to).is_ok() {
            copy_pngs(&self.shots, &to);
        }
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A small real PNG (8×8, RGB), made here so that no binary file is committed.
fn png() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(
            &u32::try_from(data.len())
                .expect("try_from failed")
                .to_be_bytes(),
        );
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc_input);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for b in bytes {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for x in bytes {
            a = (a + u32::from(*x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    // Each row: filter byte 0, then 8 pixels of a pale blue.
    let row: Vec<u8> = std::iter::once(0)
        .chain([0xC8, 0xD8, 0xF0].repeat(8))
        .collect();
    let raw = row.repeat(8);
    // zlib with one stored (uncompressed) block.
    let mut z = vec![0x78, 0x01, 0x01];
    let len = u16::try_from(raw.len()).expect("try_from failed");
    z.extend_from_slice(&len.to_le_bytes());
    z.extend_from_slice(&(!len).to_le_bytes());
    z.extend_from_slice(&raw);
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&8u32.to_be_bytes());
    ihdr.extend_from_slice(&8u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

fn certutil(args: &[&str]) {
    run_ok(Command::new(require_tool("certutil")).args(args));
}

#[test]
fn the_seeds_story_in_headless_chromium_wizard_withdrawal_and_registry() {
    let started = Instant::now();
    let mut exclusive = Exclusive::acquire();

    // Tools: installed when missing, then required; a missing one fails the test.
    run_ok(&mut Command::new(
        Path::new(ROOT).join("scripts/install-browser-deps.sh"),
    ));
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing after scripts/install-browser-deps.sh"
    );
    let node = require_tool("node");
    assert!(
        Path::new(ROOT)
            .join("tests/e2e/node_modules/playwright-core/package.json")
            .is_file(),
        "playwright-core is not installed in tests/e2e after scripts/install-browser-deps.sh"
    );
    for tool in ["certutil", "pk12util", "openssl", "python3"] {
        require_tool(tool);
    }

    // The daemon, on ports of its choosing.
    let sandbox = Sandbox::new();
    let (server, listening) = sandbox.serve("serve.log", &[]);
    let public = format!("https://{}", listening_addr(&listening, "public"));
    let registry = format!("https://{}", listening_addr(&listening, "registry"));
    let console = format!("https://{}", listening_addr(&listening, "console"));

    // The browser's HOME: an NSS database that trusts AC SISERI for TLS servers.
    let home = sandbox.path("home");
    fs::create_dir_all(home.join(".pki/nssdb")).unwrap();
    let shots = sandbox.path("screenshots");
    fs::create_dir_all(&shots).unwrap();
    let kbis = sandbox.path("AE_Kbis_306.pdf");
    let identity = sandbox.path("PFY_Ide_121.png");
    fs::write(&kbis, PDF).unwrap();
    fs::write(&identity, png()).unwrap();
    let b = Browser {
        base: json!({
            "chromium": CHROMIUM,
            "home": home,
            "screenshots": shots,
            "public": public,
            "registry": registry,
            "console": console,
            "data": sandbox.data(),
            "seed": {
                "protocol": serde_json::from_str::<Value>(PROTOCOL).unwrap(),
                "worker": serde_json::from_str::<Value>(WORKER).unwrap(),
            },
            "kbis": kbis,
            "identity": identity,
            "annexe": sandbox.path("annexe1.pdf"),
            "deadline_ms": u64::try_from(PHASE_DEADLINE.as_millis()).unwrap(),
        }),
        node,
        home,
        shots,
        public,
        sandbox,
        server,
    };
    let db = b.nssdb();
    certutil(&["-N", "-d", &db, "--empty-password"]);
    let ca = b.sandbox.data_file("ca/ac-siseri.pem");
    certutil(&[
        "-A",
        "-d",
        &db,
        "-n",
        "AC SISERI",
        "-t",
        "C,,",
        "-i",
        ca.to_str().unwrap(),
    ]);

    // (a) The PASS wizard.
    let signed = b.phase("wizard", json!({}));
    let number = signed["number"].as_str().unwrap().to_owned();
    let key_name = signed["key_name"].as_str().unwrap().to_owned();
    assert!(key_name.starts_with("CABINETDENTA"), "{signed}");
    let listed = b.siseri(&["protocol", "list", "--status", "signed"]);
    assert!(listed.contains(&number), "{listed}");
    // The files the browser sent (multipart/form-data) are the operator's, byte for byte.
    let documents = b.sandbox.path("documents");
    b.siseri(&[
        "protocol",
        "documents",
        &number,
        "--out",
        documents.to_str().unwrap(),
    ]);
    let mut received: Vec<Vec<u8>> = fs::read_dir(&documents)
        .unwrap()
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .collect();
    received.sort();
    let mut sent = vec![PDF.to_vec(), png()];
    sent.sort();
    assert!(received == sent, "the documents differ from the uploads");

    // (b) The first administrator, created from the CLI, takes their certificate on the
    // withdrawal page; imported into the browser, it opens the console, where they look at
    // the K-bis and approve the protocol. DURAND then takes his certificate.
    b.siseri(&[
        "operator",
        "add",
        "--name",
        ALICE,
        "--email",
        ALICE_MAIL,
        "--role",
        "administrateur",
    ]);
    let mails = b.mails(1);
    let theirs = mails_to(&mails, ALICE_MAIL);
    let invitation = theirs
        .iter()
        .find(|m| m.token.is_some())
        .unwrap_or_else(|| panic!("no withdrawal e-mail to {ALICE_MAIL}: {mails:#?}"));
    let operator_p12 = b.sandbox.path("operateur.p12");
    let operator_password = invitation.password.clone().unwrap();
    let taken = b.phase(
        "withdrawal",
        json!({
            "profile": b.sandbox.path("profile-withdrawal-operator"),
            "holder": ALICE,
            "shots": ["console-01-retrait-operateur.png", "console-02-retrait-operateur-utilise.png"],
            "withdrawal": {
                "url": format!("{}/retrait/{}", b.public, invitation.token.as_deref().unwrap()),
                "code": invitation.code,
                "download": operator_p12,
            },
        }),
    );
    run_ok(
        Command::new(require_tool("pk12util"))
            .arg("-i")
            .arg(&operator_p12)
            .args(["-d", &db, "-W", &operator_password]),
    );
    exclusive.auto_select_certificates(&[(&console, ALICE)]);
    let decided = b.phase(
        "console",
        json!({ "holder": ALICE, "number": number, "people": 3 }),
    );
    assert_eq!(decided["kbis"]["status"], 200, "{decided}");
    assert_eq!(decided["identity"]["status"], 200, "{decided}");
    let listed = b.siseri(&["protocol", "list", "--status", "approved"]);
    assert!(listed.contains(&number), "{listed}");
    let audit = b.siseri(&["audit", "verify"]);
    assert!(!audit.is_empty());
    let mails = b.mails(7);
    let theirs = mails_to(&mails, DURAND);
    let withdrawal = theirs
        .iter()
        .find(|m| m.token.is_some())
        .unwrap_or_else(|| panic!("no withdrawal e-mail to {DURAND}: {mails:#?}"));
    let access_code = theirs
        .iter()
        .find_map(|m| m.access_code.as_deref())
        .unwrap_or_else(|| panic!("no access-code e-mail to {DURAND}: {mails:#?}"))
        .to_owned();
    let password = withdrawal.password.clone().unwrap();
    // The e-mail's link names the configured public URL; the browser goes to the port this
    // daemon bound, with the same path.
    let p12 = b.sandbox.path("downloaded.p12");
    let took = b.phase(
        "withdrawal",
        json!({
            "holder": "Vincent DURAND",
            "withdrawal": {
                "url": format!("{}/retrait/{}", b.public, withdrawal.token.as_deref().unwrap()),
                "code": withdrawal.code,
                "download": p12,
            },
        }),
    );
    assert_eq!(took["suggested_filename"], "42000.p12", "{took}");
    openssl_ok([
        os("pkcs12"),
        os("-in"),
        p12.clone().into_os_string(),
        os("-noout"),
        os("-passin"),
        os(&format!("pass:{password}")),
    ]);
    let leaf = b.sandbox.path("42000.pem");
    openssl_ok([
        os("pkcs12"),
        os("-in"),
        p12.clone().into_os_string(),
        os("-passin"),
        os(&format!("pass:{password}")),
        os("-clcerts"),
        os("-nokeys"),
        os("-out"),
        leaf.clone().into_os_string(),
    ]);
    assert_eq!(subject_cn(&leaf), "Vincent DURAND 42000");

    // Another employer's past: a worker it declared (an employment ended in 2019), so that
    // DURAND's declaration of that NIR under another name is an identity conflict. Written in
    // the database, as the statistics' result below: a second protocol through the browser
    // would double this test's length, and the registry only asks whether another
    // establishment employs the person.
    let conn = b.sandbox.db();
    conn.execute(
        "INSERT INTO registry_persons (nir, nir_key, last_name, first_name, search_name,
                                       created_at, updated_at)
         VALUES ('2850267123456', '94', 'LEFEBVRE', 'Marie', 'LEFEBVRE MARIE',
                 '2015-01-05T00:00:00Z', '2015-01-05T00:00:00Z')",
        [],
    )
    .unwrap();
    conn.execute(
        &format!(
            "INSERT INTO registry_workers (establishment_id, person_id, nir, nir_key, last_name,
                 first_name, search_name, created_at, updated_at, removed_at, employed_from,
                 employed_to)
             SELECT {OTHER_EMPLOYER}, id, nir, nir_key, last_name, first_name, search_name,
                    created_at, created_at, '2019-12-31T00:00:00Z', '2015-01-05', '2019-12-31'
             FROM registry_persons WHERE nir = '2850267123456'"
        ),
        [],
    )
    .unwrap();
    drop(conn);

    // (c) The registry: the .p12 in the browser's NSS database, the policy picks it (and the
    // operator's for the console).
    exclusive.auto_select_certificates(&[
        (b.base["registry"].as_str().unwrap(), "Vincent DURAND 42000"),
        (&console, ALICE),
    ]);
    run_ok(
        Command::new(require_tool("pk12util"))
            .arg("-i")
            .arg(&p12)
            .args(["-d", &db, "-W", &password]),
    );
    let export = b.sandbox.path("export.csv");
    let visited = b.phase(
        "registry",
        json!({
            "holder": "Vincent DURAND 42000",
            "access_code": access_code,
            "number": number,
            "key_name": key_name,
            "export": export,
            // LEFEBVRE Marie for the other employer: the page shows the conflict.
            "conflict": {"last_name": "LEFÈVRE", "first_name": "Marie",
                         "nir": "2850267123456", "nir_key": "94"},
        }),
    );
    let csv = fs::read_to_string(&export)
        .unwrap_or_else(|e| panic!("no export downloaded ({e}): {visited}"));
    assert!(
        csv.lines().any(|l| l.starts_with("DIDIER;")
            && l.contains(";Valérie;")
            && l.contains(";2760912346445;12;")),
        "{csv}"
    );

    assert_eq!(
        visited["conflict"],
        json!(409),
        "the identity conflict was not shown: {visited}"
    );
    let conflicts = b.siseri(&["registry", "conflicts"]);
    assert!(conflicts.contains("LEFÈVRE Marie"), "{conflicts}");

    // (c') The occupational physician, MARTIN, takes her certificate and reads the worker's
    // career: five years at another employer (written in the database, as a past the registry
    // would hold), a result of January at this one; she records February's, which crosses
    // the 20 mSv limit over 12 months: the alert shows, then she corrects the result and reads
    // its history, and the establishment's bilan.
    let martin = b.siseri(&["accessor", "list"]);
    let hab = martin
        .lines()
        .find(|l| l.contains("MARTIN"))
        .and_then(|l| l.split_whitespace().find_map(|w| w.parse::<u32>().ok()))
        .unwrap_or_else(|| panic!("MARTIN is not in `accessor list`:\n{martin}"));
    let conn = b.sandbox.db();
    conn.execute(
        &format!(
            "INSERT INTO registry_workers (establishment_id, person_id, nir, nir_key, last_name,
                 first_name, search_name, created_at, updated_at, removed_at, employed_from,
                 employed_to)
             SELECT {OTHER_EMPLOYER}, person_id, nir, nir_key, last_name, first_name,
                    search_name, '2015-03-02T00:00:00Z', '2015-03-02T00:00:00Z',
                    '2019-12-31T00:00:00Z', '2015-03-02', '2019-12-31'
             FROM registry_workers WHERE nir = '2760912346445'"
        ),
        [],
    )
    .unwrap();
    for year in 2015..=2019 {
        conn.execute(
            &format!(
                "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, hp10_usv,
                                             hp007_usv, sender, source, recorded_at)
                 SELECT id, 'passive', '{year}-10-01', '{year}-12-31', {}, {}, 'body',
                        'organisme:LCIE', '{}-01-20T00:00:00Z'
                 FROM registry_workers
                 WHERE nir = '2760912346445' AND establishment_id = {OTHER_EMPLOYER}",
                120 + 40 * (year - 2015),
                150 + 40 * (year - 2015),
                year + 1
            ),
            [],
        )
        .unwrap();
    }
    // January's result at this employer (also the statistics' figure).
    conn.execute(
        &format!(
            "INSERT INTO registry_doses (worker_id, kind, period_start, period_end, e_usv,
                                         sender, source, recorded_at)
             SELECT id, 'effective', '2026-01-01', '2026-01-31', 1200, 'physician',
                    'accessor:{hab}', '2026-02-01T00:00:00Z'
             FROM registry_workers
             WHERE nir = '2760912346445' AND establishment_id <> {OTHER_EMPLOYER}"
        ),
        [],
    )
    .unwrap();
    drop(conn);
    let mails = b.mails(7);
    let hers = mails_to(&mails, MARTIN_MAIL);
    let withdrawal = hers
        .iter()
        .find(|m| m.token.is_some())
        .unwrap_or_else(|| panic!("no withdrawal e-mail to {MARTIN_MAIL}: {mails:#?}"));
    let martin_code = hers
        .iter()
        .find_map(|m| m.access_code.as_deref())
        .unwrap_or_else(|| panic!("no access-code e-mail to {MARTIN_MAIL}: {mails:#?}"))
        .to_owned();
    let martin_p12 = b.sandbox.path("martin.p12");
    let martin_cn = format!("Claire MARTIN {hab}");
    let took_martin = b.phase(
        "withdrawal",
        json!({
            "profile": b.sandbox.path("profile-withdrawal-physician"),
            "holder": "Claire MARTIN",
            "shots": ["medecin-retrait.png", "medecin-retrait-deja-utilise.png"],
            "withdrawal": {
                "url": format!("{}/retrait/{}", b.public, withdrawal.token.as_deref().unwrap()),
                "code": withdrawal.code,
                "download": martin_p12,
            },
        }),
    );
    run_ok(
        Command::new(require_tool("pk12util"))
            .arg("-i")
            .arg(&martin_p12)
            .args(["-d", &db, "-W", withdrawal.password.as_deref().unwrap()]),
    );
    // The registry's origin is DURAND's and MARTIN's: the policy now names hers (each
    // browser reads it when it starts).
    exclusive.auto_select_certificates(&[
        (b.base["registry"].as_str().unwrap(), &martin_cn),
        (&console, ALICE),
    ]);
    let career = b.phase(
        "career",
        json!({
            "holder": martin_cn,
            "access_code": martin_code,
            "worker": "DIDIER",
            "record": {"period_start": "01/02/2026", "period_end": "28/02/2026",
                       "e_msv": "21", "corrected": "2,1"},
        }),
    );
    // Raised by February's result, closed by its correction.
    let alerts: Vec<(String, i64, bool)> = {
        let conn = b.sandbox.db();
        let mut stmt = conn
            .prepare(
                "SELECT limit_code, sum_usv, closed_by_dose IS NOT NULL
                 FROM registry_alerts ORDER BY id",
            )
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    };
    assert_eq!(alerts, [("effective".to_owned(), 22_200, true)], "{career}");
    let corrected: (String, i64, i64) = b
        .sandbox
        .db()
        .query_row(
            "SELECT c.kind, o.e_usv, c.e_usv FROM registry_doses c
             JOIN registry_doses o ON o.id = c.replaces_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(corrected, ("effective".to_owned(), 21_000, 2_100));

    // A dosimetry body, named by the surgery, sends the published example file (issue 16), so
    // that the console's transmissions pages have one to show.
    let body_cn = "LABO DOSIMETRIE DE L'EST";
    let (labo, _) = b.sandbox.issue_organisme_from_csr("labo", body_cn);
    let surgery: i64 = b
        .sandbox
        .db()
        .query_row(
            &format!(
                "SELECT establishment_id FROM registry_workers
                 WHERE nir = '2760912346445' AND establishment_id <> {OTHER_EMPLOYER}"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    b.siseri(&[
        "registry",
        "organisme",
        "add",
        &surgery.to_string(),
        body_cn,
    ]);
    let example = fs::read(Path::new(ROOT).join("docs/exemples/transmission.csv")).unwrap();
    let sent = common::daemon::curl(
        &b.sandbox,
        &b.sandbox.data_file("ca/ac-siseri.pem"),
        900,
        "POST",
        &format!("{registry}/api/v1/transmissions"),
        &[
            "--cert".into(),
            labo.display().to_string(),
            "--key".into(),
            b.sandbox.path("labo.key.pem").display().to_string(),
        ],
        Some(("text/csv", &example)),
    );
    assert_eq!(sent.status, 200, "{}", sent.text());
    let transmission = sent
        .headers
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("siseri-recepisse:")
                .then(|| l.split_once(':').map(|(_, v)| v.trim().to_owned()))
                .flatten()
        })
        .unwrap_or_else(|| panic!("no Siseri-Recepisse header: {}", sent.headers));

    // (d) Later, the operator revokes a person from the console, with a reason: the
    // physician, found by the establishment's SIRET.
    let revoked = b.phase(
        "revocation",
        json!({
            "holder": ALICE,
            "siret": "732 829 320 00074",
            "person": "Claire MARTIN",
            "habilitation": hab,
            // She took it in (c').
            "certificate": "retiré par son titulaire",
            // January's 1.2 mSv and February's, corrected to 2.1 mSv.
            "statistics": "1 travailleur(s) suivi(s), dose collective 3,300 mSv.",
            "transmission": transmission,
        }),
    );
    let shown = b.siseri(&["accessor", "show", &hab.to_string()]);
    assert!(shown.contains("révoqué (cessationOfOperation)"), "{shown}");
    let durand = b.siseri(&["accessor", "show", "42000"]);
    assert!(
        !durand.contains("révoqué"),
        "only MARTIN is revoked: {durand}"
    );
    let audit = b.siseri(&["audit", "verify"]);
    assert!(!audit.is_empty());

    let phases = [
        &signed,
        &taken,
        &decided,
        &took,
        &visited,
        &took_martin,
        &career,
        &revoked,
    ];
    let pictures: usize = phases
        .iter()
        .map(|p| p["screenshots"].as_array().unwrap().len())
        .sum();
    // axe-core (WCAG 2.1 A and AA, on which RGAA 4 rests) ran on every page photographed,
    // which is every page visited; a violation would have failed its phase.
    for phase in phases {
        assert_eq!(phase["accessible"], phase["screenshots"], "{phase}");
    }
    eprintln!(
        "{pictures} screenshots in {}; the browser test took {:?}",
        b.shots.display(),
        started.elapsed()
    );
    if std::env::var_os("SISERI_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
        let docs = Path::new(ROOT).join("docs/screenshots");
        fs::create_dir_all(&docs).unwrap();
        for e in fs::read_dir(&docs).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "png") {
                fs::remove_file(e.path()).unwrap();
            }
        }
        copy_pngs(&b.shots, &docs);
    }
    drop(b);
    drop(exclusive);
    assert!(!Path::new(POLICY).exists(), "{POLICY} was not removed");
}
