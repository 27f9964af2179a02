//! The notification contract's behaviour suite, run through the JSON gateway
//! (`Runtime::invoke_json`) for every provider: the embedded default
//! (`notification-local`) and `notification-twilio` against [`MockTwilio`]; another cloud
//! adapter against its mock joins with one line in `suite!` below.
//!
//! Every check is written once as `async fn check(p: &Provider)`. A check that needs the
//! lifecycle to move at a given pace asks for a provider configured so
//! (`Provider::with_timing`; for Twilio, its mock's pace). Where a provider genuinely
//! cannot do what a check asks (Twilio: channels other than sms, metadata, idempotency
//! keys, canceling queued messages, listing oldest first with totals), the check asks its
//! `Kind`'s capabilities and asserts the provider's documented answer instead. Twilio's
//! wire format, error mapping and retries have their own tests at the end.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use switchyard_host::{
    BindingSpec, ComponentSource, CredentialConfig, Error, ErrorKind, Injection, ProviderError,
    Runtime, SecretSource, Service,
};
use switchyard_tests::mock::twilio::{MockTwilio, MockTwilioOptions, VALID_FROM};

use crate::support::{component, runtime};

const TENANT: &str = "acme";

/// Which provider a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `notification-local`, the embedded default.
    Local,
    /// `notification-twilio` against [`MockTwilio`].
    Twilio,
}

/// What each provider can do, where providers differ. Twilio's limits are Twilio's own
/// (adapters/notification-twilio/README.md says why).
impl Kind {
    /// Whether it sends on `channel` (Twilio Programmable Messaging: sms only; the others
    /// answer `unsupported` naming the channel).
    fn sends_on(self, channel: &str) -> bool {
        !matches!(self, Kind::Twilio) || channel == "sms"
    }

    /// Whether it keeps `metadata` and returns it with the status (Twilio keeps none and
    /// answers `unsupported`).
    fn keeps_metadata(self) -> bool {
        !matches!(self, Kind::Twilio)
    }

    /// Whether a `queued` message can be canceled (Twilio cancels only scheduled ones and
    /// answers `conflict`).
    fn cancels_queued(self) -> bool {
        !matches!(self, Kind::Twilio)
    }

    /// Whether a recipient that cannot be reached is refused when the message is created
    /// (`invalid-input` naming `to`, with the provider's code) rather than accepted and then
    /// `failed` (Twilio checks numbers at once).
    fn refuses_unreachable_at_send(self) -> bool {
        matches!(self, Kind::Twilio)
    }

    /// Whether `list` answers oldest first (Twilio lists newest first).
    fn lists_oldest_first(self) -> bool {
        !matches!(self, Kind::Twilio)
    }

    /// Whether `list` counts the matches in `total` (Twilio does not count).
    fn counts_totals(self) -> bool {
        !matches!(self, Kind::Twilio)
    }

    /// Whether idempotency keys are honoured (Twilio cannot deduplicate; `unsupported`).
    fn deduplicates(self) -> bool {
        !matches!(self, Kind::Twilio)
    }

    /// Whether `send-at` may be a second ahead (Twilio schedules 15 minutes ahead at the
    /// earliest; its mock's clock is moved instead of waiting).
    fn schedules_within_seconds(self) -> bool {
        !matches!(self, Kind::Twilio)
    }

    /// A well-formed id of no message.
    fn unknown_id(self) -> &'static str {
        match self {
            Kind::Twilio => "SM00000000000000000000000000000000",
            _ => "msg_0000000000000000000000000000000",
        }
    }
}

