//! The notification contract's behaviour suite, run through the JSON gateway
//! (`Runtime::invoke_json`) for every provider: today the embedded default
//! (`notification-local`); a cloud adapter against its mock joins with one line in
//! `suite!` below.
//!
//! Every check is written once as `async fn check(p: &Provider)`. A check that needs the
//! lifecycle to move at a given pace asks for a provider configured so
//! (`Provider::with_timing`).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use switchyard_host::{
    BindingSpec, ComponentSource, Error, ErrorKind, ProviderError, Runtime, Service,
};

use crate::support::{component, runtime};

const TENANT: &str = "acme";

/// Which provider a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `notification-local`, the embedded default.
    Local,
}

/// A runtime with one tenant bound to a notification provider.
pub struct Provider {
    kind: Kind,
    rt: Runtime,
    _tmp: tempfile::TempDir,
}

impl Provider {
    /// The provider with its default configuration.
    pub async fn new(kind: Kind) -> Provider {
        Provider::build(kind, &[]).await
    }

    async fn build(kind: Kind, config: &[(&str, &str)]) -> Provider {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join(TENANT);
        let spec = match kind {
            Kind::Local => local_spec(&dir, config),
        };
        let rt = runtime(vec![(TENANT, Service::Notification, spec)]).await;
        Provider {
            kind,
            rt,
            _tmp: tmp,
        }
    }

    /// The same provider, its lifecycle moving to `sent` after `sent_ms` and to
    /// `delivered` after `delivered_ms` (from release).
    pub async fn with_timing(&self, sent_ms: u64, delivered_ms: u64) -> Provider {
        let (s, d) = (sent_ms.to_string(), delivered_ms.to_string());
        Provider::build(
            self.kind,
            &[("sent_after_ms", &s), ("delivered_after_ms", &d)],
        )
        .await
    }

    /// Calls `function` by name.
    pub async fn call(&self, function: &str, args: Value) -> Result<Value, Error> {
        self.rt
            .invoke_json(TENANT, Service::Notification, function, args)
            .await
    }

    /// Calls `function`, which must succeed.
    pub async fn ok(&self, function: &str, args: Value) -> Value {
        match self.call(function, args.clone()).await {
            Ok(v) => v,
            Err(err) => panic!("{function}({args}) failed: {err}"),
        }
    }

    /// Calls `function`, which must fail with a contract error.
    pub async fn err(&self, function: &str, args: Value) -> ProviderError {
        match self.call(function, args.clone()).await {
            Ok(v) => panic!("{function}({args}) succeeded with {v}; an error was expected"),
            Err(err) => err
                .provider()
                .unwrap_or_else(|| panic!("not a contract error: {err}"))
                .clone(),
        }
    }

    /// Sends `message`, which must be accepted.
    pub async fn send(&self, message: Value) -> Value {
        self.ok("send", json!({ "message": message })).await
    }

    /// The status of `id` now.
    pub async fn status(&self, id: &str) -> Value {
        self.ok("status", json!({ "id": id })).await
    }

    /// Every message (one page of up to 1000).
    pub async fn all(&self) -> Value {
        self.ok("list", json!({"query": {}, "page": {"limit": 1000}}))
            .await
    }
}

fn local_spec(dir: &Path, config: &[(&str, &str)]) -> BindingSpec {
    let mut spec =
        BindingSpec::new(ComponentSource::path(component("notification-local"))).files(dir);
    for (k, v) in config {
        spec = spec.config(*k, *v);
    }
    spec
}

fn sms(to: &str, body: &str) -> Value {
    json!({"channel": "sms", "to": to, "body": body})
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Asserts the error's kind and that its message names `field`.
fn expect_error(err: &ProviderError, kind: ErrorKind, field: &str) {
    assert_eq!(err.kind, kind, "{err:?}");
    assert!(
        err.message.contains(field),
        "the message should name `{field}`: {}",
        err.message
    );
}

fn id_of(status: &Value) -> String {
    status["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {status}"))
        .to_string()
}

