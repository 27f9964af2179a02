//! Unit tests driving `MockSendGrid` over real HTTP with a plain client.

use hyper::Method;
use serde_json::{json, Value};

use super::wire::{decode_base64, encode_base64, is_email};
use super::*;
use crate::mock::test_client::{self, Answer};

const KEY: &str = "SG.test-key";

fn mail() -> Value {
    json!({
        "personalizations": [{"to": [{"email": "ada@example.com", "name": "Ada"}]}],
        "from": {"email": "noreply@example.com"},
        "subject": "Hi",
        "content": [{"type": "text/plain", "value": "Hello"}, {"type": "text/html", "value": "<p>Hello</p>"}],
    })
}

async fn send_as(mock: &MockSendGrid, auth: Option<&str>, body: &Value) -> Answer {
    let mut headers = vec![("content-type", "application/json")];
    let bearer = auth.map(|k| format!("Bearer {k}"));
    if let Some(b) = &bearer {
        headers.push(("authorization", b));
    }
    test_client::send(
        Method::POST,
        &format!("{}/v3/mail/send", mock.base_url()),
        &headers,
        body.to_string(),
    )
    .await
    .expect("request")
}

async fn send(mock: &MockSendGrid, body: &Value) -> Answer {
    send_as(mock, Some(KEY), body).await
}

fn errors(answer: &Answer) -> Vec<(Option<String>, String)> {
    let v: Value = serde_json::from_str(&answer.body).expect("json error body");
    v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().map(str::to_string),
                e["message"].as_str().expect("message").to_string(),
            )
        })
        .collect()
}

fn fields(answer: &Answer) -> Vec<String> {
    errors(answer).into_iter().filter_map(|(f, _)| f).collect()
}

#[tokio::test]
async fn valid_send_is_accepted_and_recorded() {
    let mock = MockSendGrid::start(KEY).await;
    let mut body = mail();
    body["attachments"] = json!([{"content": encode_base64(&[0xff, 0, 1]), "filename": "a.bin", "type": "application/octet-stream", "disposition": "attachment"}]);
    let answer = send(&mock, &body).await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(answer.body, "");
    let id = answer.headers["x-message-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 22);
    let messages = mock.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].id, id);
    assert_eq!(messages[0].subject(), "Hi");
    assert_eq!(messages[0].from(), "noreply@example.com");
    assert_eq!(messages[0].attachment(0), Some(vec![0xff, 0, 1]));
    // Ids differ.
    let again = send(&mock, &mail()).await;
    assert_ne!(again.headers["x-message-id"], id.as_str());
    // The mock's own listing.
    let listed = test_client::get(&format!("{}/_mock/messages", mock.base_url()))
        .await
        .unwrap();
    let listed: Value = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["messages"][0]["x_message_id"], id.as_str());
    assert_eq!(listed["messages"][0]["body"]["subject"], "Hi");
}

#[tokio::test]
async fn auth_scope_and_content_type() {
    let mock = MockSendGrid::start(KEY).await;
    let none = send_as(&mock, None, &mail()).await;
    assert_eq!(none.status, 401);
    assert_eq!(errors(&none)[0].1, "authorization required");
    let wrong = send_as(&mock, Some("SG.other"), &mail()).await;
    assert_eq!(wrong.status, 401);
    assert!(errors(&wrong)[0].1.contains("invalid, expired, or revoked"));
    let text = test_client::send(
        Method::POST,
        &format!("{}/v3/mail/send", mock.base_url()),
        &[
            ("authorization", "Bearer SG.test-key"),
            ("content-type", "text/plain"),
        ],
        mail().to_string(),
    )
    .await
    .unwrap();
    assert_eq!(text.status, 415);
    let scopes = test_client::send(
        Method::GET,
        &format!("{}/v3/scopes", mock.base_url()),
        &[("authorization", "Bearer SG.test-key")],
        "",
    )
    .await
    .unwrap();
    assert_eq!(scopes.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&scopes.body).unwrap(),
        json!({"scopes": ["mail.send"]})
    );
    mock.set_scopes(&["stats.read"]);
    let forbidden = send(&mock, &mail()).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(errors(&forbidden)[0].1, "access forbidden");
    assert_eq!(mock.message_count(), 0);
    assert_eq!(mock.send_requests().len(), 4);
}

