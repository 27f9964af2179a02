//! The admin API: off without a token, bearer auth, bindings, swap, reload.

use serde_json::json;
use switchyard_tests::mock::posthog::MockPostHog;

use crate::support::{code, component, config_text, posthog_binding, TestServer, API_KEY, TOKEN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_admin_api_does_not_exist() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, None).await;
    for path in ["/admin/bindings", "/admin/reload", "/admin/anything"] {
        let r = server.with_token(TOKEN).get(path).await.expect("request");
        assert_eq!((r.status, code(&r).as_str()), (404, "not_found"), "{path}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_needs_the_right_bearer_token() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, Some(TOKEN)).await;

    let r = server.client.get("/admin/bindings").await.expect("request");
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthorized"));
    assert!(r.headers.contains_key("www-authenticate"));

    let r = server
        .with_token("wrong")
        .get("/admin/bindings")
        .await
        .expect("request");
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthorized"));
    assert!(!r.json().to_string().contains(TOKEN));

    // Unknown admin routes are not revealed without the token either.
    let r = server
        .client
        .get("/admin/secret-route")
        .await
        .expect("request");
    assert_eq!(r.status, 401);

    let r = server
        .with_token(TOKEN)
        .get("/admin/bindings")
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    let bindings = r.json()["bindings"].clone();
    assert_eq!(bindings.as_array().map(Vec::len), Some(1), "{bindings}");
    assert_eq!(bindings[0]["tenant"], "acme");
    assert_eq!(bindings[0]["service"], "analytics");
    assert_eq!(bindings[0]["adapter"], "analytics-posthog");
    assert_eq!(bindings[0]["digest"].as_str().map(str::len), Some(64));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swap_by_upload_or_by_path_changes_the_digest() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, Some(TOKEN)).await;
    let admin = server.with_token(TOKEN);
    let digest = || async {
        admin.get("/admin/bindings").await.expect("request").json()["bindings"][0]["digest"]
            .as_str()
            .map(str::to_string)
            .expect("digest")
    };
    let before = digest().await;

    // Something buffered in the old component is delivered by the swap.
    let r = server
        .call(
            "acme",
            "track",
            &json!({"event": {"name": "before_swap", "distinct-id": "u1"}}),
        )
        .await;
    assert_eq!(r.status, 200);

    let bytes = std::fs::read(component("test-recorder")).expect("component");
    let r = admin
        .post_wasm(
            "/admin/tenants/acme/analytics/swap?name=recorder-upload",
            bytes.into(),
        )
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    let report = r.json();
    assert_eq!(report["old_digest"], before.as_str());
    assert_ne!(report["new_digest"], before.as_str());
    assert_eq!(report["drained"], json!({"ok": true}));
    assert_eq!(mock.event_count(), 1, "the old component drained its batch");
    let after = digest().await;
    assert_eq!(report["new_digest"], after.as_str());
    let listed = admin.get("/admin/bindings").await.expect("request").json();
    assert_eq!(listed["bindings"][0]["adapter"], "recorder-upload");

    // Back by path.
    let path = component("analytics-posthog");
    let r = admin
        .post_json(
            "/admin/tenants/acme/analytics/swap",
            &json!({ "path": path }),
        )
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["new_digest"], before.as_str());

    // Refusals.
    let r = admin
        .post_json(
            "/admin/tenants/acme/analytics/swap",
            &json!({ "path": "relative.wasm" }),
        )
        .await
        .expect("request");
    assert_eq!((r.status, code(&r).as_str()), (400, "bad_json"));
    let r = admin
        .send(
            http::Method::POST,
            "/admin/tenants/acme/analytics/swap",
            Some("text/plain"),
            bytes::Bytes::from_static(b"x"),
        )
        .await
        .expect("request");
    assert_eq!(r.status, 415);
    let r = admin
        .post_wasm(
            "/admin/tenants/nobody/analytics/swap",
            bytes::Bytes::from_static(b"\0asm"),
        )
        .await
        .expect("request");
    assert_eq!((r.status, code(&r).as_str()), (404, "unknown_tenant"));
    let r = admin
        .post_wasm(
            "/admin/tenants/acme/analytics/swap",
            bytes::Bytes::from_static(b"not wasm"),
        )
        .await
        .expect("request");
    assert_eq!(r.status / 100, 4, "{:?}", r.json());
    assert_eq!(
        digest().await,
        before,
        "a refused component changes nothing"
    );

    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_picks_up_a_tenant_added_to_the_file() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start(&mock, Some(TOKEN)).await;
    let admin = server.with_token(TOKEN);

    let r = server
        .call(
            "globex",
            "track",
            &json!({"event": {"name": "x", "distinct-id": "u"}}),
        )
        .await;
    assert_eq!(code(&r), "unknown_tenant");

    let text = format!("{}{}", config_text(&mock), posthog_binding("globex", &mock));
    std::fs::write(&server.config, text).expect("rewrite config");
    let r = admin.post("/admin/reload").await.expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["added"], json!(["globex/analytics"]));
    assert_eq!(r.json()["unchanged"], json!(["acme/analytics"]));

    let r = server
        .call(
            "globex",
            "track",
            &json!({"event": {"name": "x", "distinct-id": "u"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = admin.get("/admin/reload").await.expect("request");
    assert_eq!(r.status, 405);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_without_a_config_file_is_a_conflict() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start_with(&config_text(&mock), Some(TOKEN), false).await;
    let r = server
        .with_token(TOKEN)
        .post("/admin/reload")
        .await
        .expect("request");
    assert_eq!((r.status, code(&r).as_str()), (409, "no_config"));
    server.shutdown().await;
}