/// Waits until `id` has `status`, for at most 5 s.
async fn wait_for(p: &Provider, id: &str, status: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        let s = p.status(id).await;
        if s["status"] == status || start.elapsed() > Duration::from_secs(15) {
            assert_eq!(s["status"], status, "{s}");
            return s;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

// ---- the checks -------------------------------------------------------------------------

/// One message per channel is accepted and reads back with what was sent.
async fn sends_on_every_channel(p: &Provider) {
    let cases = [
        json!({"channel": "sms", "to": "+15558675310", "body": "hi", "priority": "urgent",
               "metadata": [["order", "42"]]}),
        json!({"channel": "email", "to": "ada@example.com", "subject": "Hello", "body": "hi"}),
        json!({"channel": "push", "to": "device-token-1", "subject": "Ping", "body": "hi",
               "data": {"deep_link": "/orders/42"}, "priority": "high"}),
        json!({"channel": "in-app", "to": "user_42", "body": "hi", "priority": "low"}),
    ];
    let mut ids = Vec::new();
    for m in &cases {
        let s = p.send(m.clone()).await;
        assert_eq!(s["channel"], m["channel"], "{s}");
        assert_eq!(s["to"], m["to"], "{s}");
        assert_eq!(
            s["priority"],
            m.get("priority").cloned().unwrap_or(json!("normal")),
            "{s}"
        );
        assert!(
            ["queued", "sent", "delivered"].contains(&s["status"].as_str().unwrap_or("")),
            "{s}"
        );
        assert!(
            s["created-at"]["seconds"].as_u64() >= Some(now_secs() - 60),
            "{s}"
        );
        let id = id_of(&s);
        let again = p.status(&id).await;
        assert_eq!(again["id"], s["id"]);
        assert_eq!(again["channel"], s["channel"]);
        ids.push(id);
    }
    let first = p.status(&ids[0]).await;
    assert_eq!(first["metadata"], json!([["order", "42"]]), "{first}");
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "ids are unique: {ids:?}");
}

/// queued -> sent -> delivered, by the provider's clock.
async fn walks_the_lifecycle(p: &Provider) {
    let p = p.with_timing(1000, 2500).await;
    let s = p.send(sms("+15558675310", "hello")).await;
    assert_eq!(s["status"], "queued", "{s}");
    assert_eq!(s["sent-at"], Value::Null, "{s}");
    let id = id_of(&s);
    let sent = wait_for(&p, &id, "sent").await;
    assert!(sent["sent-at"].is_object(), "{sent}");
    let delivered = wait_for(&p, &id, "delivered").await;
    assert_eq!(delivered["reason"], Value::Null, "{delivered}");
    assert!(
        delivered["updated-at"]["seconds"].as_u64() >= s["created-at"]["seconds"].as_u64(),
        "{delivered}"
    );
}

/// A scheduled message waits for its send-at and can be canceled meanwhile.
async fn schedules_and_cancels(p: &Provider) {
    let at = now_secs() + 3600;
    let mut m = sms("+15558675310", "later");
    m["send-at"] = json!({"seconds": at, "nanoseconds": 0});
    let s = p.send(m).await;
    assert_eq!(s["status"], "scheduled", "{s}");
    assert_eq!(s["send-at"]["seconds"], at, "{s}");
    let id = id_of(&s);
    assert_eq!(p.status(&id).await["status"], "scheduled");
    let c = p.ok("cancel", json!({"id": id})).await;
    assert_eq!(c["status"], "canceled", "{c}");
    // Canceling again answers the canceled message.
    let again = p.ok("cancel", json!({"id": id})).await;
    assert_eq!(again["status"], "canceled", "{again}");
    assert_eq!(p.status(&id).await["status"], "canceled");
}

/// A scheduled message is released at its send-at and then walks on.
async fn releases_at_send_at(p: &Provider) {
    if p.kind != Kind::Local {
        return; // cloud providers bound send-at to at least 15 minutes ahead
    }
    let p = p.with_timing(0, 0).await;
    let at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
        + 700;
    let mut m = sms("+15558675310", "soon");
    m["send-at"] = json!({"seconds": at_ms / 1000, "nanoseconds": (at_ms % 1000) * 1_000_000});
    let s = p.send(m).await;
    assert_eq!(s["status"], "scheduled", "{s}");
    let d = wait_for(&p, &id_of(&s), "delivered").await;
    assert!(
        d["sent-at"]["seconds"].as_u64() >= Some(at_ms / 1000),
        "{d}"
    );
}

/// A queued message can be canceled; a sent or delivered one cannot.
async fn cancels_only_before_sending(p: &Provider) {
    let slow = p.with_timing(60_000, 120_000).await;
    let s = slow.send(sms("+15558675310", "queued")).await;
    assert_eq!(s["status"], "queued", "{s}");
    let c = slow.ok("cancel", json!({"id": id_of(&s)})).await;
    assert_eq!(c["status"], "canceled", "{c}");

    let fast = p.with_timing(0, 0).await;
    let s = fast.send(sms("+15558675310", "gone")).await;
    let id = id_of(&s);
    wait_for(&fast, &id, "delivered").await;
    let err = fast.err("cancel", json!({"id": id})).await;
    assert_eq!(err.kind, ErrorKind::Conflict, "{err:?}");
    assert!(err.message.contains("delivered"), "{}", err.message);
    assert_eq!(fast.status(&id).await["status"], "delivered");
}

/// The magic test recipients end failed or undelivered, with a reason and code.
async fn magic_recipients_fail(p: &Provider) {
    let p = p.with_timing(0, 0).await;
    for (m, status, code) in [
        (sms("+15005550001", "x"), "failed", "21211"),
        (sms("+15005550009", "x"), "failed", "21614"),
        (sms("+15005550005", "x"), "undelivered", "30003"),
        (
            json!({"channel": "email", "to": "nobody@fail.invalid", "body": "x"}),
            "failed",
            "550",
        ),
        (
            json!({"channel": "push", "to": "invalid-token", "body": "x"}),
            "failed",
            "unregistered",
        ),
    ] {
        let s = p.send(m.clone()).await;
        let s = wait_for(&p, &id_of(&s), status).await;
        assert_eq!(s["provider-code"], code, "{m}: {s}");
        assert!(
            s["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{m}: {s}"
        );
    }
    let failed = p
        .ok("list", json!({"query": {"status": "failed"}, "page": {}}))
        .await;
    assert_eq!(failed["page"]["total"], 4, "{failed}");
}

/// One bad recipient in a bulk send does not fail the others.
async fn bulk_has_a_result_per_message(p: &Provider) {
    let out = p
        .ok(
            "send-bulk",
            json!({"messages": [
                sms("+15558675310", "one"),
                sms("555-not-e164", "two"),
                sms("+15558675311", "three"),
                {"channel": "email", "to": "no-at-sign", "body": "four"},
                {"channel": "email", "to": "ada@example.com", "body": "five"},
            ]}),
        )
        .await;
    let results = out.as_array().expect("a list");
    assert_eq!(results.len(), 5, "{out}");
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["index"], i, "{r}");
    }
    assert_eq!(results[1]["to"], "555-not-e164");
    for bad in [1, 3] {
        let err = &results[bad]["outcome"]["err"];
        assert_eq!(err["kind"], "invalid-input", "{out}");
        assert!(
            err["message"].as_str().unwrap_or("").contains("to"),
            "{err}"
        );
    }
    let mut good = Vec::new();
    for ok in [0, 2, 4] {
        let s = &results[ok]["outcome"]["ok"];
        assert!(s["id"].is_string(), "{out}");
        good.push(s["id"].clone());
    }
    let all = p.all().await;
    assert_eq!(all["page"]["total"], 3, "{all}");
    let listed: Vec<_> = all["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(listed, good, "oldest first");

    let err = p.err("send-bulk", json!({"messages": []})).await;
    expect_error(&err, ErrorKind::InvalidInput, "messages");
    let many: Vec<Value> = (0..1001).map(|_| sms("+15558675310", "x")).collect();
    let err = p.err("send-bulk", json!({ "messages": many })).await;
    expect_error(&err, ErrorKind::TooLarge, "messages");
    assert_eq!(p.all().await["page"]["total"], 3, "nothing more recorded");
}

/// `list` pages oldest first with a cursor, counts and filters.
async fn lists_with_paging_and_filters(p: &Provider) {
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = if i % 2 == 0 {
            sms("+15558675310", &format!("m{i}"))
        } else {
            json!({"channel": "email", "to": "ada@example.com", "body": format!("m{i}")})
        };
        ids.push(id_of(&p.send(m).await));
    }
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    let mut pages = 0;
    loop {
        let page = p
            .ok(
                "list",
                json!({"query": {}, "page": {"cursor": cursor, "limit": 2}}),
            )
            .await;
        assert_eq!(page["page"]["total"], 5, "{page}");
        let msgs = page["messages"].as_array().expect("messages");
        assert!(msgs.len() <= 2, "{page}");
        seen.extend(msgs.iter().map(id_of));
        pages += 1;
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids, "every message once, oldest first");

    let sms_only = p
        .ok("list", json!({"query": {"channel": "sms"}, "page": {}}))
        .await;
    assert_eq!(sms_only["page"]["total"], 3, "{sms_only}");
    let to = p
        .ok(
            "list",
            json!({"query": {"to": "ada@example.com"}, "page": {}}),
        )
        .await;
    assert_eq!(to["page"]["total"], 2, "{to}");
    let none = p
        .ok("list", json!({"query": {"status": "canceled"}, "page": {}}))
        .await;
    assert_eq!(none["page"]["total"], 0, "{none}");
    assert_eq!(none["messages"], json!([]));

    let err = p
        .err("list", json!({"query": {}, "page": {"limit": 0}}))
        .await;
    expect_error(&err, ErrorKind::InvalidInput, "limit");
    let err = p
        .err(
            "list",
            json!({"query": {}, "page": {"cursor": "../../etc"}}),
        )
        .await;
    expect_error(&err, ErrorKind::InvalidInput, "cursor");
}