/// A runtime with one tenant bound to a notification provider.
pub struct Provider {
    kind: Kind,
    rt: Runtime,
    /// The mock a cloud provider talks to.
    twilio: Option<MockTwilio>,
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
        let mut twilio = None;
        let spec = match kind {
            Kind::Local => local_spec(&dir, config),
            Kind::Twilio => {
                // The lifecycle's pace is the provider's: it is the mock's timing here.
                let ms = |key: &str| {
                    config
                        .iter()
                        .find(|(k, _)| *k == key)
                        .map(|(_, v)| Duration::from_millis(v.parse().expect("ms")))
                        .unwrap_or(Duration::ZERO)
                };
                let mock = MockTwilio::start_with(
                    MockTwilioOptions::default()
                        .timing(ms("sent_after_ms"), ms("delivered_after_ms")),
                )
                .await;
                let spec = twilio_spec(&mock, &[]);
                twilio = Some(mock);
                spec
            }
        };
        let rt = runtime(vec![(TENANT, Service::Notification, spec)]).await;
        Provider {
            kind,
            rt,
            twilio,
            _tmp: tmp,
        }
    }

    /// Moves the provider's clock forward, where it has one the test can move (a mock's);
    /// answers whether it did.
    pub fn advance_clock(&self, by: Duration) -> bool {
        match &self.twilio {
            Some(mock) => {
                mock.advance(by);
                true
            }
            None => false,
        }
    }

    /// Every message matching `query`, walking every page, oldest first (a provider that
    /// lists newest first is read back to front). Where the provider counts, the last page's
    /// `total` must be the number of matches; where it does not, every `total` is none.
    pub async fn listed(&self, query: Value) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor = Value::Null;
        for _ in 0..100 {
            let page = self
                .ok(
                    "list",
                    json!({"query": query.clone(), "page": {"cursor": cursor, "limit": 100}}),
                )
                .await;
            out.extend(
                page["messages"]
                    .as_array()
                    .expect("messages")
                    .iter()
                    .cloned(),
            );
            if !self.kind.counts_totals() {
                assert_eq!(page["page"]["total"], Value::Null, "{page}");
            }
            cursor = page["page"]["next-cursor"].clone();
            if cursor.is_null() {
                if self.kind.counts_totals() {
                    assert_eq!(page["page"]["total"], out.len(), "{page}");
                }
                if !self.kind.lists_oldest_first() {
                    out.reverse();
                }
                return out;
            }
        }
        panic!("paging does not end");
    }

    /// The ids of every message, oldest first.
    pub async fn listed_ids(&self) -> Vec<String> {
        self.listed(json!({})).await.iter().map(id_of).collect()
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

/// A `notification-twilio` binding pointed at `mock`: its account, sender and Messaging
/// Service, the auth token injected as basic auth, quick retries.
fn twilio_spec(mock: &MockTwilio, config: &[(&str, &str)]) -> BindingSpec {
    let mut spec = BindingSpec::new(ComponentSource::path(component("notification-twilio")))
        .config("account_sid", mock.account_sid())
        .config("base_url", mock.base_url())
        .config("from", VALID_FROM)
        .config("messaging_service_sid", mock.messaging_service_sid())
        .config("retry_base_ms", "20")
        .config("retry_max_ms", "200")
        .allow(&mock.base_url())
        .expect("allow")
        .credential(&CredentialConfig {
            host: mock.base_url(),
            secret: SecretSource::Value(mock.auth_token()),
            inject: Injection::Basic {
                username: mock.account_sid(),
            },
        })
        .expect("credential");
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
        let channel = m["channel"].as_str().expect("channel");
        if !p.kind.sends_on(channel) {
            let err = p.err("send", json!({ "message": m })).await;
            expect_error(&err, ErrorKind::Unsupported, channel);
            continue;
        }
        let mut m = m.clone();
        if m.get("metadata").is_some() && !p.kind.keeps_metadata() {
            let err = p.err("send", json!({ "message": m })).await;
            expect_error(&err, ErrorKind::Unsupported, "metadata");
            m.as_object_mut().expect("object").remove("metadata");
        }
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
    let kept = if p.kind.keeps_metadata() {
        json!([["order", "42"]])
    } else {
        json!([])
    };
    assert_eq!(first["metadata"], kept, "{first}");
    let supported = cases
        .iter()
        .filter(|m| p.kind.sends_on(m["channel"].as_str().unwrap_or("")))
        .count();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), supported, "ids are unique: {ids:?}");
    assert_eq!(
        p.listed_ids().await.len(),
        supported,
        "refused sends left nothing"
    );
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
    if !p.kind.schedules_within_seconds() {
        // The provider schedules 15 minutes ahead at the earliest: schedule 16 minutes ahead
        // and move its (mock's) clock past it instead of waiting.
        let p = p.with_timing(0, 0).await;
        let at = now_secs() + 16 * 60;
        let mut m = sms("+15558675310", "later");
        m["send-at"] = json!({"seconds": at, "nanoseconds": 0});
        let s = p.send(m).await;
        assert_eq!(s["status"], "scheduled", "{s}");
        let id = id_of(&s);
        assert_eq!(p.status(&id).await["status"], "scheduled");
        if !p.advance_clock(Duration::from_secs(17 * 60)) {
            return; // no clock to move: this check cannot run without waiting
        }
        let d = wait_for(&p, &id, "delivered").await;
        assert!(d["sent-at"]["seconds"].as_u64() >= Some(at), "{d}");
        return;
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
    if p.kind.cancels_queued() {
        let c = slow.ok("cancel", json!({"id": id_of(&s)})).await;
        assert_eq!(c["status"], "canceled", "{c}");
    } else {
        let err = slow.err("cancel", json!({"id": id_of(&s)})).await;
        assert_eq!(err.kind, ErrorKind::Conflict, "{err:?}");
        assert!(err.message.contains("queued"), "{}", err.message);
        assert_eq!(slow.status(&id_of(&s)).await["status"], "queued");
    }

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
    let (mut failed, mut undelivered) = (0, 0);
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
        let channel = m["channel"].as_str().expect("channel");
        if !p.kind.sends_on(channel) {
            let err = p.err("send", json!({ "message": m })).await;
            expect_error(&err, ErrorKind::Unsupported, channel);
            continue;
        }
        if status == "failed" && p.kind.refuses_unreachable_at_send() {
            // Refused at once: no message exists, the provider's code says why.
            let err = p.err("send", json!({ "message": m })).await;
            expect_error(&err, ErrorKind::InvalidInput, "to");
            assert_eq!(err.provider_code.as_deref(), Some(code), "{m}: {err:?}");
            continue;
        }
        let s = p.send(m.clone()).await;
        let s = wait_for(&p, &id_of(&s), status).await;
        assert_eq!(s["provider-code"], code, "{m}: {s}");
        assert!(
            s["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{m}: {s}"
        );
        if status == "failed" {
            failed += 1;
        } else {
            undelivered += 1;
        }
    }
    if p.kind == Kind::Local {
        assert_eq!((failed, undelivered), (4, 1), "every local case ran");
    }
    let listed = p.listed(json!({"status": "failed"})).await;
    assert_eq!(listed.len(), failed, "{listed:?}");
    let listed = p.listed(json!({"status": "undelivered"})).await;
    assert_eq!(listed.len(), undelivered, "{listed:?}");
    assert!(undelivered >= 1, "an accepted message ended undelivered");
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
    let email = p.kind.sends_on("email");
    let (bad, ok): (&[usize], &[usize]) = if email {
        (&[1, 3], &[0, 2, 4])
    } else {
        // The provider has no email channel: both emails are refused naming it.
        for i in [3, 4] {
            let err = &results[i]["outcome"]["err"];
            assert_eq!(err["kind"], "unsupported", "{out}");
            assert!(
                err["message"].as_str().unwrap_or("").contains("email"),
                "{err}"
            );
        }
        (&[1], &[0, 2])
    };
    for &bad in bad {
        let err = &results[bad]["outcome"]["err"];
        assert_eq!(err["kind"], "invalid-input", "{out}");
        assert!(
            err["message"].as_str().unwrap_or("").contains("to"),
            "{err}"
        );
    }
    let mut good = Vec::new();
    for &ok in ok {
        let s = &results[ok]["outcome"]["ok"];
        assert!(s["id"].is_string(), "{out}");
        good.push(id_of(s));
    }
    assert_eq!(p.listed_ids().await, good, "oldest first");

    let err = p.err("send-bulk", json!({"messages": []})).await;
    expect_error(&err, ErrorKind::InvalidInput, "messages");
    let many: Vec<Value> = (0..1001).map(|_| sms("+15558675310", "x")).collect();
    let err = p.err("send-bulk", json!({ "messages": many })).await;
    expect_error(&err, ErrorKind::TooLarge, "messages");
    assert_eq!(p.listed_ids().await, good, "nothing more recorded");
}

