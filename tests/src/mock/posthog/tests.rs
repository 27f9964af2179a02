//! Unit tests driving `MockPostHog` over real HTTP with a plain client.

use std::io::Write;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use hyper::Method;
use serde_json::{json, Value};

use super::*;
use crate::mock::test_client::{self, Answer};

const KEY: &str = "phc_test_key";

fn event(name: &str, uuid: &str) -> Value {
    json!({
        "event": name,
        "distinct_id": "user_42",
        "properties": {"plan": "pro", "$lib": "switchyard"},
        "timestamp": "2024-03-15T14:30:00.000Z",
        "uuid": uuid,
    })
}

fn uuid(n: u32) -> String {
    format!("0190c0de-0000-7000-8000-{n:012}")
}

async fn post(mock: &MockPostHog, path: &str, body: Value) -> Answer {
    test_client::post_json(&format!("{}{path}", mock.base_url()), &body)
        .await
        .expect("request")
}

async fn batch(mock: &MockPostHog, events: Vec<Value>) -> Answer {
    let body = json!({"api_key": KEY, "batch": events, "sent_at": "2024-03-15T14:30:01Z"});
    post(mock, "/batch/", body).await
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(data).expect("gzip write");
    encoder.finish().expect("gzip finish")
}

#[tokio::test]
async fn valid_batch_is_recorded() {
    let mock = MockPostHog::start(KEY).await;
    let answer = batch(
        &mock,
        vec![event("signed_up", &uuid(1)), event("paid", &uuid(2))],
    )
    .await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, r#"{"status":"Ok"}"#);
    assert_eq!(answer.headers["content-type"], "application/json");

    let events = mock.events();
    assert_eq!(mock.event_count(), 2);
    assert_eq!(events[0].event, "signed_up");
    assert_eq!(events[0].distinct_id, "user_42");
    assert_eq!(events[0].properties["plan"], "pro");
    assert_eq!(
        events[0].timestamp.as_deref(),
        Some("2024-03-15T14:30:00.000Z")
    );
    assert_eq!(events[0].uuid, Some(uuid(1)));
    assert_eq!(events[0].api_key, KEY);
    assert_eq!(events[0].path, "/batch/");
    assert_eq!(events[1].event, "paid");

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].status, 200);
    assert_eq!(requests[0].body_json().expect("json")["api_key"], KEY);
}

#[tokio::test]
async fn single_event_endpoints_and_key_aliases() {
    let mock = MockPostHog::start(KEY).await;
    let bodies = [
        (
            "/i/v0/e/",
            json!({"api_key": KEY, "event": "a", "distinct_id": "d"}),
        ),
        (
            "/capture/",
            json!({"token": KEY, "event": "b", "properties": {"distinct_id": "d2"}}),
        ),
        (
            "/e/",
            json!({"$token": KEY, "event": "c", "distinct_id": 7}),
        ),
        (
            "/e",
            json!([{"event": "d", "distinct_id": "d", "properties": {"token": KEY}}]),
        ),
    ];
    for (path, body) in bodies {
        let answer = post(&mock, path, body).await;
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }
    let events = mock.events();
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.event.as_str(), e.distinct_id.as_str(), e.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("a", "d", "/i/v0/e/"),
            ("b", "d2", "/capture/"),
            ("c", "7", "/e/"),
            ("d", "d", "/e")
        ]
    );
}

#[tokio::test]
async fn missing_wrong_or_mixed_api_key_is_401() {
    let mock = MockPostHog::start(KEY).await;
    let missing = post(&mock, "/batch/", json!({"batch": [event("a", &uuid(1))]})).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body, "event submitted without an api_key");

    let wrong = json!({"api_key": "phc_other", "batch": [event("a", &uuid(1))]});
    assert_eq!(post(&mock, "/batch/", wrong).await.status, 401);

    let mut other = event("b", &uuid(2));
    other["api_key"] = json!("phc_other");
    let mixed = json!({"api_key": KEY, "batch": [event("a", &uuid(1)), other]});
    let answer = post(&mock, "/batch/", mixed).await;
    assert_eq!(answer.status, 401);
    assert_eq!(
        answer.body,
        "batch submitted with inconsistent api_key values"
    );

    assert_eq!(mock.event_count(), 0);
    let statuses: Vec<u16> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 401]);
}

