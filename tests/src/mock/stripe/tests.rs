//! Unit tests driving `MockStripe` over real HTTP with a plain client, as a Stripe library would.

use hyper::Method;
use serde_json::Value;

use super::*;
use crate::mock::test_client::{self, Answer};

const KEY: &str = "sk_test_mock_0123456789";

async fn call(
    mock: &MockStripe,
    method: Method,
    path: &str,
    form: &str,
    extra: &[(&str, &str)],
) -> (Answer, Value) {
    let auth = format!("Bearer {KEY}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    headers.extend_from_slice(extra);
    let (url, body) = if method == Method::POST {
        (format!("{}{path}", mock.base_url()), form.to_string())
    } else if form.is_empty() {
        (format!("{}{path}", mock.base_url()), String::new())
    } else {
        (format!("{}{path}?{form}", mock.base_url()), String::new())
    };
    let answer = test_client::send(method, &url, &headers, body)
        .await
        .expect("request");
    let json = serde_json::from_str(&answer.body).unwrap_or(Value::Null);
    (answer, json)
}

async fn post(mock: &MockStripe, path: &str, form: &str) -> (u16, Value) {
    let (a, v) = call(mock, Method::POST, path, form, &[]).await;
    (a.status, v)
}

async fn post_keyed(mock: &MockStripe, path: &str, form: &str, key: &str) -> (Answer, Value) {
    call(mock, Method::POST, path, form, &[("idempotency-key", key)]).await
}

async fn get(mock: &MockStripe, path: &str, query: &str) -> (u16, Value) {
    let (a, v) = call(mock, Method::GET, path, query, &[]).await;
    (a.status, v)
}

const CARD: &str = "payment_method_types[0]=card";

#[tokio::test]
async fn auth_is_checked_with_stripes_messages() {
    let mock = MockStripe::start(KEY).await;
    let url = format!("{}/v1/balance", mock.base_url());
    let none = test_client::get(&url).await.expect("request");
    assert_eq!(none.status, 401);
    assert!(
        none.body.contains("You did not provide an API key"),
        "{}",
        none.body
    );
    assert!(none.headers.contains_key("request-id"));

    let wrong = test_client::send(
        Method::GET,
        &url,
        &[("authorization", "Bearer sk_test_wrongkey1234")],
        "",
    )
    .await
    .expect("request");
    assert_eq!(wrong.status, 401);
    let v: Value = serde_json::from_str(&wrong.body).expect("json");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("****1234"));
    assert!(!wrong.body.contains("wrongkey"), "the key is masked");

    // Basic auth with the key as user name works too.
    let basic = test_client::send(
        Method::GET,
        &url,
        &[("authorization", "Basic c2tfdGVzdF9tb2NrXzAxMjM0NTY3ODk6")],
        "",
    )
    .await
    .expect("request");
    assert_eq!(basic.status, 200, "{}", basic.body);
}

#[tokio::test]
async fn requests_are_validated_like_stripe() {
    let mock = MockStripe::start(KEY).await;
    // JSON bodies are refused.
    let json_body = test_client::send(
        Method::POST,
        &format!("{}/v1/customers", mock.base_url()),
        &[
            ("authorization", &format!("Bearer {KEY}")),
            ("content-type", "application/json"),
        ],
        r#"{"email":"a@b.co"}"#,
    )
    .await
    .expect("request");
    assert_eq!(json_body.status, 400);
    assert!(json_body.body.contains("unsupported Content-Type"));

    let (s, v) = post(&mock, "/v1/customers", "emial=a%40b.co").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("parameter_unknown"))
    );
    assert_eq!(v["error"]["param"], "emial");

    let (s, v) = post(&mock, "/v1/payment_intents", "currency=usd").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("parameter_missing"))
    );
    assert_eq!(v["error"]["param"], "amount");

    let (s, v) = post(&mock, "/v1/payment_intents", "amount=ten&currency=usd").await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("amount")));

    let (s, v) = post(&mock, "/v1/payment_intents", "amount=100&currency=xyz").await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("currency")));

    let (s, v) = post(&mock, "/v1/payment_intents", "amount=10&currency=usd").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("amount_too_small"))
    );

    let (s, v) = post(&mock, "/v1/customers", "email=not-an-address").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("email_invalid"))
    );

    let (s, v) = post(
        &mock,
        "/v1/payment_intents",
        "amount=100&currency=usd&customer=cus_nope",
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (400, Some("resource_missing"))
    );
    assert_eq!(v["error"]["param"], "customer");

    let (s, _) = get(&mock, "/v1/nothing", "").await;
    assert_eq!(s, 404);
    let (s, v) = get(&mock, "/v1/payment_intents/pi_unknown", "").await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (404, Some("resource_missing"))
    );
    assert_eq!(
        v["error"]["message"],
        "No such payment_intent: 'pi_unknown'"
    );

    let (a, _) = call(
        &mock,
        Method::GET,
        "/v1/balance",
        "",
        &[("stripe-version", "yesterday")],
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(
        mock.payment_intents().is_empty(),
        "nothing was made by refused requests"
    );
}

