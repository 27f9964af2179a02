//! The logging contract's behaviour suite, through the JSON gateway, for every provider:
//! today the host's own pipeline (`logging-host` with `backend = "tracing"`). That entries
//! reach the host's `tracing` subscriber is checked in tests/tests/logs.rs (it needs a
//! global subscriber).

use std::collections::BTreeSet;

use serde_json::{json, Value};
use switchyard_host::{Backend, BindingSpec, ComponentSource, ErrorKind, Service};

use crate::support::{component, expect_error, runtime, Contract};

const TENANT: &str = "acme";

/// Which provider a suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The host's tracing pipeline behind the `logging-host` bridge.
    Host,
}

/// The binding of `kind`, with `config`.
pub fn spec(kind: Kind, config: &[(&str, &str)]) -> BindingSpec {
    let mut spec = match kind {
        Kind::Host => BindingSpec::new(ComponentSource::path(component("logging-host")))
            .backend(Backend::Tracing),
    };
    for (k, v) in config {
        spec = spec.backend_config(*k, *v);
    }
    spec
}

async fn provider(kind: Kind, config: &[(&str, &str)]) -> Contract {
    let rt = runtime(vec![
        (TENANT, Service::Logging, spec(kind, config)),
        ("globex", Service::Logging, spec(kind, &[])),
    ])
    .await;
    Contract {
        rt,
        service: Service::Logging,
        tenant: TENANT,
    }
}

fn entry(level: &str, message: &str, fields: Value) -> Value {
    json!({"level": level, "message": message, "fields": fields})
}

async fn log(p: &Contract, logger: Value, e: Value) -> bool {
    p.ok("log", json!({"logger": logger, "entry": e}))
        .await
        .as_bool()
        .expect("log answers a bool")
}

async fn records(p: &Contract, query: Value) -> Vec<Value> {
    let page = p
        .ok("query", json!({"query": query, "page": {"limit": 1000}}))
        .await;
    page["items"].as_array().expect("items").clone()
}

fn fields(record: &Value) -> Value {
    serde_json::from_str(record["fields"].as_str().expect("fields text")).expect("fields JSON")
}

async fn logs_structured_entries_and_reads_them_back(p: &Contract) {
    assert!(
        log(
            p,
            Value::Null,
            entry("info", "order placed", json!({"order": 42, "paid": true}))
        )
        .await
    );
    let got = records(p, json!({})).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["message"], "order placed");
    assert_eq!(got[0]["level"], "info");
    assert_eq!(got[0]["logger"], Value::Null);
    assert_eq!(fields(&got[0]), json!({"order": 42, "paid": true}));
    assert!(got[0]["at"]["seconds"]
        .as_u64()
        .is_some_and(|s| s > 1_700_000_000));
}

async fn child_loggers_inherit_context(p: &Contract) {
    let root = p
        .ok(
            "create-logger",
            json!({"name": "api", "context": {"service": "api", "region": "eu"}}),
        )
        .await;
    let child = p
        .ok(
            "create-logger",
            json!({"name": "api.request", "context": {"region": "us", "request_id": "r1"},
                   "parent": root["id"]}),
        )
        .await;
    assert_eq!(child["parent"], root["id"]);
    let context: Value =
        serde_json::from_str(child["context"].as_str().expect("context")).expect("json");
    assert_eq!(
        context,
        json!({"service": "api", "region": "us", "request_id": "r1"})
    );
    let grandchild = p
        .ok(
            "create-logger",
            json!({"name": "api.request.db", "context": {}, "parent": child["id"]}),
        )
        .await;
    assert!(
        log(
            p,
            grandchild["id"].clone(),
            entry(
                "warn",
                "slow query",
                json!({"ms": 900, "request_id": "r1-db"})
            )
        )
        .await
    );
    let got = records(p, json!({})).await;
    assert_eq!(got[0]["logger"], "api.request.db");
    assert_eq!(
        fields(&got[0]),
        json!({"service": "api", "region": "us", "request_id": "r1-db", "ms": 900}),
        "entry fields win over the inherited context"
    );
    // The parent is unchanged by its children.
    assert!(log(p, root["id"].clone(), entry("info", "root", json!({}))).await);
    assert_eq!(
        fields(&records(p, json!({})).await[0]),
        json!({"service": "api", "region": "eu"})
    );
}

