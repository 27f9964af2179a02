//! The PostHog adapter end to end: host -> analytics-posthog component -> MockPostHog.

use std::time::Duration;

use serde_json::json;
use switchyard_host::services::analytics::{Event, Identity, PageView, Timestamp};
use switchyard_host::{Error, ErrorKind, Service};
use switchyard_tests::mock::posthog::MockPostHog;

use crate::support::{posthog_spec, runtime, API_KEY};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn track_batches_by_count_with_the_injected_api_key() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        posthog_spec(&mock, &[("flush_at", "5")]),
    )])
    .await;
    let analytics = rt.analytics("acme").expect("binding");
    for i in 0..4 {
        let mut e =
            Event::new("signed_up", format!("user-{i}")).properties(json!({"plan": "pro", "n": i}));
        e.category = Some("billing".into());
        e.session_id = Some("sess-1".into());
        e.timestamp = Some(Timestamp {
            seconds: 1_710_513_000,
            nanoseconds: 0,
        });
        analytics.track(&e).await.expect("accepted");
    }
    assert_eq!(
        mock.event_count(),
        0,
        "nothing is sent before flush_at events"
    );
    analytics
        .track(&Event::new("signed_up", "user-4"))
        .await
        .expect("accepted");
    let events = mock
        .wait_for_events(5, WAIT)
        .await
        .expect("one batch of five");
    let batches: Vec<_> = mock
        .requests()
        .into_iter()
        .filter(|r| r.path == "/batch/")
        .collect();
    assert_eq!(batches.len(), 1, "five events go in one /batch/ request");
    assert!(events
        .iter()
        .all(|e| e.api_key == API_KEY && e.path == "/batch/"));
    let first = &events[0];
    assert_eq!(first.event, "signed_up");
    assert_eq!(first.distinct_id, "user-0");
    assert_eq!(first.properties["plan"], "pro");
    assert_eq!(first.properties["$session_id"], "sess-1");
    assert_eq!(first.properties["category"], "billing");
    assert!(first.properties["$lib"].is_string());
    assert_eq!(first.timestamp.as_deref(), Some("2024-03-15T14:30:00.000Z"));
    assert_eq!(mock.unique_uuids().len(), 5, "every event has its own uuid");
    let body = batches[0].body_json().expect("json body");
    assert!(body["sent_at"].is_string());
    assert_eq!(body["historical_migration"], false);
}

#[tokio::test]
async fn page_identify_and_alias_use_posthogs_special_events() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![("acme", Service::Analytics, posthog_spec(&mock, &[]))]).await;
    let a = rt.analytics("acme").expect("binding");
    a.page(&PageView {
        distinct_id: "u1".into(),
        url: "https://app.example/pricing".into(),
        title: Some("Pricing".into()),
        referrer: Some("https://google.com".into()),
        properties: None,
        session_id: None,
        timestamp: None,
    })
    .await
    .expect("page");
    a.identify(&Identity {
        distinct_id: "u1".into(),
        set: Some(json!({"email": "a@b.c"}).to_string()),
        set_once: Some(json!({"first_seen": "2024"}).to_string()),
        anonymous_id: Some("anon-9".into()),
    })
    .await
    .expect("identify");
    a.alias("u1", "u1-alias").await.expect("alias");
    let report = a.flush().await.expect("flush");
    assert_eq!((report.sent, report.pending), (3, 0));
    let events = mock.events();
    let by = |name: &str| {
        events
            .iter()
            .find(|e| e.event == name)
            .cloned()
            .expect(name)
    };
    let page = by("$pageview");
    assert_eq!(
        page.properties["$current_url"],
        "https://app.example/pricing"
    );
    assert_eq!(page.properties["$title"], "Pricing");
    let identify = by("$identify");
    assert_eq!(identify.properties["$set"]["email"], "a@b.c");
    assert_eq!(identify.properties["$set_once"]["first_seen"], "2024");
    assert_eq!(identify.properties["$anon_distinct_id"], "anon-9");
    let alias = by("$create_alias");
    assert_eq!(alias.properties["alias"], "u1-alias");
    assert_eq!(alias.properties["distinct_id"], "u1");
}

