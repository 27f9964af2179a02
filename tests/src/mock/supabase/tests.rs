//! The mock on the wire: auth, errors in Supabase's shape, state, signed URLs, injection.

use serde_json::{json, Value};

use super::super::test_client::{self, Answer};
use super::*;

const KEY: &str = "service-role-key-for-tests";

fn auth() -> Vec<(&'static str, &'static str)> {
    vec![
        ("apikey", KEY),
        ("authorization", "Bearer service-role-key-for-tests"),
    ]
}

async fn call(
    mock: &MockSupabase,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Answer {
    test_client::send(
        method,
        &format!("{}{path}", mock.storage_url()),
        headers,
        body,
    )
    .await
    .expect("request")
}

async fn json_call(mock: &MockSupabase, method: Method, path: &str, body: Value) -> (u16, Value) {
    let mut headers = auth();
    headers.push(("content-type", "application/json"));
    let a = call(mock, method, path, &headers, body.to_string()).await;
    (
        a.status,
        serde_json::from_str(&a.body).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn auth_is_checked_and_errors_have_supabases_shape() {
    let mock = MockSupabase::start(KEY).await;
    let a = call(&mock, Method::GET, "/bucket", &[], "").await;
    assert_eq!(a.status, 401, "{}", a.body);
    let a = call(
        &mock,
        Method::GET,
        "/bucket",
        &[("apikey", KEY), ("authorization", "Bearer nope")],
        "",
    )
    .await;
    assert_eq!(a.status, 400);
    let body: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(body["code"], "InvalidJWT");
    assert_eq!(body["statusCode"], "400");

    let (status, body) =
        json_call(&mock, Method::GET, "/object/info/none/x.txt", json!(null)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"statusCode": "404", "code": "NoSuchKey", "error": "not_found", "message": "Object not found"})
    );
}

#[tokio::test]
async fn objects_limits_and_signed_urls() {
    let mock = MockSupabase::start(KEY).await;
    let (s, _) = json_call(
        &mock,
        Method::POST,
        "/bucket",
        json!({"name": "docs", "file_size_limit": 5, "allowed_mime_types": ["text/*"]}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = json_call(&mock, Method::POST, "/bucket", json!({"name": "docs"})).await;
    assert_eq!((s, b["code"].as_str()), (400, Some("BucketAlreadyExists")));

    let mut h = auth();
    h.extend([
        ("content-type", "text/plain"),
        ("x-upsert", "false"),
        ("x-metadata", "eyJhIjoiYiJ9"),
    ]);
    let a = call(&mock, Method::POST, "/object/docs/a/b.txt", &h, "hello").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = call(&mock, Method::POST, "/object/docs/a/b.txt", &h, "hello").await;
    assert!(a.body.contains("ResourceAlreadyExists"), "{}", a.body);
    let a = call(&mock, Method::POST, "/object/docs/big.txt", &h, "toolong").await;
    assert!(a.body.contains("\"statusCode\":\"413\""), "{}", a.body);
    let mut png = auth();
    png.push(("content-type", "image/png"));
    let a = call(&mock, Method::POST, "/object/docs/x.png", &png, "x").await;
    assert!(a.body.contains("InvalidMimeType"), "{}", a.body);
    let a = call(&mock, Method::POST, "/object/docs/%C3%A9.txt", &h, "x").await;
    assert!(a.body.contains("InvalidKey"), "{}", a.body);

    let stored = mock.object("docs", "a/b.txt").expect("stored");
    assert_eq!(stored.body, b"hello");
    assert_eq!(stored.cache_control, "no-cache");
    assert_eq!(stored.user_metadata, Some(json!({"a": "b"})));
    assert_eq!(stored.etag, "\"5d41402abc4b2a76b9719d911017c592\"");

    let (s, signed) = json_call(
        &mock,
        Method::POST,
        "/object/sign/docs/a/b.txt",
        json!({"expiresIn": 60}),
    )
    .await;
    assert_eq!(s, 200);
    let url = format!(
        "{}{}",
        mock.storage_url(),
        signed["signedURL"].as_str().unwrap()
    );
    let a = test_client::get(&url).await.unwrap();
    assert_eq!((a.status, a.body.as_str()), (200, "hello"));
    let a = test_client::get(&format!("{url}x")).await.unwrap();
    assert!(a.body.contains("InvalidSignature"), "{}", a.body);
    let expired = mock.sign_token("docs", "a/b.txt", -10);
    let a = test_client::get(&format!(
        "{}/object/sign/docs/a/b.txt?token={expired}",
        mock.storage_url()
    ))
    .await
    .unwrap();
    assert!(a.body.contains("ExpiredToken"), "{}", a.body);

    let (_, listed) = json_call(
        &mock,
        Method::POST,
        "/object/list-v2/docs",
        json!({"with_delimiter": true}),
    )
    .await;
    assert_eq!(listed["folders"][0]["name"], "a/");
    assert_eq!(listed["hasNext"], false);
}

#[tokio::test]
async fn injected_failures_come_first() {
    let mock = MockSupabase::start(KEY).await;
    mock.fail_next_rate_limited(1, Some(2));
    mock.fail_next_unavailable(1);
    let a = call(&mock, Method::GET, "/bucket", &auth(), "").await;
    assert_eq!(a.status, 429);
    assert_eq!(
        a.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_eq!(
        call(&mock, Method::GET, "/bucket", &auth(), "")
            .await
            .status,
        503
    );
    assert_eq!(
        call(&mock, Method::GET, "/bucket", &auth(), "")
            .await
            .status,
        200
    );
    assert_eq!(mock.requests().len(), 3);
}
