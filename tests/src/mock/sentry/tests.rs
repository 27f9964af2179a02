//! Unit tests driving `MockSentry` over real HTTP with a plain client.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use hyper::Method;
use serde_json::json;

use super::*;
use crate::mock::test_client::{self, Answer};

const EVENT_ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

fn auth_header(key: &str) -> String {
    format!("Sentry sentry_key={key}, sentry_version=7, sentry_client=test/1.0")
}

/// An envelope with one event (with `length`) and one transaction (without).
fn envelope() -> Vec<u8> {
    let event = json!({"event_id": EVENT_ID, "level": "error", "exception": {"values": [{"type": "E", "value": "boom"}]}}).to_string();
    let transaction =
        json!({"event_id": "00000000000000000000000000000001", "transaction": "GET /", "spans": []})
            .to_string();
    format!(
        "{}\n{}\n{event}\n{}\n{transaction}\n",
        json!({"event_id": EVENT_ID, "sent_at": "2024-01-01T00:00:00Z"}),
        json!({"type": "event", "length": event.len()}),
        json!({"type": "transaction"}),
    )
    .into_bytes()
}

async fn post(mock: &MockSentry, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    test_client::send(
        Method::POST,
        &format!("{}{path}", mock.base_url()),
        headers,
        body,
    )
    .await
    .expect("request")
}

#[tokio::test]
async fn accepts_and_parses_a_real_envelope() {
    let mock = MockSentry::start().await;
    let auth = auth_header(KEY);
    let answer = post(
        &mock,
        "/api/42/envelope/",
        &[
            ("x-sentry-auth", &auth),
            ("content-type", "application/x-sentry-envelope"),
        ],
        envelope(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        serde_json::from_str::<Value>(&answer.body).expect("json"),
        json!({"id": EVENT_ID})
    );
    let items = mock
        .wait_for_items(2, Duration::from_secs(1))
        .await
        .expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].item_type, "event");
    assert_eq!(items[0].project, 42);
    assert_eq!(items[0].body()["exception"]["values"][0]["value"], "boom");
    assert_eq!(items[1].item_type, "transaction");
    assert_eq!(mock.transactions()[0]["transaction"], "GET /");
    assert_eq!(
        mock.envelopes()[0].headers["sent_at"],
        "2024-01-01T00:00:00Z"
    );
    assert!(mock
        .dsn(PROJECT)
        .starts_with(&format!("http://{KEY}@127.0.0.1:")));
    assert!(mock.dsn(PROJECT).ends_with("/42"));
}

#[tokio::test]
async fn gunzips_and_accepts_query_auth_without_content_type() {
    let mock = MockSentry::start().await;
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&envelope()).expect("gzip");
    let body = gz.finish().expect("gzip");
    let answer = post(
        &mock,
        &format!("/api/42/envelope?sentry_key={KEY}&sentry_version=7"),
        &[("content-encoding", "gzip")],
        body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(mock.count(), 2);
}

#[tokio::test]
async fn refuses_like_relay() {
    let mock = MockSentry::start_with_projects(&[(1, "aaaa"), (2, "bbbb")]).await;
    let ct = ("content-type", "application/x-sentry-envelope");
    let a = auth_header("aaaa");
    for (path, headers, body, status, says) in [
        (
            "/api/1/envelope/",
            vec![ct],
            envelope(),
            401,
            "missing authorization",
        ),
        (
            "/api/2/envelope/",
            vec![ct, ("x-sentry-auth", a.as_str())],
            envelope(),
            403,
            "ProjectId",
        ),
        (
            "/api/3/envelope/",
            vec![ct, ("x-sentry-auth", a.as_str())],
            envelope(),
            403,
            "ProjectId",
        ),
        (
            "/api/1/envelope/",
            vec![
                ct,
                ("x-sentry-auth", "Sentry sentry_key=aaaa, sentry_version=5"),
            ],
            envelope(),
            400,
            "version",
        ),
        (
            "/api/1/envelope/",
            vec![
                ("content-type", "application/json"),
                ("x-sentry-auth", a.as_str()),
            ],
            envelope(),
            415,
            "content type",
        ),
        (
            "/api/1/envelope/",
            vec![ct, ("x-sentry-auth", a.as_str())],
            b"not json\n".to_vec(),
            400,
            "envelope header",
        ),
        (
            "/api/1/envelope/",
            vec![ct, ("x-sentry-auth", a.as_str())],
            b"{}\n{\"length\":2}\n{}\n".to_vec(),
            400,
            "type",
        ),
        (
            "/api/1/envelope/",
            vec![ct, ("x-sentry-auth", a.as_str())],
            b"{}\n{\"type\":\"event\",\"length\":99}\n{}\n".to_vec(),
            400,
            "length",
        ),
        (
            "/api/1/envelope/",
            vec![ct, ("x-sentry-auth", a.as_str())],
            b"{}\n{\"type\":\"event\"}\n[1]\n".to_vec(),
            400,
            "JSON object",
        ),
        (
            "/api/1/envelope/",
            vec![ct, ("x-sentry-auth", a.as_str())],
            b"{\"event_id\":\"nope\"}\n".to_vec(),
            400,
            "UUID",
        ),
        ("/api/1/store/", vec![ct], envelope(), 404, "not found"),
    ] {
        let answer = post(&mock, path, &headers, body).await;
        assert_eq!(answer.status, status, "{path} {headers:?}: {}", answer.body);
        assert!(answer.body.contains(says), "{}", answer.body);
    }
    let get = test_client::get(&format!("{}/api/1/envelope/", mock.base_url()))
        .await
        .expect("get");
    assert_eq!(get.status, 405);
    assert_eq!(mock.count(), 0);
    assert!(mock.items().is_empty());
    assert_eq!(mock.requests().len(), 12);
}

#[tokio::test]
async fn keeps_projects_apart_and_times_out() {
    let mock = MockSentry::start_with_projects(&[(1, "aaaa"), (2, "bbbb")]).await;
    let b = auth_header("bbbb");
    let answer = post(
        &mock,
        "/api/2/envelope/",
        &[("x-sentry-auth", &b)],
        envelope(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(mock.items().iter().all(|i| i.project == 2));
    let err = mock
        .wait_for_items(3, Duration::from_millis(100))
        .await
        .expect_err("only two");
    assert!(matches!(err, MockError::Timeout { got: 2, .. }), "{err:?}");
    mock.clear();
    assert_eq!(mock.count(), 0);
}