#[tokio::test]
async fn a_lone_event_is_flushed_by_age_without_an_explicit_flush() {
    let mock = MockPostHog::start(API_KEY).await;
    let spec = posthog_spec(&mock, &[("flush_at", "100"), ("flush_interval_ms", "200")]);
    let rt = runtime(vec![("acme", Service::Analytics, spec)]).await;
    rt.analytics("acme")
        .expect("binding")
        .track(&Event::new("lonely", "u"))
        .await
        .expect("accepted");
    let events = mock
        .wait_for_events(1, WAIT)
        .await
        .expect("flushed by the tick");
    assert_eq!(events[0].event, "lonely");
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retried_without_duplicates() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        posthog_spec(&mock, &[("flush_at", "100")]),
    )])
    .await;
    let a = rt.analytics("acme").expect("binding");
    for i in 0..3 {
        a.track(&Event::new("e", format!("u{i}")))
            .await
            .expect("accepted");
    }
    mock.fail_next(2, 503, "overloaded");
    mock.fail_next_with_headers(1, 429, &[("retry-after", "1")], "slow down");
    let started = std::time::Instant::now();
    let report = a.flush().await.expect("succeeds after retries");
    assert_eq!((report.sent, report.pending), (3, 0));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was honoured"
    );
    assert_eq!(
        mock.requests().len(),
        4,
        "two 503s, one 429, then the batch"
    );
    assert_eq!(mock.event_count(), 3);
    assert!(mock.duplicate_uuids().is_empty());
}

#[tokio::test]
async fn a_failed_flush_keeps_every_event_and_a_later_flush_delivers_them() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        posthog_spec(&mock, &[("flush_at", "100"), ("max_retries", "1")]),
    )])
    .await;
    let a = rt.analytics("acme").expect("binding");
    for i in 0..4 {
        a.track(&Event::new("e", format!("u{i}")))
            .await
            .expect("accepted");
    }
    mock.fail_next(2, 503, "down");
    let err = a.flush().await.expect_err("provider down");
    let p = err.provider().expect("a provider error");
    assert_eq!(p.kind, ErrorKind::Unavailable);
    assert!(p.retryable);
    mock.fail_next(1, 401, "invalid token");
    let err = a.flush().await.expect_err("unauthorized");
    let p = err.provider().expect("a provider error");
    assert_eq!(p.kind, ErrorKind::Unauthorized);
    assert!(!p.retryable, "a 4xx is not retryable");
    assert_eq!(rt.bindings()[0].pending, 4, "nothing was lost");
    let report = a.flush().await.expect("provider back");
    assert_eq!((report.sent, report.pending), (4, 0));
    assert_eq!(mock.unique_uuids().len(), 4);
    assert!(mock.duplicate_uuids().is_empty());
}

#[tokio::test]
async fn an_event_the_provider_rejects_is_dropped_alone() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        posthog_spec(&mock, &[("flush_at", "100")]),
    )])
    .await;
    let a = rt.analytics("acme").expect("binding");
    for name in ["good-1", "poison", "good-2"] {
        a.track(&Event::new(name, "u")).await.expect("accepted");
    }
    mock.reject_event_named("poison");
    a.flush().await.expect("flush goes on past the bad event");
    let mut names: Vec<String> = mock.events().into_iter().map(|e| e.event).collect();
    names.sort();
    assert_eq!(names, ["good-1", "good-2"]);
    assert_eq!(rt.bindings()[0].pending, 0);
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_naming_the_field() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![("acme", Service::Analytics, posthog_spec(&mock, &[]))]).await;
    let a = rt.analytics("acme").expect("binding");
    let check = |r: Result<(), Error>, field: &str| {
        let err = r.expect_err("refused");
        let p = err.provider().expect("a contract error").clone();
        assert_eq!(p.kind, ErrorKind::InvalidInput, "{p:?}");
        assert!(
            p.message.contains(field),
            "message {:?} names {field}",
            p.message
        );
    };
    check(a.track(&Event::new("", "u")).await, "name");
    check(a.track(&Event::new("e", "")).await, "distinct");
    check(
        a.track(&Event::new("e", "u").properties(json!([1, 2])))
            .await,
        "properties",
    );
    let mut bad_json = Event::new("e", "u");
    bad_json.properties = Some("{not json".into());
    check(a.track(&bad_json).await, "properties");
    check(a.alias("u", "").await, "alias");
    a.track(&Event::new("fine", "u"))
        .await
        .expect("a good call still works");
    assert_eq!(
        rt.bindings()[0].pending,
        1,
        "only the good event was accepted"
    );
}

#[tokio::test]
async fn health_reports_reachability() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![("acme", Service::Analytics, posthog_spec(&mock, &[]))]).await;
    let health = rt
        .analytics("acme")
        .expect("binding")
        .health()
        .await
        .expect("health");
    assert!(health.ok, "{}", health.detail);
}

#[tokio::test]
async fn shutdown_delivers_everything_buffered() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        posthog_spec(&mock, &[("flush_at", "100")]),
    )])
    .await;
    let a = rt.analytics("acme").expect("binding");
    for i in 0..7 {
        a.track(&Event::new("e", format!("u{i}")))
            .await
            .expect("accepted");
    }
    assert_eq!(mock.event_count(), 0);
    let report = rt.shutdown().await;
    assert!(report.undelivered.is_empty(), "{:?}", report.undelivered);
    assert_eq!(mock.event_count(), 7);
    assert!(matches!(
        a.track(&Event::new("late", "u")).await,
        Err(Error::ShuttingDown)
    ));
}