async fn the_minimum_level_drops_what_is_below_it(p: &Contract) {
    assert_eq!(
        p.ok("min-level", json!({})).await,
        "info",
        "the default minimum"
    );
    assert!(!log(p, Value::Null, entry("debug", "noise", json!({}))).await);
    assert!(log(p, Value::Null, entry("info", "kept", json!({}))).await);
    p.ok("set-min-level", json!({"level": "warn"})).await;
    assert_eq!(p.ok("min-level", json!({})).await, "warn");
    assert!(!log(p, Value::Null, entry("info", "dropped", json!({}))).await);
    assert!(log(p, Value::Null, entry("warn", "warned", json!({}))).await);
    assert!(log(p, Value::Null, entry("fatal", "fatal", json!({}))).await);
    let messages: Vec<Value> = records(p, json!({}))
        .await
        .iter()
        .map(|r| r["message"].clone())
        .collect();
    assert_eq!(
        messages,
        vec![json!("fatal"), json!("warned"), json!("kept")]
    );
    // Another tenant keeps its own level.
    assert_eq!(
        p.call_as("globex", "min-level", json!({}))
            .await
            .expect("min-level"),
        "info"
    );
}

async fn the_binding_sets_the_minimum_level(kind: Kind) {
    let p = provider(kind, &[("min_level", "error")]).await;
    assert_eq!(p.ok("min-level", json!({})).await, "error");
    assert!(!log(&p, Value::Null, entry("warn", "below", json!({}))).await);
    assert!(log(&p, Value::Null, entry("error", "at", json!({}))).await);
}

async fn errors_keep_their_cause_chain(p: &Contract) {
    let error = json!({"kind": "PaymentFailed", "message": "charge failed",
        "causes": ["card declined", "insufficient funds"], "stack": "at charge (pay.rs:10)"});
    assert!(
        log(
            p,
            Value::Null,
            json!({"level": "error", "message": "checkout failed", "error": error})
        )
        .await
    );
    let got = records(p, json!({"min-level": "error"})).await;
    assert_eq!(got[0]["error"], error);
}

async fn queries_filter_and_page_newest_first(p: &Contract) {
    let db = p
        .ok("create-logger", json!({"name": "db", "context": {}}))
        .await;
    for i in 0..25 {
        let level = ["info", "warn", "error"][i % 3];
        let logger = if i % 2 == 0 {
            db["id"].clone()
        } else {
            Value::Null
        };
        assert!(
            log(
                p,
                logger,
                entry(
                    level,
                    &format!("event {i}"),
                    json!({"i": i, "even": i % 2 == 0})
                )
            )
            .await
        );
    }
    assert_eq!(records(p, json!({"min-level": "error"})).await.len(), 8);
    assert_eq!(records(p, json!({"logger": "db"})).await.len(), 13);
    assert_eq!(records(p, json!({"contains": "event 1"})).await.len(), 11);
    let seven = records(p, json!({"field": ["i", "7"]})).await;
    assert_eq!(seven.len(), 1);
    assert_eq!(seven[0]["message"], "event 7");
    assert_eq!(
        records(p, json!({"field": ["even", "true"]})).await.len(),
        13
    );
    // Pages of 10, newest first, every entry once.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let page = p
            .ok(
                "query",
                json!({"query": {}, "page": {"limit": 10, "cursor": cursor}}),
            )
            .await;
        for r in page["items"].as_array().expect("items") {
            seen.push(r["seq"].as_u64().expect("seq"));
        }
        cursor = page["page"]["next-cursor"].clone();
        if cursor.is_null() {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "newest first: {seen:?}"
    );
    assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), 25);
}

async fn log_many_is_all_or_nothing(p: &Contract) {
    let bad = p
        .err(
            "log-many",
            json!({"entries": [entry("info", "a", json!({})), entry("info", "", json!({}))]}),
        )
        .await;
    expect_error(&bad, ErrorKind::InvalidInput, "entries[1].message");
    assert!(records(p, json!({})).await.is_empty(), "nothing logged");
    let n = p
        .ok(
            "log-many",
            json!({"entries": [entry("debug", "a", json!({})), entry("info", "b", json!({})), entry("error", "c", json!({}))]}),
        )
        .await;
    assert_eq!(n, 2, "the debug entry is below the minimum level");
    assert_eq!(records(p, json!({})).await.len(), 2);
}

