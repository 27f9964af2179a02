//! The local analytics adapter end to end: host -> analytics-local component -> the binding's
//! files directory (`/data/events.jsonl`), no network and no credentials.

use std::path::Path;

use serde_json::{json, Value};
use switchyard_host::services::analytics::{
    Event, EventQuery, Identity, PageRequest, PageView, Timestamp,
};
use switchyard_host::{BindingSpec, ComponentSource, Error, ErrorKind, Runtime, Service};

use crate::support::{component, runtime};

/// A binding of the local adapter keeping its events in `dir`.
fn local_spec(dir: &Path) -> BindingSpec {
    BindingSpec::new(ComponentSource::path(component("analytics-local"))).files(dir)
}

async fn local_runtime(tenants: &[(&str, &Path)]) -> Runtime {
    runtime(
        tenants
            .iter()
            .map(|(tenant, dir)| (*tenant, Service::Analytics, local_spec(dir)))
            .collect(),
    )
    .await
}

fn everything() -> EventQuery {
    EventQuery {
        distinct_id: None,
        name: None,
        since: None,
    }
}

fn first_page(limit: Option<u32>) -> PageRequest {
    PageRequest {
        cursor: None,
        limit,
    }
}

fn at(seconds: u64) -> Timestamp {
    Timestamp {
        seconds,
        nanoseconds: 0,
    }
}

/// The lines of `dir/events.jsonl`, each parsed; blank separator lines (which concurrent
/// appends may leave, see analytics-local's store) are not events and are passed over.
fn lines(dir: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).expect("events file");
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

/// The contract error kind of a failed call.
fn kind(err: &Error) -> ErrorKind {
    err.provider()
        .unwrap_or_else(|| panic!("not a contract error: {err}"))
        .kind
}

#[tokio::test]
async fn calls_are_written_as_json_lines_and_read_back() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = local_runtime(&[("acme", &dir)]).await;
    let a = rt.analytics("acme").expect("binding");

    let mut e = Event::new("signed_up", "u1").properties(json!({"plan": "pro"}));
    e.category = Some("billing".into());
    e.session_id = Some("s1".into());
    e.timestamp = Some(Timestamp {
        seconds: 1_710_513_000,
        nanoseconds: 0,
    });
    a.track(&e).await.expect("track");
    a.page(&PageView {
        distinct_id: "u1".into(),
        url: "https://app.example/pricing".into(),
        title: Some("Pricing".into()),
        referrer: Some("https://google.com".into()),
        properties: None,
        session_id: None,
        timestamp: None,
    })
    .await
    .expect("page");
    a.identify(&Identity {
        distinct_id: "u1".into(),
        set: Some(json!({"email": "a@b.example"}).to_string()),
        set_once: Some(json!({"first_seen": "today"}).to_string()),
        anonymous_id: Some("anon-1".into()),
    })
    .await
    .expect("identify");
    a.alias("u1", "u1-alias").await.expect("alias");

    // Written synchronously: on disk before flush, and flush has nothing pending.
    let written = lines(&dir);
    assert_eq!(written.len(), 4);
    assert_eq!(
        written[0],
        json!({"name": "signed_up", "distinct_id": "u1", "properties": {"plan": "pro"},
               "timestamp": "2024-03-15T14:30:00.000Z", "uuid": written[0]["uuid"],
               "category": "billing", "session_id": "s1"})
    );
    assert_eq!(written[0]["uuid"].as_str().map(str::len), Some(36));
    assert_eq!(written[1]["name"], "$pageview");
    assert_eq!(
        written[1]["properties"]["$current_url"],
        "https://app.example/pricing"
    );
    assert_eq!(written[1]["properties"]["$title"], "Pricing");
    assert_eq!(written[1]["properties"]["$referrer"], "https://google.com");
    assert_eq!(written[2]["name"], "$identify");
    assert_eq!(written[2]["properties"]["$set"]["email"], "a@b.example");
    assert_eq!(written[2]["properties"]["$set_once"]["first_seen"], "today");
    assert_eq!(written[2]["properties"]["$anon_distinct_id"], "anon-1");
    assert_eq!(written[3]["name"], "$create_alias");
    assert_eq!(written[3]["properties"]["alias"], "u1-alias");
    let report = a.flush().await.expect("flush");
    assert_eq!((report.sent, report.pending), (0, 0));

    let page = a
        .events(&everything(), &first_page(None))
        .await
        .expect("events");
    assert_eq!(page.page.total, Some(4));
    assert_eq!(page.page.next_cursor, None);
    let names: Vec<_> = page.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["signed_up", "$pageview", "$identify", "$create_alias"]
    );
    let first = &page.events[0];
    assert_eq!(first.distinct_id, "u1");
    assert_eq!(first.timestamp.seconds, 1_710_513_000);
    assert_eq!(Some(first.uuid.as_str()), written[0]["uuid"].as_str());
    let props: Value = serde_json::from_str(&first.properties).expect("properties are JSON");
    assert_eq!(
        props,
        json!({"plan": "pro", "category": "billing", "$session_id": "s1"})
    );
}

