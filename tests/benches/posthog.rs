//! A PostHog `track` through the host and the analytics-posthog adapter, against a native Rust
//! client sending the same request, both to the same local `MockPostHog` in the same run.
//!
//! - Switchyard: `rt.analytics(tenant)?.track(&event)` on a binding with `flush_at = 1`, so every
//!   call buffers the event and sends it at once as one `POST {mock}/batch/` (the host injects
//!   `api_key` into the JSON body). One fresh instance per call, pooling allocator: the host's
//!   defaults.
//! - Native: a `reqwest::Client` POSTing `{mock}/batch/` with the same body shape
//!   (`api_key`, `batch: [message]`, `sent_at`, `historical_migration`), the message built per
//!   call as the adapter builds it. Twice: with keep-alive (reqwest's connection pool, as an app
//!   would use it) and with a new connection per request (as wasi-http's default sender does).
//!
//! Latency: one caller, one call after another. Throughput: 16 concurrent callers, each on its
//! own tenant (16 bindings of the same component) so that each call is exactly one request; for
//! native, 16 tasks sharing one client. Ends with the ratios switchyard / native.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::Throughput;
use serde_json::{json, Value};
use switchyard_host::services::analytics::Event;
use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, Injection, Limits, Runtime, RuntimeOptions,
    SecretSource, Service,
};
use switchyard_tests::mock::posthog::MockPostHog;
use switchyard_tests::mock::shared::iso8601;

const GROUP: &str = "posthog";
const CALLERS: u64 = 16;

/// The binding the e2e tests use (tests/tests/e2e/support.rs `posthog_spec`), flushing every event.
fn posthog_spec(mock: &MockPostHog) -> BindingSpec {
    BindingSpec::new(ComponentSource::path(common::component(
        "analytics-posthog",
    )))
    .config("host", mock.base_url())
    .config("flush_at", "1")
    .config("retry_base_ms", "20")
    .config("retry_max_ms", "200")
    .allow(&mock.base_url())
    .expect("allow")
    .credential(&CredentialConfig {
        host: mock.base_url(),
        secret: SecretSource::Value(common::API_KEY.into()),
        inject: Injection::JsonBody {
            field: "api_key".into(),
        },
    })
    .expect("credential")
}

fn event() -> Event {
    Event::new("bench_event", "user-1").properties(json!({ "plan": "pro" }))
}

/// What the adapter sends for `event()`, built afresh per call as the adapter does.
fn native_body() -> Value {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let millis = now.as_millis() as u64;
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    // A UUID v7 shape: 48-bit milliseconds, version 7, variant bits, then "random" bits.
    let uuid = format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        millis >> 16,
        millis & 0xffff,
        seq & 0xfff,
        0x8000 | ((seq >> 12) & 0x3fff),
        (seq.wrapping_mul(0x9e37_79b9_7f4a_7c15)) & 0xffff_ffff_ffff
    );
    let timestamp = iso8601(millis);
    json!({
        "api_key": common::API_KEY,
        "batch": [{
            "event": "bench_event",
            "distinct_id": "user-1",
            "properties": {
                "plan": "pro",
                "$lib": "switchyard-posthog",
                "$lib_version": "0.1.0",
                "$geoip_disable": true,
            },
            "timestamp": timestamp,
            "uuid": uuid,
            "type": "capture",
            "library": "switchyard-posthog",
            "library_version": "0.1.0",
        }],
        "sent_at": timestamp,
        "historical_migration": false,
    })
}

async fn native_send(client: &reqwest::Client, url: &str) {
    let response = client
        .post(url)
        .json(&native_body())
        .send()
        .await
        .expect("native request sent")
        .error_for_status()
        .expect("mock accepts the native request");
    // Read the answer to the end, as the adapter does (and so the connection can be reused).
    response.bytes().await.expect("native answer read");
}

async fn switchyard_send(rt: &Runtime, tenant: &str, event: &Event) {
    rt.analytics(tenant)
        .expect("binding")
        .track(event)
        .await
        .expect("track succeeds");
}

