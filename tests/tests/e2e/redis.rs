//! The Redis messaging backend beyond the shared suite (`messaging.rs` runs that): a server
//! crash mid-stream loses nothing acknowledged, priorities and delays hold with concurrent
//! producers and consumers, a bad URL is refused at load, and a server that is down answers
//! `unavailable` (retryable) until it is back. Several host processes on one queue:
//! host/server/tests/all/redis.rs.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::json;
use switchyard_host::{ErrorKind, Runtime, Service};
use switchyard_tests::redis::RedisServer;

use crate::messaging::redis_spec;
use crate::support::{runtime, Contract};

fn contract(rt: Runtime) -> Contract {
    Contract {
        rt,
        service: Service::Messaging,
        tenant: "acme",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_crash_mid_stream_loses_nothing_acknowledged() {
    let mut redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let c = contract(runtime(vec![("acme", Service::Messaging, redis_spec(&redis.url()))]).await);
    c.ok(
        "declare-queue",
        json!({"queue": "orders", "options": {"visibility-timeout-ms": 1500}}),
    )
    .await;
    // A delivery taken before the crash and never acknowledged comes back after it.
    c.ok(
        "send",
        json!({"queue": "orders", "message": {"body": "taken", "headers": []}}),
    )
    .await;
    let taken = c.ok("receive", json!({"queue": "orders", "max": 1})).await;
    assert_eq!(taken[0]["body"], "taken");

    // The producer sends 400 messages, a millisecond apart, retrying what fails; only the
    // sends the backend acknowledged count as published. While the server is down a send
    // fails as `unavailable`, or waits for the reconnection and succeeds.
    let done = std::sync::atomic::AtomicUsize::new(0);
    let producer = async {
        let mut acked = BTreeSet::new();
        let mut refused = 0;
        for i in 0..400 {
            loop {
                let sent = c
                    .call_as(
                        "acme",
                        "send",
                        json!({"queue": "orders", "message": {"body": format!("order {i}"), "headers": []}}),
                    )
                    .await;
                match sent {
                    Ok(id) => {
                        acked.insert(id.as_str().expect("id").to_string());
                        done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        break;
                    }
                    Err(e) => {
                        let kind = e.provider().map(|p| (p.kind, p.retryable));
                        assert_eq!(
                            kind,
                            Some((ErrorKind::Unavailable, true)),
                            "a down server is unavailable and retryable: {e:?}"
                        );
                        refused += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }
        (acked, refused)
    };
    // Mid-stream (after 50 acknowledged sends): SIGKILL the server, keep it down a moment,
    // start it over the same data.
    let crash = async {
        while done.load(std::sync::atomic::Ordering::SeqCst) < 50 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        tokio::task::block_in_place(|| redis.kill());
        let at_kill = done.load(std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        tokio::task::block_in_place(|| redis.restart()).unwrap_or_else(|e| panic!("{e}"));
        at_kill
    };
    let ((acked, refused), at_kill) = tokio::join!(producer, crash);
    assert_eq!(acked.len(), 400);
    assert!(
        at_kill < 400,
        "the crash happened mid-stream ({at_kill} of 400 sent at the kill)"
    );
    eprintln!("{at_kill} sends acknowledged before the crash; {refused} refused while it was down");

    let mut received = BTreeSet::new();
    let mut redelivered = false;
    loop {
        let got = c
            .ok(
                "receive",
                json!({"queue": "orders", "max": 100, "wait-ms": 2000}),
            )
            .await;
        let got = got.as_array().cloned().unwrap_or_default();
        if got.is_empty() {
            break;
        }
        for d in got {
            if d["body"] == "taken" {
                assert_eq!(d["attempt"], 2);
                redelivered = true;
            } else {
                received.insert(d["id"].as_str().expect("id").to_string());
            }
            c.ok("ack", json!({"queue": "orders", "receipt": d["receipt"]}))
                .await;
        }
    }
    assert!(
        redelivered,
        "the unacknowledged delivery came back after the crash"
    );
    let lost: Vec<&String> = acked.difference(&received).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

#[tokio::test]
async fn a_bad_redis_url_is_refused_at_load() {
    let err = Runtime::builder()
        .binding("acme", Service::Messaging, redis_spec("http://not-redis"))
        .build()
        .await
        .err()
        .expect("a bad URL is refused");
    let text = err.to_string();
    assert!(
        text.contains("config.url") && text.contains("acme/messaging"),
        "{text}"
    );

    let spec = crate::messaging::spec(crate::messaging::Kind::Memory, None)
        .backend(switchyard_host::Backend::Redis);
    let err = Runtime::builder()
        .binding("acme", Service::Messaging, spec)
        .build()
        .await
        .err()
        .expect("no URL is refused");
    assert!(err.to_string().contains("config.url"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_unhealthy_and_unavailable() {
    let mut redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let url = redis.url();
    redis.kill();
    let c = contract(runtime(vec![("acme", Service::Messaging, redis_spec(&url))]).await);
    let health = c.ok("health", json!({})).await;
    assert_eq!(health["ok"], false, "{health}");
    let err = c.err("queues", json!({})).await;
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
    assert!(err.retryable);
    redis.restart().unwrap_or_else(|e| panic!("{e}"));
    let health = c.ok("health", json!({})).await;
    assert_eq!(health["ok"], true, "{health}");
    assert!(
        !health["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("appendonly"),
        "the test server runs with appendonly: {health}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn priorities_and_delays_hold_under_concurrent_producers_and_consumers() {
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let c = contract(runtime(vec![("acme", Service::Messaging, redis_spec(&redis.url()))]).await);
    c.ok("declare-queue", json!({"queue": "mixed", "options": {}}))
        .await;
    let started = std::time::Instant::now();
    // Four producers at once: low and urgent messages interleaved, and a few delayed ones.
    let producers = (0..4).map(|p| {
        let c = &c;
        async move {
            for i in 0..25 {
                for (priority, delay) in [("low", 0), ("urgent", 0)] {
                    let body = format!("{priority} {p}-{i}");
                    c.ok("send", json!({"queue": "mixed", "message":
                        {"body": body, "headers": [], "priority": priority, "delay-ms": delay}}))
                        .await;
                }
                if i % 5 == 0 {
                    c.ok("send", json!({"queue": "mixed", "message":
                        {"body": format!("delayed {p}-{i}"), "headers": [], "priority": "urgent", "delay-ms": 600}}))
                        .await;
                }
            }
        }
    });
    futures::future::join_all(producers).await;
    // Three consumers at once, each keeping what it got in the order it got it.
    let consumers = (0..3).map(|_| {
        let c = &c;
        async move {
            let mut got = Vec::new();
            let mut idle = 0;
            while idle < 4 {
                let batch = c
                    .ok(
                        "receive",
                        json!({"queue": "mixed", "max": 5, "wait-ms": 300}),
                    )
                    .await;
                let batch = batch.as_array().cloned().unwrap_or_default();
                if batch.is_empty() {
                    idle += 1;
                    continue;
                }
                idle = 0;
                let at = started.elapsed();
                for d in batch {
                    c.ok("ack", json!({"queue": "mixed", "receipt": d["receipt"]}))
                        .await;
                    got.push((d["body"].as_str().unwrap_or_default().to_string(), at));
                }
            }
            got
        }
    });
    let per_consumer = futures::future::join_all(consumers).await;
    let mut all: Vec<&String> = per_consumer.iter().flatten().map(|(b, _)| b).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 220, "every message once");
    assert_eq!(
        per_consumer.iter().map(Vec::len).sum::<usize>(),
        220,
        "none twice"
    );
    for got in &per_consumer {
        // Pops are atomic and in priority order: once a consumer got a low message, no ready
        // urgent one was left, so it never gets one after.
        let first_low = got.iter().position(|(b, _)| b.starts_with("low"));
        if let Some(first_low) = first_low {
            assert!(
                !got[first_low..]
                    .iter()
                    .any(|(b, _)| b.starts_with("urgent")),
                "an urgent message came after a low one: {got:?}"
            );
        }
        for (body, at) in got {
            if body.starts_with("delayed") {
                assert!(
                    *at >= std::time::Duration::from_millis(600),
                    "{body} delivered after {at:?}, before its 600 ms delay"
                );
            }
        }
    }
}