/// `list` pages oldest first with a cursor, counts and filters.
async fn lists_with_paging_and_filters(p: &Provider) {
    // The second recipient is an email address where the provider sends email, another
    // number where it does not.
    let other = if p.kind.sends_on("email") {
        json!({"channel": "email", "to": "ada@example.com"})
    } else {
        json!({"channel": "sms", "to": "+15558675312"})
    };
    let mut ids = Vec::new();
    let mut sms_count = 0;
    for i in 0..5 {
        let m = if i % 2 == 0 {
            sms("+15558675310", &format!("m{i}"))
        } else {
            let mut m = other.clone();
            m["body"] = json!(format!("m{i}"));
            m
        };
        sms_count += usize::from(m["channel"] == "sms");
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
        if p.kind.counts_totals() {
            assert_eq!(page["page"]["total"], 5, "{page}");
        } else {
            assert_eq!(page["page"]["total"], Value::Null, "{page}");
        }
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
    if p.kind.lists_oldest_first() {
        assert_eq!(seen, ids, "every message once, oldest first");
    } else {
        let newest_first: Vec<_> = ids.iter().rev().cloned().collect();
        assert_eq!(seen, newest_first, "every message once, newest first");
    }

    let sms_only = p.listed(json!({"channel": "sms"})).await;
    assert_eq!(sms_only.len(), sms_count, "{sms_only:?}");
    assert!(sms_only.iter().all(|m| m["channel"] == "sms"));
    let to = p.listed(json!({"to": other["to"]})).await;
    assert_eq!(to.len(), 2, "{to:?}");
    assert_eq!(
        to.iter().map(id_of).collect::<Vec<_>>(),
        vec![ids[1].clone(), ids[3].clone()]
    );
    let none = p
        .ok("list", json!({"query": {"status": "canceled"}, "page": {}}))
        .await;
    if p.kind.counts_totals() {
        assert_eq!(none["page"]["total"], 0, "{none}");
    }
    assert_eq!(none["messages"], json!([]));
    assert_eq!(none["page"]["next-cursor"], Value::Null, "{none}");

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
        // A channel the provider does not have is refused naming the channel, whatever else.
        let channel = m["channel"].as_str().expect("channel").to_string();
        let (kind, field) = if p.kind.sends_on(&channel) {
            (kind, field.to_string())
        } else {
            (ErrorKind::Unsupported, channel)
        };
        let field = field.as_str();
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
        let err = p.err(function, json!({"id": p.kind.unknown_id()})).await;
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

    assert_eq!(p.listed_ids().await, vec![kept.clone(), scheduled]);
    assert_eq!(p.status(&kept).await["to"], "+15558675310");
}

/// Concurrent sends with one idempotency key make one message; without keys, one each.
async fn idempotency_holds_under_concurrency(p: &Provider) {
    let mut m = sms("+15558675310", "once");
    m["idempotency-key"] = json!("order-42-shipped");
    if !p.kind.deduplicates() {
        // A key the provider could not honour is refused, and nothing is sent.
        let err = p.err("send", json!({ "message": m })).await;
        expect_error(&err, ErrorKind::Unsupported, "idempotency-key");
        assert_eq!(p.listed_ids().await.len(), 0);
        let calls = (0..24).map(|i| p.send(sms("+15558675310", &format!("n{i}"))));
        let results = futures_join(calls).await;
        let mut ids: Vec<_> = results.iter().map(id_of).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 24);
        assert_eq!(p.listed_ids().await.len(), 24);
        return;
    }
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

suite!(local => Kind::Local, twilio => Kind::Twilio);

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

// ---- Twilio's wire format, errors and retries -------------------------------------------

/// A runtime bound to `notification-twilio` against `mock`, with extra config.
async fn twilio_runtime(mock: &MockTwilio, config: &[(&str, &str)]) -> Runtime {
    runtime(vec![(
        TENANT,
        Service::Notification,
        twilio_spec(mock, config),
    )])
    .await
}

async fn twilio_call(rt: &Runtime, function: &str, args: Value) -> Result<Value, Error> {
    rt.invoke_json(TENANT, Service::Notification, function, args)
        .await
}

fn twilio_err(result: Result<Value, Error>) -> ProviderError {
    match result {
        Ok(v) => panic!("succeeded with {v}; an error was expected"),
        Err(err) => err
            .provider()
            .unwrap_or_else(|| panic!("not a contract error: {err}"))
            .clone(),
    }
}

fn form_of(request: &switchyard_tests::mock::RecordedRequest) -> Vec<(String, String)> {
    switchyard_tests::mock::twilio::parse_form(&request.body_text())
}

/// Sends, schedules, reads and cancels exactly as Twilio's API takes it: form-encoded
/// fields, basic auth from the host, `.json` paths; priority and subject are not sent.
#[tokio::test]
async fn twilio_speaks_twilios_wire_format() {
    let mock = MockTwilio::start().await;
    let rt = twilio_runtime(&mock, &[]).await;
    let sent = twilio_call(
        &rt,
        "send",
        json!({"message": {"channel": "sms", "to": "+15558675310", "body": "hi & bye",
                           "subject": "ignored", "priority": "urgent"}}),
    )
    .await
    .expect("send");
    assert_eq!(
        sent["priority"], "urgent",
        "the send answers the priority given"
    );
    let id = id_of(&sent);
    assert!(id.starts_with("SM") && id.len() == 34, "{id}");

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    let create = &requests[0];
    assert_eq!(create.method, "POST");
    assert_eq!(
        create.path,
        format!("/2010-04-01/Accounts/{}/Messages.json", mock.account_sid())
    );
    assert_eq!(
        create.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let expected_auth = format!(
        "Basic {}",
        switchyard_tests::mock::twilio::base64_encode(
            format!("{}:{}", mock.account_sid(), mock.auth_token()).as_bytes()
        )
    );
    assert_eq!(create.header("authorization"), Some(expected_auth.as_str()));
    assert_eq!(
        form_of(create),
        vec![
            ("To".to_string(), "+15558675310".to_string()),
            ("Body".to_string(), "hi & bye".to_string()),
            ("From".to_string(), VALID_FROM.to_string()),
        ],
        "no priority, no subject"
    );

    // Status reads Twilio's resource; Twilio keeps no priority, so it reads normal.
    let status = twilio_call(&rt, "status", json!({"id": id}))
        .await
        .expect("status");
    assert_eq!(status["status"], "delivered", "{status}");
    assert_eq!(status["priority"], "normal");
    assert_eq!(mock.requests()[1].method, "GET");
    assert_eq!(
        mock.requests()[1].path,
        format!(
            "/2010-04-01/Accounts/{}/Messages/{id}.json",
            mock.account_sid()
        )
    );

    // A scheduled message goes through the Messaging Service with Twilio's fields.
    let at = now_secs() + 3600;
    let scheduled = twilio_call(
        &rt,
        "send",
        json!({"message": {"channel": "sms", "to": "+15558675310", "body": "later",
                           "send-at": {"seconds": at, "nanoseconds": 250_000_000}}}),
    )
    .await
    .expect("schedule");
    assert_eq!(scheduled["status"], "scheduled");
    assert_eq!(
        scheduled["send-at"],
        json!({"seconds": at, "nanoseconds": 0})
    );
    let form = form_of(mock.requests().last().expect("request"));
    let field = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        field("MessagingServiceSid"),
        Some(mock.messaging_service_sid())
    );
    assert_eq!(field("ScheduleType").as_deref(), Some("fixed"));
    let send_at = field("SendAt").expect("SendAt");
    assert!(
        send_at.ends_with('Z') && !send_at.contains('.'),
        "{send_at}"
    );
    assert_eq!(
        switchyard_tests::mock::twilio::parse_iso8601(&send_at),
        Some(at * 1000)
    );
    assert_eq!(field("From"), None, "the service picks the sender");

    let sid = id_of(&scheduled);
    let canceled = twilio_call(&rt, "cancel", json!({"id": sid}))
        .await
        .expect("cancel");
    assert_eq!(canceled["status"], "canceled");
    let cancel = mock.requests().last().expect("request").clone();
    assert_eq!(cancel.method, "POST");
    assert!(cancel.path.ends_with(&format!("/Messages/{sid}.json")));
    assert_eq!(
        form_of(&cancel),
        vec![("Status".to_string(), "canceled".to_string())]
    );
    assert_eq!(mock.status_of(&sid), Some("canceled"));
}

/// 429 is retried after Twilio's Retry-After, 5xx with backoff; when retries run out the
/// error is Twilio's, retryable; a Retry-After beyond a minute is returned, not waited for.
#[tokio::test]
async fn twilio_retries_rate_limits_and_outages() {
    let mock = MockTwilio::start().await;
    let rt = twilio_runtime(&mock, &[]).await;
    let send = || {
        twilio_call(
            &rt,
            "send",
            json!({"message": sms("+15558675310", "retry me")}),
        )
    };

    mock.fail_next_with_retry_after(1, 429, 20429, "Too Many Requests", Some("1"));
    let start = std::time::Instant::now();
    send().await.expect("sent after the rate limit");
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured: {:?}",
        start.elapsed()
    );
    assert_eq!(mock.requests().len(), 2);
    assert_eq!(mock.messages().len(), 1);

    mock.fail_next(2, 503, 20503, "Service Unavailable");
    send().await.expect("sent after two outages");
    assert_eq!(mock.requests().len(), 5);
    assert_eq!(mock.messages().len(), 2);

    mock.fail_next(4, 500, 20500, "Internal Server Error");
    let err = twilio_err(send().await);
    assert_eq!(err.kind, ErrorKind::Unavailable, "{err:?}");
    assert!(err.retryable);
    assert_eq!(err.provider_code.as_deref(), Some("20500"));
    assert_eq!(
        err.provider_message.as_deref(),
        Some("Internal Server Error")
    );
    assert_eq!(mock.requests().len(), 9, "one attempt and three retries");

    mock.fail_next_with_retry_after(1, 429, 20429, "Too Many Requests", Some("120"));
    let start = std::time::Instant::now();
    let err = twilio_err(send().await);
    assert!(start.elapsed() < Duration::from_secs(5), "not waited for");
    assert_eq!(err.kind, ErrorKind::RateLimited, "{err:?}");
    assert_eq!(err.retry_after_ms, Some(120_000));
    assert_eq!(err.provider_code.as_deref(), Some("20429"));
    assert_eq!(mock.messages().len(), 2, "nothing sent twice");
}

