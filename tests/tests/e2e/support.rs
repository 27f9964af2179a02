//! Shared helpers: component paths, runtimes for tests, bindings to the mocks.

use std::time::Duration;

use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, Injection, Limits, Runtime, RuntimeOptions,
    SecretSource, Service,
};
use switchyard_tests::mock::posthog::MockPostHog;

/// The PostHog project key the mocks expect.
pub const API_KEY: &str = "phc_test_key_do_not_leak";

pub use switchyard_tests::component;

/// Options for test runtimes: a small pool and quick ticks.
pub fn options() -> RuntimeOptions {
    RuntimeOptions {
        max_instances: 64,
        tick_interval_ms: 50,
        watch_interval_ms: 100,
        ..RuntimeOptions::default()
    }
}

/// A runtime with the given bindings.
pub async fn runtime(bindings: Vec<(&str, Service, BindingSpec)>) -> Runtime {
    let mut b = Runtime::builder().options(options());
    for (tenant, service, spec) in bindings {
        b = b.binding(tenant, service, spec);
    }
    b.build().await.expect("runtime builds")
}

/// A PostHog adapter binding pointed at `mock`, with the api key injected as a body field.
pub fn posthog_spec(mock: &MockPostHog, config: &[(&str, &str)]) -> BindingSpec {
    let mut spec = BindingSpec::new(ComponentSource::path(component("analytics-posthog")))
        .config("host", mock.base_url())
        .config("retry_base_ms", "20")
        .config("retry_max_ms", "200")
        .allow(&mock.base_url())
        .expect("allow")
        .credential(&CredentialConfig {
            host: mock.base_url(),
            secret: SecretSource::Value(API_KEY.into()),
            inject: Injection::JsonBody {
                field: "api_key".into(),
            },
        })
        .expect("credential");
    for (k, v) in config {
        spec = spec.config(*k, *v);
    }
    spec
}

/// A binding of the misbehaving test adapter with a short deadline and a small memory cap.
pub fn misbehave_spec() -> BindingSpec {
    BindingSpec::new(ComponentSource::path(component("test-misbehave"))).limits(Limits {
        deadline_ms: 500,
        memory_mib: 32,
        ..Limits::default()
    })
}

/// Waits until `cond` holds, checking every 20 ms, for at most `limit`.
pub async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
