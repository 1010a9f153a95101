//! The default transport: `.eml` and `.json` files in the data directory's outbox, read back
//! with parsers other than the writer's.

use std::path::{Path, PathBuf};

use enroll::outbox::{
    self, Channel, DeliveryReport, DeliveryStatus, Message, OutboxConfig, OutboxError, OutboxId,
    Transports,
};
use rusqlite::Connection;
use time::OffsetDateTime;
#[path = "outbox_common/mod.rs"]
mod outbox_common;

use outbox_common::{database, queue, T0};

const SECRET_PASSWORD: &str = "30Z4-A64J";
const SECRET_CODE: &str = "481516";

fn withdrawal() -> Message {
    Message::Mail {
        to: "v.durand@cabinet-durand.example".into(),
        to_name: Some("DURAND Vincent".into()),
        subject: "Accès à SISERI : retrait de votre certificat — été".into(),
        body: format!(
            "À l'attention de DURAND Vincent.\n\nMot de passe du certificat : {SECRET_PASSWORD}\n\
             Ligne longue où l'on trouve des caractères accentués : é, è, à, ç, œ, « guillemets ».\n"
        ),
    }
}

fn code_sms() -> Message {
    Message::Sms {
        to: "+33712123241".into(),
        text: format!("SISERI : votre code de signature du protocole d'accès est {SECRET_CODE}."),
    }
}

/// `message` queued in a database in `dir` and delivered at `T0` by the default transport, which
/// writes under `dir/outbox`: the database, the message's id, that folder and the worker's report.
fn deliver_to_files(
    dir: &Path,
    message: &Message,
) -> (Connection, OutboxId, PathBuf, DeliveryReport) {
    let mut conn = database(dir);
    let id = queue(&mut conn, message, T0);
    let outbox_dir = dir.join("outbox");
    let transports = Transports::from_config(&OutboxConfig::default(), &outbox_dir)
        .expect("Transports::from_config failed");
    let report = outbox::deliver_due(&mut conn, &transports, T0).expect("deliver_due failed");
    (conn, id, outbox_dir, report)
}

#[test]
fn file_transport_writes_a_parseable_eml_with_the_stored_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, id, outbox_dir, report) = deliver_to_files(dir.path(), &withdrawal());
    assert_eq!((report.delivered, report.failed), (1, 0));

    let detail = outbox::show(&conn, id).unwrap().unwrap();
    let path = detail.file.clone().unwrap();
    assert_eq!(path, outbox_dir.join("mail").join(format!("{id}.eml")));
    let raw = std::fs::read(&path).unwrap();

    // Headers are 7-bit: the accented subject travels RFC 2047-encoded.
    let header_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(raw[..header_end].is_ascii(), "8-bit header");

    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        parsed.subject(),
        Some("Accès à SISERI : retrait de votre certificat — été")
    );
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.name(), Some("AC SISERI"));
    assert_eq!(from.address(), Some("no-reply@siseri.invalid"));
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.name(), Some("DURAND Vincent"));
    assert_eq!(to.address(), Some("v.durand@cabinet-durand.example"));
    assert_eq!(
        format!("<{}>", parsed.message_id().unwrap()),
        detail.message_id
    );
    assert!(detail.message_id.ends_with("@siseri.invalid>"));
    assert_eq!(
        parsed.date().unwrap().to_timestamp(),
        T0.unix_timestamp(),
        "Date is the time of queuing"
    );
    let content_type = parsed
        .header(mail_parser::HeaderName::ContentType)
        .and_then(mail_parser::HeaderValue::as_content_type)
        .unwrap();
    assert_eq!(parsed.mime_version().as_text(), Some("1.0"));
    assert_eq!(content_type.ctype(), "text");
    assert_eq!(content_type.subtype(), Some("plain"));
    assert_eq!(
        content_type
            .attribute("charset")
            .map(str::to_ascii_lowercase),
        Some("utf-8".into())
    );
    let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    let Message::Mail { body, .. } = withdrawal() else {
        unreachable!()
    };
    assert_eq!(text, body);
}

#[test]
fn file_transport_writes_the_sms_as_json_with_to_text_and_at() {
    let dir = tempfile::tempdir().unwrap();
    let (conn, id, outbox_dir, _) = deliver_to_files(dir.path(), &code_sms());

    let path = outbox_dir.join("sms").join(format!("{id}.json"));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let object = json.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["at", "text", "to"]);
    assert_eq!(json["to"], "+33712123241");
    assert_eq!(
        json["text"],
        format!("SISERI : votre code de signature du protocole d'accès est {SECRET_CODE}.")
    );
    let at = OffsetDateTime::parse(
        json["at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(at, T0);
    assert_eq!(
        outbox::show(&conn, id).unwrap().unwrap().file,
        Some(path.clone())
    );
    // No temporary file is left behind.
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1
    );
}

