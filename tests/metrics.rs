//! `/metrics` as Prometheus reads it: conventional names, a latency histogram labelled with
//! the route template (never the path, which may hold a withdrawal token), the outbox backlog.

mod common;

use common::daemon::Daemon;
use common::listening_addr;

fn scrape(d: &Daemon) -> String {
    let listening: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.sandbox.data_file("listening.json")).expect("listening.json"),
    )
    .expect("listening.json");
    let url = format!("http://{}/metrics", listening_addr(&listening, "admin"));
    let reply = d.curl("GET", &url, &[], None);
    assert_eq!(reply.status, 200, "{}", reply.stderr);
    reply.text()
}

#[test]
fn request_latency_is_labelled_with_the_route_template_never_the_token() {
    let d = Daemon::start(&[]);
    let token = "Zq8vT3kLmN5pR7sW2xY4aB6cD9eF1gH0";
    let reply = d.call("GET", &format!("/retrait/{token}"), None, None);
    assert!(reply.status >= 400, "an unknown token is refused");
    d.call("GET", "/pas/une/route", None, None);
    let text = scrape(&d);
    assert!(!text.contains(token), "the token reached /metrics:\n{text}");
    assert!(!text.contains("/pas/une/route"), "{text}");
    for needle in [
        "# TYPE siseri_http_request_duration_seconds histogram",
        "siseri_http_request_duration_seconds_count{listener=\"public\",route=\"/retrait/{token}\"} 1",
        "siseri_http_request_duration_seconds_bucket{listener=\"public\",route=\"/retrait/{token}\",le=\"+Inf\"} 1",
        "siseri_http_request_duration_seconds_count{listener=\"public\",route=\"unmatched\"} 1",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
}

#[test]
fn metric_names_follow_the_prometheus_conventions() {
    let d = Daemon::start(&[]);
    let text = scrape(&d);
    let mut typed = 0;
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let mut words = line.split_whitespace().skip(2);
        let (name, kind) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        typed += 1;
        assert!(name.starts_with("siseri_"), "{line}");
        assert!(
            text.contains(&format!("# HELP {name} ")),
            "no HELP for {name}"
        );
        match kind {
            "counter" => assert!(name.ends_with("_total"), "a counter without _total: {line}"),
            "gauge" | "histogram" => assert!(!name.ends_with("_total"), "{line}"),
            other => panic!("unexpected type {other}: {line}"),
        }
        // A Unix time is a timestamp in seconds, said so in the name.
        if name.contains("next_update") || name.contains("oldest") {
            assert!(name.ends_with("_timestamp_seconds"), "{line}");
        }
    }
    assert!(typed >= 10, "{text}");
    assert!(
        text.contains("siseri_crl_next_update_timestamp_seconds "),
        "{text}"
    );
    assert!(!text.contains("siseri_crl_next_update_seconds"), "{text}");
}