/// Bad input is refused with the field named, and nothing accepted before is lost.
async fn refuses_bad_input(p: &Provider) {
    let kept = id_of(&p.send(sms("+15558675310", "keep me")).await);
    let future = json!({"seconds": now_secs() + 3600, "nanoseconds": 0});
    let past = json!({"seconds": now_secs() - 60, "nanoseconds": 0});
    let cases: Vec<(Value, ErrorKind, &str)> = vec![
        (sms("", "x"), ErrorKind::InvalidInput, "to"),
        (sms("5558675310", "x"), ErrorKind::InvalidInput, "to"),
        (sms("+1 555 867", "x"), ErrorKind::InvalidInput, "to"),
        (sms("+1555abc5310", "x"), ErrorKind::InvalidInput, "to"),
        (
            json!({"channel": "email", "to": "ada.example.com", "body": "x"}),
            ErrorKind::InvalidInput,
            "to",
        ),
        (
            json!({"channel": "email", "to": "ada@localhost", "body": "x"}),
            ErrorKind::InvalidInput,
            "to",
        ),
        (
            json!({"channel": "push", "to": "", "body": "x"}),
            ErrorKind::InvalidInput,
            "to",
        ),
        (
            json!({"channel": "in-app", "to": "   ", "body": "x"}),
            ErrorKind::InvalidInput,
            "to",
        ),
        (sms("+15558675310", ""), ErrorKind::InvalidInput, "body"),
        (
            sms("+15558675310", &"x".repeat(1601)),
            ErrorKind::TooLarge,
            "body",
        ),
        (
            json!({"channel": "push", "to": "t", "body": "x".repeat(2 * 1024 * 1024)}),
            ErrorKind::TooLarge,
            "body",
        ),
        (
            json!({"channel": "push", "to": "t", "body": "x", "data": "[1, 2]"}),
            ErrorKind::InvalidInput,
            "data",
        ),
        (
            json!({"channel": "push", "to": "t", "body": "x", "data": "{not json"}),
            ErrorKind::InvalidInput,
            "data",
        ),
        (
            json!({"channel": "sms", "to": "+15558675310", "body": "x", "send-at": past}),
            ErrorKind::InvalidInput,
            "send-at",
        ),
        (
            json!({"channel": "sms", "to": "+15558675310", "body": "x", "sender": ""}),
            ErrorKind::InvalidInput,
            "sender",
        ),
        (
            json!({"channel": "sms", "to": "+15558675310", "body": "x", "idempotency-key": ""}),
            ErrorKind::InvalidInput,
            "idempotency-key",
        ),
        (
            json!({"channel": "sms", "to": "+15558675310", "body": "x",
                   "idempotency-key": "k".repeat(5000)}),
            ErrorKind::InvalidInput,
            "idempotency-key",
        ),
    ];
    for (m, kind, field) in cases {
        let err = p.err("send", json!({ "message": m })).await;
        assert_eq!(err.kind, kind, "{m}: {err:?}");
        assert!(
            err.message.contains(field),
            "the message for {m} should name `{field}`: {}",
            err.message
        );
    }
    // A scheduled message with a valid send-at is accepted alongside.
    let mut ok = sms("+15558675310", "x");
    ok["send-at"] = future;
    let scheduled = id_of(&p.send(ok).await);

    for id in ["", "../messages/x", "msg_ with space", &"a".repeat(300)] {
        for function in ["status", "cancel"] {
            let err = p.err(function, json!({ "id": id })).await;
            expect_error(&err, ErrorKind::InvalidInput, "id");
        }
    }
    for function in ["status", "cancel"] {
        let err = p
            .err(
                function,
                json!({"id": "msg_0000000000000000000000000000000"}),
            )
            .await;
        expect_error(&err, ErrorKind::NotFound, "id");
    }
    // The gateway refuses what the contract cannot carry (an unknown channel).
    let err = p
        .call(
            "send",
            json!({"message": {"channel": "fax", "to": "x", "body": "x"}}),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("message.channel"), "{err}");

    let all = p.all().await;
    assert_eq!(all["page"]["total"], 2, "{all}");
    assert_eq!(all["messages"][0]["id"], kept.as_str());
    assert_eq!(all["messages"][1]["id"], scheduled.as_str());
    assert_eq!(p.status(&kept).await["to"], "+15558675310");
}