async fn refuses_bad_input_and_keeps_what_it_accepted(p: &Contract) {
    assert!(log(p, Value::Null, entry("info", "accepted first", json!({}))).await);
    let huge = "x".repeat(64 * 1024 + 1);
    for (function, args, kind, names) in [
        (
            "log",
            json!({"entry": entry("info", "", json!({}))}),
            ErrorKind::InvalidInput,
            "message",
        ),
        (
            "log",
            json!({"entry": {"level": "info", "message": "m", "fields": "[1,2]"}}),
            ErrorKind::InvalidInput,
            "fields",
        ),
        (
            "log",
            json!({"entry": {"level": "info", "message": "m", "fields": "{not json"}}),
            ErrorKind::InvalidInput,
            "fields",
        ),
        (
            "log",
            json!({"entry": {"level": "info", "message": huge}}),
            ErrorKind::TooLarge,
            "message",
        ),
        (
            "log",
            json!({"logger": "nope", "entry": entry("info", "m", json!({}))}),
            ErrorKind::NotFound,
            "nope",
        ),
        (
            "log",
            json!({"entry": {"level": "error", "message": "m", "error": {"kind": "", "message": "x", "causes": []}}}),
            ErrorKind::InvalidInput,
            "error.kind",
        ),
        (
            "create-logger",
            json!({"name": "", "context": {}}),
            ErrorKind::InvalidInput,
            "name",
        ),
        (
            "create-logger",
            json!({"name": "x", "context": "[]"}),
            ErrorKind::InvalidInput,
            "context",
        ),
        (
            "create-logger",
            json!({"name": "x", "context": {}, "parent": "ghost"}),
            ErrorKind::NotFound,
            "ghost",
        ),
        (
            "query",
            json!({"query": {}, "page": {"cursor": "abc"}}),
            ErrorKind::InvalidInput,
            "cursor",
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
    let bad_level = p
        .call_as(TENANT, "set-min-level", json!({"level": "loud"}))
        .await;
    assert!(matches!(bad_level, Err(e) if e.code() == "bad_arguments"));
    let got = records(p, json!({})).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["message"], "accepted first");
}

async fn tenants_are_isolated(p: &Contract) {
    let logger = p
        .ok("create-logger", json!({"name": "acme-only", "context": {}}))
        .await;
    assert!(log(p, logger["id"].clone(), entry("info", "secret", json!({}))).await);
    let theirs = p
        .call_as("globex", "query", json!({"query": {}, "page": {}}))
        .await
        .expect("query");
    assert_eq!(theirs["items"], json!([]));
    let err = p
        .call_as(
            "globex",
            "log",
            json!({"logger": logger["id"], "entry": entry("info", "m", json!({}))}),
        )
        .await
        .expect_err("globex cannot use acme's logger");
    assert_eq!(err.provider().map(|e| e.kind), Some(ErrorKind::NotFound));
}

async fn state_survives_a_swap(p: &Contract) {
    let logger = p
        .ok(
            "create-logger",
            json!({"name": "kept", "context": {"a": 1}}),
        )
        .await;
    p.ok("set-min-level", json!({"level": "warn"})).await;
    p.rt.swap(
        TENANT,
        Service::Logging,
        ComponentSource::path(component("logging-host")),
    )
    .await
    .expect("swap");
    assert_eq!(p.ok("min-level", json!({})).await, "warn");
    assert!(
        log(
            p,
            logger["id"].clone(),
            entry("error", "after swap", json!({}))
        )
        .await
    );
}

async fn health_is_ok(p: &Contract) {
    assert_eq!(p.ok("health", json!({})).await["ok"], true);
}

/// Runs every check against each provider: `suite!(module_name => Kind::X, ...)`.
macro_rules! suite {
    ($($module:ident => $kind:expr),* $(,)?) => {$(
        mod $module {
            use super::*;
            suite!(@checks $kind;
                logs_structured_entries_and_reads_them_back,
                child_loggers_inherit_context,
                the_minimum_level_drops_what_is_below_it,
                errors_keep_their_cause_chain,
                queries_filter_and_page_newest_first,
                log_many_is_all_or_nothing,
                refuses_bad_input_and_keeps_what_it_accepted,
                tenants_are_isolated,
                state_survives_a_swap,
                health_is_ok,
            );
            #[tokio::test]
            async fn the_binding_sets_the_minimum_level() {
                super::the_binding_sets_the_minimum_level($kind).await;
            }
        }
    )*};
    (@checks $kind:expr; $($check:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $check() {
            super::$check(&provider($kind, &[]).await).await;
        }
    )*};
}

suite!(host => Kind::Host);
