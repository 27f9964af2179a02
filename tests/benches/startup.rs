//! Restart time: a runtime binding every adapter component in target/components (the six
//! cloud adapters, the embedded defaults, the host-native bridges; not the test adapters),
//! built and ready to call:
//!
//! - `no_cache`: every component compiled at start (no `runtime.compile_cache`), as every
//!   start was before the cache;
//! - `warm_cache`: every component loaded from a compile cache a previous start filled.
//!
//! The first start with an empty cache (compile, then store) is timed once, outside
//! criterion: it costs a `no_cache` start plus writing the entries. Ends with the ratios.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::SamplingMode;
use switchyard_host::{Backend, BindingSpec, ComponentSource, Runtime, RuntimeOptions, Service};

const GROUP: &str = "startup";

/// Every adapter component: (service, component name, its backend if a bridge).
fn adapters() -> Vec<(Service, String, Option<Backend>)> {
    let dir = common::component("analytics-local")
        .parent()
        .expect("components directory")
        .to_path_buf();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir)
        .expect("components directory")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = name.strip_suffix(".wasm") else {
            continue;
        };
        if name.starts_with("test-") {
            continue;
        }
        let Some((service, provider)) = name.split_once('-') else {
            continue;
        };
        let Ok(service) = service.parse::<Service>() else {
            continue;
        };
        let backend = (provider == "host").then_some(match service {
            Service::Logging => Backend::Tracing,
            Service::Search => Backend::Tantivy,
            _ => Backend::Memory,
        });
        found.push((service, name.to_string(), backend));
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

/// Builds a runtime binding every adapter (each as its own tenant, data under `data`) and
/// returns how long the build took; the runtime is shut down outside the timing.
fn start(
    tokio: &tokio::runtime::Runtime,
    adapters: &[(Service, String, Option<Backend>)],
    cache: Option<&Path>,
    data: &Path,
) -> Duration {
    tokio.block_on(async {
        let mut b = Runtime::builder().options(RuntimeOptions {
            compile_cache: cache.map(Path::to_path_buf),
            max_instances: 64,
            ..RuntimeOptions::default()
        });
        for (service, name, backend) in adapters {
            let mut spec = BindingSpec::new(ComponentSource::path(common::component(name)))
                .files(data.join(name));
            if let Some(backend) = backend {
                spec = spec.backend(*backend);
            }
            b = b.binding(name, *service, spec);
        }
        let started = Instant::now();
        let rt = b.build().await.expect("runtime builds");
        let took = started.elapsed();
        rt.shutdown().await;
        took
    })
}

fn main() {
    common::mark_start();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let adapters = adapters();
    let data = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let first = start(&tokio, &adapters, Some(cache.path()), data.path());

    let mut c = common::criterion();
    {
        let mut group = c.benchmark_group(GROUP);
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        group.bench_function("no_cache", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| start(&tokio, &adapters, None, data.path()))
                    .sum()
            })
        });
        group.bench_function("warm_cache", |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| start(&tokio, &adapters, Some(cache.path()), data.path()))
                    .sum()
            })
        });
        group.finish();
    }
    c.final_summary();

    let est = |id: &str| common::estimate_ns(GROUP, id);
    let n = adapters.len() as f64;
    println!(
        "\nSummary (a start binding all {} adapter components):",
        adapters.len()
    );
    if let Some(warm) = est("warm_cache") {
        println!(
            "  warm cache: {} per start, {} per component",
            common::fmt_ns(warm),
            common::fmt_ns(warm / n)
        );
    }
    common::ratio_line(
        "start with a warm cache / start without a cache",
        est("warm_cache"),
        est("no_cache"),
        "",
    );
    common::ratio_line(
        "first start with an empty cache (timed once) / start without a cache",
        Some(first.as_nanos() as f64),
        est("no_cache"),
        "",
    );
}