#[cfg(unix)]
#[test]
fn outbox_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (_conn, id, outbox_dir, _) = deliver_to_files(dir.path(), &withdrawal());

    let file = outbox_dir.join("mail").join(format!("{id}.eml"));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&outbox_dir.join("mail")), 0o700);
}

#[test]
fn delivered_bodies_are_erased_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let mail = queue(&mut conn, &withdrawal(), T0);
    let sms = queue(&mut conn, &code_sms(), T0);
    let transports =
        Transports::from_config(&OutboxConfig::default(), &dir.path().join("outbox")).unwrap();

    let report = outbox::deliver_due(&mut conn, &transports, T0).unwrap();
    assert_eq!(report.delivered, 2);

    let bodies: i64 = conn
        .query_row(
            "SELECT count(*) FROM enroll_outbox WHERE body IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bodies, 0);
    // Not just unlinked: the text is gone from the database file itself.
    drop(conn);
    let file = std::fs::read(dir.path().join("siseri.db")).unwrap();
    for secret in [SECRET_PASSWORD, SECRET_CODE] {
        assert!(
            !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} still in siseri.db"
        );
    }

    // What stays: recipient, subject, Message-ID, times.
    let conn = Connection::open(dir.path().join("siseri.db")).unwrap();
    let detail = outbox::show(&conn, mail).unwrap().unwrap();
    assert_eq!(detail.summary.status, DeliveryStatus::Delivered);
    assert_eq!(detail.summary.channel, Channel::Mail);
    assert_eq!(detail.summary.recipient, "v.d***@cabinet-durand.example");
    assert_eq!(
        detail.summary.subject.as_deref(),
        Some("Accès à SISERI : retrait de votre certificat — été")
    );
    assert_eq!(detail.summary.created_at, T0);
    assert_eq!(detail.summary.delivered_at, Some(T0));
    assert_eq!(detail.summary.attempts, 1);
    assert_eq!(detail.summary.next_attempt_at, None);
    assert_eq!(detail.transport, Some(outbox::TransportKind::File));

    let listed = outbox::list(&conn, 10).unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id).collect::<Vec<_>>(),
        [sms, mail],
        "newest first"
    );
    assert_eq!(listed[0].recipient, "+33 7 ** ** ** 41");
    assert_eq!(listed[0].subject, None);
    let shown = format!(
        "{listed:?} {detail:?} {}",
        serde_json::to_string(&detail).unwrap()
    );
    assert!(!shown.contains(SECRET_CODE) && !shown.contains(SECRET_PASSWORD));

    let counts = outbox::counts(&conn).unwrap();
    assert_eq!((counts.pending, counts.delivered), (0, 2));
    assert!(outbox::show(&conn, OutboxId(999)).unwrap().is_none());
}

#[test]
fn a_message_exists_only_if_the_state_change_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    {
        let tx = conn.transaction().unwrap();
        outbox::enqueue(&tx, &withdrawal(), T0).unwrap();
        // Dropped without commit: the state change failed, so no e-mail announces it.
    }
    assert!(outbox::list(&conn, 10).unwrap().is_empty());
}

#[test]
fn a_message_no_transport_could_deliver_is_refused_at_enqueue() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let tx = conn.transaction().unwrap();
    let bad_address = Message::Mail {
        to: "pas-une-adresse".into(),
        to_name: None,
        subject: "Objet".into(),
        body: String::new(),
    };
    assert!(matches!(
        outbox::enqueue(&tx, &bad_address, T0),
        Err(OutboxError::InvalidMailRecipient)
    ));
    let bad_number = Message::Sms {
        to: "07 12 12 32 41".into(),
        text: "x".into(),
    };
    assert!(matches!(
        outbox::enqueue(&tx, &bad_number, T0),
        Err(OutboxError::InvalidSmsRecipient)
    ));
}

#[test]
fn the_same_message_is_never_queued_with_the_same_message_id_twice() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let a = queue(&mut conn, &withdrawal(), T0);
    let b = queue(&mut conn, &withdrawal(), T0);
    let id_of = |id| outbox::show(&conn, id).unwrap().unwrap().message_id;
    assert_ne!(id_of(a), id_of(b));
}
