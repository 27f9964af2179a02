//! The cost of one call into a component that does nothing (`health` of test-misbehave, which
//! returns at once), through the public host API:
//!
//! - `fresh_pooling`: `rt.analytics("t")?.health()` with `limits.instance_reuse = false`: a
//!   new store and instance for every call, from the shared pre-instantiated component, with
//!   the pooling allocator.
//! - `fresh_on_demand`: the same with `RuntimeOptions { pooling: false }` (mmap per instance).
//! - `reuse_pooling` / `reuse_on_demand`: the same public call with the host's defaults: the
//!   binding's warm instance serves it (its per-call state rearmed, then put back).
//! - `warm_pooling` / `warm_on_demand`: `health` again and again on one store and instance
//!   (the host's `Analytics::bench_warm_health` hook): the floor a warm call could reach.
//!   Linear sampling: the one instantiation per sample drops out of the slope.
//!
//! Ends with the ratios fresh vs warm and pooling vs on-demand.

mod common;

use std::hint::black_box;
use std::time::Instant;

use criterion::{SamplingMode, Throughput};
use switchyard_host::{BindingSpec, ComponentSource, Limits, Runtime, RuntimeOptions, Service};

const GROUP: &str = "call";

fn runtime(tokio: &tokio::runtime::Runtime, pooling: bool, reuse: bool) -> Runtime {
    tokio.block_on(async {
        Runtime::builder()
            .options(RuntimeOptions {
                pooling,
                max_instances: 64,
                ..RuntimeOptions::default()
            })
            .binding(
                "t",
                Service::Analytics,
                BindingSpec::new(ComponentSource::path(common::component("test-misbehave")))
                    .limits(Limits {
                        instance_reuse: reuse,
                        ..Limits::default()
                    }),
            )
            .build()
            .await
            .expect("runtime builds")
    })
}

fn main() {
    common::mark_start();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut c = common::criterion();
    {
        let mut group = c.benchmark_group(GROUP);
        group.throughput(Throughput::Elements(1));
        for (pooling, name) in [(true, "pooling"), (false, "on_demand")] {
            let reusing = runtime(&tokio, pooling, true);
            group.sampling_mode(SamplingMode::Auto);
            group.bench_function(format!("reuse_{name}"), |b| {
                b.to_async(&tokio).iter(|| async {
                    black_box(reusing.analytics("t").unwrap().health().await.unwrap());
                })
            });
            tokio.block_on(reusing.shutdown());
            let rt = runtime(&tokio, pooling, false);
            let status = tokio
                .block_on(async { rt.analytics("t")?.health().await })
                .expect("health answers");
            assert!(status.ok, "test-misbehave's health says ok");

            group.sampling_mode(SamplingMode::Auto);
            group.bench_function(format!("fresh_{name}"), |b| {
                b.to_async(&tokio).iter(|| async {
                    black_box(rt.analytics("t").unwrap().health().await.unwrap());
                })
            });

            group.sampling_mode(SamplingMode::Linear);
            group.bench_function(format!("warm_{name}"), |b| {
                let analytics = rt.analytics("t").unwrap();
                b.to_async(&tokio).iter_custom(|iters| {
                    let analytics = analytics.clone();
                    async move {
                        let n = u32::try_from(iters).expect("fewer than 2^32 iterations");
                        let start = Instant::now();
                        analytics.bench_warm_health(n).await.unwrap();
                        start.elapsed()
                    }
                })
            });
            tokio.block_on(rt.shutdown());
        }
        group.finish();
    }
    c.final_summary();

    let est = |id: &str| common::estimate_ns(GROUP, id);
    println!("\nSummary (call into a do-nothing component; per call):");
    common::ratio_line(
        "warm call / fresh call (pooling)",
        est("warm_pooling"),
        est("fresh_pooling"),
        "",
    );
    common::ratio_line(
        "call on the binding's warm instance / fresh call (pooling)",
        est("reuse_pooling"),
        est("fresh_pooling"),
        "",
    );
    common::ratio_line(
        "call on the binding's warm instance / the warm floor (pooling)",
        est("reuse_pooling"),
        est("warm_pooling"),
        "x",
    );
    common::ratio_line(
        "warm call / fresh call (on-demand)",
        est("warm_on_demand"),
        est("fresh_on_demand"),
        "",
    );
    common::ratio_line(
        "fresh call: on-demand / pooling",
        est("fresh_on_demand"),
        est("fresh_pooling"),
        "x",
    );
    common::ratio_line(
        "warm call: on-demand / pooling",
        est("warm_on_demand"),
        est("warm_pooling"),
        "x",
    );
}
