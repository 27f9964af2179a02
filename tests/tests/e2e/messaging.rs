//! The messaging contract's behaviour suite, run through the JSON gateway
//! (`Runtime::invoke_json`) for every provider: the host-native in-process broker
//! (`messaging-host` with `backend = "memory"`) and the Redis broker (`backend = "redis"`, on a
//! real redis-server each test starts). Any Wasm adapter joins with one line in `suite!` below.
//! Redis-only behaviour (a server crash mid-stream, several hosts on one queue) is in
//! `redis.rs`.
//!
//! Every check is written once as `async fn check(p: &Provider)`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_host::{Backend, BindingSpec, ComponentSource, ErrorKind, Runtime, Service};

use switchyard_tests::redis::RedisServer;

use crate::support::{component, expect_error, runtime, Contract};

const TENANT: &str = "acme";

/// Which provider a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The host's in-process broker behind the `messaging-host` bridge.
    Memory,
    /// The Redis broker behind the same bridge, on a redis-server of its own.
    Redis,
}

/// A runtime with tenants bound to a messaging provider.
pub struct Provider {
    kind: Kind,
    contract: Contract,
    /// The Redis server of [`Kind::Redis`], stopped with the provider.
    redis: Option<RedisServer>,
}

impl std::ops::Deref for Provider {
    type Target = Contract;
    fn deref(&self) -> &Contract {
        &self.contract
    }
}

/// The binding of `kind` for one tenant (`redis`: the server of [`Kind::Redis`]).
pub fn spec(kind: Kind, redis: Option<&RedisServer>) -> BindingSpec {
    let bridge = BindingSpec::new(ComponentSource::path(component("messaging-host")));
    match (kind, redis) {
        (Kind::Memory, _) => bridge.backend(Backend::Memory),
        (Kind::Redis, Some(server)) => redis_spec(&server.url()),
        (Kind::Redis, None) => panic!("Kind::Redis needs its server"),
    }
}

/// The Redis broker's binding on the server at `url`.
pub fn redis_spec(url: &str) -> BindingSpec {
    BindingSpec::new(ComponentSource::path(component("messaging-host")))
        .backend(Backend::Redis)
        .backend_config("url", url)
}

impl Provider {
    /// The provider, bound for `acme` and `globex`.
    pub async fn new(kind: Kind) -> Provider {
        let redis =
            (kind == Kind::Redis).then(|| RedisServer::start().unwrap_or_else(|e| panic!("{e}")));
        let rt = runtime(vec![
            (TENANT, Service::Messaging, spec(kind, redis.as_ref())),
            ("globex", Service::Messaging, spec(kind, redis.as_ref())),
        ])
        .await;
        Provider {
            kind,
            contract: Contract {
                rt,
                service: Service::Messaging,
                tenant: TENANT,
            },
            redis,
        }
    }

    /// Declares `queue` with `options`.
    pub async fn declare(&self, queue: &str, options: Value) -> Value {
        self.ok("declare-queue", json!({"queue": queue, "options": options}))
            .await
    }

    /// Sends a message with `body` (and optional extras) to `queue`; answers its id.
    pub async fn send(&self, queue: &str, message: Value) -> String {
        let id = self
            .ok("send", json!({"queue": queue, "message": message}))
            .await;
        id.as_str().expect("send answers an id").to_string()
    }

    /// Receives up to `max` messages, waiting up to `wait_ms`.
    pub async fn receive(&self, queue: &str, max: u32, wait_ms: u32) -> Vec<Value> {
        let got = self
            .ok(
                "receive",
                json!({"queue": queue, "max": max, "wait-ms": wait_ms}),
            )
            .await;
        got.as_array().expect("receive answers a list").clone()
    }

    /// Acknowledges `delivery`.
    pub async fn ack(&self, queue: &str, delivery: &Value) {
        self.ok(
            "ack",
            json!({"queue": queue, "receipt": delivery["receipt"]}),
        )
        .await;
    }