/// Twilio's error bodies become the shared kinds with Twilio's code and message.
#[tokio::test]
async fn twilio_maps_its_errors() {
    let mock = MockTwilio::start().await;
    let rt = twilio_runtime(&mock, &[]).await;

    let mut m = sms("+15558675310", "x");
    m["sender"] = json!("+15005550007");
    let err = twilio_err(twilio_call(&rt, "send", json!({ "message": m })).await);
    expect_error(&err, ErrorKind::InvalidInput, "sender");
    assert_eq!(err.provider_code.as_deref(), Some("21606"));
    assert!(err
        .provider_message
        .is_some_and(|m| m.contains("+15005550007")));

    m["sender"] = json!("+15005550008");
    let err = twilio_err(twilio_call(&rt, "send", json!({ "message": m })).await);
    assert_eq!(err.kind, ErrorKind::RateLimited, "{err:?}");
    assert_eq!(err.provider_code.as_deref(), Some("21611"));

    let err = twilio_err(
        twilio_call(
            &rt,
            "status",
            json!({"id": "SM0123456789abcdef0123456789abcdef"}),
        )
        .await,
    );
    expect_error(&err, ErrorKind::NotFound, "id");
    assert_eq!(err.provider_code.as_deref(), Some("20404"));

    // A wrong auth token: unauthorized with Twilio's 20003, and health says so.
    let wrong = runtime(vec![(
        TENANT,
        Service::Notification,
        BindingSpec::new(ComponentSource::path(component("notification-twilio")))
            .config("account_sid", mock.account_sid())
            .config("base_url", mock.base_url())
            .config("from", VALID_FROM)
            .allow(&mock.base_url())
            .expect("allow")
            .credential(&CredentialConfig {
                host: mock.base_url(),
                secret: SecretSource::Value("not-the-token".into()),
                inject: Injection::Basic {
                    username: mock.account_sid(),
                },
            })
            .expect("credential"),
    )])
    .await;
    let err =
        twilio_err(twilio_call(&wrong, "send", json!({"message": sms("+15558675310", "x")})).await);
    assert_eq!(err.kind, ErrorKind::Unauthorized, "{err:?}");
    assert!(!err.retryable);
    assert_eq!(err.provider_code.as_deref(), Some("20003"));
    let h = twilio_call(&wrong, "health", json!({}))
        .await
        .expect("health");
    assert_eq!(h["ok"], false, "{h}");
    assert!(h["detail"].as_str().unwrap_or("").contains("20003"), "{h}");
    assert!(mock.messages().is_empty());
}