#[tokio::test]
async fn events_filter_and_page_with_a_cursor() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = local_runtime(&[("acme", &dir)]).await;
    let a = rt.analytics("acme").expect("binding");
    for i in 0..25u64 {
        let who = if i % 2 == 0 { "even" } else { "odd" };
        let name = if i % 5 == 0 { "milestone" } else { "step" };
        let mut e = Event::new(name, who).properties(json!({"i": i}));
        e.timestamp = Some(at(1_700_000_000 + i));
        a.track(&e).await.expect("track");
    }

    // Every event, 10 at a time, following the cursor.
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = a
            .events(
                &everything(),
                &PageRequest {
                    cursor: cursor.clone(),
                    limit: Some(10),
                },
            )
            .await
            .expect("page");
        pages += 1;
        assert_eq!(page.page.total, Some(25));
        assert!(page.events.len() <= 10);
        for e in &page.events {
            let props: Value = serde_json::from_str(&e.properties).expect("json");
            seen.push(props["i"].as_u64().expect("i"));
        }
        cursor = page.page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen,
        (0..25).collect::<Vec<_>>(),
        "each event once, in order"
    );

    // Filters: by distinct id, by name, by time, combined; and across pages.
    let odd = EventQuery {
        distinct_id: Some("odd".into()),
        ..everything()
    };
    let page = a.events(&odd, &first_page(Some(5))).await.expect("odd");
    assert_eq!(page.page.total, Some(12));
    assert_eq!(page.events.len(), 5);
    assert!(page.events.iter().all(|e| e.distinct_id == "odd"));
    let rest = a
        .events(
            &odd,
            &PageRequest {
                cursor: page.page.next_cursor.clone(),
                limit: Some(100),
            },
        )
        .await
        .expect("odd, the rest");
    assert_eq!(rest.events.len(), 7);
    assert_eq!(rest.page.next_cursor, None);

    let milestones = EventQuery {
        name: Some("milestone".into()),
        ..everything()
    };
    let page = a
        .events(&milestones, &first_page(None))
        .await
        .expect("milestones");
    assert_eq!(page.page.total, Some(5));
    assert!(page.events.iter().all(|e| e.name == "milestone"));

    let recent_even = EventQuery {
        distinct_id: Some("even".into()),
        since: Some(at(1_700_000_020)),
        ..everything()
    };
    let page = a
        .events(&recent_even, &first_page(None))
        .await
        .expect("recent");
    let stamps: Vec<_> = page.events.iter().map(|e| e.timestamp.seconds).collect();
    assert_eq!(
        stamps,
        [1_700_000_020, 1_700_000_022, 1_700_000_024],
        "since is inclusive"
    );
}

#[tokio::test]
async fn events_survive_a_new_runtime_on_the_same_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    {
        let rt = local_runtime(&[("acme", &dir)]).await;
        let a = rt.analytics("acme").expect("binding");
        a.track(&Event::new("before_restart", "u1"))
            .await
            .expect("track");
        rt.shutdown().await;
    }
    let rt = local_runtime(&[("acme", &dir)]).await;
    let a = rt.analytics("acme").expect("binding");
    a.track(&Event::new("after_restart", "u1"))
        .await
        .expect("track");
    let page = a
        .events(&everything(), &first_page(None))
        .await
        .expect("events");
    let names: Vec<_> = page.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["before_restart", "after_restart"]);
}

