//! The email contract's behaviour suite, written once against any provider and run for each
//! one through `Runtime::invoke_json` (so it also proves the JSON mapping of every type).
//!
//! It runs the embedded default, `email-local` (an outbox in the binding's files directory),
//! and `email-sendgrid` against [`MockSendGrid`]; a cloud adapter joins with one more
//! `every_check!` line and a `Provider` builder, its capabilities switching off the checks
//! its provider cannot answer (`get`, `list`, `status` answer `unsupported` there, which
//! [`unsupported_is_clear`] checks). A provider without an outbox can still be counted: its
//! builder gives `accepted`, the number of messages its mock accepted, so the checks that
//! nothing refused was sent hold for it too. SendGrid's wire format, error mapping and
//! retries have their own tests at the end ([`sendgrid_wire`]).

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, Error, ErrorKind, Injection, Runtime,
    SecretSource, Service,
};
use switchyard_tests::mock::sendgrid::MockSendGrid;

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
    /// For a provider without an outbox: how many messages its (mock) API has accepted.
    pub accepted: Option<Box<dyn Fn() -> u64 + Send + Sync>>,
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
        accepted: None,
        _dirs: vec![tmp],
    }
}

/// The SendGrid API key the mock expects.
pub const SENDGRID_KEY: &str = "SG.test-key-do-not-leak";

/// An `email-sendgrid` binding pointed at `mock`, with `key` injected as a bearer token and
/// quick retries.
pub fn sendgrid_spec(mock: &MockSendGrid, key: &str, config: &[(&str, &str)]) -> BindingSpec {
    let mut spec = BindingSpec::new(ComponentSource::path(component("email-sendgrid")))
        .config("host", mock.base_url())
        .config("retry_base_ms", "20")
        .config("retry_max_ms", "200")
        .allow(&mock.base_url())
        .expect("allow")
        .credential(&CredentialConfig {
            host: mock.base_url(),
            secret: SecretSource::Value(key.into()),
            inject: Injection::Bearer,
        })
        .expect("credential");
    for (k, v) in config {
        spec = spec.config(*k, *v);
    }
    spec
}

