//! The `Message-ID` domain comes from the configuration. In a test binary of its own: the
//! setting is process-wide.

use enroll::outbox::{self, MailConfig, Message, OutboxConfig, Transports};

#[path = "outbox_common/mod.rs"]
mod outbox_common;

use outbox_common::{database, queue, T0};

#[test]
fn message_ids_take_the_domain_of_the_configured_sender() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let config = OutboxConfig {
        mail: MailConfig {
            from_address: "ne-pas-repondre@Siseri.Example.fr".into(),
            ..MailConfig::default()
        },
        ..OutboxConfig::default()
    };
    outbox::set_message_id_domain(config.mail.message_id_domain()).unwrap();

    let now = T0;
    let message = Message::Mail {
        to: "v.durand@cabinet-durand.example".into(),
        to_name: None,
        subject: "Objet".into(),
        body: "Corps".into(),
    };
    let id = queue(&mut conn, &message, now);
    let transports = Transports::from_config(&config, &dir.path().join("outbox")).unwrap();
    outbox::deliver_due(&mut conn, &transports, now).unwrap();

    let detail = outbox::show(&conn, id).unwrap().unwrap();
    assert!(
        detail.message_id.ends_with("@siseri.example.fr>"),
        "{}",
        detail.message_id
    );
    let raw = std::fs::read(detail.file.unwrap()).unwrap();
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        format!("<{}>", parsed.message_id().unwrap()),
        detail.message_id
    );
    assert_eq!(
        parsed.from().unwrap().first().unwrap().address(),
        Some("ne-pas-repondre@Siseri.Example.fr")
    );
}