#[tokio::test]
async fn tenants_see_only_their_own_events() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (acme_dir, globex_dir) = (tmp.path().join("acme"), tmp.path().join("globex"));
    let rt = local_runtime(&[("acme", &acme_dir), ("globex", &globex_dir)]).await;
    let acme = rt.analytics("acme").expect("acme");
    let globex = rt.analytics("globex").expect("globex");
    acme.track(&Event::new("acme_event", "shared-user"))
        .await
        .expect("acme track");
    globex
        .track(&Event::new("globex_event", "shared-user"))
        .await
        .expect("globex track");
    globex
        .track(&Event::new("globex_event", "other"))
        .await
        .expect("globex track");

    let a = acme
        .events(&everything(), &first_page(None))
        .await
        .expect("acme events");
    assert_eq!(a.page.total, Some(1));
    assert_eq!(a.events[0].name, "acme_event");
    let g = globex
        .events(&everything(), &first_page(None))
        .await
        .expect("globex events");
    assert_eq!(g.page.total, Some(2));
    assert!(g.events.iter().all(|e| e.name == "globex_event"));
    assert_eq!(lines(&acme_dir).len(), 1);
    assert_eq!(lines(&globex_dir).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tracks_write_whole_lines() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = local_runtime(&[("acme", &dir)]).await;
    let mut tasks = Vec::new();
    for t in 0..5 {
        let a = rt.analytics("acme").expect("binding");
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                // Sizeable properties make a torn or interleaved write visible.
                let e = Event::new("concurrent", format!("task-{t}"))
                    .properties(json!({"t": t, "i": i, "pad": "x".repeat(2000 + 100 * i)}));
                a.track(&e).await.expect("track");
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let written = lines(&dir);
    assert_eq!(written.len(), 50, "exactly one line per call");
    let mut pairs: Vec<_> = written
        .iter()
        .map(|l| {
            (
                l["properties"]["t"].as_u64().expect("t"),
                l["properties"]["i"].as_u64().expect("i"),
            )
        })
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    assert_eq!(pairs.len(), 50, "every call's line, once");
    let page = rt
        .analytics("acme")
        .expect("binding")
        .events(&everything(), &first_page(Some(1000)))
        .await
        .expect("events");
    assert_eq!(page.page.total, Some(50));
}

#[tokio::test]
async fn bad_input_is_invalid_input_naming_the_field() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = local_runtime(&[("acme", &dir)]).await;
    let a = rt.analytics("acme").expect("binding");

    let check = |err: Error, field: &str| {
        assert_eq!(kind(&err), ErrorKind::InvalidInput, "{err}");
        assert!(err.to_string().contains(&format!("`{field}`")), "{err}");
    };
    check(a.track(&Event::new("", "u1")).await.unwrap_err(), "name");
    check(
        a.track(&Event::new("x", " ")).await.unwrap_err(),
        "distinct-id",
    );
    check(
        a.track(&Event::new("x", "u1").properties(json!([1, 2])))
            .await
            .unwrap_err(),
        "properties",
    );
    check(
        a.page(&PageView {
            distinct_id: "u1".into(),
            url: String::new(),
            title: None,
            referrer: None,
            properties: None,
            session_id: None,
            timestamp: None,
        })
        .await
        .unwrap_err(),
        "url",
    );
    check(
        a.identify(&Identity {
            distinct_id: "u1".into(),
            set: Some("not json".into()),
            set_once: None,
            anonymous_id: None,
        })
        .await
        .unwrap_err(),
        "set",
    );
    check(a.alias("u1", "").await.unwrap_err(), "alias");

    let big = Event::new("big", "u1").properties(json!({"pad": "x".repeat(1024 * 1024)}));
    let err = a.track(&big).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::TooLarge, "{err}");

    for cursor in ["not-a-cursor", "1", "999999"] {
        a.track(&Event::new("ok", "u1")).await.expect("track");
        let err = a
            .events(
                &everything(),
                &PageRequest {
                    cursor: Some(cursor.into()),
                    limit: None,
                },
            )
            .await
            .unwrap_err();
        check(err, "cursor");
    }
    let page = a
        .events(&everything(), &first_page(None))
        .await
        .expect("events");
    assert_eq!(
        page.page.total,
        Some(3),
        "only the valid calls were written"
    );
}