    /// The queue's counts.
    pub async fn info(&self, queue: &str) -> Value {
        self.ok("describe-queue", json!({"queue": queue})).await
    }
}

fn msg(body: &str) -> Value {
    json!({"body": body, "headers": []})
}

async fn fans_out_to_every_subscribed_queue(p: &Provider) {
    p.declare("billing", json!({})).await;
    p.declare("shipping", json!({})).await;
    p.declare("unrelated", json!({})).await;
    p.ok("subscribe", json!({"topic": "orders", "queue": "billing"}))
        .await;
    p.ok("subscribe", json!({"topic": "orders", "queue": "shipping"}))
        .await;
    let published = p
        .ok(
            "publish",
            json!({"topic": "orders", "message": {"body": "{\"order\":42}",
                "headers": [["content-type", "application/json"]], "priority": "high"}}),
        )
        .await;
    assert_eq!(published["queues"], 2, "{published}");
    for queue in ["billing", "shipping"] {
        let got = p.receive(queue, 10, 0).await;
        assert_eq!(got.len(), 1, "{queue}: {got:?}");
        let d = &got[0];
        assert_eq!(d["id"], published["id"]);
        assert_eq!(d["body"], "{\"order\":42}");
        assert_eq!(d["headers"], json!([["content-type", "application/json"]]));
        assert_eq!(d["topic"], "orders");
        assert_eq!(d["priority"], "high");
        assert_eq!(d["attempt"], 1);
        p.ack(queue, d).await;
    }
    assert!(p.receive("unrelated", 10, 0).await.is_empty());
    // No subscriber: accepted and dropped, and the caller is told.
    let nobody = p
        .ok(
            "publish",
            json!({"topic": "nobody-listens", "message": msg("x")}),
        )
        .await;
    assert_eq!(nobody["queues"], 0);
    // Unsubscribed queues stop receiving.
    p.ok(
        "unsubscribe",
        json!({"topic": "orders", "queue": "shipping"}),
    )
    .await;
    let again = p
        .ok(
            "publish",
            json!({"topic": "orders", "message": msg("second")}),
        )
        .await;
    assert_eq!(again["queues"], 1);
    assert_eq!(p.info("billing").await["topics"], json!(["orders"]));
    assert_eq!(p.info("shipping").await["topics"], json!([]));
}

async fn work_queue_gives_each_message_to_one_consumer(p: &Provider) {
    p.declare("jobs", json!({})).await;
    let mut sent = BTreeSet::new();
    for i in 0..40 {
        sent.insert(p.send("jobs", msg(&format!("job {i}"))).await);
    }
    let consumers = (0..4).map(|_| async {
        let mut mine = Vec::new();
        loop {
            let got = p.receive("jobs", 3, 0).await;
            if got.is_empty() {
                return mine;
            }
            for d in got {
                p.ack("jobs", &d).await;
                mine.push(d["id"].as_str().expect("id").to_string());
            }
        }
    });
    let all: Vec<String> = futures::future::join_all(consumers)
        .await
        .into_iter()
        .flatten()
        .collect();
    let unique: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), unique.len(), "a message was handled twice");
    assert_eq!(unique, sent, "every message handled once");
    let info = p.info("jobs").await;
    assert_eq!(
        (info["ready"].clone(), info["in-flight"].clone()),
        (json!(0), json!(0))
    );
}

async fn higher_priorities_come_first(p: &Provider) {
    p.declare("prio", json!({})).await;
    for (body, priority) in [
        ("low-1", "low"),
        ("normal-1", "normal"),
        ("urgent-1", "urgent"),
        ("high-1", "high"),
        ("normal-2", "normal"),
        ("urgent-2", "urgent"),
    ] {
        p.send(
            "prio",
            json!({"body": body, "headers": [], "priority": priority}),
        )
        .await;
    }
    p.send("prio", msg("default-is-normal")).await;
    let order: Vec<Value> = p
        .receive("prio", 10, 0)
        .await
        .iter()
        .map(|d| d["body"].clone())
        .collect();
    assert_eq!(
        order,
        json!([
            "urgent-1",
            "urgent-2",
            "high-1",
            "normal-1",
            "normal-2",
            "default-is-normal",
            "low-1"
        ])
        .as_array()
        .expect("array")
        .clone()
    );
}

