//! The monitoring contract's behaviour suite, through the JSON gateway, for every provider:
//! today the host's in-memory monitoring (`monitoring-host` with `backend = "memory"`), whose
//! metrics the server serves at `/metrics` ([`Runtime::prometheus_metrics`]).

use serde_json::{json, Value};
use switchyard_host::{Backend, BindingSpec, ComponentSource, ErrorKind, Service};

use crate::support::{component, expect_error, runtime, Contract};

const TENANT: &str = "acme";

/// Which provider a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The host's in-memory monitoring behind the `monitoring-host` bridge.
    Memory,
}

/// The binding of `kind`.
pub fn spec(kind: Kind) -> BindingSpec {
    match kind {
        Kind::Memory => BindingSpec::new(ComponentSource::path(component("monitoring-host")))
            .backend(Backend::Memory),
    }
}

async fn provider(kind: Kind) -> Contract {
    let rt = runtime(vec![
        (TENANT, Service::Monitoring, spec(kind)),
        ("globex", Service::Monitoring, spec(kind)),
    ])
    .await;
    Contract {
        rt,
        service: Service::Monitoring,
        tenant: TENANT,
    }
}

async fn metrics(p: &Contract, prefix: &str) -> Vec<Value> {
    p.ok("metrics", json!({"prefix": prefix}))
        .await
        .as_array()
        .expect("metrics")
        .clone()
}

async fn counters_and_gauges_keep_series_per_tags(p: &Contract) {
    for _ in 0..3 {
        p.ok(
            "increment",
            json!({"name": "requests_total", "value": 1, "tags": [["route", "/a"]]}),
        )
        .await;
    }
    p.ok(
        "increment",
        json!({"name": "requests_total", "value": 2.5, "tags": [["route", "/b"]]}),
    )
    .await;
    p.ok(
        "gauge",
        json!({"name": "queue_depth", "value": 7, "tags": []}),
    )
    .await;
    p.ok(
        "gauge",
        json!({"name": "queue_depth", "value": 3, "tags": []}),
    )
    .await;
    let got = metrics(p, "requests").await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["tags"], json!([["route", "/a"]]));
    assert_eq!(got[0]["kind"], "counter");
    assert_eq!(got[0]["value"], 3.0);
    assert_eq!(got[1]["value"], 2.5);
    let depth = metrics(p, "queue_depth").await;
    assert_eq!(depth[0]["value"], 3.0, "a gauge keeps the last value");
    // Tag order does not make another series.
    p.ok(
        "increment",
        json!({"name": "hits", "value": 1, "tags": [["a", "1"], ["b", "2"]]}),
    )
    .await;
    p.ok(
        "increment",
        json!({"name": "hits", "value": 1, "tags": [["b", "2"], ["a", "1"]]}),
    )
    .await;
    let hits = metrics(p, "hits").await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["value"], 2.0);
}

async fn histograms_count_observations_in_buckets(p: &Contract) {
    for v in [0.003, 0.2, 0.2, 3.0, 42.0] {
        p.ok(
            "histogram",
            json!({"name": "latency_seconds", "value": v, "tags": []}),
        )
        .await;
    }
    let h = &metrics(p, "latency").await[0];
    assert_eq!(h["kind"], "histogram");
    assert_eq!(h["count"], 5);
    assert!((h["value"].as_f64().expect("sum") - 45.403).abs() < 1e-9);
    let buckets: Vec<(f64, u64)> = serde_json::from_value(h["buckets"].clone()).expect("buckets");
    let at = |bound: f64| buckets.iter().find(|(b, _)| *b == bound).map(|(_, c)| *c);
    assert_eq!(at(0.005), Some(1));
    assert_eq!(at(0.25), Some(3));
    assert_eq!(at(5.0), Some(4));
    assert_eq!(at(10.0), Some(4), "42 is only in +Inf (the count)");
}

async fn summaries_report_quantiles(p: &Contract) {
    for v in 1..=100 {
        p.ok(
            "summary",
            json!({"name": "payload_bytes", "value": v, "tags": []}),
        )
        .await;
    }
    let s = &metrics(p, "payload").await[0];
    assert_eq!(s["count"], 100);
    assert_eq!(s["value"], 5050.0);
    assert_eq!(
        s["quantiles"],
        json!([[0.5, 50.0], [0.9, 90.0], [0.99, 99.0]])
    );
}

