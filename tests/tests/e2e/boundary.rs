//! The tenant boundary under attack: each test is one finding of the hostile review (issue 12)
//! and fails on the code before its fix.

use serde_json::{json, Value};
use switchyard_host::services::analytics::Event;
use switchyard_host::{Backend, BindingSpec, ComponentSource, Error, FileConfig, Runtime, Service};

use crate::support::{component, misbehave_spec, options, runtime, Contract};

/// A tantivy search binding keeping its indexes in `dir`.
fn search_spec(dir: &std::path::Path) -> BindingSpec {
    BindingSpec::new(ComponentSource::path(component("search-host")))
        .backend(Backend::Tantivy)
        .files(dir)
}

async fn build(bindings: Vec<(&str, Service, BindingSpec)>) -> Result<Runtime, Error> {
    let mut b = Runtime::builder().options(options());
    for (tenant, service, spec) in bindings {
        b = b.binding(tenant, service, spec);
    }
    b.build().await
}

fn search(rt: Runtime, tenant: &'static str) -> Contract {
    Contract {
        rt,
        service: Service::Search,
        tenant,
    }
}

fn names(indexes: &Value) -> Vec<String> {
    indexes
        .as_array()
        .expect("a list of indexes")
        .iter()
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect()
}

/// Finding 1: a link planted among a tenant's search indexes (a guest that could write
/// there, or one of an older version that could) must not open another tenant's index.
#[tokio::test]
async fn a_planted_link_never_opens_another_tenants_index() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (victim_dir, attacker_dir) = (tmp.path().join("victim"), tmp.path().join("attacker"));
    {
        let victim = search(
            runtime(vec![("victim", Service::Search, search_spec(&victim_dir))]).await,
            "victim",
        );
        victim
            .ok(
                "create-index",
                json!({"name": "payroll", "settings": {"searchable": ["title"], "facets": [], "filterable": [], "sortable": []}}),
            )
            .await;
        victim
            .ok(
                "index-documents",
                json!({"index": "payroll", "documents": [{"id": "ceo", "body": {"title": "salary 1000000"}}]}),
            )
            .await;
        victim.rt.shutdown().await;
    }
    std::fs::create_dir_all(attacker_dir.join("search")).expect("mkdir");
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "../../victim/search/payroll",
        attacker_dir.join("search").join("stolen"),
    )
    .expect("symlink");

    let rt = runtime(vec![
        ("victim", Service::Search, search_spec(&victim_dir)),
        ("attacker", Service::Search, search_spec(&attacker_dir)),
    ])
    .await;
    let attacker = search(rt, "attacker");
    let listed = names(&attacker.ok("list-indexes", json!({})).await);
    assert!(
        !listed.contains(&"stolen".to_string()),
        "the link was followed: {listed:?}"
    );
    let err = attacker
        .err("get-document", json!({"index": "stolen", "id": "ceo"}))
        .await;
    assert!(!err.message.contains("salary"), "{err:?}");
    // The victim's index is whole and still its own.
    let victim = attacker
        .call_as(
            "victim",
            "get-document",
            json!({"index": "payroll", "id": "ceo"}),
        )
        .await
        .expect("the victim reads its document");
    assert_eq!(victim["id"], "ceo");
}

