//! The gateway: calls by name, the error body and its statuses, limits, shutdown.

use std::time::Duration;

use serde_json::json;
use switchyard_tests::mock::posthog::MockPostHog;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{code, TestServer, API_KEY};

fn signed_up() -> serde_json::Value {
    json!({"event": {"name": "signed_up", "distinct-id": "u1", "properties": {"plan": "pro"}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_track_call_is_accepted_and_a_flush_delivers_it() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, None).await;

    let response = server.call("acme", "track", &signed_up()).await;
    assert_eq!(response.status, 200, "{:?}", response.json());
    assert_eq!(response.json(), json!({"result": null}));
    assert_eq!(
        mock.event_count(),
        0,
        "accepted into the batch, not sent yet"
    );

    let response = server.call("acme", "flush", &json!({})).await;
    assert_eq!(response.status, 200, "{:?}", response.json());
    assert_eq!(response.json()["result"], json!({"sent": 1, "pending": 0}));
    let events = mock
        .wait_for_events(1, Duration::from_secs(5))
        .await
        .expect("delivered");
    assert_eq!(events[0].event, "signed_up");
    assert_eq!(events[0].distinct_id, "u1");
    assert_eq!(events[0].properties["plan"], "pro");
    assert_eq!(events[0].api_key, API_KEY);

    let report = server.shutdown().await;
    assert!(report.undelivered.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_answer_with_the_hosts_code_and_status() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, None).await;

    let r = server.call("nobody", "track", &signed_up()).await;
    assert_eq!((r.status, code(&r).as_str()), (404, "unknown_tenant"));
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("nobody"));
    assert_eq!(r.json()["error"]["provider"], serde_json::Value::Null);

    let r = server.call("acme", "trak", &signed_up()).await;
    assert_eq!((r.status, code(&r).as_str()), (404, "unknown_function"));

    let r = server
        .client
        .post_json("/v1/tenants/acme/analytix/track", &signed_up())
        .await
        .expect("request");
    assert_eq!((r.status, code(&r).as_str()), (404, "unknown_service"));

    let r = server.call("acme", "track", &json!({})).await;
    assert_eq!((r.status, code(&r).as_str()), (400, "bad_arguments"));

    let r = server
        .call(
            "acme",
            "track",
            &json!({"event": {"name": "", "distinct-id": "u1"}}),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.json());
    assert_eq!(code(&r), "invalid_input");
    let provider = &r.json()["error"]["provider"];
    assert_eq!(provider["kind"], "invalid-input", "{provider}");
    assert_eq!(provider["retryable"], false);
    assert!(provider["message"]
        .as_str()
        .unwrap_or_default()
        .contains("name"));

    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_must_be_json_objects_and_routes_methods_fit() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, None).await;
    let send = |body: &'static str| {
        server.client.send(
            http::Method::POST,
            "/v1/tenants/acme/analytics/track",
            Some("application/json"),
            bytes::Bytes::from_static(body.as_bytes()),
        )
    };

    let r = send("{\"event\": ").await.expect("request");
    assert_eq!((r.status, code(&r).as_str()), (400, "bad_json"));
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("not valid JSON"));
    let r = send("[1, 2]").await.expect("request");
    assert_eq!((r.status, code(&r).as_str()), (400, "bad_json"));
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("an array"));

    let r = server
        .client
        .get("/v1/tenants/acme/analytics/track")
        .await
        .expect("request");
    assert_eq!((r.status, code(&r).as_str()), (405, "method_not_allowed"));
    assert_eq!(
        r.headers.get("allow").and_then(|v| v.to_str().ok()),
        Some("POST")
    );

    let r = server.client.get("/nowhere").await.expect("request");
    assert_eq!((r.status, code(&r).as_str()), (404, "not_found"));

    let r = server.client.get("/healthz").await.expect("request");
    assert_eq!((r.status, r.json()), (200, json!({"status": "ok"})));

    let r = server.client.get("/v1/services").await.expect("request");
    assert_eq!(r.status, 200);
    let services = r.json()["services"].clone();
    let analytics = services
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "analytics"))
        .cloned()
        .expect("analytics listed");
    let track = analytics["functions"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "track"))
        .cloned()
        .expect("track listed");
    assert_eq!(track["params"], json!(["event"]));

    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_16_mib_is_refused_with_413() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, None).await;
    let addr = server.url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /v1/tenants/acme/analytics/track HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        16 * 1024 * 1024 + 1
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered without waiting for the body")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("body_too_large"), "{answer}");

    // A body that streams past the limit without a Content-Length is cut off too.
    let big = bytes::Bytes::from(vec![b' '; 16 * 1024 * 1024 + 10]);
    let r = server
        .client
        .send(
            http::Method::POST,
            "/v1/tenants/acme/analytics/track",
            Some("application/json"),
            big,
        )
        .await;
    if let Ok(r) = r {
        assert_eq!((r.status, code(&r).as_str()), (413, "body_too_large"));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_delivers_buffered_events() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, None).await;
    for i in 0..3 {
        let r = server
            .call(
                "acme",
                "track",
                &json!({"event": {"name": "buffered", "distinct-id": format!("u{i}")}}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.json());
    }
    assert_eq!(mock.event_count(), 0, "still buffered");
    let client = server.client.clone();
    let report = server.shutdown().await;
    assert!(report.undelivered.is_empty(), "{:?}", report.undelivered);
    assert_eq!(mock.event_count(), 3, "shutdown flushed the batch");
    assert!(client.get("/healthz").await.is_err(), "no longer listening");
}