/// SendGrid's Mail Send API (mocked): no outbox, no status, no idempotency; what the mock
/// accepted is counted.
async fn sendgrid() -> Provider {
    let mock = MockSendGrid::start(SENDGRID_KEY).await;
    let spec = sendgrid_spec(&mock, SENDGRID_KEY, &[]);
    Provider {
        rt: runtime(vec![(TENANT, Service::Email, spec)]).await,
        caps: Caps {
            outbox: false,
            status: false,
            idempotency: false,
        },
        accepted: Some(Box::new(move || mock.message_count() as u64)),
        _dirs: Vec::new(),
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

    /// How many messages the provider has accepted: its outbox's total, or what its mock
    /// counted; `None` when it cannot tell.
    async fn sent(&self) -> Option<u64> {
        if self.caps.outbox {
            Some(self.total().await)
        } else {
            self.accepted.as_ref().map(|count| count())
        }
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
    let before = p.sent().await;
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
    if let Some(before) = before {
        assert_eq!(p.sent().await, Some(before + 2));
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
    if let Some(before) = before {
        assert_eq!(
            p.sent().await,
            Some(before + 2),
            "a refused batch sends nothing"
        );
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
    let before = p.sent().await;
    for (m, names) in cases {
        expect_err(p.send(m).await, ErrorKind::InvalidInput, names);
    }
    assert_eq!(p.sent().await, before, "nothing refused was sent");
}

async fn bad_content_is_refused_naming_the_field(p: &Provider) {
    let before = p.sent().await;
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
    if let Some(before) = before {
        assert_eq!(p.sent().await, Some(before + 1));
    }
    if p.caps.outbox {
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
        let before = p.sent().await;
        expect_err(
            p.send(with("idempotency-key", json!("k"))).await,
            ErrorKind::Unsupported,
            "idempotency-key",
        );
        assert_eq!(
            p.sent().await,
            before,
            "a send refused for its key sends nothing"
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
    let before = p.sent().await;
    let receipts = futures_join((0..16).map(|i| p.send(msg(&format!("c{i}"))))).await;
    let mut ids: Vec<String> = receipts
        .into_iter()
        .map(|r| r.expect("send")["id"].as_str().expect("id").to_string())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16, "every send has its own id");
    if let Some(before) = before {
        assert_eq!(p.sent().await, Some(before + 16));
    }
    if p.caps.outbox {
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
every_check!(sendgrid);

/// SendGrid's side of the contract, checked on what [`MockSendGrid`] received: the body's
/// exact shape, one request per bulk message, error mapping, retries, `Retry-After` and
/// `X-RateLimit-Reset`, the call's budget, health and config.
mod sendgrid_wire {
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};
    use switchyard_host::{ErrorKind, ProviderError, Runtime, Service};
    use switchyard_tests::mock::sendgrid::wire::SgError;
    use switchyard_tests::mock::sendgrid::{MockSendGrid, UNVERIFIED_SENDER};

    use super::{msg, sendgrid_spec, with, SENDGRID_KEY, TENANT};
    use crate::support::runtime;

    async fn setup_with(key: &str, config: &[(&str, &str)]) -> (MockSendGrid, Runtime) {
        let mock = MockSendGrid::start(SENDGRID_KEY).await;
        let rt = runtime(vec![(
            TENANT,
            Service::Email,
            sendgrid_spec(&mock, key, config),
        )])
        .await;
        (mock, rt)
    }

    async fn setup(config: &[(&str, &str)]) -> (MockSendGrid, Runtime) {
        setup_with(SENDGRID_KEY, config).await
    }

    async fn call(
        rt: &Runtime,
        function: &str,
        args: Value,
    ) -> Result<Value, switchyard_host::Error> {
        rt.invoke_json(TENANT, Service::Email, function, args).await
    }

    async fn send(rt: &Runtime, message: Value) -> Result<Value, switchyard_host::Error> {
        call(rt, "send", json!({ "message": message })).await
    }

    #[track_caller]
    fn err(
        result: Result<Value, switchyard_host::Error>,
        kind: ErrorKind,
        names: &str,
    ) -> ProviderError {
        let e = match result {
            Ok(v) => panic!("expected a {kind:?} error naming '{names}', got {v}"),
            Err(e) => e
                .provider()
                .cloned()
                .unwrap_or_else(|| panic!("not a contract error: {e}")),
        };
        assert_eq!(e.kind, kind, "{e:?}");
        assert!(
            e.message.contains(names),
            "the message should name '{names}': {}",
            e.message
        );
        e
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_body_is_sendgrids_mail_send() {
        let (mock, rt) = setup(&[("custom_args", r#"{"app":"billing"}"#)]).await;
        let binary: Vec<u8> = vec![0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, b'\n', 0xf0, 0x9f];
        let receipt = send(
            &rt,
            json!({
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
                "tags": ["invoice", "billing", "invoice"],
            }),
        )
        .await
        .expect("send");
        let got = mock.messages();
        assert_eq!(got.len(), 1);
        let m = &got[0];
        assert_eq!(
            receipt["id"],
            m.id.as_str(),
            "the receipt's id is X-Message-Id"
        );
        assert_eq!(receipt["status"], "queued");
        let mut body = m.body.clone();
        let attachments = body.as_object_mut().unwrap().remove("attachments").unwrap();
        assert_eq!(
            body,
            json!({
                "personalizations": [{
                    "to": [{"email": "ada@example.com", "name": "Ada"}, {"email": "bob@example.org"}],
                    "cc": [{"email": "carol@example.net"}],
                    "bcc": [{"email": "audit@example.com"}],
                }],
                "from": {"email": "noreply@example.com", "name": "Example App"},
                "reply_to": {"email": "support@example.com"},
                "subject": "Your invoice ✓",
                "content": [
                    {"type": "text/plain", "value": "Hello Ada"},
                    {"type": "text/html", "value": "<p>Hello <b>Ada</b></p>"},
                ],
                "headers": {"X-Campaign": "spring", "X-Entity-Ref-ID": "42"},
                "categories": ["invoice", "billing"],
                "custom_args": {"app": "billing"},
            })
        );
        assert_eq!(attachments[0]["filename"], "blob.bin");
        assert_eq!(attachments[0]["type"], "application/octet-stream");
        assert_eq!(attachments[0]["disposition"], "attachment");
        assert!(attachments[0].get("content_id").is_none());
        assert_eq!(m.attachment(0), Some(binary));
        assert_eq!(attachments[1]["type"], "text/plain");
        assert_eq!(attachments[1]["disposition"], "inline");
        assert_eq!(attachments[1]["content_id"], "note1");
        assert_eq!(m.attachment(1), Some(b"plain text".to_vec()));
        let request = &mock.send_requests()[0];
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {SENDGRID_KEY}").as_str())
        );
        assert_eq!(request.header("content-type"), Some("application/json"));

        // An HTML-only message has one content block; a large attachment arrives whole.
        let content: Vec<u8> = (0..300 * 1024).map(|i| (i * 7 % 256) as u8).collect();
        let mut html_only = msg("html only");
        html_only["text"] = Value::Null;
        html_only["html"] = json!("<p>hi</p>");
        html_only["attachments"] = json!([{"filename": "data.bin", "content-type": "application/octet-stream", "content": content}]);
        send(&rt, html_only).await.expect("send");
        let m = &mock.messages()[1];
        assert_eq!(
            m.body["content"],
            json!([{"type": "text/html", "value": "<p>hi</p>"}])
        );
        assert_eq!(m.attachment(0), Some(content));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bulk_is_one_request_per_message() {
        let (mock, rt) = setup(&[]).await;
        let results = call(
            &rt,
            "send-bulk",
            json!({"messages": [msg("one"), msg("two"), msg("three")]}),
        )
        .await
        .expect("send-bulk");
        let got = mock.messages();
        assert_eq!(mock.send_requests().len(), 3);
        for (i, subject) in ["one", "two", "three"].iter().enumerate() {
            assert_eq!(got[i].subject(), *subject);
            assert_eq!(results[i]["ok"]["id"], got[i].id.as_str());
        }

        // A passing outage is retried within the message's own request.
        mock.clear();
        mock.server_error_next(2, 500);
        let results = call(&rt, "send-bulk", json!({"messages": [msg("a"), msg("b")]}))
            .await
            .expect("send-bulk");
        assert!(
            results[0]["ok"]["id"].is_string() && results[1]["ok"]["id"].is_string(),
            "{results}"
        );
        assert_eq!(mock.send_requests().len(), 3 + 1);

        // An outage outlasting the retries fails its message and holds back the rest, which
        // say they were not sent.
        mock.clear();
        mock.server_error_next(4, 503);
        let results = call(
            &rt,
            "send-bulk",
            json!({"messages": [msg("a"), msg("b"), msg("c")]}),
        )
        .await
        .expect("send-bulk");
        assert_eq!(results[0]["err"]["kind"], "unavailable", "{results}");
        assert!(results[0]["err"]["message"]
            .as_str()
            .unwrap()
            .starts_with("messages[0]"));
        for i in [1, 2] {
            assert_eq!(results[i]["err"]["kind"], "unavailable", "{results}");
            assert_eq!(results[i]["err"]["retryable"], true, "{results}");
            let held = results[i]["err"]["message"].as_str().unwrap();
            assert!(
                held.contains(&format!("messages[{i}]")) && held.contains("not sent"),
                "{held}"
            );
        }
        assert_eq!(
            mock.send_requests().len(),
            4,
            "only the first message was tried"
        );
        assert_eq!(mock.message_count(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn errors_map_to_the_contract() {
        let (mock, rt) = setup(&[]).await;
        // 400: invalid-input naming the contract's field; not retried.
        mock.fail_next_errors(
            1,
            400,
            &[SgError::at(
                "personalizations.0.to.0.email",
                "personalizations.to",
                "Does not contain a valid address.",
            )],
        );
        let e = err(
            send(&rt, msg("x")).await,
            ErrorKind::InvalidInput,
            "to[0].email",
        );
        assert_eq!(
            e.provider_code.as_deref(),
            Some("personalizations.0.to.0.email")
        );
        assert_eq!(
            e.provider_message.as_deref(),
            Some("Does not contain a valid address.")
        );
        assert!(!e.retryable);
        assert_eq!(mock.send_requests().len(), 1);
        // 413: too-large, not retried; nginx's HTML body is kept as the provider message.
        mock.fail_next(
            1,
            413,
            &[("content-type", "text/html")],
            "<html>413 Request Entity Too Large</html>",
        );
        let e = err(send(&rt, msg("x")).await, ErrorKind::TooLarge, "413");
        assert!(e
            .provider_message
            .unwrap()
            .contains("Request Entity Too Large"));
        assert_eq!(mock.send_requests().len(), 2);
        // 403 for an unverified sender: unauthorized naming `from`, with SendGrid's words.
        mock.set_verified_senders(Some(&["someone-else@example.com"]));
        let e = err(send(&rt, msg("x")).await, ErrorKind::Unauthorized, "`from`");
        assert_eq!(e.provider_message.as_deref(), Some(UNVERIFIED_SENDER));
        assert_eq!(e.provider_code.as_deref(), Some("from"));
        mock.set_verified_senders(None);
        // 403 for a key without mail.send; health says so too.
        mock.set_scopes(&["stats.read"]);
        let e = err(send(&rt, msg("x")).await, ErrorKind::Unauthorized, "403");
        assert_eq!(e.provider_message.as_deref(), Some("access forbidden"));
        let health = call(&rt, "health", json!({})).await.expect("health");
        assert_eq!(health["ok"], false, "{health}");
        assert!(
            health["detail"].as_str().unwrap().contains("mail.send"),
            "{health}"
        );
        mock.set_scopes(&["mail.send"]);
        let health = call(&rt, "health", json!({})).await.expect("health");
        assert_eq!(health["ok"], true, "{health}");
        assert_eq!(mock.message_count(), 0);
        assert_eq!(mock.send_requests().len(), 4, "no refusal was retried");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_key_is_unauthorized_and_never_retried() {
        let (mock, rt) = setup_with("SG.wrong", &[]).await;
        let e = err(
            send(&rt, msg("x")).await,
            ErrorKind::Unauthorized,
            "API key",
        );
        assert!(e
            .provider_message
            .unwrap()
            .contains("invalid, expired, or revoked"));
        assert_eq!(mock.send_requests().len(), 1);
        let results = call(
            &rt,
            "send-bulk",
            json!({"messages": [msg("a"), msg("b"), msg("c")]}),
        )
        .await
        .expect("send-bulk");
        for (i, r) in results.as_array().unwrap().iter().enumerate() {
            assert_eq!(r["err"]["kind"], "unauthorized", "{r}");
            assert!(r["err"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("messages[{i}]")));
        }
        assert!(results[2]["err"]["message"]
            .as_str()
            .unwrap()
            .contains("not sent"));
        assert_eq!(
            mock.send_requests().len(),
            2,
            "the bulk stopped at the refused key"
        );
        let health = call(&rt, "health", json!({})).await.expect("health");
        assert_eq!(health["ok"], false, "{health}");
        assert!(
            health["detail"].as_str().unwrap().contains("401"),
            "{health}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retries_honour_sendgrids_waits() {
        let (mock, rt) = setup(&[]).await;
        // 5xx: retried with backoff until it passes.
        mock.server_error_next(2, 500);
        send(&rt, msg("after two 500s")).await.expect("send");
        assert_eq!(mock.send_requests().len(), 3);
        // Retries run out: unavailable, retryable.
        mock.server_error_next(4, 503);
        let e = err(send(&rt, msg("x")).await, ErrorKind::Unavailable, "503");
        assert!(e.retryable);
        assert_eq!(mock.send_requests().len(), 3 + 4);
        // 429 with Retry-After: waits at least that long (the backoff alone is 20 ms).
        mock.clear();
        mock.rate_limit_next(1, Some(1), None);
        let start = Instant::now();
        send(&rt, msg("after retry-after")).await.expect("send");
        assert!(
            start.elapsed() >= Duration::from_millis(950),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(mock.send_requests().len(), 2);
        // 429 with X-RateLimit-Reset only: waits until the reset (a whole second away at least).
        mock.clear();
        mock.rate_limit_next(1, None, Some(2));
        let start = Instant::now();
        send(&rt, msg("after reset")).await.expect("send");
        assert!(
            start.elapsed() >= Duration::from_millis(900),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(mock.send_requests().len(), 2);
        assert_eq!(mock.message_count(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_wait_passes_the_budget() {
        let (mock, rt) = setup(&[("budget_ms", "2000")]).await;
        mock.rate_limit_next(1, Some(30), None);
        let start = Instant::now();
        let e = err(send(&rt, msg("x")).await, ErrorKind::RateLimited, "budget");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert!(e.retryable);
        let after = e.retry_after_ms.expect("retry-after-ms");
        assert!((29_000..=30_000).contains(&after), "{after}");
        assert_eq!(e.provider_message.as_deref(), Some("too many requests"));
        assert_eq!(mock.send_requests().len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sendgrids_own_rules_are_checked_before_sending() {
        let (mock, rt) = setup(&[]).await;
        err(
            send(&rt, with("tags", json!(["ok", "grüße"]))).await,
            ErrorKind::InvalidInput,
            "tags[1]",
        );
        err(
            send(&rt, with("headers", json!([["X-SG-EID", "1"]]))).await,
            ErrorKind::InvalidInput,
            "headers[0]",
        );
        err(
            send(&rt, with("headers", json!([["X-A", "1"], ["x-a", "2"]]))).await,
            ErrorKind::InvalidInput,
            "headers[1]",
        );
        assert_eq!(mock.send_requests().len(), 0);
        // Ids are checked before saying `unsupported`.
        err(
            call(&rt, "status", json!({"id": ""})).await,
            ErrorKind::InvalidInput,
            "id",
        );
        err(
            call(&rt, "status", json!({"id": "abc"})).await,
            ErrorKind::Unsupported,
            "Event Webhook",
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_config_names_the_key() {
        for (key, value) in [
            ("host", "ftp://example.com"),
            ("custom_args", r#"{"n": 1}"#),
            ("budget_ms", "0"),
            ("retry_base_ms", "x"),
        ] {
            let (mock, rt) = setup(&[(key, value)]).await;
            err(send(&rt, msg("x")).await, ErrorKind::InvalidInput, key);
            assert_eq!(mock.send_requests().len(), 0);
        }
    }
}