#[tokio::test]
async fn validation_errors_are_400_with_plain_text() {
    let mock = MockPostHog::start(KEY).await;
    let url = format!("{}/batch/", mock.base_url());
    let bad_json = test_client::send(Method::POST, &url, &[], "{not json")
        .await
        .expect("request");
    assert_eq!(bad_json.status, 400);
    assert!(
        bad_json.body.starts_with("failed to parse request"),
        "{}",
        bad_json.body
    );
    assert!(bad_json.headers["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/plain"));

    let cases = [
        (json!([]), "request holds no event"),
        (
            json!({"event": "", "distinct_id": "d"}),
            "event submitted with an empty event name",
        ),
        (
            json!({"distinct_id": "d"}),
            "event submitted with an empty event name",
        ),
        (
            json!({"event": "e"}),
            "event submitted without a distinct_id",
        ),
        (
            json!({"event": "e", "distinct_id": ""}),
            "event submitted with an empty distinct_id",
        ),
        (
            json!({"event": "e", "distinct_id": "d", "timestamp": "yesterday"}),
            "event submitted with invalid timestamp",
        ),
    ];
    for (event, expected) in cases {
        let events = if event.is_array() {
            vec![]
        } else {
            vec![event]
        };
        let answer = post(&mock, "/batch/", json!({"api_key": KEY, "batch": events})).await;
        assert_eq!((answer.status, answer.body.as_str()), (400, expected));
    }
    assert_eq!(mock.event_count(), 0);
}

#[tokio::test]
async fn gzip_bodies_are_decoded() {
    let mock = MockPostHog::start(KEY).await;
    let body = json!({"api_key": KEY, "batch": [event("zipped", &uuid(1))]}).to_string();
    let url = format!("{}/batch/", mock.base_url());
    let headers = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
    ];
    let answer = test_client::send(Method::POST, &url, &headers, gzip(body.as_bytes()))
        .await
        .expect("request");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(mock.events()[0].event, "zipped");
    assert_eq!(
        mock.requests()[0].body_text(),
        body,
        "recorded body is decompressed"
    );

    // posthog-js browser style: gzip announced in the query, text/plain content type.
    let url = format!("{}/e/?compression=gzip-js", mock.base_url());
    let answer = test_client::send(Method::POST, &url, &[], gzip(body.as_bytes()))
        .await
        .expect("request");
    assert_eq!(answer.status, 200, "{}", answer.body);

    let garbage = test_client::send(Method::POST, &url, &headers, "not gzip at all")
        .await
        .expect("request");
    assert_eq!(garbage.status, 400);
    assert_eq!(mock.event_count(), 2);
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let mock = MockPostHog::start_with(MockPostHogOptions::new(KEY).max_body_bytes(1024)).await;
    let mut big = event("big", &uuid(1));
    big["properties"]["blob"] = json!("x".repeat(2048));
    let answer = batch(&mock, vec![big.clone()]).await;
    assert_eq!(answer.status, 413);

    // A small gzip body that inflates past the limit is refused too.
    let body = json!({"api_key": KEY, "batch": [big]}).to_string();
    let url = format!("{}/batch/", mock.base_url());
    let zipped = gzip(body.as_bytes());
    assert!(zipped.len() < 1024);
    let answer = test_client::send(Method::POST, &url, &[("content-encoding", "gzip")], zipped)
        .await
        .expect("request");
    assert_eq!(answer.status, 413);

    mock.set_max_body(DEFAULT_MAX_BODY_BYTES);
    let mut ok = event("big", &uuid(1));
    ok["properties"]["blob"] = json!("x".repeat(2048));
    assert_eq!(batch(&mock, vec![ok]).await.status, 200);
}

