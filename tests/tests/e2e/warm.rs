//! Warm instances (`limits.instance_reuse`): a generation's instance serves its next calls;
//! a trap, a deadline, the memory cap, the call cap, idleness and a swap each end it, and
//! no instance ever serves another tenant or another generation.

use std::time::Duration;

use serde_json::json;
use switchyard_host::services::analytics::Event;
use switchyard_host::{BindingSpec, ComponentSource, Limits, Runtime, RuntimeOptions, Service};

use switchyard_tests::mock::posthog::MockPostHog;

use crate::support::{component, eventually, misbehave_spec, options, posthog_spec, API_KEY};

/// The test options with warm instances on, whatever `SWITCHYARD_TEST_INSTANCE_REUSE` says.
fn on() -> RuntimeOptions {
    RuntimeOptions {
        max_warm_instances: RuntimeOptions::default().max_warm_instances,
        ..options()
    }
}

/// `tenant`'s instances of `kind` ("warm" or "fresh") so far, from `/metrics`.
fn instances(rt: &Runtime, tenant: &str, kind: &str) -> u64 {
    let text = rt.prometheus_metrics();
    text.lines()
        .filter(|l| l.starts_with("switchyard_instances_total{"))
        .filter(|l| l.contains(&format!("tenant=\"{tenant}\"")))
        .filter(|l| l.contains(&format!("instance=\"{kind}\"")))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

async fn runtime_with(bindings: Vec<(&str, BindingSpec)>, options: RuntimeOptions) -> Runtime {
    let mut b = Runtime::builder().options(options);
    for (tenant, spec) in bindings {
        b = b.binding(tenant, Service::Analytics, spec);
    }
    b.build().await.expect("runtime builds")
}

fn with_limits(f: impl FnOnce(&mut Limits)) -> BindingSpec {
    let mut limits = Limits {
        deadline_ms: 500,
        memory_mib: 32,
        ..Limits::default()
    };
    f(&mut limits);
    BindingSpec::new(ComponentSource::path(component("test-misbehave"))).limits(limits)
}

async fn health(rt: &Runtime, tenant: &str) {
    let status = rt
        .analytics(tenant)
        .expect("bound")
        .health()
        .await
        .expect("health answers");
    assert!(status.ok);
}

async fn track(rt: &Runtime, tenant: &str, name: &str) -> switchyard_host::Result<()> {
    rt.analytics(tenant)
        .expect("bound")
        .track(&Event::new(name, "user-1"))
        .await
}

/// A guest that makes HTTP requests with `wasi:http` request options (the PostHog adapter sets
/// its timeouts on each) stays warm: `handle` frees the options it was handed, which
/// wasmtime-wasi-http alone leaves in the call's resource table (then the instance, holding a
/// host resource, would be dropped after every call).
#[tokio::test]
async fn a_guest_that_sends_http_requests_stays_warm() {
    let mock = MockPostHog::start(API_KEY).await;
    let spec = posthog_spec(&mock, &[("flush_at", "1")]);
    let rt = runtime_with(vec![("acme", spec)], on()).await;
    for i in 0..5 {
        track(&rt, "acme", &format!("event-{i}"))
            .await
            .expect("tracked");
    }
    assert_eq!(mock.events().len(), 5, "each track is sent at once");
    assert_eq!(instances(&rt, "acme", "fresh"), 1);
    assert_eq!(instances(&rt, "acme", "warm"), 4);
    assert_eq!(rt.warm_instances(), 1);
}

#[tokio::test]
async fn sequential_calls_reuse_one_instance() {
    let rt = runtime_with(vec![("acme", misbehave_spec())], on()).await;
    for _ in 0..10 {
        health(&rt, "acme").await;
    }
    assert_eq!(instances(&rt, "acme", "fresh"), 1);
    assert_eq!(instances(&rt, "acme", "warm"), 9);
    assert_eq!(rt.warm_instances(), 1);
    assert!(rt
        .prometheus_metrics()
        .contains("switchyard_warm_instances 1"));
}

#[tokio::test]
async fn with_reuse_off_every_call_is_fresh() {
    let spec = with_limits(|l| l.instance_reuse = false);
    let rt = runtime_with(vec![("acme", spec)], on()).await;
    for _ in 0..5 {
        health(&rt, "acme").await;
    }
    assert_eq!(instances(&rt, "acme", "fresh"), 5);
    assert_eq!(instances(&rt, "acme", "warm"), 0);
    assert_eq!(rt.warm_instances(), 0);

    let none = RuntimeOptions {
        max_warm_instances: 0,
        ..options()
    };
    let rt = runtime_with(vec![("acme", misbehave_spec())], none).await;
    for _ in 0..3 {
        health(&rt, "acme").await;
    }
    assert_eq!(instances(&rt, "acme", "fresh"), 3);
}

#[tokio::test]
async fn a_trap_a_deadline_or_the_memory_cap_discards_the_instance() {
    let rt = runtime_with(vec![("acme", misbehave_spec())], on()).await;
    for (i, bad) in ["panic", "loop", "alloc"].into_iter().enumerate() {
        health(&rt, "acme").await;
        assert_eq!(rt.warm_instances(), 1, "warm before {bad}");
        let e = track(&rt, "acme", bad).await.expect_err(bad);
        assert!(!e.to_string().is_empty());
        assert_eq!(
            rt.warm_instances(),
            0,
            "the instance that ran {bad} is gone"
        );
        // The next call starts afresh, and works.
        health(&rt, "acme").await;
        assert_eq!(instances(&rt, "acme", "fresh"), 2 + i as u64, "after {bad}");
    }
}

#[tokio::test]
async fn an_instance_serves_at_most_calls_per_instance() {
    let spec = with_limits(|l| l.calls_per_instance = 3);
    let rt = runtime_with(vec![("acme", spec)], on()).await;
    for _ in 0..9 {
        health(&rt, "acme").await;
    }
    assert_eq!(instances(&rt, "acme", "fresh"), 3);
    assert_eq!(instances(&rt, "acme", "warm"), 6);
}

#[tokio::test]
async fn an_idle_instance_is_dropped_after_warm_idle_ms() {
    let spec = with_limits(|l| l.warm_idle_ms = 100);
    let rt = runtime_with(vec![("acme", spec)], on()).await;
    health(&rt, "acme").await;
    assert_eq!(rt.warm_instances(), 1);
    assert!(
        eventually(Duration::from_secs(5), || rt.warm_instances() == 0).await,
        "the idle instance is dropped"
    );
    health(&rt, "acme").await;
    assert_eq!(instances(&rt, "acme", "fresh"), 2);
}

#[tokio::test]
async fn a_swap_retires_the_old_generations_instances() {
    let rt = runtime_with(vec![("acme", misbehave_spec())], on()).await;
    health(&rt, "acme").await;
    assert_eq!(rt.warm_instances(), 1);
    rt.swap(
        "acme",
        Service::Analytics,
        ComponentSource::path(component("test-misbehave")),
    )
    .await
    .expect("swap");
    assert_eq!(rt.warm_instances(), 0, "the old generation keeps none");
    health(&rt, "acme").await;
    assert_eq!(instances(&rt, "acme", "fresh"), 2);
    rt.remove_binding("acme", Service::Analytics)
        .await
        .expect("remove");
    assert_eq!(rt.warm_instances(), 0, "a removed binding keeps none");
}

#[tokio::test]
async fn tenants_never_share_an_instance() {
    let rt = runtime_with(
        vec![("acme", misbehave_spec()), ("globex", misbehave_spec())],
        on(),
    )
    .await;
    health(&rt, "acme").await;
    health(&rt, "globex").await;
    health(&rt, "acme").await;
    assert_eq!(instances(&rt, "acme", "fresh"), 1);
    assert_eq!(
        instances(&rt, "globex", "fresh"),
        1,
        "globex's own instance"
    );
    assert_eq!(instances(&rt, "acme", "warm"), 1);
    assert_eq!(rt.warm_instances(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn warm_instances_are_bounded_per_binding_and_overall() {
    let spec = with_limits(|l| l.warm_instances = 2);
    let rt = runtime_with(vec![("acme", spec)], on()).await;
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let rt = rt.clone();
            tokio::spawn(async move {
                let slow = Event::new("sleep", "u").properties(json!({"ms": 100}));
                rt.analytics("acme").expect("bound").track(&slow).await
            })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("sleep call");
    }
    assert!(rt.warm_instances() <= 2, "{}", rt.warm_instances());

    let one = RuntimeOptions {
        max_warm_instances: 1,
        ..options()
    };
    let rt = runtime_with(
        vec![("acme", misbehave_spec()), ("globex", misbehave_spec())],
        one,
    )
    .await;
    health(&rt, "acme").await;
    health(&rt, "globex").await;
    assert_eq!(rt.warm_instances(), 1);
}

/// The sandbox suites (sandbox, boundary, egress) pass with every call on a fresh instance
/// too: this binary runs them again in a child process with
/// `SWITCHYARD_TEST_INSTANCE_REUSE=off` (no instance kept warm).
#[test]
fn the_sandbox_suites_pass_with_reuse_off() {
    if std::env::var("SWITCHYARD_TEST_INSTANCE_REUSE").is_ok() {
        return; // Already the child (or a run with reuse chosen outright).
    }
    let me = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(me)
        .args(["sandbox::", "boundary::", "egress::", "--test-threads", "2"])
        .env("SWITCHYARD_TEST_INSTANCE_REUSE", "off")
        .output()
        .expect("the test binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "with reuse off:\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: u32 = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum();
    assert!(passed >= 20, "the suites ran ({passed} passed):\n{text}");
}