/// What Twilio cannot carry is refused before any request; scheduling needs a Messaging
/// Service and Twilio's window.
#[tokio::test]
async fn twilio_refuses_what_it_cannot_carry() {
    let mock = MockTwilio::start().await;
    let rt = twilio_runtime(&mock, &[]).await;
    let mut cases: Vec<(Value, ErrorKind, &str)> = Vec::new();
    let mut m = sms("+15558675310", "x");
    m["data"] = json!("{\"deep_link\": \"/x\"}");
    cases.push((m, ErrorKind::Unsupported, "data"));
    let mut m = sms("+15558675310", "x");
    m["metadata"] = json!([["k", "v"]]);
    cases.push((m, ErrorKind::Unsupported, "metadata"));
    let mut m = sms("+15558675310", "x");
    m["idempotency-key"] = json!("k1");
    cases.push((m, ErrorKind::Unsupported, "idempotency-key"));
    for (ahead, kind) in [
        (10 * 60, ErrorKind::InvalidInput),
        (36 * 24 * 3600, ErrorKind::InvalidInput),
    ] {
        let mut m = sms("+15558675310", "x");
        m["send-at"] = json!({"seconds": now_secs() + ahead, "nanoseconds": 0});
        cases.push((m, kind, "send-at"));
    }
    cases.push((
        json!({"channel": "in-app", "to": "user_42", "body": "x"}),
        ErrorKind::Unsupported,
        "in-app",
    ));
    for (m, kind, field) in cases {
        let err = twilio_err(twilio_call(&rt, "send", json!({ "message": m })).await);
        assert_eq!(err.kind, kind, "{m}: {err:?}");
        assert!(err.message.contains(field), "{m}: {}", err.message);
    }
    assert!(mock.requests().is_empty(), "nothing reached Twilio");

    // Without a Messaging Service nothing can be scheduled.
    let rt = runtime(vec![(
        TENANT,
        Service::Notification,
        BindingSpec::new(ComponentSource::path(component("notification-twilio")))
            .config("account_sid", mock.account_sid())
            .config("base_url", mock.base_url())
            .config("from", VALID_FROM)
            .allow(&mock.base_url())
            .expect("allow")
            .credential(&CredentialConfig {
                host: mock.base_url(),
                secret: SecretSource::Value(mock.auth_token()),
                inject: Injection::Basic {
                    username: mock.account_sid(),
                },
            })
            .expect("credential"),
    )])
    .await;
    let mut m = sms("+15558675310", "x");
    m["send-at"] = json!({"seconds": now_secs() + 3600, "nanoseconds": 0});
    let err = twilio_err(twilio_call(&rt, "send", json!({ "message": m })).await);
    expect_error(&err, ErrorKind::Unsupported, "messaging_service_sid");
    assert!(mock.requests().is_empty());
}