async fn delayed_messages_wait_their_time(p: &Provider) {
    p.declare("later", json!({})).await;
    let start = Instant::now();
    p.send(
        "later",
        json!({"body": "later", "headers": [], "delay-ms": 1500}),
    )
    .await;
    p.send("later", msg("now")).await;
    let first = p.receive("later", 10, 0).await;
    assert_eq!(
        first.len(),
        1,
        "only the undelayed message is ready: {first:?}"
    );
    assert_eq!(first[0]["body"], "now");
    assert_eq!(p.info("later").await["delayed"], 1);
    // A waiting receive wakes when the delay ends.
    let second = p.receive("later", 10, 5000).await;
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(second[0]["body"], "later");
    assert!(
        start.elapsed() >= Duration::from_millis(1400),
        "delivered before its delay: {:?}",
        start.elapsed()
    );
}

async fn unacked_messages_come_back_after_the_visibility_timeout(p: &Provider) {
    p.declare("vis", json!({"visibility-timeout-ms": 1000}))
        .await;
    let id = p.send("vis", msg("work")).await;
    let first = p.receive("vis", 1, 0).await;
    assert_eq!(first[0]["attempt"], 1);
    assert_eq!(first[0]["last-error"], Value::Null);
    // Invisible to others while in flight.
    assert!(p.receive("vis", 1, 0).await.is_empty());
    assert_eq!(p.info("vis").await["in-flight"], 1);
    // The consumer "dies": no ack. The message comes back.
    let second = p.receive("vis", 1, 5000).await;
    assert_eq!(second.len(), 1, "redelivered after the timeout");
    assert_eq!(second[0]["id"], id.as_str());
    assert_eq!(second[0]["attempt"], 2);
    assert!(second[0]["last-error"]
        .as_str()
        .is_some_and(|e| e.contains("visibility timeout")));
    // The first receipt is stale now; the second one works.
    let stale = p
        .err(
            "ack",
            json!({"queue": "vis", "receipt": first[0]["receipt"]}),
        )
        .await;
    expect_error(&stale, ErrorKind::NotFound, "receipt");
    p.ack("vis", &second[0]).await;
    let info = p.info("vis").await;
    assert_eq!(
        (info["ready"].clone(), info["in-flight"].clone()),
        (json!(0), json!(0))
    );
}

