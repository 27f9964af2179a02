//! The email contract's behaviour suite, written once against any provider and run for each
//! one through `Runtime::invoke_json` (so it also proves the JSON mapping of every type).
//!
//! Today it runs the embedded default, `email-local` (an outbox in the binding's files
//! directory); a cloud adapter joins with one more `suite!` line and a `Provider` builder,
//! its capabilities switching off the checks its provider cannot answer (`get`, `list`,
//! `status` answer `unsupported` there, which [`unsupported_is_clear`] checks).

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_host::{BindingSpec, ComponentSource, Error, ErrorKind, Runtime, Service};

use crate::support::{component, runtime};

const TENANT: &str = "acme";

/// What a provider can answer beyond `send` and `send-bulk`.
#[derive(Clone, Copy)]
pub struct Caps {
    /// `get` and `list` read the sent messages back.
    pub outbox: bool,
    /// `status` reports a lifecycle (queued, sent, then final), with magic test addresses.
    pub status: bool,
    /// `idempotency-key` deduplicates sends.
    pub idempotency: bool,
}

/// A provider under test: a runtime with tenant [`TENANT`] bound to its email adapter.
pub struct Provider {
    pub rt: Runtime,
    pub caps: Caps,
    _dirs: Vec<tempfile::TempDir>,
}

/// The embedded default: queued for 1 s, sent until 2.5 s, then final (windows wide enough
/// for a loaded CI machine to observe each state).
async fn local() -> Provider {
    let tmp = tempfile::tempdir().expect("tempdir");
    let spec = BindingSpec::new(ComponentSource::path(component("email-local")))
        .files(tmp.path())
        .config("sent_after_ms", "1000")
        .config("delivered_after_ms", "2500");
    Provider {
        rt: runtime(vec![(TENANT, Service::Email, spec)]).await,
        caps: Caps {
            outbox: true,
            status: true,
            idempotency: true,
        },
        _dirs: vec![tmp],
    }
}

impl Provider {
    async fn call(&self, function: &str, args: Value) -> Result<Value, Error> {
        self.rt
            .invoke_json(TENANT, Service::Email, function, args)
            .await
    }

    async fn send(&self, message: Value) -> Result<Value, Error> {
        self.call("send", json!({ "message": message })).await
    }

    async fn total(&self) -> u64 {
        let page = self
            .call("list", json!({"page": {"cursor": null, "limit": 1}}))
            .await
            .expect("list");
        page["page"]["total"].as_u64().expect("total")
    }
}

/// A minimal valid message.
fn msg(subject: &str) -> Value {
    json!({
        "from": {"email": "noreply@example.com", "name": "Example"},
        "to": [{"email": "ada@example.com"}],
        "subject": subject,
        "text": "Hello",
    })
}

/// A message with `field` replaced.
fn with(field: &str, value: Value) -> Value {
    let mut m = msg("hi");
    m[field] = value;
    m
}

/// The contract error of a failed call, checked for its kind and for naming `names`.
#[track_caller]
fn expect_err(result: Result<Value, Error>, kind: ErrorKind, names: &str) -> String {
    let err = match result {
        Ok(v) => panic!("expected a {kind:?} error naming '{names}', got ok: {v}"),
        Err(err) => err,
    };
    let e = err
        .provider()
        .unwrap_or_else(|| panic!("not a contract error: {err}"));
    assert_eq!(e.kind, kind, "{}", e.message);
    assert!(
        e.message.contains(names),
        "the message should name '{names}': {}",
        e.message
    );
    e.message.clone()
}

// ---- the checks ------------------------------------------------------------------------