/// Finding 1, at its cause: the directory where the host keeps a tenant's indexes is never
/// one a guest can write, neither the tenant's own other bindings' nor another tenant's.
#[tokio::test]
async fn no_guest_can_write_where_the_host_keeps_search_indexes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let shared = tmp.path().join("acme");
    // The tenant's own Wasm adapter given the directory the host keeps its indexes in.
    let err = build(vec![
        ("acme", Service::Search, search_spec(&shared)),
        (
            "acme",
            Service::Analytics,
            misbehave_spec().files(shared.join("search")),
        ),
    ])
    .await
    .err()
    .expect("a guest directory over the host's indexes is refused");
    let text = err.to_string();
    assert!(
        text.contains("files:") && text.contains("acme/search"),
        "{text}"
    );
    // Another tenant's adapter given a directory inside this tenant's.
    let err = build(vec![
        (
            "acme",
            Service::Analytics,
            misbehave_spec().files(tmp.path().join("a")),
        ),
        (
            "globex",
            Service::Analytics,
            misbehave_spec().files(tmp.path().join("a").join("b")),
        ),
    ])
    .await
    .err()
    .expect("a directory inside another tenant's is refused");
    assert!(err.to_string().contains("another tenant's"), "{err}");
    // Apart, both bind.
    build(vec![
        ("acme", Service::Search, search_spec(&tmp.path().join("s"))),
        (
            "acme",
            Service::Analytics,
            misbehave_spec().files(tmp.path().join("t")),
        ),
    ])
    .await
    .expect("separate directories bind");
}

/// Finding 9: a component that can never run (a 200 MiB `.bss` against a 64 MiB cap) is
/// refused before it replaces one that works, which keeps serving.
#[tokio::test]
async fn a_component_that_cannot_start_never_replaces_one_that_works() {
    let big = || ComponentSource::path(component("test-big-start"));
    let rt = runtime(vec![("acme", Service::Analytics, misbehave_spec())]).await;
    let before = rt.bindings()[0].digest.clone();
    let err = rt
        .swap("acme", Service::Analytics, big())
        .await
        .expect_err("the swap is refused");
    let text = err.to_string();
    assert!(text.contains("limits.memory_mib = 32"), "{text}");
    assert_eq!(rt.bindings()[0].digest, before, "the old component stays");
    rt.analytics("acme")
        .expect("binding")
        .track(&Event::new("ok", "u"))
        .await
        .expect("and keeps serving");
    // Nor is it bound in the first place.
    let err = build(vec![(
        "globex",
        Service::Analytics,
        BindingSpec::new(big()),
    )])
    .await
    .err()
    .expect("binding it is refused");
    assert!(err.to_string().contains("memory"), "{err}");
}

