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
///
/// `SWITCHYARD_TEST_INSTANCE_REUSE=off` keeps no instance warm, so every call of every test
/// gets a fresh one (`make test` runs the sandbox suites both ways).
pub fn options() -> RuntimeOptions {
    let reuse = std::env::var("SWITCHYARD_TEST_INSTANCE_REUSE").map_or(true, |v| v != "off");
    RuntimeOptions {
        max_instances: 64,
        tick_interval_ms: 50,
        watch_interval_ms: 100,
        max_warm_instances: if reuse {
            RuntimeOptions::default().max_warm_instances
        } else {
            0
        },
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

/// Calls one service's contract functions by name through the JSON gateway, as any tenant.
pub struct Contract {
    /// The runtime called.
    pub rt: Runtime,
    /// The service called.
    pub service: Service,
    /// The tenant [`Contract::ok`] and [`Contract::err`] call as.
    pub tenant: &'static str,
}

impl Contract {
    /// Calls `function` as `tenant`.
    pub async fn call_as(
        &self,
        tenant: &str,
        function: &str,
        args: serde_json::Value,
    ) -> Result<serde_json::Value, switchyard_host::Error> {
        self.rt
            .invoke_json(tenant, self.service, function, args)
            .await
    }

    /// Calls `function`, which must succeed.
    pub async fn ok(&self, function: &str, args: serde_json::Value) -> serde_json::Value {
        match self.call_as(self.tenant, function, args.clone()).await {
            Ok(v) => v,
            Err(err) => panic!("{function}({args}) failed: {err}"),
        }
    }

    /// Calls `function`, which must fail with a contract error.
    pub async fn err(
        &self,
        function: &str,
        args: serde_json::Value,
    ) -> switchyard_host::ProviderError {
        match self.call_as(self.tenant, function, args.clone()).await {
            Ok(v) => panic!("{function}({args}) succeeded with {v}; an error was expected"),
            Err(err) => err
                .provider()
                .unwrap_or_else(|| panic!("{function}: not a contract error: {err}"))
                .clone(),
        }
    }
}

/// Asserts the error's kind and that its message names `what`.
pub fn expect_error(
    err: &switchyard_host::ProviderError,
    kind: switchyard_host::ErrorKind,
    what: &str,
) {
    assert_eq!(err.kind, kind, "{err:?}");
    assert!(
        err.message.contains(what),
        "the message should name `{what}`: {}",
        err.message
    );
}