async fn send_and_get_round_trip(p: &Provider) {
    let binary: Vec<u8> = vec![0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, b'\n', 0xf0, 0x9f];
    let message = json!({
        "from": {"email": "noreply@example.com", "name": "Example App"},
        "to": [{"email": "ada@example.com", "name": "Ada"}, {"email": "bob@example.org"}],
        "cc": [{"email": "carol@example.net"}],
        "bcc": [{"email": "audit@example.com"}],
        "reply-to": {"email": "support@example.com"},
        "subject": "Your invoice ✓",
        "text": "Hello Ada",
        "html": "<p>Hello <b>Ada</b></p>",
        "attachments": [
            {"filename": "blob.bin", "content-type": "application/octet-stream", "content": binary},
            {"filename": "note.txt", "content-type": "text/plain; charset=utf-8", "content": "plain text", "content-id": "note1"},
        ],
        "headers": [["X-Campaign", "spring"], ["X-Entity-Ref-ID", "42"]],
        "tags": ["invoice", "billing"],
    });
    let receipt = p.send(message.clone()).await.expect("send");
    let id = receipt["id"].as_str().expect("id").to_string();
    assert!(!id.is_empty());
    assert!(receipt["accepted-at"]["seconds"].as_u64().expect("seconds") > 1_700_000_000);
    assert!(receipt["status"].is_string());
    if !p.caps.outbox {
        return;
    }
    let got = p.call("get", json!({"id": id})).await.expect("get");
    assert_eq!(got["id"], id.as_str());
    let m = &got["message"];
    assert_eq!(m["from"], message["from"]);
    assert_eq!(
        m["to"],
        json!([{"email": "ada@example.com", "name": "Ada"}, {"email": "bob@example.org", "name": null}])
    );
    assert_eq!(m["cc"][0]["email"], "carol@example.net");
    assert_eq!(m["bcc"][0]["email"], "audit@example.com");
    assert_eq!(m["reply-to"]["email"], "support@example.com");
    assert_eq!(m["subject"], "Your invoice ✓");
    assert_eq!(m["text"], "Hello Ada");
    assert_eq!(m["html"], "<p>Hello <b>Ada</b></p>");
    // Invalid UTF-8 bytes come back intact.
    assert_eq!(m["attachments"][0]["content"], json!(binary));
    assert_eq!(m["attachments"][0]["filename"], "blob.bin");
    assert_eq!(m["attachments"][0]["content-id"], Value::Null);
    assert_eq!(
        m["attachments"][1]["content"],
        json!(b"plain text".to_vec())
    );
    assert_eq!(
        m["attachments"][1]["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(m["attachments"][1]["content-id"], "note1");
    assert_eq!(m["headers"], message["headers"]);
    assert_eq!(m["tags"], message["tags"]);
    assert_eq!(got["accepted-at"], receipt["accepted-at"]);
}

async fn large_binary_attachment_round_trips(p: &Provider) {
    if !p.caps.outbox {
        return;
    }
    // 256 KiB of every byte value, as a JSON array of numbers.
    let content: Vec<u8> = (0..256 * 1024).map(|i| (i * 7 % 256) as u8).collect();
    let mut m = msg("big");
    m["attachments"] = json!([{"filename": "data.bin", "content-type": "application/octet-stream", "content": content}]);
    let id = p.send(m).await.expect("send")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let got = p.call("get", json!({"id": id})).await.expect("get");
    let back: Vec<u8> =
        serde_json::from_value(got["message"]["attachments"][0]["content"].clone()).expect("bytes");
    assert_eq!(back, content);
}

async fn bulk_answers_a_result_per_message(p: &Provider) {
    let before = if p.caps.outbox { p.total().await } else { 0 };
    let results = p
        .call(
            "send-bulk",
            json!({"messages": [
                msg("one"),
                with("to", json!([{"email": "not an address"}])),
                msg("three"),
            ]}),
        )
        .await
        .expect("send-bulk");
    let results = results.as_array().expect("array");
    assert_eq!(results.len(), 3);
    assert!(results[0]["ok"]["id"].is_string(), "{}", results[0]);
    assert_eq!(results[1]["err"]["kind"], "invalid-input", "{}", results[1]);
    let message = results[1]["err"]["message"].as_str().expect("message");
    assert!(
        message.contains("messages[1]") && message.contains("to[0].email"),
        "{message}"
    );
    assert!(results[2]["ok"]["id"].is_string(), "{}", results[2]);
    assert_ne!(results[0]["ok"]["id"], results[2]["ok"]["id"]);
    if p.caps.outbox {
        assert_eq!(p.total().await, before + 2);
    }
    // The batch as a whole.
    expect_err(
        p.call("send-bulk", json!({"messages": []})).await,
        ErrorKind::InvalidInput,
        "messages",
    );
    let many: Vec<Value> = (0..1001).map(|_| msg("x")).collect();
    expect_err(
        p.call("send-bulk", json!({"messages": many})).await,
        ErrorKind::TooLarge,
        "messages",
    );
    if p.caps.outbox {
        assert_eq!(p.total().await, before + 2, "a refused batch sends nothing");
    }
}

async fn status_walks_the_lifecycle(p: &Provider) {
    if !p.caps.status {
        return;
    }
    let mut m = msg("lifecycle");
    m["to"] = json!([{"email": "ada@example.com"}, {"email": "bounce+7@example.com"}]);
    m["cc"] = json!([{"email": "complaint@example.org"}]);
    let id = p.send(m).await.expect("send")["id"]
        .as_str()
        .expect("id")
        .to_string();
    let first = status(p, &id).await;
    assert_eq!(first["status"], "queued", "{first}");
    assert_eq!(first["id"], id.as_str());
    assert_eq!(first["recipients"].as_array().map(Vec::len), Some(3));
    let mut last = Value::Null;
    for want in ["sent", "bounced"] {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            last = status(p, &id).await;
            if last["status"] == want || std::time::Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(last["status"], want, "{last}");
    }
    let r = &last["recipients"];
    assert_eq!(
        r[0],
        json!({"email": "ada@example.com", "status": "delivered", "detail": null})
    );
    assert_eq!(r[1]["status"], "bounced");
    assert!(r[1]["detail"]
        .as_str()
        .is_some_and(|d| d.contains("bounce")));
    assert_eq!(r[2]["status"], "complained");
    assert!(last["updated-at"]["seconds"].as_u64() >= first["updated-at"]["seconds"].as_u64());

    // Every magic address, alone.
    for (addr, want) in [
        ("someone@example.com", "delivered"),
        ("bounce@example.com", "bounced"),
        ("complaint@example.com", "complained"),
        ("defer@example.com", "deferred"),
        ("fail@example.com", "failed"),
    ] {
        let id = p
            .send(with("to", json!([{"email": addr}])))
            .await
            .expect("send")["id"]
            .as_str()
            .expect("id")
            .to_string();
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        let mut got = Value::Null;
        while std::time::Instant::now() < deadline {
            got = status(p, &id).await;
            if got["status"] != "queued" && got["status"] != "sent" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(got["status"], want, "{addr}: {got}");
        if p.caps.outbox {
            let listed = p.call("get", json!({"id": id})).await.expect("get");
            assert_eq!(listed["status"], want);
        }
    }
}

async fn list_pages_through_the_outbox(p: &Provider) {
    if !p.caps.outbox {
        return;
    }
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut m = msg(&format!("page {i}"));
        m["tags"] = json!([format!("t{i}")]);
        ids.push(
            p.send(m).await.expect("send")["id"]
                .as_str()
                .expect("id")
                .to_string(),
        );
    }
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = p
            .call("list", json!({"page": {"cursor": cursor, "limit": 2}}))
            .await
            .expect("list");
        assert_eq!(page["page"]["total"], 5);
        let items = page["messages"].as_array().expect("messages");
        assert!(items.len() <= 2);
        for item in items {
            assert_eq!(item["from"], "noreply@example.com");
            assert_eq!(item["recipients"], json!(["ada@example.com"]));
            assert_eq!(item["attachment-count"], 0);
            assert!(item["status"].is_string());
            seen.push((
                item["id"].as_str().expect("id").to_string(),
                item["subject"].clone(),
                item["tags"].clone(),
            ));
        }
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    let seen_ids: Vec<&String> = seen.iter().map(|(id, _, _)| id).collect();
    assert_eq!(
        seen_ids,
        ids.iter().collect::<Vec<_>>(),
        "oldest first, each once"
    );
    assert_eq!(seen[3].1, "page 3");
    assert_eq!(seen[3].2, json!(["t3"]));
    // Default page, bad limit, bad cursor.
    let all = p.call("list", json!({"page": {}})).await.expect("list");
    assert_eq!(all["messages"].as_array().map(Vec::len), Some(5));
    assert!(all["page"]["next-cursor"].is_null());
    expect_err(
        p.call("list", json!({"page": {"limit": 0}})).await,
        ErrorKind::InvalidInput,
        "limit",
    );
    expect_err(
        p.call("list", json!({"page": {"cursor": "../../etc/passwd"}}))
            .await,
        ErrorKind::InvalidInput,
        "cursor",
    );
}

async fn bad_addresses_are_refused_naming_the_field(p: &Provider) {
    let cases: Vec<(Value, &str)> = vec![
        (with("from", json!({"email": ""})), "from.email"),
        (
            with("from", json!({"email": "no-at-sign.example.com"})),
            "from.email",
        ),
        (with("to", json!([])), "to"),
        (
            with(
                "to",
                json!([{"email": "ada@example.com"}, {"email": "a..b@example.com"}]),
            ),
            "to[1].email",
        ),
        (
            with("to", json!([{"email": "ada@localhost"}])),
            "to[0].email",
        ),
        (
            with("to", json!([{"email": "ada @example.com"}])),
            "to[0].email",
        ),
        (
            with("cc", json!([{"email": "@example.com"}])),
            "cc[0].email",
        ),
        (
            with("bcc", json!([{"email": "x@-bad-.com"}])),
            "bcc[0].email",
        ),
        (
            with("bcc", json!([{"email": "ADA@example.com"}])),
            "bcc[0].email",
        ),
        (with("reply-to", json!({"email": "nope"})), "reply-to.email"),
        (
            with(
                "to",
                json!([{"email": "ada@example.com", "name": "Ada\r\nBcc: evil@x.com"}]),
            ),
            "to[0].name",
        ),
    ];
    for (m, names) in cases {
        expect_err(p.send(m).await, ErrorKind::InvalidInput, names);
    }
}

async fn bad_content_is_refused_naming_the_field(p: &Provider) {
    let before = if p.caps.outbox { p.total().await } else { 0 };
    let kept = p.send(msg("kept")).await.expect("send");
    let mut no_body = msg("x");
    no_body["text"] = Value::Null;
    let mut empty_bodies = msg("x");
    empty_bodies["text"] = json!("");
    empty_bodies["html"] = json!("");
    let attach = |a: Value| with("attachments", json!([a]));
    let cases: Vec<(Value, ErrorKind, &str)> = vec![
        (
            with("subject", json!("")),
            ErrorKind::InvalidInput,
            "subject",
        ),
        (
            with("subject", json!("hi\nBcc: x@y.com")),
            ErrorKind::InvalidInput,
            "subject",
        ),
        (
            with("subject", json!("s".repeat(1000))),
            ErrorKind::InvalidInput,
            "subject",
        ),
        (no_body, ErrorKind::InvalidInput, "text"),
        (empty_bodies, ErrorKind::InvalidInput, "html"),
        (
            attach(json!({"filename": "", "content-type": "text/plain", "content": "x"})),
            ErrorKind::InvalidInput,
            "attachments[0].filename",
        ),
        (
            attach(json!({"filename": "../x", "content-type": "text/plain", "content": "x"})),
            ErrorKind::InvalidInput,
            "attachments[0].filename",
        ),
        (
            attach(json!({"filename": "a.txt", "content-type": "text", "content": "x"})),
            ErrorKind::InvalidInput,
            "attachments[0].content-type",
        ),
        (
            attach(json!({"filename": "a.txt", "content-type": "text/plain", "content": []})),
            ErrorKind::InvalidInput,
            "attachments[0].content",
        ),
        (
            with("headers", json!([["", "v"]])),
            ErrorKind::InvalidInput,
            "headers[0]",
        ),
        (
            with("headers", json!([["X Bad", "v"]])),
            ErrorKind::InvalidInput,
            "headers[0]",
        ),
        (
            with("headers", json!([["X-Ok", "v"], ["Subject", "v"]])),
            ErrorKind::InvalidInput,
            "headers[1]",
        ),
        (
            with("headers", json!([["X-Inject", "a\r\nBcc: x@y.com"]])),
            ErrorKind::InvalidInput,
            "headers[0]",
        ),
        (
            with("tags", json!([""])),
            ErrorKind::InvalidInput,
            "tags[0]",
        ),
        (
            with(
                "tags",
                json!((0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()),
            ),
            ErrorKind::InvalidInput,
            "tags",
        ),
        (
            with("tags", json!(["t".repeat(256)])),
            ErrorKind::InvalidInput,
            "tags[0]",
        ),
        (
            with("idempotency-key", json!("")),
            ErrorKind::InvalidInput,
            "idempotency-key",
        ),
    ];
    for (m, kind, names) in cases {
        expect_err(p.send(m).await, kind, names);
    }
    // Limits: 1000 recipients, 30 MB.
    let recipients: Vec<Value> = (0..1001)
        .map(|i| json!({"email": format!("r{i}@example.com")}))
        .collect();
    expect_err(
        p.send(with("to", json!(recipients))).await,
        ErrorKind::InvalidInput,
        "recipients",
    );
    let huge = "x".repeat(30 * 1024 * 1024 + 1);
    expect_err(
        p.send(with("html", json!(huge))).await,
        ErrorKind::TooLarge,
        "30 MB",
    );
    // Nothing already accepted was lost, nothing refused was recorded.
    if p.caps.outbox {
        assert_eq!(p.total().await, before + 1);
        let got = p.call("get", json!({"id": kept["id"]})).await.expect("get");
        assert_eq!(got["message"]["subject"], "kept");
    }
    // 1000 recipients exactly is fine.
    let recipients: Vec<Value> = (0..1000)
        .map(|i| json!({"email": format!("r{i}@example.com")}))
        .collect();
    p.send(with("to", json!(recipients)))
        .await
        .expect("1000 recipients");
}

async fn unknown_and_empty_ids_are_clear(p: &Provider) {
    if !p.caps.outbox && !p.caps.status {
        return;
    }
    let mut functions = Vec::new();
    if p.caps.outbox {
        functions.push("get");
    }
    if p.caps.status {
        functions.push("status");
    }
    for f in functions {
        expect_err(
            p.call(f, json!({"id": ""})).await,
            ErrorKind::InvalidInput,
            "id",
        );
        expect_err(
            p.call(f, json!({"id": "../outbox/x"})).await,
            ErrorKind::InvalidInput,
            "id",
        );
        expect_err(
            p.call(f, json!({"id": "01890a5d-ac96-774b-bcce-b302099a8057"}))
                .await,
            ErrorKind::NotFound,
            "01890a5d-ac96-774b-bcce-b302099a8057",
        );
    }
}

async fn unsupported_is_clear(p: &Provider) {
    // A provider without an outbox or statuses says so with `unsupported`, never a fake answer.
    if !p.caps.outbox {
        expect_err(
            p.call("get", json!({"id": "x"})).await,
            ErrorKind::Unsupported,
            "",
        );
        expect_err(
            p.call("list", json!({"page": {}})).await,
            ErrorKind::Unsupported,
            "",
        );
    }
    if !p.caps.status {
        expect_err(
            p.call("status", json!({"id": "x"})).await,
            ErrorKind::Unsupported,
            "",
        );
    }
    if !p.caps.idempotency {
        expect_err(
            p.send(with("idempotency-key", json!("k"))).await,
            ErrorKind::Unsupported,
            "idempotency-key",
        );
    }
    let health = p.call("health", json!({})).await.expect("health");
    assert_eq!(health["ok"], true, "{health}");
}

async fn idempotency_key_sends_once_under_concurrency(p: &Provider) {
    if !p.caps.idempotency {
        return;
    }
    let before = if p.caps.outbox { p.total().await } else { 0 };
    let sends = (0..8).map(|i| {
        let mut m = msg(&format!("attempt {i}"));
        m["idempotency-key"] = json!("order-1234-confirmation");
        p.send(m)
    });
    let receipts = futures_join(sends).await;
    let ids: Vec<String> = receipts
        .into_iter()
        .map(|r| r.expect("send")["id"].as_str().expect("id").to_string())
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one id for one key: {ids:?}"
    );
    // Later sends with the key answer the same receipt too.
    let mut again = msg("later");
    again["idempotency-key"] = json!("order-1234-confirmation");
    assert_eq!(p.send(again).await.expect("send")["id"], ids[0].as_str());
    // Another key is another message.
    let mut other = msg("other");
    other["idempotency-key"] = json!("order-5678-confirmation");
    assert_ne!(p.send(other).await.expect("send")["id"], ids[0].as_str());
    if p.caps.outbox {
        assert_eq!(p.total().await, before + 2);
    }
}

async fn concurrent_sends_are_all_recorded(p: &Provider) {
    let before = if p.caps.outbox { p.total().await } else { 0 };
    let receipts = futures_join((0..16).map(|i| p.send(msg(&format!("c{i}"))))).await;
    let mut ids: Vec<String> = receipts
        .into_iter()
        .map(|r| r.expect("send")["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16, "every send has its own id");
    if p.caps.outbox {
        assert_eq!(p.total().await, before + 16);
        for id in &ids {
            p.call("get", json!({"id": id})).await.expect("get");
        }
    }
}

async fn status(p: &Provider, id: &str) -> Value {
    p.call("status", json!({"id": id})).await.expect("status")
}

/// Runs the futures concurrently on this task and answers their outputs in order.
async fn futures_join<F: std::future::Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    let mut futs: Vec<Option<_>> = futs.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, out) in futs.iter_mut().zip(outputs.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
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
    outputs
        .into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

/// Runs every check against one provider: `suite!(builder: check, ...)` makes a module named
/// after the builder with one test per check.
macro_rules! suite {
    ($provider:ident: $($check:ident),* $(,)?) => {
        mod $provider {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let p = super::$provider().await;
                    super::$check(&p).await;
                }
            )*
        }
    };
}

macro_rules! every_check {
    ($provider:ident) => {
        suite!($provider:
            send_and_get_round_trip,
            large_binary_attachment_round_trips,
            bulk_answers_a_result_per_message,
            status_walks_the_lifecycle,
            list_pages_through_the_outbox,
            bad_addresses_are_refused_naming_the_field,
            bad_content_is_refused_naming_the_field,
            unknown_and_empty_ids_are_clear,
            unsupported_is_clear,
            idempotency_key_sends_once_under_concurrency,
            concurrent_sends_are_all_recorded,
        );
    };
}

every_check!(local);