async fn refuses_bad_metrics_and_keeps_the_rest(p: &Contract) {
    p.ok(
        "increment",
        json!({"name": "jobs_total", "value": 1, "tags": []}),
    )
    .await;
    let conflict = p
        .err(
            "gauge",
            json!({"name": "jobs_total", "value": 1, "tags": []}),
        )
        .await;
    expect_error(&conflict, ErrorKind::Conflict, "jobs_total");
    for (function, args, names) in [
        (
            "increment",
            json!({"name": "jobs_total", "value": -1, "tags": []}),
            "counter",
        ),
        (
            "increment",
            json!({"name": "", "value": 1, "tags": []}),
            "metric name",
        ),
        (
            "increment",
            json!({"name": "9lives", "value": 1, "tags": []}),
            "metric name",
        ),
        (
            "increment",
            json!({"name": "has-dash", "value": 1, "tags": []}),
            "metric name",
        ),
        (
            "gauge",
            json!({"name": "g", "value": 1, "tags": [["bad-name", "v"]]}),
            "bad-name",
        ),
        (
            "gauge",
            json!({"name": "g", "value": 1, "tags": [["tenant", "globex"]]}),
            "tenant",
        ),
        (
            "gauge",
            json!({"name": "g", "value": 1, "tags": [["a", "1"], ["a", "2"]]}),
            "twice",
        ),
        (
            "gauge",
            json!({"name": "g", "value": 1, "tags": (0..17).map(|i| [format!("t{i}"), "v".to_string()]).collect::<Vec<_>>()}),
            "16",
        ),
    ] {
        let err = p.err(function, args.clone()).await;
        expect_error(&err, ErrorKind::InvalidInput, names);
    }
    let got = metrics(p, "").await;
    assert_eq!(got.len(), 1, "nothing but the first counter: {got:?}");
    assert_eq!(got[0]["value"], 1.0);
}

async fn spans_form_traces(p: &Contract) {
    let root = p
        .ok(
            "start-span",
            json!({"name": "GET /orders", "tags": [["http_method", "GET"]]}),
        )
        .await;
    assert_eq!(root["parent-id"], Value::Null);
    assert_eq!(root["status"], "unset");
    let child = p
        .ok(
            "start-span",
            json!({"name": "db.query", "parent": root["span-id"], "tags": []}),
        )
        .await;
    assert_eq!(child["trace-id"], root["trace-id"]);
    assert_eq!(child["parent-id"], root["span-id"]);
    let other = p
        .ok("start-span", json!({"name": "other", "tags": []}))
        .await;
    assert_ne!(
        other["trace-id"], root["trace-id"],
        "no parent: a new trace"
    );
    let ended = p
        .ok(
            "end-span",
            json!({"span-id": child["span-id"], "status": "error", "tags": [["rows", "0"]]}),
        )
        .await;
    assert_eq!(ended["status"], "error");
    assert!(ended["duration-ms"].as_f64().is_some_and(|d| d >= 0.0));
    assert!(ended["ended-at"].is_object());
    let again = p
        .err(
            "end-span",
            json!({"span-id": child["span-id"], "status": "ok", "tags": []}),
        )
        .await;
    expect_error(&again, ErrorKind::Conflict, "ended");
    p.ok(
        "end-span",
        json!({"span-id": root["span-id"], "status": "ok", "tags": []}),
    )
    .await;
    let trace = p.ok("trace", json!({"trace-id": root["trace-id"]})).await;
    let names: Vec<&str> = trace
        .as_array()
        .expect("spans")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, vec!["GET /orders", "db.query"]);
    let orphan = p
        .err(
            "start-span",
            json!({"name": "x", "parent": "nope", "tags": []}),
        )
        .await;
    expect_error(&orphan, ErrorKind::NotFound, "nope");
    let unknown = p.err("trace", json!({"trace-id": "nope"})).await;
    assert_eq!(unknown.kind, ErrorKind::NotFound);
}

async fn errors_carry_tags_user_and_breadcrumbs(p: &Contract) {
    let span = p
        .ok("start-span", json!({"name": "checkout", "tags": []}))
        .await;
    p.ok(
        "add-breadcrumb",
        json!({"breadcrumb": {"category": "navigation", "message": "/cart", "level": "info"}}),
    )
    .await;
    p.ok("add-breadcrumb", json!({"breadcrumb": {"category": "http", "message": "POST /pay", "level": "warning", "data": {"status": 502}}}))
        .await;
    let event = json!({
        "kind": "PaymentError", "message": "gateway timeout", "causes": ["upstream 502"],
        "stack": "at pay (pay.js:3)", "level": "fatal", "tags": [["release", "1.2.0"]],
        "user": {"id": "u1", "email": "ada@example.com"},
        "breadcrumbs": [{"category": "ui", "message": "clicked pay", "level": "info"}],
        "span-id": span["span-id"], "extra": {"cart": 3}
    });
    let id = p.ok("capture-error", json!({"event": event})).await;
    let page = p.ok("errors", json!({"page": {}})).await;
    assert_eq!(page["page"]["total"], 1);
    let captured = &page["items"][0];
    assert_eq!(captured["id"], id);
    assert_eq!(captured["trace-id"], span["trace-id"]);
    let e = &captured["event"];
    assert_eq!(e["kind"], "PaymentError");
    assert_eq!(e["causes"], json!(["upstream 502"]));
    assert_eq!(e["level"], "fatal");
    assert_eq!(e["tags"], json!([["release", "1.2.0"]]));
    assert_eq!(e["user"]["email"], "ada@example.com");
    let crumbs: Vec<&str> = e["breadcrumbs"]
        .as_array()
        .expect("breadcrumbs")
        .iter()
        .map(|b| b["message"].as_str().expect("message"))
        .collect();
    assert_eq!(
        crumbs,
        vec!["/cart", "POST /pay", "clicked pay"],
        "the tenant's, then the event's own"
    );
    assert!(
        e["breadcrumbs"][0]["at"].is_object(),
        "breadcrumbs get a time"
    );
    for (event, names) in [
        (
            json!({"kind": "", "message": "m", "causes": [], "tags": [], "breadcrumbs": []}),
            "kind",
        ),
        (
            json!({"kind": "K", "message": "m", "causes": [], "tags": [], "breadcrumbs": [], "extra": "[1]"}),
            "extra",
        ),
        (
            json!({"kind": "K", "message": "m", "causes": [], "tags": [], "breadcrumbs": [{"category": "", "message": "x", "level": "info"}]}),
            "category",
        ),
    ] {
        let err = p.err("capture-error", json!({"event": event})).await;
        expect_error(&err, ErrorKind::InvalidInput, names);
    }
    assert_eq!(
        p.ok("errors", json!({"page": {}})).await["page"]["total"],
        1
    );
}