/// Concurrent sends with one idempotency key make one message; without keys, one each.
async fn idempotency_holds_under_concurrency(p: &Provider) {
    let mut m = sms("+15558675310", "once");
    m["idempotency-key"] = json!("order-42-shipped");
    let calls = (0..16).map(|_| p.send(m.clone()));
    let results = futures_join(calls).await;
    let first = id_of(&results[0]);
    for r in &results {
        assert_eq!(id_of(r), first, "{r}");
    }
    assert_eq!(id_of(&p.send(m.clone()).await), first, "a later repeat too");
    let all = p.all().await;
    assert_eq!(all["page"]["total"], 1, "{all}");

    // The same key for another recipient is a conflict.
    let mut other = m.clone();
    other["to"] = json!("+15558675311");
    let err = p.err("send", json!({ "message": other })).await;
    expect_error(&err, ErrorKind::Conflict, "idempotency-key");

    let calls = (0..24).map(|i| p.send(sms("+15558675310", &format!("n{i}"))));
    let results = futures_join(calls).await;
    let mut ids: Vec<_> = results.iter().map(id_of).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 24);
    assert_eq!(p.all().await["page"]["total"], 25);
}

/// Concurrent cancels of one scheduled message all answer it canceled.
async fn concurrent_cancels_agree(p: &Provider) {
    let mut m = sms("+15558675310", "later");
    m["send-at"] = json!({"seconds": now_secs() + 3600, "nanoseconds": 0});
    let id = id_of(&p.send(m).await);
    let calls = (0..12).map(|_| p.ok("cancel", json!({"id": id})));
    for c in futures_join(calls).await {
        assert_eq!(c["status"], "canceled", "{c}");
        assert_eq!(c["id"], id.as_str());
    }
    let s = p.status(&id).await;
    assert_eq!(s["status"], "canceled");
}