async fn extend_keeps_a_delivery_invisible(p: &Provider) {
    p.declare("long", json!({"visibility-timeout-ms": 800}))
        .await;
    p.send("long", msg("slow work")).await;
    let d = p.receive("long", 1, 0).await.remove(0);
    p.ok(
        "extend",
        json!({"queue": "long", "receipt": d["receipt"], "visibility-ms": 10000}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        p.receive("long", 1, 0).await.is_empty(),
        "an extended delivery stays invisible"
    );
    p.ack("long", &d).await;
}

async fn failures_retry_with_backoff_then_dead_letter(p: &Provider) {
    p.declare(
        "flaky",
        json!({"max-attempts": 3, "retry-backoff-ms": 100, "retry-backoff-max-ms": 150}),
    )
    .await;
    let id = p
        .send("flaky", json!({"body": "poison", "headers": [["k", "v"]]}))
        .await;
    let mut outcomes = Vec::new();
    for attempt in 1..=3 {
        let got = p.receive("flaky", 1, 5000).await;
        assert_eq!(got.len(), 1, "attempt {attempt} delivered");
        assert_eq!(got[0]["attempt"], attempt);
        if attempt > 1 {
            assert_eq!(got[0]["last-error"], format!("boom {}", attempt - 1));
        }
        outcomes.push(
            p.ok(
                "nack",
                json!({"queue": "flaky", "receipt": got[0]["receipt"],
                       "reason": format!("boom {attempt}")}),
            )
            .await,
        );
    }
    assert_eq!(
        outcomes,
        vec![
            json!({"retry-in-ms": 100}),
            json!({"retry-in-ms": 150}),
            json!("dead-lettered")
        ]
    );
    assert!(p.receive("flaky", 1, 500).await.is_empty());
    let dead = p
        .ok("dead-letters", json!({"queue": "flaky", "page": {}}))
        .await;
    let items = dead["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{dead}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["body"], "poison");
    assert_eq!(items[0]["headers"], json!([["k", "v"]]));
    assert_eq!(items[0]["attempts"], 3);
    assert_eq!(items[0]["last-error"], "boom 3");
    assert_eq!(p.info("flaky").await["dead"], 1);
    // Replayed: back in the queue with its attempts reset.
    let unknown = p
        .err("replay", json!({"queue": "flaky", "ids": ["no-such-id"]}))
        .await;
    expect_error(&unknown, ErrorKind::NotFound, "no-such-id");
    assert_eq!(
        p.ok("replay", json!({"queue": "flaky", "ids": [id]})).await,
        1
    );
    let back = p.receive("flaky", 1, 0).await;
    assert_eq!(back[0]["id"], id.as_str());
    assert_eq!(back[0]["attempt"], 1);
    p.ack("flaky", &back[0]).await;
    assert_eq!(p.info("flaky").await["dead"], 0);
}

async fn an_explicit_retry_delay_is_honoured(p: &Provider) {
    p.declare("retry", json!({"retry-backoff-ms": 10})).await;
    p.send("retry", msg("again")).await;
    let d = p.receive("retry", 1, 0).await.remove(0);
    let outcome = p
        .ok(
            "nack",
            json!({"queue": "retry", "receipt": d["receipt"], "reason": "later", "retry-in-ms": 1200}),
        )
        .await;
    assert_eq!(outcome, json!({"retry-in-ms": 1200}));
    assert!(
        p.receive("retry", 1, 300).await.is_empty(),
        "not before its delay"
    );
    assert_eq!(p.info("retry").await["delayed"], 1);
    assert_eq!(p.receive("retry", 1, 5000).await.len(), 1);
}

async fn dead_letters_page(p: &Provider) {
    p.declare("dlq", json!({"max-attempts": 1})).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(p.send("dlq", msg(&format!("bad {i}"))).await);
    }
    for d in p.receive("dlq", 10, 0).await {
        let out = p
            .ok(
                "nack",
                json!({"queue": "dlq", "receipt": d["receipt"], "reason": "bad"}),
            )
            .await;
        assert_eq!(out, "dead-lettered");
    }
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = p
            .ok(
                "dead-letters",
                json!({"queue": "dlq", "page": {"limit": 2, "cursor": cursor}}),
            )
            .await;
        assert_eq!(page["page"]["total"], 5);
        for item in page["items"].as_array().expect("items") {
            seen.push(item["id"].as_str().expect("id").to_string());
        }
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen, ids, "every dead letter once, oldest first");
    let bad_cursor = p
        .err(
            "dead-letters",
            json!({"queue": "dlq", "page": {"cursor": "zzz"}}),
        )
        .await;
    expect_error(&bad_cursor, ErrorKind::InvalidInput, "cursor");
    // Replay all of them.
    assert_eq!(p.ok("replay", json!({"queue": "dlq", "ids": []})).await, 5);
    assert_eq!(p.info("dlq").await["ready"], 5);
}