/// Finding 6: a backend's settings (a Redis password, a Sentry DSN) are the host's; in
/// `config`, which the component reads, they are refused, and `backend_config` takes them
/// (secret sources too) without the component ever seeing them.
#[tokio::test]
async fn backend_settings_never_sit_where_the_component_reads() {
    let spec = BindingSpec::new(ComponentSource::path(component("messaging-host")))
        .backend(Backend::Redis)
        .config("url", "redis://:hunter2@127.0.0.1:1/0");
    let err = build(vec![("acme", Service::Messaging, spec)])
        .await
        .err()
        .expect("a backend setting in config is refused");
    let text = err.to_string();
    assert!(
        text.contains("config.url") && text.contains("backend_config"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");

    let spec = BindingSpec::new(ComponentSource::path(component("monitoring-host")))
        .backend(Backend::Memory)
        .config("sentry_dsn", "https://key@sentry.example.com/1");
    assert!(build(vec![("acme", Service::Monitoring, spec)])
        .await
        .is_err());

    // From a file: a secret source in backend_config, nothing of it in config.
    std::env::set_var(
        "SWITCHYARD_TEST_BOUNDARY_DSN",
        "https://key@sentry.example.com/7",
    );
    let file = r#"
[tenants.acme.monitoring]
component = "monitoring-host.wasm"
backend = "memory"
config = { note = "visible" }
backend_config = { sentry_dsn = { env = "SWITCHYARD_TEST_BOUNDARY_DSN" }, sentry_environment = "prod" }
"#;
    let cfg = FileConfig::parse(file, "t.toml").expect("parses");
    let specs = cfg
        .bindings(std::path::Path::new("."), "t.toml")
        .expect("bindings");
    let spec = &specs[0].2;
    assert_eq!(spec.config.len(), 1, "{:?}", spec.config);
    assert_eq!(
        spec.backend_config.get("sentry_dsn").map(String::as_str),
        Some("https://key@sentry.example.com/7")
    );
    assert!(
        !format!("{spec:?}").contains("key@sentry"),
        "Debug shows no setting's value"
    );
}

/// Finding 4: a provider that echoes the request (headers, query, body, a `Location`) hands
/// back nothing of what the host injected, in any encoding the injection used.
#[tokio::test]
async fn an_echoing_provider_hands_no_injected_secret_back() {
    use base64::Engine as _;
    use switchyard_host::{CredentialConfig, Injection, SecretSource};
    use switchyard_tests::mock::recorder::MockRecorder;

    // Characters that percent-encoding, JSON and base64 all write differently.
    let secrets = [
        ("bearer", "sk/bearer+Q=\"1\"&a"),
        ("basic", "sk/basic+Q=\"2\"&b"),
        ("header", "sk/header+Q=\"3\"&c"),
        ("query", "sk/query+Q=\"4\"&d"),
        ("body", "sk/body+Q=\"5\"&e"),
    ];
    let echo = MockRecorder::start().await;
    echo.echo();
    let sink = MockRecorder::start().await;
    let inject = |i: usize, inject: Injection| CredentialConfig {
        host: echo.base_url(),
        secret: SecretSource::Value(secrets[i].1.into()),
        inject,
    };
    let spec = misbehave_spec()
        .allow(&echo.base_url())
        .and_then(|s| s.allow(&sink.base_url()))
        .and_then(|s| s.credential(&inject(0, Injection::Bearer)))
        .and_then(|s| {
            s.credential(&inject(
                1,
                Injection::Header {
                    name: "x-basic-echo".into(),
                },
            ))
        })
        .and_then(|s| {
            s.credential(&inject(
                2,
                Injection::Header {
                    name: "x-api-key".into(),
                },
            ))
        })
        .and_then(|s| s.credential(&inject(3, Injection::Query { name: "key".into() })))
        .and_then(|s| {
            s.credential(&inject(
                4,
                Injection::JsonBody {
                    field: "api_key".into(),
                },
            ))
        })
        .expect("spec");
    let rt = runtime(vec![("acme", Service::Analytics, spec)]).await;
    let relay = Event::new("relay", "u").properties(json!({
        "url": format!("{}/echo?x=1", echo.base_url()),
        "to": format!("{}/seen", sink.base_url()),
        "body": "{\"hello\":1}",
    }));
    rt.analytics("acme")
        .expect("binding")
        .track(&relay)
        .await
        .expect("relay ran");
    // The host did inject every secret on the way out.
    let sent = &echo.requests()[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {}", secrets[0].1).as_str())
    );
    assert!(sent.body_text().contains("api_key"), "{}", sent.body_text());
    // And the guest read none of them back.
    let seen = sink.requests()[0].body_text();
    let report: Value = serde_json::from_str(&seen).expect("the guest's report");
    assert!(
        report["body"]
            .as_str()
            .is_some_and(|b| b.contains("\"method\":\"POST\"")),
        "the guest did read the echo: {report}"
    );
    // What the guest read, decoded: the body text and every header value.
    let mut read = report["body"].as_str().unwrap_or_default().to_string();
    for pair in report["headers"].as_array().expect("headers") {
        read.push('\n');
        read.push_str(pair[1].as_str().unwrap_or_default());
    }
    for (how, secret) in secrets {
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let json = serde_json::to_string(secret).expect("json");
        let json = json.trim_matches('"');
        let pct: String = secret
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        for form in [secret, &b64, json, &pct] {
            assert!(
                !read.contains(form),
                "the guest read the {how} secret as {form:?}: {read}"
            );
        }
    }
}

/// Finding 3: what a guest makes the host hold outside its linear memory (header maps and
/// other `wasi:http` resources) is bounded by the binding's limits: big header values and
/// thousands of live resources are refused in the guest, and the next call works.
#[tokio::test]
async fn host_memory_a_guest_causes_stays_within_its_limits() {
    let rt = runtime(vec![("acme", Service::Analytics, misbehave_spec())]).await;
    let a = rt.analytics("acme").expect("binding");
    let fill = |count: u64, size: u64| {
        Event::new("fields", "u").properties(json!({"count": count, "size": size}))
    };
    // A few ordinary headers are fine.
    a.track(&fill(10, 1024))
        .await
        .expect("small header maps work");
    // 120 KB values: once 300 MiB of host memory for 2,500 of them.
    let err = a
        .track(&fill(2_500, 120_000))
        .await
        .expect_err("a 120 KB header value is refused under a 32 MiB cap");
    let err = err.to_string();
    assert!(
        err.contains("header map 0 of 2500") || err.contains("size of fields exceeds limit"),
        "refused at once: {err}"
    );
    // Many small maps kept alive: bounded by the resource count.
    a.track(&fill(5_000, 16))
        .await
        .expect_err("5,000 live header maps are more than a call may hold");
    a.track(&Event::new("ok", "u"))
        .await
        .expect("the next call works");
}

/// Finding 11: an item that never delivers is retried less and less often (the tick backs
/// off while nothing is delivered, to at most a minute), not on every tick forever; once the
/// provider answers, it is delivered.
#[tokio::test]
async fn a_buffered_item_that_never_delivers_is_retried_with_backoff() {
    use std::time::Duration;
    use switchyard_tests::mock::posthog::MockPostHog;

    let mock = MockPostHog::start(crate::support::API_KEY).await;
    mock.fail_next(1_000_000, 503, "down");
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        crate::support::posthog_spec(
            &mock,
            &[
                ("flush_at", "100"),
                ("flush_interval_ms", "0"),
                ("max_retries", "0"),
            ],
        ),
    )])
    .await;
    rt.analytics("acme")
        .expect("binding")
        .track(&Event::new("held", "u"))
        .await
        .expect("accepted");
    // The test runtime ticks every 50 ms: 60 tries in 3 s without a backoff.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let tries = mock.requests().len();
    assert!(
        (2..=12).contains(&tries),
        "{tries} delivery attempts in 3 s: expected a few, backing off"
    );
    mock.reset_failures();
    mock.wait_for_events(1, Duration::from_secs(15))
        .await
        .expect("delivered once the provider is back");
}

