//! Routes of the embedded defaults that are not contract calls: signed storage URLs served
//! and verified by the server, and `/metrics`.

use bytes::Bytes;
use http::Method;
use serde_json::json;

use crate::support::{code, component, TestServer};

/// Storage and monitoring for `acme`, with a fixed signing key.
fn config(dir: &std::path::Path) -> String {
    format!(
        r#"
[server]
signing_key = {{ value = "a-test-signing-key-of-32-bytes!!" }}

[runtime]
pooling = false

[tenants.acme.storage]
component = "{storage}"
files = "{files}"

[tenants.acme.monitoring]
component = "{monitoring}"
backend = "memory"
"#,
        storage = component("storage-local").display(),
        monitoring = component("monitoring-host").display(),
        files = dir.join("acme").display(),
    )
}

/// The path and query of a signed URL (its host is the configured public URL).
fn path_of(url: &str) -> String {
    let at = url.find("/v1/signed/").expect("a signed URL");
    url[at..].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_urls_download_and_upload_until_they_expire_or_are_altered() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_with(&config(data.path()), None, false).await;
    let call = |function: &'static str, args: serde_json::Value| {
        let client = &server.client;
        async move {
            let r = client
                .post_json(&format!("/v1/tenants/acme/storage/{function}"), &args)
                .await
                .expect("request");
            assert_eq!(r.status, 200, "{function}: {:?}", r.json());
            r.json()["result"].clone()
        }
    };
    call("create-bucket", json!({"name": "docs", "options": {}})).await;
    call(
        "upload",
        json!({"bucket": "docs", "key": "reports/q1 2026.txt", "body": "first quarter",
               "options": {"metadata": [], "content-type": "text/plain", "cache-control": "max-age=60"}}),
    )
    .await;

    // Download through a signed URL: the bytes and their headers.
    let signed = call(
        "signed-download-url",
        json!({"bucket": "docs", "key": "reports/q1 2026.txt", "expires-in-s": 60}),
    )
    .await;
    let url = signed["url"].as_str().expect("url");
    assert!(
        url.starts_with(
            "http://127.0.0.1:8080/v1/signed/acme/storage/docs/reports/q1%202026.txt?expires="
        ),
        "{url}"
    );
    let got = server.client.get(&path_of(url)).await.expect("GET");
    assert_eq!(got.status, 200);
    assert_eq!(&got.body[..], b"first quarter");
    assert_eq!(got.headers["content-type"], "text/plain");
    assert_eq!(got.headers["cache-control"], "max-age=60");
    assert!(got.headers.contains_key("etag"));

    // Altered: another key, another expiry, another method, no signature.
    let path = path_of(url);
    let other_key = path.replace("q1%202026", "q2%202026");
    let later = path.replacen("expires=", "expires=9", 1);
    let unsigned = path.split('?').next().expect("path").to_string();
    for bad in [other_key, later, unsigned] {
        let r = server.client.get(&bad).await.expect("GET");
        assert_eq!(r.status, 403, "{bad}");
        assert_eq!(code(&r), "bad_signature");
    }
    let put_with_get_url = server
        .client
        .send(
            Method::PUT,
            &path,
            Some("text/plain"),
            Bytes::from_static(b"x"),
        )
        .await
        .expect("PUT");
    assert_eq!(
        put_with_get_url.status, 403,
        "a download URL does not allow uploads"
    );

    // Upload through a signed URL, then read it back through the contract.
    let signed = call(
        "signed-upload-url",
        json!({"bucket": "docs", "key": "inbox/new.bin", "expires-in-s": 60}),
    )
    .await;
    let put = server
        .client
        .send(
            Method::PUT,
            &path_of(signed["url"].as_str().expect("url")),
            Some("application/octet-stream"),
            Bytes::from_static(&[0, 159, 146, 150, 255]),
        )
        .await
        .expect("PUT");
    assert_eq!(put.status, 200, "{:?}", put.json());
    assert_eq!(put.json()["result"]["size"], 5);
    let object = call(
        "download",
        json!({"bucket": "docs", "key": "inbox/new.bin"}),
    )
    .await;
    assert_eq!(object["body"], json!([0, 159, 146, 150, 255]));
    assert_eq!(object["info"]["content-type"], "application/octet-stream");

    // Expired: a 1-second URL, two seconds later.
    let signed = call(
        "signed-download-url",
        json!({"bucket": "docs", "key": "reports/q1 2026.txt", "expires-in-s": 1}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let expired = server
        .client
        .get(&path_of(signed["url"].as_str().expect("url")))
        .await
        .expect("GET");
    assert_eq!(expired.status, 403);
    assert!(expired.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("expired")));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_as_prometheus_text() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_with(&config(data.path()), None, false).await;
    let r = server
        .client
        .post_json(
            "/v1/tenants/acme/monitoring/increment",
            &json!({"name": "orders_total", "value": 2, "tags": [["shop", "eu"]]}),
        )
        .await
        .expect("increment");
    assert_eq!(r.status, 200, "{:?}", r.json());
    let metrics = server.client.get("/metrics").await.expect("GET /metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(text.contains("# TYPE orders_total counter\n"), "{text}");
    assert!(
        text.contains("orders_total{tenant=\"acme\",shop=\"eu\"} 2\n"),
        "{text}"
    );
    let post = server
        .client
        .post_json("/metrics", &json!({}))
        .await
        .expect("POST");
    assert_eq!(post.status, 405);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_buckets_are_served_without_a_signature_and_private_ones_are_not() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_with(&config(data.path()), None, false).await;
    for (bucket, public) in [("site", true), ("vault", false)] {
        let r = server
            .client
            .post_json(
                "/v1/tenants/acme/storage/create-bucket",
                &json!({"name": bucket, "options": {"public": public}}),
            )
            .await
            .expect("create");
        assert_eq!(r.status, 200, "{:?}", r.json());
        let r = server
            .client
            .post_json(
                "/v1/tenants/acme/storage/upload",
                &json!({"bucket": bucket, "key": "a/index.html", "body": "<h1>hi</h1>",
                        "options": {"metadata": [], "content-type": "text/html"}}),
            )
            .await
            .expect("upload");
        assert_eq!(r.status, 200, "{:?}", r.json());
    }
    let ok = server
        .client
        .get("/v1/public/acme/storage/site/a/index.html")
        .await
        .expect("GET");
    assert_eq!(ok.status, 200);
    assert_eq!(&ok.body[..], b"<h1>hi</h1>");
    assert_eq!(ok.headers["content-type"], "text/html");
    for hidden in [
        "/v1/public/acme/storage/vault/a/index.html",
        "/v1/public/acme/storage/site/a/missing.html",
        "/v1/public/acme/storage/nobucket/a",
    ] {
        let r = server.client.get(hidden).await.expect("GET");
        assert_eq!(r.status, 404, "{hidden}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_configuration_binds_every_service() {
    // `make demo` sets these before loading the file (examples/quickstart/src/mocks.rs).
    for (name, value) in [
        ("POSTHOG_URL", "http://127.0.0.1:8099"),
        ("POSTHOG_API_KEY", "phc_quickstart_demo"),
        ("TWILIO_URL", "http://127.0.0.1:8101"),
        ("TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000001"),
        ("TWILIO_AUTH_TOKEN", "token"),
        (
            "TWILIO_MESSAGING_SERVICE_SID",
            "MG00000000000000000000000000000001",
        ),
        ("SENDGRID_URL", "http://127.0.0.1:8102"),
        ("SENDGRID_API_KEY", "key"),
        ("STRIPE_URL", "http://127.0.0.1:8103"),
        ("STRIPE_SECRET_KEY", "sk_test_key"),
        ("SUPABASE_URL", "http://127.0.0.1:8104"),
        ("SUPABASE_SERVICE_KEY", "key"),
        ("ALGOLIA_APP_ID", "APP"),
        ("ALGOLIA_API_KEY", "key"),
        ("ALGOLIA_READ_URL", "http://127.0.0.1:8105"),
        ("ALGOLIA_WRITE_URL", "http://127.0.0.1:8106"),
    ] {
        std::env::set_var(name, value);
    }
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/quickstart/switchyard.toml");
    let runtime = switchyard_host::Runtime::builder()
        .config_file(&path)
        .expect("the quickstart configuration parses")
        .build()
        .await
        .expect("every quickstart binding loads");
    let mut services: Vec<String> = runtime
        .bindings()
        .into_iter()
        .filter(|b| b.tenant == "acme")
        .map(|b| b.service)
        .collect();
    services.sort();
    let mut all: Vec<String> = switchyard_host::Service::ALL
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.sort();
    assert_eq!(
        services, all,
        "acme has an embedded default for every contract"
    );
    let mut cloud: Vec<(String, String)> = runtime
        .bindings()
        .into_iter()
        .filter(|b| b.tenant == "globex")
        .map(|b| (b.service, b.adapter))
        .collect();
    cloud.sort();
    assert_eq!(
        cloud,
        [
            ("analytics", "analytics-posthog"),
            ("email", "email-sendgrid"),
            ("notification", "notification-twilio"),
            ("payment", "payment-stripe"),
            ("search", "search-algolia"),
            ("storage", "storage-supabase"),
        ]
        .map(|(s, a)| (s.to_string(), a.to_string())),
        "globex has every cloud adapter"
    );
    runtime.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_metrics_count_calls_outcomes_and_contract_errors() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start_with(&config(data.path()), None, false).await;
    for args in [
        json!({"name": "ok_total", "value": 1, "tags": []}),
        json!({"name": "ok_total", "value": 1, "tags": []}),
        json!({"name": "bad name", "value": 1, "tags": []}),
    ] {
        server
            .client
            .post_json("/v1/tenants/acme/monitoring/increment", &args)
            .await
            .expect("increment");
    }
    let text = String::from_utf8_lossy(&server.client.get("/metrics").await.expect("GET").body)
        .into_owned();
    let labels =
        "adapter=\"monitoring-host\",outcome=\"ok\",service=\"monitoring\",tenant=\"acme\"";
    for line in [
        "# TYPE switchyard_calls_total counter".to_string(),
        format!("switchyard_calls_total{{{labels}}} 3"),
        "# TYPE switchyard_call_duration_seconds histogram".to_string(),
        "switchyard_call_duration_seconds_count{adapter=\"monitoring-host\",service=\"monitoring\",tenant=\"acme\"} 3".to_string(),
        "switchyard_contract_errors_total{adapter=\"monitoring-host\",kind=\"invalid-input\",service=\"monitoring\",tenant=\"acme\"} 1".to_string(),
        "ok_total{tenant=\"acme\"} 2".to_string(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing from:\n{text}");
    }
    // Tenants cannot write into the host's own names.
    let r = server
        .client
        .post_json(
            "/v1/tenants/acme/monitoring/increment",
            &json!({"name": "switchyard_calls_total", "value": 1, "tags": []}),
        )
        .await
        .expect("increment");
    assert_eq!(r.status, 400);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_every_bindings_health() {
    let data = tempfile::tempdir().expect("tempdir");
    let healthy = TestServer::start_with(&config(data.path()), None, false).await;
    let r = healthy.client.get("/readyz").await.expect("GET");
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["ready"], true);
    let bindings = r.json()["bindings"].as_array().expect("bindings").clone();
    assert_eq!(bindings.len(), 2);
    assert!(bindings
        .iter()
        .all(|b| b["ok"] == true && b["tenant"] == "acme"));
    healthy.shutdown().await;

    // A PostHog binding whose host does not answer makes the server not ready.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", dead.local_addr().expect("addr"));
    drop(dead);
    let text = format!(
        "{}\n[tenants.globex.analytics]\ncomponent = \"{}\"\nallow = [\"{url}\"]\nconfig = {{ host = \"{url}\" }}\n",
        config(data.path()),
        component("analytics-posthog").display(),
    );
    let server = TestServer::start_with(&text, None, false).await;
    let r = server.client.get("/readyz").await.expect("GET");
    assert_eq!(r.status, 503, "{:?}", r.json());
    assert_eq!(r.json()["ready"], false);
    let globex = r.json()["bindings"]
        .as_array()
        .expect("bindings")
        .iter()
        .find(|b| b["tenant"] == "globex")
        .cloned()
        .expect("globex listed");
    assert_eq!(globex["ok"], false, "{globex}");
    assert_eq!(globex["adapter"], "analytics-posthog");
    let live = server.client.get("/healthz").await.expect("GET");
    assert_eq!(
        live.status, 200,
        "the process is up even when a binding is not ready"
    );
    server.shutdown().await;
}