async fn batches_have_a_result_per_message(p: &Provider) {
    p.declare("batch", json!({})).await;
    let huge = "x".repeat(1024 * 1024 + 1);
    let results = p
        .ok(
            "send-batch",
            json!({"queue": "batch", "messages": [msg("one"), msg(&huge), msg("three")]}),
        )
        .await;
    let results = results.as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert!(results[0]["ok"].is_string());
    assert_eq!(results[1]["err"]["kind"], "too-large");
    assert!(results[1]["err"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("messages[1].body")));
    assert!(results[2]["ok"].is_string());
    let bodies: Vec<Value> = p
        .receive("batch", 10, 0)
        .await
        .iter()
        .map(|d| d["body"].clone())
        .collect();
    assert_eq!(bodies, vec![json!("one"), json!("three")]);

    p.ok("subscribe", json!({"topic": "events", "queue": "batch"}))
        .await;
    let published = p
        .ok(
            "publish-batch",
            json!({"topic": "events", "messages": [msg("a"), {"body": "b", "headers": [["", "v"]]}, msg("c")]}),
        )
        .await;
    let published = published.as_array().expect("results");
    assert_eq!(published[0]["ok"]["queues"], 1);
    assert_eq!(published[1]["err"]["kind"], "invalid-input");
    assert_eq!(published[2]["ok"]["queues"], 1);
    assert_eq!(p.info("batch").await["ready"], 2);
}

async fn refuses_bad_input_and_keeps_what_it_accepted(p: &Provider) {
    p.declare("safe", json!({})).await;
    let kept = p.send("safe", msg("accepted before the bad input")).await;
    for (function, args, kind, names) in [
        (
            "declare-queue",
            json!({"queue": "", "options": {}}),
            ErrorKind::InvalidInput,
            "queue name",
        ),
        (
            "declare-queue",
            json!({"queue": "has space", "options": {}}),
            ErrorKind::InvalidInput,
            "queue name",
        ),
        (
            "declare-queue",
            json!({"queue": "x".repeat(129), "options": {}}),
            ErrorKind::InvalidInput,
            "queue name",
        ),
        (
            "declare-queue",
            json!({"queue": "q", "options": {"max-attempts": 0}}),
            ErrorKind::InvalidInput,
            "max-attempts",
        ),
        (
            "declare-queue",
            json!({"queue": "q", "options": {"visibility-timeout-ms": 0}}),
            ErrorKind::InvalidInput,
            "visibility-timeout-ms",
        ),
        (
            "declare-queue",
            json!({"queue": "q", "options": {"retry-backoff-ms": 5000, "retry-backoff-max-ms": 10}}),
            ErrorKind::InvalidInput,
            "retry-backoff-ms",
        ),
        (
            "send",
            json!({"queue": "missing", "message": msg("x")}),
            ErrorKind::NotFound,
            "missing",
        ),
        (
            "send",
            json!({"queue": "safe", "message": {"body": "x".repeat(1024 * 1024 + 1), "headers": []}}),
            ErrorKind::TooLarge,
            "body",
        ),
        (
            "send",
            json!({"queue": "safe", "message": {"body": "x", "headers": [], "delay-ms": 8u64 * 24 * 3600 * 1000}}),
            ErrorKind::InvalidInput,
            "delay-ms",
        ),
        (
            "publish",
            json!({"topic": "bad/topic", "message": msg("x")}),
            ErrorKind::InvalidInput,
            "topic name",
        ),
        (
            "subscribe",
            json!({"topic": "t", "queue": "missing"}),
            ErrorKind::NotFound,
            "missing",
        ),
        (
            "receive",
            json!({"queue": "safe", "max": 0}),
            ErrorKind::InvalidInput,
            "max",
        ),
        (
            "receive",
            json!({"queue": "safe", "max": 101}),
            ErrorKind::InvalidInput,
            "max",
        ),
        (
            "receive",
            json!({"queue": "safe", "max": 1, "wait-ms": 20001}),
            ErrorKind::InvalidInput,
            "wait-ms",
        ),
        (
            "receive",
            json!({"queue": "missing", "max": 1}),
            ErrorKind::NotFound,
            "missing",
        ),
        (
            "ack",
            json!({"queue": "safe", "receipt": "forged"}),
            ErrorKind::NotFound,
            "forged",
        ),
        (
            "nack",
            json!({"queue": "safe", "receipt": "forged", "reason": "x"}),
            ErrorKind::NotFound,
            "forged",
        ),
        (
            "send-batch",
            json!({"queue": "safe", "messages": []}),
            ErrorKind::InvalidInput,
            "messages",
        ),
        (
            "delete-queue",
            json!({"queue": "missing"}),
            ErrorKind::NotFound,
            "missing",
        ),
        (
            "purge",
            json!({"queue": "missing"}),
            ErrorKind::NotFound,
            "missing",
        ),
    ] {
        let err = p.err(function, args.clone()).await;
        assert_eq!(err.kind, kind, "{function}({args}): {err:?}");
        assert!(
            err.message.contains(names),
            "{function}: `{names}` not named in {}",
            err.message
        );
    }
    // The gateway names a missing argument too.
    assert!(p.ok_err_is_bad_args("send", json!({"queue": "safe"})).await);
    let got = p.receive("safe", 10, 0).await;
    assert_eq!(got.len(), 1, "the accepted message is still there");
    assert_eq!(got[0]["id"], kept.as_str());
}

