//! Monitoring with `sentry_dsn`: captured errors and finished traces reach (mock) Sentry as real
//! envelopes, through the `sentry` client, per tenant and project; the contract keeps working
//! in memory as without Sentry.

use std::time::Duration;

use serde_json::{json, Value};
use switchyard_host::{Backend, BindingSpec, ComponentSource, Error, Runtime, Service};
use switchyard_tests::mock::sentry::{MockSentry, KEY, PROJECT};

use crate::support::{component, options, runtime, Contract};

/// How long the client's background thread may take to deliver.
const WAIT: Duration = Duration::from_secs(10);

/// A monitoring binding with `config`.
fn spec(config: &[(&str, &str)]) -> BindingSpec {
    let mut spec = BindingSpec::new(ComponentSource::path(component("monitoring-host")))
        .backend(Backend::Memory);
    for (k, v) in config {
        spec = spec.backend_config(*k, *v);
    }
    spec
}

async fn contract(bindings: Vec<(&str, BindingSpec)>) -> Contract {
    let rt = runtime(
        bindings
            .into_iter()
            .map(|(tenant, spec)| (tenant, Service::Monitoring, spec))
            .collect(),
    )
    .await;
    Contract {
        rt,
        service: Service::Monitoring,
        tenant: "acme",
    }
}

fn texts<'a>(values: &'a Value, field: &str) -> Vec<&'a str> {
    values
        .as_array()
        .map(|a| a.iter().filter_map(|v| v[field].as_str()).collect())
        .unwrap_or_default()
}

/// Captures a minimal error as `tenant` and answers its id.
async fn capture(p: &Contract, tenant: &str, message: &str) -> String {
    let event =
        json!({"kind": "Marker", "message": message, "causes": [], "tags": [], "breadcrumbs": []});
    let id = p
        .call_as(tenant, "capture-error", json!({"event": event}))
        .await
        .expect("capture-error");
    id.as_str().expect("id").to_string()
}

