//! The Twilio mock's own tests, over plain HTTP.

use std::time::Duration;

use bytes::Bytes;
use hyper::Method;
use serde_json::Value;

use super::*;
use crate::mock::test_client::{self, Answer};

fn auth(mock: &MockTwilio) -> String {
    format!(
        "Basic {}",
        base64_encode(format!("{}:{}", mock.account_sid(), mock.auth_token()).as_bytes())
    )
}

fn messages_url(mock: &MockTwilio) -> String {
    format!(
        "{}/2010-04-01/Accounts/{}/Messages.json",
        mock.base_url(),
        mock.account_sid()
    )
}

async fn post_form(mock: &MockTwilio, url: &str, form: &str) -> Answer {
    let auth = auth(mock);
    test_client::send(
        Method::POST,
        url,
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        Bytes::from(form.to_string()),
    )
    .await
    .expect("request")
}

async fn get(mock: &MockTwilio, url: &str) -> Answer {
    let auth = auth(mock);
    test_client::send(
        Method::GET,
        url,
        &[("authorization", auth.as_str())],
        Bytes::new(),
    )
    .await
    .expect("request")
}

fn json(answer: &Answer) -> Value {
    serde_json::from_str(&answer.body).expect("JSON body")
}

#[tokio::test]
async fn requires_basic_auth() {
    let mock = MockTwilio::start().await;
    let url = messages_url(&mock);
    let none = test_client::get(&url).await.expect("request");
    assert_eq!(none.status, 401);
    assert_eq!(json(&none)["code"], 20003);
    assert!(none.headers.contains_key("www-authenticate"));
    let wrong = format!(
        "Basic {}",
        base64_encode(format!("{}:nope", mock.account_sid()).as_bytes())
    );
    let bad = test_client::send(
        Method::GET,
        &url,
        &[("authorization", &wrong)],
        Bytes::new(),
    )
    .await
    .expect("request");
    assert_eq!(bad.status, 401);
    let other = format!(
        "{}/2010-04-01/Accounts/AC00000000000000000000000000000999/Messages.json",
        mock.base_url()
    );
    assert_eq!(get(&mock, &other).await.status, 403);
    assert_eq!(get(&mock, &url).await.status, 200);
}