impl Provider {
    /// Whether the call fails as bad arguments (before reaching the provider).
    async fn ok_err_is_bad_args(&self, function: &str, args: Value) -> bool {
        matches!(
            self.call_as(TENANT, function, args).await,
            Err(e) if e.code() == "bad_arguments"
        )
    }
}

async fn at_least_once_under_concurrent_producers_and_failing_consumers(p: &Provider) {
    p.declare(
        "busy",
        json!({"retry-backoff-ms": 20, "retry-backoff-max-ms": 50, "max-attempts": 10}),
    )
    .await;
    let producers = (0..4).map(|w| async move {
        let mut ids = Vec::new();
        for i in 0..25 {
            ids.push(p.send("busy", msg(&format!("{w}-{i}"))).await);
        }
        ids
    });
    let consumers = (0..4).map(|c| async move {
        let mut done: Vec<String> = Vec::new();
        let mut idle = 0;
        while idle < 3 {
            let got = p.receive("busy", 5, 300).await;
            if got.is_empty() {
                idle += 1;
                continue;
            }
            idle = 0;
            for d in got {
                // Every consumer fails each message's first delivery once in a while.
                let id = d["id"].as_str().expect("id").to_string();
                if d["attempt"] == 1 && (id.len() + c) % 3 == 0 {
                    p.ok(
                        "nack",
                        json!({"queue": "busy", "receipt": d["receipt"], "reason": "flaky"}),
                    )
                    .await;
                } else {
                    p.ack("busy", &d).await;
                    done.push(id);
                }
            }
        }
        done
    });
    let (sent, handled) = tokio::join!(
        futures::future::join_all(producers),
        futures::future::join_all(consumers)
    );
    let sent: BTreeSet<String> = sent.into_iter().flatten().collect();
    let handled: Vec<String> = handled.into_iter().flatten().collect();
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for id in &handled {
        *counts.entry(id).or_default() += 1;
    }
    assert_eq!(sent.len(), 100);
    assert!(
        counts.values().all(|n| *n == 1),
        "an acked message was acked twice"
    );
    assert_eq!(
        counts.keys().map(|s| (*s).clone()).collect::<BTreeSet<_>>(),
        sent,
        "every published message was handled"
    );
}

async fn tenants_are_isolated(p: &Provider) {
    p.declare("private", json!({})).await;
    p.send("private", msg("acme only")).await;
    let err = p
        .call_as("globex", "describe-queue", json!({"queue": "private"}))
        .await
        .expect_err("globex cannot see acme's queue");
    assert_eq!(err.provider().map(|e| e.kind), Some(ErrorKind::NotFound));
    let queues = p
        .call_as("globex", "queues", json!({}))
        .await
        .expect("queues");
    assert_eq!(queues, json!([]));
}