async fn health_checks_are_reported(p: &Contract) {
    p.ok(
        "report-health",
        json!({"name": "db", "ok": true, "detail": "2 ms"}),
    )
    .await;
    p.ok(
        "report-health",
        json!({"name": "cache", "ok": false, "detail": "timeout"}),
    )
    .await;
    p.ok(
        "report-health",
        json!({"name": "db", "ok": false, "detail": "down"}),
    )
    .await;
    let checks = p.ok("health-checks", json!({})).await;
    assert_eq!(checks[0]["name"], "cache");
    assert_eq!(checks[1]["name"], "db");
    assert_eq!(checks[1]["ok"], false, "the last report wins");
    assert_eq!(checks[1]["detail"], "down");
    let err = p
        .err(
            "report-health",
            json!({"name": "", "ok": true, "detail": ""}),
        )
        .await;
    expect_error(&err, ErrorKind::InvalidInput, "name");
    let health = p.ok("health", json!({})).await;
    assert_eq!(health["ok"], true);
    assert!(health["detail"]
        .as_str()
        .is_some_and(|d| d.contains("2 failing")));
}

async fn metrics_are_served_in_prometheus_text(p: &Contract) {
    p.ok(
        "increment",
        json!({"name": "requests_total", "value": 3, "tags": [["route", "/a\"b"]]}),
    )
    .await;
    p.ok(
        "histogram",
        json!({"name": "latency_seconds", "value": 0.2, "tags": []}),
    )
    .await;
    p.ok("summary", json!({"name": "size", "value": 10, "tags": []}))
        .await;
    p.call_as(
        "globex",
        "gauge",
        json!({"name": "requests_total", "value": 1, "tags": []}),
    )
    .await
    .expect("globex gauge");
    let text = p.rt.prometheus_metrics();
    for line in [
        "# TYPE requests_total counter",
        "requests_total{tenant=\"acme\",route=\"/a\\\"b\"} 3",
        "# TYPE requests_total_gauge gauge",
        "requests_total_gauge{tenant=\"globex\"} 1",
        "# TYPE latency_seconds histogram",
        "latency_seconds_bucket{tenant=\"acme\",le=\"0.25\"} 1",
        "latency_seconds_bucket{tenant=\"acme\",le=\"0.1\"} 0",
        "latency_seconds_bucket{tenant=\"acme\",le=\"+Inf\"} 1",
        "latency_seconds_count{tenant=\"acme\"} 1",
        "# TYPE size summary",
        "size{tenant=\"acme\",quantile=\"0.5\"} 10",
        "size_sum{tenant=\"acme\"} 10",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
    // Each tenant reads only its own through the contract.
    let theirs = p
        .call_as("globex", "metrics", json!({}))
        .await
        .expect("metrics");
    assert_eq!(theirs.as_array().map(Vec::len), Some(1));
}

async fn state_survives_a_swap(p: &Contract) {
    p.ok(
        "increment",
        json!({"name": "kept_total", "value": 1, "tags": []}),
    )
    .await;
    p.rt.swap(
        TENANT,
        Service::Monitoring,
        ComponentSource::path(component("monitoring-host")),
    )
    .await
    .expect("swap");
    p.ok(
        "increment",
        json!({"name": "kept_total", "value": 1, "tags": []}),
    )
    .await;
    assert_eq!(metrics(p, "kept").await[0]["value"], 2.0);
}

/// Runs every check against each provider: `suite!(module_name => Kind::X, ...)`.
macro_rules! suite {
    ($($module:ident => $kind:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            suite!(@checks $kind;
                counters_and_gauges_keep_series_per_tags,
                histograms_count_observations_in_buckets,
                summaries_report_quantiles,
                refuses_bad_metrics_and_keeps_the_rest,
                spans_form_traces,
                errors_carry_tags_user_and_breadcrumbs,
                health_checks_are_reported,
                metrics_are_served_in_prometheus_text,
                state_survives_a_swap,
            );
        }
    )*};
    (@checks $kind:expr; $($check:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $check() {
            super::$check(&provider($kind).await).await;
        }
    )*};
}

suite!(memory => Kind::Memory);