#[tokio::test]
async fn errors_arrive_as_events_with_their_context() {
    let sentry = MockSentry::start().await;
    let p = contract(vec![(
        "acme",
        spec(&[
            ("sentry_dsn", &sentry.dsn(PROJECT)),
            ("sentry_environment", "staging"),
            ("sentry_release", "shop@1.2.0"),
        ]),
    )])
    .await;
    let root = p
        .ok("start-span", json!({"name": "checkout", "tags": []}))
        .await;
    let span = p
        .ok(
            "start-span",
            json!({"name": "pay", "parent": root["span-id"], "tags": []}),
        )
        .await;
    p.ok(
        "add-breadcrumb",
        json!({"breadcrumb": {"category": "navigation", "message": "/cart", "level": "info"}}),
    )
    .await;
    p.ok("add-breadcrumb", json!({"breadcrumb": {"category": "http", "message": "POST /pay", "level": "warning", "data": {"status": 502}}}))
        .await;
    let event = json!({
        "kind": "PaymentError", "message": "gateway timeout",
        "causes": ["upstream 502", "connection reset"],
        "stack": "at pay (pay.js:3)", "level": "fatal", "tags": [["shop", "eu"]],
        "user": {"id": "u1", "email": "ada@example.com", "username": "ada", "ip-address": "203.0.113.7"},
        "breadcrumbs": [{"category": "checkout-step", "message": "clicked pay", "level": "info"}],
        "span-id": span["span-id"], "extra": {"cart": 3}
    });
    let id = p.ok("capture-error", json!({"event": event})).await;

    let items = sentry.wait_for_items(1, WAIT).await.expect("the event");
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!((item.item_type.as_str(), item.project), ("event", PROJECT));
    let e = item.body();
    assert_eq!(
        e["event_id"], id,
        "the event id is the id the contract answered"
    );
    assert_eq!(
        e["exception"]["values"],
        json!([
            {"type": "cause", "value": "connection reset"},
            {"type": "cause", "value": "upstream 502"},
            {"type": "PaymentError", "value": "gateway timeout"},
        ]),
        "causes first, innermost first; the error itself last"
    );
    assert_eq!(e["level"], "fatal");
    assert_eq!(e["tags"], json!({"shop": "eu", "tenant": "acme"}));
    assert_eq!(
        e["user"],
        json!({"id": "u1", "email": "ada@example.com", "username": "ada", "ip_address": "203.0.113.7"})
    );
    let crumbs = &e["breadcrumbs"]["values"];
    assert_eq!(
        texts(crumbs, "message"),
        vec!["/cart", "POST /pay", "clicked pay"],
        "the tenant's breadcrumbs, then the event's own"
    );
    assert_eq!(
        texts(crumbs, "type"),
        vec!["navigation", "http"],
        "a category Sentry does not know stays `default` (left out)"
    );
    assert_eq!(crumbs[1]["level"], "warning");
    assert_eq!(crumbs[1]["data"], json!({"status": 502}));
    assert_eq!(crumbs[2]["category"], "checkout-step");
    assert!(crumbs[0]["timestamp"].as_f64().is_some_and(|t| t > 1.7e9));
    assert_eq!(e["extra"], json!({"cart": 3, "stack": "at pay (pay.js:3)"}));
    let trace = &e["contexts"]["trace"];
    assert_eq!(trace["trace_id"], span["trace-id"]);
    assert_eq!(trace["span_id"], span["span-id"]);
    assert_eq!(trace["parent_span_id"], root["span-id"]);
    assert_eq!(trace["op"], "pay");
    assert_eq!(e["environment"], "staging");
    assert_eq!(e["release"], "shop@1.2.0");
    assert_eq!(
        e.get("platform"),
        None,
        "platform `other` (the default, left out), not `native`"
    );

    // Real Sentry auth on the wire.
    let request = &sentry.requests()[0];
    assert_eq!(request.path, format!("/api/{PROJECT}/envelope/"));
    let auth = request.header("x-sentry-auth").expect("auth header");
    assert!(
        auth.contains(&format!("sentry_key={KEY}")) && auth.contains("sentry_version=7"),
        "{auth}"
    );

    // And the contract kept it in memory as ever.
    let page = p.ok("errors", json!({"page": {}})).await;
    assert_eq!(page["items"][0]["id"], id);
    assert_eq!(page["items"][0]["trace-id"], span["trace-id"]);

    // An error without a known span gets a trace of its own, not a shared one.
    let a = capture(&p, "acme", "a").await;
    let b = capture(&p, "acme", "b").await;
    sentry
        .wait_for_items(3, WAIT)
        .await
        .expect("two more events");
    let events = sentry.events();
    let trace_of = |id: &str| {
        events
            .iter()
            .find(|e| e["event_id"] == id)
            .map(|e| e["contexts"]["trace"]["trace_id"].clone())
            .expect("event")
    };
    assert_ne!(trace_of(&a), trace_of(&b));
    assert_eq!(
        events[1].get("level"),
        None,
        "level error is Sentry's default"
    );
}

