//! Gateway keys: a key opens its tenant within its scope, nothing else; keys added and revoked
//! through the admin API or a reload take effect at once; signed URLs need none.

use std::time::Duration;

use serde_json::json;
use switchyard_tests::mock::posthog::MockPostHog;

use crate::support::{code, exchange, metrics, posthog_binding, TestServer, API_KEY, TOKEN};

pub(crate) const ACME_KEY: &str = "acme-key-0123456789abcdef";
const ACME_FLUSH_KEY: &str = "acme-flush-only-0123456789";
const GLOBEX_KEY: &str = "globex-key-0123456789abcdef";

pub(crate) fn key(id: &str, tenant: &str, secret: &str, extra: &str) -> String {
    format!("[[server.keys]]\nid = \"{id}\"\ntenant = \"{tenant}\"\nkey = {{ value = \"{secret}\" }}\n{extra}")
}

/// acme and globex on PostHog, with a key each and a flush-only key of acme.
pub(crate) fn config(mock: &MockPostHog, keys: &str) -> String {
    format!(
        "[runtime]\npooling = false\ntick_interval_ms = 50\n\n[server]\n{keys}\n{}{}",
        posthog_binding("acme", mock),
        posthog_binding("globex", mock)
    )
}

fn three_keys() -> String {
    [
        key("acme-all", "acme", ACME_KEY, ""),
        key(
            "acme-flush",
            "acme",
            ACME_FLUSH_KEY,
            "services = [\"analytics\"]\nfunctions = [\"flush\"]\n",
        ),
        key("globex-all", "globex", GLOBEX_KEY, ""),
    ]
    .concat()
}

