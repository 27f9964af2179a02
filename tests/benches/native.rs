//! The cost of the bridge that puts host-native services behind their contracts, through the
//! JSON gateway (`Runtime::invoke_json`), as the server calls every function:
//!
//! - `wasm_noop`: `health` of test-misbehave, a Wasm component that answers at once (the
//!   baseline: a fresh instance, a call, JSON in and out).
//! - `bridge_health`: `health` of the monitoring bridge, which calls the host's import.
//! - `bridge_increment`: a monitoring counter increment with a tag (the bridge, the host's
//!   checks and the registry update).
//! - `bridge_send_receive_ack`: a message sent, received and acknowledged through the
//!   in-process broker (three calls).
//!
//! Ends with each as a ratio of the baseline measured in the same run.

mod common;

use std::hint::black_box;

use criterion::Throughput;
use serde_json::json;
use switchyard_host::{Backend, BindingSpec, ComponentSource, Runtime, RuntimeOptions, Service};

const GROUP: &str = "native";

fn main() {
    common::mark_start();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let bridge = |name: &str, backend| {
        BindingSpec::new(ComponentSource::path(common::component(name))).backend(backend)
    };
    let rt: Runtime = tokio.block_on(async {
        Runtime::builder()
            .options(RuntimeOptions {
                max_instances: 64,
                ..RuntimeOptions::default()
            })
            .binding(
                "t",
                Service::Analytics,
                BindingSpec::new(ComponentSource::path(common::component("test-misbehave"))),
            )
            .binding(
                "t",
                Service::Monitoring,
                bridge("monitoring-host", Backend::Memory),
            )
            .binding(
                "t",
                Service::Messaging,
                bridge("messaging-host", Backend::Memory),
            )
            .build()
            .await
            .expect("runtime builds")
    });
    let call = |service, function: &'static str, args: serde_json::Value| {
        let rt = rt.clone();
        async move {
            rt.invoke_json("t", service, function, args)
                .await
                .expect("call succeeds")
        }
    };
    tokio.block_on(call(
        Service::Messaging,
        "declare-queue",
        json!({"queue": "bench", "options": {}}),
    ));

    let mut c = common::criterion();
    {
        let mut group = c.benchmark_group(GROUP);
        group.throughput(Throughput::Elements(1));
        group.bench_function("wasm_noop", |b| {
            b.to_async(&tokio)
                .iter(|| async { black_box(call(Service::Analytics, "health", json!({})).await) })
        });
        group.bench_function("bridge_health", |b| {
            b.to_async(&tokio)
                .iter(|| async { black_box(call(Service::Monitoring, "health", json!({})).await) })
        });
        group.bench_function("bridge_increment", |b| {
            b.to_async(&tokio).iter(|| async {
                black_box(
                    call(
                        Service::Monitoring,
                        "increment",
                        json!({"name": "bench_total", "value": 1, "tags": [["k", "v"]]}),
                    )
                    .await,
                )
            })
        });
        group.bench_function("bridge_send_receive_ack", |b| {
            b.to_async(&tokio).iter(|| async {
                call(
                    Service::Messaging,
                    "send",
                    json!({"queue": "bench", "message": {"body": "x", "headers": []}}),
                )
                .await;
                let got = call(
                    Service::Messaging,
                    "receive",
                    json!({"queue": "bench", "max": 1}),
                )
                .await;
                call(
                    Service::Messaging,
                    "ack",
                    json!({"queue": "bench", "receipt": got[0]["receipt"]}),
                )
                .await;
            })
        });
        group.finish();
    }
    c.final_summary();
    tokio.block_on(rt.shutdown());

    let est = |id: &str| common::estimate_ns(GROUP, id);
    println!("\nSummary (through invoke_json; per call, against a no-op Wasm component):");
    for (label, id) in [
        ("bridge health / no-op component health", "bridge_health"),
        (
            "bridge counter increment / no-op component health",
            "bridge_increment",
        ),
        (
            "messaging send+receive+ack (3 calls) / no-op component health",
            "bridge_send_receive_ack",
        ),
    ] {
        common::ratio_line(label, est(id), est("wasm_noop"), "x");
    }
}