/// Failures after acceptance carry Twilio's error code and message.
#[tokio::test]
async fn twilio_reports_failures_after_acceptance() {
    use switchyard_tests::mock::twilio::Outcome;
    let mock = MockTwilio::start().await;
    mock.set_outcome(
        "+15558675399",
        Outcome::Failed(30008, "Unknown error".into()),
    );
    let rt = twilio_runtime(&mock, &[]).await;
    let s = twilio_call(&rt, "send", json!({"message": sms("+15558675399", "x")}))
        .await
        .expect("send");
    assert_eq!(s["status"], "queued");
    let s = twilio_call(&rt, "status", json!({"id": id_of(&s)}))
        .await
        .expect("status");
    assert_eq!(s["status"], "failed", "{s}");
    assert_eq!(s["provider-code"], "30008");
    assert_eq!(s["reason"], "Unknown error");
    assert_eq!(s["sent-at"], Value::Null);
}

/// `list` leaves inbound messages out and filters by status itself across Twilio's pages,
/// with cursors that resume inside a page.
#[tokio::test]
async fn twilio_lists_outbound_and_filters_by_status() {
    let mock = MockTwilio::start().await;
    let rt = twilio_runtime(&mock, &[]).await;
    let mut undelivered = Vec::new();
    for i in 0..7 {
        let to = if i % 3 == 0 {
            "+15005550005"
        } else {
            "+15558675310"
        };
        let s = twilio_call(&rt, "send", json!({"message": sms(to, &format!("m{i}"))}))
            .await
            .expect("send");
        if i % 3 == 0 {
            undelivered.push(id_of(&s));
        }
    }
    mock.receive("+15558675399", VALID_FROM, "an inbound reply");
    assert_eq!(mock.messages().len(), 8);

    let all = twilio_call(&rt, "list", json!({"query": {}, "page": {"limit": 100}}))
        .await
        .expect("list");
    assert_eq!(all["messages"].as_array().map(Vec::len), Some(7), "{all}");

    // One at a time: the adapter reads Twilio pages of 50 and resumes inside them.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = twilio_call(
            &rt,
            "list",
            json!({"query": {"status": "undelivered"}, "page": {"cursor": cursor, "limit": 1}}),
        )
        .await
        .expect("list");
        for m in page["messages"].as_array().expect("messages") {
            assert_eq!(m["status"], "undelivered");
            assert_eq!(m["provider-code"], "30003");
            seen.push(id_of(m));
        }
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
        assert!(seen.len() <= 3, "paging does not end");
    }
    undelivered.reverse();
    assert_eq!(seen, undelivered, "each once, newest first");

    let email = twilio_call(
        &rt,
        "list",
        json!({"query": {"channel": "email"}, "page": {}}),
    )
    .await
    .expect("list");
    assert_eq!(email["messages"], json!([]));
    for junk in ["../../etc", "1-2-0-PA/x", "0-0-0-"] {
        let err = twilio_err(
            twilio_call(&rt, "list", json!({"query": {}, "page": {"cursor": junk}})).await,
        );
        expect_error(&err, ErrorKind::InvalidInput, "cursor");
    }
}