#[tokio::test]
async fn customers_update_with_empty_values_unsetting() {
    let mock = MockStripe::start(KEY).await;
    let (s, c) = post(
        &mock,
        "/v1/customers",
        "email=ada%40example.com&name=Ada&metadata[plan]=pro&metadata[ref]=x",
    )
    .await;
    assert_eq!(s, 200, "{c}");
    assert!(c["id"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(c["metadata"]["plan"], "pro");
    let id = c["id"].as_str().unwrap();
    let (_, u) = post(
        &mock,
        &format!("/v1/customers/{id}"),
        "email=&name=Ada+L.&metadata[ref]=&metadata[plan]=team",
    )
    .await;
    assert_eq!(u["email"], Value::Null);
    assert_eq!(u["name"], "Ada L.");
    assert_eq!(u["metadata"], serde_json::json!({"plan": "team"}));
    let (_, g) = get(&mock, &format!("/v1/customers/{id}"), "").await;
    assert_eq!(g, u);

    let (a, deleted) = call(
        &mock,
        Method::DELETE,
        &format!("/v1/customers/{id}"),
        "",
        &[],
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        deleted,
        serde_json::json!({"id": id, "object": "customer", "deleted": true})
    );
    // A deleted customer reads as its stub, is not listed, and cannot be charged.
    let (s, d) = get(&mock, &format!("/v1/customers/{id}"), "").await;
    assert_eq!((s, &d["deleted"]), (200, &Value::Bool(true)));
    assert!(mock.customers().is_empty());
    let (s, e) = post(
        &mock,
        "/v1/payment_intents",
        &format!("amount=100&currency=usd&{CARD}&customer={id}"),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("resource_missing"))
    );
}

#[tokio::test]
async fn payment_intents_follow_the_state_machine() {
    let mock = MockStripe::start(KEY).await;
    let (s, pi) = post(
        &mock,
        "/v1/payment_intents",
        &format!("amount=500&currency=usd&{CARD}"),
    )
    .await;
    assert_eq!(s, 200, "{pi}");
    assert_eq!(pi["status"], "requires_payment_method");
    let id = pi["id"].as_str().unwrap().to_string();
    let (s, e) = post(&mock, &format!("/v1/payment_intents/{id}/confirm"), "").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("payment_intent_unexpected_state"))
    );
    assert_eq!(e["error"]["payment_intent"]["id"], id.as_str());

    let (s, done) = post(
        &mock,
        &format!("/v1/payment_intents/{id}/confirm"),
        "payment_method=pm_card_visa&expand[]=latest_charge",
    )
    .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["status"], "succeeded");
    assert_eq!(done["amount_received"], 500);
    let pm = done["payment_method"].as_str().unwrap();
    assert!(
        pm.starts_with("pm_1") && pm != "pm_card_visa",
        "a new PaymentMethod: {pm}"
    );
    assert_eq!(done["latest_charge"]["amount_captured"], 500);

    let (s, e) = post(&mock, &format!("/v1/payment_intents/{id}/cancel"), "").await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("status of succeeded"));

    // Manual capture, in part: the rest is released, shown as refunded on the charge.
    let (_, m) = post(
        &mock,
        "/v1/payment_intents",
        &format!("amount=1000&currency=usd&{CARD}&capture_method=manual&confirm=true&payment_method=pm_card_visa"),
    )
    .await;
    assert_eq!(m["status"], "requires_capture");
    assert_eq!(m["amount_capturable"], 1000);
    let mid = m["id"].as_str().unwrap().to_string();
    let (s, e) = post(
        &mock,
        &format!("/v1/payment_intents/{mid}/capture"),
        "amount_to_capture=1500",
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("amount_too_large"))
    );
    let (s, e) = post(&mock, "/v1/refunds", &format!("payment_intent={mid}")).await;
    assert_eq!(s, 400);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not have a successful charge"));
    let (_, c) = post(
        &mock,
        &format!("/v1/payment_intents/{mid}/capture"),
        "amount_to_capture=600&expand[0]=latest_charge",
    )
    .await;
    assert_eq!(c["status"], "succeeded");
    assert_eq!(c["amount_received"], 600);
    assert_eq!(c["latest_charge"]["amount_refunded"], 400);

    // Without payment_method_types, redirects are allowed and a confirmation needs return_url.
    let (s, e) = post(
        &mock,
        "/v1/payment_intents",
        "amount=1000&currency=usd&confirm=true&payment_method=pm_card_visa",
    )
    .await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("return_url")));
}