/// Finding 11: input larger than the component can take in is the caller's mistake, a 413
/// (found before the call when it is over half the memory cap), not the component running
/// out of memory (a 502).
#[tokio::test]
async fn oversized_input_is_refused_before_it_reaches_the_component() {
    use switchyard_tests::mock::posthog::MockPostHog;

    let mock = MockPostHog::start(crate::support::API_KEY).await;
    let rt = runtime(vec![(
        "acme",
        Service::Analytics,
        crate::support::posthog_spec(&mock, &[]),
    )])
    .await;
    // 14 MiB: the PostHog adapter runs out of its 64 MiB copying it (once a 502); 40 MiB:
    // over half the cap, refused before the call.
    for mib in [14, 40] {
        let name = "n".repeat(mib << 20);
        let err = rt
            .invoke_json(
                "acme",
                Service::Analytics,
                "track",
                json!({"event": {"name": name, "distinct-id": "u"}}),
            )
            .await
            .expect_err("refused");
        assert_eq!(err.http_status(), 413, "{mib} MiB: {err}");
        assert_eq!(err.code(), "too_large", "{err}");
        assert!(err.to_string().contains("limits.memory_mib = 64"), "{err}");
    }
    // Ordinary input still goes through.
    rt.invoke_json(
        "acme",
        Service::Analytics,
        "track",
        json!({"event": {"name": "ok", "distinct-id": "u"}}),
    )
    .await
    .expect("a small event works");
}