/// The demo's hot swap, checked: a tenant moves from the embedded default to Twilio while
/// sends stream in, with no restart, and every send is answered by one or the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_moves_from_the_embedded_default_to_twilio_while_sends_stream_in() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mock = MockTwilio::start().await;
    let rt = runtime(vec![(
        TENANT,
        Service::Notification,
        local_spec(&tmp.path().join(TENANT), &[]),
    )])
    .await;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    // Sends stream in until the swap has landed and ten more have followed it, however
    // long the swap takes on a loaded machine (it compiles a component).
    let (sent, swapped) = (AtomicUsize::new(0), AtomicBool::new(false));
    let stream = async {
        let mut ids = Vec::new();
        let mut after = 0;
        for i in 0..10_000 {
            if swapped.load(SeqCst) {
                after += 1;
                if after > 10 {
                    break;
                }
            }
            let answer = rt
                .invoke_json(
                    TENANT,
                    Service::Notification,
                    "send",
                    json!({"message": sms("+15558675310", &format!("order {i}"))}),
                )
                .await;
            ids.push(answer.map(|v| v["id"].as_str().unwrap_or_default().to_string()));
            sent.fetch_add(1, SeqCst);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ids
    };
    let swap = async {
        while sent.load(SeqCst) < 20 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        rt.rebind(TENANT, Service::Notification, twilio_spec(&mock, &[]))
            .await
            .expect("swap to Twilio");
        swapped.store(true, SeqCst);
    };
    let (ids, ()) = tokio::join!(stream, swap);
    let failed: Vec<_> = ids.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "sends lost in the swap: {failed:?}");
    let local = ids
        .iter()
        .flatten()
        .filter(|id| id.starts_with("msg_"))
        .count();
    let twilio = ids
        .iter()
        .flatten()
        .filter(|id| id.starts_with("SM"))
        .count();
    assert_eq!(local + twilio, ids.len(), "{ids:?}");
    assert!(
        local >= 20 && twilio >= 10,
        "{local} local, {twilio} Twilio"
    );
    assert_eq!(
        mock.messages().len(),
        twilio,
        "Twilio got exactly the later sends"
    );
    let adapter = rt
        .bindings()
        .into_iter()
        .find(|b| b.tenant == TENANT)
        .map(|b| b.adapter);
    assert_eq!(adapter.as_deref(), Some("notification-twilio"));
}