#[tokio::test]
async fn creates_and_walks_the_lifecycle() {
    let mock = MockTwilio::start_with(
        MockTwilioOptions::default().timing(Duration::from_millis(200), Duration::from_millis(400)),
    )
    .await;
    let url = messages_url(&mock);
    let created = post_form(&mock, &url, "To=%2B15558675310&From=%2B15005550006&Body=hi").await;
    assert_eq!(created.status, 201, "{}", created.body);
    let m = json(&created);
    assert_eq!(m["status"], "queued");
    assert_eq!(m["to"], "+15558675310");
    assert_eq!(m["direction"], "outbound-api");
    assert!(m["date_sent"].is_null());
    let sid = m["sid"].as_str().expect("sid").to_string();
    assert_eq!(sid.len(), 34);
    let one = format!(
        "{}/2010-04-01/Accounts/{}/Messages/{sid}.json",
        mock.base_url(),
        mock.account_sid()
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    let done = json(&get(&mock, &one).await);
    assert_eq!(done["status"], "delivered");
    assert!(done["date_sent"].is_string());

    let service = post_form(
        &mock,
        &url,
        &format!(
            "To=%2B15558675311&MessagingServiceSid={}&Body=x",
            mock.messaging_service_sid()
        ),
    )
    .await;
    assert_eq!(json(&service)["status"], "accepted");
}

#[tokio::test]
async fn refuses_like_twilio() {
    let mock = MockTwilio::start().await;
    let url = messages_url(&mock);
    for (form, code) in [
        ("From=%2B15005550006&Body=x", 21604),
        ("To=%2B15558675310&Body=x", 21603),
        ("To=%2B15558675310&From=%2B15005550006", 21602),
        ("To=5558675310&From=%2B15005550006&Body=x", 21211),
        ("To=%2B15005550001&From=%2B15005550006&Body=x", 21211),
        ("To=%2B15005550009&From=%2B15005550006&Body=x", 21614),
        ("To=%2B15558675310&From=%2B15005550007&Body=x", 21606),
        ("To=%2B15558675310&From=%2B15551112222&Body=x", 21606),
        (
            "To=%2B15558675310&MessagingServiceSid=MG00000000000000000000000000000999&Body=x",
            21701,
        ),
        (
            "To=%2B15558675310&From=%2B15005550006&Body=x&ScheduleType=fixed&SendAt=2099-01-01T00:00:00Z",
            35118,
        ),
    ] {
        let answer = post_form(&mock, &url, form).await;
        assert_eq!(answer.status, 400, "{form}: {}", answer.body);
        let body = json(&answer);
        assert_eq!(body["code"], code, "{form}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(body["status"], 400);
        assert!(body["more_info"].as_str().unwrap_or("").ends_with(&code.to_string()));
    }
    let long = format!(
        "To=%2B15558675310&From=%2B15005550006&Body={}",
        "x".repeat(1601)
    );
    assert_eq!(json(&post_form(&mock, &url, &long).await)["code"], 21617);
    // A JSON body is not a form: Twilio sees no parameters.
    let auth = auth(&mock);
    let answer = test_client::send(
        Method::POST,
        &url,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        Bytes::from(r#"{"To":"+15558675310"}"#),
    )
    .await
    .expect("request");
    assert_eq!(json(&answer)["code"], 21604);
    assert!(mock.messages().is_empty());
}

#[tokio::test]
async fn schedules_cancels_and_releases() {
    let mock = MockTwilio::start().await;
    let url = messages_url(&mock);
    let mg = mock.messaging_service_sid();
    let at = |secs: u64| iso(mock.now_ms() + secs * 1000);
    let too_soon = post_form(
        &mock,
        &url,
        &format!(
            "To=%2B15558675310&MessagingServiceSid={mg}&Body=x&ScheduleType=fixed&SendAt={}",
            at(600)
        ),
    )
    .await;
    assert_eq!(json(&too_soon)["code"], 35114);
    let too_far = post_form(
        &mock,
        &url,
        &format!(
            "To=%2B15558675310&MessagingServiceSid={mg}&Body=x&ScheduleType=fixed&SendAt={}",
            at(36 * 24 * 3600)
        ),
    )
    .await;
    assert_eq!(json(&too_far)["code"], 35115);

    let mut sids = Vec::new();
    for _ in 0..2 {
        let answer = post_form(
            &mock,
            &url,
            &format!(
                "To=%2B15558675310&MessagingServiceSid={mg}&Body=x&ScheduleType=fixed&SendAt={}",
                at(3600)
            ),
        )
        .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        assert_eq!(json(&answer)["status"], "scheduled");
        sids.push(json(&answer)["sid"].as_str().expect("sid").to_string());
    }
    let one = |sid: &str| {
        format!(
            "{}/2010-04-01/Accounts/{}/Messages/{sid}.json",
            mock.base_url(),
            mock.account_sid()
        )
    };
    let canceled = post_form(&mock, &one(&sids[0]), "Status=canceled").await;
    assert_eq!(json(&canceled)["status"], "canceled");
    let again = post_form(&mock, &one(&sids[0]), "Status=canceled").await;
    assert_eq!(
        (again.status, json(&again)["code"].clone()),
        (400, 30409.into())
    );

    mock.advance(Duration::from_secs(3601));
    assert_eq!(mock.status_of(&sids[1]), Some("delivered"));
    assert_eq!(
        json(&get(&mock, &one(&sids[0])).await)["status"],
        "canceled"
    );
    let late = post_form(&mock, &one(&sids[1]), "Status=canceled").await;
    assert_eq!(json(&late)["code"], 30409);
    let missing = get(&mock, &one("SM00000000000000000000000000000000")).await;
    assert_eq!(
        (missing.status, json(&missing)["code"].clone()),
        (404, 20404.into())
    );
}

fn iso(ms: u64) -> String {
    // RFC 2822 "Fri, 13 Aug 2010 01:16:24 +0000" -> "2010-08-13T01:16:24Z".
    let text = rfc2822(ms);
    let parts: Vec<&str> = text.split(' ').collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])
    .expect("month")
        + 1;
    let out = format!("{}-{month:02}-{}T{}Z", parts[3], parts[1], parts[4]);
    assert_eq!(parse_iso8601(&out), Some(ms / 1000 * 1000));
    out
}

#[tokio::test]
async fn pages_newest_first() {
    let mock = MockTwilio::start().await;
    let url = messages_url(&mock);
    let mut sids = Vec::new();
    for i in 0..5 {
        let to = if i % 2 == 0 {
            "%2B15558675310"
        } else {
            "%2B15558675311"
        };
        let answer = post_form(
            &mock,
            &url,
            &format!("To={to}&From=%2B15005550006&Body=m{i}"),
        )
        .await;
        sids.push(json(&answer)["sid"].as_str().expect("sid").to_string());
    }
    mock.receive("+15558675399", VALID_FROM, "inbound");
    let mut seen = Vec::new();
    let mut next = Some(format!("{url}?PageSize=2"));
    let mut pages = 0;
    while let Some(page_url) = next {
        let page = json(&get(&mock, &page_url).await);
        assert_eq!(page["page_size"], 2);
        for m in page["messages"].as_array().expect("messages") {
            seen.push(m["sid"].as_str().expect("sid").to_string());
        }
        next = page["next_page_uri"]
            .as_str()
            .map(|uri| format!("{}{uri}", mock.base_url()));
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 6);
    let outbound: Vec<String> = seen[1..].to_vec();
    let mut newest_first = sids.clone();
    newest_first.reverse();
    assert_eq!(outbound, newest_first);

    let filtered = json(&get(&mock, &format!("{url}?To=%2B15558675311")).await);
    assert_eq!(filtered["messages"].as_array().map(Vec::len), Some(2));
    assert_eq!(get(&mock, &format!("{url}?PageSize=0")).await.status, 400);
    assert_eq!(
        get(&mock, &format!("{url}?Page=1&PageToken=PAnope"))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn injects_failures() {
    let mock = MockTwilio::start().await;
    mock.fail_next_with_retry_after(1, 429, 20429, "Too Many Requests", Some("2"));
    mock.fail_next(1, 500, 20500, "Internal Server Error");
    let url = messages_url(&mock);
    let limited = get(&mock, &url).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.headers["retry-after"], "2");
    assert_eq!(json(&limited)["code"], 20429);
    let broken = get(&mock, &url).await;
    assert_eq!(broken.status, 500);
    assert_eq!(get(&mock, &url).await.status, 200);
    assert_eq!(mock.requests().len(), 3);
}