/// `health` answers ok.
async fn health_is_ok(p: &Provider) {
    let h = p.ok("health", json!({})).await;
    assert_eq!(h["ok"], true, "{h}");
}

/// Runs futures concurrently on this task and collects their outputs in order.
async fn futures_join<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut outs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if outs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outs.into_iter().flatten().collect()
}

/// Runs every check against each provider: `suite!(module_name => Kind::X, ...)`.
macro_rules! suite {
    ($($module:ident => $kind:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            suite!(@checks $kind;
                sends_on_every_channel,
                walks_the_lifecycle,
                schedules_and_cancels,
                releases_at_send_at,
                cancels_only_before_sending,
                magic_recipients_fail,
                bulk_has_a_result_per_message,
                lists_with_paging_and_filters,
                refuses_bad_input,
                idempotency_holds_under_concurrency,
                concurrent_cancels_agree,
                health_is_ok,
            );
        }
    )*};
    (@checks $kind:expr; $($check:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $check() {
            super::$check(&Provider::new($kind).await).await;
        }
    )*};
}

suite!(local => Kind::Local);

// ---- the embedded default's own files and tenants ---------------------------------------

/// Each message is one whole JSON file under the tenant's own directory.
#[tokio::test]
async fn local_keeps_one_file_per_message_per_tenant() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let rt = runtime(vec![
        ("a", Service::Notification, local_spec(&a, &[])),
        ("b", Service::Notification, local_spec(&b, &[])),
    ])
    .await;
    let s = rt
        .invoke_json(
            "a",
            Service::Notification,
            "send",
            json!({"message": sms("+15558675310", "for a")}),
        )
        .await
        .expect("send");
    let id = id_of(&s);
    let record: Value = serde_json::from_slice(
        &std::fs::read(a.join("messages").join(format!("{id}.json"))).expect("record file"),
    )
    .expect("JSON");
    assert_eq!(record["body"], "for a");
    assert_eq!(record["to"], "+15558675310");
    let err = rt
        .invoke_json("b", Service::Notification, "status", json!({"id": id}))
        .await
        .unwrap_err();
    assert_eq!(
        err.provider().map(|e| e.kind),
        Some(ErrorKind::NotFound),
        "{err}"
    );
    let listed = rt
        .invoke_json(
            "b",
            Service::Notification,
            "list",
            json!({"query": {}, "page": {}}),
        )
        .await
        .expect("list");
    assert_eq!(listed["page"]["total"], 0);
    // No temporary files or locks are left behind.
    for sub in ["tmp", "locks"] {
        let left: Vec<_> = std::fs::read_dir(a.join(sub))
            .expect("dir")
            .collect::<Result<_, _>>()
            .expect("entries");
        assert!(left.is_empty(), "{sub}: {left:?}");
    }
}

/// Without a files directory the provider is unhealthy and every call is denied.
#[tokio::test]
async fn local_without_files_is_denied() {
    let spec = BindingSpec::new(ComponentSource::path(component("notification-local")));
    let rt = runtime(vec![(TENANT, Service::Notification, spec)]).await;
    let h = rt
        .invoke_json(TENANT, Service::Notification, "health", json!({}))
        .await
        .expect("health");
    assert_eq!(h["ok"], false, "{h}");
    let err = rt
        .invoke_json(
            TENANT,
            Service::Notification,
            "send",
            json!({"message": sms("+15558675310", "x")}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.provider().map(|e| e.kind),
        Some(ErrorKind::Denied),
        "{err}"
    );
}
