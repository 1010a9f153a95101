//! SMS through an HTTP gateway: a tiny HTTP server in the test checks the bearer token, records
//! what it is sent, and answers as scripted.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use enroll::outbox::{
    self, DeliveryStatus, Message, OutboxConfig, OutboxId, SmsConfig, SmsTransportKind, Transports,
};
use rusqlite::Connection;
#[path = "outbox_common/mod.rs"]
mod outbox_common;

use outbox_common::{database, first_attempt_fails, queue, second_attempt_delivers, T0};

const TOKEN: &str = "jeton-de-test-0123456789";
const TEXT: &str = "SISERI : votre code de signature du protocole d'accès est 271828. \
                    Il est valable 10 minutes. Ne le communiquez à personne.";

fn queue_sms(conn: &mut Connection) -> OutboxId {
    let message = Message::Sms {
        to: "+33712123241".into(),
        text: TEXT.into(),
    };
    queue(conn, &message, T0)
}

fn gateway(url: String, token: &str, dir: &Path) -> Transports {
    let config = OutboxConfig {
        sms: SmsConfig {
            transport: SmsTransportKind::Http,
            http_url: Some(url),
            http_token: Some(token.into()),
            http_timeout_secs: 5,
            ..SmsConfig::default()
        },
        ..OutboxConfig::default()
    };
    Transports::from_config(&config, &dir.join("outbox")).expect("Transports::from_config failed")
}

/// One request as the gateway saw it.
#[derive(Debug, Clone)]
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: serde_json::Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers each request with the next scripted status (401 when the bearer token is wrong,
/// whatever the script), one request per connection.
struct Gateway {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Gateway {
    fn start(script: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("TcpListener::bind failed");
        listener
            .set_nonblocking(true)
            .expect("set_nonblocking failed");
        let url = format!(
            "http://{}/api/sms",
            listener.local_addr().expect("local_addr failed")
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut script: VecDeque<u16> = script.iter().copied().collect();
        let thread = {
            let received = Arc::clone(&received);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let request = read_request(&stream);
                            let authorized =
                                request.header("authorization") == Some(&format!("Bearer {TOKEN}"));
                            let status = if authorized {
                                script.pop_front().unwrap_or(200)
                            } else {
                                401
                            };
                            received.lock().expect("lock failed").push(request);
                            respond(stream, status);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(e) => panic!("accept: {e}"),
                    }
                }
            })
        };
        Self {
            url,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock failed").clone()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn read_request(stream: &TcpStream) -> Received {
    stream
        .set_nonblocking(false)
        .expect("set_nonblocking failed");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set_read_timeout failed");
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    reader
        .read_line(&mut request_line)
        .expect("read_line failed");
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read_line failed");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').expect("split_once gave nothing");
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.parse().expect("parse failed"))
        .expect("the gateway client sends a Content-Length");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("read_exact failed");
    Received {
        request_line: request_line.trim_end().to_owned(),
        headers,
        body: serde_json::from_slice(&body).expect("from_slice failed"),
    }
}

fn respond(mut stream: TcpStream, status: u16) {
    let body = r#"{"status":"ok"}"#;
    let response = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(response.as_bytes())
        .expect("write_all failed");
}

#[test]
fn the_gateway_gets_json_with_the_bearer_token_and_a_503_is_retried_until_a_200() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let server = Gateway::start(&[503, 200]);
    let transports = gateway(server.url.clone(), TOKEN, dir.path());
    let id = queue_sms(&mut conn);

    let error = first_attempt_fails(&mut conn, &transports, id);
    assert_eq!(error, "passerelle SMS : réponse HTTP 503");

    let later = T0 + time::Duration::seconds(30);
    let detail = second_attempt_delivers(&mut conn, &transports, id, later);
    assert_eq!(detail.transport, Some(outbox::TransportKind::Http));
    assert_eq!(detail.summary.recipient, "+33 7 ** ** ** 41");

    let received = server.received();
    assert_eq!(received.len(), 2);
    for request in &received {
        assert_eq!(request.request_line, "POST /api/sms HTTP/1.1");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));
        assert_eq!(
            request.body,
            serde_json::json!({"to": "+33712123241", "text": TEXT, "sender": "SISERI"})
        );
    }
    // Both attempts are recognisably the same SMS.
    let key = received[0].header("idempotency-key").unwrap();
    assert_eq!(received[1].header("idempotency-key"), Some(key));
    assert_eq!(format!("<{key}>"), detail.message_id);
}

#[test]
fn a_refused_token_is_a_failure_and_the_sms_waits() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let server = Gateway::start(&[]);
    let transports = gateway(server.url.clone(), "mauvais-jeton", dir.path());
    let id = queue_sms(&mut conn);

    let report = outbox::deliver_due(&mut conn, &transports, T0).unwrap();
    assert_eq!(report.failed, 1);
    let detail = outbox::show(&conn, id).unwrap().unwrap();
    assert_eq!(detail.summary.status, DeliveryStatus::Pending);
    assert_eq!(
        detail.summary.last_error.as_deref(),
        Some("passerelle SMS : réponse HTTP 401")
    );
    assert_eq!(server.received().len(), 1);
}

#[test]
fn an_unreachable_gateway_is_retried_later_without_leaking_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = database(dir.path());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/sms", closed.local_addr().unwrap());
    drop(closed);
    let transports = gateway(url, TOKEN, dir.path());
    let id = queue_sms(&mut conn);

    let error = first_attempt_fails(&mut conn, &transports, id);
    assert!(error.starts_with("passerelle SMS injoignable"), "{error}");
    assert!(
        !error.contains("271828") && !error.contains(TOKEN),
        "{error}"
    );
}