#[tokio::test]
async fn declines_are_card_errors_and_leave_the_intent_waiting() {
    let mock = MockStripe::start(KEY).await;
    let (s, e) = post(
        &mock,
        "/v1/payment_intents",
        &format!("amount=1200&currency=usd&{CARD}&confirm=true&payment_method=pm_card_chargeDeclinedInsufficientFunds"),
    )
    .await;
    assert_eq!(s, 402, "{e}");
    assert_eq!(e["error"]["type"], "card_error");
    assert_eq!(e["error"]["code"], "card_declined");
    assert_eq!(e["error"]["decline_code"], "insufficient_funds");
    let pi = &e["error"]["payment_intent"];
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(pi["payment_method"], Value::Null);
    assert_eq!(pi["last_payment_error"]["code"], "card_declined");
    assert_eq!(mock.payment_intents().len(), 1);
}

#[tokio::test]
async fn refunds_are_bounded_and_refund_fail_fails_later() {
    let mock = MockStripe::start(KEY).await;
    let (_, pi) = post(
        &mock,
        "/v1/payment_intents",
        &format!("amount=1000&currency=usd&{CARD}&confirm=true&payment_method=pm_card_visa"),
    )
    .await;
    let id = pi["id"].as_str().unwrap();
    let (s, r) = post(
        &mock,
        "/v1/refunds",
        &format!("payment_intent={id}&amount=300&reason=requested_by_customer"),
    )
    .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["status"].as_str(), r["amount"].as_i64()),
        (Some("succeeded"), Some(300))
    );
    let (s, e) = post(
        &mock,
        "/v1/refunds",
        &format!("payment_intent={id}&amount=701"),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("amount_too_large"))
    );
    let (_, rest) = post(&mock, "/v1/refunds", &format!("payment_intent={id}")).await;
    assert_eq!(rest["amount"], 700);
    let (s, e) = post(
        &mock,
        "/v1/refunds",
        &format!("payment_intent={id}&amount=1"),
    )
    .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (400, Some("charge_already_refunded"))
    );

    let (_, fail) = post(
        &mock,
        "/v1/payment_intents",
        &format!("amount=900&currency=usd&{CARD}&confirm=true&payment_method=pm_card_refundFail"),
    )
    .await;
    let fid = fail["id"].as_str().unwrap();
    let (_, r) = post(&mock, "/v1/refunds", &format!("payment_intent={fid}")).await;
    assert_eq!(r["status"], "succeeded", "answered as succeeded at first");
    let (_, later) = get(
        &mock,
        &format!("/v1/refunds/{}", r["id"].as_str().unwrap()),
        "",
    )
    .await;
    assert_eq!(later["status"], "failed");
    assert_eq!(later["failure_reason"], "expired_or_canceled_card");
    let (_, after) = get(
        &mock,
        &format!("/v1/payment_intents/{fid}"),
        "expand[]=latest_charge",
    )
    .await;
    assert_eq!(after["latest_charge"]["amount_refunded"], 0);
}

#[tokio::test]
async fn idempotency_keys_replay_and_refuse_other_parameters() {
    let mock = MockStripe::start(KEY).await;
    let form = format!("amount=1500&currency=gbp&{CARD}&confirm=true&payment_method=pm_card_visa");
    let (a1, p1) = post_keyed(&mock, "/v1/payment_intents", &form, "order-42").await;
    let (a2, p2) = post_keyed(&mock, "/v1/payment_intents", &form, "order-42").await;
    assert_eq!((a1.status, a2.status), (200, 200));
    assert_eq!(p1, p2);
    assert_eq!(a2.headers["idempotent-replayed"], "true");
    assert_eq!(mock.payment_intents().len(), 1);

    let other = form.replace("1500", "1600");
    let (a, e) = post_keyed(&mock, "/v1/payment_intents", &other, "order-42").await;
    assert_eq!(
        (a.status, e["error"]["type"].as_str()),
        (400, Some("idempotency_error"))
    );
    let (a, e) = post_keyed(&mock, "/v1/customers", "email=k%40example.com", "order-42").await;
    assert_eq!(
        (a.status, e["error"]["type"].as_str()),
        (400, Some("idempotency_error"))
    );
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("same endpoint"));

    // A decline is kept and replayed; a validation failure is not kept.
    let declined = format!(
        "amount=1200&currency=usd&{CARD}&confirm=true&payment_method=pm_card_chargeDeclined"
    );
    let (a1, e1) = post_keyed(&mock, "/v1/payment_intents", &declined, "order-declined").await;
    let (a2, e2) = post_keyed(&mock, "/v1/payment_intents", &declined, "order-declined").await;
    assert_eq!((a1.status, a2.status), (402, 402));
    assert_eq!(e1, e2);
    assert_eq!(mock.payment_intents().len(), 2);
    let (a, _) = post_keyed(
        &mock,
        "/v1/payment_intents",
        "amount=1&currency=xyz",
        "bad-then-good",
    )
    .await;
    assert_eq!(a.status, 400);
    let (a, _) = post_keyed(&mock, "/v1/payment_intents", &form, "bad-then-good").await;
    assert_eq!(
        a.status, 200,
        "the key was not kept for a validation failure"
    );
}

