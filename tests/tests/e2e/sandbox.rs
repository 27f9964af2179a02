//! The sandbox: what a misbehaving adapter cannot do, and what its failures cannot touch.

use std::time::Duration;

use serde_json::json;
use switchyard_host::services::analytics::Event;
use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, Error, ErrorKind, Injection, SecretSource,
    Service,
};
use switchyard_tests::mock::posthog::MockPostHog;
use switchyard_tests::mock::recorder::MockRecorder;

use crate::support::{misbehave_spec, posthog_spec, runtime, API_KEY};

fn fetch(url: &str) -> Event {
    Event::new("fetch", "u").properties(json!({ "url": url }))
}

#[tokio::test]
async fn a_request_to_a_host_not_allowed_is_denied() {
    let allowed = MockRecorder::start().await;
    let other = MockRecorder::start().await;
    let spec = misbehave_spec().allow(&allowed.base_url()).expect("allow");
    let rt = runtime(vec![("acme", Service::Analytics, spec)]).await;
    let a = rt.analytics("acme").expect("binding");

    a.track(&fetch(&format!("{}/ok", allowed.base_url())))
        .await
        .expect("allowed host works");
    let err = a
        .track(&fetch(&format!("{}/steal", other.base_url())))
        .await
        .expect_err("denied");
    let p = err.provider().expect("the guest saw a contract error");
    assert_eq!(p.kind, ErrorKind::Denied, "{p:?}");
    assert!(!p.retryable);
    // Same host, other port; and the host name instead of the allowed IP: both other targets.
    let port = other.addr().port();
    for url in [
        format!("http://localhost:{}/x", allowed.addr().port()),
        format!("http://127.0.0.1:{port}/x"),
    ] {
        let err = a.track(&fetch(&url)).await.expect_err("denied");
        assert_eq!(
            err.provider().map(|p| p.kind),
            Some(ErrorKind::Denied),
            "{url}"
        );
    }
    assert_eq!(other.request_count(), 0, "nothing reached the other host");
    assert_eq!(allowed.request_count(), 1);
    // Counted in the host's metrics; logged with tenant, adapter and target (tests/tests/logs.rs).
    let metrics = rt.prometheus_metrics();
    let line = "switchyard_denied_requests_total{adapter=\"test-misbehave\",reason=\"not-allowed\",service=\"analytics\",tenant=\"acme\"} 3";
    assert!(
        metrics.lines().any(|l| l == line),
        "{line} missing from:\n{metrics}"
    );
}

#[tokio::test]
async fn a_redirect_to_a_host_not_allowed_is_not_followed() {
    let allowed = MockRecorder::start().await;
    let other = MockRecorder::start().await;
    allowed.redirect_to(&format!("{}/landing", other.base_url()));
    let spec = misbehave_spec().allow(&allowed.base_url()).expect("allow");
    let rt = runtime(vec![("acme", Service::Analytics, spec)]).await;
    let err = rt
        .analytics("acme")
        .expect("binding")
        .track(&fetch(&format!("{}/start", allowed.base_url())))
        .await
        .expect_err("redirect leads outside the allowlist");
    assert_eq!(
        err.provider().map(|p| p.kind),
        Some(ErrorKind::Denied),
        "{err}"
    );
    assert_eq!(other.request_count(), 0);
}

#[tokio::test]
async fn the_credential_never_reaches_the_guest() {
    const SECRET: &str = "sk_live_never_in_the_guest";
    let provider = MockRecorder::start().await;
    let spec = misbehave_spec()
        .config("visible", "plain-setting")
        .allow(&provider.base_url())
        .expect("allow")
        .credential(&CredentialConfig {
            host: provider.base_url(),
            secret: SecretSource::Value(SECRET.into()),
            inject: Injection::Bearer,
        })
        .expect("credential")
        .credential(&CredentialConfig {
            host: provider.base_url(),
            secret: SecretSource::Value(SECRET.into()),
            inject: Injection::Header {
                name: "x-api-key".into(),
            },
        })
        .expect("credential");
    let rt = runtime(vec![("acme", Service::Analytics, spec)]).await;
    let leak = Event::new("leak", "u")
        .properties(json!({ "url": format!("{}/leak", provider.base_url()) }));
    rt.analytics("acme")
        .expect("binding")
        .track(&leak)
        .await
        .expect("leak attempt ran");

    let requests = provider.requests();
    let report = requests
        .iter()
        .find(|r| r.path == "/leak")
        .expect("the guest reported what it saw");
    let seen = report.body_text();
    assert!(!seen.contains(SECRET), "the guest saw the secret: {seen}");
    assert!(
        seen.contains("plain-setting"),
        "the guest did see its config: {seen}"
    );
    let seen: serde_json::Value = serde_json::from_str(&seen).expect("json report");
    assert_eq!(seen["authorization_forbidden"], true, "{seen}");
    assert_eq!(seen["x_api_key_forbidden"], true, "{seen}");
    // The host did inject it on the way out, where the guest cannot look.
    assert_eq!(
        report.header("authorization"),
        Some(format!("Bearer {SECRET}").as_str())
    );
    assert_eq!(report.header("x-api-key"), Some(SECRET));
}