#[tokio::test]
async fn fail_next_answers_the_next_requests_then_recovers() {
    let mock = MockPostHog::start(KEY).await;
    mock.fail_next(2, 503, "transient error, please retry");
    mock.fail_next_with_headers(1, 429, &[("retry-after", "1")], "rate limited");

    let health = test_client::get(&format!("{}/_health", mock.base_url()))
        .await
        .expect("request");
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));

    for _ in 0..2 {
        let answer = batch(&mock, vec![event("a", &uuid(1))]).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (503, "transient error, please retry")
        );
    }
    let limited = batch(&mock, vec![event("a", &uuid(1))]).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "1");

    assert_eq!(mock.event_count(), 0, "failed requests record no event");
    assert_eq!(batch(&mock, vec![event("a", &uuid(1))]).await.status, 200);
    assert_eq!(mock.event_count(), 1);
    let statuses: Vec<u16> = mock.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 503, 503, 429, 200]);
}

#[tokio::test]
async fn reject_event_named_refuses_only_requests_holding_it() {
    let mock = MockPostHog::start(KEY).await;
    mock.reject_event_named("poison");

    let mixed = batch(
        &mock,
        vec![event("good", &uuid(1)), event("poison", &uuid(2))],
    )
    .await;
    assert_eq!(
        (mixed.status, mixed.body.as_str()),
        (400, "invalid event could not be processed")
    );
    assert_eq!(
        batch(&mock, vec![event("poison", &uuid(2))]).await.status,
        400
    );
    assert_eq!(
        batch(&mock, vec![event("good", &uuid(1))]).await.status,
        200
    );
    let single = json!({"api_key": KEY, "event": "poison", "distinct_id": "d"});
    assert_eq!(post(&mock, "/i/v0/e/", single).await.status, 400);

    let names: Vec<String> = mock.events().into_iter().map(|e| e.event).collect();
    assert_eq!(names, ["good"]);

    mock.reset_failures();
    assert_eq!(
        batch(&mock, vec![event("poison", &uuid(2))]).await.status,
        200
    );
}

#[tokio::test]
async fn wait_for_events_times_out_cleanly() {
    let mock = MockPostHog::start(KEY).await;
    batch(&mock, vec![event("a", &uuid(1))]).await;
    let started = Instant::now();
    let err = mock
        .wait_for_events(3, Duration::from_millis(200))
        .await
        .expect_err("only one event arrived");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(
        matches!(
            err,
            MockError::Timeout {
                wanted: 3,
                got: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("3 events; 1 arrived"), "{err}");
}

#[tokio::test]
async fn wait_for_events_wakes_on_arrival() {
    let mock = MockPostHog::start(KEY).await;
    let sender = mock.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        batch(&sender, vec![event("a", &uuid(1)), event("b", &uuid(2))]).await;
    });
    let events = mock
        .wait_for_events(2, Duration::from_secs(5))
        .await
        .expect("events arrive");
    assert_eq!(events.len(), 2);

    mock.clear();
    assert_eq!(mock.event_count(), 0);
    assert!(mock.requests().is_empty());
    assert!(mock
        .wait_for_events(1, Duration::from_millis(20))
        .await
        .is_err());
}

#[tokio::test]
async fn set_delay_answers_slowly() {
    let mock = MockPostHog::start(KEY).await;
    mock.set_delay(Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(batch(&mock, vec![event("a", &uuid(1))]).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn duplicates_are_recorded_and_visible() {
    let mock = MockPostHog::start(KEY).await;
    batch(&mock, vec![event("a", &uuid(1)), event("b", &uuid(2))]).await;
    batch(&mock, vec![event("b", &uuid(2))]).await;
    assert_eq!(mock.event_count(), 3);
    assert_eq!(mock.unique_uuids().len(), 2);
    assert_eq!(
        mock.duplicate_uuids().into_iter().collect::<Vec<_>>(),
        [uuid(2)]
    );
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let mock = MockPostHog::start(KEY).await;
    let root = test_client::get(&format!("{}/", mock.base_url()))
        .await
        .expect("request");
    assert_eq!((root.status, root.body.as_str()), (200, "ok"));
    let get_batch = test_client::get(&format!("{}/batch/", mock.base_url()))
        .await
        .expect("request");
    assert_eq!(get_batch.status, 405);
    let nowhere = test_client::get(&format!("{}/decide/", mock.base_url()))
        .await
        .expect("request");
    assert_eq!(nowhere.status, 404);
    assert_eq!(mock.requests().len(), 3);
}