#[tokio::test]
async fn a_key_in_progress_is_409_and_retry_is_advised() {
    let mock = MockStripe::start_with(
        MockStripeOptions::new(KEY).processing_delay(Duration::from_millis(200)),
    )
    .await;
    let form = "email=slow%40example.com";
    let first = {
        let mock = mock.clone();
        tokio::spawn(async move { post_keyed(&mock, "/v1/customers", form, "slow").await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (a, e) = post_keyed(&mock, "/v1/customers", form, "slow").await;
    assert_eq!(a.status, 409, "{e}");
    assert_eq!(e["error"]["code"], "idempotency_key_in_use");
    assert_eq!(a.headers["stripe-should-retry"], "true");
    let (a, c) = first.await.expect("task");
    assert_eq!(a.status, 200);
    let (_, again) = post_keyed(&mock, "/v1/customers", form, "slow").await;
    assert_eq!(again["id"], c["id"]);
    assert_eq!(mock.customers().len(), 1);
}

#[tokio::test]
async fn lists_page_newest_first_with_filters() {
    let mock = MockStripe::start(KEY).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (_, c) = post(&mock, "/v1/customers", &format!("email=c{i}%40example.com")).await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    let (_, p1) = get(&mock, "/v1/customers", "limit=2").await;
    assert_eq!(p1["object"], "list");
    assert_eq!(p1["has_more"], true);
    let first: Vec<&str> = p1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(first, vec![ids[4].as_str(), ids[3].as_str()]);
    let (_, p3) = get(
        &mock,
        "/v1/customers",
        &format!("limit=2&starting_after={}", ids[1]),
    )
    .await;
    assert_eq!(p3["data"].as_array().unwrap().len(), 1);
    assert_eq!(p3["has_more"], false);
    let (s, e) = get(&mock, "/v1/customers", "starting_after=cus_nope").await;
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("starting_after"))
    );
    let (s, _) = get(&mock, "/v1/customers", "limit=0").await;
    assert_eq!(s, 400);
    let (_, one) = get(&mock, "/v1/customers", "email=c2%40example.com").await;
    assert_eq!(one["data"][0]["id"], ids[2].as_str());

    let (_, pi) = post(
        &mock,
        "/v1/payment_intents",
        &format!(
            "amount=100&currency=usd&{CARD}&customer={}&confirm=true&payment_method=pm_card_visa",
            ids[0]
        ),
    )
    .await;
    post(
        &mock,
        "/v1/payment_intents",
        &format!("amount=100&currency=usd&{CARD}"),
    )
    .await;
    let (_, mine) = get(
        &mock,
        "/v1/payment_intents",
        &format!("customer={}&expand[]=data.latest_charge", ids[0]),
    )
    .await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    assert_eq!(mine["data"][0]["id"], pi["id"]);
    assert_eq!(mine["data"][0]["latest_charge"]["object"], "charge");
}

#[tokio::test]
async fn injected_failures_and_lost_answers() {
    let mock = MockStripe::start(KEY).await;
    mock.fail_next_rate_limited(1, Some(2));
    let (a, e) = call(&mock, Method::GET, "/v1/balance", "", &[]).await;
    assert_eq!(a.status, 429);
    assert_eq!(a.headers["retry-after"], "2");
    assert_eq!(e["error"]["code"], "rate_limit");
    mock.fail_next_api_error(1);
    let (a, e) = call(&mock, Method::GET, "/v1/balance", "", &[]).await;
    assert_eq!(
        (a.status, e["error"]["type"].as_str()),
        (500, Some("api_error"))
    );

    // A lost answer: the request executed; the retry with its key gets the kept answer.
    mock.lose_next_responses(1);
    let form = format!("amount=4200&currency=usd&{CARD}&confirm=true&payment_method=pm_card_visa");
    let (a, _) = post_keyed(&mock, "/v1/payment_intents", &form, "lost-1").await;
    assert_eq!(a.status, 500);
    let (a, p) = post_keyed(&mock, "/v1/payment_intents", &form, "lost-1").await;
    assert_eq!(a.status, 200);
    assert_eq!(p["status"], "succeeded");
    assert_eq!(mock.payment_intents().len(), 1, "charged once");
    assert_eq!(mock.requests_to("POST", "/v1/payment_intents").len(), 2);
}
