//! What reaches the host's `tracing` pipeline: denials and guest logs, with tenant, service,
//! adapter and call id.
//!
//! A test binary of its own with one global subscriber: per-thread subscribers race with other
//! tests' threads over tracing's callsite cache, so log capture gets a process to itself.

use std::sync::{Arc, Mutex, OnceLock};

use serde_json::json;
use switchyard_host::services::analytics::Event;
use switchyard_host::{
    Backend, BindingSpec, ComponentSource, CredentialConfig, Injection, Limits, Runtime,
    RuntimeOptions, SecretSource, Service,
};
use switchyard_tests::component;
use switchyard_tests::mock::posthog::MockPostHog;
use switchyard_tests::mock::recorder::MockRecorder;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this process, as text.
fn logs() -> String {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    let captured = CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .init();
        captured
    });
    String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned()
}

fn options() -> RuntimeOptions {
    RuntimeOptions {
        max_instances: 16,
        tick_interval_ms: 50,
        ..RuntimeOptions::default()
    }
}

#[tokio::test]
async fn denials_and_guest_logs_carry_tenant_service_adapter_and_call_id() {
    logs();
    // A denial, logged by the host's outbound policy.
    let allowed = MockRecorder::start().await;
    let other = MockRecorder::start().await;
    let spec = BindingSpec::new(ComponentSource::path(component("test-misbehave")))
        .limits(Limits {
            deadline_ms: 5_000,
            ..Limits::default()
        })
        .allow(&allowed.base_url())
        .expect("allow");
    // A guest log line: the PostHog adapter logs (at error) each event PostHog rejects.
    let posthog = MockPostHog::start("phc_logs").await;
    let posthog_spec = BindingSpec::new(ComponentSource::path(component("analytics-posthog")))
        .config("host", posthog.base_url())
        .config("flush_at", "100")
        .allow(&posthog.base_url())
        .expect("allow")
        .credential(&CredentialConfig {
            host: posthog.base_url(),
            secret: SecretSource::Value("phc_logs".into()),
            inject: Injection::JsonBody {
                field: "api_key".into(),
            },
        })
        .expect("credential");
    let rt = Runtime::builder()
        .options(options())
        .binding("acme", Service::Analytics, spec)
        .binding("globex", Service::Analytics, posthog_spec)
        .build()
        .await
        .expect("runtime");

    let target = format!("{}/steal", other.base_url());
    let denied = rt
        .analytics("acme")
        .expect("binding")
        .track(&Event::new("fetch", "u").properties(json!({ "url": target })))
        .await;
    assert!(denied.is_err());
    let globex = rt.analytics("globex").expect("binding");
    globex
        .track(&Event::new("poison", "u"))
        .await
        .expect("accepted");
    posthog.reject_event_named("poison");
    globex
        .flush()
        .await
        .expect("flush drops the rejected event");

    let text = logs();
    let denial = text
        .lines()
        .find(|l| l.contains("outbound request denied"))
        .unwrap_or_else(|| panic!("no denial logged:\n{text}"));
    for field in [
        "WARN",
        "tenant=acme",
        "service=analytics",
        "adapter=test-misbehave",
        "call_id=",
    ] {
        assert!(denial.contains(field), "{field} missing: {denial}");
    }
    assert!(
        denial.contains(&format!("127.0.0.1:{}", other.addr().port())),
        "target named: {denial}"
    );

    let guest = text
        .lines()
        .find(|l| l.contains("switchyard::guest") && l.contains("tenant=globex"))
        .unwrap_or_else(|| panic!("no guest log line:\n{text}"));
    for field in ["service=analytics", "adapter=analytics-posthog", "call_id="] {
        assert!(guest.contains(field), "{field} missing: {guest}");
    }
    assert!(!text.contains("phc_logs"), "a secret reached the log");
}

#[tokio::test]
async fn logging_contract_entries_reach_the_host_pipeline() {
    logs();
    let rt = Runtime::builder()
        .options(options())
        .binding(
            "initech",
            Service::Logging,
            BindingSpec::new(ComponentSource::path(component("logging-host")))
                .backend(Backend::Tracing),
        )
        .build()
        .await
        .expect("runtime");
    let logger = rt
        .invoke_json(
            "initech",
            Service::Logging,
            "create-logger",
            json!({"name": "billing", "context": {"region": "eu"}}),
        )
        .await
        .expect("create-logger");
    rt.invoke_json(
        "initech",
        Service::Logging,
        "log",
        json!({"logger": logger["id"], "entry": {"level": "error", "message": "invoice 7 failed",
            "fields": {"invoice": 7},
            "error": {"kind": "DbError", "message": "write failed", "causes": ["disk full"]}}}),
    )
    .await
    .expect("log");
    let text = logs();
    let line = text
        .lines()
        .find(|l| l.contains("invoice 7 failed"))
        .unwrap_or_else(|| panic!("the entry is not in the host log:\n{text}"));
    for part in [
        "ERROR",
        "switchyard::app",
        "tenant=initech",
        "logger=billing",
        "\"region\":\"eu\"",
        "\"invoice\":7",
        "DbError: write failed: disk full",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line:?}");
    }
}

#[tokio::test]
async fn a_noisy_adapter_is_rate_limited_and_the_drops_are_counted() {
    logs();
    let spec =
        BindingSpec::new(ComponentSource::path(component("test-misbehave"))).limits(Limits {
            log_rate: 1,
            log_burst: 50,
            ..Limits::default()
        });
    let rt = Runtime::builder()
        .options(options())
        .binding("chatty", Service::Analytics, spec)
        .build()
        .await
        .expect("runtime");
    let chatty = rt.analytics("chatty").expect("binding");
    let started = std::time::Instant::now();
    chatty
        .track(&Event::new("chatter", "u").properties(json!({"lines": 5000})))
        .await
        .expect("a noisy call still succeeds");
    // The next line after the drops is preceded by one report of how many were dropped.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    chatty
        .track(&Event::new("chatter", "u").properties(json!({"lines": 1})))
        .await
        .expect("call");
    let seconds = started.elapsed().as_secs() as usize;
    let text = logs();
    let written = text
        .lines()
        .filter(|l| l.contains("tenant=chatty") && l.contains("chatter"))
        .count();
    assert!(
        written >= 50 && written <= 50 + seconds + 1,
        "the burst of 50 and a line a second ({seconds} s) got through, not {written}"
    );
    let report = text
        .lines()
        .find(|l| l.contains("tenant=chatty") && l.contains("lines dropped"))
        .unwrap_or_else(|| panic!("no report of the dropped lines:\n{text}"));
    assert!(
        report.contains("WARN") && report.contains("limits.log_rate"),
        "{report}"
    );
    let metrics = rt.prometheus_metrics();
    let dropped = metrics
        .lines()
        .find(|l| l.starts_with("switchyard_dropped_logs_total") && l.contains("tenant=\"chatty\""))
        .unwrap_or_else(|| panic!("no dropped-logs metric:\n{metrics}"));
    let count: f64 = dropped
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a count");
    assert_eq!(
        count as usize,
        5001 - written,
        "every line not written was counted: {dropped}"
    );
}
