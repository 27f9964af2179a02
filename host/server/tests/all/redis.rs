//! Several `switchyard serve` processes on one Redis queue: they share the work, and no
//! message is handled by two of them at the same time.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchyard_server::client::Client;
use switchyard_tests::redis::RedisServer;

use crate::support::{component, write};

/// A `switchyard serve` process, killed on drop.
struct Host {
    child: Child,
    client: Client,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Host {
    async fn start(config: &std::path::Path) -> Host {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--config",
            ])
            .arg(config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn switchyard serve");
        let client = Client::new(&format!("http://127.0.0.1:{port}"), None).expect("client");
        let host = Host { child, client };
        let start = Instant::now();
        while !matches!(host.client.get("/healthz").await, Ok(r) if r.status == 200) {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "server did not come up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        host
    }

    async fn call(&self, function: &str, args: Value) -> Value {
        let r = self
            .client
            .post_json(&format!("/v1/tenants/acme/messaging/{function}"), &args)
            .await
            .expect("request");
        assert_eq!(r.status, 200, "{function}: {:?}", r.json());
        r.json()["result"].clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_host_processes_share_one_queue_and_never_hold_a_message_together() {
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write(
        dir.path(),
        "switchyard.toml",
        &format!(
            "[runtime]\npooling = false\n\n[tenants.acme.messaging]\ncomponent = \"{}\"\n\
             backend = \"redis\"\nbackend_config = {{ url = \"{}\" }}\n",
            component("messaging-host").display(),
            redis.url()
        ),
    );
    let hosts = [
        Host::start(&config).await,
        Host::start(&config).await,
        Host::start(&config).await,
    ];
    hosts[0]
        .call(
            "declare-queue",
            json!({"queue": "jobs", "options": {"visibility-timeout-ms": 5000,
                   "retry-backoff-ms": 10, "retry-backoff-max-ms": 10}}),
        )
        .await;
    // 300 jobs, published by the first host in pipelined batches.
    let mut sent = BTreeSet::new();
    for batch in 0..3 {
        let messages: Vec<Value> = (0..100)
            .map(|i| json!({"body": format!("job {batch}-{i}"), "headers": []}))
            .collect();
        let results = hosts[0]
            .call("send-batch", json!({"queue": "jobs", "messages": messages}))
            .await;
        for r in results.as_array().expect("results") {
            sent.insert(r["ok"].as_str().expect("sent").to_string());
        }
    }
    assert_eq!(sent.len(), 300);

    // Each host consumes: a job is held from receive to ack or nack; every tenth first
    // delivery fails, so it is delivered again, perhaps to another host.
    let epoch = Instant::now();
    let consumers = hosts.iter().enumerate().map(|(h, host)| async move {
        let mut held: Vec<(String, u128, u128, bool)> = Vec::new();
        let mut idle = 0;
        while idle < 3 {
            let got = host
                .call(
                    "receive",
                    json!({"queue": "jobs", "max": 4, "wait-ms": 300}),
                )
                .await;
            let got = got.as_array().cloned().unwrap_or_default();
            if got.is_empty() {
                idle += 1;
                continue;
            }
            idle = 0;
            let taken = epoch.elapsed().as_micros();
            tokio::time::sleep(Duration::from_millis(2)).await;
            for d in got {
                let id = d["id"].as_str().expect("id").to_string();
                let fail = d["attempt"] == 1 && id.bytes().map(u32::from).sum::<u32>() % 10 == 0;
                let function = if fail { "nack" } else { "ack" };
                // Held until the ack or nack is sent: the server cannot hand the job to
                // anyone else before it has received that.
                let released = epoch.elapsed().as_micros();
                let mut args = json!({"queue": "jobs", "receipt": d["receipt"]});
                if fail {
                    args["reason"] = json!("flaky");
                }
                host.call(function, args).await;
                held.push((id, taken, released, !fail));
            }
        }
        (h, held)
    });
    let results = futures::future::join_all(consumers).await;

    let mut handled: BTreeMap<String, Vec<(u128, u128, bool)>> = BTreeMap::new();
    for (h, held) in &results {
        assert!(
            !held.is_empty(),
            "host {h} handled no job: the work was not shared"
        );
        for (id, from, to, acked) in held {
            handled
                .entry(id.clone())
                .or_default()
                .push((*from, *to, *acked));
        }
    }
    assert_eq!(
        handled.keys().cloned().collect::<BTreeSet<_>>(),
        sent,
        "every job was handled"
    );
    for (id, mut spans) in handled {
        assert_eq!(
            spans.iter().filter(|s| s.2).count(),
            1,
            "job {id} was acknowledged exactly once: {spans:?}"
        );
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0,
                "job {id} was held by two consumers at once: {spans:?}"
            );
        }
    }
}