#[tokio::test]
async fn an_endless_loop_is_stopped_at_the_deadline_and_the_next_call_works() {
    let rt = runtime(vec![("acme", Service::Analytics, misbehave_spec())]).await;
    let a = rt.analytics("acme").expect("binding");
    let err = a
        .track(&Event::new("loop", "u"))
        .await
        .expect_err("stopped");
    assert!(matches!(err, Error::Deadline { .. }), "{err}");
    let err = a
        .track(&Event::new("sleep", "u").properties(json!({"ms": 5_000})))
        .await
        .expect_err("a call waiting in the host is stopped too");
    assert!(matches!(err, Error::Deadline { .. }), "{err}");
    a.track(&Event::new("ok", "u"))
        .await
        .expect("next call works");
}

#[tokio::test]
async fn endless_allocation_hits_the_memory_cap_and_the_next_call_works() {
    let rt = runtime(vec![("acme", Service::Analytics, misbehave_spec())]).await;
    let a = rt.analytics("acme").expect("binding");
    let err = a
        .track(&Event::new("alloc", "u"))
        .await
        .expect_err("capped");
    match &err {
        Error::MemoryLimit { cap_bytes, .. } => assert_eq!(*cap_bytes, 32 * 1024 * 1024),
        other => panic!("expected MemoryLimit, got {other}"),
    }
    let err = a
        .track(&Event::new("panic", "u"))
        .await
        .expect_err("trapped");
    assert!(matches!(err, Error::Trap { .. }), "{err}");
    a.track(&Event::new("ok", "u"))
        .await
        .expect("next call works");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tenants_failures_leave_anothers_calls_untouched() {
    let mock = MockPostHog::start(API_KEY).await;
    let rt = runtime(vec![
        ("evil", Service::Analytics, misbehave_spec()),
        (
            "good",
            Service::Analytics,
            posthog_spec(&mock, &[("flush_at", "10")]),
        ),
    ])
    .await;
    let evil = rt.analytics("evil").expect("binding");
    let chaos: Vec<_> = (0..6)
        .map(|i| {
            let evil = evil.clone();
            tokio::spawn(async move {
                let name = ["loop", "alloc", "panic"][i % 3];
                evil.track(&Event::new(name, "x")).await
            })
        })
        .collect();
    let good = rt.analytics("good").expect("binding");
    for i in 0..50 {
        good.track(&Event::new("order", format!("u{i}")))
            .await
            .expect("good tenant unaffected");
    }
    for task in chaos {
        assert!(task.await.expect("task").is_err(), "every evil call failed");
    }
    let events = mock
        .wait_for_events(50, Duration::from_secs(10))
        .await
        .expect("all delivered");
    assert_eq!(events.len(), 50);
}

#[tokio::test]
async fn a_component_file_that_is_not_a_component_is_refused_at_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"\0asm not really").expect("write");
    let result = switchyard_host::Runtime::builder()
        .options(crate::support::options())
        .binding(
            "acme",
            Service::Analytics,
            BindingSpec::new(ComponentSource::path(&junk)),
        )
        .build()
        .await;
    let err = result.err().expect("refused");
    assert!(matches!(err, Error::InvalidComponent { .. }), "{err}");
    assert!(
        err.to_string().contains("junk"),
        "names the component: {err}"
    );
}
