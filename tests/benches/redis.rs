//! The Redis messaging backend against the in-process broker, and pipelined batches against
//! one call per message, all through the JSON gateway on a real redis-server (appendonly,
//! appendfsync always: the durable setting the backend asks for):
//!
//! - `memory_send`: one `send` to the in-process broker (the baseline).
//! - `redis_send`: one `send` to Redis (one script, one round trip, one fsync).
//! - `redis_send_x100`: 100 `send` calls, one after the other.
//! - `redis_batch_100`: one `send-batch` of 100 messages (one pipeline).
//!
//! Ends with Redis as a ratio of the in-process broker, and the batch as a ratio of 100 sends.

mod common;

use std::hint::black_box;

use criterion::Throughput;
use serde_json::{json, Value};
use switchyard_host::{Backend, BindingSpec, ComponentSource, Runtime, RuntimeOptions, Service};
use switchyard_tests::redis::RedisServer;

const GROUP: &str = "redis";

fn main() {
    common::mark_start();
    let redis = match RedisServer::start() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let bridge = || BindingSpec::new(ComponentSource::path(common::component("messaging-host")));
    let rt: Runtime = tokio.block_on(async {
        Runtime::builder()
            .options(RuntimeOptions {
                max_instances: 64,
                ..RuntimeOptions::default()
            })
            .binding("mem", Service::Messaging, bridge().backend(Backend::Memory))
            .binding(
                "red",
                Service::Messaging,
                bridge()
                    .backend(Backend::Redis)
                    .backend_config("url", redis.url()),
            )
            .build()
            .await
            .expect("runtime builds")
    });
    let call = |tenant: &'static str, function: &'static str, args: Value| {
        let rt = rt.clone();
        async move {
            rt.invoke_json(tenant, Service::Messaging, function, args)
                .await
                .expect("call succeeds")
        }
    };
    for tenant in ["mem", "red"] {
        tokio.block_on(call(
            tenant,
            "declare-queue",
            json!({"queue": "bench", "options": {}}),
        ));
    }
    let message = json!({"body": "{\"order\":42}", "headers": [["k", "v"]]});
    let batch: Vec<Value> = (0..100).map(|_| message.clone()).collect();

    let mut c = common::criterion();
    {
        let mut group = c.benchmark_group(GROUP);
        group.throughput(Throughput::Elements(1));
        for (id, tenant) in [("memory_send", "mem"), ("redis_send", "red")] {
            let args = json!({"queue": "bench", "message": message});
            group.bench_function(id, |b| {
                b.to_async(&tokio)
                    .iter(|| async { black_box(call(tenant, "send", args.clone()).await) })
            });
        }
        group.throughput(Throughput::Elements(100));
        group.bench_function("redis_send_x100", |b| {
            b.to_async(&tokio).iter(|| async {
                for _ in 0..100 {
                    call("red", "send", json!({"queue": "bench", "message": message})).await;
                }
            })
        });
        let args = json!({"queue": "bench", "messages": batch});
        group.bench_function("redis_batch_100", |b| {
            b.to_async(&tokio)
                .iter(|| async { black_box(call("red", "send-batch", args.clone()).await) })
        });
        group.finish();
    }
    c.final_summary();
    tokio.block_on(rt.shutdown());

    let est = |id: &str| common::estimate_ns(GROUP, id);
    println!("\nSummary (through invoke_json, redis-server with appendfsync always):");
    common::ratio_line(
        "redis send / in-process send",
        est("redis_send"),
        est("memory_send"),
        "x",
    );
    common::ratio_line(
        "send-batch of 100 (pipelined) / 100 sends",
        est("redis_batch_100"),
        est("redis_send_x100"),
        "x",
    );
}