#[tokio::test]
async fn torn_lines_are_skipped_and_do_not_swallow_the_next_event() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = local_runtime(&[("acme", &dir)]).await;
    let a = rt.analytics("acme").expect("binding");
    a.track(&Event::new("first", "u1")).await.expect("track");
    // A crash in the middle of a write leaves a partial line without its newline.
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(dir.join("events.jsonl"))
            .expect("open");
        f.write_all(br#"{"name":"torn","distinct_id":"#)
            .expect("write");
    }
    a.track(&Event::new("second", "u1")).await.expect("track");
    let page = a
        .events(&everything(), &first_page(None))
        .await
        .expect("a torn line is not fatal");
    let names: Vec<_> = page.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["first", "second"]);
    assert_eq!(page.page.total, Some(2));
}

#[tokio::test]
async fn health_needs_the_files_directory() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = runtime(vec![
        ("acme", Service::Analytics, local_spec(&dir)),
        (
            "nodir",
            Service::Analytics,
            BindingSpec::new(ComponentSource::path(component("analytics-local"))),
        ),
    ])
    .await;
    let ok = rt
        .analytics("acme")
        .expect("acme")
        .health()
        .await
        .expect("health");
    assert!(ok.ok, "{}", ok.detail);
    assert!(ok.detail.contains("/data/events.jsonl"), "{}", ok.detail);

    let nodir = rt.analytics("nodir").expect("nodir");
    let bad = nodir.health().await.expect("health answers");
    assert!(!bad.ok);
    assert!(bad.detail.contains("`files`"), "{}", bad.detail);
    let err = nodir.track(&Event::new("x", "u1")).await.unwrap_err();
    assert_eq!(kind(&err), ErrorKind::Denied, "{err}");
    assert!(err.to_string().contains("`files`"), "{err}");
}

#[tokio::test]
async fn the_json_gateway_lists_events() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = local_runtime(&[("acme", &dir)]).await;
    rt.invoke_json(
        "acme",
        Service::Analytics,
        "track",
        json!({"event": {"name": "via_gateway", "distinct-id": "u9", "properties": {"k": "v"}}}),
    )
    .await
    .expect("track by name");
    let out = rt
        .invoke_json(
            "acme",
            Service::Analytics,
            "events",
            json!({"query": {}, "page": {}}),
        )
        .await
        .expect("events by name");
    assert_eq!(out["page"]["total"], 1, "{out}");
    assert_eq!(out["page"]["next-cursor"], Value::Null, "{out}");
    let event = &out["events"][0];
    assert_eq!(event["name"], "via_gateway", "{out}");
    assert_eq!(event["distinct-id"], "u9", "{out}");
    let props: Value =
        serde_json::from_str(event["properties"].as_str().expect("json text")).expect("json");
    assert_eq!(props, json!({"k": "v"}));

    let err = rt
        .invoke_json(
            "acme",
            Service::Analytics,
            "events",
            json!({"query": {}, "page": {"cursor": "nope"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(kind(&err), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("`cursor`"), "{err}");
}

#[tokio::test]
async fn events_larger_than_one_host_write_are_kept_whole() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("acme");
    let rt = local_runtime(&[("acme", &dir)]).await;
    let a = rt.analytics("acme").expect("binding");
    let pad = "y".repeat(300 * 1024);
    a.track(&Event::new("large", "u1").properties(json!({ "pad": pad })))
        .await
        .expect("a 300 KiB event is under the cap");
    a.track(&Event::new("small", "u1")).await.expect("track");
    let page = a
        .events(&everything(), &first_page(None))
        .await
        .expect("events");
    let names: Vec<_> = page.events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["large", "small"]);
    let props: Value = serde_json::from_str(&page.events[0].properties).expect("json");
    assert_eq!(props["pad"].as_str().map(str::len), Some(300 * 1024));
}