/// Finding 11: a swap to a file that is not Wasm (say, the server's own secrets file, named
/// by a hostile admin request) says so without quoting a word of it.
#[tokio::test]
async fn a_file_that_is_not_wasm_is_refused_without_quoting_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let rt = runtime(vec![("acme", Service::Analytics, misbehave_spec())]).await;
    for (name, text) in [
        ("secrets.env", "DATABASE_PASSWORD=hunter2-very-secret\n"),
        (
            "module.wat",
            "(module (memory 1) (export \"hunter2-very-secret\" (memory 0)))",
        ),
        ("bad.wasm", "\0asm\u{1}\0\0\0hunter2-very-secret"),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, text).expect("write");
        let err = rt
            .swap("acme", Service::Analytics, ComponentSource::path(&path))
            .await
            .expect_err("refused");
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{name}: {text}");
        assert!(text.contains("not a"), "{name}: {text}");
    }
}

/// Finding 5: one tenant's flood of slow calls takes at most its share of the instance pool;
/// the other tenant's calls all succeed meanwhile, and the flood's excess is told to retry
/// (429, naming the limit) instead of failing as if its adapter had trapped.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_noisy_tenant_cannot_starve_a_quiet_one() {
    let rt = runtime(vec![
        ("noisy", Service::Analytics, misbehave_spec()),
        ("quiet", Service::Analytics, misbehave_spec()),
    ])
    .await;
    // 70 calls of 400 ms from one tenant: more than the whole pool of 64.
    let noisy: Vec<_> = (0..70)
        .map(|_| {
            let rt = rt.clone();
            tokio::spawn(async move {
                let slow = Event::new("sleep", "u").properties(json!({"ms": 400}));
                rt.analytics("noisy").expect("binding").track(&slow).await
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let quiet: Vec<_> = (0..20)
        .map(|_| {
            let rt = rt.clone();
            tokio::spawn(async move {
                rt.analytics("quiet")
                    .expect("binding")
                    .track(&Event::new("ok", "u"))
                    .await
            })
        })
        .collect();
    for q in quiet {
        q.await.expect("task").expect("every quiet call succeeds");
    }
    let mut busy = 0;
    for n in noisy {
        match n.await.expect("task") {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.http_status(), 429, "{e}");
                assert!(e.to_string().contains("max_instances_per_tenant"), "{e}");
                busy += 1;
            }
        }
    }
    assert!(busy < 70, "the noisy tenant's share did run");
    // Every refusal is counted for the operator.
    let metrics = rt.prometheus_metrics();
    if busy > 0 {
        let line =
            format!("switchyard_busy_total{{service=\"analytics\",tenant=\"noisy\"}} {busy}");
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing:\n{metrics}"
        );
    }
}

/// Finding 2: a byte list costs about its size: the compact `{"base64": ...}` form is
/// taken, and no request makes more than `MAX_VALUES` values whatever its JSON holds.
#[tokio::test]
async fn a_byte_list_cannot_blow_up_the_hosts_memory() {
    use base64::Engine as _;

    let tmp = tempfile::tempdir().expect("tempdir");
    let spec =
        BindingSpec::new(ComponentSource::path(component("storage-local"))).files(tmp.path());
    let rt = runtime(vec![("acme", Service::Storage, spec)]).await;
    let storage = Contract {
        rt,
        service: Service::Storage,
        tenant: "acme",
    };
    storage
        .ok("create-bucket", json!({"name": "bbb", "options": {}}))
        .await;
    let upload = |body: Value| json!({"bucket": "bbb", "key": "k", "body": body, "options": {"content-type": null, "cache-control": null, "metadata": [], "overwrite": true}});
    let hello = base64::engine::general_purpose::STANDARD.encode(b"hello");
    storage
        .ok("upload", upload(json!({ "base64": hello })))
        .await;
    let got = storage
        .ok("download", json!({"bucket": "bbb", "key": "k"}))
        .await;
    assert_eq!(got["body"], json!(b"hello".to_vec()), "{got}");
    // Two million bytes as a JSON array: once ~130 MiB of host memory; now refused.
    let err = storage
        .call_as("acme", "upload", upload(json!(vec![7u8; 2_000_000])))
        .await
        .expect_err("refused");
    assert_eq!(err.http_status(), 400, "{err}");
    assert!(err.to_string().contains("signed upload URL"), "{err}");
}