#[tokio::test]
async fn a_root_span_sends_a_transaction_with_its_children() {
    let sentry = MockSentry::start().await;
    let p = contract(vec![(
        "acme",
        spec(&[("sentry_dsn", &sentry.dsn(PROJECT))]),
    )])
    .await;
    let root = p
        .ok(
            "start-span",
            json!({"name": "GET /orders", "tags": [["http_method", "GET"]]}),
        )
        .await;
    let db = p
        .ok(
            "start-span",
            json!({"name": "db.query", "parent": root["span-id"], "tags": [["table", "orders"]]}),
        )
        .await;
    let row = p
        .ok(
            "start-span",
            json!({"name": "decode", "parent": db["span-id"], "tags": []}),
        )
        .await;
    let late = p
        .ok(
            "start-span",
            json!({"name": "late", "parent": root["span-id"], "tags": []}),
        )
        .await;
    p.ok(
        "end-span",
        json!({"span-id": row["span-id"], "status": "ok", "tags": []}),
    )
    .await;
    p.ok(
        "end-span",
        json!({"span-id": db["span-id"], "status": "error", "tags": [["rows", "0"]]}),
    )
    .await;
    assert_eq!(sentry.count(), 0, "children alone send nothing");
    p.ok(
        "end-span",
        json!({"span-id": root["span-id"], "status": "ok", "tags": [["status_code", "200"]]}),
    )
    .await;
    let items = sentry
        .wait_for_items(1, WAIT)
        .await
        .expect("the transaction");
    assert_eq!(items[0].item_type, "transaction");
    let t = items[0].body();
    assert_eq!(t["transaction"], "GET /orders");
    assert_eq!(
        t["tags"],
        json!({"http_method": "GET", "status_code": "200", "tenant": "acme"})
    );
    let trace = &t["contexts"]["trace"];
    assert_eq!(trace["trace_id"], root["trace-id"]);
    assert_eq!(trace["span_id"], root["span-id"]);
    assert_eq!(trace["op"], "GET /orders");
    assert_eq!(trace["status"], "ok");
    assert_eq!(trace.get("parent_span_id"), None);
    assert!(t["start_timestamp"].as_f64().is_some_and(|s| s > 1.7e9));
    assert!(
        t["timestamp"].is_string(),
        "the end, in RFC 3339: {}",
        t["timestamp"]
    );

    let spans = t["spans"].as_array().expect("spans");
    assert_eq!(
        spans.len(),
        2,
        "the ended children, not the open one: {spans:?}"
    );
    let (d, r) = (&spans[0], &spans[1]);
    assert_eq!(d["span_id"], db["span-id"]);
    assert_eq!(d["trace_id"], root["trace-id"]);
    assert_eq!(d["parent_span_id"], root["span-id"]);
    assert_eq!(
        (d["op"].as_str(), d["description"].as_str()),
        (Some("db.query"), Some("db.query"))
    );
    assert_eq!(d["status"], "internal_error");
    assert_eq!(d["tags"], json!({"rows": "0", "table": "orders"}));
    assert!(d["start_timestamp"].as_f64().is_some() && d["timestamp"].is_string());
    assert_eq!(r["span_id"], row["span-id"]);
    assert_eq!(r["parent_span_id"], db["span-id"]);
    assert_eq!(r["status"], "ok");

    // A child ending after its root is kept in memory but not sent (see native::sentry).
    p.ok(
        "end-span",
        json!({"span-id": late["span-id"], "status": "ok", "tags": []}),
    )
    .await;
    capture(&p, "acme", "marker").await;
    sentry.wait_for_items(2, WAIT).await.expect("the marker");
    assert_eq!(sentry.transactions().len(), 1);
    let trace = p.ok("trace", json!({"trace-id": root["trace-id"]})).await;
    assert_eq!(trace.as_array().map(Vec::len), Some(4));
}

