//! What gateway keys leave open: signed and public storage URLs; and `protect_ops`, which puts
//! `/metrics` and the detail of `/readyz` behind the admin token.

use serde_json::json;
use switchyard_tests::mock::posthog::MockPostHog;

use crate::keys::{config, key, ACME_KEY};
use crate::support::{code, component, TestServer, API_KEY, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_and_public_urls_need_no_key() {
    let data = tempfile::tempdir().expect("tempdir");
    let text = format!(
        "[server]\nsigning_key = {{ value = \"a-test-signing-key-of-32-bytes!!\" }}\n{}\n\
         [runtime]\npooling = false\n\n[tenants.acme.storage]\ncomponent = \"{}\"\nfiles = \"{}\"\n",
        key("acme-all", "acme", ACME_KEY, ""),
        component("storage-local").display(),
        data.path().join("acme").display(),
    );
    let server = TestServer::start_with(&text, None, false).await;
    let call = |function: &'static str, args: serde_json::Value| {
        let server = &server;
        async move {
            let r = server
                .call_with(Some(ACME_KEY), "acme", "storage", function, &args)
                .await;
            assert_eq!(r.status, 200, "{function}: {:?}", r.json());
            r.json()["result"].clone()
        }
    };
    call(
        "create-bucket",
        json!({"name": "site", "options": {"public": true}}),
    )
    .await;
    call(
        "upload",
        json!({"bucket": "site", "key": "index.html", "body": "hello",
               "options": {"metadata": [], "content-type": "text/html"}}),
    )
    .await;
    let signed = call(
        "signed-download-url",
        json!({"bucket": "site", "key": "index.html", "expires-in-s": 60}),
    )
    .await;
    let url = signed["url"].as_str().expect("url");
    let path = &url[url.find("/v1/signed/").expect("signed path")..];
    let r = server.client.get(path).await.expect("GET");
    assert_eq!((r.status, &r.body[..]), (200, &b"hello"[..]));
    let r = server
        .client
        .get("/v1/public/acme/storage/site/index.html")
        .await
        .expect("GET");
    assert_eq!((r.status, &r.body[..]), (200, &b"hello"[..]));
    let r = server
        .call_with(None, "acme", "storage", "list-buckets", &json!({}))
        .await;
    assert_eq!(r.status, 401);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protect_ops_puts_metrics_and_readiness_detail_behind_the_admin_token() {
    let mock = MockPostHog::start(API_KEY).await;
    let text = config(
        &mock,
        "protect_ops = true\nadmin_token = { value = \"t\" }\n",
    );
    let server = TestServer::start_with(&text, Some(TOKEN), false).await;
    let r = server.client.get("/metrics").await.expect("request");
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthorized"));
    assert_eq!(
        server
            .with_token(TOKEN)
            .get("/metrics")
            .await
            .expect("request")
            .status,
        200
    );
    let r = server.client.get("/readyz").await.expect("request");
    assert_eq!(r.json()["ready"], true, "{:?}", r.json());
    assert!(r.json().get("bindings").is_none(), "{:?}", r.json());
    let r = server
        .with_token(TOKEN)
        .get("/readyz")
        .await
        .expect("request");
    assert!(r.json()["bindings"].is_array(), "{:?}", r.json());
    server.shutdown().await;
}