#[tokio::test]
async fn validation_answers_every_error_with_its_field() {
    let mock = MockSendGrid::start(KEY).await;
    let bad = json!({
        "personalizations": [{
            "to": [{"email": "ada@example.com"}, {"email": "not-an-address"}],
            "cc": [{"email": "ADA@example.com"}],
        }],
        "from": {"email": "nope"},
        "reply_to": {"email": "x"},
        "content": [{"type": "text/html", "value": "<p>x</p>"}, {"type": "text/plain", "value": ""}],
        "attachments": [
            {"content": "not base64!", "filename": "a.txt", "type": "text/plain; charset=utf-8"},
            {"content": "eA==", "filename": "b.png", "disposition": "inline"},
        ],
        "categories": ["a", "a", "ü"],
        "headers": {"Subject": "x", "X-Ok": 1},
        "custom_args": {"n": 1},
    });
    let answer = send(&mock, &bad).await;
    assert_eq!(answer.status, 400);
    let named = fields(&answer);
    for want in [
        "from.email",
        "personalizations.0.to.1.email",
        "personalizations.0",
        "subject",
        "reply_to.email",
        "content.1.value",
        "content",
        "attachments.0.content",
        "attachments.0.type",
        "attachments.1.content_id",
        "categories.1",
        "categories.2",
        "headers",
        "custom_args",
    ] {
        assert!(
            named.iter().any(|f| f == want),
            "{want} missing from {named:?}"
        );
    }
    assert!(errors(&answer)
        .iter()
        .any(|(_, m)| m.contains("first duplicate instance of [ADA@example.com]")));
    assert_eq!(mock.message_count(), 0);

    // Structure.
    let answer = send(&mock, &json!({"from": {"email": "a@b.co"}, "subject": "s", "content": [{"type": "text/plain", "value": "x"}]})).await;
    assert_eq!(fields(&answer), vec!["personalizations"]);
    let answer = send(&mock, &json!({"personalizations": [{"cc": [{"email": "a@b.co"}]}], "from": {"email": "a@b.co"}, "subject": "s", "content": [{"type": "text/plain", "value": "x"}]})).await;
    assert_eq!(fields(&answer), vec!["personalizations.0.to"]);
    let mut no_content = mail();
    no_content.as_object_mut().unwrap().remove("content");
    assert_eq!(fields(&send(&mock, &no_content).await), vec!["content"]);
    // A subject per personalization stands in for the top-level one.
    let mut per = mail();
    per.as_object_mut().unwrap().remove("subject");
    per["personalizations"][0]["subject"] = json!("each");
    assert_eq!(send(&mock, &per).await.status, 202);
    let not_json = test_client::send(
        Method::POST,
        &format!("{}/v3/mail/send", mock.base_url()),
        &[
            ("authorization", "Bearer SG.test-key"),
            ("content-type", "application/json"),
        ],
        "{",
    )
    .await
    .unwrap();
    assert_eq!(not_json.status, 400);
    assert_eq!(errors(&not_json), vec![(None, "Bad Request".to_string())]);
}

#[tokio::test]
async fn recipient_and_size_limits() {
    let mock = MockSendGrid::start(KEY).await;
    let to: Vec<Value> = (0..1000)
        .map(|i| json!({"email": format!("r{i}@example.com")}))
        .collect();
    let mut body = mail();
    body["personalizations"][0]["to"] = json!(to);
    assert_eq!(send(&mock, &body).await.status, 202);
    body["personalizations"][0]["cc"] = json!([{"email": "one-more@example.com"}]);
    let answer = send(&mock, &body).await;
    assert_eq!(answer.status, 400);
    assert!(errors(&answer)[0].1.contains("1000 total recipients"));
    let ps: Vec<Value> = (0..1001)
        .map(|i| json!({"to": [{"email": format!("p{i}@example.com")}]}))
        .collect();
    let mut body = mail();
    body["personalizations"] = json!(ps);
    let answer = send(&mock, &body).await;
    assert!(errors(&answer)
        .iter()
        .any(|(_, m)| m.contains("You have provided 1001 personalizations")));
    // 30 MB counts decoded attachments.
    let mut big = mail();
    big["attachments"] =
        json!([{"content": encode_base64(&vec![7u8; 30 * 1024 * 1024]), "filename": "big.bin"}]);
    let answer = send(&mock, &big).await;
    assert_eq!(answer.status, 413);
    assert!(errors(&answer)[0].1.contains("30MB"));
    assert_eq!(mock.message_count(), 1);
}

#[tokio::test]
async fn injected_failures_and_verified_senders() {
    let mock = MockSendGrid::start_with(
        MockSendGridOptions::new(KEY).verified_senders(&["noreply@example.com"]),
    )
    .await;
    mock.rate_limit_next(1, Some(2), Some(30));
    let limited = send(&mock, &mail()).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "2");
    let reset: u64 = limited.headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(reset > unix_ms() / 1000 + 20);
    assert_eq!(errors(&limited)[0].1, "too many requests");
    mock.server_error_next(1, 503);
    assert_eq!(send(&mock, &mail()).await.status, 503);
    // A failure is not spent on an unauthenticated request.
    mock.server_error_next(1, 500);
    assert_eq!(send_as(&mock, None, &mail()).await.status, 401);
    assert_eq!(send(&mock, &mail()).await.status, 500);
    assert_eq!(send(&mock, &mail()).await.status, 202);
    let mut other = mail();
    other["from"] = json!({"email": "someone@example.org"});
    let forbidden = send(&mock, &other).await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        errors(&forbidden),
        vec![(Some("from".into()), UNVERIFIED_SENDER.to_string())]
    );
    assert_eq!(mock.message_count(), 1);
}

#[test]
fn base64_is_strict() {
    for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0xff, 0xfe, 0x00]] {
        let text = encode_base64(bytes);
        if bytes.is_empty() {
            assert_eq!(text, "");
        } else {
            assert_eq!(decode_base64(&text).as_deref(), Some(bytes), "{text}");
        }
    }
    assert_eq!(encode_base64(b"foob"), "Zm9vYg==");
    for bad in [
        "", "Zg", "Zg=", "Zh==", "Zm9v\n", "Zm=v", "Z===", "Zm9v-_==", "====",
    ] {
        assert_eq!(decode_base64(bad), None, "{bad:?}");
    }
}

#[test]
fn addresses() {
    for ok in ["a@b.co", "first.last+tag@sub.example.com", "o'neil@x-y.org"] {
        assert!(is_email(ok), "{ok}");
    }
    for bad in [
        "",
        "a",
        "@b.co",
        "a@",
        "a@b",
        "a b@c.co",
        "a@-b.co",
        "a..b@c.co",
        "a@b..co",
    ] {
        assert!(!is_email(bad), "{bad}");
    }
}