#[tokio::test]
async fn tenants_land_in_their_own_projects() {
    let sentry = MockSentry::start_with_projects(&[(1, "acmekey"), (2, "globexkey")]).await;
    let p = contract(vec![
        ("acme", spec(&[("sentry_dsn", &sentry.dsn(1))])),
        ("globex", spec(&[("sentry_dsn", &sentry.dsn(2))])),
        ("initech", spec(&[])),
    ])
    .await;
    let a = capture(&p, "acme", "from acme").await;
    let g = capture(&p, "globex", "from globex").await;
    capture(&p, "initech", "from initech").await;
    let span = p
        .call_as("globex", "start-span", json!({"name": "job", "tags": []}))
        .await
        .expect("span");
    p.call_as(
        "globex",
        "end-span",
        json!({"span-id": span["span-id"], "status": "ok", "tags": []}),
    )
    .await
    .expect("end");
    let items = sentry.wait_for_items(3, WAIT).await.expect("three items");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let items_now = sentry.items();
    assert_eq!(
        items_now.len(),
        items.len(),
        "nothing more (initech has no DSN)"
    );
    for item in &items_now {
        let body = item.body();
        let tenant = body["tags"]["tenant"].as_str().expect("tenant tag");
        let want = if tenant == "acme" { 1 } else { 2 };
        assert_eq!(
            item.project, want,
            "{tenant}'s item went to project {}",
            item.project
        );
    }
    let in_project = |project: u64| -> Vec<String> {
        items_now
            .iter()
            .filter(|i| i.project == project)
            .map(|i| {
                format!(
                    "{}:{}",
                    i.item_type,
                    i.body()["event_id"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(in_project(1), vec![format!("event:{a}")]);
    assert_eq!(in_project(2).len(), 2);
    assert!(in_project(2).contains(&format!("event:{g}")));
    assert!(
        sentry.requests().iter().all(|r| r.status == 200),
        "every envelope was accepted with its project's key"
    );
}

#[tokio::test]
async fn a_bad_sentry_setting_is_refused_at_load() {
    for (config, names) in [
        (
            vec![("sentry_dsn", "not a dsn")],
            "backend_config.sentry_dsn",
        ),
        (
            vec![("sentry_dsn", "ftp://secretkey@sentry.example.com/1")],
            "backend_config.sentry_dsn",
        ),
        (
            vec![("sentry_dsn", "https://secretkey@sentry.example.com/project")],
            "backend_config.sentry_dsn",
        ),
        (
            vec![("sentry_dsn", "https://sentry.example.com/1")],
            "backend_config.sentry_dsn",
        ),
        (vec![("sentry_dsn", "")], "backend_config.sentry_dsn"),
        (
            vec![
                ("sentry_dsn", "https://secretkey@sentry.example.com/1"),
                ("sentry_environment", "a/b"),
            ],
            "backend_config.sentry_environment",
        ),
        (
            vec![("sentry_release", "1.0")],
            "backend_config.sentry_release",
        ),
    ] {
        let err = Runtime::builder()
            .options(options())
            .binding("acme", Service::Monitoring, spec(&config))
            .build()
            .await
            .err()
            .unwrap_or_else(|| panic!("{config:?} was accepted"));
        let msg = err.to_string();
        assert!(matches!(err, Error::Config { .. }), "{msg}");
        assert!(
            msg.contains(names),
            "{config:?}: the error should name {names}: {msg}"
        );
        assert!(
            !msg.contains("secretkey"),
            "the DSN's key is not repeated: {msg}"
        );
    }
}

#[tokio::test]
async fn rebinding_replaces_or_removes_the_client() {
    let sentry = MockSentry::start_with_projects(&[(1, "one"), (2, "two")]).await;
    let p = contract(vec![("acme", spec(&[("sentry_dsn", &sentry.dsn(1))]))]).await;
    capture(&p, "acme", "to one").await;
    sentry.wait_for_items(1, WAIT).await.expect("first");

    // A swap keeps the client; a rebind with another DSN replaces it.
    p.rt.swap(
        "acme",
        Service::Monitoring,
        ComponentSource::path(component("monitoring-host")),
    )
    .await
    .expect("swap");
    capture(&p, "acme", "still to one").await;
    sentry.wait_for_items(2, WAIT).await.expect("second");
    p.rt.rebind(
        "acme",
        Service::Monitoring,
        spec(&[("sentry_dsn", &sentry.dsn(2))]),
    )
    .await
    .expect("rebind to two");
    capture(&p, "acme", "to two").await;
    sentry.wait_for_items(3, WAIT).await.expect("third");
    let projects: Vec<u64> = sentry.items().iter().map(|i| i.project).collect();
    assert_eq!(projects, vec![1, 1, 2]);

    // A bad DSN is refused and the client in place keeps sending.
    let refused =
        p.rt.rebind("acme", Service::Monitoring, spec(&[("sentry_dsn", "nope")]))
            .await
            .expect_err("refused");
    assert!(
        refused.to_string().contains("backend_config.sentry_dsn"),
        "{refused}"
    );
    capture(&p, "acme", "after the refusal").await;
    sentry.wait_for_items(4, WAIT).await.expect("fourth");
    assert_eq!(sentry.items()[3].project, 2);

    // Without a DSN nothing more is sent; the contract still keeps errors in memory.
    p.rt.rebind("acme", Service::Monitoring, spec(&[]))
        .await
        .expect("rebind without sentry");
    capture(&p, "acme", "kept at home").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sentry.count(), 4, "nothing is sent without a DSN");
    let page = p.ok("errors", json!({"page": {}})).await;
    assert_eq!(page["page"]["total"], 5);
}