fn event() -> serde_json::Value {
    json!({"event": {"name": "signed_up", "distinct-id": "u1"}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_opens_its_tenant_within_its_scope_and_refusals_are_counted() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start_with(&config(&mock, &three_keys()), None, false).await;
    let event = event();
    let track = |key: Option<&'static str>, tenant: &'static str| {
        server.call_with(key, tenant, "analytics", "track", &event)
    };

    // No key, a wrong one, not a bearer token: 401 in the gateway's error shape.
    let r = track(None, "acme").await;
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthorized"));
    assert!(r.headers.contains_key("www-authenticate"));
    assert_eq!(r.json()["error"]["provider"], serde_json::Value::Null);
    assert!(r.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("Bearer")));
    let r = track(Some("not-a-key-of-anybody-0000"), "acme").await;
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthorized"));
    let basic = format!(
        "POST /v1/tenants/acme/analytics/track HTTP/1.1\r\nhost: test\r\nauthorization: Basic {ACME_KEY}\r\n\
         connection: close\r\ncontent-length: 0\r\n\r\n"
    );
    let answer = exchange(&server.addr(), basic.as_bytes(), Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // A tenant that does not exist is not revealed without a key.
    let r = track(None, "nobody").await;
    assert_eq!(r.status, 401);

    // Its own tenant: yes. Another tenant's: no.
    let r = track(Some(ACME_KEY), "acme").await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = track(Some(GLOBEX_KEY), "globex").await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = track(Some(ACME_KEY), "globex").await;
    assert_eq!((r.status, code(&r).as_str()), (403, "forbidden"));
    let message = r.json()["error"]["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        message.contains("acme") && message.contains("globex"),
        "{message}"
    );

    // A scoped key: only its function.
    let r = server
        .call_with(
            Some(ACME_FLUSH_KEY),
            "acme",
            "analytics",
            "flush",
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = track(Some(ACME_FLUSH_KEY), "acme").await;
    assert_eq!((r.status, code(&r).as_str()), (403, "forbidden"));
    assert!(r.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("flush")));
    let r = track(Some(ACME_FLUSH_KEY), "globex").await;
    assert_eq!(r.status, 403);

    // The list of services needs a key too; health does not.
    let r = server.client.get("/v1/services").await.expect("request");
    assert_eq!(r.status, 401);
    let r = server
        .with_token(GLOBEX_KEY)
        .get("/v1/services")
        .await
        .expect("request");
    assert_eq!(r.status, 200);
    let r = server.client.get("/healthz").await.expect("request");
    assert_eq!(r.status, 200);

    let text = metrics(&server.client).await;
    for (reason, n) in [
        ("missing", 3),
        ("invalid", 2),
        ("wrong_tenant", 2),
        ("out_of_scope", 1),
    ] {
        let line = format!("switchyard_gateway_auth_failures_total{{reason=\"{reason}\"}} {n}\n");
        assert!(text.contains(&line), "{line} missing from {text}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_added_and_revoked_through_the_admin_api_take_effect_at_once() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start_with(&config(&mock, &three_keys()), Some(TOKEN), true).await;
    let admin = server.with_token(TOKEN);

    let r = server.client.get("/admin/keys").await.expect("request");
    assert_eq!(r.status, 401, "the keys API is the admin API's");
    let r = admin
        .post_json("/admin/keys", &json!({"tenant": "acme", "id": "ci"}))
        .await
        .expect("request");
    assert_eq!(r.status, 201, "{:?}", r.json());
    let secret = r.json()["key"]
        .as_str()
        .expect("the new key, once")
        .to_string();
    assert!(secret.starts_with("sy_") && secret.len() == 67, "{secret}");
    assert_eq!(r.json()["tenant"], "acme");
    let r = server
        .call_with(Some(&secret), "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = server
        .call_with(Some(&secret), "globex", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 403);

    // A key given by the caller, scoped; it is not echoed back.
    let r = admin
        .post_json(
            "/admin/keys",
            &json!({"tenant": "globex", "id": "globex-flush", "key": "globex-flush-key-000000",
                    "functions": ["analytics/flush"]}),
        )
        .await
        .expect("request");
    assert_eq!(r.status, 201, "{:?}", r.json());
    assert!(r.json().get("key").is_none(), "{:?}", r.json());
    let r = server
        .call_with(
            Some("globex-flush-key-000000"),
            "globex",
            "analytics",
            "flush",
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());

    // Refusals: an id in use, an unknown tenant, a bad scope, a short key.
    for (body, status, expected) in [
        (json!({"tenant": "acme", "id": "ci"}), 409, "key_exists"),
        (
            json!({"tenant": "acme", "key": ACME_KEY}),
            409,
            "key_in_use",
        ),
        (json!({"tenant": "nobody"}), 404, "unknown_tenant"),
        (
            json!({"tenant": "acme", "services": ["nope"]}),
            400,
            "bad_key",
        ),
        (json!({"tenant": "acme", "key": "short"}), 400, "bad_key"),
        (json!({"tenant": "acme", "colour": "red"}), 400, "bad_json"),
    ] {
        let r = admin
            .post_json("/admin/keys", &body)
            .await
            .expect("request");
        assert_eq!((r.status, code(&r).as_str()), (status, expected), "{body}");
    }

    // The listing names every key, never a secret.
    let r = admin.get("/admin/keys").await.expect("request");
    assert_eq!(r.status, 200);
    let listing = r.json().to_string();
    for id in ["acme-all", "acme-flush", "globex-all", "ci", "globex-flush"] {
        assert!(
            listing.contains(&format!("\"id\":\"{id}\"")),
            "{id} in {listing}"
        );
    }
    for secret in [
        secret.as_str(),
        ACME_KEY,
        ACME_FLUSH_KEY,
        GLOBEX_KEY,
        "globex-flush-key",
    ] {
        assert!(!listing.contains(secret), "a secret leaked: {listing}");
    }
    assert_eq!(r.json()["required"], true);

    // Revoked: refused at once; a file key stays revoked across a reload.
    let r = admin.delete("/admin/keys/ci").await.expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = server
        .call_with(Some(&secret), "acme", "analytics", "track", &event())
        .await;
    assert_eq!((r.status, code(&r).as_str()), (401, "unauthorized"));
    let r = admin.delete("/admin/keys/ci").await.expect("request");
    assert_eq!((r.status, code(&r).as_str()), (404, "unknown_key"));
    let r = admin.delete("/admin/keys/acme-all").await.expect("request");
    assert_eq!(r.status, 200);
    let r = server
        .call_with(Some(ACME_KEY), "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 401);
    let r = admin.post("/admin/reload").await.expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = server
        .call_with(Some(ACME_KEY), "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 401, "a reload does not bring a revoked key back");
    // The admin API's keys survive the reload.
    let r = server
        .call_with(
            Some("globex-flush-key-000000"),
            "globex",
            "analytics",
            "flush",
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_makes_the_keys_follow_the_file() {
    let mock = MockPostHog::start(API_KEY).await;
    let server = TestServer::start_with(&config(&mock, &three_keys()), Some(TOKEN), true).await;
    let new_key = "acme-rotated-key-0123456789";
    let r = server
        .call_with(Some(new_key), "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 401);

    let keys = [
        key("acme-rotated", "acme", new_key, ""),
        key("globex-all", "globex", GLOBEX_KEY, ""),
    ]
    .concat();
    std::fs::write(&server.config, config(&mock, &keys)).expect("rewrite");
    let r = server
        .with_token(TOKEN)
        .post("/admin/reload")
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["keys"]["added"], json!(["acme-rotated"]));
    assert_eq!(
        r.json()["keys"]["removed"],
        json!(["acme-all", "acme-flush"])
    );
    let r = server
        .call_with(Some(new_key), "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let r = server
        .call_with(Some(ACME_KEY), "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 401, "a key gone from the file fails at once");

    // A file whose keys do not load changes nothing.
    std::fs::write(
        &server.config,
        config(&mock, &key("x", "nobody", new_key, "")),
    )
    .expect("rewrite");
    let r = server
        .with_token(TOKEN)
        .post("/admin/reload")
        .await
        .expect("request");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (500, "config_error"),
        "{:?}",
        r.json()
    );
    let r = server
        .call_with(Some(new_key), "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_keys_decides_when_no_key_is_configured() {
    let mock = MockPostHog::start(API_KEY).await;
    // Unset, no keys: open as before; the first key added closes it.
    let server = TestServer::start_with(&config(&mock, ""), Some(TOKEN), false).await;
    let r = server
        .call_with(None, "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    let admin = server.with_token(TOKEN);
    let r = admin
        .post_json("/admin/keys", &json!({"tenant": "acme", "id": "k"}))
        .await
        .expect("request");
    assert_eq!(r.status, 201);
    let r = server
        .call_with(None, "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 401);
    // Revoking the last key does not open the gateway again.
    let r = admin.delete("/admin/keys/k").await.expect("request");
    assert_eq!(r.status, 200);
    let r = server
        .call_with(None, "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 401);
    server.shutdown().await;

    // true: closed even without keys. false: open even with keys.
    let strict = TestServer::start_with(&config(&mock, "require_keys = true\n"), None, false).await;
    let r = strict
        .call_with(None, "acme", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 401);
    strict.shutdown().await;
    let open = format!("require_keys = false\n{}", key("k", "acme", ACME_KEY, ""));
    let open = TestServer::start_with(&config(&mock, &open), None, false).await;
    let r = open
        .call_with(None, "globex", "analytics", "track", &event())
        .await;
    assert_eq!(r.status, 200, "{:?}", r.json());
    open.shutdown().await;
}