async fn messages_survive_a_swap_of_the_bridge(p: &Provider) {
    p.declare("durable", json!({})).await;
    let id = p.send("durable", msg("keep me")).await;
    p.rt.rebind(TENANT, Service::Messaging, spec(p.kind, p.redis.as_ref()))
        .await
        .expect("rebind");
    let got = p.receive("durable", 1, 0).await;
    assert_eq!(got[0]["id"], id.as_str());
}

async fn purge_and_delete(p: &Provider) {
    p.declare("tmp", json!({"max-attempts": 1})).await;
    for i in 0..3 {
        p.send("tmp", msg(&format!("{i}"))).await;
    }
    p.send(
        "tmp",
        json!({"body": "d", "headers": [], "delay-ms": 60000}),
    )
    .await;
    let d = p.receive("tmp", 1, 0).await.remove(0);
    assert_eq!(p.ok("purge", json!({"queue": "tmp"})).await, 4);
    let stale = p
        .err("ack", json!({"queue": "tmp", "receipt": d["receipt"]}))
        .await;
    assert_eq!(stale.kind, ErrorKind::NotFound);
    p.ok("delete-queue", json!({"queue": "tmp"})).await;
    let gone = p.err("describe-queue", json!({"queue": "tmp"})).await;
    expect_error(&gone, ErrorKind::NotFound, "tmp");
    // Declaring again updates options and keeps messages.
    p.declare("tmp", json!({})).await;
    p.send("tmp", msg("kept")).await;
    let info = p.declare("tmp", json!({"max-attempts": 9})).await;
    assert_eq!(info["max-attempts"], 9);
    assert_eq!(info["ready"], 1);
}

async fn health_is_ok(p: &Provider) {
    let health = p.ok("health", json!({})).await;
    assert_eq!(health["ok"], true, "{health}");
}

/// Runs every check against each provider: `suite!(module_name => Kind::X, ...)`.
macro_rules! suite {
    ($($module:ident => $kind:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            suite!(@checks $kind;
                fans_out_to_every_subscribed_queue,
                work_queue_gives_each_message_to_one_consumer,
                higher_priorities_come_first,
                delayed_messages_wait_their_time,
                unacked_messages_come_back_after_the_visibility_timeout,
                extend_keeps_a_delivery_invisible,
                failures_retry_with_backoff_then_dead_letter,
                an_explicit_retry_delay_is_honoured,
                dead_letters_page,
                batches_have_a_result_per_message,
                refuses_bad_input_and_keeps_what_it_accepted,
                at_least_once_under_concurrent_producers_and_failing_consumers,
                tenants_are_isolated,
                messages_survive_a_swap_of_the_bridge,
                purge_and_delete,
                health_is_ok,
            );
        }
    )*};
    (@checks $kind:expr; $($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            super::$check(&Provider::new($kind).await).await;
        }
    )*};
}

suite!(memory => Kind::Memory, redis => Kind::Redis);

#[tokio::test]
async fn a_bridge_without_a_backend_is_refused() {
    let spec = BindingSpec::new(ComponentSource::path(component("messaging-host")));
    let err = Runtime::builder()
        .binding(TENANT, Service::Messaging, spec)
        .build()
        .await
        .err()
        .expect("a bridge needs a backend");
    let text = err.to_string();
    assert!(
        text.contains("backend") && text.contains("acme/messaging"),
        "{text}"
    );
}

#[tokio::test]
async fn a_backend_for_another_service_is_refused() {
    let spec = BindingSpec::new(ComponentSource::path(component("analytics-local")))
        .backend(Backend::Memory);
    let err = Runtime::builder()
        .binding(TENANT, Service::Analytics, spec)
        .build()
        .await
        .err()
        .expect("memory does not serve analytics");
    assert!(
        err.to_string()
            .contains("does not serve the analytics service"),
        "{err}"
    );
}
