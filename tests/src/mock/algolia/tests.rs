use std::time::Duration;

use hyper::Method;
use serde_json::{json, Value};

use super::super::test_client::{self, Answer};
use super::*;

async fn call(
    mock: &MockAlgolia,
    host: usize,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", mock.host_url(host));
    let app = mock.app_id();
    let mut headers = vec![
        ("x-algolia-application-id", app.as_str()),
        ("x-algolia-api-key", key),
    ];
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let Answer { status, body, .. } = test_client::send(
        method,
        &url,
        &headers,
        body.map(|b| b.to_string()).unwrap_or_default(),
    )
    .await
    .expect("request");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn wait_task(mock: &MockAlgolia, index: &str, task: &Value) {
    for _ in 0..100 {
        let (_, t) = call(
            mock,
            0,
            ADMIN_KEY,
            Method::GET,
            &format!("/1/indexes/{index}/task/{task}"),
            None,
        )
        .await;
        if t["status"] == "published" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("task {task} never published");
}

#[tokio::test]
async fn writes_are_visible_once_their_task_is_published() {
    let mock = MockAlgolia::start_with(MockAlgoliaOptions {
        publish_delay: Duration::from_millis(200),
        ..MockAlgoliaOptions::default()
    })
    .await;
    let (status, answer) = call(
        &mock,
        1,
        ADMIN_KEY,
        Method::POST,
        "/1/indexes/books/batch",
        Some(json!({"requests": [{"action": "addObject", "body": {"objectID": "1", "title": "Dune"}}]})),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["objectIDs"], json!(["1"]));
    let (status, _) = call(
        &mock,
        0,
        ADMIN_KEY,
        Method::POST,
        "/1/indexes/books/query",
        Some(json!({"query": "dune"})),
    )
    .await;
    assert_eq!(status, 404, "not published yet: the index does not exist");
    let (_, t) = call(
        &mock,
        0,
        ADMIN_KEY,
        Method::GET,
        &format!("/1/indexes/books/task/{}", answer["taskID"]),
        None,
    )
    .await;
    assert_eq!(t["status"], "notPublished");
    wait_task(&mock, "books", &answer["taskID"]).await;
    let (status, found) = call(
        &mock,
        2,
        ADMIN_KEY,
        Method::POST,
        "/1/indexes/books/query",
        Some(json!({"query": "dune"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["nbHits"], 1);
    assert_eq!(found["hits"][0]["objectID"], "1");
}

#[tokio::test]
async fn checks_keys_acls_and_index_restrictions() {
    let mock = MockAlgolia::start().await;
    mock.add_key(ApiKey::new("acme_key", &["acme_*"]));
    mock.add_key(ApiKey::new("search_only", &[]).with_acl(&["search"]));
    let (status, body) = call(&mock, 0, "wrong", Method::GET, "/1/indexes", None).await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"message": "Invalid Application-ID or API key", "status": 403})
        )
    );
    let (status, body) = call(
        &mock,
        0,
        "acme_key",
        Method::GET,
        "/1/indexes/globex_books/settings",
        None,
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Index not allowed with this API key"))
    );
    let (status, body) = call(
        &mock,
        0,
        "search_only",
        Method::PUT,
        "/1/indexes/x/settings",
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (403, Some("Method not allowed with this API key"))
    );
    let (status, body) = call(
        &mock,
        0,
        "acme_key",
        Method::PUT,
        "/1/indexes/acme_x/settings",
        Some(json!({"bogus": 1})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, t) = call(
        &mock,
        0,
        "acme_key",
        Method::PUT,
        "/1/indexes/acme_x/settings",
        Some(json!({"searchableAttributes": ["title"]})),
    )
    .await;
    assert_eq!(status, 200);
    wait_task(&mock, "acme_x", &t["taskID"]).await;
    let (_, t) = call(
        &mock,
        0,
        ADMIN_KEY,
        Method::PUT,
        "/1/indexes/globex_y/settings",
        Some(json!({})),
    )
    .await;
    wait_task(&mock, "globex_y", &t["taskID"]).await;
    let (_, listed) = call(&mock, 0, "acme_key", Method::GET, "/1/indexes", None).await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["acme_x"]);
    let (_, all) = call(&mock, 0, ADMIN_KEY, Method::GET, "/1/indexes", None).await;
    assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn injects_failures_per_host() {
    let mock = MockAlgolia::start().await;
    mock.fail_next(0, 1, Failure::status(503, "Service Unavailable"));
    mock.fail_next(1, 1, Failure::rate_limited(2));
    let (status, body) = call(&mock, 0, ADMIN_KEY, Method::GET, "/1/indexes", None).await;
    assert_eq!((status, body["status"].clone()), (503, json!(503)));
    let answer = test_client::send(
        Method::GET,
        &format!("{}/1/indexes", mock.host_url(1)),
        &[],
        "",
    )
    .await
    .expect("request");
    assert_eq!(answer.status, 429);
    assert_eq!(
        answer
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    let (status, _) = call(&mock, 0, ADMIN_KEY, Method::GET, "/1/indexes", None).await;
    assert_eq!(status, 200, "one failure only");
    mock.fail_next(2, 1, Failure::Delay(Duration::from_millis(300)));
    let url = format!("{}/1/indexes", mock.host_url(2));
    let slow = tokio::time::timeout(Duration::from_millis(100), test_client::get(&url)).await;
    assert!(slow.is_err(), "the delayed host did not answer in time");
    assert_eq!(mock.requests(0).len(), 2);
    assert_eq!(mock.requests(3).len(), 0);
}

#[tokio::test]
async fn replicas_sort_their_primarys_records() {
    let mock = MockAlgolia::start_with(MockAlgoliaOptions {
        publish_delay: Duration::ZERO,
        ..MockAlgoliaOptions::default()
    })
    .await;
    call(
        &mock,
        1,
        ADMIN_KEY,
        Method::PUT,
        "/1/indexes/p/settings",
        Some(json!({"replicas": ["p_price_desc"]})),
    )
    .await;
    call(
        &mock,
        1,
        ADMIN_KEY,
        Method::PUT,
        "/1/indexes/p_price_desc/settings",
        Some(json!({"ranking": ["desc(price)", "typo"]})),
    )
    .await;
    call(
        &mock,
        1,
        ADMIN_KEY,
        Method::POST,
        "/1/indexes/p/batch",
        Some(json!({"requests": [
            {"action": "addObject", "body": {"objectID": "a", "price": 1}},
            {"action": "addObject", "body": {"objectID": "b", "price": 3}},
            {"action": "addObject", "body": {"objectID": "c"}},
        ]})),
    )
    .await;
    let (_, got) = call(
        &mock,
        0,
        ADMIN_KEY,
        Method::POST,
        "/1/indexes/p_price_desc/query",
        Some(json!({"params": "query=&hitsPerPage=10"})),
    )
    .await;
    let ids: Vec<&str> = got["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["objectID"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["b", "a", "c"]);
    let (_, listed) = call(&mock, 0, ADMIN_KEY, Method::GET, "/1/indexes", None).await;
    assert_eq!(listed["items"][1]["primary"], "p");
    let (status, _) = call(
        &mock,
        1,
        ADMIN_KEY,
        Method::POST,
        "/1/indexes/p_price_desc/batch",
        Some(json!({"requests": []})),
    )
    .await;
    assert_eq!(status, 400, "a replica is read-only");
}

#[test]
fn formats_dates() {
    assert_eq!(iso8601(1_710_513_000_500), "2024-03-15T14:30:00.500Z");
}