/// Runs `iters` calls spread over `CALLERS` concurrent tasks; `call(i)` makes one call as
/// caller `i`. Returns the wall time.
async fn concurrent<F, Fut>(iters: u64, call: F) -> Duration
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..CALLERS)
        .map(|i| {
            let call = call.clone();
            let n = iters / CALLERS + u64::from(i < iters % CALLERS);
            tokio::spawn(async move {
                for _ in 0..n {
                    call(i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("caller task");
    }
    start.elapsed()
}

fn main() {
    common::mark_start();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let mock = tokio.block_on(MockPostHog::start(common::API_KEY));
    let url = format!("{}/batch/", mock.base_url());
    let tenants: Vec<String> = (0..CALLERS).map(|i| format!("t{i}")).collect();
    let rt = tokio.block_on(async {
        let mut b = Runtime::builder().options(RuntimeOptions {
            max_instances: 64,
            ..RuntimeOptions::default()
        });
        for t in &tenants {
            b = b.binding(t, Service::Analytics, posthog_spec(&mock));
            // The same binding keeping no idle connection: a new one per request, as the
            // host did before its pooled egress (wasi-http's `default_send_request`).
            let per_request = posthog_spec(&mock).limits(Limits {
                idle_connection_ms: 0,
                ..Limits::default()
            });
            b = b.binding(&format!("{t}-new-conn"), Service::Analytics, per_request);
        }
        b.build().await.expect("runtime builds")
    });
    let keep_alive = reqwest::Client::new();
    let new_conn = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");

    // Both sides send exactly one accepted request per call.
    tokio.block_on(async {
        mock.clear();
        switchyard_send(&rt, "t0", &event()).await;
        native_send(&keep_alive, &url).await;
        let requests = mock.requests();
        assert_eq!(requests.len(), 2, "one request per call on each side");
        assert!(requests
            .iter()
            .all(|r| r.status == 200 && r.path == "/batch/"));
        let events = mock.events();
        assert_eq!(events.len(), 2);
        assert!(events
            .iter()
            .all(|e| e.event == "bench_event" && e.api_key == common::API_KEY));
    });

    let mut c = common::criterion();
    {
        let mut group = c.benchmark_group(GROUP);
        group.throughput(Throughput::Elements(1));
        let ev = event();

        for (id, suffix) in [
            ("latency_switchyard", ""),
            ("latency_switchyard_new_conn", "-new-conn"),
        ] {
            group.bench_function(id, |b| {
                b.to_async(&tokio).iter_custom(|iters| {
                    mock.clear();
                    let (rt, ev, tenant) = (rt.clone(), ev.clone(), format!("t0{suffix}"));
                    async move {
                        let start = Instant::now();
                        for _ in 0..iters {
                            switchyard_send(&rt, &tenant, &ev).await;
                        }
                        start.elapsed()
                    }
                })
            });
        }
        for (id, client) in [
            ("latency_native", &keep_alive),
            ("latency_native_new_conn", &new_conn),
        ] {
            group.bench_function(id, |b| {
                b.to_async(&tokio).iter_custom(|iters| {
                    mock.clear();
                    let (client, url) = (client.clone(), url.clone());
                    async move {
                        let start = Instant::now();
                        for _ in 0..iters {
                            native_send(&client, &url).await;
                        }
                        start.elapsed()
                    }
                })
            });
        }

        for (id, suffix) in [
            ("concurrent16_switchyard", ""),
            ("concurrent16_switchyard_new_conn", "-new-conn"),
        ] {
            group.bench_function(id, |b| {
                b.to_async(&tokio).iter_custom(|iters| {
                    mock.clear();
                    let (rt, ev) = (rt.clone(), ev.clone());
                    let tenants: Vec<String> =
                        tenants.iter().map(|t| format!("{t}{suffix}")).collect();
                    concurrent(iters, move |i| {
                        let (rt, ev) = (rt.clone(), ev.clone());
                        let tenant = tenants[i as usize].clone();
                        async move { switchyard_send(&rt, &tenant, &ev).await }
                    })
                })
            });
        }
        for (id, client) in [
            ("concurrent16_native", &keep_alive),
            ("concurrent16_native_new_conn", &new_conn),
        ] {
            group.bench_function(id, |b| {
                b.to_async(&tokio).iter_custom(|iters| {
                    mock.clear();
                    let (client, url) = (client.clone(), url.clone());
                    concurrent(iters, move |_| {
                        let (client, url) = (client.clone(), url.clone());
                        async move { native_send(&client, &url).await }
                    })
                })
            });
        }
        group.finish();
    }
    c.final_summary();
    tokio.block_on(rt.shutdown());

    let est = |id: &str| common::estimate_ns(GROUP, id);
    let per_sec = |ns: Option<f64>| ns.map(|ns| format!("{:.0} calls/s", 1e9 / ns));
    println!("\nSummary (PostHog track, one event per request, local mock):");
    common::ratio_line(
        "switchyard / native reqwest latency",
        est("latency_switchyard"),
        est("latency_native"),
        "x",
    );
    common::ratio_line(
        "switchyard pooled / switchyard with a new connection per request (before), latency",
        est("latency_switchyard"),
        est("latency_switchyard_new_conn"),
        "x",
    );
    common::ratio_line(
        "switchyard / native reqwest latency, native on a new connection per request",
        est("latency_switchyard"),
        est("latency_native_new_conn"),
        "x",
    );
    let throughput = |label: &str, sy: Option<f64>, native: Option<f64>| match (sy, native) {
        (Some(sy), Some(native)) => println!(
            "  {label} = {}   ({} vs {})",
            common::fmt_ratio(native / sy),
            per_sec(Some(sy)).unwrap_or_default(),
            per_sec(Some(native)).unwrap_or_default()
        ),
        _ => println!("  {label}: not measured in this run"),
    };
    throughput(
        "switchyard / native reqwest throughput, 16 callers",
        est("concurrent16_switchyard"),
        est("concurrent16_native"),
    );
    throughput(
        "switchyard with a new connection per request (before) / native reqwest throughput, 16 callers",
        est("concurrent16_switchyard_new_conn"),
        est("concurrent16_native"),
    );
    throughput(
        "switchyard / native reqwest throughput, 16 callers, native on a new connection per request",
        est("concurrent16_switchyard"),
        est("concurrent16_native_new_conn"),
    );
}
